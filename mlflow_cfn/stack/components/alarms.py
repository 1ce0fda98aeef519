"""CloudWatch alarms on what an operator must know, sent to an SNS topic encrypted with the
stack's logs key (no key of its own: a key costs $1 a month, idle or not), and a dashboard.

No alarm fires because the service is scaled to zero (a schedule, DesiredCount 0, idle shutdown):
the load balancer publishes its count metrics only when something is counted and the task and
database metrics stop with the tasks, absent data counts as not breaching, and the two alarms
about missing tasks compare with the count ECS wants right now (Container Insights'
DesiredTaskCount), never with a number fixed in the template.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import awacs.sns as sns
from awacs.aws import Allow, ArnEquals, Condition, Principal, Statement
from troposphere import GetAtt, If, Join, Output, Ref, Sub
from troposphere.cloudwatch import (
    Alarm,
    Dashboard,
    MetricDataQuery,
)
from troposphere.events import Rule, Target
from troposphere.kms import Key
from troposphere.sns import SubscriptionResource, Topic, TopicPolicy

from mlflow_cfn.stack import policies
from mlflow_cfn.stack.components.alarms_inputs import (
    CREATE_DASHBOARD,
    HAS_ALARM_EMAIL,
    AlarmsInputs,
    declare_alarms_inputs,
)
from mlflow_cfn.stack.components.database import Database
from mlflow_cfn.stack.components.keys import Keys
from mlflow_cfn.stack.components.load_balancer import LoadBalancing
from mlflow_cfn.stack.components.service import MlflowService
from mlflow_cfn.stack.components.service_inputs import USE_CONTAINER_INSIGHTS
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.metrics import ALB, ECS, INSIGHTS, RDS, metric, query
from mlflow_cfn.stack.policies import NO_VALUE

ALARM_TOPIC = "AlarmTopic"
ALARM_EMAIL_SUBSCRIPTION = "AlarmEmailSubscription"
TARGET_SERVER_ERRORS_ALARM = "AlarmTargetServerErrors"
NO_HEALTHY_TARGET_ALARM = "AlarmNoHealthyTarget"
SLOW_RESPONSES_ALARM = "AlarmSlowResponses"
TASKS_NOT_RUNNING_ALARM = "AlarmTasksNotRunning"
TASK_MEMORY_ALARM = "AlarmTaskMemoryHigh"
DATABASE_AT_MAX_CAPACITY_ALARM = "AlarmDatabaseAtMaxCapacity"
REJECTED_CONNECTIONS_ALARM = "AlarmRejectedConnections"
TASK_START_IMPAIRED_RULE = "TaskStartImpairedRule"
ALARM_TOPIC_POLICY = "AlarmTopicPolicy"
DASHBOARD = "Dashboard"
OUT_ALARM_TOPIC_ARN = "AlarmTopicArn"
OUT_DASHBOARD_NAME = "DashboardName"


@dataclass(frozen=True)
class Alarms:
    """The topic every alarm notifies (subscribe to it), its key, the alarms and the dashboard."""

    key: Key
    topic: Topic
    alarms: tuple[Alarm, ...]
    dashboard: Dashboard


@dataclass(frozen=True)
class _Sources:
    """The dimensions that name this stack's load balancer, target group, service and database."""

    load_balancer: dict
    target_group: dict
    service: dict
    database: dict


def _sources(load_balancing: LoadBalancing, service: MlflowService, database: Database):
    load_balancer = {"LoadBalancer": GetAtt(load_balancing.load_balancer, "LoadBalancerFullName")}
    target_group = {
        **load_balancer,
        "TargetGroup": GetAtt(load_balancing.target_group, "TargetGroupFullName"),
    }
    return _Sources(
        load_balancer=load_balancer,
        target_group=target_group,
        service={"ClusterName": Ref(service.cluster),
                 "ServiceName": GetAtt(service.service, "Name")},
        database={"DBClusterIdentifier": Ref(database.cluster)},
    )  # fmt: skip


