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

from mlflow_cfn.catalog.publish import PublishError, PublishRequest
from mlflow_cfn.commands.portfolio_stack import BOUNDARY_OUTPUT, ROLE_OUTPUTS, with_portfolio_stack
from service_catalog import publish as publish_module
from tests.conftest import TEMPLATES

STACK = "mlflow-portfolio"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/mlflow-portfolio-LaunchRole-AbC123"
NETWORK_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/mlflow-portfolio-NetworkLaunchRole-DeF456"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/mlflow-portfolio-PermissionsBoundary-GhI789"


def test_the_outputs_read_are_the_portfolio_templates():
    outputs = json.loads((TEMPLATES / "portfolio.json").read_text())["Outputs"]
    assert {*ROLE_OUTPUTS.values(), BOUNDARY_OUTPUT} <= set(outputs)


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
    outputs = {
        "LaunchRoleArn": ROLE_ARN,
        "NetworkLaunchRoleArn": NETWORK_ROLE_ARN,
        "PermissionsBoundaryArn": BOUNDARY,
    }
    client, stubber = stack_answering(outputs)
    filled = with_portfolio_stack(request(), client, STACK, network)
    stubber.assert_no_pending_responses()
    assert (filled.launch_role_name, filled.permissions_boundary_arn) == (name, BOUNDARY)


def test_a_portfolio_without_the_network_product_says_so(no_real_aws):
    client, _ = stack_answering({"LaunchRoleArn": ROLE_ARN, "PermissionsBoundaryArn": BOUNDARY})
    with pytest.raises(PublishError) as raised:
        with_portfolio_stack(request(), client, STACK, network=True)
    assert str(raised.value).startswith(
        "--portfolio-stack mlflow-portfolio: no output NetworkLaunchRoleArn (it offers no "
        "network product: OfferNetworkProduct)"
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
    "flag", [["--launch-role-name", "R"], ["--permissions-boundary-arn", BOUNDARY]]
)
def test_giving_the_flags_it_replaces_is_refused_before_any_call(
    flag, tmp_path: Path, capsys, no_real_aws
):
    argv = ["--portfolio", "ML", "--product", "MLflow", "--bucket", "b", "--version", "v2"]
    argv += ["--portfolio-stack", STACK, *flag]
    assert publish_module.main(argv) == 2
    assert "leave out --launch-role-name and --permissions-boundary-arn" in capsys.readouterr().err
