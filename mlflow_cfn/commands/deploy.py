"""``mlflow-cfn deploy``: create or update the stack through a change set that is shown first.

Steps: validate the template and parameters offline (`evaluate_checked`); decide CREATE or
UPDATE; with ``--s3-bucket``, upload the template; create a change set and wait for it; print it;
refuse one that would replace or remove a stateful resource (unless ``--allow-replacement``); ask
(unless ``--yes``); execute it and stream the stack events until the stack settles. The stack,
its change sets and its events are handled by `mlflow_cfn.cfn.stacks`, ``changes`` and ``events``.

Decisions:

* The template is sent as compact JSON: as ``TemplateBody`` up to CloudFormation's 51,200 bytes;
  a larger one (the product template is about 117 KB compact) needs ``--s3-bucket BUCKET``, where
  `mlflow_cfn.cfn.upload` puts it under a content-addressed key for the change set to read from
  its ``TemplateURL`` (up to 1 MB). Without ``--s3-bucket``, a template over the limit is refused
  before any AWS call. The upload comes after the stack's state is checked, so a stack that
  cannot be deployed gets nothing uploaded.
* On an update, a parameter the file and ``--parameter-overrides`` leave out keeps its deployed
  value (sent as ``UsePreviousValue``), as ``aws cloudformation deploy`` does: a file holding
  only ``DatabaseDeletionProtection=false`` changes that and nothing else. A parameter new in
  the template takes its default. The offline validation sees the deployed values, so the
  stack is read (DescribeStacks) before it; nothing is changed in AWS before it passes.
* Before asking, the change set is shown with the account and region it applies to, a count
  of the resources it adds, modifies and removes, and every parameter whose value changes
  (deployed -> after) (`mlflow_cfn.commands.deploy_review`).
* A change set that is not executed is deleted (no changes, failed, refused), except one left
  for a person: ``--no-execute-changeset`` (a preview, as CI runs it), declined at the prompt,
  or no terminal to ask on. It is printed with the command that executes it.
* The region is resolved from the flags and the AWS configuration files before anything else
  (`mlflow_cfn.commands.aws_options`); the offline validation then runs in that region, and only
  then is AWS called.

Exit codes: 0 deployed, nothing to change, or left unexecuted by choice (``--no-execute-changeset``
or answering no); 1 refused, failed, an AWS error, or no one to ask (no terminal and neither
``--yes`` nor ``--no-execute-changeset``); 2 bad input found offline (nothing was changed in AWS;
only the stack was read, for the values it keeps).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mlflow_cfn.cfn.aws import (
    S3,
    CloudFormation,
    aws_cause,
    aws_client,
    cloudformation_client,
    one_line,
    s3_client,
)
from mlflow_cfn.cfn.changes import (
    Change,
    ChangeSet,
    at_risk,
    change_lines,
    has_no_changes,
)
from mlflow_cfn.cfn.events import EventStream, execute
from mlflow_cfn.cfn.stacks import (
    STACK_SUCCESS,
    StackStateError,
    describe_stack,
    kind_of,
    stack_parameters,
)
from mlflow_cfn.cfn.upload import TemplateUploadError, upload_template
from mlflow_cfn.commands import CliError
from mlflow_cfn.commands.aws_options import add_aws_options, aws_session
from mlflow_cfn.commands.deploy_flags import (
    add_change_set_flags,
    parameter_override,
    poll_seconds,
    stack_name,
)
from mlflow_cfn.commands.deploy_inputs import (
    DeployError,
    DeployRequest,
    Inputs,
    checked_inputs,
    read_inputs,
)
from mlflow_cfn.commands.deploy_review import action_counts, parameter_lines, where
from mlflow_cfn.commands.network_stack import add_network_stack_option

__all__ = ["QUESTION", "DeployRequest", "ask", "deploy", "register", "run"]

QUESTION = "Execute this change set? [y/N]"


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
        raise DeployError(
            [
                "stdin is not a terminal and neither --yes nor --no-execute-changeset was "
                "given: not executing",
                left,
            ]
        )
    if not answer:
        raise DeployError(f"not executed (declined); {left}", 0)


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
    make_client: Callable[[str], Any] | None,
) -> int:
    """`deploy` without the translation of errors into messages."""
    document, body, given = read_inputs(
        request, cfn, lambda line: out(f"warning: {line}"), make_client
    )
    stack = request.stack_name
    deployed = describe_stack(cfn, stack)
    kind = kind_of(deployed, stack)
    previous = stack_parameters(deployed) if kind == "UPDATE" else {}
    inputs = checked_inputs(request, document, body, given, previous, cfn.meta.region_name)
    name = inputs.change_set_name
    change_set = ChangeSet(cfn, stack, name)
    template = _template_argument(request, inputs, cfn, s3, out)
    options = request.change_set_options()
    created = change_set.create(kind, template, inputs.parameters, out, options, inputs.kept)
    page = change_set.wait(request.poll_seconds, sleep)
    if page["Status"] != "CREATE_COMPLETE":
        change_set.delete()
        reason = page.get("StatusReason", page["Status"])
        if has_no_changes(reason):
            out(f"no changes: stack {stack} is up to date (change set {name} deleted)")
            return 0
        raise DeployError(f"change set {name} failed: {one_line(reason)} (change set deleted)")
    changes = change_set.changes(page)
    out(
        f"change set {name}: {len(changes)} change(s) ({action_counts(changes)}) to stack "
        f"{stack} in {where(created.get('StackId', ''))}"
    )
    for line in change_lines(changes):
        out(line)
    for line in parameter_lines(inputs):
        out(line)
    for risk in _refuse_risks(request, change_set, changes):
        out(f"warning (--allow-replacement): {risk}")
    if not request.execute:
        out(f"not executing (--no-execute-changeset); {change_set.inspect_hint()}")
        return 0
    _confirmed(request, change_set, confirm)
    settled = execute(change_set, len(changes), request.poll_seconds, out, sleep)
    return _report(*settled, out, err)


def _stderr(line: str) -> None:
    """Print one line to stderr."""
    print(line, file=sys.stderr)


def _error(line: str) -> None:
    """Print one line to stderr with the prefix every command's errors carry."""
    _stderr(f"mlflow-cfn deploy: {line}")


