"""``mlflow-cfn deploy``: create or update the stack through a change set that is shown first.

Steps: validate the template and parameters offline (`evaluate_checked`); decide CREATE or
UPDATE; with ``--s3-bucket``, upload the template; create a change set and wait for it; print it;
refuse one that would replace or remove a stateful resource (unless ``--allow-replacement``); ask
(unless ``--yes``); execute it and stream the stack events until the stack settles.

Decisions:

* The template is sent as compact JSON. CloudFormation takes at most 51,200 bytes as
  ``TemplateBody``, and the product template is larger (about 78 KB compact), so it needs
  ``--s3-bucket BUCKET``: the compact template is uploaded there under the content-addressed key
  ``mlflow-cfn/templates/<sha256>.json`` (`mlflow_cfn.cfn.upload`: skipped when that object
  exists already, encrypted with SSE-S3) and the change set reads it from its ``TemplateURL``
  (up to 1 MB). Without ``--s3-bucket``, a template over the limit is refused before any AWS call
  and a smaller one is sent as ``TemplateBody``. The upload comes after the stack's state is
  checked, so a stack that cannot be deployed gets nothing uploaded.
* The parameters file is the whole truth: every parameter it leaves out takes the template's
  default, on an update too (``UsePreviousValue`` is never sent).
* The change set is named ``mlflow-cfn-`` + the first 16 hex digits of the SHA-256 of the compact
  template and the sorted parameters: the same inputs give the same name. If a change set of that
  name exists already (an earlier run that was declined or had no terminal to ask on), it is
  deleted and created again, so its changes are always computed against the stack as it is now.
* Stateful types (`STATEFUL_TYPES`) hold data that a replacement or removal loses or detaches
  from the stack. ``AWS::RDS::DBInstance`` is not one: the template's only instance,
  ``DatabaseWriter``, is an Aurora cluster member whose data lives in ``DatabaseCluster``'s
  volume, so replacing it costs minutes of downtime, not data.
* A change set that is not executed is deleted (no changes, failed, refused), except one that
  waits for a person (declined, or no terminal to ask on): that one is left for inspection.
* Event times are printed in UTC. The events printed are those after the newest event that
  existed before execution.

Exit codes: 0 deployed or nothing to change; 1 refused, declined, failed or an AWS error;
2 bad input found offline (nothing was sent to AWS).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from mlflow_cfn.cfn.evaluate import EvaluationError, load_parameters
from mlflow_cfn.cfn.upload import TemplateUploadError, upload_template
from mlflow_cfn.stack.checks import RANGE_PAIRS, check_ranges
from mlflow_cfn.stack.plan import evaluate_checked

__all__ = [
    "RANGE_PAIRS",
    "STATEFUL_TYPES",
    "Change",
    "DeployError",
    "DeployRequest",
    "EventStream",
    "Inputs",
    "add_deploy_parser",
    "ask",
    "aws_cause",
    "change_lines",
    "change_set_name",
    "check_ranges",
    "cloudformation_client",
    "deploy",
    "event_line",
    "load_inputs",
    "run_deploy",
    "s3_client",
    "stack_name",
]

DEFAULT_TEMPLATE = Path("templates/mlflow.json")
TEMPLATE_BODY_LIMIT = 51_200
CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM")
RETRIES = {"max_attempts": 10, "mode": "standard"}
QUESTION = "Execute this change set? [y/N]"

STACK_NAME_PATTERN = re.compile(r"[a-zA-Z][-a-zA-Z0-9]*")
STACK_NAME_MAX = 128

STATEFUL_TYPES = frozenset(
    {
        "AWS::RDS::DBCluster",
        "AWS::S3::Bucket",
        "AWS::KMS::Key",
        "AWS::SecretsManager::Secret",
        "AWS::Logs::LogGroup",
        "AWS::Cognito::UserPool",
        "AWS::EFS::FileSystem",
        "AWS::DynamoDB::Table",
    }
)
"""Resource types whose replacement or removal is refused without --allow-replacement."""


NO_CHANGES_REASONS = ("didn't contain changes", "No updates are to be performed")
CHANGE_SET_PENDING = frozenset({"CREATE_PENDING", "CREATE_IN_PROGRESS"})
STACK_SUCCESS = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE"})
STACK_TYPE = "AWS::CloudFormation::Stack"

CloudFormation = Any
"""A boto3 CloudFormation client (its methods are generated at run time)."""
S3 = Any
"""A boto3 S3 client."""


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


@dataclass(frozen=True)
class Change:
    """One resource change of a change set."""

    action: str
    logical_id: str
    resource_type: str
    replacement: str | None
    properties: tuple[str, ...]

    @classmethod
    def from_api(cls, change: dict) -> Change:
        """From a DescribeChangeSet ``ResourceChange``; properties from Details[].Target."""
        targets = [detail.get("Target", {}) for detail in change.get("Details", [])]
        properties = [target.get("Name") or target.get("Attribute", "") for target in targets]
        return cls(
            action=change["Action"],
            logical_id=change["LogicalResourceId"],
            resource_type=change["ResourceType"],
            replacement=change.get("Replacement"),
            properties=tuple(dict.fromkeys(p for p in properties if p)),
        )

    def risk(self) -> str | None:
        """What this change does to a stateful resource's data; None when it keeps it."""
        if self.resource_type not in STATEFUL_TYPES:
            return None
        if self.action == "Remove":
            return "would be removed from the stack"
        if self.replacement == "True":
            return "would be replaced by a new, empty one (Replacement=True)"
        if self.replacement == "Conditional":
            return "may be replaced by a new, empty one (Replacement=Conditional)"
        return None


