"""Autoscaling: target tracking on CPU or requests per task, and a working-hours schedule that
can scale the service to zero at night and on weekends (the database then pauses too)."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, If, Ref, Sub
from troposphere.applicationautoscaling import (
    PredefinedMetricSpecification,
    ScalableTarget,
    ScalableTargetAction,
    ScalingPolicy,
    ScheduledAction,
    TargetTrackingScalingPolicyConfiguration,
)

from mlflow_cfn.stack import names
from mlflow_cfn.stack.components.load_balancer import LoadBalancing
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.policies import NO_VALUE


@dataclass(frozen=True)
class Scaling:
    """The scalable target (exists under UseScalableTarget)."""

    target: ScalableTarget


def _scheduled(ctx: Context, name: str, schedule: str, low: str, high: str) -> If:
    return If(
        names.ENABLE_SCHEDULE,
        ScheduledAction(
            ScheduledActionName=name,
            Schedule=ctx.ref(schedule),
            Timezone=ctx.ref(names.SCHEDULE_TIMEZONE),
            ScalableTargetAction=ScalableTargetAction(
                MinCapacity=ctx.ref(low), MaxCapacity=ctx.ref(high)
            ),
        ),
        NO_VALUE,
    )


def add_scaling(ctx: Context, *, cluster, service, load_balancing: LoadBalancing) -> Scaling:
    """Add the scalable target with its schedule, and the target-tracking policy."""
    t = ctx.template
    target = t.add_resource(
        ScalableTarget(
            names.SCALABLE_TARGET,
            Condition=names.USE_SCALABLE_TARGET,
            ServiceNamespace="ecs",
            ScalableDimension="ecs:service:DesiredCount",
            ResourceId=Sub(
                "service/${Cluster}/${Service}",
                Cluster=Ref(cluster),
                Service=GetAtt(service, "Name"),
            ),
            MinCapacity=ctx.ref(names.MIN_TASKS),
            MaxCapacity=ctx.ref(names.MAX_TASKS),
            # No RoleARN: Application Auto Scaling uses its service-linked role for ECS.
            ScheduledActions=[
                _scheduled(
                    ctx, "working-hours-start", names.SCALE_UP_SCHEDULE, names.MIN_TASKS,
                    names.MAX_TASKS,
                ),
                _scheduled(
                    ctx, "working-hours-end", names.SCALE_DOWN_SCHEDULE, names.SCALE_DOWN_TASKS,
                    names.SCALE_DOWN_TASKS,
                ),
            ],
        )
    )  # fmt: skip
    request_label = Sub(
        "${LoadBalancer}/${TargetGroup}",
        LoadBalancer=GetAtt(load_balancing.load_balancer, "LoadBalancerFullName"),
        TargetGroup=GetAtt(load_balancing.target_group, "TargetGroupFullName"),
    )
    t.add_resource(
        ScalingPolicy(
            names.SCALING_POLICY,
            Condition=names.ENABLE_AUTOSCALING,
            PolicyName=Sub("${AWS::StackName}-mlflow-target-tracking"),
            PolicyType="TargetTrackingScaling",
            ScalingTargetId=Ref(target),
            TargetTrackingScalingPolicyConfiguration=TargetTrackingScalingPolicyConfiguration(
                TargetValue=ctx.ref(names.SCALING_TARGET),
                ScaleInCooldown=300,
                ScaleOutCooldown=60,
                PredefinedMetricSpecification=PredefinedMetricSpecification(
                    PredefinedMetricType=If(
                        names.USE_REQUEST_COUNT_SCALING,
                        "ALBRequestCountPerTarget",
                        "ECSServiceAverageCPUUtilization",
                    ),
                    ResourceLabel=If(names.USE_REQUEST_COUNT_SCALING, request_label, NO_VALUE),
                ),
            ),
        )
    )
    return Scaling(target=target)
