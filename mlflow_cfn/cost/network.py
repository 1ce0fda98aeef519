"""One month of the network template (templates/network.json) beside the product: what its stack
creates in an egress mode, counted in the evaluated template and priced from the same table.

NAT gateways bill by the hour and by the GB they process, each with a public IPv4 address; an
interface endpoint bills by the hour in every zone it is in and by the GB; the S3 gateway endpoint
is free. Flow logs are CloudWatch vended logs; the logs key is a customer-managed key. The data
the tasks send through NAT or the interface endpoints (image pulls, logs, secrets; S3 takes the
free gateway endpoint) is the ``network_gb_month`` assumption.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlflow_cfn.cfn.evaluate import Evaluated, evaluate
from mlflow_cfn.cost import CostError
from mlflow_cfn.cost.prices import PriceTable, network_price_table
from mlflow_cfn.cost.records import HOURS_PER_MONTH, Comparison, Estimate, LineItem, Usage
from mlflow_cfn.network.inputs import FLOW_LOG_RETENTION_DAYS

NETWORK = "Network"
#: The egress modes ``cost --network`` prices, as network template Parameters.
NETWORK_MODES: dict[str, dict[str, str]] = {
    "nat": {"NetworkEgress": "nat"},
    "nat-ha": {"NetworkEgress": "nat", "NatGatewayPerZone": "true"},
    "endpoints": {"NetworkEgress": "endpoints"},
}
ZONE_COUNTS = (2, 3)
NETWORK_EXCLUSIONS = (
    "Not counted in the network: data transfer to the internet and between zones, the "
    "default-security-group function (one short run per stack create or update), the "
    "pull-through cache's storage (ECR, by the GB)."
)


@dataclass(frozen=True)
class NetworkCounts:
    """What a network stack runs all month."""

    nat_gateways: int
    public_ips: int
    endpoint_zones: int
    kms_keys: int
    flow_logs: int


def network_counts(stack: Evaluated) -> NetworkCounts:
    """NAT gateways, their addresses, interface-endpoint-zones (one per subnet of each interface
    endpoint), keys and flow logs of an evaluated network stack."""
    interface = [
        r["Properties"]
        for r in stack.of_type("AWS::EC2::VPCEndpoint").values()
        if r["Properties"].get("VpcEndpointType") == "Interface"
    ]
    return NetworkCounts(
        nat_gateways=len(stack.of_type("AWS::EC2::NatGateway")),
        public_ips=len(stack.of_type("AWS::EC2::EIP")),
        endpoint_zones=sum(len(p.get("SubnetIds", [])) for p in interface),
        kms_keys=len(stack.of_type("AWS::KMS::Key")),
        flow_logs=len(stack.of_type("AWS::EC2::FlowLog")),
    )


def evaluate_network(template: Mapping[str, Any], mode: str, zones: int = 2) -> Evaluated:
    """The network template evaluated for an egress ``mode`` of NETWORK_MODES in ``zones``."""
    if mode not in NETWORK_MODES:
        raise CostError(f"network mode must be one of {', '.join(NETWORK_MODES)}, got {mode!r}")
    if zones not in ZONE_COUNTS:
        raise CostError(f"network zones must be 2 or 3, got {zones!r}")
    parameters = {**NETWORK_MODES[mode], "AvailabilityZoneCount": str(zones)}
    return evaluate(dict(template), parameters)


def _items(table: PriceTable, counts: NetworkCounts, retention_days: float) -> list[LineItem]:
    """The line items of a month of ``counts``, flow logs kept ``retention_days``."""
    item = table.pricer(NETWORK)
    data = table.assume["network_gb_month"]
    hours = HOURS_PER_MONTH
    items = []
    if counts.nat_gateways:
        items += [
            item("NAT gateways", counts.nat_gateways * hours, "gateway-hours", "nat_gateway_hour"),
            item("NAT gateway addresses", counts.public_ips * hours, "IP-hours",
                 "public_ipv4_hour"),
            item("NAT gateway data processed", data, "GB", "nat_gateway_gb"),
        ]  # fmt: skip
    if counts.endpoint_zones:
        items += [
            item("Interface endpoints (per zone)", counts.endpoint_zones * hours,
                 "endpoint-zone-hours", "vpc_interface_endpoint_hour"),
            item("Interface endpoint data processed", data, "GB", "vpc_interface_endpoint_gb"),
        ]  # fmt: skip
    flow = table.assume["flow_log_gb_month"] * counts.flow_logs
    stored = flow * retention_days / (HOURS_PER_MONTH / 24)  # steady state, as the product's logs
    versions = 1 + min(math.floor(table.assume["kms_key_age_years"]), 2)
    return [
        *items,
        item("S3 gateway endpoint", 1, "endpoint", "vpc_gateway_endpoint_month"),
        item("Flow logs (vended logs)", flow, "GB", "cloudwatch_vended_logs_gb"),
        item("Flow log storage", stored, "GB-months", "cloudwatch_logs_storage_gb_month"),
        item("KMS key (network logs)", counts.kms_keys * versions, "key-months", "kms_key_month"),
    ]


def network_estimate(
    stack: Evaluated,
    prices: Mapping[str, Any],
    *,
    title: str,
    assumptions: Mapping[str, float] | None = None,
) -> Estimate:
    """One month of an evaluated network stack."""
    table = network_price_table(prices, assumptions)
    retention = float(str(stack.parameters.get(FLOW_LOG_RETENTION_DAYS, 0)))
    items = _items(table, network_counts(stack), retention)
    return Estimate(title, Usage(0.0, 0.0, 0.0, 0.0), tuple(items))


def network_tradeoff(
    template: Mapping[str, Any],
    prices: Mapping[str, Any],
    assumptions: Mapping[str, float] | None = None,
) -> Comparison:
    """The network's monthly total for each egress mode (rows) in two and three zones."""
    rows = tuple(
        (
            mode,
            tuple(
                network_estimate(
                    evaluate_network(template, mode, zones), prices, title=mode,
                    assumptions=assumptions,
                ).total_usd
                for zones in ZONE_COUNTS
            ),
        )
        for mode in NETWORK_MODES
    )  # fmt: skip
    return Comparison(tuple(f"{z} zones" for z in ZONE_COUNTS), rows)
