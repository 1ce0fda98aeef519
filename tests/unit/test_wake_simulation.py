"""The control loop of idle shutdown, simulated offline (``wake_world.py``): the real wake
function against a model of the load balancer, its late, missing and out-of-order metrics, the
idle alarm evaluated each minute, ECS and Fargate (placement, pull, start, health checks,
draining), Application Auto Scaling's schedule and S3 multipart uploads; the client is MLflow
3.17's own retry configuration (urllib3's Retry as MLflow builds it). Timings are drawn from the
wake budget's documented ranges, with many seeds.

What it shows: a request to a stopped service always wakes it and the default client gets its
answer; the wake never adds a task while one is healthy, so 5xx while tasks run add nothing;
nothing stops while a request or a direct upload is in flight; and every wake meets the budget.
"""

from __future__ import annotations

import types

import pytest

from mlflow_cfn.stack.components.wake import STATUS_PATH, TIMEOUT_SECONDS
from mlflow_cfn.stack.functions import wake as function
from tests.unit.wake_world import MINUTE, TIMINGS, World

#: README, "The wake budget": first request to a healthy target.
BUDGET_SECONDS = 200
SEEDS = range(40)
ENVIRONMENT = {
    "CLUSTER": "cluster", "SERVICE": "mlflow", "RESOURCE_ID": "service/cluster/mlflow",
    "TARGET_GROUP": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/mlflow/1",
    "LISTENERS": "arn:listener/http,", "GROUP": ":targetgroup/mlflow-wake-0a1b2c3d4e5f/",
    "STATUS_PATH": STATUS_PATH, "BUCKET": "artifacts", "PREFIX": "mlflow",
}  # fmt: skip
SEARCH = "/api/2.0/mlflow/experiments/search"


@pytest.fixture
def make(monkeypatch):
    """A world wired to the function, and urllib3's retry sleeps on the world's clock."""
    import urllib3.util.retry

    slept: list[float] = []
    monkeypatch.setattr(
        urllib3.util.retry, "time", types.SimpleNamespace(sleep=slept.append, time=lambda: 0.0)
    )
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)

    def world(seed: int, **settings) -> World:
        w = World(seed, **settings)
        w.slept = slept
        monkeypatch.setattr(function, "client", w.client)
        monkeypatch.setattr(function, "time", w.clock())
        return w

    return world


def default_retry():
    """The Retry a default MLflow 3.17 client sends each request with."""
    from mlflow.environment_variables import (
        MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR,
        MLFLOW_HTTP_REQUEST_BACKOFF_JITTER,
        MLFLOW_HTTP_REQUEST_MAX_RETRIES,
        MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER,
    )
    from mlflow.utils.request_utils import _TRANSIENT_FAILURE_RESPONSE_CODES, _get_request_session

    session = _get_request_session(
        MLFLOW_HTTP_REQUEST_MAX_RETRIES.get(),
        MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR.get(),
        MLFLOW_HTTP_REQUEST_BACKOFF_JITTER.get(),
        _TRANSIENT_FAILURE_RESPONSE_CODES,
        True,
        MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER.get(),
    )
    return session.get_adapter("https://mlflow.example.com").max_retries


class Client:
    """One MLflow client call: tried, and tried again as urllib3 decides (Retry-After honoured
    for 503, else exponential backoff with jitter), until it gets an answer or gives up."""

    def __init__(self, world: World, seconds: float = 0.2, path: str = SEARCH):
        self.world, self.seconds, self.path = world, seconds, path
        self.retry, self.began, self.outcome = default_retry(), world.now, None
        self.tries = 0
        world.at(world.now, self.go)

    def go(self) -> None:
        self.tries += 1
        self.world.request(self.path, self.seconds, self.answered)

    def answered(self, status: int, headers: dict) -> None:
        from urllib3 import HTTPResponse
        from urllib3.exceptions import MaxRetryError

        w = self.world
        if status == 200 or not self.retry.is_retry("POST", status, "Retry-After" in headers):
            self.outcome = (status, w.now - self.began)
            return
        response = HTTPResponse(status=status, headers=headers)
        try:
            self.retry = self.retry.increment("POST", self.path, response=response)
        except MaxRetryError:
            self.outcome = (status, w.now - self.began)
            return
        before = len(w.slept)
        self.retry.sleep(response)
        w.at(w.now + sum(w.slept[before:]), self.go)


