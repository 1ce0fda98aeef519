"""The scaling Parameters (task range, target tracking, working-hours schedule), Conditions and
Rules. ``UseScalableTarget`` also decides whether the service sets its own task count."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Equals, Not, Or, Parameter

from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.interface import GROUP_SCALING
from mlflow_cfn.stack.logic import assertion, condition, given, is_value
from mlflow_cfn.stack.parameters import CRON, ParameterSpec, choice, count, optional

MIN_TASKS = "MinTasks"
MAX_TASKS = "MaxTasks"
SCALING_METRIC = "ScalingMetric"
SCALING_TARGET = "ScalingTarget"
SCHEDULE_TIMEZONE = "ScheduleTimezone"
SCALE_UP_SCHEDULE = "ScaleUpSchedule"
SCALE_DOWN_SCHEDULE = "ScaleDownSchedule"
SCALE_DOWN_TASKS = "ScaleDownTasks"
IDLE_SHUTDOWN_MINUTES = "IdleShutdownMinutes"
ENABLE_IDLE_SHUTDOWN = "EnableIdleShutdown"
ENABLE_AUTOSCALING = "EnableAutoscaling"
USE_REQUEST_COUNT_SCALING = "UseRequestCountScaling"
ENABLE_SCHEDULE = "EnableSchedule"
USE_SCALABLE_TARGET = "UseScalableTarget"
RULE_SCALE_UP_NEEDS_SCALE_DOWN = "ScaleUpScheduleNeedsScaleDown"
RULE_SCALE_DOWN_NEEDS_SCALE_UP = "ScaleDownScheduleNeedsScaleUp"
#: Application Auto Scaling keeps the count inside MinTasks..MaxTasks; with MinTasks 0 and no
#: task there is no CPU or request metric to scale out on, and a scale-up schedule to 0..MaxTasks
#: starts nothing: the service would never run again.
RULE_SCALING_NEEDS_MIN_TASKS = "ScalingNeedsMinTasks"
#: The idle alarm needs more one-minute periods than the load balancer's metrics may lag, or it
#: never sees the traffic of a minute before it counts that minute as idle.
RULE_IDLE_SHUTDOWN_IS_A_FEW_MINUTES = "IdleShutdownIsAFewMinutes"
#: The shortest idle period (minutes) the Rule admits.
MIN_IDLE_SHUTDOWN_MINUTES = 5


@dataclass(frozen=True)
class ScalingInputs:
    """The scaling Parameters, in console order."""

    min_tasks: Parameter
    max_tasks: Parameter
    metric: Parameter
    target_value: Parameter
    timezone: Parameter
    scale_up_schedule: Parameter
    scale_down_schedule: Parameter
    scale_down_tasks: Parameter
    idle_shutdown_minutes: Parameter


def _tracking_specs() -> list[ParameterSpec]:
    return [
        count(MIN_TASKS, "Fewest tasks autoscaling keeps during working hours (with "
              "ScalingMetric or a schedule). 2 or more spreads tasks across Availability Zones.",
              "Minimum tasks", GROUP_SCALING, 1, 0, 20),
        count(MAX_TASKS, "Most tasks autoscaling may run.", "Maximum tasks", GROUP_SCALING, 2,
              1, 20),
        choice(SCALING_METRIC, "Target tracking: none, cpu (average CPU % of the tasks) or "
               "requests (requests per task per minute through the load balancer).", "Scale on",
               GROUP_SCALING, "none", ("none", "cpu", "requests")),
        count(SCALING_TARGET, "Target value: CPU percent for cpu, requests per task per minute "
              "for requests.", "Scaling target value", GROUP_SCALING, 60, 1, 100000),
    ]  # fmt: skip


def _schedule_specs() -> list[ParameterSpec]:
    return [
        ParameterSpec(
            SCHEDULE_TIMEZONE,
            "String",
            "IANA time zone of the schedules, e.g. Europe/Berlin.",
            "Schedule time zone",
            GROUP_SCALING,
            default="UTC",
            allowed_pattern=r"^[A-Za-z]+(/[A-Za-z0-9_+-]+){0,2}$",
            max_length=64,  # IANA names are under 40; the API takes at most 1600
            constraint_description=(
                f"{SCHEDULE_TIMEZONE} must be an IANA time zone such as UTC or Europe/Berlin."
            ),
        ),
        optional(SCALE_UP_SCHEDULE, "When working hours start: scale to MinTasks..MaxTasks. "
                 "Empty: no schedule.", "Scale-up schedule", GROUP_SCALING, CRON,
                 "cron(0 7 ? * MON-FRI *)"),
        optional(SCALE_DOWN_SCHEDULE, "When working hours end: scale to ScaleDownTasks.",
                 "Scale-down schedule", GROUP_SCALING, CRON, "cron(0 20 ? * MON-FRI *)"),
        count(SCALE_DOWN_TASKS, "Tasks outside working hours. 0 stops the server at night and "
              "on weekends (and lets the database pause).", "Tasks outside working hours",
              GROUP_SCALING, 0, 0, 20),
        count(IDLE_SHUTDOWN_MINUTES, "Stop every task after this many minutes (0, or 5 or "
              "more) without a request, an open connection or an upload in flight; the next "
              "request starts one again within about 3 minutes, which MLflow's client waits out "
              "(browsers see a page that reloads itself). 0: off. Outside working hours a "
              "schedule's ScaleDownTasks stays the limit.",
              "Idle shutdown after (minutes)", GROUP_SCALING, 0, 0, 1440),
    ]  # fmt: skip


def declare_scaling_inputs(ctx: Context) -> ScalingInputs:
    """Declare the scaling Parameters, Conditions and Rules."""
    inputs = ScalingInputs(*ctx.parameters(*_tracking_specs(), *_schedule_specs()))
    ctx.condition(ENABLE_AUTOSCALING, Not(Equals(inputs.metric.ref(), "none")))
    ctx.condition(USE_REQUEST_COUNT_SCALING, is_value(inputs.metric, "requests"))
    ctx.condition(ENABLE_SCHEDULE, given(inputs.scale_up_schedule))
    ctx.condition(ENABLE_IDLE_SHUTDOWN, Not(Equals(inputs.idle_shutdown_minutes.ref(), "0")))
    ctx.condition(
        USE_SCALABLE_TARGET,
        Or(
            condition(ENABLE_AUTOSCALING),
            condition(ENABLE_SCHEDULE),
            condition(ENABLE_IDLE_SHUTDOWN),
        ),
    )
    short = [str(m) for m in range(1, MIN_IDLE_SHUTDOWN_MINUTES)]
    ctx.rule(
        RULE_IDLE_SHUTDOWN_IS_A_FEW_MINUTES,
        [
            assertion(
                Not({"Fn::Contains": [short, inputs.idle_shutdown_minutes.ref()]}),
                f"{IDLE_SHUTDOWN_MINUTES} must be 0 (off) or at least "
                f"{MIN_IDLE_SHUTDOWN_MINUTES}: the load balancer's metrics arrive minutes late, "
                "and a shorter idle period would stop the service while it is used.",
            )
        ],
    )
    up, down = inputs.scale_up_schedule, inputs.scale_down_schedule
    ctx.rule(
        RULE_SCALING_NEEDS_MIN_TASKS,
        [
            assertion(
                Not(Equals(inputs.min_tasks.ref(), "0")),
                f"{MIN_TASKS} must be at least 1 with {SCALING_METRIC} cpu or requests or a "
                f"{SCALE_UP_SCHEDULE}: with no task there is no metric to scale out on, and "
                f"working hours would start no task. To stop at night use {SCALE_DOWN_TASKS} 0.",
            )
        ],
        when=Or(Not(Equals(inputs.metric.ref(), "none")), given(up)),
    )
    for rule, given_one, needed in (
        (RULE_SCALE_UP_NEEDS_SCALE_DOWN, up, down),
        (RULE_SCALE_DOWN_NEEDS_SCALE_UP, down, up),
    ):
        ctx.rule(
            rule,
            [
                assertion(
                    given(needed),
                    f"{given_one.title} needs {needed.title}: working hours need a start and "
                    "an end.",
                )
            ],
            when=given(given_one),
        )
    return inputs
