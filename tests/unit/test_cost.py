"""The cost estimate: arithmetic on a small fixed price table, what the parameters run (tasks,
schedule, idle shutdown, database pauses), the references, the CLI."""

from __future__ import annotations

import argparse
import copy
import json
import re
from datetime import date
from pathlib import Path

import pytest

from mlflow_cfn.cfn.evaluate import Evaluated, evaluate
from mlflow_cfn.commands.cost import register as add_cost_parser
from mlflow_cfn.cost import CostError
from mlflow_cfn.cost import estimate as cost
from mlflow_cfn.cost.estimate import estimate
from mlflow_cfn.cost.prices import ASSUMPTION_KEYS, PRICE_KEYS, load_prices, validate_prices
from mlflow_cfn.cost.references import compare, sagemaker_reference, terraform_reference
from mlflow_cfn.cost.schedule import working_week
from mlflow_cfn.cost.text import format_comparison, format_estimate
from tests.conftest import TEMPLATES

MONTH = 730.0
WEEK = 168.0
WORKING_HOURS = {
    "ScaleUpSchedule": "cron(0 8 ? * MON-FRI *)",
    "ScaleDownSchedule": "cron(0 18 ? * MON-FRI *)",
}
#: The database's awake tail after a period of use or a task start: AutoPause + the idle close.
TAIL_HOURS = (300 + 60) / 3600
RATES = {
    "fargate_vcpu_hour": 0.04,
    "fargate_gb_hour": 0.004,
    "alb_hour": 0.02,
    "alb_lcu_hour": 0.01,
    "aurora_acu_hour": 0.1,
    "aurora_storage_gb_month": 0.1,
    "aurora_io_million": 0.2,
    "aurora_backup_gb_month": 0.02,
    "s3_standard_gb_month": 0.02,
    "s3_put_thousand": 0.005,
    "s3_get_thousand": 0.0004,
    "kms_key_month": 1.0,
    "secrets_manager_secret_month": 0.4,
    "cloudwatch_logs_ingest_gb": 0.5,
    "cloudwatch_logs_storage_gb_month": 0.03,
    "cloudwatch_metric_month": 0.3,
    "cloudwatch_alarm_metric_month": 0.1,
    "cloudwatch_dashboard_month": 3.0,
    "lambda_request_million": 0.2,
    "lambda_gb_second": 0.00002,
    "public_ipv4_hour": 0.005,
    "sagemaker_mlflow_small_hour": 0.6,
}
ASSUME = {
    "sessions_per_week": 5,
    "alb_lcu_active": 1,
    "alb_lcu_idle": 0,
    "db_acu_in_use": 0.5,
    "db_storage_gb": 1,
    "db_io_million_per_active_hour": 0.01,
    "db_daily_change_fraction": 0.05,
    "artifact_gb": 100,
    "s3_put_per_active_hour": 200,
    "s3_get_per_active_hour": 1000,
    "logs_gb_per_task_month": 1,
    "container_insights_metrics": 38,
    "kms_key_age_years": 0,
    "wake_invocations": 30,
    "wake_gb_seconds": 15,
}
TABLE = {
    "region": "test-region-1",
    "as_of": "2000-01-01",
    "prices": {k: {"usd": v, "unit": "u", "source": "test"} for k, v in RATES.items()},
    "assumptions": {k: {"value": v, "note": "test"} for k, v in ASSUME.items()},
}
# What evaluate() resolves for the template's defaults (the parameters the estimate reads; those
# it reads with a default, such as IdleShutdownMinutes or ContainerInsights, are left out).
DEFAULTS = {
    "TaskCpu": "512",
    "TaskMemory": "1024",
    "DesiredCount": "1",
    "DatabaseMinCapacity": "0",
    "DatabaseMaxCapacity": "4",
    "DatabaseAutoPauseSeconds": "300",
    "DatabaseBackupRetentionDays": "7",
    "LogRetentionDays": "365",
    "LoadBalancerScheme": "internal",
    "LoadBalancerSubnetIds": ["subnet-a", "subnet-b"],
}
NETWORK = {
    "VpcId": "vpc-0123456789abcdef0",
    "LoadBalancerSubnetIds": "subnet-a,subnet-b",
    "ServiceSubnetIds": "subnet-a,subnet-b",
    "DatabaseSubnetIds": "subnet-c,subnet-d",
    "LoadBalancerIngressCidrs": "10.0.0.0/8",
}


