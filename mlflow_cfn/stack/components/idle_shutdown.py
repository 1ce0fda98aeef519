"""Idle shutdown (IdleShutdownMinutes > 0): an alarm that invokes the wake function
(``wake.py``) when nothing has reached the load balancer for IdleShutdownMinutes one-minute
periods: no request (served by a task or by the function) and no open connection.

Why these metrics: ``RequestCount`` counts every request a target answered, the function's
"starting" answers included; ``ActiveConnectionCount`` stays above 0 while a connection is open,
a long transfer through the server included (Elastic Load Balancing User Guide, "CloudWatch
metrics for your Application Load Balancer"; both are published only when non-zero, and health
checks are not counted). An alarm invokes a Lambda action once per change of state (CloudWatch
User Guide, "Invoke a Lambda function from an alarm"), never again while it stays in ALARM: the
function decides, and asks for a new evaluation (state OK) when an upload, a starting task or the
schedule's floor keeps the service up. A wake's own request is counted, so each wake is followed
by OK and, once idle, by a new change to ALARM. FILL(.., 0) makes the newest, not yet published
minute count as idle; the alarm needs IdleShutdownMinutes such minutes in a row, at least 5 (Rule
IdleShutdownIsAFewMinutes), so the minutes a publication lags are never all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Sub
from troposphere.awslambda import Permission
from troposphere.cloudwatch import Alarm, MetricDataQuery

from mlflow_cfn.stack.components.load_balancer import LoadBalancing
from mlflow_cfn.stack.components.scaling_inputs import ENABLE_IDLE_SHUTDOWN, ScalingInputs
from mlflow_cfn.stack.components.wake import Wake
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.metrics import ALB, metric, query

IDLE_SHUTDOWN_ALARM = "IdleShutdownAlarm"
IDLE_ALARM_PERMISSION = "WakeFunctionIdleAlarmPermission"

#: Load balancer metrics are published per minute.
PERIOD_SECONDS = 60
#: The metrics the alarm reads, by query id.
METRICS = {"requests": "RequestCount", "connections": "ActiveConnectionCount"}
EXPRESSION = "FILL(requests, 0) + FILL(connections, 0)"


@dataclass(frozen=True)
class IdleShutdown:
    """The idle alarm (under EnableIdleShutdown)."""

    alarm: Alarm


def add_idle_shutdown(
    ctx: Context, *, inputs: ScalingInputs, load_balancing: LoadBalancing, wake: Wake
) -> IdleShutdown:
    """Add the idle alarm and the permission that lets it invoke the wake function."""
    counts = {"LoadBalancer": GetAtt(load_balancing.load_balancer, "LoadBalancerFullName")}
    alarm = ctx.template.add_resource(
        Alarm(
            IDLE_SHUTDOWN_ALARM,
            Condition=ENABLE_IDLE_SHUTDOWN,
            AlarmDescription=Sub(
                "MLflow stack ${AWS::StackName}: no request and no connection for "
                "IdleShutdownMinutes: the wake function stops the tasks (unless an upload is in "
                "flight) until the next request."
            ),
            ActionsEnabled=True,
            AlarmActions=[GetAtt(wake.function, "Arn")],
            Metrics=[
                MetricDataQuery(Id="traffic", Label="Requests and open connections",
                                Expression=EXPRESSION, ReturnData=True),
                *[query(query_id, metric(ALB, name, counts), "Sum", PERIOD_SECONDS)
                  for query_id, name in METRICS.items()],
            ],
            EvaluationPeriods=Ref(inputs.idle_shutdown_minutes),
            DatapointsToAlarm=Ref(inputs.idle_shutdown_minutes),
            Threshold=1, ComparisonOperator="LessThanThreshold",
            # No datapoint at all is no traffic: the load balancer publishes only non-zero counts.
            TreatMissingData="breaching",
        )
    )  # fmt: skip
    ctx.template.add_resource(
        Permission(
            IDLE_ALARM_PERMISSION,
            Condition=ENABLE_IDLE_SHUTDOWN,
            Action="lambda:InvokeFunction",
            FunctionName=GetAtt(wake.function, "Arn"),
            Principal="lambda.alarms.cloudwatch.amazonaws.com",
            SourceAccount=Ref("AWS::AccountId"),
            SourceArn=GetAtt(alarm, "Arn"),
        )
    )
    return IdleShutdown(alarm)
