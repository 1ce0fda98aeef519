"""One month of this stack, as line items by group, from the template's resolved parameters, a
price table and the hours a week MLflow is used.

`usage` turns the parameters into what runs (tasks in and outside working hours, idle shutdown,
when the database is awake); each part of the stack (Fargate tasks, load balancer, Aurora, S3
artifacts, keys and secrets, logs and metrics, alarms and the dashboard) has a function turning
that into priced line items; `references` prices the setups the stack is compared with through
the same functions. Keys, secrets, alarm metrics and dashboards are counted in the evaluated
stack (`stack_counts`); the defaults are what the default template creates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mlflow_cfn.cfn.evaluate import Evaluated
from mlflow_cfn.cost.prices import PriceTable, price_table
from mlflow_cfn.cost.records import (
    HOURS_PER_MONTH,
    Estimate,
    LineItem,
    Usage,
    check_hours,
    monthly,
)
from mlflow_cfn.cost.usage import DatabaseMonth, database_month, number, setting, task_plan
from mlflow_cfn.stack.components.alarms_inputs import CREATE_DASHBOARD_PARAMETER
from mlflow_cfn.stack.components.load_balancer_inputs import LOAD_BALANCER_SCHEME
from mlflow_cfn.stack.components.log_bucket import LOG_RETENTION_DAYS
from mlflow_cfn.stack.components.network import LOAD_BALANCER_SUBNET_IDS
from mlflow_cfn.stack.components.scaling_inputs import IDLE_SHUTDOWN_MINUTES
from mlflow_cfn.stack.components.service_inputs import CONTAINER_INSIGHTS, TASK_CPU, TASK_MEMORY

# What the default template creates; `stack_counts` counts them in the evaluated stack instead.
KMS_KEYS = 3
MANAGED_SECRETS = 1
#: One per single-metric alarm, one per metric a metric-math alarm reads (how CloudWatch bills).
ALARM_METRICS = 5

# Groups of line items, in the order the comparison lists them.
COMPUTE = "Compute (Fargate)"
LOAD_BALANCER = "Load balancer"
DATABASE = "Database (Aurora)"
ARTIFACTS = "Artifacts (S3)"
KEYS_AND_SECRETS = "Keys and secrets"
LOGS_AND_METRICS = "Logs and metrics"
ALARMS = "Alarms and dashboard"
WAKE = "Wake function (idle shutdown)"
MANAGED_SERVER = "Managed MLflow server"
GROUPS = (
    COMPUTE,
    LOAD_BALANCER,
    DATABASE,
    ARTIFACTS,
    KEYS_AND_SECRETS,
    LOGS_AND_METRICS,
    ALARMS,
    WAKE,
    MANAGED_SERVER,
)


def fargate_items(table: PriceTable, usage: Usage, vcpu: float, memory_gb: float) -> list[LineItem]:
    """vCPU- and GB-hours of every running task."""
    item = table.pricer(COMPUTE)
    task_hours = usage.task_hours_month
    return [
        item("Fargate vCPU", vcpu * task_hours, "vCPU-hours", "fargate_vcpu_hour"),
        item("Fargate memory", memory_gb * task_hours, "GB-hours", "fargate_gb_hour"),
    ]


def load_balancer_items(table: PriceTable, usage: Usage, public_ips: int) -> list[LineItem]:
    """The ALB all month, its capacity units by use, and its public addresses if any."""
    item = table.pricer(LOAD_BALANCER)
    lcu_hours = table.assume["alb_lcu_active"] * usage.used_hours + table.assume["alb_lcu_idle"] * (
        HOURS_PER_MONTH - usage.used_hours
    )
    items = [
        item("Application Load Balancer", HOURS_PER_MONTH, "ALB-hours", "alb_hour"),
        item("Load balancer capacity units", lcu_hours, "LCU-hours", "alb_lcu_hour"),
    ]
    if public_ips:
        ip_hours = public_ips * HOURS_PER_MONTH
        items.append(item("Public IPv4 addresses", ip_hours, "IP-hours", "public_ipv4_hour"))
    return items


def database_items(table: PriceTable, db: DatabaseMonth) -> list[LineItem]:
    """ACU-hours (0 while paused), storage, I/O while used and backup beyond the free amount."""
    item = table.pricer(DATABASE)
    acu_hours = db.used_hours * db.used_acu + db.awake_idle_hours * db.idle_acu
    storage = table.assume["db_storage_gb"]
    backup = storage * table.assume["db_daily_change_fraction"] * db.backup_days
    io = table.assume["db_io_million_per_active_hour"] * db.used_hours
    return [
        item("Aurora Serverless v2 capacity", acu_hours, "ACU-hours", "aurora_acu_hour"),
        item("Aurora storage", storage, "GB-months", "aurora_storage_gb_month"),
        item("Aurora I/O", io, "million requests", "aurora_io_million"),
        item("Aurora backup beyond free", backup, "GB-months", "aurora_backup_gb_month"),
    ]


def artifact_items(table: PriceTable, usage: Usage) -> list[LineItem]:
    """Artifact storage and the requests of the hours of use."""
    item = table.pricer(ARTIFACTS)
    puts = table.assume["s3_put_per_active_hour"] * usage.used_hours / 1000
    gets = table.assume["s3_get_per_active_hour"] * usage.used_hours / 1000
    stored = table.assume["artifact_gb"]
    return [
        item("S3 Standard storage", stored, "GB-months", "s3_standard_gb_month"),
        item("S3 PUT/LIST requests", puts, "1,000 requests", "s3_put_thousand"),
        item("S3 GET requests", gets, "1,000 requests", "s3_get_thousand"),
    ]


def _keys_and_secrets(table: PriceTable, kms_keys: int, secrets: int) -> list[LineItem]:
    """Customer managed keys (with retained rotated material) and Secrets Manager secrets."""
    item = table.pricer(KEYS_AND_SECRETS)
    versions = 1 + min(math.floor(table.assume["kms_key_age_years"]), 2)
    return [
        item("KMS keys", kms_keys * versions, "key-months", "kms_key_month"),
        item("Secrets Manager secrets", secrets, "secret-months", "secrets_manager_secret_month"),
    ]


def _logs_and_metrics(
    table: PriceTable, usage: Usage, retention_days: float, insights: bool
) -> list[LineItem]:
    """Logs ingested by task-hours, kept `retention_days`, and Container Insights metrics (when
    enabled) for the hours a task runs to publish them."""
    item = table.pricer(LOGS_AND_METRICS)
    ingested = table.assume["logs_gb_per_task_month"] * usage.task_hours_month / HOURS_PER_MONTH
    stored = ingested * retention_days / (HOURS_PER_MONTH / 24)
    items = [
        item("CloudWatch Logs ingestion", ingested, "GB", "cloudwatch_logs_ingest_gb"),
        item("CloudWatch Logs storage", stored, "GB-months", "cloudwatch_logs_storage_gb_month"),
    ]
    if insights:
        metrics = table.assume["container_insights_metrics"] * usage.running_fraction
        items.append(
            item("Container Insights metrics", metrics, "metric-months", "cloudwatch_metric_month")
        )
    return items


def _alarms(table: PriceTable, alarm_metrics: int, dashboards: int) -> list[LineItem]:
    """Standard-resolution alarm metrics and custom dashboards (if any), all month (alarms are
    billed whether or not they fire; the account's free ones are not applied)."""
    item = table.pricer(ALARMS)
    items = [
        item("CloudWatch alarm metrics", alarm_metrics, "alarm-metric-months",
             "cloudwatch_alarm_metric_month"),
    ]  # fmt: skip
    if dashboards:
        items.append(
            item("CloudWatch dashboard (first 3 per account free)", dashboards,
                 "dashboard-months", "cloudwatch_dashboard_month")
        )  # fmt: skip
    return items


def _public_ips(parameters: Mapping[str, Any]) -> int:
    """Public IPv4 addresses of the load balancer: one per subnet when internet-facing."""
    if parameters.get(LOAD_BALANCER_SCHEME) != "internet-facing":
        return 0
    subnets = parameters.get(LOAD_BALANCER_SUBNET_IDS) or []
    return len(subnets.split(",") if isinstance(subnets, str) else subnets)


def wake_items(table: PriceTable, usage: Usage, idle_minutes: float) -> list[LineItem]:
    """With idle shutdown, the wake function's requests and compute: one wake a period of use
    (each ends with a stop), `wake_invocations` calls and `wake_gb_seconds` each."""
    if not idle_minutes:
        return []
    item = table.pricer(WAKE)
    wakes = monthly(usage.sessions)
    return [
        item("Lambda requests", wakes * table.assume["wake_invocations"] / 1e6,
             "million requests", "lambda_request_million"),
        item("Lambda compute", wakes * table.assume["wake_gb_seconds"], "GB-seconds",
             "lambda_gb_second"),
    ]  # fmt: skip


def _title(hours_per_week: float) -> str:
    """The column title of this stack at some hours of use."""
    return "This stack, idle" if hours_per_week == 0 else f"This stack, {hours_per_week:g} h/wk"


def estimate(
    parameters: Mapping[str, Any],
    prices: Mapping[str, Any],
    *,
    hours_per_week: float,
    assumptions: Mapping[str, float] | None = None,
    kms_keys: int = KMS_KEYS,
    managed_secrets: int = MANAGED_SECRETS,
    alarm_metrics: int = ALARM_METRICS,
    dashboards: int | None = None,
) -> Estimate:
    """One month of the stack for resolved `parameters` (e.g. `Evaluated.parameters`) with
    MLflow used `hours_per_week`; `dashboards` defaults to what CreateDashboard says."""
    table = price_table(prices, assumptions)
    check_hours(hours_per_week)
    usage = task_plan(parameters).week(hours_per_week, table.assume["sessions_per_week"])
    if dashboards is None:
        dashboards = int(setting(parameters, CREATE_DASHBOARD_PARAMETER, "false") == "true")
    vcpu, memory_gb = number(parameters, TASK_CPU) / 1024, number(parameters, TASK_MEMORY) / 1024
    insights = setting(parameters, CONTAINER_INSIGHTS, "disabled") == "enabled"
    items = [
        *fargate_items(table, usage, vcpu, memory_gb),
        *load_balancer_items(table, usage, _public_ips(parameters)),
        *database_items(table, database_month(parameters, usage, table.assume["db_acu_in_use"])),
        *artifact_items(table, usage),
        *_keys_and_secrets(table, kms_keys, managed_secrets),
        *_logs_and_metrics(table, usage, number(parameters, LOG_RETENTION_DAYS), insights),
        *_alarms(table, alarm_metrics, dashboards),
        *wake_items(table, usage, number(parameters, IDLE_SHUTDOWN_MINUTES, "0")),
    ]
    return Estimate(_title(hours_per_week), usage, tuple(items))


def _managed_secrets(stack: Evaluated) -> int:
    """Secrets Manager secrets: declared ones and RDS-managed master user secrets."""
    clusters = stack.of_type("AWS::RDS::DBCluster").values()
    managed = sum(
        str(c.get("Properties", {}).get("ManageMasterUserPassword")).lower() == "true"
        for c in clusters
    )
    return managed + len(stack.of_type("AWS::SecretsManager::Secret"))


def _alarm_metrics(stack: Evaluated) -> int:
    """Billed alarm metrics: one per single-metric alarm, and one per metric a metric-math alarm
    reads (its expressions cost nothing)."""
    alarms = [a.get("Properties", {}) for a in stack.of_type("AWS::CloudWatch::Alarm").values()]
    return sum(
        sum("MetricStat" in query for query in p["Metrics"]) if "Metrics" in p else 1
        for p in alarms
    )


def stack_counts(stack: Evaluated) -> dict[str, int]:
    """The KMS keys, Secrets Manager secrets, alarm metrics and dashboards of an evaluated
    stack, as the keyword arguments `kms_keys`, `managed_secrets`, `alarm_metrics` and
    `dashboards` of `estimate`."""
    return {
        "kms_keys": len(stack.of_type("AWS::KMS::Key")),
        "managed_secrets": _managed_secrets(stack),
        "alarm_metrics": _alarm_metrics(stack),
        "dashboards": len(stack.of_type("AWS::CloudWatch::Dashboard")),
    }