def _topic(ctx: Context, inputs: AlarmsInputs, key: Key) -> Topic:
    """The topic, encrypted with the stack's logs key (its policy lets CloudWatch alarms of this
    account use it: `policies.alarms_key_statements`)."""
    topic = ctx.template.add_resource(Topic(ALARM_TOPIC, KmsMasterKeyId=GetAtt(key, "Arn")))
    ctx.template.add_resource(
        SubscriptionResource(
            ALARM_EMAIL_SUBSCRIPTION,
            Condition=HAS_ALARM_EMAIL,
            TopicArn=Ref(topic),
            Protocol="email",
            Endpoint=Ref(inputs.email),
        )
    )
    ctx.template.add_output(
        Output(
            OUT_ALARM_TOPIC_ARN,
            Description="SNS topic every alarm notifies: subscribe your chat, pager or e-mail",
            Value=Ref(topic),
        )
    )
    return topic


def _task_start_impaired(ctx: Context, topic: Topic, service: MlflowService) -> Rule:
    """ECS's own event when the service cannot start tasks (image, secret, subnet, crash on
    start), sent to the topic: free, and it needs no Container Insights."""
    rule = ctx.template.add_resource(
        Rule(
            TASK_START_IMPAIRED_RULE,
            Description=Sub("MLflow tasks fail to start (stack ${AWS::StackName})"),
            State="ENABLED",
            EventPattern={
                "source": ["aws.ecs"],
                "detail-type": ["ECS Service Action"],
                "resources": [Ref(service.service)],
                "detail": {"eventName": ["SERVICE_TASK_START_IMPAIRED"]},
            },
            Targets=[Target(Id="alarm-topic", Arn=Ref(topic))],
        )
    )
    return rule


def _topic_policy(ctx: Context, topic: Topic, rule: Rule, alarms: list[Alarm]) -> TopicPolicy:
    """Who may publish to the topic: this stack's alarms and its task-start rule. The policy
    replaces the topic's default one, so every publisher must be named here: CloudWatch sends the
    alarm's ARN as ``aws:SourceArn`` (Amazon SNS Developer Guide, "Example cases for Amazon SNS
    access control": "Allow CloudWatch alarms ... to publish to an Amazon SNS topic"), EventBridge
    the rule's (Amazon EventBridge User Guide, "Amazon SNS permissions")."""
    return ctx.template.add_resource(
        TopicPolicy(
            ALARM_TOPIC_POLICY,
            Topics=[Ref(topic)],
            PolicyDocument=policies.document(
                Statement(
                    Sid="ThisStacksAlarmsPublish",
                    Effect=Allow,
                    Principal=Principal("Service", "cloudwatch.amazonaws.com"),
                    Action=[sns.Publish],
                    Resource=[Ref(topic)],
                    Condition=Condition(ArnEquals(
                        "aws:SourceArn", [_if_exists(a, GetAtt(a, "Arn")) for a in alarms])),
                ),
                Statement(
                    Sid="TheTaskStartRulePublishes",
                    Effect=Allow,
                    Principal=Principal("Service", "events.amazonaws.com"),
                    Action=[sns.Publish],
                    Resource=[Ref(topic)],
                    Condition=Condition(ArnEquals("aws:SourceArn", GetAtt(rule, "Arn"))),
                ),
            ),
        )
    )  # fmt: skip


def _alarm(ctx: Context, topic: Topic, logical_id: str, description: str, **settings) -> Alarm:
    """An alarm that notifies the topic when it fires and when it recovers. Absent data never
    breaches: no request, no task or a paused database publishes nothing to alarm on."""
    return ctx.template.add_resource(
        Alarm(
            logical_id,
            AlarmDescription=Sub(f"MLflow stack ${{AWS::StackName}}: {description}"),
            ActionsEnabled=True,
            AlarmActions=[Ref(topic)],
            OKActions=[Ref(topic)],
            TreatMissingData="notBreaching",
            **settings,
        )
    )


