"""``mlflow-cfn publish --network``: the network template as a second product of the same portfolio,
with its launch role and template constraint (Service Catalog calls checked by botocore's Stubber,
S3 by moto), as the MLflow product is published in tests/publish."""

from __future__ import annotations

import argparse
import json
from typing import Any

from botocore.stub import ANY

from mlflow_cfn.catalog.allow_lists import AllowLists
from mlflow_cfn.catalog.publish import (
    NETWORK_DESCRIPTION,
    NETWORK_TEMPLATE,
    PublishRequest,
    publish,
)
from mlflow_cfn.catalog.publish_request import read_template
from mlflow_cfn.commands.publish import _request
from mlflow_cfn.commands.publish import register as add_publish_parser
from tests.conftest import TEMPLATES
from tests.publish.test_publish import BUCKET, PORT_ID, PORTFOLIO, Catalog, Iam, url_of

PRODUCT = "MLflow network"
NET_ID = "prod-net123"
PA_NET = "pa-net010"
ROLE = "NetworkLaunchRole-ABC"
BOUNDARY = "arn:aws:iam::123456789012:policy/mlflow-boundary"
PREFIX = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/"


def network_request(**overrides: Any) -> PublishRequest:
    values: dict[str, Any] = {
        "portfolio": PORTFOLIO, "product": PRODUCT, "version": "v0.1.0", "bucket": BUCKET,
        "template": TEMPLATES / "network.json", "description": NETWORK_DESCRIPTION,
        "launch_role_name": ROLE, "permissions_boundary_arn": BOUNDARY,
        "allow": AllowLists(image_cache_secret_prefixes=(PREFIX,)),
    }  # fmt: skip
    return PublishRequest(**(values | overrides))


def expected_rules() -> dict[str, Any]:
    return {
        "ImageCacheCredentialsSecretArnIsAllowed": {
            "RuleCondition": {"Fn::Equals": [PREFIX, ""]},
            "Assertions": [ANY],
        },
        "PermissionsBoundaryArnIsThePortfolios": {
            "Assertions": [
                {
                    "Assert": {"Fn::Equals": [{"Ref": "PermissionsBoundaryArn"}, BOUNDARY]},
                    "AssertDescription": ANY,
                }
            ]
        },
    }


def test_the_network_is_published_beside_the_product_in_the_same_portfolio(
    sc: Catalog, s3: Any, iam: Iam
) -> None:
    sha = read_template(TEMPLATES / "network.json").sha256
    sc.portfolios((PORT_ID, PORTFOLIO))
    sc.expect(
        "search_products_as_admin",
        {"Filters": {"FullTextSearch": [PRODUCT]}},
        {"ProductViewDetails": [{"ProductViewSummary": {"ProductId": "prod-mlflow",
                                                        "Name": "MLflow"}}]},
    )  # fmt: skip
    sc.expect(
        "create_product",
        {
            "Name": PRODUCT, "Owner": "Platform team", "Description": NETWORK_DESCRIPTION,
            "ProductType": "CLOUD_FORMATION_TEMPLATE",
            "ProvisioningArtifactParameters": {
                "Name": "v0.1.0", "Description": f"mlflow-cfn template sha256 {sha}",
                "Info": {"LoadTemplateFromURL": url_of(sha)},
                "Type": "CLOUD_FORMATION_TEMPLATE", "DisableTemplateValidation": False,
            },
            "IdempotencyToken": ANY,
        },
        {
            "ProductViewDetail": {"ProductViewSummary": {"ProductId": NET_ID, "Name": PRODUCT}},
            "ProvisioningArtifactDetail": {"Id": PA_NET, "Name": "v0.1.0"},
        },
    )  # fmt: skip
    sc.expect(
        "describe_provisioning_artifact",
        {"ProductId": NET_ID, "ProvisioningArtifactId": PA_NET},
        {"Status": "AVAILABLE"},
    )
    sc.expect("associate_product_with_portfolio", {"ProductId": NET_ID, "PortfolioId": PORT_ID})
    sc.expect(
        "create_constraint",
        {"PortfolioId": PORT_ID, "ProductId": NET_ID, "Type": "LAUNCH",
         "Parameters": json.dumps({"LocalRoleName": ROLE}), "Description": ANY,
         "IdempotencyToken": ANY},
        {"ConstraintDetail": {"ConstraintId": "cons-launch", "Type": "LAUNCH"}},
    )  # fmt: skip
    sc.expect(
        "create_constraint",
        {"PortfolioId": PORT_ID, "ProductId": NET_ID, "Type": "TEMPLATE", "Parameters": ANY,
         "Description": ANY, "IdempotencyToken": ANY},
        {"ConstraintDetail": {"ConstraintId": "cons-template", "Type": "TEMPLATE"}},
    )  # fmt: skip
    # the portfolio template's NetworkLaunchRole, checked as any launch role: on a role of each
    # logical id the network template creates, and on the generic one
    iam.launch_role(ROLE, role_ids=("DefaultSecurityGroupRestrictionRole", "FlowLogRole", "Role"))
    calls = []
    sc.client.meta.events.register(
        "provide-client-params.servicecatalog.CreateConstraint",
        lambda params, **_: calls.append(params),
    )
    lines: list[str] = []

    result = publish(
        network_request(), sc=sc.client, s3=s3, iam=iam.client, out=lines.append,
        sleep=lambda _: None,
    )  # fmt: skip

    assert (result.portfolio_id, result.product_id, result.version_id) == (PORT_ID, NET_ID, PA_NET)
    assert f"created product '{PRODUCT}' with version v0.1.0 ({NET_ID}, {PA_NET})" in lines
    assert f"added launch constraint with local role '{ROLE}' (cons-launch)" in lines
    assert json.loads(calls[-1]["Parameters"])["Rules"] == expected_rules()


def test_publish_network_flag_picks_the_network_template_and_description() -> None:
    parser = argparse.ArgumentParser()
    add_publish_parser(parser.add_subparsers(dest="command"))
    base = ["publish", "--portfolio", PORTFOLIO, "--product", PRODUCT, "--bucket", BUCKET]
    base += ["--version", "v1"]
    network = _request(parser.parse_args([*base, "--network"]))
    assert network.template == NETWORK_TEMPLATE  # built as `synth --network` builds it
    assert network.description == NETWORK_DESCRIPTION
    assert read_template(network.template).body == (TEMPLATES / "network.json").read_bytes()
    product = _request(parser.parse_args(base))
    assert (product.template, product.description) == (None, None)
    assert read_template(product.template).body == (TEMPLATES / "mlflow.json").read_bytes()
    chosen = _request(parser.parse_args([*base, "--network", "--template", "other.json"]))
    assert chosen.template == "other.json"
