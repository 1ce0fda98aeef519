"""``mlflow-cfn cost``: a monthly cost estimate of the stack, next to two reference points.

`estimate` prices one month (730 hours) of a stack from its resolved template parameters, a
price table (``mlflow_cfn/cost/prices/us-east-1.json`` or ``--prices FILE``, same schema) and a
usage model:
tasks running while MLflow is used, tasks running outside those hours, and hours of use a week.
`compare` puts an idle month and a working-hours month of the stack beside the Terraform module
this product descends from (with its defaults) and a SageMaker managed MLflow tracking server.

The price table holds, besides the prices, the usage assumptions (storage sizes, requests, load
balancer capacity units...) with a note each; ``--assume KEY=VALUE`` overrides one of them.
Nothing is fetched: the numbers are list prices as of the table's date, without free tiers.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from mlflow_cfn.cfn.evaluate import Evaluated, EvaluationError, load_parameters
from mlflow_cfn.stack import names
from mlflow_cfn.stack.plan import evaluate_checked

__all__ = [
    "Comparison",
    "CostError",
    "Estimate",
    "LineItem",
    "Usage",
    "add_cost_parser",
    "compare",
    "estimate",
    "format_comparison",
    "format_estimate",
    "load_prices",
    "parse_assumption",
    "run_cost",
    "sagemaker_reference",
    "terraform_reference",
    "validate_prices",
]

HOURS_PER_MONTH = 730.0
HOURS_PER_WEEK = 168.0
WORKING_HOURS_PER_WEEK = 50.0
DEFAULT_TEMPLATE = "templates/mlflow.json"
DEFAULT_PRICES = "prices/us-east-1.json"

# What the default template creates; `run_cost` counts them in the evaluated stack instead.
KMS_KEYS = 3
MANAGED_SECRETS = 1

PRICE_KEYS = (
    "fargate_vcpu_hour",
    "fargate_gb_hour",
    "alb_hour",
    "alb_lcu_hour",
    "aurora_acu_hour",
    "aurora_storage_gb_month",
    "aurora_io_million",
    "aurora_backup_gb_month",
    "s3_standard_gb_month",
    "s3_put_thousand",
    "s3_get_thousand",
    "kms_key_month",
    "secrets_manager_secret_month",
    "cloudwatch_logs_ingest_gb",
    "cloudwatch_logs_storage_gb_month",
    "cloudwatch_metric_month",
    "public_ipv4_hour",
    "sagemaker_mlflow_small_hour",
)
ASSUMPTION_KEYS = (
    "alb_lcu_active",
    "alb_lcu_idle",
    "db_acu_in_use",
    "db_sessions_per_week",
    "db_storage_gb",
    "db_io_million_per_active_hour",
    "db_daily_change_fraction",
    "artifact_gb",
    "s3_put_per_active_hour",
    "s3_get_per_active_hour",
    "logs_gb_per_month",
    "container_insights_metrics",
    "kms_key_age_years",
)

# Groups of line items, in the order the comparison lists them.
COMPUTE = "Compute (Fargate)"
LOAD_BALANCER = "Load balancer"
DATABASE = "Database (Aurora)"
ARTIFACTS = "Artifacts (S3)"
KEYS_AND_SECRETS = "Keys and secrets"
LOGS_AND_METRICS = "Logs and metrics"
MANAGED_SERVER = "Managed MLflow server"
GROUPS = (
    COMPUTE,
    LOAD_BALANCER,
    DATABASE,
    ARTIFACTS,
    KEYS_AND_SECRETS,
    LOGS_AND_METRICS,
    MANAGED_SERVER,
)

# The reference points. The Terraform module's Aurora Serverless (v1, now retired) is priced at
# Serverless v2 rates; its backup retention is assumed to be the 7 days this template defaults to.
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
    "keys, secrets, logs and metrics are not counted for it.",
    "SageMaker Small: one managed MLflow tracking server (metadata store included) always on, "
    "plus the same S3 artifacts and requests.",
)
EXCLUSIONS = (
    "Not counted: data transfer, NAT gateways or VPC endpoints of your VPC, free tiers, taxes, "
    "the S3 log bucket, KMS and Secrets Manager requests, Performance Insights (7-day free tier)."
)


class CostError(ValueError):
    """A price table, assumption or input the estimate cannot use; the message names it."""


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


@dataclass(frozen=True)
class _Table:
    """A validated price table: prices and assumptions as numbers."""

    rates: dict[str, float]
    assume: dict[str, float]

    def pricer(self, group: str) -> Callable[[str, float, str, str], LineItem]:
        """A maker of line items of one group: (component, quantity, unit, price key)."""

        def item(component: str, quantity: float, unit: str, price: str) -> LineItem:
            return LineItem(group, component, quantity, unit, self.rates[price])

        return item


def _is_number(value: object) -> bool:
    """A finite, non-negative JSON number (booleans are not numbers here)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _section_errors(document: Mapping, section: str, keys: Sequence[str], field: str) -> list[str]:
    """Every missing or non-numeric entry of one section of a price table."""
    entries = document.get(section)
    if not isinstance(entries, Mapping):
        return [f"'{section}' must be an object with {', '.join(keys)}"]
    missing = [key for key in keys if key not in entries]
    errors = [f"missing {section[:-1]} {key}" for key in missing]
    for key in keys:
        entry = entries.get(key)
        if key in entries and not (isinstance(entry, Mapping) and _is_number(entry.get(field))):
            shown = entry.get(field) if isinstance(entry, Mapping) else entry
            errors.append(
                f"{section[:-1]} {key} needs a non-negative number '{field}', got {shown!r}"
            )
    return errors


