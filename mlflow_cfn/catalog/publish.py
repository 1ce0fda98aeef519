"""Publish the CloudFormation template as a version of an AWS Service Catalog product.

``publish`` is idempotent: it finds the portfolio and product by exact name, creates only what is
missing, and treats versions (provisioning artifacts) as immutable: re-publishing a version with
the same template is a no-op, with a different template it is refused before anything changes.
All reads happen first, so conflicts and a missing bucket are reported before the first change.
The template is uploaded under a content-addressed key ``mlflow-cfn/templates/<sha256>.json``
(`mlflow_cfn.cfn.upload`), which is how an existing version's template is compared with the
local one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from mlflow_cfn.cfn.upload import KEY_PREFIX, TemplateUploadError, upload_template
from mlflow_cfn.versions import __version__

DEFAULT_TEMPLATE = Path("templates/mlflow.json")
DEFAULT_OWNER = "Platform team"
DEFAULT_DESCRIPTION = "Production MLflow tracking server on AWS (ECS Fargate, Aurora, S3)"
#: Retries for throttling and transient errors, used by the clients ``run_publish`` creates.
RETRIES = {"max_attempts": 10, "mode": "standard"}
#: Waiting for a new version: up to POLL_ATTEMPTS polls POLL_SECONDS apart (10 minutes).
POLL_SECONDS = 5.0
POLL_ATTEMPTS = 120

_KEY_IN_URL = re.compile(rf"/{re.escape(KEY_PREFIX)}([0-9a-f]{{64}})\.json$")
_T = TypeVar("_T")


class PublishError(Exception):
    """A failure with a one-line, user-facing cause (printed without a traceback)."""


@dataclass(frozen=True)
class PublishRequest:
    """What to publish, and where (mirrors the ``publish`` command-line flags)."""

    portfolio: str
    product: str
    version: str
    bucket: str
    template: Path = DEFAULT_TEMPLATE
    owner: str = DEFAULT_OWNER
    description: str | None = None
    launch_role_name: str | None = None
    principals: tuple[str, ...] = ()
    deprecate_previous: bool = False
    dry_run: bool = False

    def __post_init__(self) -> None:
        """Refuse a version name with spaces (the API forbids them) and malformed principals."""
        if re.search(r"\s", self.version) or not self.version:
            raise PublishError(f"version {self.version!r} must be non-empty without spaces")
        for arn in self.principals:
            principal_type(arn)


@dataclass(frozen=True)
class PublishResult:
    """The ids ``publish`` ended with (None where a dry run would create them) and its changes."""

    portfolio_id: str | None
    product_id: str | None
    version_id: str | None
    template_sha256: str
    changes: tuple[str, ...]


@dataclass(frozen=True)
class _Template:
    """The template's bytes and content address."""

    body: bytes
    sha256: str


@dataclass
class _State:
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


def idempotency_token(*parts: str) -> str:
    """A deterministic IdempotencyToken: sha256 hex of ``parts`` (64 chars; the API allows 128)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


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


def publish(
    request: PublishRequest,
    *,
    sc: BaseClient,
    s3: BaseClient,
    out: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> PublishResult:
    """Publish ``request.template`` as ``request.version`` of the product; create what's missing."""
    template = _read_template(request.template)
    state = _inspect(request, template, sc, sleep)
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


