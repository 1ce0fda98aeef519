"""Idle shutdown with a wake path, on the evaluated template: which resources exist, what the
idle alarm reads and invokes, how requests reach the wake function while the service sleeps (and
only through the login that guards the service), what the function may do, and how it composes
with the working-hours schedule, target tracking and the task count. The control loop itself is
simulated in tests/unit/test_wake_simulation.py."""

from __future__ import annotations

import json

import pytest

from mlflow_cfn.stack.components.wake import ASLEEP, handler_source
from tests.conftest import lint
from tests.template.modes import HTTPS, rendered, stack, template
from tests.template.test_alarms import metric_math

IDLE = {"IdleShutdownMinutes": "30"}
SCHEDULE = {
    "ScaleUpSchedule": "cron(0 7 ? * MON-FRI *)",
    "ScaleDownSchedule": "cron(0 20 ? * MON-FRI *)",
    "ScaleDownTasks": "0",
}
NEW = (
    "IdleShutdownAlarm", "WakeFunction", "WakeFunctionRole", "WakeFunctionLogGroup",
    "WakeTargetGroup", "WakeFunctionLoadBalancerPermission", "WakeFunctionIdleAlarmPermission",
    "WakeTaskEventsRule", "WakeFunctionEventsPermission", "WakeHttpListenerRule",
)  # fmt: skip
LB = [{"Name": "LoadBalancer", "Value": "<LoadBalancer.LoadBalancerFullName>"}]
COGNITO = {**HTTPS, "AuthMode": "cognito"}


def props(evaluated, logical_id: str) -> dict:
    return evaluated.resource(logical_id)["Properties"]


def reads(alarm: dict) -> dict[str, tuple[str, str, int]]:
    return {
        q["Id"]: (q["MetricStat"]["Metric"]["MetricName"], q["MetricStat"]["Stat"],
                  q["MetricStat"]["Period"])
        for q in alarm["Metrics"] if not q["ReturnData"]
    }  # fmt: skip


def one_period(alarm: dict, **values: float | None) -> bool:
    """Whether the alarm's expression breaches for one minute's values (None: no datapoint)."""
    (expression,) = [q["Expression"] for q in alarm["Metrics"] if q["ReturnData"]]
    value = metric_math(expression, **values)
    if value is None:
        return alarm["TreatMissingData"] == "breaching"
    return value < float(alarm["Threshold"])


def test_off_by_default_and_the_service_keeps_its_task_count():
    s = stack()
    assert not set(NEW) & set(s.resources)
    assert "ScalableTarget" not in s.resources
    assert str(props(s, "Service")["DesiredCount"]) == "1"


def test_on_the_task_count_belongs_to_application_auto_scaling_with_a_floor_of_zero():
    s = stack(**IDLE)
    assert set(NEW) <= set(s.resources)
    target = props(s, "ScalableTarget")
    assert (str(target["MinCapacity"]), str(target["MaxCapacity"])) == ("0", "2")
    assert "DesiredCount" not in props(s, "Service")  # a stack update never resets it


def test_nothing_adds_a_task_on_errors_no_step_policy_and_no_5xx_alarm():
    """Issue 24, item 2: a load balancer 5xx while tasks run (502 during a replacement, 504 on a
    slow transfer, errors a client provokes) added a task each cooldown, up to MaxTasks. Only
    the wake function moves the count from 0, and only from 0."""
    s = stack(**IDLE, ScalingMetric="cpu")
    kinds = {r["Type"] for r in s.resources.values()}
    policies = [r for r in s.resources.values() if r["Type"].endswith("ScalingPolicy")]
    assert [p["Properties"]["PolicyType"] for p in policies] == ["TargetTrackingScaling"]
    assert "AWS::CloudWatch::Alarm" in kinds
    alarms = [
        r["Properties"] for r in s.resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"
    ]
    assert not any("HTTPCode_ELB_5XX_Count" in json.dumps(a) and "Wake" in json.dumps(a)
                   for a in alarms)  # fmt: skip
    assert "WakeOnRequestAlarm" not in s.resources and "WakeOnRequestPolicy" not in s.resources


