"""The alarms, their topic and the dashboard, on the evaluated template: what each alarm watches,
when it fires, whom it tells, and that a service scaled to zero cannot put any of them in ALARM."""

from __future__ import annotations

import itertools
import json

import pytest

from mlflow_cfn.cfn.evaluate import ParameterError
from tests.template.modes import stack, template

LB = {"Name": "LoadBalancer", "Value": "<LoadBalancer.LoadBalancerFullName>"}
TG = [LB, {"Name": "TargetGroup", "Value": "<TargetGroup.TargetGroupFullName>"}]
SERVICE = [
    {"Name": "ClusterName", "Value": "<EcsCluster>"},
    {"Name": "ServiceName", "Value": "<Service.Name>"},
]
DATABASE = [{"Name": "DBClusterIdentifier", "Value": "<DatabaseCluster>"}]
ALB, ECS, INSIGHTS, RDS = "AWS/ApplicationELB", "AWS/ECS", "ECS/ContainerInsights", "AWS/RDS"
GE, GT = "GreaterThanOrEqualToThreshold", "GreaterThanThreshold"

#: Single-metric alarms: namespace, metric, statistic, dimensions, threshold, comparison,
#: (period, evaluation periods, datapoints to alarm), with the default Parameters.
SINGLE = {
    "AlarmTargetServerErrors": (ALB, "HTTPCode_Target_5XX_Count", "Sum", TG, 10, GE, (300, 1, 1)),
    "AlarmSlowResponses": (ALB, "TargetResponseTime", "p95", TG, 5, GT, (300, 3, 3)),
    "AlarmRejectedConnections": (ALB, "RejectedConnectionCount", "Sum", [LB], 1, GE, (300, 1, 1)),
    "AlarmTaskMemoryHigh": (ECS, "MemoryUtilization", "Average", SERVICE, 90, GE, (300, 3, 3)),
    "AlarmDatabaseAtMaxCapacity": (RDS, "ACUUtilization", "Average", DATABASE, 90, GE, (300, 3, 3)),
}  # fmt: skip
#: Metric-math alarms: the expression, the metrics it reads by id (namespace, metric, statistic,
#: dimensions, period), threshold, comparison, (evaluation periods, datapoints to alarm).
MATH = {
    "AlarmNoHealthyTarget": (
        "IF(FILL(desired, 0) >= 1 AND FILL(healthy, 0) < 1, 1, 0)",
        {"desired": (INSIGHTS, "DesiredTaskCount", "Minimum", SERVICE, 300),
         "healthy": (ALB, "HealthyHostCount", "Maximum", TG, 300)},
        1, GE, (2, 2),
    ),
    "AlarmTasksNotRunning": (
        "FILL(desired, 0) - FILL(running, 0)",
        {"desired": (INSIGHTS, "DesiredTaskCount", "Minimum", SERVICE, 300),
         "running": (INSIGHTS, "RunningTaskCount", "Minimum", SERVICE, 300)},
        1, GE, (3, 3),
    ),
}  # fmt: skip
#: What each metric reads while no task runs and none is wanted: None where nothing is
#: published (the load balancer publishes its counts only when something was counted, and the
#: task metrics stop with the tasks); 0 where it goes on (DesiredTaskCount, the healthy target
#: count, a paused Aurora's capacity).
SCALED_TO_ZERO = {
    "HTTPCode_Target_5XX_Count": [None],
    "TargetResponseTime": [None],
    "RejectedConnectionCount": [None],
    "MemoryUtilization": [None],
    "ACUUtilization": [None, 0],
    "DesiredTaskCount": [None, 0],
    "RunningTaskCount": [None, 0],
    "HealthyHostCount": [None, 0],
}
ZERO_MODES = {
    "schedule-to-zero": {
        "ScaleUpSchedule": "cron(0 7 ? * MON-FRI *)",
        "ScaleDownSchedule": "cron(0 20 ? * MON-FRI *)",
        "ScaleDownTasks": "0",
    },
    "desired-count-zero": {"DesiredCount": "0"},
}


def alarms(evaluated) -> dict[str, dict]:
    return {k: r["Properties"] for k, r in evaluated.of_type("AWS::CloudWatch::Alarm").items()}


