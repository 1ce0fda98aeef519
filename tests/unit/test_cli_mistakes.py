"""Stack traces and silent mistakes a new user hit (issue 25, item 5): each is now a one-line
message naming the input and the next step, or the input is read as meant.

Nothing here reaches AWS: credentials are dummies and, except for the HTML reply (a local HTTP
server stands in for a proxy), any request a botocore client would send fails the test.
"""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import botocore.session
import pytest
from botocore.httpsession import URLLib3Session

import mlflow_cfn.commands.plan as plan_command
import mlflow_cfn.commands.publish as publish_command
from mlflow_cfn.cfn.partitions import known_regions
from mlflow_cfn.cli import main, parser
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


# --- an HTML reply ---------------------------------------------------------------------------


class WebPage(http.server.BaseHTTPRequestHandler):
    """What a proxy or captive portal answers to any request: a web page."""

    status = 200

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"<!DOCTYPE html><html><head><title>Access denied</title></head><body/></html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("status", [200, 403])
def test_deploy_tells_an_html_reply_as_such(aws_env, capsys, monkeypatch, status):
    """A 200 page made botocore's parser raise KeyError 'DescribeStacksResult' (a traceback);
    a 403 page read as "AWS refused DescribeStacks: Unknown:"."""
    handler = type("Page", (WebPage,), {"status": status})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)  # botocore's endpoint override for all
    try:
        argv = ["deploy", "--stack-name", "s", "--parameters", parameters(aws_env), "--yes"]
        code, _, err = run([*argv, "--s3-bucket", "b", "--region", "us-east-1"], capsys)
    finally:
        server.shutdown()
    assert code == 1
    assert err == (
        f"mlflow-cfn deploy: the reply to DescribeStacks from {endpoint} is a web page (HTTP "
        f"{status}, titled 'Access denied'), not an AWS reply: a proxy, firewall or captive "
        "portal answered, or the endpoint is not AWS's (AWS_ENDPOINT_URL, endpoint_url in the "
        "profile)\n"
    )


# --- synth's flags ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["json", "yaml", "yml"])
def test_synth_refuses_an_output_that_is_a_format(offline, capsys, name):
    code, out, err = run(["synth", "--output", name], capsys)
    assert (code, out) == (2, "")
    assert err.startswith(f"mlflow-cfn synth: --output {name} would write a file named '{name}'")
    assert "--format the format (standard output without --output)" in err
    assert not (offline / name).exists()
    assert run(["synth", "--output", f"./{name}"], capsys)[0] == 0  # a file of that name
    assert (offline / name).exists()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--network", "--portfolio"], "--network and --portfolio cannot be used together"),
        (["--network", "--sidecar", "datadog"], "--network and --sidecar cannot be used together"),
        (["--network", "--ingress-cidr-slots", "5"], "--network and --ingress-cidr-slots"),
        (["--portfolio", "--sidecar-environment-slots", "2"], "--portfolio and --sidecar-env"),
        (["--portfolio-product", "p.json"], "--portfolio-product needs --portfolio"),
        (["--portfolio-network", ""], "--portfolio-network needs --portfolio"),
        (["--format", "yaml", "--output", "t.json"], "--format yaml and --output t.json disagree"),
    ],
)
def test_synth_refuses_flags_that_cannot_apply_together(offline, capsys, argv, expected):
    code, out, err = run(["synth", *argv], capsys)
    assert (code, out) == (2, "")
    assert err.startswith(f"mlflow-cfn synth: {expected}")
    assert list(offline.iterdir()) == []


# --- deploy --tags ---------------------------------------------------------------------------


def test_tags_in_create_stacks_shorthand_are_read_as_meant():
    argv = ["deploy", "--stack-name", "s", "--parameters", "p.json", "--tags"]
    tags = ["Key=team,Value=ml,platform", "owner=me", "Key=cost-centre,Value="]
    args = parser(load=["deploy"]).parse_args([*argv, *tags])
    assert args.tags == [("team", "ml,platform"), ("owner", "me"), ("cost-centre", "")]


# --- regions and profiles --------------------------------------------------------------------


def test_known_regions_are_botocores():
    """botocore's partition data (partitions.json) holds every region its endpoint data offers
    CloudFormation in, and no global pseudo-region."""
    session = botocore.session.get_session()
    offered = {
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("cloudformation", partition)
    }
    assert offered <= known_regions()
    assert {"us-east-1", "cn-north-1", "us-gov-west-1"} <= known_regions()
    assert not {r for r in known_regions() if r.endswith("-global")}
    assert "eu-west-9" not in known_regions()


@pytest.mark.parametrize("command", ["plan", "deploy", "permissions"])
@pytest.mark.parametrize("where", ["flag", "variable"])
def test_an_unknown_region_is_refused_at_once(offline, capsys, monkeypatch, command, where):
    argv = {
        "plan": ["plan", "--parameters", parameters(offline)],
        "deploy": ["deploy", "--stack-name", "s", "--parameters", parameters(offline)],
        "permissions": ["permissions", "--for", "deploy"],
    }[command]
    if where == "flag":
        argv += ["--region", "eu-west-9"]
    else:
        monkeypatch.setenv("AWS_REGION", "eu-west-9")
    source = "--region eu-west-9" if where == "flag" else "AWS_REGION=eu-west-9"
    code, _, err = run(argv, capsys)
    assert code == 2
    assert (
        f"mlflow-cfn {command}: {source}: not an AWS region this botocore "
        f"({botocore.__version__}) knows (did you mean eu-west-3 or eu-west-2 or eu-west-1?)"
    ) in err


def test_a_missing_profile_from_the_environment_is_named_as_such(offline, capsys, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "nope")
    code, _, err = run(["deploy", "--stack-name", "s", "--parameters", "p.json"], capsys)
    assert code == 2
    assert err.startswith("mlflow-cfn deploy: AWS_PROFILE=nope: The config profile (nope)")
    assert "--profile" not in err.split("`")[0]


SSO_CONFIG = """\
[profile dev]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Admin
region = eu-west-1

[profile legacy]
sso_start_url = https://example.awsapps.com/start
sso_region = eu-west-1
sso_account_id = 123456789012
sso_role_name = Admin
region = eu-west-1

[sso-session corp]
sso_start_url = https://example.awsapps.com/start
sso_region = eu-west-1
"""


@pytest.mark.parametrize("profile", ["dev", "legacy"])
def test_a_missing_sso_login_says_how_to_log_in(offline, capsys, monkeypatch, profile):
    """No token in ~/.aws/sso/cache (never logged in, or the cache cleared after expiry)."""
    config = offline / "config"
    config.write_text(SSO_CONFIG)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("HOME", str(offline))  # an empty SSO token cache
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    argv = ["deploy", "--stack-name", "s", "--parameters", parameters(offline), "--yes"]
    code, _, err = run([*argv, "--s3-bucket", "b", "--profile", profile], capsys)
    assert code == 1
    assert err.startswith(f"mlflow-cfn deploy: the SSO login of profile {profile} has expired ")
    assert err.endswith(f"run `aws sso login --profile {profile}`, then this command again\n")


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
