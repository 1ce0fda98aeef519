"""``mlflow-cfn deploy``: create or update the stack through a change set that is shown first.

Steps: validate the template and parameters offline (`evaluate_checked`); decide CREATE or
UPDATE; with ``--s3-bucket``, upload the template; create a change set and wait for it; print it;
refuse one that would replace or remove a stateful resource (unless ``--allow-replacement``); ask
(unless ``--yes``); execute it and stream the stack events until the stack settles. The stack,
its change sets and its events are handled by `mlflow_cfn.cfn.stacks`, ``changes`` and ``events``.

Decisions:

* The template is sent as compact JSON: as ``TemplateBody`` up to CloudFormation's 51,200 bytes;
  a larger one (the product template is about 78 KB compact) needs ``--s3-bucket BUCKET``, where
  `mlflow_cfn.cfn.upload` puts it under a content-addressed key for the change set to read from
  its ``TemplateURL`` (up to 1 MB). Without ``--s3-bucket``, a template over the limit is refused
  before any AWS call. The upload comes after the stack's state is checked, so a stack that
  cannot be deployed gets nothing uploaded.
* The parameters file is the whole truth: every parameter it leaves out takes the template's
  default, on an update too (``UsePreviousValue`` is never sent).
* A change set that is not executed is deleted (no changes, failed, refused), except one that
  waits for a person (declined, or no terminal to ask on): that one is left for inspection.

Exit codes: 0 deployed or nothing to change; 1 refused, declined, failed or an AWS error;
2 bad input found offline (nothing was sent to AWS).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mlflow_cfn.cfn.aws import (
    S3,
    CloudFormation,
    aws_cause,
    cloudformation_client,
    one_line,
    s3_client,
)
from mlflow_cfn.cfn.changes import (
    Change,
    ChangeSet,
    at_risk,
    change_lines,
    change_set_name,
    has_no_changes,
)
from mlflow_cfn.cfn.evaluate import EvaluationError, load_parameters
from mlflow_cfn.cfn.events import EventStream, execute
from mlflow_cfn.cfn.stacks import (
    STACK_SUCCESS,
    StackStateError,
    change_set_type,
    stack_name_problem,
)
from mlflow_cfn.cfn.upload import TEMPLATE_BODY_LIMIT, TemplateUploadError, upload_template
from mlflow_cfn.commands import seconds_argument
from mlflow_cfn.stack.plan import evaluate_checked

__all__ = ["QUESTION", "DeployRequest", "ask", "deploy", "register", "run"]

DEFAULT_TEMPLATE = Path("templates/mlflow.json")
QUESTION = "Execute this change set? [y/N]"


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
    parameters_path: Path
    template_path: Path = DEFAULT_TEMPLATE
    s3_bucket: str | None = None
    allow_replacement: bool = False
    assume_yes: bool = False
    poll_seconds: float = 5.0


@dataclass(frozen=True)
class Inputs:
    """The template body and parameters to send, validated offline, and the change set name."""

    body: str
    parameters: dict[str, str]
    change_set_name: str


def _read_template(path: Path) -> dict:
    """The template file as JSON data; DeployError (exit 2) if unreadable or not a JSON object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DeployError(f"{path}: cannot read the template: {exc.strerror or exc}", 2) from exc
    except ValueError as exc:
        raise DeployError(f"{path}: not a JSON template: {exc}", 2) from exc
    if not isinstance(data, dict):
        raise DeployError(f"{path}: not a JSON template: expected an object", 2)
    return data


def load_inputs(request: DeployRequest, region: str) -> Inputs:
    """The template and parameters, validated offline as CloudFormation would in `region`.

    DeployError (exit 2) lists every problem: unreadable files, parameter constraints, Rules,
    minimums above maximums, a template over the TemplateBody limit without ``--s3-bucket``."""
    template = _read_template(request.template_path)
    try:
        parameters = load_parameters(request.parameters_path)
        evaluate_checked(template, parameters, stack_name=request.stack_name, region=region)
    except EvaluationError as exc:
        raise DeployError(exc.errors, 2) from exc
    body = json.dumps(template, separators=(",", ":"), ensure_ascii=False)
    size = len(body.encode("utf-8"))
    if request.s3_bucket is None and size > TEMPLATE_BODY_LIMIT:
        raise DeployError(
            f"{request.template_path}: the template is {size} bytes even as compact JSON, over "
            f"CloudFormation's {TEMPLATE_BODY_LIMIT}-byte TemplateBody limit; pass "
            "--s3-bucket BUCKET to upload it to S3 and deploy it from its TemplateURL",
            2,
        )
    return Inputs(body, parameters, change_set_name(body, parameters))