def metric_math(expression: str, **values: float | None) -> float | None:
    """A CloudWatch metric-math expression of IF, FILL, AND, comparisons and arithmetic, for one
    period; None stands for a metric with no datapoint."""
    functions = {"IF": lambda c, a, b: a if c else b, "FILL": lambda v, d: d if v is None else v}
    python = expression.replace(" AND ", " and ").replace(" OR ", " or ")
    return eval(python, functions, values)


def breaches(value: float | None, threshold: float, comparison: str) -> bool:
    """Whether one period's value breaches; no datapoint never does (TreatMissingData)."""
    if value is None:
        return False
    return value >= threshold if comparison == GE else value > threshold


#: The two task-count alarms read Container Insights, which is off by default ($11.40 a month).
INSIGHTS = {"ContainerInsights": "enabled"}


def test_the_alarms_are_exactly_the_documented_set():
    assert set(alarms(stack(**INSIGHTS))) == set(SINGLE) | set(MATH)
    assert set(alarms(stack())) == set(SINGLE)  # without Container Insights


@pytest.mark.parametrize("logical_id", sorted(SINGLE))
def test_single_metric_alarm_watches_its_metric(logical_id):
    namespace, metric, stat, dimensions, threshold, comparison, timing = SINGLE[logical_id]
    p = alarms(stack())[logical_id]
    assert (p["Namespace"], p["MetricName"], p["Dimensions"]) == (namespace, metric, dimensions)
    statistic = p.get("ExtendedStatistic") if stat.startswith("p") else p.get("Statistic")
    assert statistic == stat
    assert (float(p["Threshold"]), p["ComparisonOperator"]) == (threshold, comparison)
    assert (p["Period"], p["EvaluationPeriods"], p["DatapointsToAlarm"]) == timing


@pytest.mark.parametrize("logical_id", sorted(MATH))
def test_metric_math_alarm_reads_its_metrics(logical_id):
    expression, metrics, threshold, comparison, timing = MATH[logical_id]
    p = alarms(stack(**INSIGHTS))[logical_id]
    assert not {"MetricName", "Namespace", "Statistic", "Period"} & set(p)
    (returned,) = [q for q in p["Metrics"] if q["ReturnData"]]
    assert returned["Expression"] == expression
    read = {
        q["Id"]: (
            q["MetricStat"]["Metric"]["Namespace"],
            q["MetricStat"]["Metric"]["MetricName"],
            q["MetricStat"]["Stat"],
            q["MetricStat"]["Metric"]["Dimensions"],
            q["MetricStat"]["Period"],
        )
        for q in p["Metrics"]
        if not q["ReturnData"]
    }
    assert read == metrics
    assert (float(p["Threshold"]), p["ComparisonOperator"]) == (threshold, comparison)
    assert (p["EvaluationPeriods"], p["DatapointsToAlarm"]) == timing


def test_every_alarm_tells_the_topic_and_treats_absent_data_as_fine():
    for logical_id, p in alarms(stack(**INSIGHTS)).items():
        assert p["ActionsEnabled"] is True, logical_id
        assert p["AlarmActions"] == ["<AlarmTopic>"], logical_id
        assert p["OKActions"] == ["<AlarmTopic>"], logical_id
        assert p["TreatMissingData"] == "notBreaching", logical_id
        assert p["AlarmDescription"].startswith("MLflow stack mlflow: "), logical_id
        assert "AlarmName" not in p, logical_id  # generated: many stacks in one account


def test_slow_responses_ignore_periods_too_small_for_a_percentile():
    assert alarms(stack())["AlarmSlowResponses"]["EvaluateLowSampleCountPercentile"] == "ignore"


def test_the_tunable_thresholds_follow_their_parameters():
    p = alarms(stack(AlarmResponseTimeSeconds="12", AlarmServerErrors="50"))
    assert float(p["AlarmSlowResponses"]["Threshold"]) == 12
    assert "longer than 12 s" in p["AlarmSlowResponses"]["AlarmDescription"]
    assert float(p["AlarmTargetServerErrors"]["Threshold"]) == 50
    assert "answered 50 or more 5xx" in p["AlarmTargetServerErrors"]["AlarmDescription"]