def params(**changes: object) -> dict:
    """The default parameters with some changed."""
    return {**DEFAULTS, **changes}


def cents(value: float) -> float:
    """Rounded to the cent, as the tables print it."""
    return round(value, 2)


def monthly(hours_per_week: float) -> float:
    return hours_per_week * MONTH / WEEK


def task_hours(result) -> float:
    """Task-hours a month, read back from the vCPU line of 0.5-vCPU tasks."""
    return result.item("Fargate vCPU").quantity / 0.5


def acu_hours(result) -> float:
    return result.item("Aurora Serverless v2 capacity").quantity


def components(result) -> list[str]:
    return [item.component for item in result.items]


def run(*argv: str) -> int:
    """`mlflow-cfn cost ARGV` through a parser built the way cli.py builds it."""
    parser = argparse.ArgumentParser(prog="mlflow-cfn")
    add_cost_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["cost", *argv])
    return args.func(args)


def write_table(tmp_path, table: dict, name: str = "prices.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(table))
    return str(path)


@pytest.fixture
def template_file(default_template, tmp_path) -> str:
    """The template the code builds now, as a file (the committed one may lag behind)."""
    path = tmp_path / "mlflow.json"
    path.write_text(json.dumps(default_template))
    return str(path)


# --- arithmetic -----------------------------------------------------------------------------


def test_one_small_task_always_on_costs_730_hours_of_vcpu_and_memory():
    for hours in (0, 50, 168):
        result = estimate(params(), TABLE, hours_per_week=hours)
        assert result.item("Fargate vCPU").quantity == pytest.approx(365.0)
        assert result.item("Fargate memory").quantity == pytest.approx(730.0)
        expected = cents(730 * (0.5 * RATES["fargate_vcpu_hour"] + 1 * RATES["fargate_gb_hour"]))
        assert cents(result.group_totals()[cost.COMPUTE]) == expected == 17.52


def test_tasks_and_size_come_from_the_parameters():
    sized = params(TaskCpu="2048", TaskMemory="4096", DesiredCount="3")
    result = estimate(sized, TABLE, hours_per_week=0)
    assert cents(result.group_totals()[cost.COMPUTE]) == cents(3 * 730 * (2 * 0.04 + 4 * 0.004))


def test_target_tracking_prices_min_tasks_not_desired_count():
    tracked = params(ScalingMetric="cpu", MinTasks="2", MaxTasks="5", DesiredCount="1")
    assert task_hours(estimate(tracked, TABLE, hours_per_week=0)) == pytest.approx(2 * MONTH)


def test_hours_of_use_scale_the_usage_driven_items():
    idle = estimate(params(), TABLE, hours_per_week=0)
    used = estimate(params(), TABLE, hours_per_week=50)
    for result, hours in ((idle, 0.0), (used, monthly(50))):
        assert result.usage.used_hours == pytest.approx(hours)
        assert result.item("Load balancer capacity units").quantity == pytest.approx(hours)
        assert result.item("S3 PUT/LIST requests").quantity == pytest.approx(0.2 * hours)
        assert result.item("S3 GET requests").quantity == pytest.approx(1.0 * hours)
        assert result.item("Aurora I/O").quantity == pytest.approx(0.01 * hours)
        # Always-on tasks, the ALB itself and storage do not depend on the hours of use.
        assert result.group_totals()[cost.COMPUTE] == pytest.approx(17.52)
        assert result.item("Application Load Balancer").monthly_usd == pytest.approx(730 * 0.02)
        assert result.item("S3 Standard storage").monthly_usd == pytest.approx(100 * 0.02)


def test_load_balancer_capacity_units_differ_in_and_outside_hours_of_use():
    assumptions = {"alb_lcu_active": 3, "alb_lcu_idle": 0.5}
    result = estimate(params(), TABLE, hours_per_week=50, assumptions=assumptions)
    expected = 3 * monthly(50) + 0.5 * (730 - monthly(50))
    assert result.item("Load balancer capacity units").quantity == pytest.approx(expected)


# --- schedule and idle shutdown -------------------------------------------------------------


def test_a_working_hours_schedule_runs_min_tasks_inside_and_scale_down_tasks_outside():
    stopped = params(**WORKING_HOURS, ScaleDownTasks="0", MinTasks="1", DesiredCount="3")
    for hours in (0, 50):
        assert task_hours(estimate(stopped, TABLE, hours_per_week=hours)) == pytest.approx(
            monthly(50)
        )
    kept = params(**WORKING_HOURS, ScaleDownTasks="1", MinTasks="2")
    result = estimate(kept, TABLE, hours_per_week=0)
    assert task_hours(result) == pytest.approx(monthly(2 * 50 + 1 * 118))
    assert result.usage.running_fraction == 1


def test_use_outside_working_hours_with_no_task_is_not_served():
    result = estimate(params(**WORKING_HOURS, ScaleDownTasks="0"), TABLE, hours_per_week=168)
    assert result.usage.used_hours == pytest.approx(monthly(50))
    assert result.item("Load balancer capacity units").quantity == pytest.approx(monthly(50))
    assert "118 h/week of it with no task to serve it" in result.usage.describe()


def test_idle_shutdown_runs_a_task_while_used_and_for_the_idle_minutes_after_each_session():
    shut = params(IdleShutdownMinutes="30", DesiredCount="3")
    assert task_hours(estimate(shut, TABLE, hours_per_week=0)) == 0
    # The request that wakes the service starts one task, whatever DesiredCount says.
    expected = monthly(50 + 5 * 0.5)
    assert task_hours(estimate(shut, TABLE, hours_per_week=50)) == pytest.approx(expected)
    assert task_hours(estimate(shut, TABLE, hours_per_week=168)) == pytest.approx(MONTH)
    fewer = estimate(shut, TABLE, hours_per_week=50, assumptions={"sessions_per_week": 1})
    assert task_hours(fewer) == pytest.approx(monthly(50.5))


def test_idle_shutdown_with_a_schedule_stops_tasks_inside_working_hours_only():
    both = params(**WORKING_HOURS, ScaleDownTasks="1", IdleShutdownMinutes="60")
    idle = estimate(both, TABLE, hours_per_week=0)
    assert task_hours(idle) == pytest.approx(monthly(118))  # ScaleDownTasks is the floor outside
    used = estimate(both, TABLE, hours_per_week=20)
    assert task_hours(used) == pytest.approx(monthly(118 + 20 + 5 * 1))


@pytest.mark.parametrize(
    ("up", "down", "hours", "starts"),
    [
        ("cron(0 8 ? * MON-FRI *)", "cron(0 18 ? * MON-FRI *)", 50, 5),
        ("cron(0 7 ? * MON-FRI *)", "cron(0 20 ? * MON-FRI *)", 65, 5),
        ("cron(0 8 ? * MON,WED,FRI *)", "cron(0 18 ? * MON-FRI *)", 30, 3),
        ("cron(30 8 * * ? *)", "cron(0 17 ? * * *)", 7 * 8.5, 7),
        ("cron(0 7 ? * MON *)", "cron(0 20 ? * FRI *)", 4 * 24 + 13, 1),
        ("cron(0 20 ? * 2-6 *)", "cron(0 8 ? * mon-fri *)", 4 * 12 + 60, 5),  # nights
        ("cron(0 22 ? * SUN *)", "cron(0 2 ? * MON *)", 4, 1),  # across the week's end
    ],
)
def test_working_hours_come_from_the_two_cron_expressions(up, down, hours, starts):
    week = working_week("ScaleUpSchedule", up, "ScaleDownSchedule", down)
    assert (week.hours, week.starts) == (pytest.approx(hours), starts)


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 day)",
        "cron(0 8 1 * ? *)",
        "cron(0/15 8 ? * MON-FRI *)",
        "cron(0 8-9 ? * MON-FRI *)",
        "cron(0 8 ? * MON#2 *)",
        "cron(0 8 ? * MON-FRI 2027)",
        "cron(0 24 ? * MON *)",
        "cron(0 8 ? * MONDAY *)",
        "cron(0 8 ? * *)",
    ],
)
def test_other_schedules_are_refused_naming_the_parameter_and_the_supported_forms(expression):
    given = params(ScaleUpSchedule="cron(0 8 ? * MON-FRI *)", ScaleDownSchedule=expression)
    with pytest.raises(CostError) as caught:
        estimate(given, TABLE, hours_per_week=0)
    message = str(caught.value)
    assert message.startswith(f"ScaleDownSchedule {expression!r}: the estimate reads only cron(")
    assert "MON-FRI" in message and "MON,WED,FRI" in message


