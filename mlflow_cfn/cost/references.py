"""The setups this stack is compared with, and the comparison.

The Terraform module this product descends from (with its defaults) and a SageMaker managed
MLflow tracking server are priced with the same table and line items as the stack; `compare`
puts an idle month, a 50 h/week month and an always-used month of the stack beside them. The
Terraform module's Aurora Serverless (v1, now retired) is priced at Serverless v2 rates; its
backup retention is assumed to be the 7 days this template defaults to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mlflow_cfn.cost.estimate import (
    GROUPS,
    MANAGED_SERVER,
    artifact_items,
    database_items,
    estimate,
    fargate_items,
    load_balancer_items,
)
from mlflow_cfn.cost.prices import PriceTable, price_table
from mlflow_cfn.cost.records import (
    HOURS_PER_MONTH,
    HOURS_PER_WEEK,
    WORKING_HOURS_PER_WEEK,
    Comparison,
    Estimate,
    LineItem,
    Usage,
    check_hours,
    monthly,
)
from mlflow_cfn.cost.usage import DatabaseMonth

TERRAFORM_TASKS = 2
TERRAFORM_TASK_VCPU = 2.0
TERRAFORM_TASK_GB = 4.0
TERRAFORM_ACU = 1.0
TERRAFORM_PAUSE_SECONDS = 300.0
TERRAFORM_BACKUP_DAYS = 7
REFERENCE_NOTES = (
    f"Terraform module defaults: {TERRAFORM_TASKS} always-on Fargate tasks of "
    f"{TERRAFORM_TASK_VCPU:g} vCPU / {TERRAFORM_TASK_GB:g} GB, an ALB, Aurora Serverless at "
    f"{TERRAFORM_ACU:g} ACU only while MLflow is used ({WORKING_HOURS_PER_WEEK:g} h/week), pausing "
    f"after {TERRAFORM_PAUSE_SECONDS / 60:g} idle minutes, backups {TERRAFORM_BACKUP_DAYS} days; "
    "keys, secrets, logs, metrics and alarms are not counted for it.",
    "SageMaker Small: one managed MLflow tracking server (metadata store included) always on, "
    "plus the same S3 artifacts and requests.",
)


@dataclass(frozen=True)
class Reference:
    """A setup the stack is compared with: its column title, its tasks (all month) and how its
    month turns into line items. Call it like `estimate`, without the stack's parameters."""

    title: str
    tasks: int
    line_items: Callable[[PriceTable, Usage], list[LineItem]]

    def __call__(
        self,
        prices: Mapping[str, Any],
        *,
        hours_per_week: float = WORKING_HOURS_PER_WEEK,
        assumptions: Mapping[str, float] | None = None,
    ) -> Estimate:
        """One month of this setup with `prices`, MLflow in use `hours_per_week`."""
        table = price_table(prices, assumptions)
        check_hours(hours_per_week)
        usage = Usage.always_on(self.tasks, hours_per_week, table.assume["sessions_per_week"])
        return Estimate(self.title, usage, tuple(self.line_items(table, usage)))


def _terraform_items(table: PriceTable, usage: Usage) -> list[LineItem]:
    """The Terraform module's defaults: see `REFERENCE_NOTES`; its database runs only while used
    and `TERRAFORM_PAUSE_SECONDS` after each period of use."""
    tail = monthly(usage.sessions * TERRAFORM_PAUSE_SECONDS / 3600)
    database = DatabaseMonth(
        used_hours=usage.used_hours,
        awake_idle_hours=min(tail, HOURS_PER_MONTH - usage.used_hours),
        used_acu=TERRAFORM_ACU,
        idle_acu=TERRAFORM_ACU,
        backup_days=TERRAFORM_BACKUP_DAYS,
    )
    return [
        *fargate_items(table, usage, TERRAFORM_TASK_VCPU, TERRAFORM_TASK_GB),
        *load_balancer_items(table, usage, 0),
        *database_items(table, database),
        *artifact_items(table, usage),
    ]


def _sagemaker_items(table: PriceTable, usage: Usage) -> list[LineItem]:
    """A SageMaker managed MLflow tracking server, Small, always on, with the same artifacts."""
    item = table.pricer(MANAGED_SERVER)
    server = item(
        "SageMaker MLflow tracking server (Small)",
        HOURS_PER_MONTH,
        "server-hours",
        "sagemaker_mlflow_small_hour",
    )
    return [server, *artifact_items(table, usage)]


terraform_reference = Reference("Terraform module", TERRAFORM_TASKS, _terraform_items)
sagemaker_reference = Reference("SageMaker Small", 0, _sagemaker_items)


def compare(
    parameters: Mapping[str, Any],
    prices: Mapping[str, Any],
    *,
    hours_per_week: float,
    assumptions: Mapping[str, float] | None = None,
    **counts: int,
) -> Comparison:
    """This stack idle, at 50 h/week and at 168 h/week (and at `hours_per_week` if different),
    then the Terraform module and SageMaker Small at 50 h/week: monthly USD per group and in
    total. `counts` are `estimate`'s keyword arguments (`stack_counts`)."""
    stack_hours = [0.0, WORKING_HOURS_PER_WEEK, HOURS_PER_WEEK]
    if hours_per_week not in stack_hours:
        stack_hours.append(hours_per_week)
    estimates = [
        estimate(parameters, prices, hours_per_week=hours, assumptions=assumptions, **counts)
        for hours in sorted(stack_hours)
    ]
    estimates.append(terraform_reference(prices, assumptions=assumptions))
    estimates.append(sagemaker_reference(prices, assumptions=assumptions))
    return side_by_side(estimates)


def side_by_side(estimates: list[Estimate]) -> Comparison:
    """Monthly USD per group (the groups any of them has) and in total, one column each."""
    totals = [e.group_totals() for e in estimates]
    rows = [
        (group, tuple(t.get(group) for t in totals))
        for group in GROUPS
        if any(group in t for t in totals)
    ]
    rows.append(("Total", tuple(e.total_usd for e in estimates)))
    return Comparison(tuple(e.title for e in estimates), tuple(rows))
