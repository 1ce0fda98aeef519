"""``mlflow-cfn publish``: Service Catalog calls checked by botocore's Stubber, S3 by moto."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from mlflow_cfn.catalog import product_versions
from mlflow_cfn.catalog.launch_role_check import PROBES
from mlflow_cfn.catalog.publish import (
    DEFAULT_DESCRIPTION,
    PublishError,
    PublishRequest,
    idempotency_token,
    make_clients,
    principal_type,
    publish,
)
from mlflow_cfn.commands import publish as publish_command
from mlflow_cfn.commands.publish import register as add_publish_parser
from mlflow_cfn.commands.publish import run as run_publish
from service_catalog import publish as publish_module

PORTFOLIO = "Data Science"
PRODUCT = "MLflow"
BUCKET = "mlflow-cfn-templates"
ROLE = "SCLaunchMlflow"
ACCOUNT = "123456789012"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/MlflowBoundary"
#: The trust policy of a launch role (the portfolio template's LaunchRole has this one).
SERVICE_CATALOG_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "servicecatalog.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
#: The role the check simulates changes to (named as a Service Catalog stack's roles are) and
#: the other boundary it names.
CHECKED_ROLE = f"arn:aws:iam::{ACCOUNT}:role/SC-{ACCOUNT}-pp-publishcheck-Role-CHECK"
OTHER_BOUNDARY = "arn:aws:iam::aws:policy/AdministratorAccess"
USER_ROLE = "arn:aws:iam::123456789012:role/DataScientist"
PATTERN = "arn:aws:iam:::role/ml-*"
PORT_ID = "port-abc123"
PROD_ID = "prod-abc123"
PA_OLD = "pa-v010"
PA_NEW = "pa-v020"
TEMPLATE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
}
OTHER_TEMPLATE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
}


def sha_of(document: dict[str, Any]) -> str:
    """The sha256 of a template as the tests write it."""
    return hashlib.sha256(json.dumps(document).encode()).hexdigest()


def url_of(sha: str) -> str:
    """The template URL publish uses for a sha256 (the moto bucket is in us-east-1)."""
    return f"https://{BUCKET}.s3.us-east-1.amazonaws.com/mlflow-cfn/templates/{sha}.json"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials and no shared config, so nothing can reach real AWS."""
    for name in ("AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


@pytest.fixture
def s3() -> Iterator[Any]:
    """A moto S3 client with the template bucket."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def sc() -> Iterator[Catalog]:
    """A stubbed Service Catalog; every queued response must have been used."""
    client = boto3.client("servicecatalog", region_name="us-east-1")
    with Stubber(client) as stubber:
        catalog = Catalog(client, stubber)
        yield catalog
    stubber.assert_no_pending_responses()


class Catalog:
    """Queues Service Catalog responses; the Stubber checks each call's name and parameters."""

    def __init__(self, client: Any, stubber: Stubber) -> None:
        self.client = client
        self.stubber = stubber

    def expect(self, operation: str, params: dict[str, Any], response: dict | None = None) -> None:
        """Expect one call of ``operation`` with ``params``, answering ``response``."""
        self.stubber.add_response(operation, response or {}, params)

    def fail(self, operation: str, code: str, message: str) -> None:
        """Expect one call of ``operation`` that fails with ``code``."""
        self.stubber.add_client_error(operation, code, message, http_status_code=400)

    def portfolios(self, *found: tuple[str, str]) -> None:
        """ListPortfolios over two pages: an unrelated portfolio, then ``found``."""
        self.expect(
            "list_portfolios",
            {},
            {
                "PortfolioDetails": [{"Id": "port-other", "DisplayName": "Data"}],
                "NextPageToken": "p2",
            },
        )
        details = [{"Id": pid, "DisplayName": name} for pid, name in found]
        self.expect("list_portfolios", {"PageToken": "p2"}, {"PortfolioDetails": details})

    def products(self, *found: tuple[str, str]) -> None:
        """SearchProductsAsAdmin: a near-miss name, then ``found``."""
        names = [("prod-near", f"{PRODUCT} Extra"), *found]
        details = [{"ProductViewSummary": {"ProductId": pid, "Name": name}} for pid, name in names]
        self.expect(
            "search_products_as_admin",
            {"Filters": {"FullTextSearch": [PRODUCT]}},
            {"ProductViewDetails": details},
        )

    def versions(self, *versions: dict[str, Any]) -> None:
        """ListProvisioningArtifacts for the product."""
        self.expect(
            "list_provisioning_artifacts",
            {"ProductId": PROD_ID},
            {"ProvisioningArtifactDetails": list(versions)},
        )

    def describe_version(self, version_id: str, status: str, url: str | None = None) -> None:
        """DescribeProvisioningArtifact answering ``status`` (and the template URL)."""
        response: dict[str, Any] = {"Status": status}
        if url:
            response["Info"] = {"TemplateUrl": url}
        self.expect(
            "describe_provisioning_artifact",
            {"ProductId": PROD_ID, "ProvisioningArtifactId": version_id},
            response,
        )

    def new_version(self, sha: str, status: str, token: Any = ANY) -> None:
        """CreateProvisioningArtifact for v0.2.0 of the template ``sha``, answering ``status``."""
        self.expect(
            "create_provisioning_artifact",
            {
                "ProductId": PROD_ID,
                "Parameters": version_parameters("v0.2.0", sha),
                "IdempotencyToken": token,
            },
            {"ProvisioningArtifactDetail": {"Id": PA_NEW, "Name": "v0.2.0"}, "Status": status},
        )

    def associated_portfolios(self, *ids: str) -> None:
        """ListPortfoliosForProduct."""
        details = [{"Id": pid, "DisplayName": PORTFOLIO} for pid in ids]
        self.expect(
            "list_portfolios_for_product", {"ProductId": PROD_ID}, {"PortfolioDetails": details}
        )

    def constraints(self, *launch: tuple[str, dict[str, str]]) -> None:
        """ListConstraintsForPortfolio (one NOTIFICATION plus ``launch``) and DescribeConstraint."""
        details = [{"ConstraintId": "cons-notify", "Type": "NOTIFICATION"}]
        details += [{"ConstraintId": cid, "Type": "LAUNCH"} for cid, _ in launch]
        self.expect(
            "list_constraints_for_portfolio",
            {"PortfolioId": PORT_ID, "ProductId": PROD_ID},
            {"ConstraintDetails": details},
        )
        for cid, parameters in launch:
            self.expect(
                "describe_constraint",
                {"Id": cid},
                {"ConstraintParameters": json.dumps(parameters), "Status": "AVAILABLE"},
            )

    def principals(self, *arns: str) -> None:
        """ListPrincipalsForPortfolio."""
        found = [{"PrincipalARN": arn, "PrincipalType": principal_type(arn)} for arn in arns]
        self.expect(
            "list_principals_for_portfolio", {"PortfolioId": PORT_ID}, {"Principals": found}
        )


@pytest.fixture
def iam() -> Iterator[Iam]:
    """A stubbed IAM; every queued response must have been used."""
    client = boto3.client("iam", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield Iam(client, stubber)
    stubber.assert_no_pending_responses()


#: Decides one simulated request (action, resource, context) as IAM's simulator would:
#: allowed, explicitDeny or implicitDeny (botocore's iam model, PolicyEvaluationDecisionType);
#: None leaves the action out of the answer.
Decide = Callable[[str, str, dict[str, str]], str | None]


class Iam:
    """Queues the IAM answers of the launch role check (GetRole, SimulatePrincipalPolicy)."""

    def __init__(self, client: Any, stubber: Stubber) -> None:
        self.client = client
        self.stubber = stubber

    def launch_role(
        self,
        name: str = ROLE,
        trust: dict[str, Any] = SERVICE_CATALOG_TRUST,
        decide: Decide = lambda action, resource, context: "implicitDeny",
        role_ids: tuple[str, ...] = ("Role",),
    ) -> None:
        """GetRole answering ``trust`` (URL-encoded, as IAM sends it), then the simulations of
        the role changes without a boundary and with another one on a role of each logical id in
        ``role_ids`` (named as a Service Catalog stack names it), decided by ``decide``."""
        checked = [CHECKED_ROLE.replace("-Role-", f"-{logical_id}-") for logical_id in role_ids]
        arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
        role = {"Path": "/", "RoleName": name, "RoleId": "AROA" + "X" * 17, "Arn": arn}
        role |= {"CreateDate": datetime(2026, 1, 1, tzinfo=UTC)}
        self.stubber.add_response(
            "get_role",
            {"Role": role | {"AssumeRolePolicyDocument": quote(json.dumps(trust))}},
            {"RoleName": name},
        )
        for other_boundary in (False, True):
            actions = [p.action for p in PROBES if p.other_boundary == other_boundary]
            context = {"iam:PermissionsBoundary": OTHER_BOUNDARY} if other_boundary else {}
            entries = [
                {"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"}
                for k, v in context.items()
            ]
            results = []
            for action in actions:
                decided = {role: decide(action, role, context) for role in checked}
                if None in decided.values():
                    continue
                overall = "allowed" if "allowed" in decided.values() else decided[checked[0]]
                results.append(
                    {
                        "EvalActionName": action,
                        "EvalDecision": overall,
                        "ResourceSpecificResults": [
                            {"EvalResourceName": role, "EvalResourceDecision": decision}
                            for role, decision in decided.items()
                        ],
                    }
                )
            self.stubber.add_response(
                "simulate_principal_policy",
                {"EvaluationResults": results, "IsTruncated": False},
                {
                    "PolicySourceArn": arn,
                    "ActionNames": actions,
                    "ResourceArns": checked,
                    "ContextEntries": entries,
                },
            )

    def missing_role(self, name: str) -> None:
        """GetRole failing as IAM does for a role that does not exist."""
        self.stubber.add_client_error(
            "get_role", "NoSuchEntity", f"The role with name {name} cannot be found.", 404
        )


def version(version_id: str, name: str, active: bool = True, guidance: str = "DEFAULT") -> dict:
    """A ProvisioningArtifactDetail."""
    return {"Id": version_id, "Name": name, "Active": active, "Guidance": guidance}


def version_parameters(name: str, sha: str) -> dict[str, Any]:
    """The ProvisioningArtifactProperties publish sends."""
    return {
        "Name": name,
        "Description": f"mlflow-cfn template sha256 {sha}",
        "Info": {"LoadTemplateFromURL": url_of(sha)},
        "Type": "CLOUD_FORMATION_TEMPLATE",
        "DisableTemplateValidation": False,
    }


def write_template(tmp_path: Path, document: dict[str, Any] = TEMPLATE) -> Path:
    """Write a template file and return its path."""
    path = tmp_path / "mlflow.json"
    path.write_text(json.dumps(document))
    return path


def request(template: Path, **overrides: Any) -> PublishRequest:
    """A PublishRequest for the test portfolio, product and bucket."""
    values: dict[str, Any] = {
        "portfolio": PORTFOLIO,
        "product": PRODUCT,
        "version": "v0.1.0",
        "bucket": BUCKET,
        "template": template,
    }
    return PublishRequest(**(values | overrides))


def uploaded_keys(s3: Any, bucket: str = BUCKET) -> list[str]:
    """Keys in the moto bucket."""
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def expect_first_publish(sc: Catalog, sha: str) -> None:
    """Queue the calls of a first publish with a launch role and two principals."""
    sc.portfolios()
    sc.products()
    sc.expect(
        "create_portfolio",
        {
            "DisplayName": PORTFOLIO,
            "ProviderName": "Platform team",
            "Description": DEFAULT_DESCRIPTION,
            "IdempotencyToken": ANY,
        },
        {"PortfolioDetail": {"Id": PORT_ID, "DisplayName": PORTFOLIO}},
    )
    sc.expect(
        "create_product",
        {
            "Name": PRODUCT,
            "Owner": "Platform team",
            "Description": DEFAULT_DESCRIPTION,
            "ProductType": "CLOUD_FORMATION_TEMPLATE",
            "ProvisioningArtifactParameters": version_parameters("v0.1.0", sha),
            "IdempotencyToken": ANY,
        },
        {
            "ProductViewDetail": {"ProductViewSummary": {"ProductId": PROD_ID, "Name": PRODUCT}},
            "ProvisioningArtifactDetail": {"Id": PA_OLD, "Name": "v0.1.0"},
        },
    )
    sc.describe_version(PA_OLD, "CREATING")
    sc.describe_version(PA_OLD, "AVAILABLE")
    sc.expect("associate_product_with_portfolio", {"ProductId": PROD_ID, "PortfolioId": PORT_ID})
    sc.expect(
        "create_constraint",
        {
            "PortfolioId": PORT_ID,
            "ProductId": PROD_ID,
            "Type": "LAUNCH",
            "Parameters": json.dumps({"LocalRoleName": ROLE}),
            "Description": ANY,
            "IdempotencyToken": ANY,
        },
        {"ConstraintDetail": {"ConstraintId": "cons-launch", "Type": "LAUNCH"}},
    )
    for arn, kind in ((USER_ROLE, "IAM"), (PATTERN, "IAM_PATTERN")):
        sc.expect(
            "associate_principal_with_portfolio",
            {"PortfolioId": PORT_ID, "PrincipalARN": arn, "PrincipalType": kind},
        )


def first_publish_request(template: Path) -> PublishRequest:
    """The request of a first publish with a launch role and two principals."""
    return request(
        template,
        launch_role_name=ROLE,
        permissions_boundary_arn=BOUNDARY,
        principals=(USER_ROLE, PATTERN),
    )


def test_first_publish_creates_everything(sc: Catalog, s3: Any, iam: Iam, tmp_path: Path) -> None:
    template = write_template(tmp_path)
    sha = sha_of(TEMPLATE)
    expect_first_publish(sc, sha)
    iam.launch_role()
    lines: list[str] = []
    sleeps: list[float] = []

    result = publish(
        first_publish_request(template),
        sc=sc.client,
        s3=s3,
        iam=iam.client,
        out=lines.append,
        sleep=sleeps.append,
    )

    key = f"mlflow-cfn/templates/{sha}.json"
    assert lines == [
        f"uploaded s3://{BUCKET}/{key}",
        f"created portfolio '{PORTFOLIO}' ({PORT_ID})",
        f"created product '{PRODUCT}' with version v0.1.0 ({PROD_ID}, {PA_OLD})",
        f"associated product '{PRODUCT}' with portfolio '{PORTFOLIO}'",
        f"added launch constraint with local role '{ROLE}' (cons-launch)",
        f"associated principal {USER_ROLE} with portfolio '{PORTFOLIO}'",
        f"associated principal {PATTERN} with portfolio '{PORTFOLIO}'",
        f"published product {PROD_ID} version v0.1.0 ({PA_OLD})",
    ]
    assert sleeps == [5.0]
    assert (result.portfolio_id, result.product_id, result.version_id) == (PORT_ID, PROD_ID, PA_OLD)
    assert result.template_sha256 == sha
    assert len(result.changes) == 7
    stored = s3.get_object(Bucket=BUCKET, Key=key)
    assert stored["Body"].read() == template.read_bytes()
    assert stored["ServerSideEncryption"] == "AES256"
    assert stored["Metadata"] == {"sha256": sha}


def test_republish_same_version_and_template_is_a_no_op(
    sc: Catalog, s3: Any, iam: Iam, tmp_path: Path
) -> None:
    sha = sha_of(TEMPLATE)
    iam.launch_role()  # checked again: a role can change between runs
    sc.portfolios((PORT_ID, PORTFOLIO))
    sc.products((PROD_ID, PRODUCT))
    sc.versions(version(PA_OLD, "v0.1.0"))
    sc.describe_version(PA_OLD, "AVAILABLE", url_of(sha))
    sc.associated_portfolios("port-elsewhere", PORT_ID)
    sc.constraints(("cons-launch", {"LocalRoleName": ROLE}))
    sc.principals(PATTERN, USER_ROLE)
    lines: list[str] = []

    result = publish(
        first_publish_request(write_template(tmp_path)),
        sc=sc.client,
        s3=s3,
        iam=iam.client,
        out=lines.append,
    )

    assert lines == [
        "version v0.1.0 already published with the same template: nothing to do",
        f"published product {PROD_ID} version v0.1.0 ({PA_OLD})",
    ]
    assert result.changes == ()
    assert (result.portfolio_id, result.version_id) == (PORT_ID, PA_OLD)
    assert uploaded_keys(s3) == []


def test_new_version_deprecates_only_other_active_versions(
    sc: Catalog, s3: Any, tmp_path: Path
) -> None:
    sha = sha_of(OTHER_TEMPLATE)
    sc.portfolios((PORT_ID, PORTFOLIO))
    sc.products((PROD_ID, PRODUCT))
    sc.versions(
        version("pa-v001", "v0.0.1", active=False),
        version("pa-v009", "v0.0.9", guidance="DEPRECATED"),
        version(PA_OLD, "v0.1.0"),
    )
    sc.associated_portfolios(PORT_ID)
    sc.new_version(sha, "CREATING", idempotency_token("version", PROD_ID, "v0.2.0", sha))
    sc.describe_version(PA_NEW, "AVAILABLE")
    sc.expect(
        "update_provisioning_artifact",
        {"ProductId": PROD_ID, "ProvisioningArtifactId": PA_OLD, "Guidance": "DEPRECATED"},
    )
    lines: list[str] = []

    result = publish(
        request(
            write_template(tmp_path, OTHER_TEMPLATE), version="v0.2.0", deprecate_previous=True
        ),
        sc=sc.client,
        s3=s3,
        out=lines.append,
    )

    assert lines == [
        f"uploaded s3://{BUCKET}/mlflow-cfn/templates/{sha}.json",
        f"created version v0.2.0 of product '{PRODUCT}' ({PA_NEW})",
        f"deprecated version v0.1.0 ({PA_OLD})",
        f"published product {PROD_ID} version v0.2.0 ({PA_NEW})",
    ]
    assert result.version_id == PA_NEW


def test_new_version_deactivates_every_other_active_version(
    sc: Catalog, s3: Any, tmp_path: Path
) -> None:
    """A security release: the deprecated version is deactivated too (guidance does not stop
    updates from it), the inactive one is left alone, the new one stays active."""
    sha = sha_of(OTHER_TEMPLATE)
    sc.portfolios((PORT_ID, PORTFOLIO))
    sc.products((PROD_ID, PRODUCT))
    sc.versions(
        version("pa-v001", "v0.0.1", active=False),
        version("pa-v009", "v0.0.9", guidance="DEPRECATED"),
        version(PA_OLD, "v0.1.0"),
    )
    sc.associated_portfolios(PORT_ID)
    sc.new_version(sha, "AVAILABLE")
    sc.describe_version(PA_NEW, "AVAILABLE")
    for version_id in ("pa-v009", PA_OLD):
        sc.expect(
            "update_provisioning_artifact",
            {"ProductId": PROD_ID, "ProvisioningArtifactId": version_id, "Active": False},
        )
    lines: list[str] = []

    publish(
        request(
            write_template(tmp_path, OTHER_TEMPLATE), version="v0.2.0", deactivate_previous=True
        ),
        sc=sc.client,
        s3=s3,
        out=lines.append,
    )

    assert lines == [
        f"uploaded s3://{BUCKET}/mlflow-cfn/templates/{sha}.json",
        f"created version v0.2.0 of product '{PRODUCT}' ({PA_NEW})",
        "deactivated version v0.0.9 (pa-v009)",
        f"deactivated version v0.1.0 ({PA_OLD})",
        f"published product {PROD_ID} version v0.2.0 ({PA_NEW})",
    ]


def expect_republish_of_v020(sc: Catalog) -> None:
    """v0.1.0 and v0.2.0 exist, v0.2.0 with the test template, in the portfolio already."""
    sc.portfolios((PORT_ID, PORTFOLIO))
    sc.products((PROD_ID, PRODUCT))
    sc.versions(version(PA_OLD, "v0.1.0"), version(PA_NEW, "v0.2.0"))
    sc.describe_version(PA_NEW, "AVAILABLE", url_of(sha_of(TEMPLATE)))
    sc.associated_portfolios(PORT_ID)


@pytest.mark.parametrize("dry_run", [False, True])
def test_republishing_deactivates_the_others_but_never_the_version_itself(
    sc: Catalog, s3: Any, tmp_path: Path, dry_run: bool
) -> None:
    expect_republish_of_v020(sc)
    if not dry_run:  # a dry run calls nothing that changes: the Stubber refuses unqueued calls
        sc.expect(
            "update_provisioning_artifact",
            {"ProductId": PROD_ID, "ProvisioningArtifactId": PA_OLD, "Active": False},
        )
    lines: list[str] = []

    publish(
        request(
            write_template(tmp_path), version="v0.2.0", deactivate_previous=True, dry_run=dry_run
        ),
        sc=sc.client,
        s3=s3,
        out=lines.append,
    )

    verb = "would deactivate" if dry_run else "deactivated"
    assert lines[1] == f"{verb} version v0.1.0 ({PA_OLD})"
    assert len(lines) == 3


def test_deprecating_and_deactivating_at_once_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = ["--portfolio", PORTFOLIO, "--product", PRODUCT, "--bucket", BUCKET, "--version", "v2"]
    flags += ["--template", str(write_template(tmp_path))]
    code = publish_module.main([*flags, "--deprecate-previous", "--deactivate-previous"])
    assert code == 2  # bad input, refused before any AWS call
    assert "--deprecate-previous and --deactivate-previous: pick one" in capsys.readouterr().err
    with pytest.raises(PublishError) as raised:
        request(write_template(tmp_path), deprecate_previous=True, deactivate_previous=True)
    assert str(raised.value) == (
        "--deprecate-previous and --deactivate-previous: pick one (guidance such as DEPRECATED "
        "affects only active versions; --deactivate-previous already stops launches and updates "
        "from the other versions)"
    )


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, sc: Catalog, s3: Any, iam: Iam) -> argparse.ArgumentParser:
    """A parser with the ``publish`` sub-command whose clients are the stubs and moto."""
    monkeypatch.setattr(
        publish_command, "make_clients", lambda region, session=None: (sc.client, s3, iam.client)
    )
    parser = argparse.ArgumentParser(prog="mlflow-cfn")
    add_publish_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def run_cli(parser: argparse.ArgumentParser, template: Path, *flags: str) -> int:
    """Run ``mlflow-cfn publish`` for the test names with extra ``flags``."""
    names = ["--portfolio", PORTFOLIO, "--product", PRODUCT, "--bucket", BUCKET]
    if "--version" not in flags:
        flags = ("--version", "v0.1.0", *flags)
    names += ["--region", "eu-west-1"]
    args = parser.parse_args(["publish", *names, "--template", str(template), *flags])
    return args.func(args)


def test_conflicting_version_is_refused_before_any_change(
    cli: argparse.ArgumentParser,
    sc: Catalog,
    s3: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    published = sha_of(OTHER_TEMPLATE)
    sc.portfolios()  # even a missing portfolio is not created
    sc.products((PROD_ID, PRODUCT))
    sc.versions(version(PA_OLD, "v0.1.0"))
    sc.describe_version(PA_OLD, "AVAILABLE", url_of(published))

    code = run_cli(cli, write_template(tmp_path), "--version", "v0.1.0", "--principal", USER_ROLE)

    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err == (
        "mlflow-cfn publish: version v0.1.0 already exists with a different template "
        f"(published sha256 {published}, local sha256 {sha_of(TEMPLATE)}): versions are "
        "immutable, publish a new --version\n"
    )
    assert uploaded_keys(s3) == []


def test_version_with_a_foreign_template_url_is_refused(
    sc: Catalog, s3: Any, tmp_path: Path
) -> None:
    sc.portfolios((PORT_ID, PORTFOLIO))
    sc.products((PROD_ID, PRODUCT))
    sc.versions(version(PA_OLD, "v0.1.0"))
    sc.describe_version(PA_OLD, "AVAILABLE", "https://example.s3.amazonaws.com/mlflow.json")

    with pytest.raises(PublishError, match=r"published sha256 unknown \(template URL 'https://ex"):
        publish(request(write_template(tmp_path)), sc=sc.client, s3=s3, out=print)


def test_dry_run_reads_only_and_prints_each_change(
    cli: argparse.ArgumentParser,
    sc: Catalog,
    s3: Any,
    iam: Iam,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sha = sha_of(TEMPLATE)
    sc.portfolios((PORT_ID, PORTFOLIO))
    sc.products((PROD_ID, PRODUCT))
    sc.versions(version(PA_OLD, "v0.1.0"))
    sc.associated_portfolios()
    sc.constraints()
    sc.principals(USER_ROLE)
    iam.launch_role()  # the check only reads: a dry run makes it too
    flags = ["--version", "v0.2.0", "--deprecate-previous", "--launch-role-name", ROLE]
    flags += ["--permissions-boundary-arn", BOUNDARY]
    flags += ["--principal", USER_ROLE, "--principal", PATTERN, "--dry-run"]

    code = run_cli(cli, write_template(tmp_path), *flags)

    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        f"would upload s3://{BUCKET}/mlflow-cfn/templates/{sha}.json",
        f"would create version v0.2.0 of product '{PRODUCT}'",
        f"would associate product '{PRODUCT}' with portfolio '{PORTFOLIO}'",
        f"would deprecate version v0.1.0 ({PA_OLD})",
        f"would add launch constraint with local role '{ROLE}'",
        f"would associate principal {PATTERN} with portfolio '{PORTFOLIO}'",
        f"dry run: 6 change(s) would be made to product {PROD_ID} version v0.2.0 (new)",
    ]
    assert uploaded_keys(s3) == []


def test_dry_run_from_nothing(sc: Catalog, s3: Any, iam: Iam, tmp_path: Path) -> None:
    sc.portfolios()
    sc.products()
    iam.launch_role()
    lines: list[str] = []

    dry_run = replace(first_publish_request(write_template(tmp_path)), dry_run=True)

    result = publish(dry_run, sc=sc.client, s3=s3, iam=iam.client, out=lines.append)

    assert lines == [
        f"would upload s3://{BUCKET}/mlflow-cfn/templates/{sha_of(TEMPLATE)}.json",
        f"would create portfolio '{PORTFOLIO}'",
        f"would create product '{PRODUCT}' with version v0.1.0",
        f"would associate product '{PRODUCT}' with portfolio '{PORTFOLIO}'",
        f"would add launch constraint with local role '{ROLE}'",
        f"would associate principal {USER_ROLE} with portfolio '{PORTFOLIO}'",
        f"would associate principal {PATTERN} with portfolio '{PORTFOLIO}'",
        "dry run: 7 change(s) would be made to product new version v0.1.0 (new)",
    ]
    assert (result.portfolio_id, result.product_id, result.version_id) == (None, None, None)
    assert uploaded_keys(s3) == []


def test_failed_version_is_deleted_and_reported(
    cli: argparse.ArgumentParser,
    sc: Catalog,
    s3: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sha = sha_of(TEMPLATE)
    sc.portfolios((PORT_ID, PORTFOLIO))
    sc.products((PROD_ID, PRODUCT))
    sc.versions(version(PA_OLD, "v0.1.0"))
    sc.associated_portfolios(PORT_ID)
    sc.new_version(sha, "CREATING")
    sc.describe_version(PA_NEW, "CREATING")
    sc.describe_version(PA_NEW, "FAILED")
    sc.expect(
        "delete_provisioning_artifact", {"ProductId": PROD_ID, "ProvisioningArtifactId": PA_NEW}
    )
    monkeypatch.setattr(product_versions, "POLL_SECONDS", 0.0)

    code = run_cli(cli, write_template(tmp_path), "--version", "v0.2.0", "--deprecate-previous")

    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == f"uploaded s3://{BUCKET}/mlflow-cfn/templates/{sha}.json\n"
    assert captured.err == (
        f"mlflow-cfn publish: version v0.2.0 ({PA_NEW}) ended FAILED; deleted it "
        "(check the template and the bucket's read access)\n"
    )


def test_failed_first_version_deletes_the_new_product(sc: Catalog, s3: Any, tmp_path: Path) -> None:
    sc.portfolios((PORT_ID, PORTFOLIO))
    sc.products()
    sc.expect(
        "create_product",
        {
            "Name": PRODUCT,
            "Owner": "ML platform",
            "Description": "Tracking",
            "ProductType": "CLOUD_FORMATION_TEMPLATE",
            "ProvisioningArtifactParameters": version_parameters("v0.1.0", sha_of(TEMPLATE)),
            "IdempotencyToken": ANY,
        },
        {
            "ProductViewDetail": {"ProductViewSummary": {"ProductId": PROD_ID, "Name": PRODUCT}},
            "ProvisioningArtifactDetail": {"Id": PA_OLD, "Name": "v0.1.0"},
        },
    )
    sc.describe_version(PA_OLD, "FAILED")
    sc.expect("delete_product", {"Id": PROD_ID})

    with pytest.raises(
        PublishError, match=f"of new product {PROD_ID} ended FAILED; deleted the product "
    ):
        publish(
            request(write_template(tmp_path), owner="ML platform", description="Tracking"),
            sc=sc.client,
            s3=s3,
            out=lambda line: None,
        )


def test_version_still_creating_times_out(
    sc: Catalog, s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(product_versions, "POLL_ATTEMPTS", 2)
    sc.portfolios((PORT_ID, PORTFOLIO))
    sc.products((PROD_ID, PRODUCT))
    sc.versions(version(PA_OLD, "v0.1.0"))
    sc.describe_version(PA_OLD, "CREATING", url_of(sha_of(TEMPLATE)))
    sc.describe_version(PA_OLD, "CREATING")
    sc.describe_version(PA_OLD, "CREATING")
    sleeps: list[float] = []

    with pytest.raises(PublishError, match=f"version {PA_OLD} still CREATING after 10s"):
        publish(request(write_template(tmp_path)), sc=sc.client, s3=s3, sleep=sleeps.append)
    assert sleeps == [5.0, 5.0]


def test_missing_bucket_is_reported_before_any_change(
    cli: argparse.ArgumentParser,
    sc: Catalog,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sc.portfolios()
    sc.products()

    code = run_cli(cli, write_template(tmp_path), "--bucket", "no-such-bucket")

    assert code == 1
    assert capsys.readouterr().err == (
        "mlflow-cfn publish: bucket 'no-such-bucket' does not exist (HeadBucket)\n"
    )


def test_no_credentials_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    template = write_template(tmp_path)

    flags = ["--portfolio", PORTFOLIO, "--product", PRODUCT, "--bucket", BUCKET]
    flags += ["--template", str(template), "--region", "eu-west-1", "--version", "v1"]

    code = publish_module.main(flags)

    assert code == 1
    assert capsys.readouterr().err == (
        "mlflow-cfn publish: no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID)\n"
    )


def test_access_denied_names_the_call(
    cli: argparse.ArgumentParser,
    sc: Catalog,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sc.fail(
        "list_portfolios",
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
        "servicecatalog:ListPortfolios",
    )

    code = run_cli(cli, write_template(tmp_path))

    assert code == 1
    assert capsys.readouterr().err == (
        "mlflow-cfn publish: access denied calling ListPortfolios (AccessDeniedException): "
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
        "servicecatalog:ListPortfolios\n"
    )


def test_throttling_left_after_retries_names_the_call(
    cli: argparse.ArgumentParser,
    sc: Catalog,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sc.portfolios()
    sc.fail("search_products_as_admin", "ThrottlingException", "Rate exceeded")

    code = run_cli(cli, write_template(tmp_path))

    assert code == 1
    assert capsys.readouterr().err == (
        "mlflow-cfn publish: SearchProductsAsAdmin failed (ThrottlingException): Rate exceeded\n"
    )


def test_clients_retry_throttling_in_the_requested_region() -> None:
    sc, s3, iam = make_clients("eu-west-1")

    assert (sc.meta.region_name, s3.meta.region_name) == ("eu-west-1", "eu-west-1")
    # IAM has one endpoint per partition (botocore's endpoint rules): the region's partition.
    assert (iam.meta.service_model.service_name, iam.meta.partition) == ("iam", "aws")
    assert make_clients("cn-north-1")[2].meta.partition == "aws-cn"
    for client in (sc, s3, iam):
        # botocore reads max_attempts 10 as 10 retries: 11 attempts in all.
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 11}


def recorded_tokens(sc: Catalog) -> dict[str, str]:
    """Record each call's IdempotencyToken by operation name."""
    tokens: dict[str, str] = {}

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if "IdempotencyToken" in params:
            tokens[model.name] = params["IdempotencyToken"]

    sc.client.meta.events.register("provide-client-params.servicecatalog", record)
    return tokens


def test_idempotency_tokens_are_identical_across_runs(s3: Any, tmp_path: Path) -> None:
    template = write_template(tmp_path)
    runs = []
    for _ in range(2):
        client = boto3.client("servicecatalog", region_name="us-east-1")
        iam_client = boto3.client("iam", region_name="us-east-1")
        with Stubber(client) as stubber, Stubber(iam_client) as iam_stubber:
            catalog = Catalog(client, stubber)
            expect_first_publish(catalog, sha_of(TEMPLATE))
            Iam(iam_client, iam_stubber).launch_role()
            tokens = recorded_tokens(catalog)
            publish(
                first_publish_request(template),
                sc=client,
                s3=s3,
                iam=iam_client,
                out=lambda line: None,
                sleep=lambda seconds: None,
            )
            stubber.assert_no_pending_responses()
            iam_stubber.assert_no_pending_responses()
        runs.append(tokens)

    assert runs[0] == runs[1]
    assert set(runs[0]) == {"CreatePortfolio", "CreateProduct", "CreateConstraint"}
    assert len(set(runs[0].values())) == 3
    assert all(re.fullmatch(r"[0-9a-f]{64}", token) for token in runs[0].values())


def test_idempotency_token_depends_on_every_part() -> None:
    token = idempotency_token("version", PROD_ID, "v0.1.0", "a" * 64)

    assert token == idempotency_token("version", PROD_ID, "v0.1.0", "a" * 64)
    assert token != idempotency_token("version", PROD_ID, "v0.1.1", "a" * 64)
    assert token != idempotency_token("version", PROD_ID, "v0.1.0", "b" * 64)
    assert token != idempotency_token("version", f"{PROD_ID}v0.1.0", "", "a" * 64)


def test_different_launch_constraint_is_refused_before_any_change(
    sc: Catalog, s3: Any, iam: Iam, tmp_path: Path
) -> None:
    sc.portfolios((PORT_ID, PORTFOLIO))
    sc.products((PROD_ID, PRODUCT))
    sc.versions(version(PA_OLD, "v0.1.0"))
    sc.associated_portfolios(PORT_ID)
    sc.constraints(("cons-launch", {"LocalRoleName": "SomeoneElsesRole"}))

    with pytest.raises(PublishError) as raised:
        publish(
            request(
                write_template(tmp_path),
                version="v0.2.0",
                launch_role_name=ROLE,
                permissions_boundary_arn=BOUNDARY,
            ),
            sc=sc.client,
            s3=s3,
            iam=iam.client,  # refused before the role check: nothing asked of IAM
        )

    assert str(raised.value) == (
        'product already has a different launch constraint (cons-launch: {"LocalRoleName": '
        '"SomeoneElsesRole"}) in the portfolio: remove it or pass its role instead of '
        f"--launch-role-name {ROLE}"
    )
    assert uploaded_keys(s3) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "--template {path}: no such file"),
        ("{not json", "--template {path}: not valid JSON (Expecting property name"),
        ("[1, 2]", "--template {path}: a template must be an object (a mapping)"),
        ('{"Resources": {}}', "--template {path}: a template needs a Resources section"),
    ],
)
def test_unreadable_template_fails_before_any_call(
    sc: Catalog, s3: Any, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "mlflow.json"
    if content is not None:
        path.write_text(content)

    with pytest.raises(PublishError, match=re.escape(message.format(path=path))):
        publish(request(path), sc=sc.client, s3=s3)


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (USER_ROLE, "IAM"),
        ("arn:aws:iam:::role/team/Analyst", "IAM_PATTERN"),
        ("arn:aws:iam:::role/ml-?", "IAM_PATTERN"),
    ],
)
def test_principal_type(arn: str, expected: str) -> None:
    assert principal_type(arn) == expected


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        ("arn:aws:iam::123456789012:role/ml-*", "wildcard ARNs must omit the account id"),
        ("DataScientist", "is not an IAM ARN"),
    ],
)
def test_bad_principal_is_refused(tmp_path: Path, arn: str, message: str) -> None:
    with pytest.raises(PublishError, match=message):
        request(write_template(tmp_path), principals=(arn,))


