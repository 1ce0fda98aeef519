"""``mlflow-cfn cost``: a monthly cost estimate of a stack, next to two reference points.

Reads the template and a parameter file (placeholders fill the network parameters, which do not
change the cost), prices what the evaluated stack runs with `mlflow_cfn.cost` and prints the line
items, a comparison of an idle month, a 50 h/week and a 168 h/week month with the Terraform
module and SageMaker, the presets table with the product's goals, and the assumptions
(``--assume KEY=VALUE`` overrides one of them).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from mlflow_cfn.cfn.evaluate import Evaluated, EvaluationError, load_parameters
from mlflow_cfn.commands.output import report_errors
from mlflow_cfn.cost import CostError
from mlflow_cfn.cost.estimate import estimate, stack_counts
from mlflow_cfn.cost.presets import evaluate_for_cost, preset_rows
from mlflow_cfn.cost.prices import DEFAULT_PRICES, load_prices, parse_assumption
from mlflow_cfn.cost.records import HOURS_PER_WEEK
from mlflow_cfn.cost.references import REFERENCE_NOTES, compare
from mlflow_cfn.cost.text import (
    EXCLUSIONS,
    format_assumptions,
    format_comparison,
    format_estimate,
    format_presets,
)
from mlflow_cfn.cost.usage import task_plan
from mlflow_cfn.stack.components.service_inputs import TASK_CPU, TASK_MEMORY
from mlflow_cfn.stack.plan import DEFAULT_TEMPLATE


def _template(template_path: str) -> dict[str, Any]:
    """The template to price, as JSON data."""
    try:
        template = json.loads(Path(template_path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CostError(
            f"--template {template_path}: cannot read: {exc.strerror or exc} "
            "(run from the repository root or pass --template)"
        ) from exc
    except json.JSONDecodeError as exc:
        raise CostError(f"--template {template_path}: not valid JSON: {exc}") from exc
    return template


def _stack(template: dict[str, Any], parameters_path: str | None) -> Evaluated:
    """The stack the template creates with the given parameters (placeholders fill the network)."""
    return evaluate_for_cost(template, load_parameters(parameters_path) if parameters_path else {})


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


def _report(args: argparse.Namespace, hours: float) -> list[str]:
    """Every block of the output, computed before anything is printed."""
    prices = load_prices(args.prices)
    overrides = dict(parse_assumption(text) for text in args.assume)
    template = _template(args.template)
    stack = _stack(template, args.parameters)
    counts = stack_counts(stack)
    params = stack.parameters
    result = estimate(params, prices, hours_per_week=hours, assumptions=overrides, **counts)
    comparison = compare(params, prices, hours_per_week=hours, assumptions=overrides, **counts)
    presets = preset_rows(template, prices, overrides)
    return [
        f"Monthly cost of {args.template} in {prices['region']}, list prices as of "
        f"{prices['as_of']} ({args.prices or 'mlflow_cfn/cost/' + DEFAULT_PRICES})\n"
        f"Tasks of {float(params[TASK_CPU]) / 1024:g} vCPU / "
        f"{float(params[TASK_MEMORY]) / 1024:g} GB: {task_plan(params).description}\n"
        f"{result.usage.describe()}",
        format_estimate(result),
        "\n".join([format_comparison(comparison), *REFERENCE_NOTES]),
        "Presets: the template's defaults plus each preset's parameters (not --parameters); "
        "goals at list prices\n" + format_presets(presets),
        "Assumptions (change with --assume KEY=VALUE, or in a --prices file):\n"
        f"{format_assumptions(prices, overrides)}\n{EXCLUSIONS}",
    ]


def run(args: argparse.Namespace) -> int:
    """Print the estimate, the comparison, the presets and the assumptions; one line and 2 on
    bad input."""
    try:
        blocks = _report(args, _hours_per_week(args.hours_per_week))
    except (CostError, EvaluationError) as exc:
        return report_errors("cost", ["; ".join(str(exc).splitlines())])
    print("\n\n".join(blocks))
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``cost`` command."""
    cost = subparsers.add_parser(
        "cost",
        help="estimate the monthly AWS cost of a stack",
        description="Estimate one month of what a stack runs, from the template and a parameter "
        "file (tasks, working-hours schedule, idle shutdown, database pauses), idle, at 50 and "
        "at 168 h/week of use, beside the Terraform module it descends from and a SageMaker "
        "managed MLflow tracking server; then the presets (default parameters, working hours, "
        "idle shutdown) with the product's cost goals.",
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
        help=f"price table with the schema of mlflow_cfn/cost/{DEFAULT_PRICES} (default: that "
        "file)",
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
    cost.set_defaults(func=run)
    return cost
