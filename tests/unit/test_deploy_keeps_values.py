"""Issue 25, item 2: an update keeps what the file leaves out, and the change set screen says
what changes where before it asks.

``aws cloudformation deploy`` sends UsePreviousValue for every parameter of the deployed stack
that ``--parameter-overrides`` leaves out (AWS CLI, customizations/cloudformation/deploy.py,
``merge_parameters``); CreateChangeSet's ``Parameter.UsePreviousValue`` is documented in botocore's
cloudformation model ("Whether to use the previous value of the parameter. If you specify true,
don't specify a value for ParameterValue"). `deploy` does the same; DescribeStacks ``Parameters``
is where the deployed values come from.
"""

from __future__ import annotations

import argparse
import json

import botocore.session
import pytest

from mlflow_cfn.cfn.changes import Change, change_set_name
from mlflow_cfn.commands.deploy import DeployRequest
from mlflow_cfn.commands.deploy import register as add_deploy_parser
from mlflow_cfn.commands.deploy_review import action_counts, where
from tests.unit.test_deploy import (
    BUCKET,
    CHANGE_SET_ID,
    REQUIRED,
    STACK,
    STACK_ID,
    TEMPLATE,
    URL,
    Run,
    change,
    expect_stack,
    expected_body,
)
from tests.unit.test_deploy import _no_real_aws as _no_real_aws
from tests.unit.test_deploy import cfn as cfn
from tests.unit.test_deploy import s3 as s3

#: What DescribeStacks answers for the stack: every parameter it was created with (the defaults
#: included), the required ones, HTTPS and deletion protection on, and a parameter an older
#: template version had and this one no longer declares.
DEFAULTS = {
    key: str(spec["Default"])
    for key, spec in json.loads(TEMPLATE.read_text())["Parameters"].items()
    if "Default" in spec
}
DEPLOYED = {
    **DEFAULTS,
    **REQUIRED,
    "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/"
    "11111111-2222-3333-4444-555555555555",
    "DatabaseDeletionProtection": "true",
    "TaskCpu": "1024",
    "TaskMemory": "2048",
    "RetiredParameter": "old",
}


def deployed_stack(stubber, values: dict[str, str] = DEPLOYED) -> None:
    parameters = [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]
    expect_stack(stubber, "UPDATE_COMPLETE", Parameters=parameters)


def expect_update(stubber, sent: dict[str, str], kept: list[str]) -> str:
    """create_change_set sending `sent` by value and `kept` as UsePreviousValue; its name."""
    name = change_set_name(expected_body(), {**{k: DEPLOYED[k] for k in kept}, **sent})
    values = {k: {"ParameterValue": v} for k, v in sent.items()}
    values |= {k: {"UsePreviousValue": True} for k in kept}
    stubber.add_response(
        "create_change_set",
        {"Id": CHANGE_SET_ID, "StackId": STACK_ID},
        {
            "StackName": STACK,
            "ChangeSetName": name,
            "ChangeSetType": "UPDATE",
            "TemplateURL": URL,
            "Parameters": [{"ParameterKey": k, **values[k]} for k in sorted(values)],
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
            "Description": "created by mlflow-cfn deploy",
        },
    )
    response = {"ChangeSetName": name, "StackName": STACK, "Status": "CREATE_COMPLETE"}
    response["Changes"] = [change("Modify", "DatabaseCluster", "AWS::RDS::DBCluster")]
    params = {"ChangeSetName": name, "StackName": STACK}
    stubber.add_response("describe_change_set", response, params)
    return name


def file_with(tmp_path, **values: str):
    path = tmp_path / "teardown.json"
    path.write_text(json.dumps(values))
    return path


def preview(tmp_path, path, **flags) -> DeployRequest:
    return DeployRequest(STACK, path, TEMPLATE, s3_bucket=BUCKET, execute=False, **flags)


def test_a_file_with_one_parameter_changes_that_one_and_keeps_the_rest(cfn, s3, tmp_path):
    """The teardown file of the issue: only DatabaseDeletionProtection=false. HTTPS stays."""
    client, stubber = cfn
    deployed_stack(stubber)
    kept = sorted(
        k for k in DEPLOYED if k not in ("DatabaseDeletionProtection", "RetiredParameter")
    )
    name = expect_update(stubber, {"DatabaseDeletionProtection": "false"}, kept)
    run = Run(s3=s3)

    code = run(client, preview(tmp_path, file_with(tmp_path, DatabaseDeletionProtection="false")))

    assert (code, run.err) == (0, [])
    stubber.assert_no_pending_responses()
    assert run.out[2:] == [
        f"change set {name}: 1 change(s) (0 to add, 1 to modify, 0 to remove) to stack mlflow "
        "in account 123456789012, region us-east-1",
        "  Modify  DatabaseCluster  AWS::RDS::DBCluster  Replacement=-",
        "parameters changed (2, deployed -> after this change set):",
        "  DatabaseDeletionProtection: true -> false",
        "  RetiredParameter: old -> (no longer in the template)",
        f"parameters kept at their deployed values: {len(kept)} (not in --parameters or "
        "--parameter-overrides)",
        f"not executing (--no-execute-changeset); aws cloudformation describe-change-set "
        f"--stack-name mlflow --change-set-name {name}",
    ]