# --- the database ---------------------------------------------------------------------------


def test_aurora_pauses_while_nobody_uses_mlflow_even_with_a_task_running():
    idle = estimate(params(), TABLE, hours_per_week=0)
    assert acu_hours(idle) == 0
    used = estimate(params(), TABLE, hours_per_week=50)
    expected = monthly(50) * 0.5 + monthly(5 * TAIL_HOURS) * 0.5
    assert acu_hours(used) == pytest.approx(expected)
    always = estimate(params(), TABLE, hours_per_week=168)
    assert acu_hours(always) == pytest.approx(MONTH * 0.5)


def test_aurora_wakes_for_the_schema_check_of_each_scheduled_start():
    scheduled = params(**WORKING_HOURS, ScaleDownTasks="0", DatabaseAutoPauseSeconds="3540")
    result = estimate(scheduled, TABLE, hours_per_week=0)
    assert acu_hours(result) == pytest.approx(monthly(5 * 1.0) * 0.5)  # 59 min + 60 s, 5 times


def test_aurora_cannot_pause_with_a_minimum_capacity():
    result = estimate(params(DesiredCount="0", DatabaseMinCapacity="2"), TABLE, hours_per_week=0)
    assert acu_hours(result) == pytest.approx(730 * 2)
    used = estimate(params(DatabaseMinCapacity="1"), TABLE, hours_per_week=50)
    assert acu_hours(used) == pytest.approx(730 * 1)


