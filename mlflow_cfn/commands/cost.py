"""``mlflow-cfn cost``: a monthly cost estimate of a stack, next to two reference points.

Reads the template and a parameter file (placeholders fill the network parameters, which do not
change the cost), prices the evaluated stack with `mlflow_cfn.cost` and prints the line items, a
comparison with an idle month, a working-hours month, the Terraform module and SageMaker, and the
assumptions (``--assume KEY=VALUE`` overrides one of them).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlflow_cfn.cfn.evaluate import Evaluated, EvaluationError, load_parameters
from mlflow_cfn.commands.output import report_errors
from mlflow_cfn.cost import CostError
from mlflow_cfn.cost.estimate import estimate, stack_counts
from mlflow_cfn.cost.prices import DEFAULT_PRICES, load_prices, parse_assumption
from mlflow_cfn.cost.records import HOURS_PER_WEEK
from mlflow_cfn.cost.references import REFERENCE_NOTES, compare
from mlflow_cfn.cost.text import (
    EXCLUSIONS,
    format_assumptions,
    format_comparison,
    format_estimate,
)
from mlflow_cfn.stack.components.load_balancer_inputs import LOAD_BALANCER_INGRESS_CIDRS
from mlflow_cfn.stack.components.network import (
    DATABASE_SUBNET_IDS,
    LOAD_BALANCER_SUBNET_IDS,
    SERVICE_SUBNET_IDS,
    VPC_ID,
)
from mlflow_cfn.stack.components.service_inputs import TASK_CPU, TASK_MEMORY
from mlflow_cfn.stack.plan import DEFAULT_TEMPLATE, evaluate_checked


def _placeholders(template: Mapping[str, Any]) -> dict[str, str]:
    """Values for the required network parameters: they do not change the cost."""
    values = {
        VPC_ID: "vpc-00000000000000000",
        LOAD_BALANCER_SUBNET_IDS: "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
        SERVICE_SUBNET_IDS: "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
        DATABASE_SUBNET_IDS: "subnet-0cccccccccccccccc,subnet-0dddddddddddddddd",
        LOAD_BALANCER_INGRESS_CIDRS: "10.0.0.0/8",
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


def run(args: argparse.Namespace) -> int:
    """Print the estimate, the comparison and the assumptions; one line and 2 on bad input."""
    try:
        hours = _hours_per_week(args.hours_per_week)
        prices = load_prices(args.prices)
        overrides = dict(parse_assumption(text) for text in args.assume)
        stack = _stack(args.template, args.parameters)
        counts = stack_counts(stack)
        result = estimate(
            stack.parameters, prices, hours_per_week=hours, assumptions=overrides, **counts
        )
        comparison = compare(
            stack.parameters, prices, hours_per_week=hours, assumptions=overrides, **counts
        )
    except (CostError, EvaluationError) as exc:
        return report_errors("cost", ["; ".join(str(exc).splitlines())])
    params = stack.parameters
    print(
        f"Monthly cost of {args.template} in {prices['region']}, list prices as of "
        f"{prices['as_of']} ({args.prices or 'mlflow_cfn/' + DEFAULT_PRICES})"
    )
    print(
        f"Tasks of {float(params[TASK_CPU]) / 1024:g} vCPU / "
        f"{float(params[TASK_MEMORY]) / 1024:g} GB: {result.usage.describe()}"
    )
    print()
    print(format_estimate(result))
    print()
    print(format_comparison(comparison))
    for note in REFERENCE_NOTES:
        print(note)
    print()
    print("Assumptions (change with --assume KEY=VALUE, or in a --prices file):")
    print(format_assumptions(prices, overrides))
    print(EXCLUSIONS)
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``cost`` command."""
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
    cost.set_defaults(func=run)
    return cost