def test_overrides_win_over_the_file_and_a_new_parameter_takes_its_default(cfn, s3, tmp_path):
    client, stubber = cfn
    older = {k: v for k, v in DEPLOYED.items() if k != "TaskMemory"}  # before TaskMemory existed
    deployed_stack(stubber, older)
    kept = sorted(k for k in older if k not in ("TaskCpu", "RetiredParameter"))
    name = expect_update(stubber, {"TaskCpu": "512"}, kept)
    run = Run(s3=s3)
    request = preview(
        tmp_path, file_with(tmp_path, TaskCpu="2048"), overrides=(("TaskCpu", "512"),)
    )

    assert run(client, request) == 0, run.err

    default = json.loads(TEMPLATE.read_text())["Parameters"]["TaskMemory"]["Default"]
    assert "  TaskCpu: 1024 -> 512" in run.out
    assert f"  TaskMemory: (new parameter) -> {default}" in run.out
    assert any(name in line for line in run.out)


def test_a_kept_value_the_new_template_refuses_is_named_as_kept(cfn, tmp_path):
    """Exit 2 before any change: the error says the value came from the deployed stack."""
    client, stubber = cfn
    deployed_stack(stubber, {**DEPLOYED, "TaskCpu": "3"})
    run = Run()

    code = run(client, preview(tmp_path, file_with(tmp_path, DatabaseDeletionProtection="false")))

    assert code == 2
    stubber.assert_no_pending_responses()
    assert any("Parameter 'TaskCpu' failed to satisfy constraint" in line for line in run.err)
    assert run.err[-1] == (
        "TaskCpu: kept at the deployed stack mlflow's value, which neither --parameters nor "
        "--parameter-overrides gives; give one to change it"
    )


def test_a_new_stack_takes_the_defaults_and_shows_no_parameter_changes(cfn, s3, tmp_path):
    client, stubber = cfn
    expect_stack(stubber, None)
    name = change_set_name(expected_body(), REQUIRED)
    values = [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(REQUIRED.items())]
    stubber.add_response(
        "create_change_set",
        {"Id": CHANGE_SET_ID, "StackId": STACK_ID.replace("us-east-1", "cn-north-1")},
        {
            "StackName": STACK, "ChangeSetName": name, "ChangeSetType": "CREATE",
            "TemplateURL": URL, "Parameters": values,
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
            "Description": "created by mlflow-cfn deploy",
        },
    )  # fmt: skip
    stubber.add_response(
        "describe_change_set",
        {"ChangeSetName": name, "StackName": STACK, "Status": "CREATE_COMPLETE", "Changes": []},
        {"ChangeSetName": name, "StackName": STACK},
    )
    run = Run(s3=s3)

    assert run(client, preview(tmp_path, None, overrides=tuple(REQUIRED.items()))) == 0, run.err

    assert run.out[2] == (
        f"change set {name}: 0 change(s) (0 to add, 0 to modify, 0 to remove) to stack mlflow "
        "in account 123456789012, region cn-north-1"
    )
    assert not any(line.startswith("parameters") for line in run.out)


def test_where_reads_account_and_region_from_a_stack_arn_of_any_partition():
    partitions = botocore.session.get_session().get_data("partitions")["partitions"]
    for partition in (p["id"] for p in partitions):
        arn = f"arn:{partition}:cloudformation:xx-east-1:123456789012:stack/s/1"
        assert where(arn) == "account 123456789012, region xx-east-1"
    assert where("not-an-arn") == "stack not-an-arn"


def test_action_counts_name_every_action():
    changes = [
        Change("Add", "A", "AWS::S3::Bucket", None, ()),
        Change("Modify", "B", "AWS::S3::Bucket", "False", ()),
        Change("Import", "C", "AWS::S3::Bucket", None, ()),
    ]
    assert action_counts(changes) == "1 to add, 1 to modify, 0 to remove, 1 Import"


@pytest.mark.parametrize(
    ("argv", "overrides"),
    [
        (["--parameter-overrides", "A=b=c", "Empty="], [("A", "b=c"), ("Empty", "")]),
        ([], []),
    ],
)
def test_parameter_overrides_parse_and_the_file_is_optional(argv, overrides):
    parser = argparse.ArgumentParser()
    add_deploy_parser(parser.add_subparsers())
    args = parser.parse_args(["deploy", "--stack-name", "s", *argv])
    assert (args.parameters, args.parameter_overrides) == (None, overrides)


@pytest.mark.parametrize("value", ["=x", "NoEquals", "Bad-Key=1"])
def test_malformed_overrides_are_refused_naming_the_form(value, capsys):
    parser = argparse.ArgumentParser()
    add_deploy_parser(parser.add_subparsers())
    with pytest.raises(SystemExit):
        parser.parse_args(["deploy", "--stack-name", "s", "--parameter-overrides", value])
    assert "is not KEY=VALUE with an alphanumeric parameter name" in capsys.readouterr().err