def test_no_task_no_use_served_no_database():
    result = estimate(params(DesiredCount="0"), TABLE, hours_per_week=50)
    assert acu_hours(result) == 0
    assert result.item("Fargate vCPU").monthly_usd == 0
    assert result.item("S3 GET requests").quantity == 0


def test_aurora_capacity_in_use_is_raised_to_the_minimum_and_capped_at_the_maximum():
    busy = estimate(params(), TABLE, hours_per_week=168, assumptions={"db_acu_in_use": 8})
    assert acu_hours(busy) == pytest.approx(730 * 4)
    floor = estimate(params(DatabaseMinCapacity="1"), TABLE, hours_per_week=168)
    assert acu_hours(floor) == pytest.approx(730 * 1)


# --- logs, metrics, alarms, keys ------------------------------------------------------------


def test_container_insights_metrics_only_when_enabled_and_only_while_a_task_runs():
    assert "Container Insights metrics" not in components(
        estimate(params(), TABLE, hours_per_week=0)
    )
    enabled = params(ContainerInsights="enabled")
    always = estimate(enabled, TABLE, hours_per_week=0)
    assert cents(always.item("Container Insights metrics").monthly_usd) == cents(38 * 0.3)
    scheduled = estimate({**enabled, **WORKING_HOURS}, TABLE, hours_per_week=0)
    assert scheduled.item("Container Insights metrics").quantity == pytest.approx(38 * 50 / 168)


def test_logs_follow_task_hours():
    two = estimate(params(DesiredCount="2"), TABLE, hours_per_week=0)
    assert two.item("CloudWatch Logs ingestion").quantity == pytest.approx(2.0)
    shut = estimate(params(IdleShutdownMinutes="30"), TABLE, hours_per_week=0)
    assert shut.item("CloudWatch Logs ingestion").quantity == 0
    scheduled = estimate(params(**WORKING_HOURS), TABLE, hours_per_week=50)
    assert scheduled.item("CloudWatch Logs ingestion").quantity == pytest.approx(50 / 168)


def test_storage_backup_logs_keys_and_secrets():
    result = estimate(params(DatabaseBackupRetentionDays="35"), TABLE, hours_per_week=168)
    assert result.item("Aurora backup beyond free").quantity == pytest.approx(1 * 0.05 * 35)
    assert result.item("CloudWatch Logs storage").quantity == pytest.approx(365 / (730 / 24))
    assert result.item("KMS keys").monthly_usd == 3.0
    assert result.item("Secrets Manager secrets").monthly_usd == pytest.approx(0.4)


