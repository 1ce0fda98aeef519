"""A discrete-event model of what idle shutdown touches, for the offline simulation of its
control loop (``test_wake_simulation.py``): the load balancer, its metrics and the idle alarm,
ECS and Fargate, Application Auto Scaling, S3 multipart uploads, and the wake function itself
(the real handler, ``mlflow_cfn/stack/functions/wake.py``, whose AWS calls are checked against
botocore's service models and answered from this model).

Each rule of the model quotes the documentation it implements; each duration is a range from the
README's wake budget (``TIMINGS``), drawn per event from a seeded random generator.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import botocore.session
from botocore.validate import validate_parameters

from mlflow_cfn.stack.components.load_balancer import (
    DRAIN_SECONDS,
    HEALTH_CHECK_INTERVAL_SECONDS,
    HEALTHY_THRESHOLD,
)
from mlflow_cfn.stack.functions import wake as function

EPOCH = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
MINUTE = 60.0
#: The template's health checks and deregistration delay (components/load_balancer.py).
HEALTH_INTERVAL, HEALTHY_AFTER = float(HEALTH_CHECK_INTERVAL_SECONDS), HEALTHY_THRESHOLD
#: The load balancer's idle timeout (LoadBalancerIdleTimeoutSeconds' default): a client's
#: connection stays open this long after its last request (a browser tab keeps it).
IDLE_TIMEOUT = 300.0

#: The wake budget's terms (README, "The wake budget"), each a range in seconds.
TIMINGS = {
    # "The Init phase is limited to 10 seconds" (Lambda Developer Guide, execution environment
    # lifecycle); a warm function starts in milliseconds.
    "function_start": (0.05, 10.0),
    # ECS places the task and attaches its network interface: "adds an overhead of several
    # seconds" (Amazon ECS Developer Guide, "Optimize Amazon ECS task launch time").
    "placement": (2.0, 15.0),
    # Fargate pulls the -full image: no AWS figure; the acceptance suite measures it
    # (image-pull-time), the budget allows 90 s.
    "pull": (20.0, 90.0),
    # "It can take up to 15 seconds for the database to resume" (AWS Database Blog,
    # "Introducing scaling to 0 capacity with Amazon Aurora Serverless v2").
    "database_resume": (0.0, 15.0),
    # /health answers 5-7 s after start on an existing database, about 10 s on a fresh one,
    # the basic-auth app adds up to 2 s (MLFLOW-RUNTIME.md, measured).
    "server_start": (5.0, 12.0),
    # EventBridge delivers the ECS task event and starts the function.
    "event_delivery": (0.5, 10.0),
    # A minute's load balancer datapoint becomes visible this long after the minute ends.
    "metric_lag": (10.0, 180.0),
}


@dataclass
class Task:
    started: float
    running_at: float  # the container runs: ECS registers the task with the target group
    answers_at: float  # /health answers 200
    first_check: float  # the load balancer's first health check after registration
    state: str = "pending"  # pending, running, draining, stopped
    in_flight: int = 0

    def healthy(self, now: float) -> bool:
        """Healthy after HEALTHY_AFTER consecutive successful checks (Elastic Load Balancing
        User Guide, "Health checks for your target groups": HealthyThresholdCount)."""
        if self.state != "running":
            return False
        first_ok = self.first_check
        while first_ok < self.answers_at:
            first_ok += HEALTH_INTERVAL
        return now >= first_ok + (HEALTHY_AFTER - 1) * HEALTH_INTERVAL

    def healthy_at(self) -> float:
        t = self.first_check
        while t < self.answers_at:
            t += HEALTH_INTERVAL
        return t + (HEALTHY_AFTER - 1) * HEALTH_INTERVAL


@dataclass
class Metrics:
    """Per-minute sums the load balancer publishes. "If there are requests flowing through the
    load balancer, Elastic Load Balancing measures and sends its metrics in 60-second
    intervals. If there are no requests flowing through the load balancer or no data for a
    metric, the metric is not reported." "Metrics for Application Load Balancers exclude health
    check requests." (ELB User Guide, "CloudWatch metrics for your Application Load Balancer")."""

    requests: dict[int, int] = field(default_factory=dict)
    connections: dict[int, int] = field(default_factory=dict)
    visible_at: dict[tuple[str, int], float] = field(default_factory=dict)

    def count(self, name: str, minute: int) -> None:
        series = getattr(self, name)
        series[minute] = series.get(minute, 0) + 1

    def seen(self, name: str, minute: int, now: float) -> int | None:
        """The datapoint as CloudWatch has it at ``now``: None until published (late, out of
        order across minutes, or never: missing)."""
        value = getattr(self, name).get(minute)
        at = self.visible_at.get((name, minute))
        return value if value and at is not None and at <= now else None


