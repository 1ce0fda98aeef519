"""``deploy`` the way the AWS CLI's is used: a preview that exits 0 without executing
(``--no-execute-changeset``), ``--tags`` and ``--role-arn`` sent with the change set, parameters
as ``file://`` in YAML or from standard input. Stubbed CloudFormation (the real API model checks
the parameter names and types), moto S3."""

from __future__ import annotations

import io

import pytest

from tests.unit.test_deploy import (
    REQUIRED,
    STACK,
    Run,
    expect_change_set,
    expect_create,
    expect_stack,
    parse,
    request,
)
from tests.unit.test_deploy import _no_real_aws as _no_real_aws
from tests.unit.test_deploy import cfn as cfn
from tests.unit.test_deploy import s3 as s3

ROLE = "arn:aws:iam::123456789012:role/cfn-mlflow"
TAGS = (("team", "ml"), ("cost-center", "42"))


def change(action: str, logical_id: str, type_name: str) -> dict:
    return {
        "Type": "Resource",
        "ResourceChange": {
            "Action": action,
            "LogicalResourceId": logical_id,
            "ResourceType": type_name,
        },
    }


ADD_LOG_GROUP = change("Add", "LogGroup", "AWS::Logs::LogGroup")


def test_a_preview_creates_and_prints_the_change_set_then_exits_0_without_executing(
    cfn, s3, tmp_path
):
    client, stubber = cfn
    expect_stack(stubber, "UPDATE_COMPLETE")
    expect_create(
        stubber,
        "UPDATE",
        Tags=[{"Key": k, "Value": v} for k, v in TAGS],
        RoleARN=ROLE,
    )
    expect_change_set(
        stubber, "CREATE_COMPLETE", [change("Add", "LogGroup", "AWS::Logs::LogGroup")]
    )
    run = Run(answer=True, s3=s3)  # nobody is asked

    code = run(client, request(tmp_path, tags=TAGS, role_arn=ROLE, execute=False))

    assert code == 0
    stubber.assert_no_pending_responses()  # no ExecuteChangeSet, no DeleteChangeSet
    assert run.questions == []
    assert run.out[-1].startswith("not executing (--no-execute-changeset); ")
    assert "aws cloudformation describe-change-set" in run.out[-1]


def test_the_flags_parse_as_the_aws_cli_spells_them():
    args = parse(
        [
            "deploy", "--stack-name", STACK, "--parameters", "file://p.yaml",
            "--tags", "team=ml", "cost-center=42", "--role-arn", ROLE,
            "--no-execute-changeset", "--profile", "prod", "--region", "eu-west-1",
        ]
    )  # fmt: skip
    assert args.tags == list(TAGS) and args.role_arn == ROLE and args.no_execute_changeset
    assert (args.profile, args.region, args.parameters) == ("prod", "eu-west-1", "file://p.yaml")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tags", "team"], "'team' is not KEY=VALUE"),
        (["--tags", "aws:x=1"], "not starting with aws:"),
        (["--role-arn", "cfn-role"], "is not an IAM role ARN"),
    ],
)
def test_bad_tags_and_role_arns_are_refused_naming_the_flag(argv, message, capsys):
    with pytest.raises(SystemExit) as caught:
        parse(["deploy", "--stack-name", STACK, "--parameters", "p.json", *argv])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {argv[0]}" in err and message in err


@pytest.mark.parametrize("form", ["file-yaml", "stdin-json"])
def test_parameters_come_as_file_url_yaml_or_from_standard_input(
    form, cfn, s3, tmp_path, monkeypatch
):
    client, stubber = cfn
    expect_stack(stubber, "UPDATE_COMPLETE")
    expect_create(stubber, "UPDATE")
    expect_change_set(
        stubber, "CREATE_COMPLETE", [change("Add", "LogGroup", "AWS::Logs::LogGroup")]
    )
    if form == "file-yaml":
        path = tmp_path / "params.yaml"
        path.write_text("".join(f"{k}: '{v}'\n" for k, v in REQUIRED.items()))
        source = f"file://{path}"
    else:
        monkeypatch.setattr("sys.stdin", io.StringIO(str(dict(REQUIRED)).replace("'", '"')))
        source = "-"
    run = Run(s3=s3)

    assert run(client, request(tmp_path, parameters_path=source, execute=False)) == 0
    stubber.assert_no_pending_responses()