@pytest.mark.parametrize(("age", "versions"), [(0, 1), (1, 2), (2, 3), (9, 3)])
def test_rotated_key_material_is_billed_for_two_rotations_at_most(age, versions):
    result = estimate(params(), TABLE, hours_per_week=0, assumptions={"kms_key_age_years": age})
    assert result.item("KMS keys").quantity == 3 * versions


def test_alarms_are_billed_per_metric_they_read_and_the_dashboard_only_when_created():
    result = estimate(params(), TABLE, hours_per_week=0)
    assert result.item("CloudWatch alarm metrics").quantity == cost.ALARM_METRICS
    assert "CloudWatch dashboard (first 3 per account free)" not in components(result)
    shown = estimate(params(CreateDashboard="true"), TABLE, hours_per_week=0)
    dashboard = shown.item("CloudWatch dashboard (first 3 per account free)")
    assert dashboard.monthly_usd == 3.0
    # Alarms and the dashboard are billed all month, tasks or not.
    stopped = estimate(params(CreateDashboard="true", DesiredCount="0"), TABLE, hours_per_week=0)
    assert stopped.group_totals()[cost.ALARMS] == shown.group_totals()[cost.ALARMS]
    counted = estimate(params(), TABLE, hours_per_week=0, alarm_metrics=2, dashboards=1)
    assert counted.group_totals()[cost.ALARMS] == pytest.approx(0.2 + 3.0)


def test_idle_shutdown_pays_for_its_wake_function_once_per_period_of_use():
    """Issue 24: the wake path's own cost, a few cents at most: each period of use ends with a
    stop and begins with a wake, `wake_invocations` calls and `wake_gb_seconds` each."""
    assert cost.WAKE not in estimate(params(), TABLE, hours_per_week=50).group_totals()
    idle = estimate(params(IdleShutdownMinutes="30"), TABLE, hours_per_week=0)
    assert idle.group_totals().get(cost.WAKE, 0) == 0  # an idle month wakes nothing
    used = estimate(params(IdleShutdownMinutes="30"), TABLE, hours_per_week=50)
    wakes = monthly(ASSUME["sessions_per_week"])
    assert used.item("Lambda requests").quantity == pytest.approx(wakes * 30 / 1e6)
    assert used.item("Lambda compute").monthly_usd == pytest.approx(wakes * 15 * 0.00002)
    assert 0 < used.group_totals()[cost.WAKE] < 0.05


def test_an_internet_facing_load_balancer_pays_for_a_public_address_per_subnet():
    internal = estimate(params(), TABLE, hours_per_week=0)
    public = estimate(params(LoadBalancerScheme="internet-facing"), TABLE, hours_per_week=0)
    assert "Public IPv4 addresses" not in components(internal)
    assert public.item("Public IPv4 addresses").monthly_usd == pytest.approx(2 * 730 * 0.005)


def test_the_total_is_the_sum_of_the_line_items():
    result = estimate(params(), TABLE, hours_per_week=50)
    assert result.total_usd == pytest.approx(sum(i.quantity * i.unit_price for i in result.items))
    assert sum(result.group_totals().values()) == pytest.approx(result.total_usd)


@pytest.mark.parametrize("hours", [-1, 168.5, 200, float("nan")])
def test_hours_per_week_must_fit_in_a_week(hours):
    with pytest.raises(CostError, match="hours_per_week must be from 0 to 168"):
        estimate(params(), TABLE, hours_per_week=hours)


def test_unknown_assumptions_and_missing_parameters_are_refused():
    with pytest.raises(CostError, match="unknown assumption 'artefact_gb'"):
        estimate(params(), TABLE, hours_per_week=0, assumptions={"artefact_gb": 1})
    without = {k: v for k, v in DEFAULTS.items() if k != "TaskCpu"}
    with pytest.raises(CostError, match="parameter TaskCpu is missing"):
        estimate(without, TABLE, hours_per_week=0)