def test_the_idle_alarm_invokes_the_function_after_that_many_minutes_without_traffic():
    s = stack(**IDLE)
    alarm = props(s, "IdleShutdownAlarm")
    assert reads(alarm) == {
        "requests": ("RequestCount", "Sum", 60),
        "connections": ("ActiveConnectionCount", "Sum", 60),
    }
    for query in alarm["Metrics"]:
        if not query["ReturnData"]:
            assert query["MetricStat"]["Metric"]["Dimensions"] == LB
    assert (str(alarm["EvaluationPeriods"]), str(alarm["DatapointsToAlarm"])) == ("30", "30")
    assert alarm["AlarmActions"] == ["<WakeFunction.Arn>"]
    assert "OKActions" not in alarm
    # Idle: no request answered (by a task or by the function) and no connection open.
    assert one_period(alarm, requests=None, connections=None)
    assert one_period(alarm, requests=0, connections=None)
    assert not one_period(alarm, requests=2, connections=None)
    assert not one_period(alarm, requests=None, connections=1)  # a long transfer, a tab open
    permission = props(s, "WakeFunctionIdleAlarmPermission")
    assert permission["Principal"] == "lambda.alarms.cloudwatch.amazonaws.com"
    assert permission["SourceArn"] == "<IdleShutdownAlarm.Arn>"
    assert permission["SourceAccount"] == "123456789012"


def test_an_idle_period_is_a_few_minutes_at_least():
    from mlflow_cfn.stack.plan import evaluate_checked
    from tests.template.modes import REQUIRED, template
    from tests.template.test_constraints import refusals

    for short in ("1", "2", "3", "4"):
        assert any("IdleShutdownMinutes" in e for e in refusals(IdleShutdownMinutes=short)), short
    assert any("IdleShutdownMinutes" in e for e in refusals(IdleShutdownMinutes="1441"))
    for fine in ("0", "5", "1440"):
        evaluate_checked(template(), {**REQUIRED, "IdleShutdownMinutes": fine})


@pytest.mark.parametrize(
    ("parameters", "rules"),
    [
        (IDLE, {"WakeHttpListenerRule": ("HttpListener", 1)}),
        ({**IDLE, **HTTPS}, {"WakeListenerRule": ("HttpsListener", 3)}),
        ({**IDLE, **COGNITO}, {"WakeBearerTokenListenerRule": ("HttpsListener", 1),
                               "WakeListenerRule": ("HttpsListener", 3)}),
    ],
    ids=["http", "https", "https-with-login"],
)  # fmt: skip
def test_while_asleep_every_request_the_service_would_get_reaches_the_function(parameters, rules):
    s = stack(**parameters)
    wake = {k for k in s.resources if k.startswith("Wake") and k.endswith("ListenerRule")}
    assert wake == set(rules)
    for logical_id, (listener, priority) in rules.items():
        rule = props(s, logical_id)
        assert (rule["ListenerArn"], rule["Priority"]) == (f"<{listener}>", priority)
        forward = rule["Actions"][-1]
        assert forward == {"Type": "forward", "TargetGroupArn": "<WakeTargetGroup>", "Order": 2}
        (path,) = [c for c in rule["Conditions"] if c["Field"] == "path-pattern"]
        assert path["PathPatternConfig"]["Values"] == ASLEEP == ["*"]


def test_login_still_comes_first_so_strangers_wake_nothing():
    s = stack(**IDLE, **COGNITO)
    browsers = props(s, "WakeListenerRule")["Actions"]
    assert browsers[0]["Type"] == "authenticate-cognito" and browsers[0]["Order"] == 1
    tokens = props(s, "WakeBearerTokenListenerRule")
    assert tokens["Actions"][0]["Type"] == "jwt-validation"
    assert {
        "Field": "http-header",
        "HttpHeaderConfig": {"HttpHeaderName": "Authorization", "Values": ["Bearer *"]},
    } in tokens["Conditions"]
    # The token rule that forwards to the tasks gave priority 1 to the wake rule, first.
    assert props(s, "BearerTokenListenerRule")["Priority"] == 2
    assert "BearerTokenListenerRule" in s.resource("WakeBearerTokenListenerRule")["DependsOn"]


def test_the_function_is_a_load_balancer_target_only_of_this_stack():
    s = stack(**IDLE)
    group = props(s, "WakeTargetGroup")
    assert group["TargetType"] == "lambda"
    assert group["Targets"] == [{"Id": "<WakeFunction.Arn>"}]
    assert "WakeFunctionLoadBalancerPermission" in s.resource("WakeTargetGroup")["DependsOn"]
    permission = props(s, "WakeFunctionLoadBalancerPermission")
    assert permission["Principal"] == "elasticloadbalancing.amazonaws.com"
    assert permission["SourceAccount"] == "123456789012"
    name = group["Name"]
    assert permission["SourceArn"].endswith(f":targetgroup/{name}/*")
    assert len(name) <= 32 and name.startswith("mlflow-wake-")


def test_the_function_runs_the_committed_source_within_lambdas_inline_limit():
    s = stack(**IDLE)
    function = props(s, "WakeFunction")
    assert function["Code"]["ZipFile"] == handler_source()
    assert len(handler_source().encode()) <= 4096
    assert function["Handler"] == "index.handler"
    env = function["Environment"]["Variables"]
    assert env["SERVICE"] == "<Service.Name>" and env["TARGET_GROUP"] == "<TargetGroup>"
    assert env["GROUP"] == f":targetgroup/{props(s, 'WakeTargetGroup')['Name']}/"