def _request_alarms(ctx: Context, topic: Topic, inputs: AlarmsInputs, s: _Sources) -> list:
    """What clients see: server errors, slow answers, connections the load balancer refused."""
    return [
        _alarm(ctx, topic, TARGET_SERVER_ERRORS_ALARM,
               "the MLflow server answered ${AlarmServerErrors} or more 5xx errors within 5 "
               "minutes. Read the server's log group for the stack traces.",
               **metric(ALB, "HTTPCode_Target_5XX_Count", s.target_group), Statistic="Sum",
               Period=300, EvaluationPeriods=1, DatapointsToAlarm=1,
               Threshold=Ref(inputs.server_errors),
               ComparisonOperator="GreaterThanOrEqualToThreshold"),
        # p95 over 15 minutes; periods with fewer requests than a p95 can rest on (20) are
        # ignored, so one slow upload at night does not fire it.
        _alarm(ctx, topic, SLOW_RESPONSES_ALARM,
               "95% of requests took longer than ${AlarmResponseTimeSeconds} s for 15 minutes. "
               "Look at task CPU and memory and at the database capacity on the dashboard.",
               **metric(ALB, "TargetResponseTime", s.target_group), ExtendedStatistic="p95",
               Period=300, EvaluationPeriods=3, DatapointsToAlarm=3,
               Threshold=Ref(inputs.response_time_seconds),
               ComparisonOperator="GreaterThanThreshold",
               EvaluateLowSampleCountPercentile="ignore"),
        # Literal 1: the load balancer refuses connections only at its connection limit, which a
        # healthy MLflow server never reaches; any refusal is worth a look.
        _alarm(ctx, topic, REJECTED_CONNECTIONS_ALARM,
               "the load balancer refused connections (its connection limit was reached).",
               **metric(ALB, "RejectedConnectionCount", s.load_balancer), Statistic="Sum",
               Period=300, EvaluationPeriods=1, DatapointsToAlarm=1, Threshold=1,
               ComparisonOperator="GreaterThanOrEqualToThreshold"),
    ]  # fmt: skip


def _task_alarms(ctx: Context, topic: Topic, s: _Sources) -> list:
    """Tasks missing while ECS wants them; no healthy target while ECS wants tasks (both read
    Container Insights' task counts, so both exist only with ContainerInsights enabled); task
    memory (a free ECS metric)."""
    desired = metric(INSIGHTS, "DesiredTaskCount", s.service)
    return [
        # ECS wants tasks for 10 minutes (two whole periods) and not one target was healthy at
        # any moment: longer than a cold start (image pull, database resume, two health checks).
        _alarm(ctx, topic, NO_HEALTHY_TARGET_ALARM,
               "ECS wants tasks but the load balancer has had no healthy target for 10 minutes: "
               "MLflow is down. See the service's events and stopped tasks in the ECS console.",
               Metrics=[
                   MetricDataQuery(Id="down", Label="No healthy target while tasks are wanted",
                                   Expression="IF(FILL(desired, 0) >= 1 AND FILL(healthy, 0) < 1, "
                                   "1, 0)", ReturnData=True),
                   query("desired", desired, "Minimum", 300),
                   query("healthy", metric(ALB, "HealthyHostCount", s.target_group), "Maximum",
                          300),
               ],
               EvaluationPeriods=2, DatapointsToAlarm=2, Threshold=1,
               ComparisonOperator="GreaterThanOrEqualToThreshold",
               Condition=USE_CONTAINER_INSIGHTS),
        # Fewer tasks running than wanted through three 5-minute periods: tasks fail to start
        # (image, secret, subnet) or stop repeatedly (crash, out of memory, failed health check).
        # A scale-out, a replaced task or a deployment closes the gap within one period.
        _alarm(ctx, topic, TASKS_NOT_RUNNING_ALARM,
               "fewer MLflow tasks ran than ECS wanted for 15 minutes: tasks fail to start or "
               "keep stopping. See the stopped tasks' reasons in the ECS console.",
               Metrics=[
                   MetricDataQuery(Id="missing", Label="Tasks wanted but not running",
                                   Expression="FILL(desired, 0) - FILL(running, 0)",
                                   ReturnData=True),
                   query("desired", desired, "Minimum", 300),
                   query("running", metric(INSIGHTS, "RunningTaskCount", s.service), "Minimum",
                          300),
               ],
               EvaluationPeriods=3, DatapointsToAlarm=3, Threshold=1,
               ComparisonOperator="GreaterThanOrEqualToThreshold",
               Condition=USE_CONTAINER_INSIGHTS),
        # Literal 90%: above it a burst of requests gets the task killed for lack of memory; the
        # fix (a bigger TaskMemory) is the same whatever the workload.
        _alarm(ctx, topic, TASK_MEMORY_ALARM,
               "the MLflow tasks used 90% or more of their memory for 15 minutes; they are "
               "killed when it runs out. Raise TaskMemory.",
               **metric(ECS, "MemoryUtilization", s.service), Statistic="Average", Period=300,
               EvaluationPeriods=3, DatapointsToAlarm=3, Threshold=90,
               ComparisonOperator="GreaterThanOrEqualToThreshold"),
    ]  # fmt: skip


