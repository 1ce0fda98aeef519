"""mlflow-cfn plan: shows what a parameter set creates, refuses what CloudFormation would."""

from __future__ import annotations

import json

import pytest

from mlflow_cfn.cli import main
from tests.conftest import REQUIRED_PARAMETERS

REQUIRED = {**REQUIRED_PARAMETERS, "LoadBalancerIngressCidrs": "10.0.0.0/8,192.168.0.0/16"}


@pytest.fixture(autouse=True)
def _region(no_real_aws, monkeypatch):
    """The region plan evaluates in: the test certificates' (eu-west-1), as AWS_REGION says."""
    monkeypatch.setenv("AWS_REGION", "eu-west-1")


def write(tmp_path, data) -> str:
    path = tmp_path / "params.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_plan_accepts_the_create_stack_list_form(tmp_path, capsys):
    params = [{"ParameterKey": k, "ParameterValue": v} for k, v in REQUIRED.items()]
    assert main(["plan", "--parameters", write(tmp_path, params)]) == 0
    out = capsys.readouterr().out
    assert "AWS::RDS::DBCluster: DatabaseCluster" in out
    assert "LoadBalancerHttpIngress1, LoadBalancerHttpIngress2" in out
    assert "HttpsListener" not in out  # no certificate, no HTTPS listener
    assert "HttpListener: HTTP :80 -> forward to <TargetGroup>" in out
    assert "MLFLOW_WORKERS=1" in out
    # Secrets are shown by their source, never resolved.
    assert (
        "MLFLOW_CFN_DB_PASSWORD <- <DatabaseCluster.MasterUserSecret.SecretArn>:password::" in out
    )
    assert "TrackingUri = http://<LoadBalancer.DNSName>" in out


def test_plan_accepts_the_deploy_object_form_and_shows_https(tmp_path, capsys):
    params = {
        **REQUIRED,
        "CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
        "DomainName": "mlflow.example.com",
        "TaskCpu": "1024",
        "TaskMemory": "2048",
    }
    assert main(["plan", "--parameters", write(tmp_path, params)]) == 0
    out = capsys.readouterr().out
    assert "HttpListener: HTTP :80 -> redirect to HTTPS:443 (HTTP_301)" in out
    assert "HttpsListener: HTTPS :443 ELBSecurityPolicy-TLS13-1-2-2021-06 -> forward" in out
    assert "MLFLOW_WORKERS=2" in out
    assert "MLFLOW_CFN_ALLOWED_HOSTS=<LoadBalancer.DNSName>,mlflow.example.com" in out
    assert "TrackingUri = https://mlflow.example.com" in out
    # Every mode: what each task needs to start (no login: nothing about the load balancer)
    requirement = out.split("Resources (")[0].split("Your network must provide:\n")[1]
    assert requirement.startswith("  - ServiceSubnetIds need routes out")
    assert "LoadBalancerSubnetIds" not in requirement


def test_plan_says_login_needs_a_route_out_of_the_load_balancer_subnets(tmp_path, capsys):
    params = {
        **REQUIRED,
        "CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
        "DomainName": "mlflow.example.com",
        "AuthMode": "cognito",
    }
    assert main(["plan", "--parameters", write(tmp_path, params)]) == 0
    out = capsys.readouterr().out
    requirement = out.split("Resources (")[0].split("Your network must provide:\n")[1]
    assert requirement.splitlines()[1].startswith("  - AuthMode=cognito:")
    assert "LoadBalancerSubnetIds need a route to the internet through a NAT gateway" in out


@pytest.mark.parametrize(
    ("overrides", "messages"),
    [
        (
            {"LoadBalancerScheme": "internet-facing"},
            ["Rule InternetFacingNeedsCertificate: LoadBalancerScheme=internet-facing needs "
             "CertificateArn"],
        ),
        (
            {"TaskCpu": "256", "TaskMemory": "4096"},
            ["Rule TaskMemoryFitsCpu256: TaskCpu=256 needs TaskMemory to be one of 1024, 2048"],
        ),
        (
            {"DatabaseMinCapacity": "8", "DatabaseMaxCapacity": "4"},
            ["DatabaseMinCapacity (8) is greater than DatabaseMaxCapacity (4)"],
        ),
        (
            {"LoadBalancerIngressCidrs": "10.0.0.0/8, 11.0.0.0/8", "DatabaseMinCapacity": "8",
             "DatabaseMaxCapacity": "4"},
            ["Parameter 'LoadBalancerIngressCidrs' failed to satisfy constraint: "
             "LoadBalancerIngressCidrs must be 1 to 5 IPv4 CIDRs",
             "DatabaseMinCapacity (8) is greater than DatabaseMaxCapacity (4)"],
        ),
        ({"Nope": "1"}, ["Nope"]),
        (
            {"LoadBalancerScheme": "internet-facing",
             "LoadBalancerIngressCidrs": "10.0.0.0/8,0.0.0.0/0",
             "CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc"},
            ["LoadBalancerIngressCidrs contains 0.0.0.0/0 on an internet-facing load balancer"],
        ),
    ],
)  # fmt: skip
def test_plan_refuses_bad_parameters_with_every_reason(tmp_path, capsys, overrides, messages):
    assert main(["plan", "--parameters", write(tmp_path, {**REQUIRED, **overrides})]) == 2
    err = capsys.readouterr().err
    for message in messages:
        assert message in err


def test_plan_names_a_missing_template(tmp_path, capsys):
    code = main(["plan", "--parameters", write(tmp_path, REQUIRED), "--template", "nope.json"])
    assert code == 2
    assert "--template nope.json: no such file" in capsys.readouterr().err