def stack_name(text: str) -> str:
    """argparse type: a name CloudFormation accepts for a stack."""
    if len(text) > STACK_NAME_MAX:
        raise argparse.ArgumentTypeError(
            f"stack name is {len(text)} characters long; CloudFormation allows at most "
            f"{STACK_NAME_MAX}"
        )
    if not STACK_NAME_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a valid stack name: it must start with a letter and contain only "
            "letters, digits and hyphens"
        )
    return text


def _poll_seconds(text: str) -> float:
    """argparse type: a positive number of seconds."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return seconds


def change_set_name(body: str, parameters: dict[str, str]) -> str:
    """``mlflow-cfn-`` and 16 hex digits of the SHA-256 of the template body and parameters."""
    text = body + "\n" + json.dumps(parameters, sort_keys=True)
    return "mlflow-cfn-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


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


def _error_code(exc: ClientError) -> str:
    """The AWS error code of a ClientError."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def _one_line(text: str) -> str:
    """Text with every run of whitespace (newlines included) turned into one space."""
    return " ".join(text.split())


def aws_cause(exc: BotoCoreError | ClientError) -> str:
    """A one-line cause for an AWS error."""
    if isinstance(exc, NoCredentialsError):
        return (
            "no AWS credentials found: configure a profile (AWS_PROFILE), environment "
            "variables or an instance role, then run again"
        )
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        cause = f"AWS refused {exc.operation_name}: {code}: {error.get('Message', '')}"
        if code in ("Throttling", "ThrottlingException", "RequestLimitExceeded"):
            cause += " (still throttled after retrying; try again later)"
        return _one_line(cause)
    return _one_line(f"AWS error: {exc}")


def _describe_stack(cfn: CloudFormation, name: str) -> dict | None:
    """The stack's description, None if there is no such stack."""
    try:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", "")
        if _error_code(exc) == "ValidationError" and "does not exist" in message:
            return None
        raise


def _change_set_type(name: str, stack: dict | None) -> str:
    """CREATE for a new stack (or one only reviewed so far), else UPDATE; refuses dead stacks."""
    if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        return "CREATE"
    if stack["StackStatus"] == "ROLLBACK_COMPLETE":
        raise DeployError(
            f"stack {name} is in ROLLBACK_COMPLETE: its creation failed and it cannot be "
            f"updated; delete it first (aws cloudformation delete-stack --stack-name {name}), "
            "then deploy again"
        )
    return "UPDATE"


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


def _create_change_set(
    cfn: CloudFormation,
    stack: str,
    inputs: Inputs,
    template: dict[str, str],
    kind: str,
    out: Callable[[str], None],
) -> None:
    """Create the change set from `template` (TemplateBody or TemplateURL); one left by an
    earlier run under this name is deleted first."""
    arguments = {
        "StackName": stack,
        "ChangeSetName": inputs.change_set_name,
        "ChangeSetType": kind,
        **template,
        "Parameters": [
            {"ParameterKey": key, "ParameterValue": value}
            for key, value in sorted(inputs.parameters.items())
        ],
        "Capabilities": list(CAPABILITIES),
        "Description": "created by mlflow-cfn deploy",
    }
    out(f"creating change set {inputs.change_set_name} ({kind} of stack {stack})")
    try:
        cfn.create_change_set(**arguments)
    except ClientError as exc:
        if _error_code(exc) != "AlreadyExistsException":
            raise
        out(
            f"change set {inputs.change_set_name} exists already: deleting it and creating it again"
        )
        cfn.delete_change_set(ChangeSetName=inputs.change_set_name, StackName=stack)
        cfn.create_change_set(**arguments)