def test_the_defaults_here_are_what_the_template_resolves(default_template):
    resolved = evaluate(default_template, NETWORK).parameters
    assert {k: resolved[k] for k in DEFAULTS if k != "LoadBalancerSubnetIds"} == {
        k: v for k, v in DEFAULTS.items() if k != "LoadBalancerSubnetIds"
    }
    assert estimate(resolved, TABLE, hours_per_week=50).total_usd == pytest.approx(
        estimate(params(), TABLE, hours_per_week=50).total_usd
    )


# --- the reference points -------------------------------------------------------------------


def test_terraform_reference_uses_the_same_table():
    result = terraform_reference(TABLE, hours_per_week=50)
    assert cents(result.group_totals()[cost.COMPUTE]) == cents(2 * 730 * (2 * 0.04 + 4 * 0.004))
    # 1 ACU while used, and 5 minutes before each of 5 pauses a week; 0 ACU while paused.
    assert acu_hours(result) == pytest.approx(monthly(50) + monthly(5 * 300 / 3600))
    assert result.item("Load balancer capacity units").quantity == pytest.approx(monthly(50))
    assert cost.KEYS_AND_SECRETS not in result.group_totals()
    assert acu_hours(terraform_reference(TABLE, hours_per_week=0)) == 0


def test_sagemaker_reference_is_a_small_server_always_on_plus_the_same_artifacts():
    result = sagemaker_reference(TABLE, hours_per_week=50)
    server = 730 * RATES["sagemaker_mlflow_small_hour"]
    artifacts = 100 * 0.02 + monthly(50) * (0.2 * 0.005 + 1.0 * 0.0004)
    assert cents(result.total_usd) == cents(server + artifacts)
    stack = estimate(params(), TABLE, hours_per_week=50)
    assert result.group_totals()[cost.ARTIFACTS] == pytest.approx(
        stack.group_totals()[cost.ARTIFACTS]
    )


def test_compare_puts_the_stack_idle_at_50_and_at_168_hours_beside_the_references():
    comparison = compare(params(**WORKING_HOURS), TABLE, hours_per_week=168)
    assert comparison.columns == (
        "This stack, idle",
        "This stack, 50 h/wk",
        "This stack, 168 h/wk",
        "Terraform module",
        "SageMaker Small",
    )
    for hours, column in ((0, "This stack, idle"), (168, "This stack, 168 h/wk")):
        expected = estimate(params(**WORKING_HOURS), TABLE, hours_per_week=hours).total_usd
        assert comparison.value(column, "Total") == pytest.approx(expected)
    terraform = terraform_reference(TABLE, hours_per_week=50).total_usd
    assert comparison.value("Terraform module", "Total") == pytest.approx(terraform)
    sagemaker = sagemaker_reference(TABLE, hours_per_week=50).total_usd
    assert comparison.value("SageMaker Small", "Total") == pytest.approx(sagemaker)
    assert comparison.value("SageMaker Small", cost.COMPUTE) is None
    assert comparison.value("This stack, idle", cost.MANAGED_SERVER) is None
    assert comparison.rows[-1][0] == "Total"


def test_compare_adds_a_column_for_other_hours_in_order():
    assert len(compare(params(), TABLE, hours_per_week=50).columns) == 5
    columns = compare(params(), TABLE, hours_per_week=100).columns
    assert columns[:4] == ("This stack, idle", "This stack, 50 h/wk", "This stack, 100 h/wk",
                           "This stack, 168 h/wk")  # fmt: skip


def test_tables_show_every_line_and_the_total():
    result = estimate(params(), TABLE, hours_per_week=168)
    text = format_estimate(result)
    for item in result.items:
        assert item.component in text
    assert re.search(rf"^Total\s+{re.escape(f'{result.total_usd:,.2f}')}$", text, re.M)
    comparison = format_comparison(compare(params(), TABLE, hours_per_week=168))
    assert "Terraform module" in comparison and "SageMaker Small" in comparison
    assert re.search(r"^Managed MLflow server(\s+-){4}\s+438\.00$", comparison, re.M)


# --- price tables ---------------------------------------------------------------------------


def test_the_committed_price_table_validates_and_names_its_sources():
    table = load_prices()
    validate_prices(table)
    assert table["region"] == "us-east-1"
    assert date.fromisoformat(table["as_of"]) <= date.today()
    assert list(table["prices"]) == list(PRICE_KEYS)
    assert list(table["assumptions"]) == list(ASSUMPTION_KEYS)
    for key, entry in table["prices"].items():
        assert entry["source"].startswith("https://aws.amazon.com/"), key
        assert entry["unit"] and entry["checked"], key
    for key, entry in table["assumptions"].items():
        assert entry["note"], key