def _read_template(path: Path) -> _Template:
    """Read the template file, which must hold a JSON object."""
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        raise PublishError(f"template {path} not found: generate it first") from None
    except OSError as error:
        raise PublishError(f"cannot read template {path}: {error}") from None
    try:
        parsed = json.loads(body)
    except ValueError as error:
        raise PublishError(f"template {path} is not valid JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise PublishError(f"template {path} is not a JSON object")
    return _Template(body, hashlib.sha256(body).hexdigest())


def _inspect(
    request: PublishRequest,
    template: _Template,
    sc: BaseClient,
    sleep: Callable[[float], None],
) -> _State:
    """Read what exists (read-only calls); raise on conflicts before anything is changed."""
    state = _State(_find_portfolio(sc, request.portfolio), _find_product(sc, request.product))
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
    template: _Template,
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
        status = _wait_for_version(sc, product_id, version_id, sleep)
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


def _upload(request: PublishRequest, template: _Template, changes: _Changes, s3: BaseClient) -> str:
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


def _version_parameters(request: PublishRequest, template: _Template, url: str) -> dict[str, Any]:
    """ProvisioningArtifactProperties for this version."""
    return {
        "Name": request.version,
        "Description": f"mlflow-cfn template sha256 {template.sha256}",
        "Info": {"LoadTemplateFromURL": url},
        "Type": "CLOUD_FORMATION_TEMPLATE",
        "DisableTemplateValidation": False,
    }


def _publish_version(
    request: PublishRequest,
    template: _Template,
    state: _State,
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
            lambda: _create_product(sc, request, template, url, sleep),
            ", ".join,
        )
        state.product_id, state.version_id = ids or (None, None)
        return
    product_id = state.product_id
    state.version_id = changes.make(
        f"create version {request.version} of product '{request.product}'",
        lambda: _create_version(sc, request, template, url, product_id, sleep),
        str,
    )


def _create_product(
    sc: BaseClient,
    request: PublishRequest,
    template: _Template,
    url: str,
    sleep: Callable[[float], None],
) -> tuple[str, str]:
    """Create the product with its first version; returns the product and version ids."""
    response = sc.create_product(
        Name=request.product,
        Owner=request.owner,
        Description=request.description or DEFAULT_DESCRIPTION,
        ProductType="CLOUD_FORMATION_TEMPLATE",
        ProvisioningArtifactParameters=_version_parameters(request, template, url),
        IdempotencyToken=idempotency_token(
            "product", request.product, request.version, template.sha256
        ),
    )
    product_id = response["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
    version_id = response["ProvisioningArtifactDetail"]["Id"]
    status = _wait_for_version(sc, product_id, version_id, sleep)
    if status != "AVAILABLE":
        sc.delete_product(Id=product_id)  # a product cannot exist without its only version
        raise PublishError(
            f"version {request.version} ({version_id}) of new product {product_id} ended {status}; "
            "deleted the product (check the template and the bucket's read access)"
        )
    return product_id, version_id


def _create_version(
    sc: BaseClient,
    request: PublishRequest,
    template: _Template,
    url: str,
    product_id: str,
    sleep: Callable[[float], None],
) -> str:
    """Add this version to the product and wait until it is AVAILABLE; returns its id."""
    response = sc.create_provisioning_artifact(
        ProductId=product_id,
        Parameters=_version_parameters(request, template, url),
        IdempotencyToken=idempotency_token("version", product_id, request.version, template.sha256),
    )
    version_id = response["ProvisioningArtifactDetail"]["Id"]
    status = _wait_for_version(sc, product_id, version_id, sleep)
    if status != "AVAILABLE":
        sc.delete_provisioning_artifact(ProductId=product_id, ProvisioningArtifactId=version_id)
        raise PublishError(
            f"version {request.version} ({version_id}) ended {status}; deleted it "
            "(check the template and the bucket's read access)"
        )
    return version_id


def _wait_for_version(
    sc: BaseClient, product_id: str, version_id: str, sleep: Callable[[float], None]
) -> str | None:
    """Poll until the version is no longer CREATING; returns its final status."""
    for _ in range(POLL_ATTEMPTS):
        status = sc.describe_provisioning_artifact(
            ProductId=product_id, ProvisioningArtifactId=version_id
        ).get("Status")
        if status != "CREATING":
            return status
        sleep(POLL_SECONDS)
    raise PublishError(
        f"version {version_id} still CREATING after {POLL_ATTEMPTS * POLL_SECONDS:.0f}s: "
        "run publish again later to finish"
    )


def _attach(request: PublishRequest, state: _State, changes: _Changes, sc: BaseClient) -> None:
    """Associate, deprecate, constrain and share as requested, skipping what is already so."""
    portfolio, product = state.portfolio_id or "", state.product_id or ""
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
    if request.launch_role_name and not state.has_launch_constraint:
        role = request.launch_role_name
        changes.make(
            f"add launch constraint with local role {role!r}",
            lambda: _create_launch_constraint(sc, portfolio, product, role),
            str,
        )
    for arn in state.missing_principals:
        changes.make(
            f"associate principal {arn} with portfolio '{request.portfolio}'",
            lambda a=arn: sc.associate_principal_with_portfolio(
                PortfolioId=portfolio, PrincipalARN=a, PrincipalType=principal_type(a)
            ),
        )


def _deprecatable(versions: list[dict[str, Any]], keep: str) -> list[dict[str, Any]]:
    """The other versions that are active and not deprecated yet."""
    return [
        v
        for v in versions
        if v.get("Name") != keep and v.get("Active") and v.get("Guidance") != "DEPRECATED"
    ]


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


def _summarize(request: PublishRequest, state: _State, changes: _Changes) -> None:
    """Print the final line: product and version ids (or what a dry run would change)."""
    product, version = state.product_id or "new", state.version_id or "new"
    ids = f"product {product} version {request.version} ({version})"
    if request.dry_run:
        changes.out(f"dry run: {len(changes.lines)} change(s) would be made to {ids}")
    else:
        changes.out(f"published {ids}")


def add_publish_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``publish`` flags to ``parser``."""
    parser.add_argument("--portfolio", required=True, help="portfolio display name")
    parser.add_argument("--product", required=True, help="product name")
    parser.add_argument(
        "--version", default=f"v{__version__}", help="version name (default: %(default)s)"
    )
    parser.add_argument("--bucket", required=True, help="S3 bucket for the template")
    parser.add_argument(
        "--template", type=Path, default=DEFAULT_TEMPLATE, help="default: %(default)s"
    )
    parser.add_argument("--owner", default=DEFAULT_OWNER, help="default: %(default)s")
    parser.add_argument("--description", help="portfolio and product description")
    parser.add_argument("--launch-role-name", help="IAM role name for a LAUNCH constraint")
    parser.add_argument(
        "--principal",
        action="append",
        help="IAM ARN to give access (repeatable; no account id = IAM_PATTERN)",
    )
    parser.add_argument(
        "--deprecate-previous", action="store_true", help="deprecate the other active versions"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the changes, make none")
    parser.add_argument("--region", help="AWS region (default: the AWS configuration's)")


def add_publish_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``publish`` sub-command (``func=run_publish``) to ``subparsers``."""
    parser = subparsers.add_parser(
        "publish",
        help="publish the template as a Service Catalog product version",
        description=__doc__.splitlines()[0],
    )
    add_publish_arguments(parser)
    parser.set_defaults(func=run_publish)
    return parser


def request_from_args(args: argparse.Namespace) -> PublishRequest:
    """The PublishRequest for parsed ``publish`` arguments."""
    return PublishRequest(
        portfolio=args.portfolio,
        product=args.product,
        version=args.version,
        bucket=args.bucket,
        template=Path(args.template),
        owner=args.owner,
        description=args.description,
        launch_role_name=args.launch_role_name,
        principals=tuple(args.principal or ()),
        deprecate_previous=args.deprecate_previous,
        dry_run=args.dry_run,
    )


def make_clients(region: str | None) -> tuple[BaseClient, BaseClient]:
    """Service Catalog and S3 clients for ``region`` that retry throttling (10 retries)."""
    session = boto3.session.Session(region_name=region)
    config = Config(retries=RETRIES)
    return session.client("servicecatalog", config=config), session.client("s3", config=config)


def describe_client_error(error: ClientError) -> str:
    """A one-line cause for an AWS error that remained after retries, naming the API call."""
    details = error.response.get("Error", {})
    code, message = details.get("Code", "Unknown"), details.get("Message", "")
    if "AccessDenied" in code or code == "403":
        return f"access denied calling {error.operation_name} ({code}): {message}"
    if code == "NoSuchBucket":
        return f"bucket does not exist ({error.operation_name}): {message}"
    return f"{error.operation_name} failed ({code}): {message}"


def run_publish(args: argparse.Namespace) -> int:
    """Publish from parsed arguments; on failure print a one-line cause and return 1."""
    try:
        request = request_from_args(args)
        _read_template(request.template)  # report a bad template before any AWS configuration
        sc, s3 = make_clients(args.region)
        publish(request, sc=sc, s3=s3)
        return 0
    except PublishError as error:
        cause = str(error)
    except NoCredentialsError:
        cause = "no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID)"
    except NoRegionError:
        cause = "no AWS region configured (pass --region or set AWS_REGION)"
    except ClientError as error:
        cause = describe_client_error(error)
    except BotoCoreError as error:
        cause = str(error)
    print(f"mlflow-cfn publish: error: {' '.join(cause.split())}", file=sys.stderr)
    return 1
