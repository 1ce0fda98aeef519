"""Autoscaling: target tracking on CPU or requests per task, and a working-hours schedule that
can scale the service to zero at night and on weekends (the database then pauses too)."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, If, Parameter, Ref, Sub
from troposphere.applicationautoscaling import (
    PredefinedMetricSpecification,
    ScalableTarget,
    ScalableTargetAction,
    ScalingPolicy,
    ScheduledAction,
    TargetTrackingScalingPolicyConfiguration,
)

from mlflow_cfn.stack.components.load_balancer import LoadBalancing
from mlflow_cfn.stack.components.scaling_inputs import (
    ENABLE_AUTOSCALING,
    ENABLE_SCHEDULE,
    USE_REQUEST_COUNT_SCALING,
    USE_SCALABLE_TARGET,
    ScalingInputs,
    declare_scaling_inputs,
)
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.policies import NO_VALUE

SCALABLE_TARGET = "ScalableTarget"
SCALING_POLICY = "ScalingPolicy"


@dataclass(frozen=True)
class Scaling:
    """The scalable target (exists under UseScalableTarget)."""

    target: ScalableTarget


def _scheduled(
    inputs: ScalingInputs, name: str, schedule: Parameter, low: Parameter, high: Parameter
) -> If:
    return If(
        ENABLE_SCHEDULE,
        ScheduledAction(
            ScheduledActionName=name,
            Schedule=Ref(schedule),
            Timezone=Ref(inputs.timezone),
            ScalableTargetAction=ScalableTargetAction(MinCapacity=Ref(low), MaxCapacity=Ref(high)),
        ),
        NO_VALUE,
    )


def _target(ctx: Context, inputs: ScalingInputs, cluster, service) -> ScalableTarget:
    return ctx.template.add_resource(
        ScalableTarget(
            SCALABLE_TARGET,
            Condition=USE_SCALABLE_TARGET,
            ServiceNamespace="ecs",
            ScalableDimension="ecs:service:DesiredCount",
            ResourceId=Sub(
                "service/${Cluster}/${Service}",
                Cluster=Ref(cluster),
                Service=GetAtt(service, "Name"),
            ),
            MinCapacity=Ref(inputs.min_tasks),
            MaxCapacity=Ref(inputs.max_tasks),
            # No RoleARN: Application Auto Scaling uses its service-linked role for ECS.
            ScheduledActions=[
                _scheduled(inputs, "working-hours-start", inputs.scale_up_schedule,
                           inputs.min_tasks, inputs.max_tasks),
                _scheduled(inputs, "working-hours-end", inputs.scale_down_schedule,
                           inputs.scale_down_tasks, inputs.scale_down_tasks),
            ],
        )
    )  # fmt: skip


def add_scaling(ctx: Context, *, cluster, service, load_balancing: LoadBalancing) -> Scaling:
    """Declare the scaling Parameters; add the scalable target with its schedule, and the
    target-tracking policy."""
    inputs = declare_scaling_inputs(ctx)
    target = _target(ctx, inputs, cluster, service)
    request_label = Sub(
        "${LoadBalancer}/${TargetGroup}",
        LoadBalancer=GetAtt(load_balancing.load_balancer, "LoadBalancerFullName"),
        TargetGroup=GetAtt(load_balancing.target_group, "TargetGroupFullName"),
    )
    ctx.template.add_resource(
        ScalingPolicy(
            SCALING_POLICY,
            Condition=ENABLE_AUTOSCALING,
            PolicyName=Sub("${AWS::StackName}-mlflow-target-tracking"),
            PolicyType="TargetTrackingScaling",
            ScalingTargetId=Ref(target),
            TargetTrackingScalingPolicyConfiguration=TargetTrackingScalingPolicyConfiguration(
                TargetValue=Ref(inputs.target_value),
                ScaleInCooldown=300,
                ScaleOutCooldown=60,
                PredefinedMetricSpecification=PredefinedMetricSpecification(
                    PredefinedMetricType=If(
                        USE_REQUEST_COUNT_SCALING,
                        "ALBRequestCountPerTarget",
                        "ECSServiceAverageCPUUtilization",
                    ),
                    ResourceLabel=If(USE_REQUEST_COUNT_SCALING, request_label, NO_VALUE),
                ),
            ),
        )
    )
    return Scaling(target=target)
