"""What an MLflow client sees while a service scaled to zero wakes: the wake function answers 503
with Retry-After (``mlflow_cfn/stack/functions/wake.py``) until a task passes its health checks,
at most the wake budget (README: 200 s). The client's own retries (urllib3's Retry, built by
MLflow from MLFLOW_HTTP_REQUEST_MAX_RETRIES and MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR, honouring
Retry-After for 503) wait that out with the default settings. Without Retry-After (the load
balancer's own 503, which the wake rules no longer let a sleeping service give) the backoff
schedule applies.

The real client runs against a stand-in for the load balancer that answers 503 for a while, then
passes requests on to the emitted container. Waiting the default window (about four minutes)
for real would slow the suite, so the client's retry sleeps, and the 503 phase with them, last
1/MLFLOW_CFN_WAKE_TIME_SCALE of their length (20 unless set; 1 runs everything in real time).
The schedule of attempts, the Retry object and every request are the client's own.
"""

from __future__ import annotations

import os
import threading
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from mlflow_cfn.stack.functions.wake import RETRY_AFTER
from tests.runtime.conftest import LocalDatabase
from tests.runtime.harness import LB_DNS_NAME, LocalContainer
from tests.runtime.test_container_runtime import check_run, container, log_a_run
from tests.runtime.test_smoke import (
    Behaviour,
    Proxy,
)

pytestmark = pytest.mark.runtime

#: Client time is divided by this in the test (1: real time).
SCALE = float(os.environ.get("MLFLOW_CFN_WAKE_TIME_SCALE", "20"))
#: The wake budget (README, "The wake budget"): first request to a healthy target. The default
#: client, told to wait RETRY_AFTER between its 7 retries, tries for 245 s.
BUDGET_SECONDS = 200
CLIENT_VARIABLES = (
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER",
    "MLFLOW_HTTP_REQUEST_TIMEOUT",
    "MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER",
)


class Arrivals(list):
    """The proxy's record of requests (Behaviour.seen), each with the time it arrived."""

    def append(self, request: str) -> None:
        super().append((time.monotonic(), request))


@pytest.fixture(scope="module")
def server(request, s3_endpoint) -> Iterator[LocalContainer]:
    """One container on PostgreSQL for the module."""
    db: LocalDatabase = request.getfixturevalue("module_database")
    task = container(db, s3_endpoint)
    task.start()
    try:
        task.wait_healthy()
        yield task
    finally:
        task.stop()


@pytest.fixture
def load_balancer(server, monkeypatch) -> Iterator[Proxy]:
    """The stand-in for the ALB, and a client with MLflow's defaults whose retry sleeps run
    SCALE times faster."""
    import urllib3.util.retry

    for name in CLIENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    clock = urllib3.util.retry.time  # the module Retry sleeps with (sleep and time only)
    monkeypatch.setattr(
        urllib3.util.retry,
        "time",
        types.SimpleNamespace(sleep=lambda s: clock.sleep(s / SCALE), time=clock.time),
    )
    proxy = Proxy(Behaviour(upstream=server.url, host=LB_DNS_NAME.lower(), seen=Arrivals()))
    yield proxy
    proxy.close()