def _database_alarm(ctx: Context, topic: Topic, s: _Sources) -> Alarm:
    """Aurora stuck at its maximum capacity (a paused database reports 0)."""
    # Literal 90%: Aurora Serverless v2 scales in half-ACU steps, so at 90% of DatabaseMaxCapacity
    # for 15 minutes it has no room left; the fix is a higher maximum, whatever the maximum is.
    return _alarm(
        ctx, topic, DATABASE_AT_MAX_CAPACITY_ALARM,
        "the database ran at 90% or more of DatabaseMaxCapacity for 15 minutes and cannot "
        "scale further. Raise DatabaseMaxCapacity.",
        **metric(RDS, "ACUUtilization", s.database), Statistic="Average", Period=300,
        EvaluationPeriods=3, DatapointsToAlarm=3, Threshold=90,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )  # fmt: skip


def _graph(title: str, position: tuple[int, int], metrics: list, **properties) -> dict:
    """A 12 x 6 time-series widget in this stack's region."""
    x, y = position
    return {
        "type": "metric", "x": x, "y": y, "width": 12, "height": 6,
        "properties": {"title": title, "view": "timeSeries", "region": "${AWS::Region}",
                       "period": 300, "metrics": metrics, **properties},
    }  # fmt: skip


def _line(namespace: str, name: str, dimensions: tuple[str, ...], **options) -> list:
    """One metric of a widget; each dimension's value is the Fn::Sub variable of its name."""
    names = [part for d in dimensions for part in (d, f"${{{d}}}")]
    return [namespace, name, *names, options]


def _widgets() -> list[dict]:
    lb, tg = ("LoadBalancer",), ("LoadBalancer", "TargetGroup")
    svc, db = ("ClusterName", "ServiceName"), ("DBClusterIdentifier",)
    return [
        _graph("Requests", (0, 0), [_line(ALB, "RequestCount", lb, stat="Sum")]),
        _graph("Response time (s)", (12, 0),
               [_line(ALB, "TargetResponseTime", tg, stat=p, label=p)
                for p in ("p50", "p95", "p99")],
               annotations={"horizontal": [{"label": "Slow-response alarm (p95)",
                                            "value": "${AlarmResponseTimeSeconds}"}]}),
        _graph("Errors and refused connections", (0, 6), [
            _line(ALB, "HTTPCode_Target_5XX_Count", tg, stat="Sum", label="Server 5xx"),
            _line(ALB, "HTTPCode_Target_4XX_Count", tg, stat="Sum", label="Server 4xx"),
            _line(ALB, "HTTPCode_ELB_5XX_Count", lb, stat="Sum", label="Load balancer 5xx"),
            _line(ALB, "RejectedConnectionCount", lb, stat="Sum", label="Refused connections"),
        ]),
        _graph("Tasks", (12, 6), [
            _line(INSIGHTS, "DesiredTaskCount", svc, stat="Maximum", label="Wanted"),
            _line(INSIGHTS, "RunningTaskCount", svc, stat="Minimum", label="Running"),
            _line(INSIGHTS, "PendingTaskCount", svc, stat="Maximum", label="Starting"),
            _line(ALB, "HealthyHostCount", tg, stat="Minimum", label="Healthy targets"),
        ]),
        _graph("Task CPU and memory (%)", (0, 12), [
            _line(ECS, name, svc, stat=stat, label=f"{name} {stat}")
            for name in ("CPUUtilization", "MemoryUtilization") for stat in ("Average", "Maximum")
        ], yAxis={"left": {"min": 0, "max": 100}}),
        _graph("Database capacity (ACU) and connections", (12, 12), [
            _line(RDS, "ServerlessDatabaseCapacity", db, stat="Maximum", label="ACU"),
            _line(RDS, "DatabaseConnections", db, stat="Maximum", label="Connections",
                  yAxis="right"),
        ]),
        {"type": "alarm", "x": 0, "y": 18, "width": 24, "height": 3,
         "properties": {"title": "Alarms", "alarms": ["${Alarms}"]}},
    ]  # fmt: skip


