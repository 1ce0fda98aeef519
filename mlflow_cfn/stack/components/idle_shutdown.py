"""Idle shutdown with wake on request (IdleShutdownMinutes > 0), from CloudFormation resources
only: two CloudWatch alarms on the load balancer's metrics drive two Application Auto Scaling
step policies.

* Idle: no request reached the load balancer (served, or refused for want of a target) for
  IdleShutdownMinutes one-minute periods: set the task count to 0.
* Wake: the load balancer refused a request (5xx: with no target it answers 503): add a task.

Why these metrics: the load balancer counts RequestCount only for requests it could send to a
target, so with no task a request shows only as HTTPCode_ELB_5XX_Count. An alarm whose action is
an Application Auto Scaling policy invokes it every minute it stays in ALARM, so the idle alarm
keeps the count at 0 while nothing arrives, and the first refused request both ends that (the
sum is no longer 0) and wakes the service. The scalable target's minimum is then 0: MinTasks
bounds target tracking and the working-hours start only when idle shutdown is off.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Sub
from troposphere.applicationautoscaling import (
    ScalableTarget,
    ScalingPolicy,
    StepAdjustment,
    StepScalingPolicyConfiguration,
)
from troposphere.cloudwatch import Alarm, MetricDataQuery

from mlflow_cfn.stack.components.load_balancer import LoadBalancing
from mlflow_cfn.stack.components.scaling_inputs import ENABLE_IDLE_SHUTDOWN, ScalingInputs
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.metrics import ALB, metric, query

IDLE_SHUTDOWN_POLICY = "IdleShutdownPolicy"
IDLE_SHUTDOWN_ALARM = "IdleShutdownAlarm"
WAKE_ON_REQUEST_POLICY = "WakeOnRequestPolicy"
WAKE_ON_REQUEST_ALARM = "WakeOnRequestAlarm"

#: Load balancer metrics are published per minute.
PERIOD_SECONDS = 60
#: After a wake-up, no second task is added for this long: a task is placed, pulls the image,
#: starts and passes two health checks well within it (README: the wake-up budget).
WAKE_COOLDOWN_SECONDS = 300


@dataclass(frozen=True)
class IdleShutdown:
    """The two policies and their alarms (all under EnableIdleShutdown)."""

    idle_policy: ScalingPolicy
    idle_alarm: Alarm
    wake_policy: ScalingPolicy
    wake_alarm: Alarm


def _step_policy(
    ctx: Context, logical_id: str, target: ScalableTarget, step: tuple[str, int, int]
) -> ScalingPolicy:
    """A step scaling policy with one step (adjustment type, adjustment, cooldown seconds) that
    applies whenever its alarm is in ALARM."""
    adjustment_type, adjustment, cooldown = step
    bounds = {"MetricIntervalUpperBound": 0} if adjustment == 0 else {"MetricIntervalLowerBound": 0}
    return ctx.template.add_resource(
        ScalingPolicy(
            logical_id,
            Condition=ENABLE_IDLE_SHUTDOWN,
            PolicyName=Sub(f"${{AWS::StackName}}-{logical_id}"),
            PolicyType="StepScaling",
            ScalingTargetId=Ref(target),
            StepScalingPolicyConfiguration=StepScalingPolicyConfiguration(
                AdjustmentType=adjustment_type,
                Cooldown=cooldown,
                MetricAggregationType="Maximum",
                StepAdjustments=[StepAdjustment(ScalingAdjustment=adjustment, **bounds)],
            ),
        )
    )


def _alarm(ctx: Context, logical_id: str, description: str, policy, **settings) -> Alarm:
    return ctx.template.add_resource(
        Alarm(
            logical_id,
            Condition=ENABLE_IDLE_SHUTDOWN,
            AlarmDescription=Sub(f"MLflow stack ${{AWS::StackName}}: {description}"),
            ActionsEnabled=True,
            AlarmActions=[Ref(policy)],
            **settings,
        )
    )


def add_idle_shutdown(
    ctx: Context, *, inputs: ScalingInputs, target: ScalableTarget, load_balancing: LoadBalancing
) -> IdleShutdown:
    """Add the idle and wake policies and alarms (they exist under EnableIdleShutdown)."""
    idle_policy = _step_policy(
        ctx, IDLE_SHUTDOWN_POLICY, target, ("ExactCapacity", 0, PERIOD_SECONDS)
    )
    wake_policy = _step_policy(
        ctx, WAKE_ON_REQUEST_POLICY, target, ("ChangeInCapacity", 1, WAKE_COOLDOWN_SECONDS)
    )
    counts = {"LoadBalancer": GetAtt(load_balancing.load_balancer, "LoadBalancerFullName")}
    traffic = [
        query(query_id, metric(ALB, name, counts), "Sum", PERIOD_SECONDS)
        for query_id, name in (("served", "RequestCount"), ("refused", "HTTPCode_ELB_5XX_Count"))
    ]
    idle_alarm = _alarm(
        ctx, IDLE_SHUTDOWN_ALARM,
        "no request for IdleShutdownMinutes: the tasks are stopped until the next request.",
        idle_policy,
        Metrics=[
            MetricDataQuery(Id="requests", Label="Requests, served or refused",
                            Expression="FILL(served, 0) + FILL(refused, 0)", ReturnData=True),
            *traffic,
        ],
        EvaluationPeriods=Ref(inputs.idle_shutdown_minutes),
        DatapointsToAlarm=Ref(inputs.idle_shutdown_minutes),
        Threshold=0.5, ComparisonOperator="LessThanThreshold",
        # No datapoint at all is no traffic: the load balancer publishes counts only when > 0.
        TreatMissingData="breaching",
    )  # fmt: skip
    wake_alarm = _alarm(
        ctx, WAKE_ON_REQUEST_ALARM,
        "the load balancer refused a request (with no task it answers 503): start a task.",
        wake_policy,
        Metrics=[
            MetricDataQuery(Id="refused_requests", Label="Requests refused",
                            Expression="FILL(refused, 0)", ReturnData=True),
            traffic[1],
        ],
        EvaluationPeriods=1, DatapointsToAlarm=1,
        Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )  # fmt: skip
    return IdleShutdown(idle_policy, idle_alarm, wake_policy, wake_alarm)