@pytest.mark.parametrize("mode", sorted(ZERO_MODES))
def test_a_service_scaled_to_zero_cannot_put_an_alarm_in_alarm(mode):
    evaluated = alarms(stack(**INSIGHTS, **ZERO_MODES[mode]))
    assert set(evaluated) == set(SINGLE) | set(MATH)
    for logical_id, p in evaluated.items():
        assert p["TreatMissingData"] == "notBreaching", logical_id
        threshold, comparison = float(p["Threshold"]), p["ComparisonOperator"]
        if "MetricName" in p:
            for value in SCALED_TO_ZERO[p["MetricName"]]:
                assert not breaches(value, threshold, comparison), (logical_id, value)
            continue
        (returned,) = [q for q in p["Metrics"] if q["ReturnData"]]
        reads = {q["Id"]: q["MetricStat"]["Metric"]["MetricName"] for q in p["Metrics"]
                 if not q["ReturnData"]}  # fmt: skip
        for values in itertools.product(*(SCALED_TO_ZERO[name] for name in reads.values())):
            value = metric_math(returned["Expression"], **dict(zip(reads, values, strict=True)))
            assert not breaches(value, threshold, comparison), (logical_id, values)


@pytest.mark.parametrize(
    ("logical_id", "values", "fires"),
    [
        ("AlarmNoHealthyTarget", {"desired": 1, "healthy": 0}, True),
        ("AlarmNoHealthyTarget", {"desired": 1, "healthy": None}, True),
        ("AlarmNoHealthyTarget", {"desired": 2, "healthy": 1}, False),
        ("AlarmNoHealthyTarget", {"desired": None, "healthy": 0}, False),
        ("AlarmTasksNotRunning", {"desired": 2, "running": 1}, True),
        ("AlarmTasksNotRunning", {"desired": 1, "running": None}, True),
        ("AlarmTasksNotRunning", {"desired": 1, "running": 2}, False),  # a deployment
    ],
)
def test_the_task_alarms_fire_only_while_ecs_wants_tasks(logical_id, values, fires):
    expression, _, threshold, comparison, _ = MATH[logical_id]
    assert breaches(metric_math(expression, **values), threshold, comparison) is fires


def test_the_topic_is_encrypted_with_a_key_cloudwatch_may_use_for_this_account_only():
    s = stack()
    # The stack's logs key: a key of its own would cost $1 a month, idle or not.
    assert s.resource("AlarmTopic")["Properties"] == {"KmsMasterKeyId": "<LogsKey.Arn>"}
    assert len(s.of_type("AWS::KMS::Key")) == 3
    key = s.resource("LogsKey")
    assert key["Properties"]["EnableKeyRotation"] is True
    by_sid = {st["Sid"]: st for st in key["Properties"]["KeyPolicy"]["Statement"]}
    sid = "CloudWatchAlarmsOfThisAccountPublishToTheEncryptedTopic"
    assert by_sid[sid] == {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": ["*"],
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
    }
    # The EventBridge rule for tasks that fail to start: no source condition, which EventBridge
    # cannot meet for an encrypted topic (tests/template/test_delivery.py).
    sid = "EventBridgePublishesToTheEncryptedTopic"
    assert by_sid[sid] == {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": ["*"],
    }
    assert s.outputs["AlarmTopicArn"] == "<AlarmTopic>"