def _if_exists(resource, value):
    """``value`` if ``resource`` exists (has no Condition or its Condition holds), else nothing."""
    condition = getattr(resource, "Condition", None)
    return If(condition, value, NO_VALUE) if condition else value


def _dashboard(ctx: Context, inputs: AlarmsInputs, s: _Sources, alarms: list) -> Dashboard:
    """Requests, latency, errors, tasks, CPU and memory, database capacity and the alarms; the
    body is one Fn::Sub, so it names this stack's resources and region."""
    body = json.dumps({"widgets": _widgets()}, separators=(",", ":"))
    # The threshold is a number in the widget's JSON: drop the quotes around its variable.
    body = body.replace('"${AlarmResponseTimeSeconds}"', "${AlarmResponseTimeSeconds}")
    variables = {
        **s.target_group, **s.service, **s.database,
        "AlarmResponseTimeSeconds": Ref(inputs.response_time_seconds),
        # The alarms that exist (the Container Insights ones only with it): '","'-joined
        # inside the JSON list's quotes.
        "Alarms": Join('","', [_if_exists(alarm, GetAtt(alarm, "Arn")) for alarm in alarms]),
    }  # fmt: skip
    dashboard = ctx.template.add_resource(
        Dashboard(
            DASHBOARD,
            Condition=CREATE_DASHBOARD,
            # Named after the stack (at most 128 + 7 of the 255 characters allowed), so a
            # Service Catalog launch role can be scoped to dashboard/SC-*.
            DashboardName=Sub("${AWS::StackName}-mlflow"),
            DashboardBody=Sub(body, **variables),
        )
    )
    ctx.template.add_output(
        Output(OUT_DASHBOARD_NAME, Condition=CREATE_DASHBOARD,
               Description="CloudWatch dashboard of the service", Value=Ref(dashboard))
    )  # fmt: skip
    return dashboard


def add_alarms(
    ctx: Context,
    *,
    keys: Keys,
    load_balancing: LoadBalancing,
    service: MlflowService,
    database: Database,
) -> Alarms:
    """Declare the alarm Parameters; add the encrypted topic (and its e-mail subscription), the
    alarms, the dashboard and the outputs."""
    inputs = declare_alarms_inputs(ctx)
    key = keys.logs
    topic = _topic(ctx, inputs, key)
    sources = _sources(load_balancing, service, database)
    rule = _task_start_impaired(ctx, topic, service)
    alarms = [
        *_request_alarms(ctx, topic, inputs, sources),
        *_task_alarms(ctx, topic, sources),
        _database_alarm(ctx, topic, sources),
    ]
    _topic_policy(ctx, topic, rule, alarms)
    dashboard = _dashboard(ctx, inputs, sources, alarms)
    return Alarms(key=key, topic=topic, alarms=tuple(alarms), dashboard=dashboard)