def _template_argument(
    request: DeployRequest,
    inputs: Inputs,
    cfn: CloudFormation,
    s3: S3 | None,
    out: Callable[[str], None],
) -> dict[str, str]:
    """``TemplateBody``, or with ``--s3-bucket`` the ``TemplateURL`` of the uploaded template
    (`s3`, or a client in `cfn`'s region); a bucket that cannot be used is a DeployError."""
    if request.s3_bucket is None:
        return {"TemplateBody": inputs.body}
    client = s3 if s3 is not None else s3_client(cfn.meta.region_name)
    try:
        url = upload_template(client, request.s3_bucket, inputs.body.encode("utf-8"), out=out)
    except TemplateUploadError as exc:
        raise DeployError(f"cannot upload the template: {exc}") from exc
    return {"TemplateURL": url}


def ask(question: str) -> bool | None:
    """Ask `question` on the terminal: True for y/yes; None when stdin is not a terminal."""
    if not sys.stdin.isatty():
        return None
    try:
        return input(f"{question} ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _confirmed(
    request: DeployRequest, change_set: ChangeSet, confirm: Callable[[str], bool | None]
) -> None:
    """Return if the change set may be executed; DeployError (change set left) otherwise."""
    if request.assume_yes:
        return
    answer = confirm(QUESTION)
    left = f"change set {change_set.name} is left for inspection: {change_set.inspect_hint()}"
    if answer is None:
        raise DeployError(["stdin is not a terminal and --yes was not given: not executing", left])
    if not answer:
        raise DeployError(f"not executed; {left}")


def _refuse_risks(
    request: DeployRequest, change_set: ChangeSet, changes: Sequence[Change]
) -> list[str]:
    """The stateful resources at risk, one line each; without --allow-replacement any is refused
    with DeployError and the change set is deleted."""
    risks = at_risk(changes)
    if risks and not request.allow_replacement:
        change_set.delete()
        raise DeployError(
            [
                f"refusing to execute change set {change_set.name}: it would replace or remove "
                "stateful resources:",
                *(f"  {risk}" for risk in risks),
                f"deleted change set {change_set.name}; if this is intended, run again with "
                "--allow-replacement",
            ]
        )
    return risks


def _report(
    stack: dict, events: EventStream, out: Callable[[str], None], err: Callable[[str], None]
) -> int:
    """Print the final status with the outputs (0) or the first failure (1)."""
    status = stack["StackStatus"]
    if status in STACK_SUCCESS:
        out(f"stack {stack['StackName']}: {status}")
        outputs = sorted(stack.get("Outputs", []), key=lambda output: output["OutputKey"])
        if outputs:
            out("Outputs:")
        for output in outputs:
            out(f"  {output['OutputKey']} = {output.get('OutputValue', '')}")
        return 0
    err(f"stack {stack['StackName']}: {status}")
    failure = events.failure(stack)
    err(
        f"failed: {failure['LogicalResourceId']} ({failure['ResourceType']}): "
        f"{one_line(failure['ResourceStatusReason'])}"
    )
    return 1


def _deploy(
    request: DeployRequest,
    cfn: CloudFormation,
    s3: S3 | None,
    out: Callable[[str], None],
    err: Callable[[str], None],
    sleep: Callable[[float], None],
    confirm: Callable[[str], bool | None],
) -> int:
    """`deploy` without the translation of errors into messages."""
    inputs = load_inputs(request, cfn.meta.region_name)
    stack, name = request.stack_name, inputs.change_set_name
    change_set = ChangeSet(cfn, stack, name)
    kind = change_set_type(cfn, stack)
    template = _template_argument(request, inputs, cfn, s3, out)
    change_set.create(kind, template, inputs.parameters, out)
    page = change_set.wait(request.poll_seconds, sleep)
    if page["Status"] != "CREATE_COMPLETE":
        change_set.delete()
        reason = page.get("StatusReason", page["Status"])
        if has_no_changes(reason):
            out(f"no changes: stack {stack} is up to date (change set {name} deleted)")
            return 0
        raise DeployError(f"change set {name} failed: {one_line(reason)} (change set deleted)")
    changes = change_set.changes(page)
    out(f"change set {name}: {len(changes)} change(s)")
    for line in change_lines(changes):
        out(line)
    for risk in _refuse_risks(request, change_set, changes):
        out(f"warning (--allow-replacement): {risk}")
    _confirmed(request, change_set, confirm)
    settled = execute(change_set, len(changes), request.poll_seconds, out, sleep)
    return _report(*settled, out, err)


