"""``--region`` and ``--profile`` for every command that talks to AWS (or checks something that
depends on the region), resolved the way the AWS CLI resolves them: the flag, then
``AWS_REGION``, then ``AWS_DEFAULT_REGION``, then the profile's ``region`` (the profile from
``--profile``, else ``AWS_PROFILE``, else ``default``). Resolving reads configuration files only,
so a command can refuse a missing region before it validates or sends anything."""

from __future__ import annotations

import argparse
import os

import boto3
from botocore.exceptions import ProfileNotFound

from mlflow_cfn.commands import CliError

__all__ = ["add_aws_options", "aws_region", "aws_session"]

REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
NO_REGION = (
    "no AWS region: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION, or give the "
    "profile a region (aws configure set region REGION)"
)


def add_aws_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--region`` and ``--profile``."""
    parser.add_argument(
        "--region",
        metavar="REGION",
        help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's region)",
    )
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help="named profile from the AWS config and credentials files (default: AWS_PROFILE, "
        "then 'default')",
    )


def aws_session(args: argparse.Namespace) -> boto3.Session:
    """The session of ``--profile`` in the region `aws_region` resolves; CliError if the profile
    does not exist or no region is configured."""
    try:
        session = boto3.Session(profile_name=args.profile)
    except ProfileNotFound as exc:
        raise CliError(f"--profile {args.profile}: {exc}") from None
    region = args.region or next(
        (os.environ[v] for v in REGION_VARIABLES if os.environ.get(v)), session.region_name
    )
    if not region:
        raise CliError(NO_REGION)
    return boto3.Session(profile_name=args.profile, region_name=region)


def aws_region(args: argparse.Namespace) -> str:
    """The region as `aws_session` resolves it (configuration files only, no AWS call)."""
    return str(aws_session(args).region_name)