def test_the_default_template_has_the_keys_secret_and_alarms_the_defaults_count(default_template):
    stack = evaluate(default_template, NETWORK)
    assert cost.stack_counts(stack) == {
        "kms_keys": cost.KMS_KEYS,
        "managed_secrets": cost.MANAGED_SECRETS,
        "alarm_metrics": cost.ALARM_METRICS,
        "dashboards": 0,
    }
    shown = evaluate(default_template, {**NETWORK, "CreateDashboard": "true"})
    assert cost.stack_counts(shown)["dashboards"] == 1


def test_metric_math_alarms_count_each_metric_they_read_not_their_expressions():
    def alarm(**properties) -> dict:
        return {"Type": "AWS::CloudWatch::Alarm", "Properties": properties}

    read = {"Id": "m", "MetricStat": {"Metric": {"MetricName": "M"}, "Stat": "Sum"}}
    stack = Evaluated(
        parameters={},
        conditions={},
        resources={
            "Single": alarm(MetricName="M", Statistic="Sum"),
            "Math": alarm(Metrics=[{"Id": "e", "Expression": "a - b"}, read, read, read]),
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        },
        outputs={},
    )
    assert cost._alarm_metrics(stack) == 1 + 3


def test_a_price_table_missing_a_key_is_refused_naming_it():
    table = copy.deepcopy(TABLE)
    del table["prices"]["alb_lcu_hour"]
    del table["assumptions"]["artifact_gb"]
    table["prices"]["alb_hour"]["usd"] = "0.02"
    with pytest.raises(CostError) as caught:
        validate_prices(table, "mine.json")
    message = str(caught.value)
    assert message.startswith("mine.json: ")
    assert "missing price alb_lcu_hour" in message
    assert "missing assumption artifact_gb" in message
    assert "price alb_hour needs a non-negative number 'usd', got '0.02'" in message


# --- the CLI --------------------------------------------------------------------------------


def test_cost_prints_the_estimate_the_comparison_and_the_presets(template_file, capsys):
    assert run("--template", template_file) == 0
    out = capsys.readouterr().out
    stack = evaluate(json.loads(Path(template_file).read_text()), NETWORK)
    expected = estimate(
        stack.parameters, load_prices(), hours_per_week=168, **cost.stack_counts(stack)
    ).total_usd
    assert re.search(rf"^Total\s+{re.escape(f'{expected:,.2f}')}$", out, re.M)
    assert "as of " + load_prices()["as_of"] in out
    assert "(mlflow_cfn/cost/prices/us-east-1.json)" in out
    assert "Tasks of 0.5 vCPU / 1 GB: 1 task(s) (DesiredCount), all week" in out
    header = next(line for line in out.splitlines() if line.startswith("USD per month"))
    for column in ("idle", "50 h/wk", "168 h/wk", "Terraform module", "SageMaker Small"):
        assert column in header
    assert re.search(r"^idle shutdown \(IdleShutdownMinutes 30\)\s+[\d.]+\s", out, re.M)
    assert "Assumptions (change with --assume KEY=VALUE" in out
    assert "artifact_gb = 100:" in out and "sessions_per_week = 5:" in out


def test_cost_prices_the_product_template_from_any_directory(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)  # the default template is built in memory, as synth builds it
    assert run() == 0
    assert "Monthly cost of the product template in us-east-1" in capsys.readouterr().out


def test_cost_prices_the_datadog_variant_whose_api_key_has_no_default(capsys):
    # templates/mlflow-datadog.json declares DatadogApiKeySecretArn without a default: the
    # presets are priced with a placeholder for it (it changes no price).
    assert run("--template", str(TEMPLATES / "mlflow-datadog.json")) == 0
    out = capsys.readouterr().out
    assert "mlflow-datadog.json" in out.splitlines()[0]
    assert re.search(r"^idle shutdown \(IdleShutdownMinutes 30\)\s+[\d.]+\s", out, re.M)


