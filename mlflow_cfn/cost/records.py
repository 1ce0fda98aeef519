"""What an estimate is made of: a week of use (repeated over a month), priced line items, the
month of one setup and several setups side by side. Plain frozen records, shared by the
estimate, the references and the text output."""

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


def monthly(hours_a_week: float) -> float:
    """Hours a week as hours in a 730-hour month (168 h/week is the whole month)."""
    return hours_a_week * HOURS_PER_MONTH / HOURS_PER_WEEK


@dataclass(frozen=True)
class Usage:
    """A week of one setup, repeated over the month: the hours MLflow is used, the part of them
    a task serves, task-hours, hours with at least one task running, the periods of use and the
    scheduled task starts (each wakes the database)."""

    hours_per_week: float
    served_hours: float
    task_hours: float
    running_hours: float
    sessions: float = 0.0
    starts: float = 0.0

    @classmethod
    def always_on(cls, tasks: int, hours_per_week: float, sessions: float) -> Usage:
        """`tasks` running all week, every hour of use served."""
        running = HOURS_PER_WEEK if tasks else 0.0
        used_sessions = sessions if hours_per_week else 0.0
        return cls(hours_per_week, hours_per_week, tasks * HOURS_PER_WEEK, running, used_sessions)

    @property
    def used_hours(self) -> float:
        """Hours of use a task serves in a month: what requests, I/O and capacity units follow."""
        return monthly(self.served_hours)

    @property
    def task_hours_month(self) -> float:
        """Task-hours in a month."""
        return monthly(self.task_hours)

    @property
    def running_fraction(self) -> float:
        """The share of the month during which at least one task runs."""
        return self.running_hours / HOURS_PER_WEEK

    def describe(self) -> str:
        """One line for the output."""
        unserved = self.hours_per_week - self.served_hours
        lost = f", {unserved:g} h/week of it with no task to serve it" if unserved > 1e-9 else ""
        return (
            f"MLflow in use {self.hours_per_week:g} h/week{lost}: "
            f"{self.task_hours_month:,.1f} task-hours a month, a task running "
            f"{monthly(self.running_hours):,.1f} of {HOURS_PER_MONTH:g} h"
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
