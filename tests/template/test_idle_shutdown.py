"""Idle shutdown with wake on request, wired from CloudFormation resources only, on the evaluated
template: which resources exist, what each alarm reads and does, and how it composes with the
working-hours schedule, target tracking and the task count."""

from __future__ import annotations

import pytest

from tests.conftest import lint
from tests.template.modes import HTTPS, rendered, stack
from tests.template.test_alarms import metric_math

IDLE = {"IdleShutdownMinutes": "30"}
SCHEDULE = {
    "ScaleUpSchedule": "cron(0 7 ? * MON-FRI *)",
    "ScaleDownSchedule": "cron(0 20 ? * MON-FRI *)",
    "ScaleDownTasks": "0",
}
NEW = ("IdleShutdownPolicy", "IdleShutdownAlarm", "WakeOnRequestPolicy", "WakeOnRequestAlarm")
LB = [{"Name": "LoadBalancer", "Value": "<LoadBalancer.LoadBalancerFullName>"}]


def props(evaluated, logical_id: str) -> dict:
    return evaluated.resource(logical_id)["Properties"]


def reads(alarm: dict) -> dict[str, tuple[str, str, int]]:
    return {
        q["Id"]: (q["MetricStat"]["Metric"]["MetricName"], q["MetricStat"]["Stat"],
                  q["MetricStat"]["Period"])
        for q in alarm["Metrics"] if not q["ReturnData"]
    }  # fmt: skip


def one_period(alarm: dict, **values: float | None) -> bool:
    """Whether the alarm's expression breaches for one minute's values (None: no datapoint),
    with its TreatMissingData."""
    (expression,) = [q["Expression"] for q in alarm["Metrics"] if q["ReturnData"]]
    value = metric_math(expression, **values)
    if value is None:
        return alarm["TreatMissingData"] == "breaching"
    threshold = float(alarm["Threshold"])
    if alarm["ComparisonOperator"] == "LessThanThreshold":
        return value < threshold
    return value >= threshold


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


def test_the_idle_alarm_stops_the_tasks_after_that_many_minutes_without_any_request():
    s = stack(**IDLE)
    alarm = props(s, "IdleShutdownAlarm")
    assert reads(alarm) == {
        "served": ("RequestCount", "Sum", 60),
        "refused": ("HTTPCode_ELB_5XX_Count", "Sum", 60),
    }
    for query in alarm["Metrics"]:
        if not query["ReturnData"]:
            assert query["MetricStat"]["Metric"]["Dimensions"] == LB
    assert (str(alarm["EvaluationPeriods"]), str(alarm["DatapointsToAlarm"])) == ("30", "30")
    assert alarm["AlarmActions"] == ["<IdleShutdownPolicy>"]
    assert "OKActions" not in alarm
    # No datapoint (no traffic at all), or zero, is idle; a served or a refused request is not.
    assert one_period(alarm, served=None, refused=None)
    assert one_period(alarm, served=0, refused=None)
    assert not one_period(alarm, served=3, refused=None)
    assert not one_period(alarm, served=None, refused=1)  # a request while stopped: wake, not idle
    policy = props(s, "IdleShutdownPolicy")
    assert policy["PolicyType"] == "StepScaling"
    config = policy["StepScalingPolicyConfiguration"]
    assert config["AdjustmentType"] == "ExactCapacity"
    assert config["StepAdjustments"] == [{"MetricIntervalUpperBound": 0, "ScalingAdjustment": 0}]
    assert policy["ScalingTargetId"] == "<ScalableTarget>"


def test_the_wake_alarm_adds_a_task_when_the_load_balancer_refuses_a_request():
    s = stack(**IDLE)
    alarm = props(s, "WakeOnRequestAlarm")
    assert reads(alarm) == {"refused": ("HTTPCode_ELB_5XX_Count", "Sum", 60)}
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (1, 1)
    assert alarm["AlarmActions"] == ["<WakeOnRequestPolicy>"]
    assert one_period(alarm, refused=1)
    assert not one_period(alarm, refused=None) and not one_period(alarm, refused=0)
    config = props(s, "WakeOnRequestPolicy")["StepScalingPolicyConfiguration"]
    assert (config["AdjustmentType"], config["Cooldown"]) == ("ChangeInCapacity", 300)
    assert config["StepAdjustments"] == [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]


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
    # Outside working hours ScaleDownTasks is floor and ceiling: a request at night wakes nothing.
    assert (str(end["MinCapacity"]), str(end["MaxCapacity"])) == ("0", "0")


def test_with_target_tracking_both_scale_the_same_target_and_idle_shutdown_sets_the_floor():
    s = stack(**IDLE, ScalingMetric="requests", MinTasks="2", MaxTasks="4")
    assert str(props(s, "ScalableTarget")["MinCapacity"]) == "0"
    assert props(s, "ScalingPolicy")["ScalingTargetId"] == "<ScalableTarget>"
    assert props(s, "IdleShutdownPolicy")["ScalingTargetId"] == "<ScalableTarget>"


def test_login_is_unchanged_and_only_requests_the_load_balancer_forwards_can_wake_it():
    """A browser without a session is redirected to the identity provider and a bad bearer
    token gets 401, both answered by the load balancer without a target: neither is a 5xx, so
    neither wakes the service; a logged-in user's or a valid token's request is forwarded, finds
    no target (503) and wakes it."""
    s = stack(**IDLE, **HTTPS, AuthMode="cognito")
    assert reads(props(s, "WakeOnRequestAlarm"))["refused"][0] == "HTTPCode_ELB_5XX_Count"
    assert "BearerTokenListenerRule" in s.resources


def test_idle_shutdown_is_bounded_by_what_an_alarm_can_evaluate():
    from mlflow_cfn.stack.plan import evaluate_checked
    from tests.template.modes import REQUIRED, template
    from tests.template.test_constraints import refusals

    assert any("IdleShutdownMinutes" in e for e in refusals(IdleShutdownMinutes="1441"))
    evaluate_checked(template(), {**REQUIRED, "IdleShutdownMinutes": "1440"})


def test_every_combination_with_idle_shutdown_is_lint_clean():
    for extra in ({}, SCHEDULE, {"ScalingMetric": "cpu"}, {**HTTPS, "AuthMode": "cognito"}):
        assert lint(rendered(**IDLE, **extra), informational=True) == [], extra
