"""What an estimate is made of: a month of use, priced line items, the month of one setup and
several setups side by side. Plain frozen records, shared by the estimate, the references and
the text output."""

from __future__ import annotations

from dataclasses import dataclass

from mlflow_cfn.cost import CostError

HOURS_PER_MONTH = 730.0
HOURS_PER_WEEK = 168.0
WORKING_HOURS_PER_WEEK = 50.0


def check_hours(hours_per_week: float) -> None:
    """Refuse hours of use a week that do not fit in a week (NaN does not)."""
    if not 0 <= hours_per_week <= HOURS_PER_WEEK:
        raise CostError(
            f"hours_per_week must be from 0 to {HOURS_PER_WEEK:g} (the hours in a week), "
            f"got {hours_per_week:g}"
        )


@dataclass(frozen=True)
class Usage:
    """How a month is used: tasks while MLflow is in use, tasks outside, hours of use a week."""

    active_tasks: int
    idle_tasks: int
    hours_per_week: float

    @property
    def active_hours(self) -> float:
        """Hours of use in a 730-hour month (168 h/week is the whole month)."""
        return self.hours_per_week * HOURS_PER_MONTH / HOURS_PER_WEEK

    @property
    def idle_hours(self) -> float:
        """The rest of the month."""
        return HOURS_PER_MONTH - self.active_hours

    @property
    def running_fraction(self) -> float:
        """The share of the month during which at least one task runs."""
        hours = (self.active_hours if self.active_tasks else 0.0) + (
            self.idle_hours if self.idle_tasks else 0.0
        )
        return hours / HOURS_PER_MONTH

    def describe(self) -> str:
        """One line for the output."""
        same = self.active_tasks == self.idle_tasks
        tasks = (
            f"{self.active_tasks} task(s) all month"
            if same
            else f"{self.active_tasks} task(s) while in use, {self.idle_tasks} outside"
        )
        return (
            f"{tasks}; MLflow in use {self.hours_per_week:g} h/week "
            f"({self.active_hours:.1f} of {HOURS_PER_MONTH:g} h/month)"
        )


@dataclass(frozen=True)
class LineItem:
    """One priced quantity of a month."""

    group: str
    component: str
    quantity: float
    unit: str
    unit_price: float

    @property
    def monthly_usd(self) -> float:
        """Quantity times unit price."""
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Estimate:
    """The line items of one month of one setup, and their total."""

    title: str
    usage: Usage
    items: tuple[LineItem, ...]

    @property
    def total_usd(self) -> float:
        """The month's total in USD."""
        return sum(item.monthly_usd for item in self.items)

    def group_totals(self) -> dict[str, float]:
        """USD per group of line items, for the groups this setup has."""
        totals: dict[str, float] = {}
        for item in self.items:
            totals[item.group] = totals.get(item.group, 0.0) + item.monthly_usd
        return totals

    def item(self, component: str) -> LineItem:
        """The line item of one component; KeyError naming the components otherwise."""
        for item in self.items:
            if item.component == component:
                return item
        raise KeyError(f"no line item {component!r}; items: {[i.component for i in self.items]}")


@dataclass(frozen=True)
class Comparison:
    """Monthly USD per group (rows) for several setups (columns); the last row is the total."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[float | None, ...]], ...]

    def value(self, column: str, row: str) -> float | None:
        """One cell: None where the setup has no such cost."""
        return dict(self.rows)[row][self.columns.index(column)]