def asleep(world: World) -> World:
    """The service at 0 tasks, the rules on the wake path (as the function leaves them)."""
    assert world.desired == 0 and world.rules_asleep
    return world


@pytest.mark.parametrize("seed", SEEDS)
def test_a_request_to_a_stopped_service_wakes_it_within_the_budget(make, seed):
    world = asleep(make(seed))
    world.run(10 * MINUTE)
    client = Client(world)
    world.run(world.now + 10 * MINUTE)
    assert client.outcome is not None and client.outcome[0] == 200, (client.outcome, world.log)
    assert len(world.wakes) == 1 and world.wakes[0] <= BUDGET_SECONDS, world.wakes
    assert client.outcome[1] <= world.wakes[0] + int(function.RETRY_AFTER) + 20
    assert world.violations == []
    assert world.desired == 1 and not world.rules_asleep


def test_the_slowest_wake_the_budget_allows_still_answers_the_default_client(make):
    world = asleep(make(0, worst=True))
    client = Client(world)
    world.run(10 * MINUTE)
    wake, answered = world.wakes[0], client.outcome[1]
    print(f"\nworst-case wake {wake:.0f} s; answered after {answered:.0f} s, {client.tries} tries")
    assert world.wakes[0] <= BUDGET_SECONDS
    assert client.outcome[0] == 200
    # The window: seven retries, each sleeping the function's Retry-After.
    assert 7 * int(function.RETRY_AFTER) >= BUDGET_SECONDS + int(function.RETRY_AFTER)


def test_the_budget_is_the_sum_of_its_terms():
    slowest = sum(TIMINGS[t][1] for t in ("function_start", "placement", "pull",
                                          "database_resume", "server_start"))  # fmt: skip
    health = 5 + 5 * 1  # the first check after /health answers, then one more (2 in a row)
    assert slowest + health <= BUDGET_SECONDS
    # The function watches a new task for longer than it takes to become healthy.
    assert TIMINGS["server_start"][1] + TIMINGS["database_resume"][1] + 30 <= TIMEOUT_SECONDS


@pytest.mark.parametrize("seed", SEEDS)
def test_busy_moments_never_add_a_task_and_idle_stops_after_the_idle_minutes(make, seed):
    world = make(seed)
    Client(world)
    world.run(5 * MINUTE)
    # Heavy use for 20 minutes: many clients, some answers slow, none adds a task.
    for second in range(0, 20 * 60, 7):
        world.at(world.now + second, lambda: Client(world, seconds=world.random.uniform(0.1, 30)))
    world.run(world.now + 20 * MINUTE)
    assert world.desired == 1, world.log
    busy_until = world.now
    world.run(world.now + 30 * MINUTE)
    assert world.desired == 0 and world.rules_asleep, world.log
    stops = [line for line in world.log if "count 1 -> 0" in line]
    assert len(stops) == 1, world.log
    stopped_at = float(stops[0].split()[0])
    # Not before IdleShutdownMinutes of silence (and the connections' idle timeout).
    assert stopped_at - busy_until >= world.idle_minutes * MINUTE
    assert world.violations == []


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_a_long_request_through_the_server_is_never_cut(make, seed):
    world = make(seed, missing=0.5)  # half the datapoints never arrive
    Client(world)
    world.run(2 * MINUTE)
    upload = Client(world, seconds=40 * MINUTE)  # one streamed upload, longer than idle time
    world.run(world.now + 90 * MINUTE)
    assert upload.outcome == (200, pytest.approx(40 * MINUTE, abs=20)), upload.outcome
    assert world.violations == []


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_a_direct_multipart_upload_keeps_the_service_up_until_it_completes(make, seed):
    world = make(seed)
    Client(world)
    world.run(2 * MINUTE)
    Client(world, path="/ajax-api/2.0/mlflow/mlflow-artifacts/mpu/create/model.bin")
    world.uploads.append(("mlflow/1/model.bin", world.now))  # parts go to S3 directly
    world.run(world.now + 45 * MINUTE)
    assert world.desired == 1 and world.violations == [], world.log
    world.uploads.clear()
    done = Client(world, path="/ajax-api/2.0/mlflow/mlflow-artifacts/mpu/complete/model.bin")
    world.run(world.now + 30 * MINUTE)
    assert done.outcome[0] == 200
    assert world.desired == 0 and world.violations == [], world.log


