"""Presets: the template's defaults and two ways of running less, priced side by side idle, at
50 h/week and at 168 h/week of use, with the goals the product must meet at list prices.

Each preset is the template's defaults (network parameters filled with placeholders, which do
not change the cost) plus the preset's parameters, evaluated as CloudFormation would, so the
keys, secrets, alarms and dashboard are those the preset's stack creates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlflow_cfn.cfn.evaluate import Evaluated
from mlflow_cfn.cost.estimate import estimate, stack_counts
from mlflow_cfn.cost.records import HOURS_PER_WEEK, WORKING_HOURS_PER_WEEK
from mlflow_cfn.stack.components.load_balancer_inputs import LOAD_BALANCER_INGRESS_CIDRS
from mlflow_cfn.stack.components.network import (
    DATABASE_SUBNET_IDS,
    LOAD_BALANCER_SUBNET_IDS,
    SERVICE_SUBNET_IDS,
    VPC_ID,
)
from mlflow_cfn.stack.components.scaling_inputs import (
    IDLE_SHUTDOWN_MINUTES,
    SCALE_DOWN_SCHEDULE,
    SCALE_DOWN_TASKS,
    SCALE_UP_SCHEDULE,
)
from mlflow_cfn.stack.components.sidecar_inputs import DATADOG_API_KEY_SECRET_ARN
from mlflow_cfn.stack.plan import evaluate_checked

NETWORK_PLACEHOLDERS = {
    VPC_ID: "vpc-00000000000000000",
    LOAD_BALANCER_SUBNET_IDS: "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
    SERVICE_SUBNET_IDS: "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
    DATABASE_SUBNET_IDS: "subnet-0cccccccccccccccc,subnet-0dddddddddddddddd",
    LOAD_BALANCER_INGRESS_CIDRS: "10.0.0.0/8",
}
#: Placeholders for the other Parameters a template may declare without a default: none of them
#: changes the price (the Datadog agent's API key, templates/mlflow-datadog.json).
REQUIRED_PLACEHOLDERS = {
    **NETWORK_PLACEHOLDERS,
    DATADOG_API_KEY_SECRET_ARN: (
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:datadog-api-key-AbCdEf"
    ),
}
#: The columns of the presets table: hours a week MLflow is used.
PRESET_HOURS = (0.0, WORKING_HOURS_PER_WEEK, HOURS_PER_WEEK)


@dataclass(frozen=True)
class Preset:
    """A named parameter set: the template's defaults plus `parameters`."""

    name: str
    parameters: Mapping[str, str]
    summary: str


@dataclass(frozen=True)
class Goal:
    """At most `max_usd` a month for `preset` at `hours_per_week` of use."""

    preset: str
    hours_per_week: float
    max_usd: float

    def describe(self) -> str:
        """E.g. 'idle <= $25'."""
        when = "idle" if self.hours_per_week == 0 else f"{self.hours_per_week:g} h/wk"
        return f"{when} <= ${self.max_usd:g}"


DEFAULTS = Preset("default parameters", {}, "DesiredCount 1 all week")
WORKING_HOURS = Preset(
    "working hours",
    {
        SCALE_UP_SCHEDULE: "cron(0 8 ? * MON-FRI *)",
        SCALE_DOWN_SCHEDULE: "cron(0 18 ? * MON-FRI *)",
        SCALE_DOWN_TASKS: "0",
    },
    "1 task MON-FRI 08:00-18:00, 50 h/week; 0 outside",
)
IDLE_SHUTDOWN = Preset("idle shutdown", {IDLE_SHUTDOWN_MINUTES: "30"}, "IdleShutdownMinutes 30")
PRESETS = (DEFAULTS, WORKING_HOURS, IDLE_SHUTDOWN)
GOALS = (
    Goal(IDLE_SHUTDOWN.name, 0.0, 25.0),
    Goal(DEFAULTS.name, 0.0, 55.0),
    Goal(WORKING_HOURS.name, WORKING_HOURS_PER_WEEK, 45.0),
)


def evaluate_for_cost(template: Mapping[str, Any], given: Mapping[str, str]) -> Evaluated:
    """The stack `template` creates with `given` parameters, placeholders filling the required
    parameters the template declares and `given` does not set (REQUIRED_PLACEHOLDERS)."""
    declared = template.get("Parameters") or {}
    values = {name: value for name, value in REQUIRED_PLACEHOLDERS.items() if name in declared}
    return evaluate_checked(dict(template), {**values, **given})


@dataclass(frozen=True)
class PresetRow:
    """A preset's monthly totals at `PRESET_HOURS` (None when the template lacks one of its
    parameters) and its goals with the total each is held to."""

    preset: Preset
    totals: tuple[float, ...] | None
    missing: tuple[str, ...]
    goals: tuple[tuple[Goal, float | None], ...]


def _preset_row(
    template: Mapping[str, Any],
    preset: Preset,
    prices: Mapping[str, Any],
    assumptions: Mapping[str, float] | None,
) -> PresetRow:
    """One preset priced at every hour column, or marked with the parameters it lacks."""
    declared = template.get("Parameters") or {}
    missing = tuple(name for name in preset.parameters if name not in declared)
    goals = [goal for goal in GOALS if goal.preset == preset.name]
    if missing:
        return PresetRow(preset, None, missing, tuple((goal, None) for goal in goals))
    stack = evaluate_for_cost(template, preset.parameters)
    counts = stack_counts(stack)
    totals = tuple(
        estimate(
            stack.parameters, prices, hours_per_week=hours, assumptions=assumptions, **counts
        ).total_usd
        for hours in PRESET_HOURS
    )
    held = tuple((goal, totals[PRESET_HOURS.index(goal.hours_per_week)]) for goal in goals)
    return PresetRow(preset, totals, (), held)


def preset_rows(
    template: Mapping[str, Any],
    prices: Mapping[str, Any],
    assumptions: Mapping[str, float] | None = None,
) -> list[PresetRow]:
    """Every preset of `PRESETS` priced on `template` (see the module's description)."""
    return [_preset_row(template, preset, prices, assumptions) for preset in PRESETS]
