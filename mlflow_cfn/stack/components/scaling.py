"""Autoscaling: target tracking on CPU or requests per task, a working-hours schedule that can
scale the service to zero at night and on weekends, and idle shutdown with wake on request
(``wake.py``, ``idle_shutdown.py``). Who sets the count: the schedule sets the bounds (outside
working hours ScaleDownTasks is both floor and ceiling, so a request at night wakes nothing when
it is 0); inside them the wake function alone moves the count between 0 and 1 (idle shutdown
lowers the floor to 0) and target tracking alone between 1 and MaxTasks."""

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
    ENABLE_IDLE_SHUTDOWN,
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
    """The scalable target (exists under UseScalableTarget), its resource id and the scaling
    Parameters."""

    target: ScalableTarget
    resource_id: Sub
    inputs: ScalingInputs


def _scheduled(inputs: ScalingInputs, name: str, schedule: Parameter, low, high: Parameter) -> If:
    return If(
        ENABLE_SCHEDULE,
        ScheduledAction(
            ScheduledActionName=name,
            Schedule=Ref(schedule),
            Timezone=Ref(inputs.timezone),
            ScalableTargetAction=ScalableTargetAction(MinCapacity=low, MaxCapacity=Ref(high)),
        ),
        NO_VALUE,
    )


def _floor(inputs: ScalingInputs) -> If:
    """The fewest tasks while in use: MinTasks, or 0 with idle shutdown (which then decides)."""
    return If(ENABLE_IDLE_SHUTDOWN, 0, Ref(inputs.min_tasks))


def resource_id(cluster, service) -> Sub:
    """The scalable target's ResourceId: service/<cluster>/<service>."""
    return Sub(
        "service/${Cluster}/${Service}", Cluster=Ref(cluster), Service=GetAtt(service, "Name")
    )


def _target(ctx: Context, inputs: ScalingInputs, cluster, service) -> ScalableTarget:
    return ctx.template.add_resource(
        ScalableTarget(
            SCALABLE_TARGET,
            Condition=USE_SCALABLE_TARGET,
            ServiceNamespace="ecs",
            ScalableDimension="ecs:service:DesiredCount",
            ResourceId=resource_id(cluster, service),
            MinCapacity=_floor(inputs),
            MaxCapacity=Ref(inputs.max_tasks),
            # No RoleARN: Application Auto Scaling uses its service-linked role for ECS.
            ScheduledActions=[
                _scheduled(inputs, "working-hours-start", inputs.scale_up_schedule,
                           _floor(inputs), inputs.max_tasks),
                _scheduled(inputs, "working-hours-end", inputs.scale_down_schedule,
                           Ref(inputs.scale_down_tasks), inputs.scale_down_tasks),
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
    return Scaling(target=target, resource_id=resource_id(cluster, service), inputs=inputs)