@dataclass
class World:
    """The model. ``run(until)`` processes events in time order."""

    seed: int
    idle_minutes: int = 5
    missing: float = 0.05  # share of non-zero datapoints never published
    worst: bool = False  # every duration at the top of its range
    now: float = 0.0
    desired: int = 0
    bounds: tuple[int, int] = (0, 2)
    tasks: list[Task] = field(default_factory=list)
    uploads: list[tuple[str, float]] = field(default_factory=list)  # S3 multipart: key, start
    rules_asleep: bool = True
    alarm_state: str = "ALARM"  # asleep: nothing has reached the load balancer for a while
    metrics: Metrics = field(default_factory=Metrics)
    log: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    wakes: list[float] = field(default_factory=list)  # first request at 0 tasks -> healthy
    _queue: list = field(default_factory=list)
    _seq: itertools.count = field(default_factory=itertools.count)
    _woken_at: float | None = None
    _function_warm_until: float = -1.0

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        self.models = botocore.session.get_session()
        self.at(MINUTE - 1, self._evaluate_alarm)

    # --- the event loop -------------------------------------------------------------------
    def draw(self, term: str) -> float:
        low, high = TIMINGS[term]
        return high if self.worst else self.random.uniform(low, high)

    def at(self, when: float, action, *args) -> None:
        heapq.heappush(self._queue, (when, next(self._seq), action, args))

    def run(self, until: float) -> None:
        while self._queue and self._queue[0][0] <= until:
            when, _, action, args = heapq.heappop(self._queue)
            self.now = max(self.now, when)
            action(*args)
        self.now = max(self.now, until)

    def sleep(self, seconds: float) -> None:
        """The function's time.sleep: the rest of the world moves on meanwhile."""
        self.run(self.now + seconds)

    # --- the load balancer ----------------------------------------------------------------
    def healthy(self) -> list[Task]:
        return [t for t in self.tasks if t.healthy(self.now)]

    def request(self, path: str, seconds: float, answer, *, browser: bool = False) -> None:
        """One request: the wake rules match "*" while asleep and the status path while awake
        (rules are evaluated in priority order before the default action, ELB User Guide,
        "Listener rules"); otherwise the target group's healthy targets serve it, and with none
        the load balancer answers 503 itself."""
        minute = int(self.now // MINUTE)
        self._connection(self.now, self.now + seconds)
        if self.rules_asleep or path == function.E.get("STATUS_PATH"):
            self.metrics.count("requests", minute)  # a Lambda target is a target
            self._invoke({"requestContext": {"elb": {}}, "path": path,
                          "headers": {"accept": "text/html" if browser else "*/*"}},
                         answer, self.now)  # fmt: skip
            return
        targets = self.healthy()
        if not targets:
            answer(503, {})
            return
        target = self.random.choice(targets)
        target.in_flight += 1
        self.metrics.count("requests", minute)
        self.at(self.now + seconds, self._served, target, answer)

    def _served(self, target: Task, answer) -> None:
        target.in_flight -= 1
        if target.state == "stopped":
            self.violations.append(f"{self.now:.0f}: a request was cut by a task stopping")
        answer(200, {})

    def _connection(self, start: float, end: float) -> None:
        """ActiveConnectionCount: "the total number of concurrent TCP connections active from
        clients to the load balancer and from the load balancer to targets"; the connection
        stays open until the load balancer's idle timeout after its last byte."""
        for minute in range(int(start // MINUTE), int((end + IDLE_TIMEOUT) // MINUTE) + 1):
            self.metrics.count("connections", minute)
            self._publish(minute)

    def _publish(self, minute: int) -> None:
        for name in ("requests", "connections"):
            self._publish_one(name, minute)

    def _publish_one(self, name: str, minute: int) -> None:
        """When the datapoint of ``minute`` becomes visible: a lag after the minute ends, or
        never (missing)."""
        if (name, minute) in self.metrics.visible_at:
            return
        if self.random.random() < self.missing:
            self.metrics.visible_at[(name, minute)] = float("inf")
        else:
            lag = self.draw("metric_lag")
            self.metrics.visible_at[(name, minute)] = (minute + 1) * MINUTE + lag

    # --- the idle alarm -------------------------------------------------------------------
    def _idle_minute(self, minute: int) -> bool:
        """The alarm's expression for one minute, with what CloudWatch has so far:
        FILL(requests, 0) + FILL(connections, 0) < 1."""
        m, now = self.metrics, self.now
        traffic = (m.seen("requests", minute, now) or 0) + (m.seen("connections", minute, now) or 0)
        return traffic < 1

    def _evaluate_alarm(self) -> None:
        """Each minute: the expression 1 for idle_minutes periods in a row is ALARM.
        "CloudWatch alarms guarantees an asynchronous invocation of the Lambda function for a
        given state change" (CloudWatch User Guide, "Invoke a Lambda function from an alarm"):
        once per change, not each minute in ALARM."""
        last = int(self.now // MINUTE) - 1
        idle = all(self._idle_minute(m) for m in range(last - self.idle_minutes + 1, last + 1))
        state = "ALARM" if idle else "OK"
        if state == "ALARM" and self.alarm_state != "ALARM":
            event = {"alarmData": {"alarmName": "stack-IdleShutdownAlarm-X",
                                   "state": {"value": "ALARM"}}}  # fmt: skip
            self.at(self.now + self.draw("event_delivery"), self._invoke, event, None)
        self.alarm_state = state
        self.at(self.now + MINUTE, self._evaluate_alarm)

    # --- ECS ------------------------------------------------------------------------------
    def set_desired(self, count: int, by: str) -> None:
        """The service scheduler starts or stops tasks until the running count equals the
        desired count (Amazon ECS Developer Guide, "Amazon ECS services")."""
        if by == "wake" and count > self.desired and self.healthy():
            self.violations.append(f"{self.now:.0f}: the wake added a task while one is healthy")
        if by == "wake" and count == 0 and self._uploading():
            self.violations.append(f"{self.now:.0f}: the service stopped during an upload")
        self.log.append(f"{self.now:.0f} {by}: count {self.desired} -> {count}")
        self.desired = count
        active = [t for t in self.tasks if t.state in ("pending", "running")]
        for _ in range(count - len(active)):
            self._start_task()
        for task in active[count:]:
            self._drain(task)

    def _start_task(self) -> None:
        start = self.now
        running = start + self.draw("placement") + self.draw("pull")
        answers = running + self.draw("database_resume") + self.draw("server_start")
        task = Task(start, running, answers, running + self.random.uniform(0, HEALTH_INTERVAL))
        self.tasks.append(task)
        self.at(running, self._running, task)

    def _running(self, task: Task) -> None:
        if task.state != "pending":
            return
        task.state = "running"
        self.at(task.healthy_at(), self._became_healthy, task)
        self._task_event(task, "RUNNING")

    def _became_healthy(self, task: Task) -> None:
        if self._woken_at is not None and task.healthy(self.now):
            self.wakes.append(self.now - self._woken_at)
            self._woken_at = None

    def _drain(self, task: Task) -> None:
        """ "Elastic Load Balancing stops sending requests to targets that are deregistering";
        "If a deregistering target has no in-flight requests and no active connections, Elastic
        Load Balancing immediately completes the deregistration process, without waiting for
        the deregistration delay to elapse." (ELB User Guide, "Deregistration delay")."""
        task.state = "draining"
        self._drained(task, self.now + DRAIN_SECONDS)

    def _drained(self, task: Task, deadline: float) -> None:
        if task.in_flight and self.now < deadline:
            self.at(self.now + 1, self._drained, task, deadline)
            return
        task.state = "stopped"
        self._task_event(task, "STOPPED")

    def _task_event(self, task: Task, status: str) -> None:
        event = {"detail-type": "ECS Task State Change", "detail": {"lastStatus": status}}
        self.at(self.now + self.draw("event_delivery"), self._invoke, event, None)

    # --- Application Auto Scaling -----------------------------------------------------------
    def schedule(self, when: float, low: int, high: int) -> None:
        """A scheduled action sets the bounds; "if the current capacity is outside the new
        range, Application Auto Scaling scales to the nearest bound" (Application Auto Scaling
        User Guide, "Scheduled scaling")."""

        def act() -> None:
            self.bounds = (low, high)
            clamped = min(max(self.desired, low), high)
            if clamped != self.desired:
                self.set_desired(clamped, "schedule")

        self.at(when, act)

    # --- S3 -------------------------------------------------------------------------------
    def _uploading(self) -> bool:
        return any(self.now - start < function.UPLOAD_SECONDS for _, start in self.uploads)

    # --- the function ---------------------------------------------------------------------
    def _invoke(self, event: dict, answer, arrival: float | None = None) -> None:
        cold = self.now > self._function_warm_until
        start = self.draw("function_start") if cold else 0.01
        self.at(self.now + start, self._handle, event, answer, arrival)

    def _handle(self, event: dict, answer, arrival: float | None) -> None:
        self._function_warm_until = self.now + 600
        before = self.desired
        context = SimpleNamespace(get_remaining_time_in_millis=lambda: 150_000)
        response = function.handler(event, context)
        if arrival is not None and before == 0 and self.desired and self._woken_at is None:
            self._woken_at = arrival
        if answer is not None:
            answer(response["statusCode"], response["headers"])

    def client(self, service: str) -> FakeClient:
        return FakeClient(self, service)

    def clock(self) -> SimpleNamespace:
        """The function's ``time`` module."""
        return SimpleNamespace(time=lambda: EPOCH.timestamp() + self.now, sleep=self.sleep)


class FakeClient:
    """A boto3 client of this world: parameters checked against botocore's model of the
    operation, answers built from the world's state."""

    def __init__(self, world: World, service: str):
        self.world, self.service = world, service
        self.model = world.models.get_service_model(service)

    def _check(self, operation: str, params: dict) -> None:
        names = {self.model.operation_model(o).name: o for o in self.model.operation_names}
        camel = "".join(part.capitalize() for part in operation.split("_"))
        wanted = {n.lower(): n for n in names}[camel.lower()]
        validate_parameters(params, self.model.operation_model(wanted).input_shape)

    def __getattr__(self, operation: str):
        def call(**params):
            self._check(operation, params)
            return getattr(self, f"_{operation}")(**params)

        return call

    def get_paginator(self, operation: str):
        client = self

        class Paginator:
            def paginate(self, **params):
                client._check(operation, params)
                return [getattr(client, f"_{operation}")(**params)]

        return Paginator()

    def _describe_services(self, cluster, services):
        return {"services": [{"desiredCount": self.world.desired}]}

    def _update_service(self, cluster, service, desiredCount):
        self.world.set_desired(desiredCount, "wake")
        return {}

    def _describe_scalable_targets(self, ServiceNamespace, ResourceIds):
        low, high = self.world.bounds
        return {"ScalableTargets": [{"MinCapacity": low, "MaxCapacity": high}]}

    def _describe_target_health(self, TargetGroupArn):
        w = self.world
        states = [
            "healthy" if t.healthy(w.now) else ("draining" if t.state == "draining" else "initial")
            for t in w.tasks
            if t.state in ("running", "draining")
        ]
        return {"TargetHealthDescriptions": [{"TargetHealth": {"State": s}} for s in states]}

    def _describe_rules(self, ListenerArn):
        paths = ["*"] if self.world.rules_asleep else [function.E["STATUS_PATH"]]
        path = {"Field": "path-pattern", "Values": paths, "PathPatternConfig": {"Values": paths}}
        wake = {
            "RuleArn": "arn:wake-rule",
            "Conditions": [path],
            "Actions": [{"Type": "forward", "TargetGroupArn": "arn" + function.E["GROUP"]}],
        }
        default = {
            "RuleArn": "arn:default",
            "Conditions": [],
            "IsDefault": True,
            "Actions": [{"Type": "forward", "TargetGroupArn": "arn:tg/mlflow/"}],
        }
        return {"Rules": [wake, default]}  # fmt: skip

    def _modify_rule(self, RuleArn, Conditions):
        assert RuleArn == "arn:wake-rule", RuleArn
        (path,) = [c for c in Conditions if c["Field"] == "path-pattern"]
        self.world.rules_asleep = path["PathPatternConfig"]["Values"] == ["*"]
        self.world.log.append(f"{self.world.now:.0f} wake: asleep={self.world.rules_asleep}")
        return {}

    def _list_multipart_uploads(self, Bucket, Prefix):
        return {
            "Uploads": [
                {"Key": key, "Initiated": EPOCH + timedelta(seconds=start)}
                for key, start in self.world.uploads
            ]
        }

    def _set_alarm_state(self, AlarmName, StateValue, StateReason):
        self.world.alarm_state = StateValue
        return {}
