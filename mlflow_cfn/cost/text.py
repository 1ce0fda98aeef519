"""The estimate as the ``cost`` command prints it: plain-text tables of line items, of a
comparison and of the presets with their goals, the list of assumptions with their notes, and
what is not counted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlflow_cfn.cost.presets import PRESET_HOURS, PresetRow
from mlflow_cfn.cost.prices import ASSUMPTION_KEYS
from mlflow_cfn.cost.records import Comparison, Estimate

EXCLUSIONS = (
    "Not counted: data transfer, NAT gateways or VPC endpoints of your VPC, free tiers, taxes, "
    "the S3 log bucket, KMS and Secrets Manager requests, Performance Insights (7-day free tier). "
    "The account's free tier may cover the monitoring: its first 3 dashboards and first 10 alarm "
    "metrics cost nothing."
)


def _render(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    """A plain-text table; `align` has an 'l' or 'r' per column."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.ljust(width) if side == "l" else cell.rjust(width)
            for cell, width, side in zip(cells, widths, align, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def format_estimate(result: Estimate) -> str:
    """The line items of an estimate and their total as a table."""
    rows = [
        [
            item.component,
            f"{item.quantity:,.2f}",
            item.unit,
            f"{item.unit_price:.6f}",
            f"{item.monthly_usd:,.2f}",
        ]
        for item in result.items
    ]
    rows.append(["Total", "", "", "", f"{result.total_usd:,.2f}"])
    header = ["Component", "Quantity", "Unit", "Unit USD", "Monthly USD"]
    return _render(header, rows, "lrlrr")


def format_comparison(comparison: Comparison) -> str:
    """Monthly USD per group for each column of a comparison, '-' where a setup has no cost."""
    rows = [
        [group, *("-" if v is None else f"{v:,.2f}" for v in values)]
        for group, values in comparison.rows
    ]
    return _render(
        ["USD per month", *comparison.columns], rows, "l" + "r" * len(comparison.columns)
    )


def _goal_text(row: PresetRow) -> str:
    """The goals of a preset: met or missed with the total, or why it was not priced."""
    if row.missing:
        return f"not priced: the template lacks {', '.join(row.missing)}"
    return "; ".join(
        f"{goal.describe()}: {'met' if total <= goal.max_usd else 'MISSED'}"
        for goal, total in row.goals
        if total is not None
    )


def format_presets(rows: Sequence[PresetRow]) -> str:
    """Monthly totals of each preset idle, at 50 and at 168 h/week, and its goals."""
    hours = ["Idle" if h == 0 else f"{h:g} h/wk" for h in PRESET_HOURS]
    body = [
        [
            f"{row.preset.name} ({row.preset.summary})",
            *(["-"] * len(hours) if row.totals is None else [f"{t:,.2f}" for t in row.totals]),
            _goal_text(row),
        ]
        for row in rows
    ]
    return _render(["USD per month", *hours, "Goal"], body, "l" + "r" * len(hours) + "l")


def format_assumptions(
    prices: Mapping[str, Any],
    overrides: Mapping[str, float],
    section: str = "assumptions",
    keys: Sequence[str] = ASSUMPTION_KEYS,
) -> str:
    """Every assumption of a price table's ``section`` with its value and note; overridden ones
    marked."""
    lines = []
    for key in keys:
        entry = prices[section][key]
        value = overrides.get(key, entry["value"])
        mark = " (--assume)" if key in overrides else ""
        lines.append(f"  {key} = {value:g}{mark}: {entry.get('note', '')}")
    return "\n".join(lines)
