"""A template evaluated offline for a parameter file, as CloudFormation would evaluate it.

`evaluate_checked` adds the checks CloudFormation cannot make but AWS enforces later
(`mlflow_cfn.stack.checks`), so every refusal is known before anything is created. Used by
``mlflow-cfn plan`` (`mlflow_cfn.commands.plan`), ``deploy``, ``cost`` and ``diagram``.
"""

from __future__ import annotations

import json
from pathlib import Path

from mlflow_cfn.cfn.evaluate import (
    Evaluated,
    EvaluationError,
    ParameterError,
    evaluate,
    load_parameters,
)
from mlflow_cfn.stack.checks import offline_checks, stack_name_problems

__all__ = ["DEFAULT_TEMPLATE", "evaluate_checked", "evaluate_file", "read_template"]

DEFAULT_TEMPLATE = "templates/mlflow.json"


def read_template(path: str | Path, flag: str = "--template") -> dict:
    """A template file as JSON data; EvaluationError naming ``flag`` and the path otherwise."""
    try:
        template = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvaluationError([f"{flag} {path}: no such file"]) from None
    except OSError as exc:
        raise EvaluationError([f"{flag} {path}: cannot read it: {exc.strerror or exc}"]) from None
    except ValueError as exc:
        raise EvaluationError([f"{flag} {path}: not JSON ({exc})"]) from None
    if not isinstance(template, dict):
        raise EvaluationError([f"{flag} {path}: a template must be a JSON object"])
    return template


def evaluate_checked(template: dict, given: dict[str, str], **kwargs) -> Evaluated:
    """Evaluate as CloudFormation would, plus the checks it cannot make (`offline_checks`);
    EvaluationError lists every refusal at once."""
    named = stack_name_problems(kwargs["stack_name"]) if "stack_name" in kwargs else []
    try:
        evaluated = evaluate(template, given, **kwargs)
    except ParameterError as exc:  # report the offline checks too, where values allow it
        defaults = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}
        values = {k: v for k, v in {**defaults, **given}.items() if v is not None}
        raise EvaluationError(exc.errors + offline_checks(values) + named) from None
    if errors := offline_checks(evaluated.parameters) + named:
        raise EvaluationError(errors)
    return evaluated


def evaluate_file(template_path: str | Path, parameters_path: str | Path) -> Evaluated:
    """Evaluate a template file for a parameter file (see `evaluate_checked`)."""
    return evaluate_checked(read_template(template_path), load_parameters(parameters_path))
