"""``mlflow-cfn permissions``: print the IAM policy a person needs to run ``mlflow-cfn deploy``
(with or without a CloudFormation service role) or ``mlflow-cfn publish``.

The policy is `mlflow_cfn.catalog.operator_policy`'s; this module reads the flags and writes the
document. Nothing is sent to AWS: only the region is read from the flags or the AWS configuration
(`mlflow_cfn.commands.aws_options`), since the ARNs name it. Without a service role the policy is
larger than one managed policy (6,144 characters): ``--output-dir`` writes it as several that
each fit, in order.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from mlflow_cfn.catalog.allow_lists import AllowLists
from mlflow_cfn.catalog.launch_policy import MANAGED_POLICY_MAX_CHARS, policy_chars
from mlflow_cfn.catalog.operator_policy import PURPOSES, Operator, operator_policy, policy_parts
from mlflow_cfn.cfn.evaluate import EvaluationError
from mlflow_cfn.cfn.upload import TEMPLATE_BODY_LIMIT
from mlflow_cfn.commands import CliError
from mlflow_cfn.commands.aws_options import add_aws_options, aws_region
from mlflow_cfn.commands.deploy_flags import role_arn, stack_name
from mlflow_cfn.commands.output import write_file
from mlflow_cfn.stack.plan import read_template

__all__ = ["register", "run"]

DESCRIPTION = (
    "Print the IAM policy (JSON) a person needs to run `mlflow-cfn deploy` or `mlflow-cfn "
    "publish`: the calls the command makes and, for a deploy without a CloudFormation service "
    "role, what CloudFormation then does with that person's permissions for the stack's "
    "resources (derived from the template as the Service Catalog launch role is)."
)


def _account(text: str) -> str:
    """argparse type: a 12-digit AWS account id."""
    if not re.fullmatch(r"[0-9]{12}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a 12-digit AWS account id")
    return text


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``permissions`` command."""
    parser = subparsers.add_parser(
        "permissions",
        help="print the IAM policy a person needs to run deploy or publish",
        description=DESCRIPTION,
    )
    parser.add_argument(
        "--for",
        dest="purpose",
        required=True,
        choices=PURPOSES,
        help="deploy (CloudFormation acts with your permissions), deploy-with-service-role "
        "(deploy --role-arn: CloudFormation acts with the role's) or publish",
    )
    parser.add_argument(
        "--stack-name", type=stack_name, default="mlflow", metavar="NAME", help="%(default)s"
    )
    parser.add_argument(
        "--network-stack",
        type=stack_name,
        metavar="NAME",
        help="for deploy --network-stack: the network stack whose outputs it reads",
    )
    parser.add_argument(
        "--s3-bucket",
        "--bucket",
        dest="bucket",
        metavar="BUCKET",
        help="the bucket deploy --s3-bucket or publish --bucket uploads the template to "
        "(needed by publish, and by deploy for a template over 51,200 bytes such as the default)",
    )
    parser.add_argument(
        "--template",
        metavar="PATH",
        help="for deploy: the stack's template (PATH, file://PATH or -; JSON or YAML; default: "
        "the product template as `mlflow-cfn synth` writes it)",
    )
    parser.add_argument(
        "--role-arn", type=role_arn, metavar="ARN", help="deploy-with-service-role: the role"
    )
    _add_publish_inputs(parser)
    _add_stack_inputs(parser)
    parser.add_argument(
        "--account-id", type=_account, help="the account in the ARNs (default: any, '*')"
    )
    add_aws_options(parser)
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        help="write the policy as managed-policy-sized files mlflow-cfn-<for>-<n>.json here "
        "instead of printing it",
    )
    parser.set_defaults(func=run)
    return parser


def _add_publish_inputs(parser: argparse.ArgumentParser) -> None:
    """The launch role publish names, and the portfolio stack it may read it from."""
    parser.add_argument(
        "--launch-role-name",
        metavar="NAME",
        help="publish --launch-role-name: the role (with --portfolio-stack: the name at the end "
        "of its LaunchRoleArn output)",
    )
    parser.add_argument(
        "--portfolio-stack",
        type=stack_name,
        metavar="NAME",
        help="for publish --portfolio-stack: the portfolio stack whose outputs it reads",
    )