def _wait_for_change_set(
    cfn: CloudFormation, stack: str, name: str, poll: float, sleep: Callable[[float], None]
) -> dict:
    """The first DescribeChangeSet page once the change set is no longer being created."""
    while True:
        page = cfn.describe_change_set(ChangeSetName=name, StackName=stack)
        if page["Status"] not in CHANGE_SET_PENDING:
            return page
        sleep(poll)


def _changes(cfn: CloudFormation, stack: str, name: str, first: dict) -> list[Change]:
    """Every resource change of a complete change set, following NextToken from `first`."""
    page, changes = first, []
    while True:
        changes += [c["ResourceChange"] for c in page.get("Changes", []) if "ResourceChange" in c]
        if not page.get("NextToken"):
            return [Change.from_api(change) for change in changes]
        page = cfn.describe_change_set(
            ChangeSetName=name, StackName=stack, NextToken=page["NextToken"]
        )


def change_lines(changes: Sequence[Change]) -> list[str]:
    """One aligned line per change: action, logical id, type, Replacement, changed properties."""
    widths = [
        max(len(text) for text in column)
        for column in zip(
            *((c.action, c.logical_id, c.resource_type) for c in changes), strict=True
        )
    ]
    lines = []
    for c in changes:
        cells = [c.action, c.logical_id, c.resource_type]
        line = "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        line += f"  Replacement={c.replacement or '-'}"
        if c.action == "Modify" and c.properties:
            line += f"  properties: {', '.join(c.properties)}"
        lines.append(f"  {line}")
    return lines


