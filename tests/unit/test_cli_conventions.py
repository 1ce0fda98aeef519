"""The CLI the way AWS users expect it (issue 17): inputs as a path, ``file://`` path or ``-``,
JSON or YAML; YAML out of ``synth -o x.yaml``; ``diagram --output -``; one clear line and exit 2
for a malformed template in every command that reads one; ``plan`` with a summary, the security
posture, ``--output json``, ``--region``, and the refusals it can see."""

from __future__ import annotations

import io
import json
import os

import pytest
import yaml

from mlflow_cfn.cli import main
from tests.conftest import REQUIRED_PARAMETERS, require_dot

REQUIRED = {**REQUIRED_PARAMETERS, "LoadBalancerIngressCidrs": "10.0.0.0/8"}
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d"


@pytest.fixture(autouse=True)
def _aws(no_real_aws, monkeypatch, tmp_path):
    """No AWS, no region from the machine; run outside the repository."""
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.chdir(tmp_path)


def plan(*argv: str) -> int:
    return main(["plan", *argv])


def test_plan_prints_a_summary_and_the_security_posture_first(tmp_path, capsys):
    (tmp_path / "p.json").write_text(json.dumps(REQUIRED))
    assert plan("--parameters", "p.json", "--region", "eu-west-1") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Plan: ") and lines[0].endswith(" to create in eu-west-1.")
    assert int(lines[0].split()[1]) > 30
    assert lines[1:7] == [
        "Security posture:",
        "  load balancer: internal (inside the VPC only)",
        "  who may connect: 10.0.0.0/8",
        "  login: none: anyone who can connect uses MLflow",
        "  transport: HTTP only (no certificate)",
        "  public without login: no",
    ]


def test_plan_json_is_data_ci_can_read(tmp_path, capsys):
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({**REQUIRED, "CertificateArn": CERTIFICATE}))
    assert plan("--parameters", "file://p.yaml", "--region", "eu-west-1", "--output", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["region"] == "eu-west-1"
    assert data["summary"]["create"] == sum(len(ids) for ids in data["resources"].values())
    assert data["posture"]["transport"] == "HTTPS (HTTP redirects to it)"
    assert data["parameters"]["CertificateArn"] == CERTIFICATE
    assert {c["Name"] for c in data["containers"]} == {"prepare-volumes", "mlflow"}
    assert "TrackingUri" in data["outputs"]


def test_plan_reads_parameters_from_standard_input(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(REQUIRED)))
    assert plan("--parameters", "-", "--region", "us-east-2") == 0
    assert "in us-east-2." in capsys.readouterr().out


def test_plan_evaluates_in_the_region_and_checks_the_certificate_there(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "p.json").write_text(json.dumps({**REQUIRED, "CertificateArn": CERTIFICATE}))
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    assert plan("--parameters", "p.json") == 2
    assert capsys.readouterr().err == (
        "mlflow-cfn plan: CertificateArn is in eu-west-1 but the stack is in us-east-1: the "
        "load balancer needs a certificate from ACM in us-east-1 (request or import it there)\n"
    )
    assert plan("--parameters", "p.json", "--region", "eu-west-1", "--output", "json") == 0
    environment = capsys.readouterr().out
    assert '"region": "eu-west-1"' in environment


def test_plan_without_a_region_says_how_to_give_one_and_what_else_is_wrong(tmp_path, capsys):
    (tmp_path / "p.json").write_text(json.dumps({**REQUIRED, "TaskCpu": "300"}))
    assert plan("--parameters", "p.json") == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("mlflow-cfn plan: no AWS region: pass --region, or set AWS_REGION")
    assert any("TaskCpu" in line for line in err[1:])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"ServiceSubnetIds": "subnet-0aaaaaaaaaaaaaaa1,subnet-0aaaaaaaaaaaaaaa1"},
            "ServiceSubnetIds names subnet-0aaaaaaaaaaaaaaa1 more than once",
        ),
        (
            {"MlflowImage": "ghcr.io/mlflow/mlflow:v3.17.2"},
            "MlflowImage ghcr.io/mlflow/mlflow:v3.17.2: the official image without -full has no "
            "database drivers",
        ),
        (
            {"LoadBalancerIngressCidrs": "10.0.0.0/8,192.168.1.10"},
            "LoadBalancerIngressCidrs item 2 '192.168.1.10' has no prefix length: write it as "
            "192.168.1.10/32",
        ),
    ],
)
def test_plan_refuses_what_it_can_see_will_fail(overrides, message, tmp_path, capsys):
    (tmp_path / "p.json").write_text(json.dumps({**REQUIRED, **overrides}))
    assert plan("--parameters", "p.json", "--region", "eu-west-1") == 2
    assert f"mlflow-cfn plan: {message}" in capsys.readouterr().err