def test_version_with_spaces_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="version 'v 1' must be non-empty without spaces"):
        request(write_template(tmp_path), version="v 1")


def test_local_problems_are_reported_before_aws_configuration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    missing = tmp_path / "missing.json"

    code = publish_module.main(
        [
            "--portfolio",
            PORTFOLIO,
            "--product",
            PRODUCT,
            "--bucket",
            BUCKET,
            "--template",
            str(missing),
            "--version",
            "v1",
        ]
    )

    assert code == 2  # bad input, found before any AWS configuration
    assert capsys.readouterr().err == f"mlflow-cfn publish: --template {missing}: no such file\n"


def test_parser_defaults_and_repeated_principals() -> None:
    parser = argparse.ArgumentParser()
    add_publish_parser(parser.add_subparsers(dest="command"))

    flags = ["publish", "--portfolio", "P", "--product", "Q", "--bucket", "B"]
    flags += ["--principal", USER_ROLE, "--principal", PATTERN, "--version", "v2"]

    args = parser.parse_args(flags)

    assert args.func is run_publish
    assert args.version == "v2"
    assert args.template is None  # the product template, built in memory
    assert args.owner == "Platform team"
    assert args.principal == [USER_ROLE, PATTERN]
    assert (args.deprecate_previous, args.dry_run, args.region) == (False, False, None)
    assert args.deactivate_previous is False
    deactivating = parser.parse_args([*flags, "--deactivate-previous"])
    assert publish_command._request(deactivating).deactivate_previous is True


def test_template_already_in_the_bucket_is_not_uploaded_again(
    sc: Catalog, s3: Any, tmp_path: Path
) -> None:
    template = write_template(tmp_path)
    sha = sha_of(TEMPLATE)
    key = f"mlflow-cfn/templates/{sha}.json"
    s3.put_object(Bucket=BUCKET, Key=key, Body=template.read_bytes(), Metadata={"sha256": sha})
    sc.portfolios((PORT_ID, PORTFOLIO))
    sc.products((PROD_ID, PRODUCT))
    sc.versions(version(PA_OLD, "v0.1.0"))
    sc.associated_portfolios(PORT_ID)
    sc.new_version(sha, "AVAILABLE")
    sc.describe_version(PA_NEW, "AVAILABLE")
    lines: list[str] = []

    publish(request(template, version="v0.2.0"), sc=sc.client, s3=s3, out=lines.append)

    assert lines == [
        f"created version v0.2.0 of product '{PRODUCT}' ({PA_NEW})",
        f"published product {PROD_ID} version v0.2.0 ({PA_NEW})",
    ]