def test_cost_prices_what_a_parameter_file_runs(template_file, tmp_path, capsys):
    path = tmp_path / "params.json"
    given = {"TaskCpu": "1024", "TaskMemory": "2048", "DesiredCount": "2"}
    path.write_text(json.dumps(given))
    assert run("--template", template_file, "--parameters", str(path)) == 0
    out = capsys.readouterr().out
    assert re.search(r"^Fargate vCPU\s+1,460\.00\s+vCPU-hours", out, re.M)
    assert "Tasks of 1 vCPU / 2 GB: 2 task(s) (DesiredCount), all week" in out
    path.write_text(json.dumps({**WORKING_HOURS, "ScheduleTimezone": "Europe/Berlin"}))
    assert (
        run("--template", template_file, "--parameters", str(path), "--hours-per-week", "50") == 0
    )
    out = capsys.readouterr().out
    assert "working hours 50 h/week (cron(0 8 ? * MON-FRI *) to cron(0 18 ? * MON-FRI *), " in out
    assert "Europe/Berlin): 1 task(s); outside: 0 (ScaleDownTasks)" in out
    assert re.search(r"^Fargate vCPU\s+108\.63\s+vCPU-hours", out, re.M)  # 0.5 x 50 x 730/168


def test_cost_uses_a_prices_file_and_assumptions(template_file, tmp_path, capsys):
    prices = write_table(tmp_path, TABLE)
    argv = ["--template", template_file, "--prices", prices, "--hours-per-week", "50"]
    assert run(*argv, "--assume", "artifact_gb=500") == 0
    out = capsys.readouterr().out
    stack = evaluate(json.loads(Path(template_file).read_text()), NETWORK)
    expected = estimate(
        stack.parameters,
        TABLE,
        hours_per_week=50,
        assumptions={"artifact_gb": 500},
        **cost.stack_counts(stack),
    ).total_usd
    assert re.search(rf"^Total\s+{re.escape(f'{expected:,.2f}')}$", out, re.M)
    assert "in test-region-1, list prices as of 2000-01-01" in out
    assert re.search(r"^S3 Standard storage\s+500\.00\s+GB-months\s+0\.020000\s+10\.00$", out, re.M)
    assert "artifact_gb = 500 (--assume):" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--hours-per-week", "200"], "--hours-per-week must be a number from 0 to 168"),
        (["--hours-per-week", "often"], "got 'often'"),
        (["--assume", "artifact_gb"], "--assume 'artifact_gb': expected KEY=VALUE"),
        (["--assume", "artifact_gb=lots"], "the value must be a non-negative number"),
        (["--template", "missing.json"], "--template missing.json: no such file"),
        (["--parameters", "missing.json"], "--parameters missing.json: no such file"),
    ],
)
def test_cost_refuses_bad_input_in_one_line(template_file, argv, message, capsys):
    assert run("--template", template_file, *argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("mlflow-cfn cost: ")
    assert message in captured.err


def test_cost_refuses_a_schedule_it_cannot_read(template_file, tmp_path, capsys):
    path = tmp_path / "params.json"
    given = {
        "ScaleUpSchedule": "cron(0 8 ? * MON-FRI *)",
        "ScaleDownSchedule": "cron(0 18 L * ? *)",
    }
    path.write_text(json.dumps(given))
    assert run("--template", template_file, "--parameters", str(path)) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlflow-cfn cost: ScaleDownSchedule 'cron(0 18 L * ? *)': the estimate")


def test_cost_refuses_a_bad_prices_file_naming_the_missing_key(template_file, tmp_path, capsys):
    table = copy.deepcopy(TABLE)
    del table["prices"]["sagemaker_mlflow_small_hour"]
    prices = write_table(tmp_path, table)
    assert run("--template", template_file, "--prices", prices) == 2
    err = capsys.readouterr().err
    assert err == f"mlflow-cfn cost: {prices}: missing price sagemaker_mlflow_small_hour\n"


def test_cost_reports_parameters_the_template_refuses(template_file, tmp_path, capsys):
    path = tmp_path / "params.json"
    path.write_text(json.dumps({"TaskCpu": "3000", "LoadBalancerScheme": "internet-facing"}))
    assert run("--template", template_file, "--parameters", str(path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "TaskCpu" in err and "CertificateArn" in err
