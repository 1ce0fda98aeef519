"""A stack as CloudFormation knows it: the rule for its name, its description (with its outputs,
parameters, account and region read from it), its settled states, and whether a change set
creates or updates it."""

from __future__ import annotations

import re

from botocore.exceptions import ClientError

from mlflow_cfn.cfn.aws import CloudFormation, error_code

__all__ = [
    "STACK_SUCCESS",
    "STACK_TYPE",
    "StackStateError",
    "describe_stack",
    "kind_of",
    "stack_location",
    "stack_name_problem",
    "stack_outputs",
    "stack_parameters",
]

STACK_NAME_PATTERN = re.compile(r"[a-zA-Z][-a-zA-Z0-9]*")
STACK_NAME_MAX = 128
STACK_SUCCESS = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE"})
STACK_TYPE = "AWS::CloudFormation::Stack"


class StackStateError(Exception):
    """A stack whose state lets no change set be created for it, with what to do instead."""


def stack_name_problem(text: str) -> str | None:
    """Why CloudFormation would refuse `text` as a stack name; None when it accepts it."""
    if len(text) > STACK_NAME_MAX:
        return (
            f"stack name is {len(text)} characters long; CloudFormation allows at most "
            f"{STACK_NAME_MAX}"
        )
    if not STACK_NAME_PATTERN.fullmatch(text):
        return (
            f"{text!r} is not a valid stack name: it must start with a letter and contain only "
            "letters, digits and hyphens"
        )
    return None


def describe_stack(cfn: CloudFormation, name: str) -> dict | None:
    """The stack's description, None if there is no such stack."""
    try:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", "")
        if error_code(exc) == "ValidationError" and "does not exist" in message:
            return None
        raise


def kind_of(stack: dict | None, name: str) -> str:
    """CREATE for a new stack (None: there is no such stack, or one only reviewed so far),
    else UPDATE; StackStateError for a stack whose creation failed (it can only be deleted)."""
    if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        return "CREATE"
    if stack["StackStatus"] == "ROLLBACK_COMPLETE":
        raise StackStateError(
            f"stack {name} is in ROLLBACK_COMPLETE: its creation failed and it cannot be "
            f"updated; delete it first (aws cloudformation delete-stack --stack-name {name}), "
            "then deploy again"
        )
    return "UPDATE"


def stack_outputs(stack: dict) -> dict[str, str]:
    """A described stack's Outputs by key."""
    return {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}


def stack_parameters(stack: dict) -> dict[str, str]:
    """The parameter values a described stack runs with (NoEcho values come back masked; the
    product declares none)."""
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}


def stack_location(stack_id: str) -> tuple[str, str] | None:
    """(region, account) of a StackId, ``arn:<partition>:cloudformation:<region>:<account>:
    stack/<name>/<id>``; None when it is not one."""
    parts = stack_id.split(":")
    if len(parts) < 6 or parts[0] != "arn" or parts[2] != "cloudformation":
        return None
    return parts[3], parts[4]
