"""``mlflow-cfn publish``: the flags, and the one-line error a failed publish prints.

The publishing itself is `mlflow_cfn.catalog.publish`; ``python -m service_catalog.publish`` runs
the same flags and `run`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from mlflow_cfn.catalog.allow_lists import EXPOSURES, AllowLists
from mlflow_cfn.catalog.publish import (
    DEFAULT_OWNER,
    DEFAULT_TEMPLATE,
    NETWORK_DESCRIPTION,
    NETWORK_TEMPLATE,
    PublishError,
    PublishRequest,
    make_clients,
    publish,
    read_template,
)
from mlflow_cfn.cfn.aws import cloudformation_client
from mlflow_cfn.commands import CliError
from mlflow_cfn.commands.aws_options import add_aws_options, aws_session
from mlflow_cfn.commands.output import report_errors
from mlflow_cfn.commands.portfolio_stack import (
    add_portfolio_stack_option,
    check_portfolio_stack_flags,
    with_portfolio_stack,
)
from mlflow_cfn.versions import __version__

__all__ = ["add_arguments", "register", "run"]

#: The command's description in ``--help``.
DESCRIPTION = "Publish the CloudFormation template as a version of an AWS Service Catalog product."


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``publish`` command (``func=run``)."""
    parser = subparsers.add_parser(
        "publish",
        help="publish the template as a Service Catalog product version",
        description=DESCRIPTION,
    )
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``publish`` flags to ``parser``."""
    parser.add_argument("--portfolio", required=True, help="portfolio display name")
    parser.add_argument("--product", required=True, help="product name")
    parser.add_argument(
        "--version",
        required=True,
        help="name of the product version to create, e.g. v1.2.0 or 2026-12-01 (a name that "
        "exists already is refused: versions are immutable; this package is "
        f"v{__version__})",
    )
    parser.add_argument("--bucket", required=True, help="S3 bucket for the template")
    parser.add_argument(
        "--template",
        default=DEFAULT_TEMPLATE,
        metavar="PATH",
        help="template file (PATH, file://PATH or -; JSON or YAML; default: the product "
        "template, or with --network the network template, as `mlflow-cfn synth` writes it)",
    )
    parser.add_argument(
        "--network",
        action="store_true",
        help="publish the network template (a VPC for the product) as a product of its own, "
        "e.g. beside the MLflow product in the same portfolio (its launch role: the portfolio "
        "template's NetworkLaunchRoleArn output)",
    )
    parser.add_argument("--owner", default=DEFAULT_OWNER, help="default: %(default)s")
    parser.add_argument("--description", help="portfolio and product description")
    parser.add_argument(
        "--launch-role-name",
        metavar="NAME",
        help="IAM role Service Catalog launches the product as (a LAUNCH constraint by local role "
        "name); needs --permissions-boundary-arn. It is checked first (iam:GetRole, "
        "iam:SimulatePrincipalPolicy): it must trust only servicecatalog.amazonaws.com and may "
        "create or change roles only with that boundary, as the portfolio template's LaunchRole "
        "(output LaunchRoleArn) does",
    )
    add_portfolio_stack_option(parser)
    parser.add_argument(
        "--principal",
        action="append",
        metavar="ARN",
        help="who may launch the product (repeatable): an IAM role, user or group ARN "
        "(arn:aws:iam::123456789012:role/DataScientists) is associated as is; an ARN without "
        "an account id and with a wildcard (arn:aws:iam:::role/DataScience*) is a pattern "
        "(IAM_PATTERN) that matches the roles of that name in every account the portfolio is "
        "shared with",
    )
    _add_previous_version_arguments(parser)
    _add_allow_list_arguments(parser)
    parser.add_argument("--dry-run", action="store_true", help="print the changes, make none")
    add_aws_options(parser)


def _add_previous_version_arguments(parser: argparse.ArgumentParser) -> None:
    """What happens to the product's other versions: deprecated, or deactivated."""
    parser.add_argument(
        "--deprecate-previous",
        action="store_true",
        help="deprecate the other active versions (Guidance=DEPRECATED): launchers can no longer "
        "launch them, but can still update provisioned products on them",
    )
    parser.add_argument(
        "--deactivate-previous",
        action="store_true",
        help="deactivate the other active versions (Active=false), e.g. for a security release: "
        "launchers no longer see them and can neither launch them nor update a provisioned "
        "product from them, so the next update of a provisioned product on one must move it to "
        "an active version; provisioned products on them keep running unchanged until then "
        "(not with --deprecate-previous)",
    )


