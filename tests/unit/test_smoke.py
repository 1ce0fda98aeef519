"""``mlflow-cfn smoke`` without a server: reading the stack (Stubber on the real API models), the
token flow against a local token endpoint, argument errors, and how failures are told."""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.stub import Stubber

from mlflow_cfn.cli import main
from mlflow_cfn.smoke import SmokeInputError, SmokeRequest, smoke
from mlflow_cfn.smoke.client import mlflow_cause
from mlflow_cfn.smoke.http import Answer, http_cause, reach
from mlflow_cfn.smoke.steps import StepFailed, Steps
from mlflow_cfn.smoke.target import read_stack
from mlflow_cfn.smoke.token import fetch_token, plan_token

REGION = "eu-west-1"
POOL = "eu-west-1_AbCdEf123"
CLIENT_ID = "1example23456789abcdefghij"
SECRET = "s3cr3t:with/odd+chars%and-more-length"
TOKEN = "eyJ.machine.token"


class TokenEndpoint:
    """A local OAuth token endpoint: client credentials by Basic or in the form."""

    def __init__(self, client_id: str = CLIENT_ID, secret: str = SECRET):
        self.requests: list[dict[str, str]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                form = dict(urllib.parse.parse_qsl(body))
                basic = self.headers.get("Authorization", "")
                if basic.startswith("Basic "):
                    pair = base64.b64decode(basic[6:]).decode()
                    form["client_id"], form["client_secret"] = map(
                        urllib.parse.unquote, pair.split(":", 1)
                    )
                endpoint.requests.append(form)
                ok = (form.get("client_id"), form.get("client_secret")) == (client_id, secret)
                answer = {"access_token": TOKEN, "token_type": "Bearer"} if ok else {
                    "error": "invalid_client", "error_description": "Client authentication failed"
                }  # fmt: skip
                data = json.dumps(answer).encode()
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/oauth2/token"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def token_endpoint() -> Iterator[TokenEndpoint]:
    endpoint = TokenEndpoint()
    yield endpoint
    endpoint.close()


def stack_description(outputs: dict[str, str], auth_mode: str = "none", **parameters) -> dict:
    """A DescribeStacks answer for stack ``mlflow``."""
    return {
        "Stacks": [
            {
                "StackName": "mlflow",
                "StackId": f"arn:aws:cloudformation:{REGION}:123456789012:stack/mlflow/1",
                "CreationTime": "2025-01-01T00:00:00Z",
                "StackStatus": "CREATE_COMPLETE",
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
                "Parameters": [
                    {"ParameterKey": k, "ParameterValue": v}
                    for k, v in {"AuthMode": auth_mode, **parameters}.items()
                ],
            }
        ]
    }


def cognito_outputs(token_url: str) -> dict[str, str]:
    return {
        "TrackingUri": "https://mlflow.example.com",
        "CognitoTokenUrl": token_url,
        "CognitoMachineClientId": CLIENT_ID,
        "CognitoUserPoolId": POOL,
        "TokenScope": "mlflow/api",
    }


def stubbed(service: str, *responses: tuple[str, dict, dict]) -> tuple[object, Stubber]:
    client = boto3.client(
        service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    for method, answer, expected in responses:
        stubber.add_response(method, answer, expected)
    stubber.activate()
    return client, stubber


def not_found(stubber: Stubber) -> None:
    stubber.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message="Stack with id mlflow does not exist",
        expected_params={"StackName": "mlflow"},
    )


# --- reading the stack --------------------------------------------------------------------


def test_reads_tracking_uri_login_outputs_and_auth_mode(no_real_aws):
    outputs = cognito_outputs("https://mlflow-x.auth.eu-west-1.amazoncognito.com/oauth2/token")
    cfn, stubber = stubbed(
        "cloudformation",
        ("describe_stacks", stack_description(outputs, "cognito"), {"StackName": "mlflow"}),
    )
    stack = read_stack(cfn, "mlflow")
    stubber.assert_no_pending_responses()
    assert (stack.region, stack.auth_mode, stack.outputs) == (REGION, "cognito", outputs)
    assert stack.found_outputs() == (
        "TrackingUri, CognitoTokenUrl, CognitoMachineClientId, CognitoUserPoolId, TokenScope"
    )


def test_a_stack_not_found_names_the_region_and_is_bad_input(no_real_aws):
    cfn, stubber = stubbed("cloudformation")
    not_found(stubber)
    with pytest.raises(SmokeInputError) as raised:
        read_stack(cfn, "mlflow")
    assert str(raised.value).startswith(f"stack mlflow not found in region {REGION}: pass --region")


def test_a_stack_not_found_exits_2_through_smoke(no_real_aws, capsys):
    cfn, stubber = stubbed("cloudformation")
    not_found(stubber)
    with pytest.raises(SmokeInputError, match=f"not found in region {REGION}"):
        smoke(SmokeRequest(stack_name="mlflow"), aws=lambda _: cfn, region=REGION)


def test_access_denied_is_a_failed_step_with_the_region(no_real_aws, capsys):
    cfn, stubber = stubbed("cloudformation")
    stubber.add_client_error("describe_stacks", "AccessDenied", "not authorized")
    code = smoke(SmokeRequest(stack_name="mlflow"), aws=lambda _: cfn, region=REGION)
    captured = capsys.readouterr()
    assert code == 1
    assert "  FAIL" in captured.out and "FAILED: read stack outputs" in captured.out
    assert "AWS refused DescribeStacks: AccessDenied: not authorized (region eu-west-1)" in (
        captured.out
    )


def test_a_stack_without_tracking_uri_fails_its_step(no_real_aws):
    cfn, _ = stubbed(
        "cloudformation",
        ("describe_stacks", stack_description({}), {"StackName": "mlflow"}),
    )
    with pytest.raises(StepFailed, match="has no TrackingUri output"):
        read_stack(cfn, "mlflow")


# --- the token ----------------------------------------------------------------------------


def stack_of(outputs: dict[str, str], auth_mode: str = "cognito", **parameters):
    cfn, _ = stubbed(
        "cloudformation",
        (
            "describe_stacks",
            stack_description(outputs, auth_mode, **parameters),
            {"StackName": "mlflow"},
        ),
    )
    return read_stack(cfn, "mlflow")


def test_cognito_outputs_give_a_token_with_the_secret_from_describe_user_pool_client(
    no_real_aws, token_endpoint
):
    stack = stack_of(cognito_outputs(token_endpoint.url))
    plan = plan_token(SmokeRequest(stack_name="mlflow"), stack)
    cognito, stubber = stubbed(
        "cognito-idp",
        (
            "describe_user_pool_client",
            {"UserPoolClient": {"ClientId": CLIENT_ID, "ClientSecret": SECRET}},
            {"UserPoolId": POOL, "ClientId": CLIENT_ID},
        ),
    )
    assert fetch_token(plan, lambda: cognito) == TOKEN
    stubber.assert_no_pending_responses()
    assert token_endpoint.requests == [
        {"grant_type": "client_credentials", "scope": "mlflow/api",
         "client_id": CLIENT_ID, "client_secret": SECRET}
    ]  # fmt: skip
    assert plan.source == "client credentials from CognitoTokenUrl output"


def test_oidc_client_credentials_from_flags_with_secret_in_the_environment(token_endpoint):
    request = SmokeRequest(
        tracking_uri="https://mlflow.example.com",
        token_url=token_endpoint.url,
        client_id=CLIENT_ID,
        scope="api://mlflow/.default",
        audience="api://mlflow",
        client_auth="post",
        environ={"MLFLOW_CFN_CLIENT_SECRET": SECRET},
    )
    plan = plan_token(request, None)
    assert fetch_token(plan, lambda: pytest.fail("Cognito is not asked")) == TOKEN
    assert token_endpoint.requests == [
        {"grant_type": "client_credentials", "scope": "api://mlflow/.default",
         "audience": "api://mlflow", "client_id": CLIENT_ID, "client_secret": SECRET}
    ]  # fmt: skip


def test_oidc_stack_takes_its_token_endpoint_parameter(token_endpoint):
    stack = stack_of({"TrackingUri": "https://m.example.com"}, "oidc",
                     OidcTokenEndpoint=token_endpoint.url)  # fmt: skip
    request = SmokeRequest(client_id=CLIENT_ID, environ={"MLFLOW_CFN_CLIENT_SECRET": SECRET})
    plan = plan_token(request, stack)
    assert (plan.token_url, plan.source) == (
        token_endpoint.url, "client credentials from OidcTokenEndpoint parameter"
    )  # fmt: skip
    assert fetch_token(plan, lambda: None) == TOKEN


def test_a_wrong_secret_is_told_with_the_oauth_error(token_endpoint):
    request = SmokeRequest(
        token_url=token_endpoint.url, client_id=CLIENT_ID, environ={"MLFLOW_CFN_CLIENT_SECRET": "x"}
    )
    with pytest.raises(StepFailed) as raised:
        fetch_token(plan_token(request, None), lambda: None)
    assert str(raised.value).startswith(
        f"token endpoint {token_endpoint.url} refused the client credentials: HTTP 400 "
        "invalid_client Client authentication failed"
    )


def test_cognito_access_denied_names_the_way_out(no_real_aws):
    stack = stack_of(cognito_outputs("https://mlflow-x.auth.eu-west-1.amazoncognito.com/t"))
    cognito, stubber = stubbed("cognito-idp")
    stubber.add_client_error("describe_user_pool_client", "AccessDeniedException", "no")
    with pytest.raises(StepFailed, match="set MLFLOW_CFN_CLIENT_SECRET or pass --token"):
        fetch_token(plan_token(SmokeRequest(), stack), lambda: cognito)


def test_token_order_flag_then_variable():
    env = {"MLFLOW_TRACKING_TOKEN": "from-env"}
    assert plan_token(SmokeRequest(token="flag", environ=env), None).token == "flag"
    assert plan_token(SmokeRequest(environ=env), None).source == "MLFLOW_TRACKING_TOKEN"
    assert plan_token(SmokeRequest(), None) is None


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (SmokeRequest(token_url="https://idp.example.com/token"),
         "--token-url needs --client-id"),
        (SmokeRequest(client_id="abc"), "--client-id needs --token-url"),
        (SmokeRequest(token_url="http://idp.example.com/token", client_id="abc"),
         "must be an https:// URL"),
        (SmokeRequest(token_url="https://idp.example.com/token", client_id="abc"),
         "set the client secret in the environment variable MLFLOW_CFN_CLIENT_SECRET"),
    ],
)  # fmt: skip
def test_incomplete_login_flags_are_bad_input(request_, message):
    with pytest.raises(SmokeInputError, match=message):
        plan_token(request_, None)


