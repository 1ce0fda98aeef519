"""README stays true: its test command is what CI runs, and its parameter and output tables are
the code's."""

import json

import pytest

from mlflow_cfn.stack.docs import outputs_table, parameters_table
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


def test_readme_lists_every_output_as_the_template_defines_it():
    assert outputs_table() in README, "regenerate with mlflow_cfn.stack.docs.outputs_table()"
    committed = json.loads((ROOT / "templates" / "mlflow.json").read_text())
    assert outputs_table(committed) == outputs_table()
    rows = outputs_table().splitlines()[2:]
    assert [row.split("`")[1] for row in rows] == sorted(committed["Outputs"])


def test_output_conditions_are_told_in_parameter_values():
    conditions = {
        "UseLogin": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AuthMode"}, "none"]}]},
        "OwnPool": {"Fn::Not": [{"Fn::Equals": [{"Ref": "CognitoUserPoolArn"}, ""]}]},
        "Both": {"Fn::And": [{"Condition": "UseLogin"}, {"Condition": "OwnPool"}]},
        "Odd": {"Fn::Equals": [{"Fn::Select": [0, ["a"]]}, "a"]},
    }
    template = {"Conditions": conditions, "Outputs": {"X": {"Condition": "Both"}}}
    template["Outputs"]["X"]["Description"] = "an output"
    row = outputs_table(template).splitlines()[2]
    assert row == "| `X` | an output | `AuthMode` is not `none` and `CognitoUserPoolArn` is given |"
    template["Outputs"]["X"]["Condition"] = "Odd"
    with pytest.raises(ValueError, match="cannot tell"):
        outputs_table(template)


def _aws_deploy_commands(text: str) -> list[str]:
    """Every `aws cloudformation deploy` command of README's code blocks, continuations joined."""
    joined = text.replace("\\\n", " ")
    return [line for line in joined.splitlines() if "aws cloudformation deploy" in line]


def test_readme_deploys_of_templates_over_the_inline_limit_give_a_bucket():
    """CloudFormation takes at most 51,200 bytes inline (mlflow_cfn.cfn.upload cites the limit),
    and `aws cloudformation deploy` uploads a larger template only with --s3-bucket (the AWS CLI
    reference of `cloudformation deploy` says the bucket is required above 51,200 bytes)."""
    from mlflow_cfn.cfn.upload import TEMPLATE_BODY_LIMIT

    commands = _aws_deploy_commands(README)
    assert commands, "README shows `aws cloudformation deploy`"
    checked = 0
    for command in commands:
        words = command.split()
        if "--template-file" not in words:
            continue
        path = ROOT / words[words.index("--template-file") + 1]
        if not path.exists():  # a file `mlflow-cfn synth` writes: the committed template's twin
            path = ROOT / "templates" / path.name
        size = len(json.dumps(json.loads(path.read_text()), separators=(",", ":")).encode())
        if size > TEMPLATE_BODY_LIMIT:
            checked += 1
            assert "--s3-bucket" in words, f"{path.name} is {size} bytes: {command.strip()}"
    assert checked >= 4  # the product, the network's neighbour and both portfolio recipes


def test_readme_portfolio_recipes_give_values_the_portfolio_template_accepts():
    """Each README `aws cloudformation deploy` of the portfolio template, its
    --parameter-overrides evaluated offline as CloudFormation would (constraints, Rules)."""
    import shlex

    from mlflow_cfn.cfn.evaluate import evaluate

    template = json.loads((ROOT / "templates" / "portfolio.json").read_text())
    recipes = [c for c in _aws_deploy_commands(README) if "portfolio.json" in c]
    assert len(recipes) >= 2
    for command in recipes:
        words = shlex.split(command)
        values = dict(w.split("=", 1) for w in words[words.index("--parameter-overrides") + 1 :])
        assert values.pop("ProductTemplateUrl").startswith("https://my-sc-templates.s3.")
        # (the older recipe's URL holds a <sha256> placeholder: evaluated with a real one)
        url = "https://my-sc-templates.s3.eu-west-1.amazonaws.com/mlflow-cfn/v0.2.0/mlflow.json"
        evaluate(template, {**values, "ProductTemplateUrl": url}, region="eu-west-1")