def ask(question: str) -> bool | None:
    """Ask `question` on the terminal: True for y/yes; None when stdin is not a terminal."""
    if not sys.stdin.isatty():
        return None
    try:
        return input(f"{question} ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _inspect_hint(stack: str, name: str) -> str:
    """The command that shows a change set left in place."""
    return f"aws cloudformation describe-change-set --stack-name {stack} --change-set-name {name}"


def _confirmed(request: DeployRequest, name: str, confirm: Callable[[str], bool | None]) -> None:
    """Return if the change set may be executed; DeployError (change set left) otherwise."""
    if request.assume_yes:
        return
    answer = confirm(QUESTION)
    if answer is None:
        raise DeployError(
            [
                "stdin is not a terminal and --yes was not given: not executing",
                f"change set {name} is left for inspection: "
                f"{_inspect_hint(request.stack_name, name)}",
            ]
        )
    if not answer:
        raise DeployError(
            f"not executed; change set {name} is left for inspection: "
            f"{_inspect_hint(request.stack_name, name)}"
        )


class EventStream:
    """The stack's events after a starting point, printed oldest first as they arrive."""

    def __init__(self, cfn: CloudFormation, stack: str, total: int, out: Callable[[str], None]):
        """Start after the stack's newest event now; `total` resources are expected to change."""
        self.cfn, self.stack, self.total, self.out = cfn, stack, total, out
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
        self.last_seen: str | None = events[0]["EventId"] if events else None
        self.events: list[dict] = []
        self.statuses: dict[str, str] = {}

    def _new(self) -> list[dict]:
        """Events newer than the last one seen, oldest first (pages are newest first)."""
        arguments, new = {"StackName": self.stack}, []
        while True:
            page = self.cfn.describe_stack_events(**arguments)
            for event in page["StackEvents"]:
                if event["EventId"] == self.last_seen:
                    return new[::-1]
                new.append(event)
            if not page.get("NextToken"):
                return new[::-1]
            arguments["NextToken"] = page["NextToken"]

    def poll(self) -> None:
        """Print the new events and, if there were any, a progress line."""
        new = self._new()
        for event in new:
            self.out(event_line(event))
            if event["ResourceType"] != STACK_TYPE:
                self.statuses[event["LogicalResourceId"]] = event["ResourceStatus"]
        if new:
            self.last_seen = new[-1]["EventId"]
            self.events += new
            self.out(f"progress: {self.done()}/{self.total} resources done")

    def done(self) -> int:
        """How many resources have finished (their latest status is *_COMPLETE or *_SKIPPED)."""
        return sum(s.endswith(("_COMPLETE", "_SKIPPED")) for s in self.statuses.values())

    def first_failure(self) -> dict | None:
        """The earliest event of this run whose status ends in _FAILED and that has a reason."""
        return next(
            (
                e
                for e in self.events
                if e["ResourceStatus"].endswith("_FAILED") and e.get("ResourceStatusReason")
            ),
            None,
        )


def event_line(event: dict) -> str:
    """``HH:MM:SS  STATUS  LogicalId  Type  reason`` (UTC)."""
    clock = event["Timestamp"].astimezone(UTC).strftime("%H:%M:%S")
    fields = [
        clock,
        event["ResourceStatus"],
        event["LogicalResourceId"],
        event["ResourceType"],
        _one_line(event.get("ResourceStatusReason", "")),
    ]
    return "  ".join(fields).rstrip()


def _execute(
    cfn: CloudFormation,
    request: DeployRequest,
    name: str,
    total: int,
    out: Callable[[str], None],
    sleep: Callable[[float], None],
) -> tuple[dict, EventStream]:
    """Execute the change set, stream events until the stack settles; its final description."""
    events = EventStream(cfn, request.stack_name, total, out)
    cfn.execute_change_set(ChangeSetName=name, StackName=request.stack_name)
    out(f"executing change set {name}")
    while True:
        stack = cfn.describe_stacks(StackName=request.stack_name)["Stacks"][0]
        events.poll()
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return stack, events
        sleep(request.poll_seconds)


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
    failure = events.first_failure() or {
        "LogicalResourceId": stack["StackName"],
        "ResourceType": STACK_TYPE,
        "ResourceStatusReason": stack.get("StackStatusReason", "no reason given"),
    }
    err(
        f"failed: {failure['LogicalResourceId']} ({failure['ResourceType']}): "
        f"{_one_line(failure['ResourceStatusReason'])}"
    )
    return 1


def _refuse_risks(
    cfn: CloudFormation, request: DeployRequest, name: str, changes: Sequence[Change]
) -> list[str]:
    """The stateful resources at risk, one line each; without --allow-replacement any is refused
    with DeployError and the change set is deleted."""
    risks = [f"{c.logical_id} ({c.resource_type}) {risk}" for c in changes if (risk := c.risk())]
    if risks and not request.allow_replacement:
        cfn.delete_change_set(ChangeSetName=name, StackName=request.stack_name)
        raise DeployError(
            [
                f"refusing to execute change set {name}: it would replace or remove stateful "
                "resources:",
                *(f"  {risk}" for risk in risks),
                f"deleted change set {name}; if this is intended, run again with "
                "--allow-replacement",
            ]
        )
    return risks


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
    kind = _change_set_type(stack, _describe_stack(cfn, stack))
    template = _template_argument(request, inputs, cfn, s3, out)
    _create_change_set(cfn, stack, inputs, template, kind, out)
    page = _wait_for_change_set(cfn, stack, name, request.poll_seconds, sleep)
    if page["Status"] != "CREATE_COMPLETE":
        cfn.delete_change_set(ChangeSetName=name, StackName=stack)
        reason = page.get("StatusReason", page["Status"])
        if any(text in reason for text in NO_CHANGES_REASONS):
            out(f"no changes: stack {stack} is up to date (change set {name} deleted)")
            return 0
        raise DeployError(f"change set {name} failed: {_one_line(reason)} (change set deleted)")
    changes = _changes(cfn, stack, name, page)
    out(f"change set {name}: {len(changes)} change(s)")
    for line in change_lines(changes):
        out(line)
    for risk in _refuse_risks(cfn, request, name, changes):
        out(f"warning (--allow-replacement): {risk}")
    _confirmed(request, name, confirm)
    return _report(*_execute(cfn, request, name, len(changes), out, sleep), out, err)


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
    except (BotoCoreError, ClientError) as exc:
        err(aws_cause(exc))
        return 1


def cloudformation_client(region: str | None) -> CloudFormation:
    """A CloudFormation client that retries (throttling, transient errors) in standard mode,
    up to 10 times."""
    return boto3.client("cloudformation", region_name=region, config=Config(retries=RETRIES))


def s3_client(region: str | None) -> S3:
    """An S3 client that retries like `cloudformation_client`."""
    return boto3.client("s3", region_name=region, config=Config(retries=RETRIES))


def add_deploy_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``deploy`` sub-command to an argparse subparsers object."""
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
    parser.set_defaults(func=run_deploy)
    return parser


def run_deploy(args: argparse.Namespace) -> int:
    """The ``deploy`` sub-command: build the client from the flags and deploy."""
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
