"""The committed templates are exactly what the code emits (regenerate with `mlflow-cfn synth`)."""

import difflib

import pytest

from mlflow_cfn import StackOptions, build_template
from mlflow_cfn.catalog.portfolio import portfolio_template_from_file
from mlflow_cfn.cfn.render import render
from mlflow_cfn.network import build_network_template
from tests.conftest import TEMPLATES

EMITTERS = {
    "mlflow.json": ("mlflow-cfn synth --output templates/mlflow.json", build_template),
    "mlflow-datadog.json": (
        "mlflow-cfn synth --sidecar datadog --output templates/mlflow-datadog.json",
        lambda: build_template(StackOptions(sidecar="datadog")),
    ),
    "network.json": (
        "mlflow-cfn synth --network --output templates/network.json",
        build_network_template,
    ),
    "portfolio.json": (
        "mlflow-cfn synth --portfolio --output templates/portfolio.json",
        lambda: portfolio_template_from_file(
            TEMPLATES / "mlflow.json", network=TEMPLATES / "network.json"
        ),
    ),
}


def test_every_committed_template_has_an_emitter():
    assert sorted(p.name for p in TEMPLATES.glob("*.json")) == sorted(EMITTERS)


@pytest.mark.parametrize("name", sorted(EMITTERS))
def test_committed_template_matches_the_code(name):
    regenerate, emit = EMITTERS[name]
    committed = (TEMPLATES / name).read_text()
    emitted = render(emit())
    if committed != emitted:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                emitted.splitlines(keepends=True),
                f"templates/{name} (committed)",
                "emitted",
                n=2,
            )
        )
        raise AssertionError(f"templates/{name} is stale; run `{regenerate}`:\n{diff[:20000]}")
