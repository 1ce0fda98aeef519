"""``mlflow-cfn plan``: what a stack with given parameters would create, checked offline."""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

from mlflow_cfn.cfn.evaluate import (
    Evaluated,
    EvaluationError,
    ParameterError,
    evaluate,
    load_parameters,
)
from mlflow_cfn.stack import names
from mlflow_cfn.stack.checks import offline_checks

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
    try:
        evaluated = evaluate(template, given, **kwargs)
    except ParameterError as exc:  # report the offline checks too, where values allow it
        defaults = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}
        values = {k: v for k, v in {**defaults, **given}.items() if v is not None}
        raise EvaluationError(exc.errors + offline_checks(values)) from None
    if errors := offline_checks(evaluated.parameters):
        raise EvaluationError(errors)
    return evaluated


def evaluate_file(template_path: str | Path, parameters_path: str | Path) -> Evaluated:
    """Evaluate a template file for a parameter file (see `evaluate_checked`)."""
    return evaluate_checked(read_template(template_path), load_parameters(parameters_path))


def _action(action: dict) -> str:
    kind = action["Type"]
    if kind == "forward":
        return f"forward to {action['TargetGroupArn']}"
    if kind == "redirect":
        config = action["RedirectConfig"]
        return f"redirect to {config['Protocol']}:{config['Port']} ({config['StatusCode']})"
    return kind


def _listener_lines(stack: Evaluated) -> list[str]:
    lines = []
    for logical_id, listener in sorted(
        stack.of_type("AWS::ElasticLoadBalancingV2::Listener").items()
    ):
        p = listener["Properties"]
        policy = f" {p['SslPolicy']}" if "SslPolicy" in p else ""
        actions = ", then ".join(_action(a) for a in p["DefaultActions"])
        lines.append(f"  {logical_id}: {p['Protocol']} :{p['Port']}{policy} -> {actions}")
    return lines


def _container_lines(stack: Evaluated) -> list[str]:
    task = stack.resource(names.TASK_DEFINITION)["Properties"]
    lines = []
    for container in task["ContainerDefinitions"]:
        lines.append(
            f"  {container['Name']}: {container['Image']} "
            f"(task {task['Cpu']} CPU units, {task['Memory']} MiB)"
        )
        command = [*container.get("EntryPoint", []), *container.get("Command", [])]
        shown = [c if "\n" not in c else f"<script, {c.count(chr(10))} lines>" for c in command]
        lines.append(f"    command: {' '.join(shown)}")
        lines.append("    environment:")
        lines += [f"      {e['Name']}={e['Value']}" for e in container.get("Environment", [])]
        lines.append("    secrets (injected by ECS at start, shown by source only):")
        lines += [f"      {s['Name']} <- {s['ValueFrom']}" for s in container.get("Secrets", [])]
    return lines


def format_plan(stack: Evaluated) -> str:
    """The plan as text: resources by type, listener actions, containers, outputs."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for logical_id, resource in stack.resources.items():
        by_type[resource["Type"]].append(logical_id)
    lines = [f"Resources ({len(stack.resources)}):"]
    for type_name in sorted(by_type):
        lines.append(f"  {type_name}: {', '.join(sorted(by_type[type_name]))}")
    lines += ["Listeners:", *_listener_lines(stack), "Containers:", *_container_lines(stack)]
    lines.append("Outputs:")
    lines += [f"  {k} = {v}" for k, v in sorted(stack.outputs.items())]
    return "\n".join(lines) + "\n"


def run_plan(args: argparse.Namespace) -> int:
    """Print the plan, or every reason CloudFormation would refuse the parameters (exit 2)."""
    try:
        stack = evaluate_file(args.template, args.parameters)
    except EvaluationError as exc:
        for error in exc.errors:
            print(f"mlflow-cfn plan: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(format_plan(stack))
    return 0


def add_plan_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``plan`` sub-command."""
    plan = subparsers.add_parser(
        "plan", help="show what a stack with these parameters would create (offline)"
    )
    plan.add_argument(
        "--parameters",
        required=True,
        metavar="PATH",
        help="parameters as for `create-stack --parameters file://` or `deploy "
        "--parameter-overrides` (JSON)",
    )
    plan.add_argument("--template", default=DEFAULT_TEMPLATE, metavar="PATH")
    plan.set_defaults(func=run_plan)
    return plan