def validate_prices(document: object, origin: str = "prices") -> None:
    """Refuse a price table that lacks a required price or assumption, naming every one at once."""
    if not isinstance(document, Mapping):
        raise CostError(f"{origin}: a price table must be a JSON object")
    errors = [
        f"'{field}' must be a non-empty string"
        for field in ("region", "as_of")
        if not (isinstance(document.get(field), str) and document.get(field))
    ]
    errors += _section_errors(document, "prices", PRICE_KEYS, "usd")
    errors += _section_errors(document, "assumptions", ASSUMPTION_KEYS, "value")
    if errors:
        raise CostError(f"{origin}: " + "; ".join(errors))


def load_prices(path: str | Path | None = None) -> dict[str, Any]:
    """The committed us-east-1 price table, or the one at `path`, validated."""
    try:
        if path is None:
            origin = f"mlflow_cfn/cost/{DEFAULT_PRICES}"
            text = resources.files("mlflow_cfn.cost").joinpath(DEFAULT_PRICES).read_text("utf-8")
        else:
            origin = str(path)
            text = Path(path).read_text(encoding="utf-8")
        document = json.loads(text)
    except OSError as exc:
        raise CostError(f"{origin}: cannot read: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise CostError(f"{origin}: not valid JSON: {exc}") from exc
    validate_prices(document, origin)
    return document


def parse_assumption(text: str) -> tuple[str, float]:
    """One ``--assume KEY=VALUE``: a known assumption and a non-negative number."""
    key, equals, value = text.partition("=")
    if not equals or key not in ASSUMPTION_KEYS:
        raise CostError(
            f"--assume {text!r}: expected KEY=VALUE with KEY one of {', '.join(ASSUMPTION_KEYS)}"
        )
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not _is_number(number):
        raise CostError(f"--assume {key}: the value must be a non-negative number, got {value!r}")
    return key, number


def _table(prices: Mapping, assumptions: Mapping[str, float] | None) -> _Table:
    """The numbers of a price table, with assumptions overridden where given."""
    validate_prices(prices)
    assume = {key: float(prices["assumptions"][key]["value"]) for key in ASSUMPTION_KEYS}
    for key, value in (assumptions or {}).items():
        if key not in assume:
            raise CostError(f"unknown assumption {key!r}; known: {', '.join(ASSUMPTION_KEYS)}")
        assume[key] = float(value)
    rates = {key: float(prices["prices"][key]["usd"]) for key in PRICE_KEYS}
    return _Table(rates, assume)


def _check_hours(hours_per_week: float) -> None:
    """Hours of use a week must fit in a week (NaN does not)."""
    if not 0 <= hours_per_week <= HOURS_PER_WEEK:
        raise CostError(
            f"hours_per_week must be from 0 to {HOURS_PER_WEEK:g} (the hours in a week), "
            f"got {hours_per_week:g}"
        )


def _parameter(parameters: Mapping[str, Any], name: str) -> float:
    """A numeric template parameter from the resolved parameters."""
    if name not in parameters:
        raise CostError(f"parameter {name} is missing from the resolved parameters")
    try:
        return float(parameters[name])
    except (TypeError, ValueError):
        raise CostError(f"parameter {name} must be a number, got {parameters[name]!r}") from None


def _public_ips(parameters: Mapping[str, Any]) -> int:
    """Public IPv4 addresses of the load balancer: one per subnet when internet-facing."""
    if parameters.get(names.LOAD_BALANCER_SCHEME) != "internet-facing":
        return 0
    subnets = parameters.get(names.LOAD_BALANCER_SUBNET_IDS) or []
    return len(subnets.split(",") if isinstance(subnets, str) else subnets)


def _fargate(table: _Table, usage: Usage, vcpu: float, memory_gb: float) -> list[LineItem]:
    """vCPU- and GB-hours of every running task."""
    item = table.pricer(COMPUTE)
    task_hours = usage.active_tasks * usage.active_hours + usage.idle_tasks * usage.idle_hours
    return [
        item("Fargate vCPU", vcpu * task_hours, "vCPU-hours", "fargate_vcpu_hour"),
        item("Fargate memory", memory_gb * task_hours, "GB-hours", "fargate_gb_hour"),
    ]


def _load_balancer(table: _Table, usage: Usage, public_ips: int) -> list[LineItem]:
    """The ALB all month, its capacity units by use, and its public addresses if any."""
    item = table.pricer(LOAD_BALANCER)
    lcu_hours = (
        table.assume["alb_lcu_active"] * usage.active_hours
        + table.assume["alb_lcu_idle"] * usage.idle_hours
    )
    items = [
        item("Application Load Balancer", HOURS_PER_MONTH, "ALB-hours", "alb_hour"),
        item("Load balancer capacity units", lcu_hours, "LCU-hours", "alb_lcu_hour"),
    ]
    if public_ips:
        ip_hours = public_ips * HOURS_PER_MONTH
        items.append(item("Public IPv4 addresses", ip_hours, "IP-hours", "public_ipv4_hour"))
    return items


@dataclass(frozen=True)
class _Database:
    """How an Aurora Serverless database spends a month."""

    used_hours: float  # MLflow in use: capacity `used_acu`
    connected_idle_hours: float  # connections open, nobody using it: `idle_acu`, no pause
    used_acu: float
    idle_acu: float
    pauses: bool  # minimum capacity 0: pauses `pause_seconds` after its last connection
    pause_seconds: float
    backup_days: float


def _database(table: _Table, db: _Database) -> list[LineItem]:
    """ACU-hours (0 while paused), storage, I/O while used and backup beyond the free amount."""
    item = table.pricer(DATABASE)
    unconnected = HOURS_PER_MONTH - db.used_hours - db.connected_idle_hours
    if not db.pauses:
        unpaused = unconnected
    elif 0 < unconnected < HOURS_PER_MONTH:
        sessions = table.assume["db_sessions_per_week"] * HOURS_PER_MONTH / HOURS_PER_WEEK
        unpaused = min(unconnected, sessions * db.pause_seconds / 3600)
    else:
        unpaused = 0.0
    acu_hours = db.used_hours * db.used_acu + (db.connected_idle_hours + unpaused) * db.idle_acu
    storage = table.assume["db_storage_gb"]
    backup = storage * table.assume["db_daily_change_fraction"] * db.backup_days
    io = table.assume["db_io_million_per_active_hour"] * db.used_hours
    return [
        item("Aurora Serverless v2 capacity", acu_hours, "ACU-hours", "aurora_acu_hour"),
        item("Aurora storage", storage, "GB-months", "aurora_storage_gb_month"),
        item("Aurora I/O", io, "million requests", "aurora_io_million"),
        item("Aurora backup beyond free", backup, "GB-months", "aurora_backup_gb_month"),
    ]


def _artifacts(table: _Table, usage: Usage) -> list[LineItem]:
    """Artifact storage and the requests of the hours of use."""
    item = table.pricer(ARTIFACTS)
    puts = table.assume["s3_put_per_active_hour"] * usage.active_hours / 1000
    gets = table.assume["s3_get_per_active_hour"] * usage.active_hours / 1000
    stored = table.assume["artifact_gb"]
    return [
        item("S3 Standard storage", stored, "GB-months", "s3_standard_gb_month"),
        item("S3 PUT/LIST requests", puts, "1,000 requests", "s3_put_thousand"),
        item("S3 GET requests", gets, "1,000 requests", "s3_get_thousand"),
    ]


def _keys_and_secrets(table: _Table, kms_keys: int, secrets: int) -> list[LineItem]:
    """Customer managed keys (with retained rotated material) and Secrets Manager secrets."""
    item = table.pricer(KEYS_AND_SECRETS)
    versions = 1 + min(math.floor(table.assume["kms_key_age_years"]), 2)
    return [
        item("KMS keys", kms_keys * versions, "key-months", "kms_key_month"),
        item("Secrets Manager secrets", secrets, "secret-months", "secrets_manager_secret_month"),
    ]


def _logs_and_metrics(table: _Table, usage: Usage, retention_days: float) -> list[LineItem]:
    """Logs ingested while tasks run, kept `retention_days`, and Container Insights metrics."""
    item = table.pricer(LOGS_AND_METRICS)
    ingested = table.assume["logs_gb_per_month"] * usage.running_fraction
    stored = ingested * retention_days / (HOURS_PER_MONTH / 24)
    metrics = table.assume["container_insights_metrics"] * usage.running_fraction
    return [
        item("CloudWatch Logs ingestion", ingested, "GB", "cloudwatch_logs_ingest_gb"),
        item("CloudWatch Logs storage", stored, "GB-months", "cloudwatch_logs_storage_gb_month"),
        item("Container Insights metrics", metrics, "metric-months", "cloudwatch_metric_month"),
    ]


def _title(hours_per_week: float) -> str:
    """The column title of this stack at some hours of use."""
    return "This stack, idle" if hours_per_week == 0 else f"This stack, {hours_per_week:g} h/wk"


def estimate(
    parameters: Mapping[str, Any],
    prices: Mapping[str, Any],
    *,
    hours_per_week: float,
    active_tasks: int | None = None,
    idle_tasks: int | None = None,
    assumptions: Mapping[str, float] | None = None,
    kms_keys: int = KMS_KEYS,
    managed_secrets: int = MANAGED_SECRETS,
) -> Estimate:
    """One month of the stack for resolved `parameters` (e.g. `Evaluated.parameters`).

    Tasks run at DesiredCount unless `active_tasks` (while MLflow is used) or `idle_tasks`
    (outside those hours, default: same as active) say otherwise."""
    table = _table(prices, assumptions)
    _check_hours(hours_per_week)
    active = (
        int(_parameter(parameters, names.DESIRED_COUNT)) if active_tasks is None else active_tasks
    )
    usage = Usage(active, active if idle_tasks is None else idle_tasks, hours_per_week)
    min_acu = _parameter(parameters, names.DATABASE_MIN_CAPACITY)
    max_acu = _parameter(parameters, names.DATABASE_MAX_CAPACITY)
    floor = max(min_acu, 0.5)
    database = _Database(
        used_hours=usage.active_hours if usage.active_tasks else 0.0,
        connected_idle_hours=usage.idle_hours if usage.idle_tasks else 0.0,
        used_acu=min(max(table.assume["db_acu_in_use"], floor), max(max_acu, floor)),
        idle_acu=floor,
        pauses=min_acu == 0,
        pause_seconds=_parameter(parameters, names.DATABASE_AUTO_PAUSE_SECONDS),
        backup_days=_parameter(parameters, names.DATABASE_BACKUP_RETENTION_DAYS),
    )
    items = [
        *_fargate(
            table,
            usage,
            _parameter(parameters, names.TASK_CPU) / 1024,
            _parameter(parameters, names.TASK_MEMORY) / 1024,
        ),
        *_load_balancer(table, usage, _public_ips(parameters)),
        *_database(table, database),
        *_artifacts(table, usage),
        *_keys_and_secrets(table, kms_keys, managed_secrets),
        *_logs_and_metrics(table, usage, _parameter(parameters, names.LOG_RETENTION_DAYS)),
    ]
    return Estimate(_title(hours_per_week), usage, tuple(items))


def terraform_reference(
    prices: Mapping[str, Any],
    *,
    hours_per_week: float = WORKING_HOURS_PER_WEEK,
    assumptions: Mapping[str, float] | None = None,
) -> Estimate:
    """The Terraform module's defaults: see `REFERENCE_NOTES`; its database runs only while used."""
    table = _table(prices, assumptions)
    _check_hours(hours_per_week)
    usage = Usage(TERRAFORM_TASKS, TERRAFORM_TASKS, hours_per_week)
    database = _Database(
        used_hours=usage.active_hours,
        connected_idle_hours=0.0,
        used_acu=TERRAFORM_ACU,
        idle_acu=TERRAFORM_ACU,
        pauses=True,
        pause_seconds=TERRAFORM_PAUSE_SECONDS,
        backup_days=TERRAFORM_BACKUP_DAYS,
    )
    items = [
        *_fargate(table, usage, TERRAFORM_TASK_VCPU, TERRAFORM_TASK_GB),
        *_load_balancer(table, usage, 0),
        *_database(table, database),
        *_artifacts(table, usage),
    ]
    return Estimate("Terraform module", usage, tuple(items))


def sagemaker_reference(
    prices: Mapping[str, Any],
    *,
    hours_per_week: float = WORKING_HOURS_PER_WEEK,
    assumptions: Mapping[str, float] | None = None,
) -> Estimate:
    """A SageMaker managed MLflow tracking server, Small, always on, with the same artifacts."""
    table = _table(prices, assumptions)
    _check_hours(hours_per_week)
    usage = Usage(0, 0, hours_per_week)
    item = table.pricer(MANAGED_SERVER)
    server = item(
        "SageMaker MLflow tracking server (Small)",
        HOURS_PER_MONTH,
        "server-hours",
        "sagemaker_mlflow_small_hour",
    )
    return Estimate("SageMaker Small", usage, (server, *_artifacts(table, usage)))


def compare(
    parameters: Mapping[str, Any],
    prices: Mapping[str, Any],
    *,
    hours_per_week: float,
    assumptions: Mapping[str, float] | None = None,
    kms_keys: int = KMS_KEYS,
    managed_secrets: int = MANAGED_SECRETS,
) -> Comparison:
    """This stack idle and at 50 h/week (and at `hours_per_week` if different), then the Terraform
    module and SageMaker Small at 50 h/week: monthly USD per group and in total."""
    stack_hours = [0.0, WORKING_HOURS_PER_WEEK]
    if hours_per_week not in stack_hours:
        stack_hours.append(hours_per_week)
    estimates = [
        estimate(
            parameters,
            prices,
            hours_per_week=hours,
            assumptions=assumptions,
            kms_keys=kms_keys,
            managed_secrets=managed_secrets,
        )
        for hours in stack_hours
    ]
    estimates.append(terraform_reference(prices, assumptions=assumptions))
    estimates.append(sagemaker_reference(prices, assumptions=assumptions))
    totals = [e.group_totals() for e in estimates]
    rows = [
        (group, tuple(t.get(group) for t in totals))
        for group in GROUPS
        if any(group in t for t in totals)
    ]
    rows.append(("Total", tuple(e.total_usd for e in estimates)))
    return Comparison(tuple(e.title for e in estimates), tuple(rows))


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


def _format_assumptions(prices: Mapping[str, Any], overrides: Mapping[str, float]) -> str:
    """Every assumption with its value and note; overridden ones marked."""
    lines = []
    for key in ASSUMPTION_KEYS:
        entry = prices["assumptions"][key]
        value = overrides.get(key, entry["value"])
        mark = " (--assume)" if key in overrides else ""
        lines.append(f"  {key} = {value:g}{mark}: {entry.get('note', '')}")
    return "\n".join(lines)


def _placeholders(template: Mapping[str, Any]) -> dict[str, str]:
    """Values for the required network parameters: they do not change the cost."""
    values = {
        names.VPC_ID: "vpc-00000000000000000",
        names.LOAD_BALANCER_SUBNET_IDS: "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
        names.SERVICE_SUBNET_IDS: "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
        names.DATABASE_SUBNET_IDS: "subnet-0cccccccccccccccc,subnet-0dddddddddddddddd",
        names.LOAD_BALANCER_INGRESS_CIDRS: "10.0.0.0/8",
    }
    declared = template.get("Parameters") or {}
    return {name: value for name, value in values.items() if name in declared}


def _stack(template_path: str, parameters_path: str | None) -> Evaluated:
    """The stack the template creates with the given parameters (placeholders fill the network)."""
    try:
        template = json.loads(Path(template_path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CostError(
            f"--template {template_path}: cannot read: {exc.strerror or exc} "
            "(run from the repository root or pass --template)"
        ) from exc
    except json.JSONDecodeError as exc:
        raise CostError(f"--template {template_path}: not valid JSON: {exc}") from exc
    given = _placeholders(template)
    if parameters_path:
        given.update(load_parameters(parameters_path))
    return evaluate_checked(template, given)


def _managed_secrets(stack: Evaluated) -> int:
    """Secrets Manager secrets: declared ones and RDS-managed master user secrets."""
    clusters = stack.of_type("AWS::RDS::DBCluster").values()
    managed = sum(
        str(c.get("Properties", {}).get("ManageMasterUserPassword")).lower() == "true"
        for c in clusters
    )
    return managed + len(stack.of_type("AWS::SecretsManager::Secret"))


def _hours_per_week(text: str) -> float:
    """The --hours-per-week value: a number of hours from 0 to 168."""
    try:
        hours = float(text)
    except ValueError:
        hours = math.nan
    if not 0 <= hours <= HOURS_PER_WEEK:
        raise CostError(
            f"--hours-per-week must be a number from 0 to {HOURS_PER_WEEK:g} (the hours in a "
            f"week), got {text!r}"
        )
    return hours


def run_cost(args: argparse.Namespace) -> int:
    """Print the estimate, the comparison and the assumptions; one line and 2 on bad input."""
    try:
        hours = _hours_per_week(args.hours_per_week)
        prices = load_prices(args.prices)
        overrides = dict(parse_assumption(text) for text in args.assume)
        stack = _stack(args.template, args.parameters)
        counts = {
            "kms_keys": len(stack.of_type("AWS::KMS::Key")),
            "managed_secrets": _managed_secrets(stack),
        }
        result = estimate(
            stack.parameters, prices, hours_per_week=hours, assumptions=overrides, **counts
        )
        comparison = compare(
            stack.parameters, prices, hours_per_week=hours, assumptions=overrides, **counts
        )
    except (CostError, EvaluationError) as exc:
        print(f"mlflow-cfn cost: {'; '.join(str(exc).splitlines())}", file=sys.stderr)
        return 2
    params = stack.parameters
    print(
        f"Monthly cost of {args.template} in {prices['region']}, list prices as of "
        f"{prices['as_of']} ({args.prices or 'mlflow_cfn/' + DEFAULT_PRICES})"
    )
    print(
        f"Tasks of {float(params[names.TASK_CPU]) / 1024:g} vCPU / "
        f"{float(params[names.TASK_MEMORY]) / 1024:g} GB: {result.usage.describe()}"
    )
    print()
    print(format_estimate(result))
    print()
    print(format_comparison(comparison))
    for note in REFERENCE_NOTES:
        print(note)
    print()
    print("Assumptions (change with --assume KEY=VALUE, or in a --prices file):")
    print(_format_assumptions(prices, overrides))
    print(EXCLUSIONS)
    return 0


def add_cost_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``cost`` sub-command to an argparse sub-parsers object."""
    cost = subparsers.add_parser(
        "cost",
        help="estimate the monthly AWS cost of a stack",
        description="Estimate one month of a stack from the template and a parameter file, "
        "beside an idle month, a 50 h/week month, the Terraform module it descends from and a "
        "SageMaker managed MLflow tracking server.",
    )
    cost.add_argument(
        "--parameters",
        metavar="PATH",
        help="parameter file as create-stack or deploy take it (default: the template's "
        "defaults; missing network parameters get placeholders, they do not change the cost)",
    )
    cost.add_argument(
        "--hours-per-week",
        default=f"{HOURS_PER_WEEK:g}",
        metavar="N",
        help="hours a week MLflow is in use, 0 to 168 (default: %(default)s, always)",
    )
    cost.add_argument(
        "--prices",
        metavar="FILE",
        help=f"price table with the schema of mlflow_cfn/{DEFAULT_PRICES} (default: that file)",
    )
    cost.add_argument(
        "--template",
        default=DEFAULT_TEMPLATE,
        metavar="PATH",
        help="template to price (default: %(default)s)",
    )
    cost.add_argument(
        "--assume",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one assumption of the price table (repeatable), e.g. artifact_gb=500",
    )
    cost.set_defaults(func=run_cost)
    return cost
