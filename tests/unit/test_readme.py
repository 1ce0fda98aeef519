"""README stays true: its test command is what CI runs, and its parameter table is the code's."""

from mlflow_cfn.stack.docs import parameters_table
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
TEST_COMMAND = "bash tests/bootstrap.sh && .venv/bin/python -m pytest"
SYNTH_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -e . && "
    ".venv/bin/mlflow-cfn synth --output templates/mlflow.json"
)


def test_readme_opens_with_the_two_commands():
    opening = README.split("## ")[0]
    assert SYNTH_COMMAND in opening
    assert TEST_COMMAND in opening


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert TEST_COMMAND in ci.splitlines()
    assert "export MLFLOW_CFN_REQUIRE_SERVICES=1" in ci


def test_readme_lists_every_parameter_as_the_code_defines_it():
    assert parameters_table() in README, "regenerate with mlflow_cfn.stack.docs.parameters_table()"
