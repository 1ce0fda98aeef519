"""``plan`` and ``deploy`` with ``--network-stack``: the network Parameters come from the network
stack's Outputs (DescribeStacks, checked by botocore's Stubber against the real API model), what
conflicts with it or cannot work in it is refused before anything is created."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from mlflow_cfn.cli import main
from mlflow_cfn.commands import plan as plan_command
from mlflow_cfn.commands.deploy import deploy
from tests.network.test_fargate_zones import described_subnets
from tests.network.test_stack_outputs import NAME, OUTPUTS, described
from tests.unit.test_deploy import (
    REQUIRED,
    Run,
    expect_change_set,
    expect_create,
    expect_stack,
    request,
)
from tests.unit.test_deploy import s3 as s3

NETWORK_PARAMETERS = ("VpcId", "LoadBalancerSubnetIds", "ServiceSubnetIds", "DatabaseSubnetIds")


@pytest.fixture
def cfn(no_real_aws, monkeypatch):
    client = boto3.client("cloudformation", region_name="eu-west-1")
    with Stubber(client) as stubber:
        monkeypatch.setattr(plan_command, "cloudformation_client", lambda region, session: client)
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_plan_takes_the_network_from_the_stack(cfn, tmp_path, capsys):
    _, stubber = cfn
    stubber.add_response("describe_stacks", described(), {"StackName": NAME})
    (tmp_path / "p.json").write_text(json.dumps({"LoadBalancerIngressCidrs": "10.20.0.0/16"}))
    argv = ["plan", "--parameters", str(tmp_path / "p.json"), "--network-stack", NAME]
    assert main([*argv, "--region", "eu-west-1", "--output", "json"]) == 0
    parameters = json.loads(capsys.readouterr().out)["parameters"]
    for name in NETWORK_PARAMETERS:
        expected = OUTPUTS[name]
        assert parameters[name] in (expected, expected.split(",")), name
    assert parameters["LoadBalancerIngressCidrs"] in ("10.20.0.0/16", ["10.20.0.0/16"])


def test_plan_refuses_a_vpc_the_network_stack_does_not_have(cfn, tmp_path, capsys):
    _, stubber = cfn
    stubber.add_response("describe_stacks", described(), {"StackName": NAME})
    (tmp_path / "p.json").write_text(json.dumps({"VpcId": "vpc-0fffffffffffffff0"}))
    argv = ["plan", "--parameters", str(tmp_path / "p.json"), "--network-stack", NAME]
    assert main([*argv, "--region", "eu-west-1"]) == 2
    err = capsys.readouterr().err
    assert f"mlflow-cfn plan: VpcId is vpc-0fffffffffffffff0 but network stack {NAME!r}" in err


def test_plan_refuses_cognito_login_in_a_network_without_internet(cfn, tmp_path, capsys):
    _, stubber = cfn
    stubber.add_response("describe_stacks", described(egress="endpoints"), {"StackName": NAME})
    (tmp_path / "p.json").write_text(json.dumps({"AuthMode": "cognito"}))
    argv = ["plan", "--parameters", str(tmp_path / "p.json"), "--network-stack", NAME]
    assert main([*argv, "--region", "eu-west-1"]) == 2
    assert "cognito" in capsys.readouterr().err.lower()


def test_plan_says_when_the_network_stack_is_missing(cfn, tmp_path, capsys):
    _, stubber = cfn
    stubber.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message=f"Stack with id {NAME} does not exist",
        expected_params={"StackName": NAME},
    )
    (tmp_path / "p.json").write_text("{}")
    argv = ["plan", "--parameters", str(tmp_path / "p.json"), "--network-stack", NAME]
    assert main([*argv, "--region", "eu-west-1"]) == 2
    assert capsys.readouterr().err == (
        f"mlflow-cfn plan: --network-stack {NAME}: network stack {NAME!r} not found in region "
        "eu-west-1\n"
    )


def test_deploy_reads_the_network_stack_before_it_creates_the_change_set(s3, tmp_path):
    client = boto3.client("cloudformation", region_name="us-east-1")
    with Stubber(client) as stubber:
        stubber.add_response("describe_stacks", described(), {"StackName": NAME})
        expect_stack(stubber, "UPDATE_COMPLETE")
        # The network stack's outputs are the test suite's required network parameters: the
        # change set gets exactly those, with the one value the file gives.
        assert {k: OUTPUTS[k] for k in NETWORK_PARAMETERS} == {
            k: v for k, v in REQUIRED.items() if k in NETWORK_PARAMETERS
        }
        given = {"LoadBalancerIngressCidrs": REQUIRED["LoadBalancerIngressCidrs"]}
        expect_create(stubber, "UPDATE")
        expect_change_set(stubber, "CREATE_COMPLETE", [])
        (tmp_path / "p.json").write_text(json.dumps(given))
        run = Run(s3=s3)
        deploy_request = request(
            tmp_path, parameters_path=tmp_path / "p.json", network_stack=NAME, execute=False
        )
        assert run(client, deploy_request) == 0, run.err
        stubber.assert_no_pending_responses()


@pytest.fixture
def in_us_west_1(no_real_aws, monkeypatch):
    """CloudFormation and EC2 clients in us-west-1 (where Fargate runs in some zones only),
    stubbed, as plan makes them."""
    cfn = boto3.client("cloudformation", region_name="us-west-1")
    ec2 = boto3.client("ec2", region_name="us-west-1")
    with Stubber(cfn) as cfn_stubber, Stubber(ec2) as ec2_stubber:
        monkeypatch.setattr(plan_command, "cloudformation_client", lambda region, session: cfn)
        monkeypatch.setattr(plan_command, "aws_client", lambda service, **_: {"ec2": ec2}[service])
        cfn_stubber.add_response("describe_stacks", described(), {"StackName": NAME})
        yield cfn, ec2, ec2_stubber
        cfn_stubber.assert_no_pending_responses()
        ec2_stubber.assert_no_pending_responses()


def expect_zones(stubber: Stubber, *zone_ids: str) -> None:
    subnets = OUTPUTS["ServiceSubnetIds"].split(",")
    response = described_subnets("us-west-1", list(zone_ids))
    stubber.add_response("describe_subnets", response, {"SubnetIds": subnets})


def test_plan_refuses_service_subnets_where_fargate_does_not_run(in_us_west_1, tmp_path, capsys):
    _, _, ec2 = in_us_west_1
    expect_zones(ec2, "usw1-az2", "usw1-az3")
    (tmp_path / "p.json").write_text(json.dumps({"LoadBalancerIngressCidrs": "10.20.0.0/16"}))
    argv = ["plan", "--parameters", str(tmp_path / "p.json"), "--network-stack", NAME]
    assert main([*argv, "--region", "us-west-1"]) == 2
    err = capsys.readouterr().err
    assert "ServiceSubnetIds: subnet subnet-0aaaaaaaaaaaaaaaa is in us-west-1a (usw1-az2)" in err
    assert err.count("where Fargate does not run tasks") == 1  # the other subnet is fine


def test_plan_accepts_service_subnets_where_fargate_runs(in_us_west_1, tmp_path):
    _, _, ec2 = in_us_west_1
    expect_zones(ec2, "usw1-az1", "usw1-az3")
    (tmp_path / "p.json").write_text(json.dumps({"LoadBalancerIngressCidrs": "10.20.0.0/16"}))
    argv = ["plan", "--parameters", str(tmp_path / "p.json"), "--network-stack", NAME]
    assert main([*argv, "--region", "us-west-1", "--output", "json"]) == 0


def test_deploy_refuses_them_before_it_touches_the_stack(in_us_west_1, tmp_path):
    cfn, ec2_client, ec2 = in_us_west_1
    expect_zones(ec2, "usw1-az2", "usw1-az3")
    (tmp_path / "p.json").write_text(json.dumps({"LoadBalancerIngressCidrs": "10.20.0.0/16"}))
    deploy_request = request(
        tmp_path, parameters_path=tmp_path / "p.json", network_stack=NAME, execute=False
    )
    errors: list[str] = []
    code = deploy(deploy_request, cfn=cfn, err=errors.append, make_client=lambda s: ec2_client)
    assert code == 2
    assert any("where Fargate does not run tasks" in e for e in errors), errors
