"""``--region`` and ``--profile`` for every command that talks to AWS (or checks something that
depends on the region), resolved the way the AWS CLI resolves them: the flag, then
``AWS_REGION``, then ``AWS_DEFAULT_REGION``, then the profile's ``region`` (the profile from
``--profile``, else ``AWS_DEFAULT_PROFILE`` or ``AWS_PROFILE`` as botocore reads them, else
``default``). Resolving reads configuration files only, so a command can refuse a missing or
unknown region, or a missing profile, before it validates or sends anything; each refusal names
where the value came from (the flag, the variable or the profile)."""

from __future__ import annotations

import argparse
import os

import boto3
from botocore.exceptions import ProfileNotFound

from mlflow_cfn.cfn.partitions import unknown_region
from mlflow_cfn.commands import CliError

__all__ = ["add_aws_options", "aws_region", "aws_session"]

REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
#: Where botocore reads the profile from without ``--profile``, in its order (botocore's
#: configprovider: ``'profile': (None, ['AWS_DEFAULT_PROFILE', 'AWS_PROFILE'], ...)``).
PROFILE_VARIABLES = ("AWS_DEFAULT_PROFILE", "AWS_PROFILE")
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
        hint = "`aws configure list-profiles` lists the profiles there are"
        raise CliError(f"{_profile_source(args)}: {exc}; {hint}") from None
    region, source = _region(args, session)
    if not region:
        raise CliError(NO_REGION)
    if problem := unknown_region(region):
        raise CliError(f"{source}: {problem}")
    return boto3.Session(profile_name=args.profile, region_name=region)


def _profile_source(args: argparse.Namespace) -> str:
    """Where the profile came from, as ``--profile X`` or ``AWS_PROFILE=X``."""
    if args.profile:
        return f"--profile {args.profile}"
    variable = next((v for v in PROFILE_VARIABLES if os.environ.get(v)), "AWS_PROFILE")
    return f"{variable}={os.environ.get(variable, '')}"


def _region(args: argparse.Namespace, session: boto3.Session) -> tuple[str | None, str]:
    """The region and where it came from, as ``--region X``, ``AWS_REGION=X`` or the profile."""
    if args.region:
        return args.region, f"--region {args.region}"
    for variable in REGION_VARIABLES:
        if os.environ.get(variable):
            return os.environ[variable], f"{variable}={os.environ[variable]}"
    region = session.region_name
    return region, f"region {region} of profile {session.profile_name}"


def aws_region(args: argparse.Namespace) -> str:
    """The region as `aws_session` resolves it (configuration files only, no AWS call)."""
    return str(aws_session(args).region_name)
