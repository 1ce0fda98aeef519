"""The presets table and the product's cost goals, at the committed us-east-1 list prices on the
template the code builds: a change that breaks a goal fails here, naming the line items."""

from __future__ import annotations

import pytest

from mlflow_cfn.cost import presets
from mlflow_cfn.cost.estimate import estimate, stack_counts
from mlflow_cfn.cost.presets import (
    DEFAULTS,
    GOALS,
    IDLE_SHUTDOWN,
    PRESET_HOURS,
    PRESETS,
    WORKING_HOURS,
    evaluate_for_cost,
    preset_rows,
)
from mlflow_cfn.cost.prices import load_prices
from mlflow_cfn.cost.text import format_presets


@pytest.fixture(scope="module")
def rows(default_template):
    return {row.preset.name: row for row in preset_rows(default_template, load_prices())}


def _line_items(template: dict, preset, hours: float) -> str:
    """The preset's line items over a cent, for the message of a missed goal."""
    stack = evaluate_for_cost(template, preset.parameters)
    result = estimate(stack.parameters, load_prices(), hours_per_week=hours, **stack_counts(stack))
    return ", ".join(f"{i.component} {i.monthly_usd:.2f}" for i in result.items if i.monthly_usd)


@pytest.mark.parametrize("goal", GOALS, ids=lambda goal: f"{goal.preset}, {goal.describe()}")
def test_each_goal_is_met_at_list_prices(goal, rows, default_template):
    row = rows[goal.preset]
    assert not row.missing, f"the template lacks {row.missing}"
    total = dict((g, t) for g, t in row.goals)[goal]
    preset = next(p for p in PRESETS if p.name == goal.preset)
    assert total <= goal.max_usd, (
        f"{goal.preset} {goal.describe()}: {total:.2f}; "
        f"{_line_items(default_template, preset, goal.hours_per_week)}"
    )


def test_every_preset_is_priced_at_every_column(rows, default_template):
    assert list(rows) == [DEFAULTS.name, WORKING_HOURS.name, IDLE_SHUTDOWN.name]
    for preset in PRESETS:
        stack = evaluate_for_cost(default_template, preset.parameters)
        expected = [
            estimate(stack.parameters, load_prices(), hours_per_week=h, **stack_counts(stack))
            for h in PRESET_HOURS
        ]
        assert rows[preset.name].totals == pytest.approx([e.total_usd for e in expected])
    # Running less never costs more than the defaults, idle or at working hours.
    for column in (0, 1):
        default = rows[DEFAULTS.name].totals[column]
        assert rows[WORKING_HOURS.name].totals[column] < default
        assert rows[IDLE_SHUTDOWN.name].totals[column] < default


def test_the_working_hours_preset_runs_50_hours_a_week(default_template):
    stack = evaluate_for_cost(default_template, WORKING_HOURS.parameters)
    result = estimate(stack.parameters, load_prices(), hours_per_week=0, **stack_counts(stack))
    assert result.usage.task_hours == pytest.approx(50)


def test_a_template_without_a_preset_parameter_marks_the_preset_not_priced(default_template):
    older = {
        **default_template,
        "Parameters": {
            k: v for k, v in default_template["Parameters"].items() if k != "IdleShutdownMinutes"
        },
    }
    row = presets._preset_row(older, IDLE_SHUTDOWN, load_prices(), None)
    assert (row.totals, row.missing) == (None, ("IdleShutdownMinutes",))
    text = format_presets([row])
    assert "not priced: the template lacks IdleShutdownMinutes" in text


def test_the_presets_table_shows_each_goal(rows):
    text = format_presets(list(rows.values()))
    assert text.splitlines()[0].split() == ["USD", "per", "month", "Idle", "50", "h/wk", "168",
                                            "h/wk", "Goal"]  # fmt: skip
    assert "idle <= $25: met" in text
    assert "idle <= $55: met" in text
    assert "50 h/wk <= $45: met" in text