def _add_stack_inputs(parser: argparse.ArgumentParser) -> None:
    """What the stack's parameters point at that a deploy without a service role reaches."""
    parser.add_argument(
        "--permissions-boundary-arn",
        metavar="POLICY_ARN",
        help="for deploy: the stack's PermissionsBoundaryArn; roles may then be created and "
        "changed only with it",
    )
    parser.add_argument(
        "--secret-arn-prefix",
        action="append",
        default=[],
        metavar="ARN_PREFIX",
        help="for deploy: secrets CloudFormation resolves for the stack (OidcClientSecretArn) "
        "by ARN prefix (repeatable)",
    )
    parser.add_argument(
        "--hosted-zone",
        action="append",
        default=[],
        metavar="ZONE_ID",
        help="for deploy: the HostedZoneId the stack adds its DNS record to (repeatable)",
    )


def _operator(args: argparse.Namespace) -> Operator:
    """The Operator of the flags; CliError when the purpose lacks what it needs."""
    if args.purpose == "deploy-with-service-role" and not args.role_arn:
        raise CliError("--for deploy-with-service-role needs --role-arn ARN (the service role)")
    if args.purpose == "publish" and not args.bucket:
        raise CliError("--for publish needs --bucket BUCKET (the bucket publish uploads to)")
    try:  # the entries a portfolio's allow-lists accept (image cache credentials apart)
        cache = tuple(p for p in args.secret_arn_prefix if ":secret:ecr-" in p)
        secrets = tuple(p for p in args.secret_arn_prefix if p not in cache)
        AllowLists(
            secret_prefixes=secrets,
            image_cache_secret_prefixes=cache,
            hosted_zones=tuple(args.hosted_zone),
        )
    except ValueError as exc:
        raise CliError(f"--secret-arn-prefix/--hosted-zone: {exc}") from None
    return Operator(
        region=aws_region(args),
        account=args.account_id or "*",
        stack_name=args.stack_name,
        network_stack=args.network_stack if args.purpose != "publish" else None,
        bucket=args.bucket,
        role_arn=args.role_arn if args.purpose == "deploy-with-service-role" else None,
        launch_role_name=args.launch_role_name if args.purpose == "publish" else None,
        portfolio_stack=args.portfolio_stack if args.purpose == "publish" else None,
        boundary_arn=args.permissions_boundary_arn,
        secret_prefixes=tuple(args.secret_arn_prefix),
        hosted_zones=tuple(args.hosted_zone),
    )


def _template(args: argparse.Namespace) -> dict | None:
    """The stack's template for ``deploy`` (None otherwise); a note when it cannot be deployed
    without the upload bucket the policy then lacks."""
    if args.purpose != "deploy":
        return None
    template = read_template(args.template)
    size = len(json.dumps(template, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if args.bucket is None and size > TEMPLATE_BODY_LIMIT:
        print(
            f"note: the template is {size} bytes, over CloudFormation's {TEMPLATE_BODY_LIMIT}: "
            "deploy needs --s3-bucket, and this policy lets it upload only with --s3-bucket",
            file=sys.stderr,
        )
    return template


def run(args: argparse.Namespace) -> int:
    """Print the policy, or write its parts to --output-dir."""
    operator = _operator(args)
    try:
        policy = operator_policy(args.purpose, operator, _template(args))
    except EvaluationError as exc:
        raise CliError("; ".join(exc.errors)) from None
    if args.output_dir:
        parts = policy_parts(policy)
        for number, part in enumerate(parts, start=1):
            path = Path(args.output_dir) / f"mlflow-cfn-{args.purpose}-{number}.json"
            write_file(str(path), json.dumps(part, indent=2) + "\n")
            print(f"wrote {path} ({policy_chars(part)} characters)")
        return 0
    print(json.dumps(policy, indent=2))
    if (size := policy_chars(policy)) > MANAGED_POLICY_MAX_CHARS:
        print(
            f"note: {size} characters, more than one managed policy holds "
            f"({MANAGED_POLICY_MAX_CHARS}): --output-dir DIR writes it as "
            f"{len(policy_parts(policy))} managed policies that each fit",
            file=sys.stderr,
        )
    return 0
