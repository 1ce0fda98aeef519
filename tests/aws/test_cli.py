"""The `mlflow-cfn` command lines the run builds are ones the CLI accepts (its own parser reads
them), and a command runs as a child process with its output in the run's log."""

from __future__ import annotations

import json

import pytest

from mlflow_cfn import __version__
from mlflow_cfn.cli import parser
from tests.aws.acceptance import cli
from tests.conftest import REQUIRED_PARAMETERS

pytestmark = pytest.mark.usefixtures("no_real_aws")


def parse(args: list[str]):
    return parser().parse_args(args)


def test_deploy_command_line(tmp_path):
    args = cli.deploy(
        "mfa2612071530-web",
        tmp_path / "p.json",
        "eu-west-1",
        "mfa2612071530-templates-123456789012",
        template="templates/network.json",
        network_stack="mfa2612071530-net",
        tags=["mlflow-cfn-acceptance-run=mfa2612071530"],
    )
    parsed = parse(args)
    assert (parsed.stack_name, parsed.region, parsed.s3_bucket) == (
        "mfa2612071530-web",
        "eu-west-1",
        "mfa2612071530-templates-123456789012",
    )
    assert parsed.yes and parsed.network_stack == "mfa2612071530-net"
    assert parsed.template == "templates/network.json"
    assert parsed.tags == [("mlflow-cfn-acceptance-run", "mfa2612071530")]
    assert parse(cli.deploy("x", tmp_path / "p.json", "eu-west-1", "b")).network_stack is None


def test_smoke_permissions_and_publish_command_lines(tmp_path):
    smoke = parse(cli.smoke("mfa2612071530-idp", "eu-west-1"))
    assert (smoke.stack_name, smoke.wake_seconds) == ("mfa2612071530-idp", 300)
    deploy = parse(
        cli.permissions(
            "deploy",
            "eu-west-1",
            "123456789012",
            tmp_path,
            stack_name="mfa2612071530-ops",
            s3_bucket="b-123",
            network_stack="mfa2612071530-net",
        )
    )
    assert (deploy.purpose, deploy.account_id, deploy.bucket) == ("deploy", "123456789012", "b-123")
    assert (deploy.network_stack, deploy.output_dir) == ("mfa2612071530-net", str(tmp_path))
    publish = parse(
        cli.permissions(
            "publish", "eu-west-1", "123456789012", tmp_path, bucket="b-123", launch_role_name="L"
        )
    )
    assert (publish.purpose, publish.launch_role_name) == ("publish", "L")
    published = parse(
        cli.publish(
            "mfa published",
            "mfa MLflow published",
            "v1.0.0",
            "b-123",
            "eu-west-1",
            launch_role_name="L",
            principal="arn:aws:iam::123456789012:role/mfa-end-user",
            boundary_arn="arn:aws:iam::123456789012:policy/B",
        )
    )
    assert published.principal == ["arn:aws:iam::123456789012:role/mfa-end-user"]
    assert published.permissions_boundary_arn == "arn:aws:iam::123456789012:policy/B"


def test_a_command_runs_as_a_child_with_its_output_logged(tmp_path):
    log = tmp_path / "logs" / "version.log"
    finished = cli.run(["--version"], log)
    assert finished.code == 0 and finished.tail == f"mlflow-cfn {__version__}"
    assert log.read_text().startswith("$ mlflow-cfn --version\n")
    finished.require("version")


def test_a_failed_command_says_how_and_where(tmp_path):
    values = {**REQUIRED_PARAMETERS, "DatabaseMinCapacity": "8", "DatabaseMaxCapacity": "4"}
    parameters = cli.write_parameters(tmp_path / "p.json", values)
    assert json.loads(parameters.read_text()) == values
    args = ["plan", "--parameters", str(parameters), "--region", "eu-west-1"]
    finished = cli.run(args, tmp_path / "plan.log", {"AWS_PROFILE": None})
    assert finished.code == 2 and "greater than DatabaseMaxCapacity" in finished.tail
    with pytest.raises(RuntimeError, match=r"plan exited 2: .*greater than DatabaseMaxCapacity"):
        finished.require("plan")


def test_the_childs_environment_is_changed_only_as_asked(monkeypatch):
    monkeypatch.setenv("MLFLOW_CFN_KEPT", "kept")
    monkeypatch.setenv("AWS_PROFILE", "someone")
    env = cli.child_environment({"AWS_PROFILE": None, "AWS_ACCESS_KEY_ID": "ASIA1"})
    assert "AWS_PROFILE" not in env
    assert (env["MLFLOW_CFN_KEPT"], env["AWS_ACCESS_KEY_ID"]) == ("kept", "ASIA1")
