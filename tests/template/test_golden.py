"""The committed templates are exactly what the code emits (regenerate with `mlflow-cfn synth`)."""

import difflib

from mlflow_cfn import build_template
from mlflow_cfn.template import render
from tests.conftest import TEMPLATES

REGENERATE = "mlflow-cfn synth --output templates/mlflow.json"


def test_committed_default_template_matches_the_code():
    committed = (TEMPLATES / "mlflow.json").read_text()
    emitted = render(build_template())
    if committed != emitted:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                emitted.splitlines(keepends=True),
                "templates/mlflow.json (committed)",
                "emitted",
                n=2,
            )
        )
        raise AssertionError(f"templates/mlflow.json is stale; run `{REGENERATE}`:\n{diff[:20000]}")
