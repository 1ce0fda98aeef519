"""The README's network section stays true: its parameter table is the code's, its cost table is
what ``cost --network`` computes, and its commands name the template's real outputs."""

import re

import pytest

from mlflow_cfn.cost.network import network_tradeoff
from mlflow_cfn.cost.prices import load_prices
from mlflow_cfn.network.template import network_parameters_table
from tests.conftest import ROOT
from tests.network.modes import template

README = (ROOT / "README.md").read_text()
SECTION = README.split("## Network template", 1)[1].split("\n## ", 1)[0]


def test_readme_lists_every_network_parameter_as_the_code_defines_it():
    assert network_parameters_table() in SECTION, (
        "regenerate with mlflow_cfn.network.template.network_parameters_table()"
    )


@pytest.mark.parametrize("mode", ["nat", "nat-ha", "endpoints"])
def test_readme_cost_rows_are_what_cost_network_computes(mode):
    totals = dict(network_tradeoff(template(), load_prices()).rows)[mode]
    (row,) = [line for line in README.splitlines() if line.startswith(f"| `{mode}`:")]
    figures = [float(x) for x in re.findall(r"\| ([\d.]+) ", row + " ")]
    assert figures == [round(t, 2) for t in totals]


def test_readme_commands_name_the_templates_outputs():
    outputs = set(template()["Outputs"])
    for name in re.findall(r"OutputKey[!=]='(\w+)'", SECTION):
        assert name in outputs, name
    assert {"VpcId", "ServiceSubnetIds", "MlflowImage"} <= outputs