def test_tasks_that_fail_to_start_reach_the_topic_without_container_insights():
    s = stack()
    rule = s.resource("TaskStartImpairedRule")["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Service Action"],
        "resources": ["<Service>"],
        "detail": {"eventName": ["SERVICE_TASK_START_IMPAIRED"]},
    }
    assert rule["Targets"] == [{"Id": "alarm-topic", "Arn": "<AlarmTopic>"}]
    statements = s.resource("AlarmTopicPolicy")["Properties"]["PolicyDocument"]["Statement"]
    (statement,) = [st for st in statements if st["Sid"] == "TheTaskStartRulePublishes"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == ["sns:Publish"] and statement["Resource"] == ["<AlarmTopic>"]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": "<TaskStartImpairedRule.Arn>"}}


def test_the_stacks_alarms_may_publish_to_the_topic():
    s = stack(ContainerInsights="enabled")
    statements = s.resource("AlarmTopicPolicy")["Properties"]["PolicyDocument"]["Statement"]
    (statement,) = [st for st in statements if st["Sid"] == "ThisStacksAlarmsPublish"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Action"] == ["sns:Publish"] and statement["Resource"] == ["<AlarmTopic>"]
    notifying = sorted(
        logical_id
        for logical_id, alarm in s.of_type("AWS::CloudWatch::Alarm").items()
        if "<AlarmTopic>" in alarm["Properties"].get("AlarmActions", [])
    )
    sources = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert sorted(source.strip("<>").removesuffix(".Arn") for source in sources) == notifying
    assert len(notifying) == 7


def test_the_email_subscription_exists_only_with_an_address():
    assert "AlarmEmailSubscription" not in stack().resources
    subscription = stack(AlarmEmail="ops@example.com").resource("AlarmEmailSubscription")
    assert subscription["Properties"] == {
        "Endpoint": "ops@example.com",
        "Protocol": "email",
        "TopicArn": "<AlarmTopic>",
    }


@pytest.mark.parametrize("address", ["ops", "ops@example", "a b@example.com", "@example.com"])
def test_a_malformed_address_is_refused_naming_the_parameter(address):
    with pytest.raises(ParameterError) as caught:
        stack(AlarmEmail=address)
    assert any("AlarmEmail" in error for error in caught.value.errors)


def test_the_dashboard_exists_only_when_asked_for():
    assert "Dashboard" not in stack().resources and "DashboardName" not in stack().outputs


def test_the_dashboard_shows_this_stacks_resources_in_its_region():
    s = stack(AlarmResponseTimeSeconds="7", CreateDashboard="true", **INSIGHTS)
    dashboard = s.resource("Dashboard")["Properties"]
    # Named after the stack: the Service Catalog launch role is scoped to dashboard/SC-*.
    assert dashboard["DashboardName"] == "mlflow-mlflow"
    widgets = json.loads(dashboard["DashboardBody"])["widgets"]
    graphs = {w["properties"]["title"]: w["properties"] for w in widgets if w["type"] == "metric"}
    assert set(graphs) == {
        "Requests",
        "Response time (s)",
        "Errors and refused connections",
        "Tasks",
        "Task CPU and memory (%)",
        "Database capacity (ACU) and connections",
    }
    shown = {line[1] for g in graphs.values() for line in g["metrics"]}
    assert {"RequestCount", "TargetResponseTime", "HTTPCode_Target_5XX_Count", "RunningTaskCount",
            "CPUUtilization", "MemoryUtilization", "ServerlessDatabaseCapacity",
            "DatabaseConnections"} <= shown  # fmt: skip
    assert {g["region"] for g in graphs.values()} == {"eu-west-1"}
    lines = [line for g in graphs.values() for line in g["metrics"]]
    assert ["AWS/RDS", "DatabaseConnections", "DBClusterIdentifier", "<DatabaseCluster>"] in [
        line[:4] for line in lines
    ]
    latency = graphs["Response time (s)"]["annotations"]["horizontal"][0]
    assert latency["value"] == 7
    (alarm_widget,) = [w for w in widgets if w["type"] == "alarm"]
    assert sorted(alarm_widget["properties"]["alarms"]) == sorted(
        f"<{logical_id}.Arn>" for logical_id in (*SINGLE, *MATH)
    )
    assert s.outputs["DashboardName"] == "<Dashboard>"
    # Without Container Insights its alarms do not exist, and the widget lists only the others.
    plain = stack(CreateDashboard="true").resource("Dashboard")["Properties"]["DashboardBody"]
    (alarm_widget,) = [w for w in json.loads(plain)["widgets"] if w["type"] == "alarm"]
    assert sorted(alarm_widget["properties"]["alarms"]) == sorted(f"<{a}.Arn>" for a in SINGLE)


def test_no_region_or_partition_is_typed_into_the_new_resources():
    resources = template()["Resources"]
    new = ("AlarmTopic", "AlarmEmailSubscription", "Dashboard", *SINGLE, *MATH)
    text = json.dumps([resources[logical_id] for logical_id in new])
    assert "arn:aws:" not in text and "us-east-1" not in text
    assert "${AWS::Region}" in json.dumps(resources["Dashboard"])
