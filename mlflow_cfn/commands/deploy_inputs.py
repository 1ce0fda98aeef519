"""What ``mlflow-cfn deploy`` sends: the request (its flags), the template and the parameters
given (`read_inputs`, offline), those validated with the values the deployed stack keeps
(`checked_inputs`), and the errors that stop it (`DeployError`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow_cfn.cfn.changes import change_set_name
from mlflow_cfn.cfn.evaluate import EvaluationError, given_value_problems
from mlflow_cfn.cfn.upload import TEMPLATE_BODY_LIMIT
from mlflow_cfn.commands.network_stack import with_network_stack
from mlflow_cfn.stack.checks import check_ranges
from mlflow_cfn.stack.plan import evaluate_checked, read_parameters, read_template

__all__ = ["DeployError", "DeployRequest", "Inputs", "checked_inputs", "read_inputs"]


class DeployError(Exception):
    """A reason to stop: `lines` go to stderr, `code` is the exit code."""

    def __init__(self, lines: str | Sequence[str], code: int = 1) -> None:
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        self.code = code
        super().__init__("\n".join(self.lines))


@dataclass(frozen=True)
class DeployRequest:
    """What to deploy and how (the command's flags, less the region)."""

    stack_name: str
    parameters_path: str | Path | None  # None: no file (defaults, or the deployed values)
    template_path: str | Path | None = None  # None: the product template, built in memory
    s3_bucket: str | None = None
    allow_replacement: bool = False
    assume_yes: bool = False
    poll_seconds: float = 5.0
    tags: tuple[tuple[str, str], ...] = ()
    role_arn: str | None = None  # a CloudFormation service role (CreateChangeSet RoleARN)
    execute: bool = True  # False: --no-execute-changeset
    network_stack: str | None = None  # fills the network Parameters from that stack's Outputs
    overrides: tuple[tuple[str, str], ...] = ()  # --parameter-overrides, over the file

    def change_set_options(self) -> dict:
        """Tags and RoleARN as CreateChangeSet takes them (only those given)."""
        options: dict = {}
        if self.tags:
            options["Tags"] = [{"Key": k, "Value": v} for k, v in self.tags]
        if self.role_arn:
            options["RoleARN"] = self.role_arn
        return options


@dataclass(frozen=True)
class Inputs:
    """The template body and parameters to send, validated offline, and the change set name.

    `parameters` are sent with their values (the file, ``--parameter-overrides``,
    ``--network-stack``); `kept` are the parameters the deployed stack keeps at their values
    (sent as UsePreviousValue); `effective` is every parameter's value once deployed, and
    `previous` the deployed stack's values (empty for a new stack)."""

    body: str
    parameters: dict[str, str]
    kept: tuple[str, ...]
    effective: dict[str, str]
    previous: dict[str, str]
    change_set_name: str


def read_inputs(
    request: DeployRequest,
    cfn: Any = None,
    warn: Callable[[str], None] = print,
    make_client: Callable[[str], Any] | None = None,
) -> tuple[dict, str, dict[str, str]]:
    """The template, its body as deploy sends it (compact JSON) and the parameters given (the
    file, then ``--parameter-overrides``, then ``--network-stack``'s Outputs read with `cfn` and
    checked with clients of `make_client`; its warnings go to `warn`). DeployError (exit 2) for
    unreadable files, values refused on their own (unknown names, constraints, a minimum above
    its maximum) and a template over the TemplateBody limit without ``--s3-bucket``."""
    try:
        template = read_template(request.template_path)
        given = {}
        if request.parameters_path is not None:
            given = read_parameters(request.parameters_path)
        given |= dict(request.overrides)
        if request.network_stack:
            given = with_network_stack(cfn, request.network_stack, given, warn, make_client)
        # What can be refused before the stack is read: the values given, on their own.
        if problems := given_value_problems(template, given) + check_ranges(given):
            raise EvaluationError(problems)
    except EvaluationError as exc:
        raise DeployError(exc.errors, 2) from exc
    body = json.dumps(template, separators=(",", ":"), ensure_ascii=False)
    size = len(body.encode("utf-8"))
    if request.s3_bucket is None and size > TEMPLATE_BODY_LIMIT:
        raise DeployError(
            f"{request.template_path or 'the product template'}: it is {size} bytes even as "
            "compact JSON, over "
            f"CloudFormation's {TEMPLATE_BODY_LIMIT}-byte TemplateBody limit; pass "
            "--s3-bucket BUCKET to upload it to S3 and deploy it from its TemplateURL",
            2,
        )
    return template, body, given


def checked_inputs(
    request: DeployRequest,
    template: dict,
    body: str,
    given: dict[str, str],
    previous: dict[str, str],
    region: str,
) -> Inputs:
    """The inputs to send, validated as CloudFormation would in `region`: a parameter the
    template declares and `given` leaves out keeps its `previous` (deployed) value, as
    ``aws cloudformation deploy`` does, or takes its default on a new stack.

    DeployError (exit 2) lists every problem: parameter constraints, Rules, minimums above
    maximums (naming the values kept from the stack)."""
    declared = template.get("Parameters", {})
    kept = {k: v for k, v in previous.items() if k in declared and k not in given}
    try:
        evaluate_checked(template, {**kept, **given}, stack_name=request.stack_name, region=region)
    except EvaluationError as exc:
        named = [k for k in sorted(kept) if any(re.search(rf"\b{k}\b", e) for e in exc.errors)]
        hint = [
            f"{', '.join(named)}: kept at the deployed stack {request.stack_name}'s value, "
            "which neither --parameters nor --parameter-overrides gives; give one to change it"
        ]
        raise DeployError([*exc.errors, *(hint if named else [])], 2) from exc
    effective = (
        {key: str(spec["Default"]) for key, spec in declared.items() if "Default" in spec}
        | kept
        | given
    )
    name = change_set_name(body, {**kept, **given})
    return Inputs(body, given, tuple(sorted(kept)), effective, previous, name)
