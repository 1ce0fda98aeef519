"""Publish the CloudFormation template as a version of an AWS Service Catalog product.

``publish`` is idempotent: it finds the portfolio and product by exact name, creates only what is
missing, and treats versions (provisioning artifacts) as immutable: re-publishing a version with
the same template is a no-op, with a different template it is refused before anything changes.
All reads happen first (`mlflow_cfn.catalog.existing`, and the launch role check of
`mlflow_cfn.catalog.launch_role_check`), so conflicts, an unsafe launch role and a missing bucket
are reported before the first change. The template is uploaded under a content-addressed key
``mlflow-cfn/templates/<sha256>.json`` (`mlflow_cfn.cfn.upload`), which is how an existing
version's template is compared with the local one. The ``publish`` command is
`mlflow_cfn.commands.publish`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import boto3
from botocore.client import BaseClient

from mlflow_cfn.catalog.existing import CatalogState, read_existing
from mlflow_cfn.catalog.launch_role_check import check_launch_role, role_ids
from mlflow_cfn.catalog.product_versions import create_product, create_version
from mlflow_cfn.catalog.publish_request import (
    DEFAULT_DESCRIPTION,
    DEFAULT_OWNER,
    DEFAULT_TEMPLATE,
    NETWORK_DESCRIPTION,
    NETWORK_TEMPLATE,
    LocalTemplate,
    PublishError,
    PublishRequest,
    PublishResult,
    idempotency_token,
    principal_type,
    read_template,
)
from mlflow_cfn.catalog.template_constraint import put_rules
from mlflow_cfn.cfn.aws import aws_client
from mlflow_cfn.cfn.upload import TemplateUploadError, upload_template

__all__ = [
    "DEFAULT_DESCRIPTION",
    "DEFAULT_OWNER",
    "DEFAULT_TEMPLATE",
    "NETWORK_DESCRIPTION",
    "NETWORK_TEMPLATE",
    "PublishError",
    "PublishRequest",
    "PublishResult",
    "idempotency_token",
    "make_clients",
    "principal_type",
    "publish",
    "read_template",
]

_T = TypeVar("_T")


def publish(
    request: PublishRequest,
    *,
    sc: BaseClient,
    s3: BaseClient,
    iam: BaseClient | None = None,
    out: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> PublishResult:
    """Publish ``request.template`` as ``request.version`` of the product; create what's missing.
    ``iam`` (needed with a launch role) checks the launch role before anything changes."""
    if request.launch_role_name and iam is None:
        raise ValueError("publish with a launch role needs an IAM client to check the role")
    template = read_template(request.template)
    state = read_existing(request, template, sc, sleep)
    _check_stack_product(request, state)
    if request.launch_role_name and iam is not None:
        check_launch_role(iam, request.launch_role_name, role_ids(template))
    changes = _Changes(out, request.dry_run)
    if state.version_id is None:  # a new version: its template must be in the bucket
        state.template_url = _upload(request, template, changes, s3)
    if state.portfolio_id is None:
        state.portfolio_id = changes.make(
            f"create portfolio '{request.portfolio}'", lambda: _create_portfolio(sc, request), str
        )
    _publish_version(request, template, state, changes, sc, sleep)
    _attach(request, state, changes, sc)
    _summarize(request, state, changes)
    return PublishResult(
        state.portfolio_id,
        state.product_id,
        state.version_id,
        template.sha256,
        tuple(changes.lines),
    )


def make_clients(
    region: str | None, session: boto3.session.Session | None = None
) -> tuple[BaseClient, BaseClient, BaseClient]:
    """Service Catalog, S3 and IAM clients of `session` (default: a new one in ``region``) as
    `aws_client` makes them: retrying throttling (10 retries), an HTML reply or an expired SSO
    login told as such."""
    session = session or boto3.session.Session(region_name=region)
    return (
        aws_client("servicecatalog", session.region_name, session),
        aws_client("s3", session.region_name, session),
        aws_client("iam", session.region_name, session),
    )


@dataclass
class _Changes:
    """Reports each change as it is made, or as ``would ...`` in a dry run."""

    out: Callable[[str], None]
    dry_run: bool
    lines: list[str] = field(default_factory=list)

    def make(
        self, action: str, do: Callable[[], _T], shown: Callable[[_T], str] = lambda _: ""
    ) -> _T | None:
        """Run ``do`` for ``action`` ("create portfolio 'X'"), or only announce it in a dry run.

        The line printed afterwards is in the past tense, with ``shown(result)`` in parentheses.
        """
        if self.dry_run:
            self.say(f"would {action}")
            return None
        result = do()
        verb, _, rest = action.partition(" ")
        suffix = shown(result)
        self.say(
            f"{verb}{'d' if verb.endswith('e') else 'ed'} {rest}"
            + (f" ({suffix})" if suffix else "")
        )
        return result

    def say(self, line: str) -> None:
        """Record and print one line."""
        self.lines.append(line)
        self.out(line)


def _upload(
    request: PublishRequest, template: LocalTemplate, changes: _Changes, s3: BaseClient
) -> str:
    """Upload the template unless it is in the bucket already (a change); returns its URL."""
    try:
        return upload_template(
            s3, request.bucket, template.body, out=changes.say, dry_run=request.dry_run
        )
    except TemplateUploadError as error:
        raise PublishError(str(error)) from None


def _create_portfolio(sc: BaseClient, request: PublishRequest) -> str:
    """Create the portfolio; returns its id."""
    response = sc.create_portfolio(
        DisplayName=request.portfolio,
        ProviderName=request.owner,
        Description=request.description or DEFAULT_DESCRIPTION,
        IdempotencyToken=idempotency_token("portfolio", request.portfolio),
    )
    return response["PortfolioDetail"]["Id"]


def _publish_version(
    request: PublishRequest,
    template: LocalTemplate,
    state: CatalogState,
    changes: _Changes,
    sc: BaseClient,
    sleep: Callable[[float], None],
) -> None:
    """Create the product with this version, or add this version, or say it already exists."""
    if state.version_id:
        changes.out(
            f"version {request.version} already published with the same template: nothing to do"
        )
        return
    url = state.template_url or ""
    if state.product_id is None:
        ids = changes.make(
            f"create product '{request.product}' with version {request.version}",
            lambda: create_product(sc, request, template, url, sleep),
            ", ".join,
        )
        state.product_id, state.version_id = ids or (None, None)
        return
    product_id = state.product_id
    state.version_id = changes.make(
        f"create version {request.version} of product '{request.product}'",
        lambda: create_version(sc, request, template, url, product_id, sleep),
        str,
    )


def _attach(
    request: PublishRequest, state: CatalogState, changes: _Changes, sc: BaseClient
) -> None:
    """Associate, deprecate or deactivate, constrain (launch role, allow-list Rules) and share as
    requested, skipping what is already so."""
    portfolio, product = state.portfolio_id or "", state.product_id or ""
    stack_made = request.stack_product_id is not None  # its constraints are the stack's
    if not state.associated:
        changes.make(
            f"associate product '{request.product}' with portfolio '{request.portfolio}'",
            lambda: sc.associate_product_with_portfolio(ProductId=product, PortfolioId=portfolio),
        )
    if request.deprecate_previous:
        for version in _deprecatable(state.versions, request.version):
            changes.make(
                f"deprecate version {version['Name']} ({version['Id']})",
                lambda v=version: sc.update_provisioning_artifact(
                    ProductId=product, ProvisioningArtifactId=v["Id"], Guidance="DEPRECATED"
                ),
            )
    if request.deactivate_previous:
        for version in _other_active(state.versions, request.version):
            changes.make(
                f"deactivate version {version['Name']} ({version['Id']})",
                lambda v=version: sc.update_provisioning_artifact(
                    ProductId=product, ProvisioningArtifactId=v["Id"], Active=False
                ),
            )
    if request.launch_role_name and not state.has_launch_constraint and not stack_made:
        role = request.launch_role_name
        changes.make(
            f"add launch constraint with local role {role!r}",
            lambda: _create_launch_constraint(sc, portfolio, product, role),
            str,
        )
    existing = state.existing_rules
    if state.rules and (existing is None or existing.rules != state.rules):
        changes.make(
            f"{'update' if existing else 'add'} template constraint "
            f"({', '.join(sorted(state.rules))})",
            lambda: put_rules(sc, portfolio, product, state.rules, existing),
            str,
        )
    for arn in state.missing_principals:
        changes.make(
            f"associate principal {arn} with portfolio '{request.portfolio}'",
            lambda a=arn: sc.associate_principal_with_portfolio(
                PortfolioId=portfolio, PrincipalARN=a, PrincipalType=principal_type(a)
            ),
        )


def _check_stack_product(request: PublishRequest, state: CatalogState) -> None:
    """With ``--portfolio-stack``: PublishError unless ``--portfolio`` and ``--product`` name the
    portfolio and product the stack made (their constraints are the stack's; another product
    would have none)."""
    if request.stack_product_id is None:
        return
    found = {"portfolio": state.portfolio_id, "product": state.product_id}
    wanted = {"portfolio": request.stack_portfolio_id, "product": request.stack_product_id}
    names = {"portfolio": request.portfolio, "product": request.product}
    wrong = [kind for kind in ("portfolio", "product") if found[kind] != wanted[kind]]
    if wrong:
        raise PublishError(
            "; ".join(
                f"--{kind} {names[kind]!r} is {found[kind] or 'not found'}, not the portfolio "
                f"stack's {kind} {wanted[kind]}"
                for kind in wrong
            )
            + ": give the names the portfolio stack's parameters gave them"
        )


def _other_active(versions: list[dict[str, Any]], keep: str) -> list[dict[str, Any]]:
    """The versions other than ``keep`` that are active.

    What deactivating one does (Service Catalog API Reference, UpdateProvisioningArtifact,
    ``Active``): "Inactive provisioning artifacts are invisible to end users. End users cannot
    launch or update a provisioned product from an inactive provisioning artifact." Deprecating
    does less (``Guidance``): "Users are able to make updates to a provisioned product of a
    deprecated version but cannot launch new provisioned products using a deprecated version."
    """
    return [v for v in versions if v.get("Name") != keep and v.get("Active")]


def _deprecatable(versions: list[dict[str, Any]], keep: str) -> list[dict[str, Any]]:
    """The other versions that are active and not deprecated yet."""
    return [v for v in _other_active(versions, keep) if v.get("Guidance") != "DEPRECATED"]


def _create_launch_constraint(sc: BaseClient, portfolio_id: str, product_id: str, role: str) -> str:
    """Add the LAUNCH constraint by local role name; returns its id."""
    response = sc.create_constraint(
        PortfolioId=portfolio_id,
        ProductId=product_id,
        Type="LAUNCH",
        Parameters=json.dumps({"LocalRoleName": role}),
        Description=f"Launch as the local IAM role {role}",
        IdempotencyToken=idempotency_token("launch", portfolio_id, product_id, role),
    )
    return response["ConstraintDetail"]["ConstraintId"]


def _summarize(request: PublishRequest, state: CatalogState, changes: _Changes) -> None:
    """Print the final line: product and version ids (or what a dry run would change)."""
    product, version = state.product_id or "new", state.version_id or "new"
    ids = f"product {product} version {request.version} ({version})"
    if request.dry_run:
        changes.out(f"dry run: {len(changes.lines)} change(s) would be made to {ids}")
    else:
        changes.out(f"published {ids}")