def test_the_functions_role_reaches_this_service_its_rules_and_its_bucket_only():
    s = stack(**IDLE)
    (policy,) = props(s, "WakeFunctionRole")["Policies"]
    grants = {}
    for statement in policy["PolicyDocument"]["Statement"]:
        for action in statement["Action"]:
            grants[action] = statement["Resource"]
    assert grants["ecs:UpdateService"] == ["<Service>"]
    # The rules of this load balancer's listeners: listener/... -> listener-rule/.../*.
    assert grants["elasticloadbalancing:ModifyRule"] == ["<HttpListener>/*"]
    raw = json.dumps(template()["Resources"]["WakeFunctionRole"])
    assert '":listener-rule/", {"Fn::Split": [":listener/", {"Ref": "HttpListener"}]}' in raw
    assert grants["s3:ListBucketMultipartUploads"] == ["<ArtifactBucket.Arn>"]
    assert grants["cloudwatch:SetAlarmState"] == [
        "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:mlflow-IdleShutdownAlarm-*"
    ]
    stars = {a for a, r in grants.items() if r == ["*"]}
    assert stars == {"elasticloadbalancing:DescribeTargetHealth",
                     "elasticloadbalancing:DescribeRules",
                     "application-autoscaling:DescribeScalableTargets"}  # fmt: skip


def test_task_events_reach_the_function_for_this_service_only():
    s = stack(**IDLE)
    pattern = props(s, "WakeTaskEventsRule")["EventPattern"]
    assert pattern["detail-type"] == ["ECS Task State Change"]
    assert pattern["detail"]["group"] == ["service:<Service.Name>"]
    assert pattern["detail"]["lastStatus"] == ["RUNNING", "STOPPED"]


def test_a_starting_task_is_healthy_within_ten_seconds_and_a_stopping_one_drains():
    from mlflow_cfn.cfn.schemas import resource_schema

    group = props(stack(), "TargetGroup")
    assert (group["HealthCheckIntervalSeconds"], group["HealthyThresholdCount"]) == (5, 2)
    schema = resource_schema("AWS::ElasticLoadBalancingV2::TargetGroup")["properties"]
    assert group["HealthCheckIntervalSeconds"] == schema["HealthCheckIntervalSeconds"]["minimum"]
    assert group["HealthCheckTimeoutSeconds"] >= schema["HealthCheckTimeoutSeconds"]["minimum"]
    assert group["HealthCheckTimeoutSeconds"] < group["HealthCheckIntervalSeconds"]
    attributes = {a["Key"]: a["Value"] for a in group["TargetGroupAttributes"]}
    assert attributes["deregistration_delay.timeout_seconds"] == "3600"


@pytest.mark.parametrize(
    ("parameters", "morning_floor"),
    [({**SCHEDULE}, "1"), ({**SCHEDULE, **IDLE}, "0")],
    ids=["schedule", "schedule-and-idle-shutdown"],
)
def test_with_a_schedule_the_night_is_the_schedules_and_the_day_idle_shutdowns(
    parameters, morning_floor
):
    actions = {
        a["ScheduledActionName"]: a["ScalableTargetAction"]
        for a in props(stack(**parameters), "ScalableTarget")["ScheduledActions"]
    }
    start, end = actions["working-hours-start"], actions["working-hours-end"]
    assert (str(start["MinCapacity"]), str(start["MaxCapacity"])) == (morning_floor, "2")
    # Outside working hours ScaleDownTasks is floor and ceiling: a request at night wakes nothing
    # (the function reads MaxCapacity 0 and answers that MLflow is stopped).
    assert (str(end["MinCapacity"]), str(end["MaxCapacity"])) == ("0", "0")


def test_with_target_tracking_both_scale_the_same_target_and_idle_shutdown_sets_the_floor():
    s = stack(**IDLE, ScalingMetric="requests", MinTasks="2", MaxTasks="4")
    assert str(props(s, "ScalableTarget")["MinCapacity"]) == "0"
    assert props(s, "ScalingPolicy")["ScalingTargetId"] == "<ScalableTarget>"
    assert props(s, "WakeFunction")["Environment"]["Variables"]["RESOURCE_ID"] == (
        "service/<EcsCluster>/<Service.Name>"
    )


def test_every_combination_with_idle_shutdown_is_lint_clean():
    for extra in ({}, SCHEDULE, {"ScalingMetric": "cpu"}, COGNITO):
        assert lint(rendered(**IDLE, **extra), informational=True) == [], extra