def _stderr(line: str) -> None:
    """Print one line to stderr."""
    print(line, file=sys.stderr)


def deploy(
    request: DeployRequest,
    *,
    cfn: CloudFormation,
    s3: S3 | None = None,
    out: Callable[[str], None] = print,
    err: Callable[[str], None] = _stderr,
    sleep: Callable[[float], None] = time.sleep,
    confirm: Callable[[str], bool | None] = ask,
) -> int:
    """Deploy the stack through a change set; the exit code (see the module docstring).

    Problems go to `err` (an AWS error as one line); progress to `out`; `confirm` returns None
    when there is no one to ask. `s3` uploads for ``--s3-bucket`` (default: a client made when
    needed, in `cfn`'s region)."""
    try:
        return _deploy(request, cfn, s3, out, err, sleep, confirm)
    except DeployError as exc:
        for line in exc.lines:
            err(line)
        return exc.code
    except StackStateError as exc:
        err(str(exc))
        return 1
    except (BotoCoreError, ClientError) as exc:
        err(aws_cause(exc))
        return 1


def run(args: argparse.Namespace) -> int:
    """The ``deploy`` command: build the client from the flags and deploy."""
    request = DeployRequest(
        stack_name=args.stack_name,
        parameters_path=args.parameters,
        template_path=args.template,
        s3_bucket=args.s3_bucket,
        allow_replacement=args.allow_replacement,
        assume_yes=args.yes,
        poll_seconds=args.poll_seconds,
    )
    try:
        cfn = cloudformation_client(args.region)
        return deploy(request, cfn=cfn)
    except BotoCoreError as exc:
        _stderr(aws_cause(exc))
        return 1
    except KeyboardInterrupt:
        _stderr("interrupted; a change set or stack operation already started goes on in AWS")
        return 130


def stack_name(text: str) -> str:
    """argparse type: a name CloudFormation accepts for a stack."""
    if problem := stack_name_problem(text):
        raise argparse.ArgumentTypeError(problem)
    return text


_poll_seconds = seconds_argument("a positive number of seconds", lambda seconds: seconds > 0)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``deploy`` command to an argparse subparsers object."""
    parser = subparsers.add_parser(
        "deploy",
        help="create or update the stack through a reviewed change set",
        description="Validate the parameters offline, upload the template to --s3-bucket if "
        "given, create a change set, show it, refuse replacing or removing stateful resources, "
        "ask, execute it and stream the stack events.",
    )
    parser.add_argument("--stack-name", required=True, type=stack_name, metavar="NAME")
    parser.add_argument(
        "--parameters",
        required=True,
        type=Path,
        metavar="PATH",
        help="JSON parameters: a create-stack [{ParameterKey, ParameterValue}] list or a "
        "{Key: Value} object; parameters left out take the template defaults",
    )
    parser.add_argument(
        "--template",
        type=Path,
        default=DEFAULT_TEMPLATE,
        metavar="PATH",
        help="(default: %(default)s)",
    )
    parser.add_argument(
        "--s3-bucket",
        metavar="BUCKET",
        help="upload the template to this S3 bucket (key mlflow-cfn/templates/<sha256>.json, "
        "skipped if already there) and create the change set from its TemplateURL; needed for "
        "a template over CloudFormation's 51,200-byte TemplateBody limit, such as the default "
        "one",
    )
    parser.add_argument(
        "--allow-replacement",
        action="store_true",
        help="execute even if stateful resources (database, buckets, keys...) would be replaced "
        "or removed",
    )
    parser.add_argument("--yes", action="store_true", help="execute without asking")
    parser.add_argument("--region", metavar="REGION", help="(default: from the AWS configuration)")
    parser.add_argument(
        "--poll-seconds",
        type=_poll_seconds,
        default=5.0,
        metavar="SECONDS",
        help="seconds between status checks (default: %(default)s)",
    )
    parser.set_defaults(func=run)
    return parser
