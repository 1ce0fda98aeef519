"""Stack traces and silent mistakes a new user hit (issue 25, item 5): each is now a one-line
message naming the input and the next step, or the input is read as meant.

Nothing here reaches AWS: credentials are dummies and, except for the HTML reply (a local HTTP
server stands in for a proxy), any request a botocore client would send fails the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.httpsession import URLLib3Session

import mlflow_cfn.commands.plan as plan_command
import mlflow_cfn.commands.publish as publish_command
from mlflow_cfn.cli import main
from tests.conftest import REQUIRED_PARAMETERS, ROOT


class ReachedAws(Exception):
    """A request a botocore client was about to send."""


@pytest.fixture
def aws_env(no_real_aws, monkeypatch, tmp_path):
    """Dummy credentials (tests/conftest.py), no region variable, run in an empty directory."""
    for name in ("AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def offline(aws_env, monkeypatch):
    """`aws_env`, and any HTTP request botocore would send fails the test."""

    def refuse(session, request):
        raise ReachedAws(f"{request.method} {request.url}")

    monkeypatch.setattr(URLLib3Session, "send", refuse)
    return aws_env


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``mlflow-cfn argv``; an exception escaping main (the user
    would see a traceback) fails the test."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    except ReachedAws as exc:
        pytest.fail(f"`mlflow-cfn {' '.join(argv)}` called AWS: {exc}")
    except BaseException as exc:
        pytest.fail(f"`mlflow-cfn {' '.join(argv)}` raised {type(exc).__name__}: {exc}")
    out = capsys.readouterr()
    return code, out.out, out.err


def parameters(tmp_path: Path, text: str | None = None, name: str = "p.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(REQUIRED_PARAMETERS) if text is None else text)
    return str(path)


# --- plan --template <network template> -----------------------------------------------------


@pytest.mark.parametrize("output", ["text", "json"])
def test_plan_of_the_network_template(offline, capsys, output):
    network = str(ROOT / "templates" / "network.json")
    argv = ["plan", "--template", network, "--parameters", parameters(offline, "{}")]
    code, out, err = run([*argv, "--region", "us-east-1", "--output", output], capsys)
    assert (code, err) == (0, "")
    if output == "json":
        plan = json.loads(out)
        assert plan["resources"]["AWS::EC2::VPC"] == ["Vpc"]
        assert "containers" not in plan and "posture" not in plan
    else:
        assert "  AWS::EC2::VPC: Vpc" in out.splitlines()
        assert "Security posture" not in out and "Containers" not in out


# --- Ctrl-C ----------------------------------------------------------------------------------


def interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def test_ctrl_c_in_plan_with_a_network_stack(offline, capsys, monkeypatch):
    monkeypatch.setattr(plan_command, "with_network_stack", interrupt)
    argv = ["plan", "--parameters", parameters(offline), "--network-stack", "net"]
    code, out, err = run([*argv, "--region", "us-east-1"], capsys)
    assert (code, out, err) == (130, "", "mlflow-cfn plan: interrupted\n")


def test_ctrl_c_in_publish(offline, capsys, monkeypatch):
    monkeypatch.setattr(publish_command, "make_clients", lambda region, session: (1, 2, 3))
    monkeypatch.setattr(publish_command, "publish", interrupt)
    argv = ["publish", "--portfolio", "P", "--product", "Q", "--bucket", "b", "--version", "v1"]
    code, _, err = run([*argv, "--region", "eu-west-1"], capsys)
    assert code == 130
    assert err == (
        "mlflow-cfn publish: interrupted; what was already created stays, and running the same "
        "command again finishes it (publish finds what exists by name)\n"
    )


# --- parameter files -------------------------------------------------------------------------


def test_yaml_booleans_are_read_as_cloudformations_true_and_false(offline, capsys):
    lines = [f"{k}: {v}" for k, v in REQUIRED_PARAMETERS.items()]
    lines += ["DatabaseDeletionProtection: false", "CreateDashboard: true", "MinTasks: 1"]
    path = parameters(offline, "\n".join(lines) + "\n", "p.yaml")
    argv = ["plan", "--parameters", path, "--region", "us-east-1", "--output", "json"]
    code, out, err = run(argv, capsys)
    assert (code, err) == (0, "")
    values = json.loads(out)["parameters"]
    assert (values["DatabaseDeletionProtection"], values["CreateDashboard"]) == ("false", "true")
    assert values["MinTasks"] == "1"


def test_a_cidr_error_leads_with_a_sentence(offline, capsys):
    given = {**REQUIRED_PARAMETERS, "LoadBalancerIngressCidrs": "10.0.0.0/33"}
    argv = ["plan", "--parameters", parameters(offline, json.dumps(given)), "--region", "eu-west-1"]
    code, _, err = run(argv, capsys)
    assert code == 2
    assert err.splitlines() == [
        "mlflow-cfn plan: Parameter 'LoadBalancerIngressCidrs' failed to satisfy constraint: "
        "LoadBalancerIngressCidrs must be 1 to 5 IPv4 CIDRs such as 10.0.0.0/8, separated by "
        "commas without spaces. (value '10.0.0.0/33' does not match its AllowedPattern)",
        "mlflow-cfn plan: LoadBalancerIngressCidrs item 1 '10.0.0.0/33': '33' is not a valid "
        "netmask",
    ]
