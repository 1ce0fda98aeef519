"""``publish --portfolio-stack NAME`` (issue 25, item 4): the launch role and the permissions
boundary come from the portfolio stack's Outputs, so `publish` names roles that exist.

The Outputs are the portfolio template's own (read from templates/portfolio.json here, so a
renamed output fails this test); DescribeStacks answers as botocore's model shapes it (Stubber).
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from mlflow_cfn.catalog.allow_lists import AllowLists
from mlflow_cfn.catalog.publish import PublishError, PublishRequest, publish
from mlflow_cfn.commands.portfolio_stack import (
    BOUNDARY_OUTPUT,
    PRODUCT_OUTPUTS,
    ROLE_OUTPUTS,
    with_portfolio_stack,
)
from service_catalog import publish as publish_module
from tests.conftest import TEMPLATES
from tests.publish.test_publish import s3 as s3
from tests.publish.test_publish import sc as sc
from tests.publish.test_publish import sha_of

STACK = "mlflow-portfolio"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/mlflow-portfolio-LaunchRole-AbC123"
NETWORK_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/mlflow-portfolio-NetworkLaunchRole-DeF456"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/mlflow-portfolio-PermissionsBoundary-GhI789"


OUTPUTS = {
    "LaunchRoleArn": ROLE_ARN,
    "NetworkLaunchRoleArn": NETWORK_ROLE_ARN,
    "PermissionsBoundaryArn": BOUNDARY,
    "PortfolioId": "port-ml",
    "ProductId": "prod-mlflow",
    "NetworkProductId": "prod-network",
}


def test_the_outputs_read_are_the_portfolio_templates():
    outputs = json.loads((TEMPLATES / "portfolio.json").read_text())["Outputs"]
    assert set(OUTPUTS) <= set(outputs)
    assert {*ROLE_OUTPUTS.values(), *PRODUCT_OUTPUTS.values(), BOUNDARY_OUTPUT} <= set(OUTPUTS)


def stack_answering(outputs: dict[str, str]):
    client = boto3.client("cloudformation", region_name="eu-west-1")
    stubber = Stubber(client)
    stack = {
        "StackName": STACK,
        "StackId": f"arn:aws:cloudformation:eu-west-1:{ACCOUNT}:stack/{STACK}/1",
        "CreationTime": "2026-12-01T00:00:00Z",
        "StackStatus": "CREATE_COMPLETE",
        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
    }
    stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": STACK})
    stubber.activate()
    return client, stubber


def request() -> PublishRequest:
    return PublishRequest(portfolio="ML", product="MLflow", version="v2", bucket="b")


@pytest.mark.parametrize(
    ("network", "name"),
    [
        (False, "mlflow-portfolio-LaunchRole-AbC123"),
        (True, "mlflow-portfolio-NetworkLaunchRole-DeF456"),
    ],
)
def test_the_launch_role_and_boundary_come_from_the_outputs(network, name, no_real_aws):
    client, stubber = stack_answering(OUTPUTS)
    filled = with_portfolio_stack(request(), client, STACK, network)
    stubber.assert_no_pending_responses()
    assert (filled.launch_role_name, filled.permissions_boundary_arn) == (name, BOUNDARY)
    product = "prod-network" if network else "prod-mlflow"
    assert (filled.stack_portfolio_id, filled.stack_product_id) == ("port-ml", product)


def test_a_portfolio_without_the_network_product_says_so(no_real_aws):
    without = {k: v for k, v in OUTPUTS.items() if not k.startswith("Network")}
    client, _ = stack_answering(without)
    with pytest.raises(PublishError) as raised:
        with_portfolio_stack(request(), client, STACK, network=True)
    assert str(raised.value).startswith(
        "--portfolio-stack mlflow-portfolio: no output NetworkLaunchRoleArn, NetworkProductId "
        "(it offers no network product: OfferNetworkProduct)"
    )


def test_a_missing_stack_is_named(no_real_aws):
    client = boto3.client("cloudformation", region_name="eu-west-1")
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "describe_stacks",
            service_error_code="ValidationError",
            service_message=f"Stack with id {STACK} does not exist",
            expected_params={"StackName": STACK},
        )
        with pytest.raises(PublishError, match="no such stack in this region"):
            with_portfolio_stack(request(), client, STACK, network=False)


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        (["--launch-role-name", "R"], "leave out --launch-role-name and --permissions-boundary"),
        (["--permissions-boundary-arn", BOUNDARY], "leave out --launch-role-name"),
        (["--allow-bucket", "b"], "with --allow-bucket: the allow-lists of the portfolio stack"),
        (
            ["--allow-exposure", "internet-facing", "--no-default-image"],
            "with --allow-exposure, --no-default-image: the allow-lists",
        ),
    ],
)
def test_giving_the_flags_it_replaces_is_refused_before_any_call(
    flag, message, tmp_path: Path, capsys, no_real_aws
):
    argv = ["--portfolio", "ML", "--product", "MLflow", "--bucket", "b", "--version", "v2"]
    argv += ["--portfolio-stack", STACK, *flag]
    assert publish_module.main(argv) == 2
    assert message in capsys.readouterr().err


# --- publish of the stack's product: versions only, the constraints are the stack's ---------


def stack_request(tmp_path: Path, **overrides) -> PublishRequest:
    from tests.publish.test_publish import OTHER_TEMPLATE, PORT_ID, PROD_ID, write_template
    from tests.publish.test_publish import request as publish_request

    values = {"stack_portfolio_id": PORT_ID, "stack_product_id": PROD_ID, "version": "v0.2.0"}
    # An allow-list that would give the template a constraint of publish's own: not here.
    template = {**OTHER_TEMPLATE, "Parameters": {"ArtifactBucketName": {"Type": "String"}}}
    allow = AllowLists(buckets=("team-bucket",))
    return publish_request(write_template(tmp_path, template), allow=allow, **values | overrides)


def test_a_version_of_the_stacks_product_adds_no_constraint(sc, s3, tmp_path, no_real_aws):
    from tests.publish.test_publish import PA_NEW, PA_OLD, PORT_ID, PROD_ID, PRODUCT, version

    template = stack_request(tmp_path)
    sc.portfolios((PORT_ID, "Data Science"))
    sc.products((PROD_ID, PRODUCT))
    sc.versions(version(PA_OLD, "v0.1.0"))
    sc.associated_portfolios(PORT_ID)
    sha = json.loads(Path(template.template).read_text())
    sc.new_version(sha_of(sha), "CREATING")
    sc.describe_version(PA_NEW, "AVAILABLE")
    lines: list[str] = []

    publish(template, sc=sc.client, s3=s3, out=lines.append)

    sc.stubber.assert_no_pending_responses()  # no ListConstraints, no CreateConstraint
    assert not [line for line in lines if "constraint" in line]
    assert lines[-1] == f"published product {PROD_ID} version v0.2.0 ({PA_NEW})"


def test_another_product_than_the_stacks_is_refused_before_any_change(
    sc, s3, tmp_path, no_real_aws
):
    """Its constraints are the stack's: a product of another name would get none."""
    from tests.publish.test_publish import PORT_ID, PRODUCT

    sc.portfolios((PORT_ID, "Data Science"))
    sc.products(("prod-other", PRODUCT))
    sc.expect(
        "list_provisioning_artifacts",
        {"ProductId": "prod-other"},
        {"ProvisioningArtifactDetails": []},
    )
    sc.expect(
        "list_portfolios_for_product",
        {"ProductId": "prod-other"},
        {"PortfolioDetails": [{"Id": PORT_ID, "DisplayName": "Data Science"}]},
    )
    with pytest.raises(PublishError) as raised:
        publish(stack_request(tmp_path), sc=sc.client, s3=s3, out=lambda _: None)
    assert str(raised.value) == (
        "--product 'MLflow' is prod-other, not the portfolio stack's product prod-abc123: give "
        "the names the portfolio stack's parameters gave them"
    )