#: The allow-list flags: flag -> (AllowLists field, metavar, help). Repeatable; none given means
#: launchers may name nothing outside what the product creates (the default image excepted).
ALLOW_FLAGS: dict[str, tuple[str, str, str]] = {
    "--allow-secret-arn-prefix": (
        "secret_prefixes", "ARN_PREFIX",
        "secrets launchers may name (OidcClientSecretArn, SidecarSecretArn, "
        "DatadogApiKeySecretArn; the network's ImageCacheCredentialsSecretArn), by ARN prefix "
        "into the name, e.g. "
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlflow/; the launch role and "
        "the product's permissions boundary must limit secrets to these (the portfolio "
        "template's do), the template constraint only refuses secrets when none is given",
    ),
    "--allow-bucket": (
        "buckets", "NAME",
        "existing S3 bucket launchers may store artifacts in (ArtifactBucketName), each stack "
        "under its own UUID (the template constraint requires ArtifactPrefixPerStack=true)",
    ),
    "--allow-read-only-bucket": (
        "read_only_buckets", "NAME",
        "existing S3 bucket launchers may only read (ArtifactReadOnlyBucketArns)",
    ),
    "--allow-kms-key": (
        "kms_keys", "KEY_ARN",
        "KMS key ARN launchers may name (ArtifactBucketKmsKeyArn, SidecarSecretKmsKeyArn, "
        "DatadogApiKeyKmsKeyArn)",
    ),
    "--allow-hosted-zone": (
        "hosted_zones", "ZONE_ID", "Route 53 hosted zone id launchers may use as HostedZoneId",
    ),
    "--allow-image": (
        "images", "IMAGE",
        "exact image reference launchers may run as MlflowImage or SidecarImage: "
        "REPO@sha256:DIGEST (one image for good) or REPO:TAG (whoever may push to REPO can "
        "move the tag)",
    ),
}  # fmt: skip


