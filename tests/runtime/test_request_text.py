"""No request stops the server (issue 23 item 6).

The start-up script stops the server and exits 3 when the database refuses the task's
credentials, so that ECS starts a task with the current secret (test_credentials_change). It
used to decide that from the text of the server's output, and a client writes that text at
will: uvicorn logs each request line with its query string (`GET /health?x=(1045,` stopped the
0.1 server within seconds), and MLflow's security middleware logs the Host and Origin headers it
rejects. Now the text only makes the supervisor try one fresh connection of its own, and the
database's answer on that connection decides.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from importlib import resources

import pytest
import requests

from tests.runtime.conftest import LocalDatabase
from tests.runtime.harness import LB_DNS_NAME, free_port
from tests.runtime.test_container_runtime import container

pytestmark = pytest.mark.runtime

#: The texts the supervisor reads as a possible refusal, each as a client can send it.
REFUSAL_TEXTS = [
    "(1045,",
    'password authentication failed for user "mlflow_admin"',
    "Access denied for user 'mlflow_admin'",
]
#: Longer than the time the 0.1 supervisor took to stop the server after the text (under 2 s).
WATCH_SECONDS = 8


def status(url: str, path: str = "/api/2.0/mlflow/experiments/search", **headers: str) -> int:
    response = requests.get(
        f"{url}{path}",
        params={"max_results": 1},
        headers={"Host": LB_DNS_NAME.lower(), **headers},
        timeout=10,
    )
    return response.status_code


def still_serving(task, seconds: float = WATCH_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert task.process.poll() is None, f"the server stopped:\n{task.log()[-3000:]}"
        time.sleep(0.5)
    assert status(task.url) == 200


def test_request_text_in_the_access_log_stops_nothing(database, s3_endpoint):
    """The access log (the server's standard output) goes to the container's output unread."""
    task = container(database, s3_endpoint)
    task.start()
    try:
        task.wait_healthy()
        for text in REFUSAL_TEXTS:
            assert status(task.url, "/health?x=" + text) == 200
        still_serving(task)
        assert "(1045," in task.log()  # the request line did reach the log
        assert "the database refused the credentials" not in task.log()
    finally:
        task.stop()


def test_request_text_in_the_error_output_is_confirmed_and_stops_nothing(database, s3_endpoint):
    """A Host header MLflow rejects is logged to its error output, which the supervisor reads:
    the text makes it try its own connection, the database accepts it, the server goes on,
    and further texts within the minute start no other connection."""
    task = container(database, s3_endpoint)
    task.start()
    try:
        task.wait_healthy()
        for text in REFUSAL_TEXTS * 3:
            assert status(task.url, Host=text) in (400, 403)
        still_serving(task)
        log = task.log()
        assert "Rejected request with invalid Host header: (1045," in log
        assert log.count("the database accepts the credentials") == 1, log[-3000:]
        assert "the database refused the credentials" not in log
    finally:
        task.stop()


def confirm(url: str) -> subprocess.CompletedProcess:
    """The confirming connection, as the supervisor starts it: the script in its mode."""
    script = resources.files("mlflow_cfn.stack.container").joinpath("entrypoint.py").read_text()
    env = {**os.environ, "MLFLOW_CFN_SUPERVISING": "confirm", "MLFLOW_BACKEND_STORE_URI": url}
    return subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )


def test_the_confirming_connection_decides_on_the_databases_answer(database: LocalDatabase):
    """3 only when the database refuses the password; accepted 0; unreachable 1 (undecided)."""
    right = database.url.render_as_string(hide_password=False)
    wrong = database.url.set(password=database.password + "x").render_as_string(hide_password=False)
    closed = database.url.set(port=free_port()).render_as_string(hide_password=False)
    answers = {name: confirm(url) for name, url in [("right", right), ("wrong", wrong)]}
    answers["closed"] = confirm(closed)
    assert {name: done.returncode for name, done in answers.items()} == {
        "right": 0,
        "wrong": 3,
        "closed": 1,
    }, {name: done.stderr[-1000:] for name, done in answers.items()}
    for done in answers.values():
        assert database.password not in done.stderr + done.stdout
