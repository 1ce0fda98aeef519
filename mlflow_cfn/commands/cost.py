"""``mlflow-cfn cost``: a monthly cost estimate of a stack, next to two reference points.

Reads the template and a parameter file (placeholders fill the network parameters, which do not
change the cost), prices what the evaluated stack runs with `mlflow_cfn.cost` and prints the line
items, a comparison of an idle month, a 50 h/week and a 168 h/week month with the Terraform
module and SageMaker, the presets table with the product's goals, and the assumptions
(``--assume KEY=VALUE`` overrides one of them). With ``--network MODE`` it also prices the network
template's stack (`mlflow_cfn.cost.network`), the whole bill and the egress modes side by side.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict
from typing import Any

from mlflow_cfn.cfn.evaluate import Evaluated, EvaluationError
from mlflow_cfn.commands.output import report_errors
from mlflow_cfn.cost import CostError
from mlflow_cfn.cost.estimate import estimate, stack_counts
from mlflow_cfn.cost.network import (
    NETWORK_EXCLUSIONS,
    NETWORK_MODES,
    evaluate_network,
    network_estimate,
    network_tradeoff,
)
from mlflow_cfn.cost.presets import evaluate_for_cost, preset_rows
from mlflow_cfn.cost.prices import (
    DEFAULT_PRICES,
    NETWORK_ASSUMPTION_KEYS,
    load_prices,
    parse_assumption,
)
from mlflow_cfn.cost.records import HOURS_PER_WEEK, Estimate
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
from mlflow_cfn.stack.plan import DEFAULT_TEMPLATE, read_parameters, read_template

#: None: the network template built in memory, as `synth --network` writes it.
DEFAULT_NETWORK_TEMPLATE = None


def _template(template_path: str | None) -> dict[str, Any]:
    """The template to price, as JSON data (None: the product template, built in memory)."""
    try:
        return read_template(template_path)
    except EvaluationError as exc:
        raise CostError("; ".join(exc.errors)) from None


def _network_template(source: str | None) -> dict[str, Any]:
    """The network template to price (None: built in memory)."""
    if source is None:
        from mlflow_cfn.network import network_template

        return network_template()
    return _template(source)


def _stack(template: dict[str, Any], parameters_path: str | None) -> Evaluated:
    """The stack the template creates with the given parameters (placeholders fill the network)."""
    return evaluate_for_cost(template, read_parameters(parameters_path) if parameters_path else {})


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
    network = _network_blocks(args, prices, overrides, result.total_usd)
    return [
        f"Monthly cost of {args.template or 'the product template'} in {prices['region']}, "
        "list prices as of "
        f"{prices['as_of']} ({args.prices or 'mlflow_cfn/cost/' + DEFAULT_PRICES})\n"
        f"Tasks of {float(params[TASK_CPU]) / 1024:g} vCPU / "
        f"{float(params[TASK_MEMORY]) / 1024:g} GB: {task_plan(params).description}\n"
        f"{result.usage.describe()}",
        format_estimate(result),
        *network,
        "\n".join([format_comparison(comparison), *REFERENCE_NOTES]),
        "Presets: the template's defaults plus each preset's parameters (not --parameters); "
        "goals at list prices\n" + format_presets(presets),
        "Assumptions (change with --assume KEY=VALUE, or in a --prices file):\n"
        f"{format_assumptions(prices, overrides)}\n{EXCLUSIONS}",
    ]


def _network_blocks(
    args: argparse.Namespace, prices: dict[str, Any], overrides: dict[str, float], product: float
) -> list[str]:
    """With --network: the network stack's line items, the whole bill, and the egress modes side
    by side (none without it)."""
    if args.network == "none":
        return []
    template = _network_template(args.network_template)
    zones = int(args.network_zones)
    stack = evaluate_network(template, args.network, zones)
    title = f"{args.network}, {zones} zones"
    network = network_estimate(stack, prices, title=title, assumptions=overrides)
    hours = float(args.hours_per_week)
    return [
        f"Network ({args.network_template or 'the network template'}, {title}):\n"
        f"{format_estimate(network)}",
        f"Whole bill at {hours:g} h/week: product {product:,.2f} + network "
        f"{network.total_usd:,.2f} = {product + network.total_usd:,.2f} USD per month",
        "The network's egress modes (monthly USD; NAT gateways and interface endpoints bill "
        "by the hour, whether used or not):\n"
        + format_comparison(network_tradeoff(template, prices, overrides))
        + f"\n{NETWORK_EXCLUSIONS}\nNetwork assumptions:\n"
        + format_assumptions(prices, overrides, "network_assumptions", NETWORK_ASSUMPTION_KEYS),
    ]


def _estimate_data(result: Estimate) -> dict[str, Any]:
    """An estimate as data: its line items, group totals and total (monthly USD)."""
    return {
        "title": result.title,
        "total_usd": round(result.total_usd, 2),
        "groups": {k: round(v, 2) for k, v in result.group_totals().items()},
        "items": [
            {**asdict(item), "monthly_usd": round(item.monthly_usd, 2)} for item in result.items
        ],
    }


def _data(args: argparse.Namespace, hours: float) -> dict[str, Any]:
    """The estimate as data (``--output json``): the product's, and the network's with --network."""
    prices = load_prices(args.prices)
    overrides = dict(parse_assumption(text) for text in args.assume)
    stack = _stack(_template(args.template), args.parameters)
    result = estimate(
        stack.parameters, prices, hours_per_week=hours, assumptions=overrides,
        **stack_counts(stack),
    )  # fmt: skip
    data: dict[str, Any] = {
        "region": prices["region"],
        "prices_as_of": prices["as_of"],
        "hours_per_week": hours,
        "product": _estimate_data(result),
    }
    if args.network != "none":
        zones = int(args.network_zones)
        network_stack = evaluate_network(
            _network_template(args.network_template), args.network, zones
        )
        title = f"{args.network}, {zones} zones"
        network = network_estimate(network_stack, prices, title=title, assumptions=overrides)
        data["network"] = _estimate_data(network)
        data["total_usd"] = round(result.total_usd + network.total_usd, 2)
    else:
        data["total_usd"] = data["product"]["total_usd"]
    return data


def run(args: argparse.Namespace) -> int:
    """Print the estimate, the comparison, the presets and the assumptions (or, with ``--output
    json``, the estimate as data); one line and 2 on bad input."""
    try:
        hours = _hours_per_week(args.hours_per_week)
        if args.output == "json":
            print(json.dumps(_data(args, hours), indent=2))
            return 0
        blocks = _report(args, hours)
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
        help="template to price (PATH, file://PATH or -; JSON or YAML; default: the product "
        "template as `mlflow-cfn synth` writes it)",
    )
    _add_network_arguments(cost)
    cost.add_argument(
        "--output",
        choices=("text", "json"),
        default="text",
        help="json: the estimate (line items, group totals, totals) as data for CI "
        "(default: %(default)s)",
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


def _add_network_arguments(cost: argparse.ArgumentParser) -> None:
    """The flags that price the network template beside the product."""
    cost.add_argument(
        "--network",
        choices=("none", *NETWORK_MODES),
        default="none",
        help="also price the network template's stack in this egress mode (nat: one NAT "
        "gateway; nat-ha: one per zone; endpoints: VPC endpoints only), the whole bill, and "
        "the three modes side by side (default: %(default)s, your own VPC)",
    )
    cost.add_argument(
        "--network-zones",
        choices=("2", "3"),
        default="2",
        help="Availability Zones of the network (default: %(default)s)",
    )
    cost.add_argument(
        "--network-template",
        default=DEFAULT_NETWORK_TEMPLATE,
        metavar="PATH",
        help="network template to price with --network (default: the network template, built "
        "as `synth --network` builds it)",
    )