def deploy(
    request: DeployRequest,
    *,
    cfn: CloudFormation,
    s3: S3 | None = None,
    out: Callable[[str], None] = print,
    err: Callable[[str], None] = _stderr,
    sleep: Callable[[float], None] = time.sleep,
    confirm: Callable[[str], bool | None] = ask,
    make_client: Callable[[str], Any] | None = None,
) -> int:
    """Deploy the stack through a change set; the exit code (see the module docstring).

    Problems go to `err` (an AWS error as one line); progress to `out`; `confirm` returns None
    when there is no one to ask. `s3` uploads for ``--s3-bucket`` (default: a client made when
    needed, in `cfn`'s region); `make_client(service)` makes the clients ``--network-stack``'s
    checks read with (default: likewise)."""
    try:
        return _deploy(request, cfn, s3, out, err, sleep, confirm, make_client)
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
        overrides=tuple(args.parameter_overrides),
        template_path=args.template,
        s3_bucket=args.s3_bucket,
        allow_replacement=args.allow_replacement,
        assume_yes=args.yes,
        poll_seconds=args.poll_seconds,
        tags=tuple(args.tags),
        role_arn=args.role_arn,
        execute=not args.no_execute_changeset,
        network_stack=args.network_stack,
    )
    try:
        session = aws_session(args)  # configuration files only: nothing is sent yet
    except CliError as exc:
        _error(str(exc))
        return 2
    try:
        cfn = cloudformation_client(session.region_name, session)
        s3 = s3_client(session.region_name, session)
        make_client = partial(aws_client, region=session.region_name, session=session)
        return deploy(request, cfn=cfn, s3=s3, err=_error, make_client=make_client)
    except BotoCoreError as exc:
        _error(aws_cause(exc))
        return 1
    except KeyboardInterrupt:
        _error("interrupted; a change set or stack operation already started goes on in AWS")
        return 130


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
        metavar="PATH",
        help="parameters file (PATH, file://PATH, or - for standard input; JSON or YAML): a "
        "create-stack [{ParameterKey, ParameterValue}] list, a {Key: Value} object or a "
        "['Key=Value'] list; on an update, parameters left out keep their deployed values; on "
        "a create, they take the template defaults",
    )
    parser.add_argument(
        "--parameter-overrides",
        nargs="+",
        type=parameter_override,
        default=[],
        metavar="KEY=VALUE",
        help="parameter values over the file's (as `aws cloudformation deploy` takes them)",
    )
    parser.add_argument(
        "--template",
        metavar="PATH",
        help="template file (PATH, file://PATH or -; JSON or YAML; default: the product "
        "template as `mlflow-cfn synth` writes it)",
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
    add_change_set_flags(parser)
    add_network_stack_option(parser)
    add_aws_options(parser)
    parser.add_argument(
        "--poll-seconds",
        type=poll_seconds,
        default=5.0,
        metavar="SECONDS",
        help="seconds between status checks (default: %(default)s)",
    )
    parser.set_defaults(func=run)
    return parser
