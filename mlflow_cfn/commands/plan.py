"""``mlflow-cfn plan``: what a stack with given parameters would create, checked offline.

The evaluation is `mlflow_cfn.stack.plan`; this module reads the flags and prints the plan
(resources by type, listener actions, containers, outputs) or every refusal.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from functools import partial
from typing import Any

from mlflow_cfn.cfn.aws import aws_client, cloudformation_client
from mlflow_cfn.cfn.evaluate import Evaluated, EvaluationError
from mlflow_cfn.commands import CliError
from mlflow_cfn.commands.aws_options import add_aws_options, aws_region, aws_session
from mlflow_cfn.commands.network_stack import add_network_stack_option, with_network_stack
from mlflow_cfn.commands.output import report_errors
from mlflow_cfn.stack.checks import network_notes
from mlflow_cfn.stack.components.load_balancer import LOAD_BALANCER
from mlflow_cfn.stack.components.service import TASK_DEFINITION
from mlflow_cfn.stack.plan import evaluate_checked, posture, read_parameters, read_template

__all__ = ["format_plan", "plan_data", "register", "run"]


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


def _by_type(stack: Evaluated) -> dict[str, list[str]]:
    by_type: dict[str, list[str]] = defaultdict(list)
    for logical_id, resource in stack.resources.items():
        by_type[resource["Type"]].append(logical_id)
    return {type_name: sorted(ids) for type_name, ids in sorted(by_type.items())}


def _is_product(stack: Evaluated) -> bool:
    """Whether the stack is the MLflow product's (it has the load balancer and the task): the
    posture, listeners and containers are told only of it, never guessed for another template
    (``--template templates/network.json``)."""
    return LOAD_BALANCER in stack.resources and TASK_DEFINITION in stack.resources


def _format_other(stack: Evaluated, region: str) -> str:
    """The plan of another template: a summary line, resources by type, outputs."""
    lines = [f"Plan: {len(stack.resources)} to create in {region}."]
    lines.append(f"Resources ({len(stack.resources)}):")
    lines += [f"  {kind}: {', '.join(ids)}" for kind, ids in _by_type(stack).items()]
    lines.append("Outputs:")
    lines += [f"  {k} = {v}" for k, v in sorted(stack.outputs.items())]
    return "\n".join(lines) + "\n"


def format_plan(stack: Evaluated, region: str = "us-east-1") -> str:
    """The plan as text: a summary line, the security posture, what the network must provide,
    resources by type, listener actions, containers, outputs (for another template than the
    product's, only the summary, resources and outputs)."""
    if not _is_product(stack):
        return _format_other(stack, region)
    lines = [f"Plan: {len(stack.resources)} to create in {region}.", "Security posture:"]
    lines += [f"  {key}: {value}" for key, value in posture(stack).items()]
    if notes := network_notes(stack.parameters):
        lines += ["Your network must provide:", *(f"  - {note}" for note in notes)]
    lines.append(f"Resources ({len(stack.resources)}):")
    lines += [f"  {kind}: {', '.join(ids)}" for kind, ids in _by_type(stack).items()]
    lines += ["Listeners:", *_listener_lines(stack), "Containers:", *_container_lines(stack)]
    lines.append("Outputs:")
    lines += [f"  {k} = {v}" for k, v in sorted(stack.outputs.items())]
    return "\n".join(lines) + "\n"


def plan_data(stack: Evaluated, region: str) -> dict:
    """The plan as data (``--output json``), for CI to read (for another template than the
    product's, without posture, network requirements and containers)."""
    if not _is_product(stack):
        return {
            "region": region,
            "summary": {"create": len(stack.resources)},
            "resources": _by_type(stack),
            "parameters": dict(sorted(stack.parameters.items())),
            "outputs": dict(sorted(stack.outputs.items())),
        }
    task = stack.resource(TASK_DEFINITION)["Properties"]
    return {
        "region": region,
        "summary": {"create": len(stack.resources)},
        "posture": posture(stack),
        "network_requirements": network_notes(stack.parameters),
        "resources": _by_type(stack),
        "parameters": dict(sorted(stack.parameters.items())),
        "containers": [
            {k: c[k] for k in ("Name", "Image", "User") if k in c}
            for c in task["ContainerDefinitions"]
        ],
        "outputs": dict(sorted(stack.outputs.items())),
    }


def _warn(line: str) -> None:
    print(f"mlflow-cfn plan: warning: {line}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Print the plan, or every reason CloudFormation would refuse the parameters (exit 2)."""
    try:
        region, missing = aws_region(args), []
    except CliError as exc:  # still report what else is wrong (in a stand-in region)
        region, missing = "us-east-1", [str(exc)]
    try:
        template, given = read_template(args.template), read_parameters(args.parameters)
        if args.network_stack and not missing:
            session = aws_session(args)
            cfn = cloudformation_client(region, session)
            make_client = partial(aws_client, region=region, session=session)
            given = with_network_stack(cfn, args.network_stack, given, _warn, make_client)
        stack = evaluate_checked(template, given, region=region)
    except EvaluationError as exc:
        return report_errors("plan", missing + exc.errors)
    if missing:
        return report_errors("plan", missing)
    if args.output == "json":
        sys.stdout.write(json.dumps(plan_data(stack, region), indent=2, default=str) + "\n")
    else:
        sys.stdout.write(format_plan(stack, region))
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
        help="parameters file (PATH, file://PATH, or - for standard input; JSON or YAML), as "
        "for `create-stack --parameters` or `deploy --parameter-overrides`",
    )
    plan.add_argument(
        "--template",
        metavar="PATH",
        help="template file (PATH, file://PATH or -; JSON or YAML; default: the product "
        "template as `mlflow-cfn synth` writes it)",
    )
    plan.add_argument(
        "--output", choices=("text", "json"), default="text", help="(default: %(default)s)"
    )
    add_network_stack_option(plan)
    add_aws_options(plan)  # the region decides what the template resolves to, and what AWS allows
    plan.set_defaults(func=run)
    return plan
