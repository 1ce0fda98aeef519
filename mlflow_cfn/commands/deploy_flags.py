"""The flags of ``mlflow-cfn deploy`` that other commands share or that check a value: argparse
types for a stack name, a tag, a parameter override, a role ARN and a polling interval, and the
change set flags spelled as the AWS CLI's ``cloudformation deploy`` spells them."""

from __future__ import annotations

import argparse
import re

from mlflow_cfn.cfn.stacks import stack_name_problem
from mlflow_cfn.commands import seconds_argument
from mlflow_cfn.stack.parameters import PARTITION

__all__ = [
    "add_change_set_flags",
    "parameter_override",
    "poll_seconds",
    "role_arn",
    "stack_name",
    "tag",
]


def stack_name(text: str) -> str:
    """argparse type: a name CloudFormation accepts for a stack."""
    if problem := stack_name_problem(text):
        raise argparse.ArgumentTypeError(problem)
    return text


def tag(text: str) -> tuple[str, str]:
    """argparse type: a KEY=VALUE stack tag (as ``aws cloudformation deploy --tags`` takes it, or
    create-stack's shorthand ``Key=k,Value=v``), as CloudFormation allows it."""
    pair = re.fullmatch(r"Key=([^,]*),Value=(.*)", text, re.DOTALL)
    key, equals, value = (pair[1], "=", pair[2]) if pair else text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    if len(key) > 128 or len(value) > 256 or key.lower().startswith("aws:"):
        raise argparse.ArgumentTypeError(
            f"{text!r}: a key of 1-128 characters not starting with aws:, a value of at most 256"
        )
    return key, value


def parameter_override(text: str) -> tuple[str, str]:
    """argparse type: a KEY=VALUE parameter value (the value may be empty or hold '=')."""
    key, equals, value = text.partition("=")
    if not equals or not re.fullmatch(r"[a-zA-Z0-9]{1,255}", key):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not KEY=VALUE with an alphanumeric parameter name"
        )
    return key, value


def role_arn(text: str) -> str:
    """argparse type: an IAM role ARN."""
    if not re.fullmatch(rf"arn:{PARTITION}:iam::[0-9]{{12}}:role/[\w+=,.@/-]{{1,512}}", text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"
        )
    return text


poll_seconds = seconds_argument("a positive number of seconds", lambda seconds: seconds > 0)


def add_change_set_flags(parser: argparse.ArgumentParser) -> None:
    """--no-execute-changeset, --tags and --role-arn, as the AWS CLI's deploy spells them."""
    parser.add_argument(
        "--no-execute-changeset",
        action="store_true",
        help="create and print the change set, then exit 0 without executing it (a preview)",
    )
    parser.add_argument(
        "--tags",
        nargs="+",
        type=tag,
        default=[],
        metavar="KEY=VALUE",
        help="tags for the stack, which CloudFormation puts on every resource that takes tags "
        "(create-stack's Key=KEY,Value=VALUE is read the same)",
    )
    parser.add_argument(
        "--role-arn",
        type=role_arn,
        metavar="ARN",
        help="IAM role CloudFormation uses for the stack (a service role; you then need only "
        "iam:PassRole on it and the CloudFormation actions)",
    )
