"""boto3 clients that retry, and AWS errors told in one line.

The clients retry throttling and transient errors in botocore's standard mode, up to 10 times, so
a command fails on an AWS error only once retrying cannot help; `aws_cause` then says why in one
line, without a traceback.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

__all__ = [
    "RETRIES",
    "S3",
    "CloudFormation",
    "aws_cause",
    "aws_client",
    "cloudformation_client",
    "error_code",
    "one_line",
    "s3_client",
]

RETRIES = {"max_attempts": 10, "mode": "standard"}

CloudFormation = Any
"""A boto3 CloudFormation client (its methods are generated at run time)."""
S3 = Any
"""A boto3 S3 client."""


def aws_client(service: str, region: str | None, session: boto3.Session | None = None) -> Any:
    """A client of ``service`` (of `session`, default boto3's) that retries (throttling,
    transient errors) in standard mode, up to 10 times."""
    make = session.client if session is not None else boto3.client
    return make(service, region_name=region, config=Config(retries=RETRIES))


def cloudformation_client(
    region: str | None, session: boto3.Session | None = None
) -> CloudFormation:
    """A CloudFormation client that retries (`aws_client`)."""
    return aws_client("cloudformation", region, session)


def s3_client(region: str | None, session: boto3.Session | None = None) -> S3:
    """An S3 client that retries (`aws_client`)."""
    return aws_client("s3", region, session)


def error_code(exc: ClientError) -> str:
    """The AWS error code of a ClientError."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def one_line(text: str) -> str:
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
        return one_line(cause)
    return one_line(f"AWS error: {exc}")
