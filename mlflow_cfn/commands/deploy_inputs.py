"""What ``mlflow-cfn deploy`` sends, read and validated offline: the request (its flags), the
template body and parameters (`load_inputs`), and the errors that stop it (`DeployError`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow_cfn.cfn.changes import change_set_name
from mlflow_cfn.cfn.evaluate import EvaluationError
from mlflow_cfn.cfn.upload import TEMPLATE_BODY_LIMIT
from mlflow_cfn.commands.network_stack import with_network_stack
from mlflow_cfn.stack.plan import evaluate_checked, read_parameters, read_template

__all__ = ["DeployError", "DeployRequest", "Inputs", "load_inputs"]


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
    parameters_path: str | Path
    template_path: str | Path | None = None  # None: the product template, built in memory
    s3_bucket: str | None = None
    allow_replacement: bool = False
    assume_yes: bool = False
    poll_seconds: float = 5.0
    tags: tuple[tuple[str, str], ...] = ()
    role_arn: str | None = None  # a CloudFormation service role (CreateChangeSet RoleARN)
    execute: bool = True  # False: --no-execute-changeset
    network_stack: str | None = None  # fills the network Parameters from that stack's Outputs

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
    """The template body and parameters to send, validated offline, and the change set name."""

    body: str
    parameters: dict[str, str]
    change_set_name: str


def load_inputs(
    request: DeployRequest,
    region: str,
    cfn: Any = None,
    warn: Callable[[str], None] = print,
    make_client: Callable[[str], Any] | None = None,
) -> Inputs:
    """The template and parameters, validated offline as CloudFormation would in `region` (with
    ``--network-stack``, after its Outputs are read with `cfn` and what only AWS can tell with
    clients of `make_client`; its warnings go to `warn`).

    DeployError (exit 2) lists every problem: unreadable files, parameter constraints, Rules,
    minimums above maximums, a template over the TemplateBody limit without ``--s3-bucket``."""
    try:
        template = read_template(request.template_path)
        parameters = read_parameters(request.parameters_path)
        if request.network_stack:
            parameters = with_network_stack(
                cfn, request.network_stack, parameters, warn, make_client
            )
        evaluate_checked(template, parameters, stack_name=request.stack_name, region=region)
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
    return Inputs(body, parameters, change_set_name(body, parameters))
