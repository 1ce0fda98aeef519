"""The price table: list prices of a region as of a date (``prices/us-east-1.json`` in this
package, or ``--prices FILE`` with the same schema) and the usage assumptions the estimate needs
(storage sizes, requests, load balancer capacity units...), each with a note. Loading, validation
naming every problem at once, and ``--assume KEY=VALUE`` overrides."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from mlflow_cfn.cost import CostError
from mlflow_cfn.cost.records import LineItem

DEFAULT_PRICES = "prices/us-east-1.json"

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
    "cloudwatch_alarm_metric_month",
    "cloudwatch_dashboard_month",
    "lambda_request_million",
    "lambda_gb_second",
    "public_ipv4_hour",
    "sagemaker_mlflow_small_hour",
)
ASSUMPTION_KEYS = (
    "sessions_per_week",
    "alb_lcu_active",
    "alb_lcu_idle",
    "db_acu_in_use",
    "db_storage_gb",
    "db_io_million_per_active_hour",
    "db_daily_change_fraction",
    "artifact_gb",
    "s3_put_per_active_hour",
    "s3_get_per_active_hour",
    "logs_gb_per_task_month",
    "container_insights_metrics",
    "kms_key_age_years",
    "wake_invocations",
    "wake_gb_seconds",
)
#: The network template's prices and assumptions (sections ``network_prices`` and
#: ``network_assumptions``), needed only to price it (``cost --network``).
NETWORK_PRICE_KEYS = (
    "nat_gateway_hour",
    "nat_gateway_gb",
    "vpc_interface_endpoint_hour",
    "vpc_interface_endpoint_gb",
    "vpc_gateway_endpoint_month",
    "cloudwatch_vended_logs_gb",
)
NETWORK_ASSUMPTION_KEYS = ("network_gb_month", "flow_log_gb_month")


@dataclass(frozen=True)
class PriceTable:
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
    known = (*ASSUMPTION_KEYS, *NETWORK_ASSUMPTION_KEYS)
    if not equals or key not in known:
        raise CostError(f"--assume {text!r}: expected KEY=VALUE with KEY one of {', '.join(known)}")
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not _is_number(number):
        raise CostError(f"--assume {key}: the value must be a non-negative number, got {value!r}")
    return key, number


def price_table(prices: Mapping, assumptions: Mapping[str, float] | None) -> PriceTable:
    """The numbers of a price table, with assumptions overridden where given."""
    validate_prices(prices)
    assume = {key: float(prices["assumptions"][key]["value"]) for key in ASSUMPTION_KEYS}
    for key, value in (assumptions or {}).items():
        if key in NETWORK_ASSUMPTION_KEYS:
            continue  # the network's (network_price_table), not the product's
        if key not in assume:
            raise CostError(f"unknown assumption {key!r}; known: {', '.join(ASSUMPTION_KEYS)}")
        assume[key] = float(value)
    rates = {key: float(prices["prices"][key]["usd"]) for key in PRICE_KEYS}
    return PriceTable(rates, assume)


def network_price_table(prices: Mapping, assumptions: Mapping[str, float] | None) -> PriceTable:
    """The product's table plus the ``network_prices`` and ``network_assumptions`` sections (a
    table without them cannot price the network: CostError naming every missing entry)."""
    errors = _section_errors(prices, "network_prices", NETWORK_PRICE_KEYS, "usd")
    errors += _section_errors(prices, "network_assumptions", NETWORK_ASSUMPTION_KEYS, "value")
    if errors:
        raise CostError("prices: " + "; ".join(errors))
    table = price_table(prices, assumptions)
    network = {k: float(prices["network_assumptions"][k]["value"]) for k in NETWORK_ASSUMPTION_KEYS}
    network.update({k: float(v) for k, v in (assumptions or {}).items() if k in network})
    rates = {k: float(prices["network_prices"][k]["usd"]) for k in NETWORK_PRICE_KEYS}
    return PriceTable({**table.rates, **rates}, {**table.assume, **network})