def _add_allow_list_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of what launchers may point the product at (a TEMPLATE constraint's Rules)."""
    group = parser.add_argument_group(
        "what launchers may point the product at (default: nothing the product does not create)"
    )
    for flag, (_, metavar, text) in ALLOW_FLAGS.items():
        group.add_argument(flag, action="append", metavar=metavar, help=f"{text} (repeatable)")
    group.add_argument(
        "--allow-exposure",
        choices=EXPOSURES,
        default=EXPOSURES[0],
        help="where launchers may expose MLflow: internal load balancers only (the default), "
        "internet-facing only with login (AuthMode), or internet-facing also without login; the "
        "launcher's own AllowPublicAccessWithoutLogin is never enough",
    )
    group.add_argument(
        "--no-default-image",
        action="store_true",
        help="launchers may run only the --allow-image images, not also the default MLflow "
        "image (a tag): for a portfolio that pins every image by digest",
    )
    group.add_argument(
        "--permissions-boundary-arn",
        metavar="POLICY_ARN",
        help="the permissions boundary the product's PermissionsBoundaryArn must name (the "
        "portfolio template's PermissionsBoundaryArn output); needed with --launch-role-name",
    )


def run(args: argparse.Namespace) -> int:
    """Publish from parsed arguments; exit 2 with a one-line cause for bad input (found before
    anything is sent), 1 for a failure in AWS."""
    try:
        check_portfolio_stack_flags(args, _allow_flags_given(args))
        request = _request(args)
        read_template(request.template)  # report a bad template before any AWS configuration
        for warning in request.allow.warnings():
            print(f"mlflow-cfn publish: warning: {warning}", file=sys.stderr)
        session = aws_session(args)
    except (PublishError, CliError) as error:
        return report_errors("publish", [" ".join(str(error).split())])
    try:
        if args.portfolio_stack:
            cfn = cloudformation_client(session.region_name, session)
            request = with_portfolio_stack(request, cfn, args.portfolio_stack, args.network)
        sc, s3, iam = make_clients(session.region_name, session)
        publish(request, sc=sc, s3=s3, iam=iam)
        return 0
    except PublishError as error:
        cause = str(error)
    except NoCredentialsError:
        cause = "no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID)"
    except NoRegionError:
        cause = "no AWS region configured (pass --region or set AWS_REGION)"
    except ClientError as error:
        cause = _describe_client_error(error)
    except BotoCoreError as error:
        cause = str(error)
    except KeyboardInterrupt:  # also for python -m service_catalog.publish, which has no cli.main
        cause = (
            "interrupted; what was already created stays, and running the same command again "
            "finishes it (publish finds what exists by name)"
        )
        print(f"mlflow-cfn publish: {cause}", file=sys.stderr)
        return 130
    print(f"mlflow-cfn publish: {' '.join(cause.split())}", file=sys.stderr)
    return 1


def _request(args: argparse.Namespace) -> PublishRequest:
    """The PublishRequest for parsed ``publish`` arguments."""
    try:
        lists = {
            name: tuple(getattr(args, flag[2:].replace("-", "_")) or ())
            for flag, (name, _, _) in ALLOW_FLAGS.items()
        }
        if args.network:  # the network's secrets are the image cache's credentials
            lists["image_cache_secret_prefixes"] = lists.pop("secret_prefixes")
        allow = AllowLists(
            **lists, exposure=args.allow_exposure, default_image=not args.no_default_image
        )
    except ValueError as error:
        raise PublishError(f"allow-lists: {error}") from None
    return PublishRequest(
        portfolio=args.portfolio,
        product=args.product,
        version=args.version,
        bucket=args.bucket,
        template=_template(args),
        owner=args.owner,
        description=args.description or (NETWORK_DESCRIPTION if args.network else None),
        launch_role_name=args.launch_role_name,
        principals=tuple(args.principal or ()),
        deprecate_previous=args.deprecate_previous,
        deactivate_previous=args.deactivate_previous,
        dry_run=args.dry_run,
        allow=allow,
        permissions_boundary_arn=args.permissions_boundary_arn,
    )


def _allow_flags_given(args: argparse.Namespace) -> list[str]:
    """The allow-list flags given on the command line (not left at their defaults)."""
    given = [flag for flag in ALLOW_FLAGS if getattr(args, flag[2:].replace("-", "_"))]
    if args.allow_exposure != EXPOSURES[0]:
        given.append("--allow-exposure")
    return given + (["--no-default-image"] if args.no_default_image else [])


def _template(args: argparse.Namespace) -> str | None:
    """The template to publish: --template, else the built-in product template, or with
    --network the built-in network template."""
    if args.template is None and args.network:
        return NETWORK_TEMPLATE
    return args.template


def _describe_client_error(error: ClientError) -> str:
    """A one-line cause for an AWS error that remained after retries, naming the API call."""
    details = error.response.get("Error", {})
    code, message = details.get("Code", "Unknown"), details.get("Message", "")
    if "AccessDenied" in code or code == "403":
        return f"access denied calling {error.operation_name} ({code}): {message}"
    if code == "NoSuchBucket":
        return f"bucket does not exist ({error.operation_name}): {message}"
    return f"{error.operation_name} failed ({code}): {message}"
