"""The network's monthly cost beside the product: counted in the evaluated network template,
priced from the committed table (figures at its list prices), shown by ``cost --network``."""

from __future__ import annotations

import copy
import json
import re

import pytest

from mlflow_cfn.cli import main
from mlflow_cfn.cost import CostError
from mlflow_cfn.cost.network import (
    evaluate_network,
    network_counts,
    network_estimate,
    network_tradeoff,
)
from mlflow_cfn.cost.prices import load_prices
from tests.conftest import TEMPLATES
from tests.network.modes import template

MONTH = 730.0
#: The committed product template, named (the command's default is the lead's to choose).
PRODUCT = ["--template", str(TEMPLATES / "mlflow.json")]


def month(mode: str, zones: int = 2, **assume: float):
    stack = evaluate_network(template(), mode, zones)
    return network_estimate(stack, load_prices(), title=mode, assumptions=assume)


@pytest.mark.parametrize(
    ("mode", "zones", "counts"),
    [
        ("nat", 2, (1, 1, 0)),
        ("nat", 3, (1, 1, 0)),
        ("nat-ha", 2, (2, 2, 0)),
        ("nat-ha", 3, (3, 3, 0)),
        ("endpoints", 2, (0, 0, 8)),  # 4 interface endpoints x 2 zones
        ("endpoints", 3, (0, 0, 12)),
    ],
)
def test_counts_come_from_the_evaluated_template(mode, zones, counts):
    found = network_counts(evaluate_network(template(), mode, zones))
    assert (found.nat_gateways, found.public_ips, found.endpoint_zones) == counts
    assert (found.kms_keys, found.flow_logs) == (1, 1)


@pytest.mark.parametrize(
    ("mode", "zones", "total"),
    [
        # 730 h x $0.045 + its address 730 h x $0.005 + 10 GB x $0.045, + flow logs 0.86 + key 1
        ("nat", 2, 38.81),
        ("nat", 3, 38.81),
        ("nat-ha", 2, 75.31),
        ("nat-ha", 3, 111.81),
        # 8 endpoint-zones x 730 h x $0.01 + 10 GB x $0.01, + flow logs 0.86 + key 1
        ("endpoints", 2, 60.36),
        ("endpoints", 3, 89.56),
    ],
)
def test_monthly_totals_at_the_committed_list_prices(mode, zones, total):
    assert round(month(mode, zones).total_usd, 2) == total


def test_line_items_of_one_nat_gateway():
    items = {i.component: (i.quantity, i.unit_price) for i in month("nat").items}
    assert items["NAT gateways"] == (MONTH, 0.045)
    assert items["NAT gateway addresses"] == (MONTH, 0.005)
    assert items["NAT gateway data processed"] == (10, 0.045)
    assert items["S3 gateway endpoint"] == (1, 0.0)
    assert items["Flow logs (vended logs)"] == (1, 0.5)
    assert items["Flow log storage"] == pytest.approx((365 / (MONTH / 24), 0.03))
    assert "Interface endpoints (per zone)" not in items


def test_endpoint_data_follows_the_assumption():
    more = month("endpoints", network_gb_month=1000).item("Interface endpoint data processed")
    assert more.monthly_usd == pytest.approx(10.0)


def test_tradeoff_lists_every_mode_in_two_and_three_zones():
    comparison = network_tradeoff(template(), load_prices())
    assert comparison.columns == ("2 zones", "3 zones")
    totals = {mode: tuple(round(v, 2) for v in values) for mode, values in comparison.rows}
    assert totals == {
        "nat": (38.81, 38.81), "nat-ha": (75.31, 111.81), "endpoints": (60.36, 89.56)
    }  # fmt: skip


def test_a_price_table_without_the_network_sections_cannot_price_it():
    prices = copy.deepcopy(load_prices())
    del prices["network_prices"]["nat_gateway_hour"]
    del prices["network_assumptions"]
    stack = evaluate_network(template(), "nat")
    with pytest.raises(CostError) as raised:
        network_estimate(stack, prices, title="nat")
    message = str(raised.value)
    assert "missing network_price nat_gateway_hour" in message
    assert "'network_assumptions' must be an object" in message


def test_unknown_mode_and_zones_are_refused():
    with pytest.raises(CostError, match="one of nat, nat-ha, endpoints"):
        evaluate_network(template(), "vpn")
    with pytest.raises(CostError, match="2 or 3"):
        evaluate_network(template(), "nat", 4)


def test_cost_command_prints_the_network_the_whole_bill_and_the_modes(capsys):
    assert main(["cost", *PRODUCT, "--network", "endpoints", "--hours-per-week", "0"]) == 0
    out = capsys.readouterr().out
    assert "Network (the network template, endpoints, 2 zones):" in out
    whole = re.search(
        r"Whole bill at 0 h/week: product ([\d.]+) \+ network 60\.36 = ([\d.]+) USD", out
    )
    assert whole and float(whole[2]) == pytest.approx(float(whole[1]) + 60.36, abs=0.011)
    for row in ("nat              38.81    38.81", "nat-ha           75.31   111.81",
                "endpoints        60.36    89.56"):  # fmt: skip
        assert row in out
    assert "network_gb_month = 10:" in out


def test_cost_command_without_network_prints_none_of_it(capsys):
    assert main(["cost", *PRODUCT]) == 0
    assert "Network (" not in capsys.readouterr().out


def test_cost_command_takes_network_assumptions(capsys):
    args = ["cost", *PRODUCT, "--network", "nat", "--assume", "network_gb_month=100"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert re.search(r"NAT gateway data processed +100\.00 +GB +0\.045000 +4\.50", out)
    assert "network_gb_month = 100 (--assume)" in out


def test_committed_network_prices_name_their_sources():
    prices = json.loads(json.dumps(load_prices()))
    for entry in prices["network_prices"].values():
        assert entry["source"].startswith("https://") and entry["checked"]