def test_outside_working_hours_a_request_wakes_nothing_and_the_morning_does(make):
    world = make(3)
    world.schedule(0, 0, 0)  # the schedule's night: ScaleDownTasks 0 is floor and ceiling
    night = Client(world)
    world.run(10 * MINUTE)
    assert world.desired == 0 and night.outcome[0] == 503
    world.schedule(world.now, 0, 2)  # working hours: idle shutdown's floor 0
    morning = Client(world)
    world.run(world.now + 10 * MINUTE)
    assert morning.outcome[0] == 200 and world.desired == 1
    assert world.violations == []


def test_a_schedules_floor_keeps_its_tasks_and_idle_shutdown_stops_them_after_it(make):
    world = make(4)
    Client(world)  # the evening's last use
    world.run(10 * MINUTE)
    world.schedule(world.now, 1, 2)  # ScaleDownTasks 1 at night: the schedule keeps one task
    world.run(world.now + 60 * MINUTE)
    assert world.desired == 1
    assert not any("wake: count 1 -> 0" in line for line in world.log)
    world.schedule(world.now, 0, 2)  # working hours: idle shutdown's floor 0
    world.run(world.now + (world.idle_minutes + 5) * MINUTE)
    assert world.desired == 0 and world.rules_asleep and world.violations == []


def test_browsers_get_a_page_that_reloads_itself_and_clients_a_503_to_retry(make):
    import json

    world = make(5)
    page = function.answer({"path": "/", "headers": {"accept": "text/html,*/*;q=0.8"}})
    assert (page["statusCode"], page["headers"]["Retry-After"]) == (503, function.RETRY_AFTER)
    assert page["headers"]["Content-Type"] == "text/html"
    assert '<meta http-equiv="refresh" content="5">' in page["body"]
    assert function.STARTING in page["body"]
    api = function.answer({"path": SEARCH, "headers": {"accept": "application/json"}})
    assert api["statusCode"] == 503 and api["headers"]["Content-Type"] == "application/json"
    assert json.loads(api["body"])["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert world.desired == 1  # the first call woke it; the second added nothing
    world.run(10 * MINUTE)
    status = function.answer({"path": STATUS_PATH, "headers": {}})
    assert status["statusCode"] == 200 and "up" in status["body"]
    # A request the rules sent here while the tasks run (after an update reset the rules): 503
    # with a short Retry-After, and the rules go back to the tasks.
    world.rules_asleep = True
    again = function.answer({"path": SEARCH, "headers": {}})
    assert (again["statusCode"], again["headers"]["Retry-After"]) == (503, "1")
    assert not world.rules_asleep


def test_readme_budget_table_is_the_simulations_terms():
    import re

    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("#### Idle shutdown: wake budget") :]
    rows = dict(re.findall(r"^\| (\d) \| .*? \| (\d+) s \|", section, re.M))
    terms = ("function_start", "placement", "pull", "database_resume", "server_start")
    assert [int(rows[str(i + 1)]) for i in range(5)] == [TIMINGS[t][1] for t in terms]
    assert int(rows["6"]) == 10  # two checks 5 s apart, the first up to 5 s after /health
    (total,) = re.findall(r"\*\*Sum\*\* \| \*\*(\d+) s\*\*", section)
    assert int(total) == sum(int(rows[str(i)]) for i in range(1, 7)) <= BUDGET_SECONDS
    assert f"**at most {BUDGET_SECONDS} s**" in section
