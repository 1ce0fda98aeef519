"""What ``publish`` is asked to do, and what all its steps share.

The request (mirroring the ``publish`` command-line flags) with its checks, the local template
file with its content address, the result, the one error type whose message is shown to users,
and the deterministic idempotency tokens of the create calls (never random, so a retried or
repeated run creates nothing twice).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from mlflow_cfn.catalog.allow_lists import AllowLists
from mlflow_cfn.stack.parameters import PARTITION

#: The product template, built in memory exactly as ``mlflow-cfn synth`` writes it (so publish
#: works from any directory; templates/mlflow.json is kept equal to it by a test).
DEFAULT_TEMPLATE = None
DEFAULT_OWNER = "Platform team"
DEFAULT_DESCRIPTION = "Production MLflow tracking server on AWS (ECS Fargate, Aurora, S3)"
#: ``publish --network``: the network template and its product's description.
NETWORK_TEMPLATE = "<the network template>"  # built in memory as `synth --network` writes it
NETWORK_DESCRIPTION = (
    "Network for the MLflow product: a VPC with egress through NAT gateways or VPC endpoints only"
)


class PublishError(Exception):
    """A failure with a one-line, user-facing cause (printed without a traceback)."""


@dataclass(frozen=True)
class PublishRequest:
    """What to publish, and where (mirrors the ``publish`` command-line flags)."""

    portfolio: str
    product: str
    version: str
    bucket: str
    template: Path | str | None = DEFAULT_TEMPLATE  # a file (path, file://, -) or built in
    owner: str = DEFAULT_OWNER
    description: str | None = None
    launch_role_name: str | None = None
    principals: tuple[str, ...] = ()
    deprecate_previous: bool = False
    #: Make the other versions inactive (Active=false), e.g. for a security release.
    deactivate_previous: bool = False
    dry_run: bool = False
    #: What launchers may point the product at (a TEMPLATE constraint enforces it).
    allow: AllowLists = field(default_factory=AllowLists)
    #: The permissions boundary the product's PermissionsBoundaryArn must name, if any.
    permissions_boundary_arn: str | None = None
    #: With ``--portfolio-stack``: the portfolio and product that stack made (its outputs). The
    #: product must be that one, in that portfolio; its launch and template constraints are the
    #: stack's (they cover every version), so publish adds none of its own.
    stack_portfolio_id: str | None = None
    stack_product_id: str | None = None

    def __post_init__(self) -> None:
        """Refuse a version name with spaces (the API forbids them), malformed principals, a
        launch role without the boundary it enforces, and deprecating and deactivating at
        once."""
        if re.search(r"\s", self.version) or not self.version:
            raise PublishError(f"version {self.version!r} must be non-empty without spaces")
        if self.launch_role_name and not self.permissions_boundary_arn:
            raise PublishError(
                "--launch-role-name needs --permissions-boundary-arn: the boundary the launch "
                "role gives every role it creates (the portfolio template's outputs "
                "PermissionsBoundaryArn, and LaunchRoleArn or NetworkLaunchRoleArn for the role's "
                "name); without it the template constraint cannot hold the product's "
                "PermissionsBoundaryArn to it"
            )
        if self.deprecate_previous and self.deactivate_previous:
            raise PublishError(
                "--deprecate-previous and --deactivate-previous: pick one (guidance such as "
                "DEPRECATED affects only active versions; --deactivate-previous already stops "
                "launches and updates from the other versions)"
            )
        for arn in self.principals:
            principal_type(arn)
        boundary = self.permissions_boundary_arn
        if boundary is not None and not re.fullmatch(
            rf"arn:{PARTITION}:iam::[0-9]{{12}}:policy/([\w+=,.@-]+/)*[\w+=,.@-]+", boundary
        ):
            raise PublishError(f"permissions boundary {boundary!r} is not an IAM policy ARN")


@dataclass(frozen=True)
class PublishResult:
    """The ids ``publish`` ended with (None where a dry run would create them) and its changes."""

    portfolio_id: str | None
    product_id: str | None
    version_id: str | None
    template_sha256: str
    changes: tuple[str, ...]


@dataclass(frozen=True)
class LocalTemplate:
    """The template's bytes and content address."""

    body: bytes
    sha256: str


def principal_type(arn: str) -> str:
    """``IAM`` for a full ARN, ``IAM_PATTERN`` for one without account id (wildcards allowed)."""
    fields = arn.split(":", 5)
    if len(fields) != 6 or fields[0] != "arn" or fields[2] != "iam":
        raise PublishError(f"principal {arn!r} is not an IAM ARN")
    if not fields[4]:
        return "IAM_PATTERN"
    if "*" in arn or "?" in arn:
        raise PublishError(
            f"principal {arn!r}: wildcard ARNs must omit the account id (arn:aws:iam:::role/Name*)"
        )
    return "IAM"


def idempotency_token(*parts: str) -> str:
    """A deterministic IdempotencyToken: sha256 hex of ``parts`` (64 chars; the API allows 128)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _built_in(source: object) -> bytes:
    """The product (None) or network template as ``synth`` writes it."""
    if source == NETWORK_TEMPLATE:
        from mlflow_cfn.network import network_template_text

        return network_template_text().encode()
    from mlflow_cfn.stack.plan import default_template_text

    return default_template_text().encode()


def read_template(source: Path | str | None) -> LocalTemplate:
    """The template to publish: built in (None, NETWORK_TEMPLATE) or a JSON or YAML file (a path,
    ``file://`` path or ``-``) holding a template; PublishError naming --template otherwise. The
    file is published as it is (Service Catalog takes JSON and YAML)."""
    if source is None or source == NETWORK_TEMPLATE:
        body = _built_in(source)
    else:
        from mlflow_cfn.cfn.documents import read_source
        from mlflow_cfn.cfn.evaluate import EvaluationError
        from mlflow_cfn.stack.plan import check_template

        try:
            text = read_source(source, "--template")
            check_template(text, source, "--template")
        except EvaluationError as exc:
            raise PublishError("; ".join(exc.errors)) from None
        body = text.encode("utf-8")
    return LocalTemplate(body, hashlib.sha256(body).hexdigest())
