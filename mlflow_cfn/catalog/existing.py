"""What already exists in Service Catalog, read before ``publish`` changes anything.

Portfolio and product are found by exact name (several of one name are refused as ambiguous); an
existing version of the requested name must hold the same template (versions are immutable); a
different launch constraint is refused; our template constraint's Rules are read to compare. So
every conflict is reported before the first change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from botocore.client import BaseClient

from mlflow_cfn.catalog.product_versions import wait_for_version
from mlflow_cfn.catalog.publish_request import LocalTemplate, PublishError, PublishRequest
from mlflow_cfn.catalog.template_constraint import ExistingRules, existing_rules, wanted_rules
from mlflow_cfn.cfn.upload import KEY_PREFIX

_KEY_IN_URL = re.compile(rf"/{re.escape(KEY_PREFIX)}([0-9a-f]{{64}})\.json$")


@dataclass
class CatalogState:
    """What already exists, gathered with read-only calls before any change; then the URL of a new
    version's template, once it is in the bucket."""

    portfolio_id: str | None = None
    product_id: str | None = None
    versions: list[dict[str, Any]] = field(default_factory=list)
    version_id: str | None = None
    associated: bool = False
    has_launch_constraint: bool = False
    missing_principals: list[str] = field(default_factory=list)
    template_url: str | None = None
    rules: dict[str, Any] = field(default_factory=dict)
    existing_rules: ExistingRules | None = None


def read_existing(
    request: PublishRequest,
    template: LocalTemplate,
    sc: BaseClient,
    sleep: Callable[[float], None],
) -> CatalogState:
    """Read what exists (read-only calls); raise on conflicts before anything is changed."""
    state = CatalogState(_find_portfolio(sc, request.portfolio), _find_product(sc, request.product))
    if state.product_id:
        # ListProvisioningArtifacts takes no page token: one call returns every version.
        response = sc.list_provisioning_artifacts(ProductId=state.product_id)
        state.versions = response.get("ProvisioningArtifactDetails", [])
        state.version_id = _existing_version(
            sc, request, template, state.product_id, state.versions, sleep
        )
    if state.portfolio_id and state.product_id:
        state.associated = _is_associated(sc, state.portfolio_id, state.product_id)
        if request.launch_role_name:
            state.has_launch_constraint = _has_launch_constraint(
                sc, state.portfolio_id, state.product_id, request.launch_role_name
            )
    state.rules = wanted_rules(request, template, sc.meta.partition)
    if state.rules and state.portfolio_id and state.product_id:
        constraints = _pages(
            sc,
            "list_constraints_for_portfolio",
            "ConstraintDetails",
            PortfolioId=state.portfolio_id,
            ProductId=state.product_id,
        )
        state.existing_rules = existing_rules(sc, constraints)
    state.missing_principals = _missing_principals(sc, state.portfolio_id, request.principals)
    return state


def _pages(sc: BaseClient, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every ``key`` item of every page of a paginated ``operation``."""
    pages = sc.get_paginator(operation).paginate(**params)
    return [item for page in pages for item in page.get(key, [])]


def _only(ids: list[str], what: str) -> str | None:
    """The single id in ``ids`` (None if empty); several are ambiguous and refused."""
    if len(ids) > 1:
        raise PublishError(f"{len(ids)} {what} exist ({', '.join(ids)}): remove the duplicates")
    return ids[0] if ids else None


def _find_portfolio(sc: BaseClient, name: str) -> str | None:
    """Id of the portfolio whose DisplayName is exactly ``name``."""
    portfolios = _pages(sc, "list_portfolios", "PortfolioDetails")
    return _only(
        [p["Id"] for p in portfolios if p.get("DisplayName") == name], f"portfolios {name!r}"
    )


def _find_product(sc: BaseClient, name: str) -> str | None:
    """Id of the product named exactly ``name`` (the full-text search also matches others)."""
    found = _pages(
        sc, "search_products_as_admin", "ProductViewDetails", Filters={"FullTextSearch": [name]}
    )
    summaries = [d.get("ProductViewSummary", {}) for d in found]
    return _only([s["ProductId"] for s in summaries if s.get("Name") == name], f"products {name!r}")


def _existing_version(
    sc: BaseClient,
    request: PublishRequest,
    template: LocalTemplate,
    product_id: str,
    versions: list[dict[str, Any]],
    sleep: Callable[[float], None],
) -> str | None:
    """Id of this version if already published with the same template; refuse a different one."""
    matches = [v["Id"] for v in versions if v.get("Name") == request.version]
    version_id = _only(matches, f"versions {request.version!r}")
    if version_id is None:
        return None
    described = sc.describe_provisioning_artifact(
        ProductId=product_id, ProvisioningArtifactId=version_id
    )
    url = described.get("Info", {}).get("TemplateUrl", "")
    published = _sha_in_url(url) or f"unknown (template URL {url!r})"
    if published != template.sha256:
        raise PublishError(
            f"version {request.version} already exists with a different template (published "
            f"sha256 {published}, local sha256 {template.sha256}): versions are immutable, "
            "publish a new --version"
        )
    status = described.get("Status")
    if status == "CREATING":
        status = wait_for_version(sc, product_id, version_id, sleep)
    if status != "AVAILABLE":
        raise PublishError(
            f"version {request.version} ({version_id}) exists with status {status}: "
            "delete it and publish again"
        )
    return version_id


def _sha_in_url(url: str) -> str | None:
    """The sha256 in a content-addressed template URL, if it is one."""
    match = _KEY_IN_URL.search(urlparse(url).path)
    return match.group(1) if match else None


def _is_associated(sc: BaseClient, portfolio_id: str, product_id: str) -> bool:
    """Whether the product is already in the portfolio."""
    portfolios = _pages(sc, "list_portfolios_for_product", "PortfolioDetails", ProductId=product_id)
    return any(p.get("Id") == portfolio_id for p in portfolios)


def _has_launch_constraint(sc: BaseClient, portfolio_id: str, product_id: str, role: str) -> bool:
    """Whether the launch constraint for ``role`` exists; a different one is refused."""
    constraints = _pages(
        sc,
        "list_constraints_for_portfolio",
        "ConstraintDetails",
        PortfolioId=portfolio_id,
        ProductId=product_id,
    )
    launch = [c["ConstraintId"] for c in constraints if c.get("Type") == "LAUNCH"]
    if not launch:
        return False
    parameters = sc.describe_constraint(Id=launch[0]).get("ConstraintParameters") or "{}"
    existing = json.loads(parameters)
    role_arn_name = existing.get("RoleArn", "").rsplit("/", 1)[-1]
    if role in (existing.get("LocalRoleName"), role_arn_name):
        return True
    raise PublishError(
        f"product already has a different launch constraint ({launch[0]}: {parameters}) in the "
        f"portfolio: remove it or pass its role instead of --launch-role-name {role}"
    )


def _missing_principals(
    sc: BaseClient, portfolio_id: str | None, principals: tuple[str, ...]
) -> list[str]:
    """The requested principals not yet associated with the portfolio, in order."""
    wanted = list(dict.fromkeys(principals))
    if not wanted or portfolio_id is None:
        return wanted
    found = _pages(sc, "list_principals_for_portfolio", "Principals", PortfolioId=portfolio_id)
    existing = {p.get("PrincipalARN") for p in found}
    return [arn for arn in wanted if arn not in existing]