def test_a_yaml_template_with_short_form_tags_is_read(tmp_path, capsys):
    main(["synth", "--output", "t.yaml"])
    text = (tmp_path / "t.yaml").read_text()
    assert not text.lstrip().startswith("{") and "Resources:" in text
    # CloudFormation's short forms, as a hand-written YAML template has them.
    short = text.replace("Fn::GetAtt:", "!GetAtt").replace("Ref: ", "!Ref ", 1)
    (tmp_path / "short.yaml").write_text(short)
    (tmp_path / "p.json").write_text(json.dumps(REQUIRED))
    capsys.readouterr()
    for template in ("t.yaml", "file://short.yaml"):
        argv = ["--template", template, "--parameters", "p.json", "--region", "eu-west-1"]
        assert plan(*argv) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.count("Plan: ") == 2


@pytest.mark.parametrize(
    "command",
    [
        ["cost", "--template", "{t}"],
        ["diagram", "--template", "{t}", "--output", "x.svg"],
        ["synth", "--portfolio", "--portfolio-product", "{t}"],
        ["plan", "--template", "{t}", "--parameters", "p.json", "--region", "eu-west-1"],
    ],
)
@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[]", "a template must be an object (a mapping)"),
        ('{"Parameters": {}}', "a template needs a Resources section"),
        ("Resources: [", "neither JSON nor YAML"),
    ],
)
def test_a_malformed_template_is_one_line_and_exit_2(command, content, problem, tmp_path, capsys):
    (tmp_path / "t.json").write_text(content)
    (tmp_path / "p.json").write_text(json.dumps(REQUIRED))
    argv = [a.replace("{t}", "t.json") for a in command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"mlflow-cfn {command[0]}: ")
    assert f"t.json: {problem}" in err


def test_synth_writes_yaml_for_a_yaml_output_and_json_otherwise(tmp_path):
    assert main(["synth", "-o", "a.yml"]) == 0 and main(["synth", "-o", "b.json"]) == 0
    as_yaml = yaml.safe_load((tmp_path / "a.yml").read_text())
    assert as_yaml == json.loads((tmp_path / "b.json").read_text())
    assert main(["synth", "-o", "c.yaml", "--format", "json"]) == 0
    assert (tmp_path / "c.yaml").read_text().startswith("{")


def test_diagram_writes_to_standard_output(capsysbinary):
    require_dot()
    assert main(["diagram", "--output", "-"]) == 0
    assert capsysbinary.readouterr().out.lstrip().startswith(b"<?xml")
    assert main(["diagram", "--output", "-", "--format", "dot"]) == 0
    assert capsysbinary.readouterr().out.startswith(b"digraph")


def test_cost_json_is_the_estimate_as_data_with_the_network_beside_it(capsys):
    assert main(["cost", "--output", "json", "--network", "nat", "--hours-per-week", "50"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["region"], data["hours_per_week"]) == ("us-east-1", 50.0)
    for part in ("product", "network"):
        items = data[part]["items"]
        assert abs(sum(i["monthly_usd"] for i in items) - data[part]["total_usd"]) < 0.05
        assert all(i["quantity"] >= 0 and i["unit_price"] >= 0 for i in items)
    assert data["total_usd"] == round(
        data["product"]["total_usd"] + data["network"]["total_usd"], 2
    )
    assert any(i["component"].startswith("NAT gateway") for i in data["network"]["items"])
    assert main(["cost", "--output", "json"]) == 0
    alone = json.loads(capsys.readouterr().out)
    assert "network" not in alone and alone["total_usd"] == alone["product"]["total_usd"]


def test_a_reader_that_stops_early_gets_no_stack_trace(monkeypatch):
    """`mlflow-cfn synth | head -1`: the reader has gone when the template is written; the
    command stops quietly with 141 (128 + SIGPIPE), as a Unix tool does."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader went away
    closed_pipe = open(write_end, "w")  # noqa: SIM115  (closed below)
    monkeypatch.setattr("sys.stdout", closed_pipe)
    try:
        assert main(["synth"]) == 141
    finally:
        closed_pipe.close()