def test_a_stack_with_login_and_no_token_source_is_bad_input():
    stack = stack_of({"TrackingUri": "https://m.example.com"}, "oidc")
    with pytest.raises(SmokeInputError, match="has AuthMode=oidc: pass --token"):
        plan_token(SmokeRequest(), stack)


# --- arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give --stack-name NAME (reads its TrackingUri) or --tracking-uri URL"),
        (["--tracking-uri", "mlflow.example.com"], "is not an http:// or https:// URL"),
        (["--stack-name", "1bad"], "is not a valid stack name"),
        (["--tracking-uri", "https://m.example.com", "--wake-seconds", "-1"],
         "must be a number of seconds from 0 to 3600"),
        (["--tracking-uri", "https://m.example.com", "--client-auth", "jwt"], "invalid choice"),
    ],
)  # fmt: skip
def test_bad_arguments_exit_2_naming_the_flag(argv, message, capsys):
    try:
        code = main(["smoke", *argv])
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    assert code == 2
    assert message in capsys.readouterr().err


def test_no_region_is_bad_input(no_real_aws, capsys, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    assert main(["smoke", "--stack-name", "mlflow"]) == 2
    assert "no AWS region: pass --region" in capsys.readouterr().err


def test_unknown_profile_is_bad_input(no_real_aws, capsys):
    assert main(["smoke", "--stack-name", "mlflow", "--profile", "nope"]) == 2
    assert "--profile nope:" in capsys.readouterr().err


def test_missing_mlflow_names_the_install_command(monkeypatch, capsys):
    import importlib.metadata

    def version(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    assert main(["smoke", "--tracking-uri", "https://m.example.com"]) == 2
    assert capsys.readouterr().err == (
        "mlflow-cfn smoke: the MLflow client is not installed: "
        "pip install 'mlflow-cfn[smoke]' (mlflow==3.17.2)\n"
    )


# --- how failures are told ----------------------------------------------------------------

URI = "https://mlflow.example.com"


@pytest.mark.parametrize(
    ("answer", "token", "start"),
    [
        (Answer(403, body="Invalid Host header - possible DNS rebinding attack detected"), None,
         "Host header refused by MLflow (403 'Invalid Host header"),
        (Answer(401, authenticate='Bearer error="invalid_token"'), TOKEN,
         "401 from the load balancer (Bearer error=\"invalid_token\"): the bearer token was "
         "refused"),
        (Answer(401), None, "401 from the load balancer: no bearer token was sent"),
        (Answer(403, body="<html>Forbidden</html>"), TOKEN,
         "403 from the load balancer or a firewall in front of MLflow (not MLflow's Host check)"),
        (Answer(302, location="https://mlflow-x.auth.eu-west-1.amazoncognito.com/oauth2/authorize"),
         None, "302 redirect to the login page at mlflow-x.auth.eu-west-1.amazoncognito.com"),
        (Answer(503), None, "503 from the load balancer: no healthy MLflow task answered"),
        (Answer(404), None, "404 for /api/2.0/mlflow/experiments/search"),
    ],
)  # fmt: skip
def test_http_causes(answer, token, start):
    assert http_cause(answer, URI, token).startswith(start)


def test_http_to_https_redirect_says_use_https():
    answer = Answer(301, location="https://mlflow.example.com:443/api/2.0/mlflow/experiments")
    assert http_cause(answer, "http://mlflow.example.com", None) == (
        "the load balancer redirects to HTTPS: use https://mlflow.example.com"
    )


def test_mlflow_client_errors_are_told_by_their_status():
    error = Exception("API request to endpoint /api/2.0/mlflow/runs/create failed with error code "
                      "401 != 200. Response body: ''")  # fmt: skip
    assert mlflow_cause(error, URI, TOKEN).startswith("401 from the load balancer")
    assert mlflow_cause(ValueError("boom"), URI, None) == "ValueError: boom"


def test_an_unresolvable_name_is_told(capsys):
    steps = Steps(print, print)
    with pytest.raises(StepFailed, match=r"cannot resolve mlflow\.smoke\.invalid from this client"):
        steps.run("reach the server", lambda: reach("http://mlflow.smoke.invalid", None, 0, print))


def test_waiting_for_503_is_bounded_and_said(monkeypatch):
    answers = iter([Answer(503), Answer(503), Answer(200)])
    monkeypatch.setattr("mlflow_cfn.smoke.http.get", lambda url, token: next(answers))
    notes, slept = [], []
    now = [0.0]

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    assert reach(URI, None, 60, notes.append, sleep, lambda: now[0]).status == 200
    assert notes == ["503: the service may be waking up; retrying for up to 60 s"]
    assert slept == [2.0, 3.0]
    always = iter([Answer(503)] * 100)
    monkeypatch.setattr("mlflow_cfn.smoke.http.get", lambda url, token: next(always))
    with pytest.raises(StepFailed, match=r"\(still 503 after waiting 10 s\)$"):
        reach(URI, None, 10, notes.append, sleep, lambda: now[0])


def test_steps_print_times_and_one_line_per_failure():
    out, err = [], []
    ticks = iter([0.0, 1.0, 1.25, 2.0, 2.5, 3.0])
    steps = Steps(out.append, err.append, clock=lambda: next(ticks))
    steps.run("first", lambda: 3, lambda n: f"{n} things")
    with pytest.raises(StepFailed):
        steps.run("second", lambda: (_ for _ in ()).throw(StepFailed("the cause")))
    assert steps.summary() == 1
    assert out == [
        "  ok      0.25 s  first: 3 things",
        "  FAIL    0.50 s  second",
        "FAILED: second (1 step(s) passed, 3.0 s)",
    ]
    assert err == ["mlflow-cfn smoke: second: the cause"]


def test_wake_seconds_measures_the_wake_and_holds_it_to_the_budget(monkeypatch):
    """`smoke --wake-seconds` against a sleeping stack: the seconds from the first 503 to the
    answer, at most 5 s late (its slowest retry), checked against README's wake budget."""
    from mlflow_cfn.smoke.run import within_budget
    from mlflow_cfn.stack.components.wake import ROUTE_SECONDS, WAKE_BUDGET_SECONDS

    now = [0.0]
    healthy_at = 187.0
    monkeypatch.setattr(
        "mlflow_cfn.smoke.http.get",
        lambda url, token: Answer(200 if now[0] >= healthy_at else 503),
    )

    def sleep(seconds):
        now[0] += seconds

    answer = reach(URI, None, 300, [].append, sleep, lambda: now[0])
    assert healthy_at <= answer.waited <= healthy_at + 5
    assert within_budget(answer.waited).startswith(f"woke in {answer.waited:.0f} s")
    assert reach(URI, None, 300, [].append, sleep, lambda: now[0]).waited == 0  # awake: no wait
    with pytest.raises(StepFailed, match=r"^woke in 211 s \(allowed 210 s"):
        within_budget(WAKE_BUDGET_SECONDS + ROUTE_SECONDS + 6)
