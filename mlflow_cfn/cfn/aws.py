"""boto3 clients that retry, and AWS errors told in one line.

The clients retry throttling and transient errors in botocore's standard mode, up to 10 times, so
a command fails on an AWS error only once retrying cannot help; `aws_cause` then says why in one
line, without a traceback. Two failures get the next step instead of botocore's words: a reply
that is an HTML page (a proxy or captive portal answered, not AWS: botocore's parser fails on it
with a KeyError, or reports error code "Unknown") and an SSO login that expired or was never made
(``aws sso login --profile NAME``).
"""

from __future__ import annotations

import os
import re
from functools import partial
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    SSOError,
    TokenRetrievalError,
)

__all__ = [
    "RETRIES",
    "S3",
    "CloudFormation",
    "HtmlReply",
    "SsoLoginNeeded",
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


class HtmlReply(BotoCoreError):
    """AWS's endpoint answered with a web page: something between this machine and AWS did."""

    fmt = (
        "the reply to {operation} from {endpoint} is a web page (HTTP {status}{title}), not an "
        "AWS reply: a proxy, firewall or captive portal answered, or the endpoint is not AWS's "
        "(AWS_ENDPOINT_URL, endpoint_url in the profile)"
    )


class SsoLoginNeeded(BotoCoreError):
    """The profile's AWS IAM Identity Center (SSO) login expired or was never made."""

    fmt = (
        "the SSO login of profile {profile} has expired or was never made ({cause}): run "
        "`aws sso login --profile {profile}`, then this command again"
    )


def _refuse_html(endpoint: str, response_dict: dict, operation_model: Any, **_: Any) -> None:
    """botocore's ``before-parse`` hook: raise HtmlReply for an HTML body, before the parser
    fails on it."""
    body = response_dict.get("body")
    kind = str(response_dict.get("headers", {}).get("content-type", "")).lower()
    if not isinstance(body, bytes):
        return  # a streamed payload (S3 GetObject): the caller reads it
    if kind.startswith("text/html") or body.lstrip()[:14].lower() in (b"<!doctype html", b"<html"):
        found = re.search(rb"<title[^>]*>(.*?)</title>", body, re.IGNORECASE | re.DOTALL)
        title = f", titled {one_line(found[1].decode(errors='replace'))!r}" if found else ""
        raise HtmlReply(
            operation=operation_model.name,
            endpoint=endpoint,
            status=response_dict.get("status_code"),
            title=title,
        )


def _sso_next_step(profile: str, exception: Exception, **_: Any) -> None:
    """botocore's ``after-call-error`` hook: an SSO token that is missing, expired or refused
    becomes SsoLoginNeeded naming the profile (botocore's own message does not)."""
    if isinstance(exception, SSOError | TokenRetrievalError):
        raise SsoLoginNeeded(profile=profile, cause=one_line(str(exception))) from exception


def aws_client(service: str, region: str | None, session: boto3.Session | None = None) -> Any:
    """A client of ``service`` (of `session`, default boto3's) that retries (throttling,
    transient errors) in standard mode, up to 10 times, and tells an HTML reply and an expired
    SSO login as such (`HtmlReply`, `SsoLoginNeeded`)."""
    make = session.client if session is not None else boto3.client
    client = make(service, region_name=region, config=Config(retries=RETRIES))
    profile = session.profile_name if session is not None else os.environ.get("AWS_PROFILE")
    client.meta.events.register("before-parse", partial(_refuse_html, client.meta.endpoint_url))
    client.meta.events.register("after-call-error", partial(_sso_next_step, profile or "default"))
    return client


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
    if isinstance(exc, HtmlReply | SsoLoginNeeded):
        return one_line(str(exc))
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