def client_retry(url: str):
    """The urllib3 Retry object a real MlflowClient request to ``url`` is sent with, under the
    current environment."""
    from mlflow.tracking import MlflowClient
    from mlflow.utils import request_utils

    sessions = []
    original = request_utils._get_request_session

    def spy(*args, **kwargs):
        sessions.append(original(*args, **kwargs))
        return sessions[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(request_utils, "_get_request_session", spy)
        MlflowClient(tracking_uri=url).search_experiments(max_results=1)
    return sessions[0].get_adapter(url).max_retries


def attempt_times(retry, retry_after: str | None = None) -> list[float]:
    """When each try of one request goes out (seconds after the first) with ``retry``, against
    an endpoint that answers 503 (with ``retry_after`` as Retry-After, if given): urllib3's own
    steps, as its urlopen takes them (increment, then Retry-After or the backoff sleep), without
    jitter (which only adds 0-1 s to a backoff)."""
    from urllib3 import HTTPResponse
    from urllib3.exceptions import MaxRetryError

    headers = {"Retry-After": retry_after} if retry_after else {}
    response = HTTPResponse(status=503, headers=headers)
    assert retry.is_retry("POST", 503, has_retry_after=bool(retry_after))
    retry, times = retry.new(backoff_jitter=0.0), [0.0]
    while True:
        try:
            retry = retry.increment("POST", "/", response=response)
        except MaxRetryError:
            return times
        told = retry.get_retry_after(response) if retry.respect_retry_after_header else None
        times.append(times[-1] + (told or retry.get_backoff_time()))


@contextmanager
def asleep(proxy: Proxy, seconds: float, retry_after: str | None) -> Iterator[float]:
    """The endpoint answers 503 (with ``retry_after``) for ``seconds`` of client time, then passes
    requests on. Yields when (time.monotonic()) it wakes."""
    behaviour = proxy.server.behaviour
    behaviour.always, behaviour.retry_after = 503, retry_after
    awake_at = time.monotonic() + seconds / SCALE
    timer = threading.Timer(seconds / SCALE, setattr, (behaviour, "always", None))
    timer.start()
    try:
        yield awake_at
    finally:
        timer.cancel()
        behaviour.always = behaviour.retry_after = None


def test_the_default_client_waits_longer_than_the_budget(load_balancer):
    retry = client_retry(load_balancer.url)
    times = attempt_times(retry, RETRY_AFTER)
    print(
        f"\ndefault client: {retry.total} retries, backoff factor {retry.backoff_factor}, "
        f"jitter {retry.backoff_jitter}, longest wait {retry.backoff_max}s; tries at "
        f"{', '.join(f'{t:g}' for t in times)} s; Retry-After honoured for 503: "
        f"{retry.respect_retry_after_header and 503 in retry.RETRY_AFTER_STATUS_CODES}"
    )
    assert (retry.total, retry.backoff_factor) == (7, 2)  # MLflow 3.17's defaults
    assert times == [i * int(RETRY_AFTER) for i in range(8)]
    # A try lands after the budget with a Retry-After to spare: the wake is seen by then.
    assert times[-1] >= BUDGET_SECONDS + int(RETRY_AFTER)
    assert attempt_times(retry)[-1] > BUDGET_SECONDS  # the bare backoff window, for comparison


def test_more_retries_lengthen_the_wait_up_to_mlflows_limit(load_balancer, monkeypatch):
    """MLflow refuses more than 10 retries; each wait is capped at 120 s (urllib3)."""
    from mlflow.exceptions import MlflowException

    default = attempt_times(client_retry(load_balancer.url))[-1]
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "10")
    longest = attempt_times(client_retry(load_balancer.url))[-1]
    print(f"\nwindow: {default:g}s by default, {longest:g}s with 10 retries (the limit)")
    assert longest == default + 3 * 120
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "11")
    with pytest.raises(MlflowException, match=r"in excess of the maximum allowable retries \(10\)"):
        client_retry(load_balancer.url)


@pytest.mark.parametrize(
    ("variables", "retry_after", "asleep_seconds"),
    [
        ({}, RETRY_AFTER, BUDGET_SECONDS),  # the promise: a default client waits out the budget
        ({}, RETRY_AFTER, 280),  # past the window (245 s) the client gives up
        ({"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "4"}, None, 40),  # too short a window: a clear error
        ({"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "5"}, None, 40),  # more retries: a longer wait
        ({"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "4", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "4"},
         None, 40),
    ],
    ids=["default-budget", "default-too-long", "retries-4", "retries-5", "retries-4-factor-4"],
)  # fmt: skip
def test_a_client_run_waits_out_a_wake_within_its_window(
    variables, retry_after, asleep_seconds, load_balancer, monkeypatch, tmp_path
):
    from mlflow.exceptions import MlflowException

    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    schedule = attempt_times(client_retry(load_balancer.url), retry_after)
    arrivals: Arrivals = load_balancer.server.behaviour.seen
    arrivals.clear()
    waits_long_enough = schedule[-1] > asleep_seconds
    with asleep(load_balancer, asleep_seconds, retry_after) as awake_at:
        if waits_long_enough:
            _, run_id = log_a_run(load_balancer.url, tmp_path)
        else:
            with pytest.raises(MlflowException) as failure:
                log_a_run(load_balancer.url, tmp_path)
    refused = [(t, r) for t, r in arrivals if t < awake_at]
    first_at, first = refused[0]
    tries = [(t - first_at) * SCALE for t, r in arrivals if r == first]
    print(
        f"\n{variables or 'defaults'}, 503 for {asleep_seconds}s: window {schedule[-1]:g}s; "
        f"tries at {', '.join(f'{t:.1f}' for t in tries[: len(schedule)])} s (client time)"
    )
    assert len({r for _, r in refused}) == 1, refused  # the first request, tried again
    assert len(refused) == len([t for t in schedule if t < asleep_seconds])
    if waits_long_enough:
        check_run(load_balancer.url, run_id, tmp_path / "after-wake", monkeypatch)
        return
    message = str(failure.value)
    print(f"the client's error: {message}")
    assert "Max retries exceeded" in message and "too many 503 error responses" in message
    assert len(refused) == len(arrivals) == len(schedule)  # every try made, none succeeded
