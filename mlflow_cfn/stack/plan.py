"""A template evaluated offline for a parameter file, as CloudFormation would evaluate it.

`evaluate_checked` adds the checks CloudFormation cannot make but AWS enforces later
(`mlflow_cfn.stack.checks`), so every refusal is known before anything is created. Used by
``mlflow-cfn plan`` (`mlflow_cfn.commands.plan`), ``deploy``, ``cost`` and ``diagram``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from mlflow_cfn.cfn.documents import parse_document, read_document, read_source
from mlflow_cfn.cfn.evaluate import (
    Evaluated,
    EvaluationError,
    ParameterError,
    evaluate,
    parameters_from_data,
)
from mlflow_cfn.stack.checks import offline_checks, region_problems, stack_name_problems
from mlflow_cfn.stack.options import StackOptions
from mlflow_cfn.stack.template import build_template, parameter_specs

__all__ = [
    "DEFAULT_TEMPLATE",
    "check_template",
    "default_template",
    "default_template_text",
    "evaluate_checked",
    "evaluate_file",
    "posture",
    "read_parameters",
    "read_template",
]

#: What a command's ``--template`` says by default: the product template, built in memory exactly
#: as ``mlflow-cfn synth`` writes it (so every command works from any directory, installed or not;
#: the committed templates/mlflow.json is kept equal to it by a test).
DEFAULT_TEMPLATE = None


@cache
def default_template_text() -> str:
    """The default product template as `mlflow-cfn synth` writes it (templates/mlflow.json)."""
    from mlflow_cfn.cfn.render import render

    return render(build_template(StackOptions()))


def default_template() -> dict:
    """The default product template as JSON data (a fresh copy)."""
    return json.loads(default_template_text())


def read_template(source: str | Path | None, flag: str = "--template") -> dict:
    """A template (JSON or YAML; a path, ``file://`` path or ``-``; None: the default product
    template) as data; EvaluationError naming ``flag`` and the source if it is not a template."""
    if source is None:
        return default_template()
    return check_template(read_source(source, flag), source, flag)


def check_template(text: str, source: str | Path, flag: str) -> dict:
    """A template's text as data; EvaluationError naming ``flag`` and the source if it is not
    JSON or YAML, or not a template."""
    template = parse_document(text, f"{flag} {source}")
    if not isinstance(template, dict):
        raise EvaluationError([f"{flag} {source}: a template must be an object (a mapping)"])
    if not isinstance(template.get("Resources"), dict) or not template["Resources"]:
        raise EvaluationError([f"{flag} {source}: a template needs a Resources section"])
    return template


def evaluate_checked(template: dict, given: dict[str, str], **kwargs) -> Evaluated:
    """Evaluate as CloudFormation would, plus the checks it cannot make (`offline_checks`);
    EvaluationError lists every refusal at once."""
    named = stack_name_problems(kwargs["stack_name"]) if "stack_name" in kwargs else []

    def checks(values: dict) -> list[str]:
        regional = region_problems(values, kwargs["region"]) if "region" in kwargs else []
        return offline_checks(values, parameter_specs(StackOptions())) + regional + named

    try:
        evaluated = evaluate(template, given, **kwargs)
    except ParameterError as exc:  # report the offline checks too, where values allow it
        defaults = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}
        values = {k: v for k, v in {**defaults, **given}.items() if v is not None}
        raise EvaluationError(exc.errors + checks(values)) from None
    if errors := checks(evaluated.parameters):
        raise EvaluationError(errors)
    return evaluated


def read_parameters(source: str | Path, flag: str = "--parameters") -> dict[str, str]:
    """Parameter values from a JSON or YAML file (path, ``file://`` or ``-``) in any form
    ``create-stack`` or ``deploy`` takes (see `load_parameters`)."""
    return parameters_from_data(read_document(source, flag), f"{flag} {source}")


def evaluate_file(
    template_path: str | Path | None, parameters_path: str | Path, **kwargs
) -> Evaluated:
    """Evaluate a template (see `read_template`) for a parameter file (see `evaluate_checked`;
    `kwargs` as `evaluate` takes them, ``region`` for one)."""
    template, parameters = read_template(template_path), read_parameters(parameters_path)
    return evaluate_checked(template, parameters, **kwargs)


def posture(stack: Evaluated) -> dict[str, str]:
    """The stack's security posture at a glance, from its evaluated parameters."""
    values = stack.parameters
    scheme = str(values.get("LoadBalancerScheme", "internal"))
    login = str(values.get("AuthMode", "none"))
    https = bool(values.get("CertificateArn"))
    cidrs = values.get("LoadBalancerIngressCidrs") or ""
    cidrs = ", ".join(cidrs) if isinstance(cidrs, list) else str(cidrs)
    public = scheme == "internet-facing"
    reach = "reachable from the internet" if public else "inside the VPC only"
    return {
        "load balancer": f"{scheme} ({reach})",
        "who may connect": cidrs or "nobody (no CIDR given)",
        "login": "none: anyone who can connect uses MLflow" if login == "none" else login,
        "transport": "HTTPS (HTTP redirects to it)" if https else "HTTP only (no certificate)",
        "public without login": "yes" if public and login == "none" else "no",
        "database and tasks": "private subnets, no public IP, encrypted with the stack's keys",
    }
