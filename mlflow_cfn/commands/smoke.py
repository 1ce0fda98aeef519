"""``mlflow-cfn smoke``: prove a deployed stack works end to end with the real MLflow client
(`mlflow_cfn.smoke`). Exit codes: 0 every step passed; 1 a step failed (one line says the likely
cause); 2 bad usage or inputs (no such stack in the region, no token for a stack with a login,
MLflow not installed)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError

from mlflow_cfn.cfn.aws import aws_client
from mlflow_cfn.commands import CliError, seconds_argument
from mlflow_cfn.commands.aws_options import add_aws_options, aws_session
from mlflow_cfn.commands.deploy_flags import stack_name
from mlflow_cfn.smoke import (
    CLIENT_SECRET_VARIABLE,
    TOKEN_VARIABLE,
    SmokeInputError,
    SmokeRequest,
    smoke,
)
from mlflow_cfn.smoke.target import tracking_uri_problem

__all__ = ["register", "run"]


def _session(args: argparse.Namespace) -> boto3.Session | None:
    """The AWS session of ``--profile`` and ``--region`` (`aws_session`); None when nothing needs
    AWS (``--tracking-uri`` without ``--stack-name``)."""
    return aws_session(args) if args.stack_name else None


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """The ``smoke`` command: build the request and the AWS session from the flags and check."""
    request = SmokeRequest(
        stack_name=args.stack_name,
        tracking_uri=args.tracking_uri,
        token=args.token,
        token_url=args.token_url,
        client_id=args.client_id,
        scope=args.scope,
        audience=args.audience,
        client_auth=args.client_auth,
        wake_seconds=args.wake_seconds,
        environ=dict(os.environ),
    )
    session = _session(args)

    def aws(service: str) -> Any:
        return aws_client(service, session.region_name, session)

    try:
        return smoke(request, aws=aws, region=session and session.region_name, err=_stderr)
    except SmokeInputError as exc:
        raise CliError(str(exc)) from None
    except BotoCoreError as exc:  # making a client: no credentials, a broken profile
        raise CliError(f"AWS configuration: {exc}") from None
    except KeyboardInterrupt:
        _stderr("interrupted; an experiment named mlflow-cfn-smoke-* may be left to delete")
        return 130


def _tracking_uri(text: str) -> str:
    """argparse type: an http(s) URL of the server."""
    if problem := tracking_uri_problem(text):
        raise argparse.ArgumentTypeError(problem)
    return text


_seconds = seconds_argument(
    "a number of seconds from 0 to 3600", lambda seconds: 0 <= seconds <= 3600
)


def _login_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "login",
        f"For a stack with AuthMode=cognito or oidc. The token is, in this order: --token, "
        f"{TOKEN_VARIABLE}, a client-credentials token from --token-url/--client-id (secret in "
        f"{CLIENT_SECRET_VARIABLE}), or from the stack's CognitoTokenUrl and "
        "CognitoMachineClientId outputs (secret read with cognito-idp DescribeUserPoolClient).",
    )
    group.add_argument("--token", metavar="TOKEN", help=f"a bearer token (or set {TOKEN_VARIABLE})")
    group.add_argument(
        "--token-url",
        metavar="URL",
        help="OAuth token endpoint for the client-credentials grant (https; default: the "
        "stack's CognitoTokenUrl output, or with --client-id its OidcTokenEndpoint parameter)",
    )
    group.add_argument(
        "--client-id",
        metavar="ID",
        help=f"client ID for that grant; its secret is read from {CLIENT_SECRET_VARIABLE} "
        "(default: the stack's CognitoMachineClientId output)",
    )
    group.add_argument(
        "--scope", metavar="SCOPE", help="scope to ask for (default: the TokenScope output)"
    )
    group.add_argument(
        "--audience",
        metavar="AUDIENCE",
        help="audience to ask for, for providers that take one (the stack's OidcTokenAudience)",
    )
    group.add_argument(
        "--client-auth",
        choices=("basic", "post"),
        default="basic",
        help="send the client secret by HTTP Basic or in the form (default: %(default)s)",
    )


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``smoke`` command to an argparse subparsers object."""
    parser = subparsers.add_parser(
        "smoke",
        help="prove a deployed stack works end to end with the MLflow client",
        description="Create a temporary experiment, log params, metrics and tags, upload an "
        "artifact, download it by presigned S3 URL and through the server, search runs and "
        "delete what was made. Needs the MLflow client: pip install 'mlflow-cfn[smoke]'.",
    )
    parser.add_argument(
        "--stack-name", type=stack_name, metavar="NAME", help="read TrackingUri and the login "
        "outputs from this stack"
    )  # fmt: skip
    parser.add_argument(
        "--tracking-uri",
        type=_tracking_uri,
        metavar="URL",
        help="the server's URL (default: the stack's TrackingUri output)",
    )
    add_aws_options(parser)
    parser.add_argument(
        "--wake-seconds",
        type=_seconds,
        default=180.0,
        metavar="SECONDS",
        help="how long to retry 502/503/504 from the load balancer at the first request, while "
        "the service wakes up (default: %(default)s)",
    )
    _login_arguments(parser)
    parser.set_defaults(func=run)
    return parser
