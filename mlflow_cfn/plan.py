"""``mlflow-cfn plan``: what a stack with given parameters would create, checked offline."""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from decimal import InvalidOperation
from pathlib import Path

from mlflow_cfn import names
from mlflow_cfn.deploy import check_ranges
from mlflow_cfn.evaluate import (
    Evaluated,
    EvaluationError,
    ParameterError,
    evaluate,
    load_parameters,
)

DEFAULT_TEMPLATE = "templates/mlflow.json"


def evaluate_file(template_path: str | Path, parameters_path: str | Path) -> Evaluated:
    """Evaluate a template file for a parameter file; EvaluationError lists every refusal,
    including a minimum above its maximum (which template Rules cannot compare)."""
    path = Path(template_path)
    try:
        template = json.loads(path.read_text())
    except FileNotFoundError:
        raise EvaluationError([f"--template {path}: no such file"]) from None
    except json.JSONDecodeError as exc:
        raise EvaluationError([f"--template {path}: not JSON ({exc})"]) from None
    given = load_parameters(parameters_path)
    try:
        evaluated = evaluate(template, given)
    except ParameterError as exc:  # report the ranges too, where the values are numbers
        defaults = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}
        raise EvaluationError(exc.errors + _range_errors({**defaults, **given})) from None
    if errors := check_ranges(evaluated.parameters):
        raise EvaluationError(errors)
    return evaluated


def _range_errors(values: dict[str, object]) -> list[str]:
    try:
        return check_ranges({k: v for k, v in values.items() if v is not None})
    except (InvalidOperation, ValueError):
        return []  # a non-number is already reported by its own constraint


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
