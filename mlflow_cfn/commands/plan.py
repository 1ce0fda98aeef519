"""``mlflow-cfn plan``: what a stack with given parameters would create, checked offline.

The evaluation is `mlflow_cfn.stack.plan`; this module reads the flags and prints the plan
(resources by type, listener actions, containers, outputs) or every refusal.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from typing import Any

from mlflow_cfn.cfn.evaluate import Evaluated, EvaluationError
from mlflow_cfn.commands.output import report_errors
from mlflow_cfn.stack.checks import network_notes
from mlflow_cfn.stack.components.load_balancer import LOAD_BALANCER
from mlflow_cfn.stack.components.service import TASK_DEFINITION
from mlflow_cfn.stack.plan import DEFAULT_TEMPLATE, evaluate_file

__all__ = ["format_plan", "register", "run"]


def _action(action: dict) -> str:
    """A listener action in words: where it forwards or redirects to."""
    kind = action["Type"]
    if kind == "forward":
        return f"forward to {action['TargetGroupArn']}"
    if kind == "redirect":
        config = action["RedirectConfig"]
        return f"redirect to {config['Protocol']}:{config['Port']} ({config['StatusCode']})"
    return kind


def _listener_lines(stack: Evaluated) -> list[str]:
    """One line per listener: protocol, port, TLS policy and default actions; then the load
    balancer's idle timeout (the longest silence a proxied artifact transfer may have)."""
    lines = []
    for logical_id, listener in sorted(
        stack.of_type("AWS::ElasticLoadBalancingV2::Listener").items()
    ):
        p = listener["Properties"]
        policy = f" {p['SslPolicy']}" if "SslPolicy" in p else ""
        actions = ", then ".join(_action(a) for a in p["DefaultActions"])
        lines.append(f"  {logical_id}: {p['Protocol']} :{p['Port']}{policy} -> {actions}")
    attributes = stack.resource(LOAD_BALANCER)["Properties"]["LoadBalancerAttributes"]
    idle = next(a["Value"] for a in attributes if a["Key"] == "idle_timeout.timeout_seconds")
    return [*lines, f"  idle timeout: {idle} s (closes a connection silent that long)"]


def _container_lines(stack: Evaluated) -> list[str]:
    """Each container of the task: image, size, command, environment and secret sources."""
    task = stack.resource(TASK_DEFINITION)["Properties"]
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
    lines = []
    if notes := network_notes(stack.parameters):
        lines += ["Your network must provide:", *(f"  - {note}" for note in notes)]
    lines.append(f"Resources ({len(stack.resources)}):")
    for type_name in sorted(by_type):
        lines.append(f"  {type_name}: {', '.join(sorted(by_type[type_name]))}")
    lines += ["Listeners:", *_listener_lines(stack), "Containers:", *_container_lines(stack)]
    lines.append("Outputs:")
    lines += [f"  {k} = {v}" for k, v in sorted(stack.outputs.items())]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Print the plan, or every reason CloudFormation would refuse the parameters (exit 2)."""
    try:
        stack = evaluate_file(args.template, args.parameters)
    except EvaluationError as exc:
        return report_errors("plan", exc.errors)
    sys.stdout.write(format_plan(stack))
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``plan`` command."""
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
    plan.set_defaults(func=run)
    return plan
