"""The measured figures: the schema time read from the server's log lines (which the start-up
script still prints), the rotation waited out, and the wake time counted from the first request."""

from __future__ import annotations

import http.server
import threading

import pytest

from tests.aws.acceptance import measures
from tests.aws.stubs import FakeClock, Stubs
from tests.conftest import ROOT

pytestmark = pytest.mark.usefixtures("no_real_aws")

GROUP = "mfa2612071530-web-LogGroup-X"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-0a1b-AbCdEf"


@pytest.fixture
def aws():
    stubs = Stubs()
    yield stubs
    stubs.done()


def test_the_start_up_script_still_prints_the_lines_the_figure_is_read_from():
    script = (ROOT / "mlflow_cfn/stack/container/entrypoint.py").read_text()
    for text in (*measures.SCHEMA_STARTS, measures.SCHEMA_DONE, 'print(f"mlflow-cfn: {message}"'):
        assert text in script, text


def event(stream: str, seconds: float, message: str) -> dict:
    return {"logStreamName": stream, "timestamp": int(seconds * 1000), "message": message}


def test_the_schema_time_is_the_first_tasks(aws):
    first, second = "mlflow/mlflow/task-1", "mlflow/mlflow/task-2"
    events = [
        event(first, 100, "mlflow-cfn: database not reachable yet (OperationalError); retrying"),
        event(first, 130, "mlflow-cfn: empty database: creating the MLflow schema"),
        event(second, 131, "mlflow-cfn: database schema is current (abc123)"),  # waited on the lock
        event(first, 171.5, "mlflow-cfn: database schema is current (abc123)"),
        event(first, 172, "mlflow-cfn: starting mlflow server for x"),
    ]
    aws.expect(
        "logs",
        "filter_log_events",
        {
            "logGroupName": GROUP,
            "logStreamNamePrefix": "mlflow/",
            "filterPattern": '"mlflow-cfn:"',
        },
        {"events": events},
    )
    assert measures.migration_seconds(aws("logs"), GROUP) == 41.5


def test_no_schema_work_logged_is_no_figure(aws):
    aws.expect(
        "logs",
        "filter_log_events",
        {"logGroupName": GROUP, "logStreamNamePrefix": "mlflow/", "filterPattern": '"mlflow-cfn:"'},
        {"events": [event("mlflow/mlflow/t", 1, "mlflow-cfn: database schema is current (x)")]},
    )
    assert measures.migration_seconds(aws("logs"), GROUP) is None


V1, V2 = "0a1b2c3d-0000-4000-8000-000000000001", "0a1b2c3d-0000-4000-8000-000000000002"


def test_a_rotation_is_waited_for_until_a_new_version_is_current(aws):
    before = {"VersionIdsToStages": {V1: ["AWSCURRENT"]}}
    during = {"VersionIdsToStages": {V1: ["AWSCURRENT"], V2: ["AWSPENDING"]}}
    after = {"VersionIdsToStages": {V1: ["AWSPREVIOUS"], V2: ["AWSCURRENT"]}}
    call = {"SecretId": SECRET}
    aws.expect("secretsmanager", "describe_secret", call, before)
    aws.expect("secretsmanager", "rotate_secret", call)
    aws.expect("secretsmanager", "describe_secret", call, during)
    aws.expect("secretsmanager", "describe_secret", call, after)
    time = FakeClock()
    assert measures.rotate(aws("secretsmanager"), SECRET, time.clock) == V2
    assert time.slept == [10]


def test_the_wake_time_is_what_smoke_measured():
    from mlflow_cfn.smoke.run import within_budget

    output = "reach the server ... 503: the service may be waking up\n" + within_budget(151.4)
    assert measures.smoke_wake(output) == (151, 210)
    assert measures.smoke_wake("reach the server ... answered HTTP 200") is None


def test_one_request_is_one_status_and_no_answer_is_zero():
    class Sleeping(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(503)
            self.end_headers()
            self.wfile.write(b"Service Temporarily Unavailable")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Sleeping)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/health"
        assert measures.http_status(url) == 503
    finally:
        server.shutdown()
        server.server_close()
    assert measures.http_status(url) == 0


def test_a_tampered_token_differs_in_its_signature_only():
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzY29wZSI6Im1sZmxvdy9hcGkifQ.AbCdEf"
    changed = measures.tampered(token)
    assert changed == "eyJhbGciOiJSUzI1NiJ9.eyJzY29wZSI6Im1sZmxvdy9hcGkifQ.BbCdEf"
    assert measures.tampered("h.c.Zz") == "h.c.Az"
