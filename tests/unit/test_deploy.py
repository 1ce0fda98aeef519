"""mlflow-cfn deploy against Stubber-wrapped boto3 clients (no AWS call is ever made)."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore.credentials import CredentialResolver
from botocore.stub import Stubber
from moto import mock_aws

from mlflow_cfn.cfn.aws import cloudformation_client
from mlflow_cfn.cfn.changes import STATEFUL_TYPES, change_set_name
from mlflow_cfn.commands import deploy as deploy_module
from mlflow_cfn.commands.deploy import QUESTION, DeployRequest, ask, deploy
from mlflow_cfn.commands.deploy import register as add_deploy_parser
from mlflow_cfn.commands.deploy import run as run_deploy
from mlflow_cfn.stack import checks as checks_module
from mlflow_cfn.stack.checks import check_ranges
from tests.conftest import REQUIRED_PARAMETERS as REQUIRED
from tests.conftest import TEMPLATES

TEMPLATE = TEMPLATES / "mlflow.json"
STACK = "mlflow"
BUCKET = "mlflow-deploy-templates"
BUCKET_REGION = "eu-west-1"
"""The --s3-bucket bucket: in another region than the clients (us-east-1), as the URL shows."""
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/mlflow/11111111-2222-3333-4444"
CHANGE_SET_ID = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/x/55555555-6666-7777"
T0 = datetime(2025, 1, 2, 12, 0, 0, tzinfo=UTC)
NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to create "
    "a change set."
)


# --- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_real_aws(no_real_aws):
    """Every test here runs without reaching AWS."""


@pytest.fixture
def cfn():
    """A real CloudFormation client and its active Stubber."""
    client = boto3.client("cloudformation", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber


@pytest.fixture
def s3():
    """A moto S3 client (us-east-1) with the --s3-bucket bucket (in BUCKET_REGION)."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION}
        )
        yield client


def uploaded_keys(s3) -> list[str]:
    """The keys of the objects in the moto bucket."""
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def write_parameters(directory: Path, **overrides: str) -> Path:
    """A create-stack style parameters file with the required parameters (and overrides)."""
    values = {**REQUIRED, **overrides}
    path = directory / "parameters.json"
    path.write_text(
        json.dumps([{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()])
    )
    return path


def expected_body() -> str:
    """The template as deploy sends it: compact JSON."""
    return json.dumps(json.loads(TEMPLATE.read_text()), separators=(",", ":"), ensure_ascii=False)


def expected_name(**overrides: str) -> str:
    """mlflow-cfn- + 16 hex digits of sha256(compact template + sorted parameters)."""
    text = expected_body() + "\n" + json.dumps({**REQUIRED, **overrides}, sort_keys=True)
    return "mlflow-cfn-" + hashlib.sha256(text.encode()).hexdigest()[:16]


KEY = f"mlflow-cfn/templates/{hashlib.sha256(expected_body().encode()).hexdigest()}.json"
"""The content-addressed key deploy uploads the compact template to."""
URL = f"https://{BUCKET}.s3.{BUCKET_REGION}.amazonaws.com/{KEY}"
"""The TemplateURL of the uploaded template: the bucket's own region."""


class Run:
    """One deploy() call's collected stdout lines, stderr lines, sleeps and questions."""

    def __init__(self, answer: bool | None = True, s3=None) -> None:
        self.out: list[str] = []
        self.err: list[str] = []
        self.sleeps: list[float] = []
        self.questions: list[str] = []
        self.answer = answer
        self.s3 = s3

    def confirm(self, question: str) -> bool | None:
        self.questions.append(question)
        return self.answer

    def __call__(self, client, request: DeployRequest) -> int:
        return deploy(
            request,
            cfn=client,
            s3=self.s3,
            out=self.out.append,
            err=self.err.append,
            sleep=self.sleeps.append,
            confirm=self.confirm,
        )


def request(tmp_path: Path, **flags) -> DeployRequest:
    """A DeployRequest for the committed template, the required parameters and --s3-bucket."""
    return DeployRequest(
        stack_name=STACK,
        **{
            "parameters_path": write_parameters(tmp_path),
            "template_path": TEMPLATE,
            "s3_bucket": BUCKET,
            **flags,
        },
    )


def stack(status: str, **extra) -> dict:
    return {
        "StackName": STACK,
        "StackId": STACK_ID,
        "CreationTime": T0,
        "StackStatus": status,
        **extra,
    }


def event(number: int, status: str, logical_id: str, resource_type: str, reason: str = "") -> dict:
    """A stack event `number` seconds after T0."""
    data = {
        "StackId": STACK_ID,
        "EventId": f"event-{number}",
        "StackName": STACK,
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "Timestamp": T0 + timedelta(seconds=number),
        "ResourceStatus": status,
    }
    if reason:
        data["ResourceStatusReason"] = reason
    return data


def change(action: str, logical_id: str, resource_type: str, **extra) -> dict:
    return {
        "Type": "Resource",
        "ResourceChange": {
            "Action": action,
            "LogicalResourceId": logical_id,
            "ResourceType": resource_type,
            **extra,
        },
    }


def property_change(name: str) -> dict:
    return {"Target": {"Attribute": "Properties", "Name": name, "RequiresRecreation": "Always"}}


def expect_stack(stubber: Stubber, status: str | None, **extra) -> None:
    """describe_stacks answering with a stack in `status`, or 'does not exist' for None."""
    if status is None:
        stubber.add_client_error(
            "describe_stacks",
            service_error_code="ValidationError",
            service_message=f"Stack with id {STACK} does not exist",
            expected_params={"StackName": STACK},
        )
    else:
        stubber.add_response(
            "describe_stacks", {"Stacks": [stack(status, **extra)]}, {"StackName": STACK}
        )


def expect_create(
    stubber: Stubber,
    kind: str,
    name: str | None = None,
    template: dict[str, str] | None = None,
    parameters: dict[str, str] = REQUIRED,
    **options,
) -> None:
    """create_change_set of `name` from `template` (default: the uploaded template's URL), with
    `options` (Tags, RoleARN) when given."""
    stubber.add_response(
        "create_change_set",
        {"Id": CHANGE_SET_ID, "StackId": STACK_ID},
        {
            "StackName": STACK,
            "ChangeSetName": name or expected_name(),
            "ChangeSetType": kind,
            **(template or {"TemplateURL": URL}),
            "Parameters": [
                {"ParameterKey": key, "ParameterValue": value}
                for key, value in sorted(parameters.items())
            ],
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
            "Description": "created by mlflow-cfn deploy",
            **options,
        },
    )


def expect_change_set(
    stubber: Stubber, status: str, changes=(), token: str = "", **response: str
) -> None:
    """describe_change_set (the page after `token`, if given) answering `status`, `changes`."""
    params = {"ChangeSetName": expected_name(), "StackName": STACK}
    if token:
        params["NextToken"] = token
    response.update(ChangeSetName=expected_name(), StackName=STACK, Status=status)
    stubber.add_response("describe_change_set", {**response, "Changes": list(changes)}, params)


def expect_delete(stubber: Stubber) -> None:
    stubber.add_response(
        "delete_change_set", {}, {"ChangeSetName": expected_name(), "StackName": STACK}
    )


def expect_events(stubber: Stubber, events: list[dict], next_token: str = "", token: str = ""):
    params = {"StackName": STACK, **({"NextToken": token} if token else {})}
    response = {"StackEvents": events, **({"NextToken": next_token} if next_token else {})}
    stubber.add_response("describe_stack_events", response, params)


def expect_execute(stubber: Stubber) -> None:
    stubber.add_response(
        "execute_change_set", {}, {"ChangeSetName": expected_name(), "StackName": STACK}
    )


START = event(0, "UPDATE_COMPLETE", STACK, "AWS::CloudFormation::Stack")
"""The newest event before execution: it and anything older is never printed."""


# --- the happy path ---------------------------------------------------------------------------


def test_create_prints_the_change_set_executes_streams_events_and_prints_outputs(cfn, s3, tmp_path):
    client, stubber = cfn
    name = expected_name()
    expect_stack(stubber, None)
    expect_create(stubber, "CREATE")
    expect_change_set(stubber, "CREATE_IN_PROGRESS")
    expect_change_set(
        stubber,
        "CREATE_COMPLETE",
        [
            change("Add", "ArtifactKey", "AWS::KMS::Key"),
            change("Add", "ArtifactBucket", "AWS::S3::Bucket"),
        ],
        NextToken="page-2",
    )
    expect_change_set(
        stubber,
        "CREATE_COMPLETE",
        [change("Add", "DatabaseCluster", "AWS::RDS::DBCluster")],
        token="page-2",
    )
    review = event(0, "REVIEW_IN_PROGRESS", STACK, "AWS::CloudFormation::Stack", "User Initiated")
    expect_events(stubber, [review])
    expect_execute(stubber)
    expect_stack(stubber, "CREATE_IN_PROGRESS")
    first = [
        event(2, "CREATE_IN_PROGRESS", "ArtifactKey", "AWS::KMS::Key"),
        event(1, "CREATE_IN_PROGRESS", STACK, "AWS::CloudFormation::Stack", "User Initiated"),
        review,
    ]
    expect_events(stubber, first)
    outputs = [
        {"OutputKey": "TrackingUri", "OutputValue": "http://internal-mlflow.elb.amazonaws.com"},
        {"OutputKey": "ArtifactBucketName", "OutputValue": "mlflow-artifactbucket-abc"},
    ]
    expect_stack(stubber, "CREATE_COMPLETE", Outputs=outputs)
    expect_events(
        stubber,
        [
            event(6, "CREATE_COMPLETE", STACK, "AWS::CloudFormation::Stack"),
            event(5, "CREATE_COMPLETE", "DatabaseCluster", "AWS::RDS::DBCluster"),
        ],
        next_token="events-2",
    )
    expect_events(
        stubber,
        [
            event(4, "CREATE_COMPLETE", "ArtifactBucket", "AWS::S3::Bucket"),
            event(3, "CREATE_COMPLETE", "ArtifactKey", "AWS::KMS::Key"),
            first[0],
            first[1],
        ],
        token="events-2",
    )
    run = Run(answer=True, s3=s3)

    assert run(client, request(tmp_path)) == 0

    stubber.assert_no_pending_responses()
    assert uploaded_keys(s3) == [KEY]
    assert run.questions == [QUESTION] == ["Execute this change set? [y/N]"]
    assert run.sleeps == [5.0, 5.0]
    assert run.err == []
    assert run.out == [
        f"uploaded s3://{BUCKET}/{KEY}",
        f"creating change set {name} (CREATE of stack mlflow)",
        f"change set {name}: 3 change(s) (3 to add, 0 to modify, 0 to remove) to stack mlflow in "
        "account 123456789012, region us-east-1",
        "  Add  ArtifactKey      AWS::KMS::Key        Replacement=-",
        "  Add  ArtifactBucket   AWS::S3::Bucket      Replacement=-",
        "  Add  DatabaseCluster  AWS::RDS::DBCluster  Replacement=-",
        f"executing change set {name}",
        "12:00:01  CREATE_IN_PROGRESS  mlflow  AWS::CloudFormation::Stack  User Initiated",
        "12:00:02  CREATE_IN_PROGRESS  ArtifactKey  AWS::KMS::Key",
        "progress: 0/3 resources done",
        "12:00:03  CREATE_COMPLETE  ArtifactKey  AWS::KMS::Key",
        "12:00:04  CREATE_COMPLETE  ArtifactBucket  AWS::S3::Bucket",
        "12:00:05  CREATE_COMPLETE  DatabaseCluster  AWS::RDS::DBCluster",
        "12:00:06  CREATE_COMPLETE  mlflow  AWS::CloudFormation::Stack",
        "progress: 3/3 resources done",
        "stack mlflow: CREATE_COMPLETE",
        "Outputs:",
        "  ArtifactBucketName = mlflow-artifactbucket-abc",
        "  TrackingUri = http://internal-mlflow.elb.amazonaws.com",
    ]


def test_the_change_set_name_is_deterministic_and_follows_the_inputs():
    name = change_set_name("{}", {"B": "2", "A": "1"})
    assert name == change_set_name("{}", {"A": "1", "B": "2"})
    assert name != change_set_name("{}", {"A": "1", "B": "3"})
    assert name != change_set_name("{ }", {"A": "1", "B": "2"})
    assert re.fullmatch(r"mlflow-cfn-[0-9a-f]{16}", name)


# --- update: no changes, existing change set, stack states ------------------------------------


@pytest.mark.parametrize("reason", [NO_CHANGES, "No updates are to be performed."])
def test_an_update_without_changes_deletes_the_change_set_and_exits_0(cfn, s3, tmp_path, reason):
    client, stubber = cfn
    expect_stack(stubber, "UPDATE_COMPLETE")
    expect_create(stubber, "UPDATE")
    expect_change_set(stubber, "FAILED", StatusReason=reason)
    expect_delete(stubber)
    run = Run(s3=s3)

    assert run(client, request(tmp_path)) == 0

    stubber.assert_no_pending_responses()
    assert uploaded_keys(s3) == [KEY]
    assert (
        run.out[-1]
        == f"no changes: stack mlflow is up to date (change set {expected_name()} deleted)"
    )
    assert run.err == [] and run.questions == []


def test_a_failed_change_set_prints_its_reason_is_deleted_and_exits_1(cfn, s3, tmp_path):
    client, stubber = cfn
    expect_stack(stubber, "UPDATE_COMPLETE")
    expect_create(stubber, "UPDATE")
    reason = "Template error: instance of Fn::GetAtt references undefined resource Nope"
    expect_change_set(stubber, "FAILED", StatusReason=reason)
    expect_delete(stubber)
    run = Run(s3=s3)

    assert run(client, request(tmp_path)) == 1

    stubber.assert_no_pending_responses()
    assert uploaded_keys(s3) == [KEY]
    assert run.err == [f"change set {expected_name()} failed: {reason} (change set deleted)"]


def test_an_existing_change_set_of_the_same_name_is_deleted_and_created_again(cfn, s3, tmp_path):
    client, stubber = cfn
    expect_stack(stubber, "REVIEW_IN_PROGRESS")
    stubber.add_client_error(
        "create_change_set",
        service_error_code="AlreadyExistsException",
        service_message=f"ChangeSet {expected_name()} already exists",
    )
    expect_delete(stubber)
    expect_create(stubber, "CREATE")
    expect_change_set(
        stubber, "CREATE_COMPLETE", [change("Add", "LogGroup", "AWS::Logs::LogGroup")]
    )
    run = Run(answer=False, s3=s3)

    assert run(client, request(tmp_path)) == 0  # declined: left unexecuted by choice

    stubber.assert_no_pending_responses()
    assert uploaded_keys(s3) == [KEY]
    assert run.out[:3] == [
        f"uploaded s3://{BUCKET}/{KEY}",
        f"creating change set {expected_name()} (CREATE of stack mlflow)",
        f"change set {expected_name()} exists already: deleting it and creating it again",
    ]
    assert run.err == [
        f"not executed (declined); change set {expected_name()} is left for inspection: "
        "aws cloudformation "
        f"describe-change-set --stack-name mlflow --change-set-name {expected_name()}"
    ]


def test_a_stack_in_rollback_complete_must_be_deleted_first(cfn, s3, tmp_path):
    client, stubber = cfn
    expect_stack(stubber, "ROLLBACK_COMPLETE")
    run = Run(s3=s3)

    assert run(client, request(tmp_path)) == 1

    stubber.assert_no_pending_responses()
    assert uploaded_keys(s3) == []  # refused before the upload
    assert run.err == [
        "stack mlflow is in ROLLBACK_COMPLETE: its creation failed and it cannot be updated; "
        "delete it first (aws cloudformation delete-stack --stack-name mlflow), then deploy again"
    ]


# --- stateful resources -----------------------------------------------------------------------


REPLACE_CLUSTER = change(
    "Modify",
    "DatabaseCluster",
    "AWS::RDS::DBCluster",
    Replacement="True",
    Details=[
        property_change("Engine"),
        property_change("EngineVersion"),
        property_change("Engine"),
    ],
)


def test_replacing_the_database_cluster_is_refused_without_allow_replacement(cfn, s3, tmp_path):
    client, stubber = cfn
    name = expected_name()
    expect_stack(stubber, "UPDATE_COMPLETE")
    expect_create(stubber, "UPDATE")
    expect_change_set(
        stubber,
        "CREATE_COMPLETE",
        [REPLACE_CLUSTER, change("Modify", "Service", "AWS::ECS::Service", Replacement="False")],
    )
    expect_delete(stubber)
    run = Run(s3=s3)

    assert run(client, request(tmp_path)) == 1

    stubber.assert_no_pending_responses()  # and execute_change_set was never queued nor called
    assert uploaded_keys(s3) == [KEY]
    assert run.out[-2:] == [
        "  Modify  DatabaseCluster  AWS::RDS::DBCluster  Replacement=True  "
        "properties: Engine, EngineVersion",
        "  Modify  Service          AWS::ECS::Service    Replacement=False",
    ]
    assert run.err == [
        f"refusing to execute change set {name}: it would replace or remove stateful resources:",
        "  DatabaseCluster (AWS::RDS::DBCluster) would be replaced by a new, empty one "
        "(Replacement=True)",
        f"deleted change set {name}; if this is intended, run again with --allow-replacement",
    ]
    assert run.questions == []


def test_replacing_the_database_cluster_goes_ahead_with_allow_replacement(cfn, s3, tmp_path):
    client, stubber = cfn
    expect_stack(stubber, "UPDATE_COMPLETE")
    expect_create(stubber, "UPDATE")
    expect_change_set(stubber, "CREATE_COMPLETE", [REPLACE_CLUSTER])
    expect_events(stubber, [START])
    expect_execute(stubber)
    expect_stack(stubber, "UPDATE_COMPLETE")
    expect_events(
        stubber,
        [event(1, "UPDATE_COMPLETE", "DatabaseCluster", "AWS::RDS::DBCluster"), START],
    )
    run = Run(s3=s3)

    assert run(client, request(tmp_path, allow_replacement=True, assume_yes=True)) == 0

    stubber.assert_no_pending_responses()
    assert uploaded_keys(s3) == [KEY]
    assert (
        "warning (--allow-replacement): DatabaseCluster (AWS::RDS::DBCluster) would be replaced "
        "by a new, empty one (Replacement=True)"
    ) in run.out
    assert run.out[-3:] == [
        "12:00:01  UPDATE_COMPLETE  DatabaseCluster  AWS::RDS::DBCluster",
        "progress: 1/1 resources done",
        "stack mlflow: UPDATE_COMPLETE",
    ]
    assert run.questions == [] and run.err == [] and run.sleeps == []


@pytest.mark.parametrize(
    ("api_change", "risk"),
    [
        (
            change("Remove", "ArtifactBucket", "AWS::S3::Bucket"),
            "ArtifactBucket (AWS::S3::Bucket) would be removed from the stack",
        ),
        (
            change("Modify", "ArtifactKey", "AWS::KMS::Key", Replacement="Conditional"),
            "ArtifactKey (AWS::KMS::Key) may be replaced by a new, empty one "
            "(Replacement=Conditional)",
        ),
    ],
)
def test_removing_or_maybe_replacing_stateful_resources_is_refused(
    cfn, s3, tmp_path, api_change, risk
):
    client, stubber = cfn
    expect_stack(stubber, "UPDATE_COMPLETE")
    expect_create(stubber, "UPDATE")
    expect_change_set(stubber, "CREATE_COMPLETE", [api_change])
    expect_delete(stubber)
    run = Run(s3=s3)

    assert run(client, request(tmp_path)) == 1

    stubber.assert_no_pending_responses()
    assert uploaded_keys(s3) == [KEY]
    assert run.err[1] == f"  {risk}"
    assert len(run.err) == 3


def test_replacing_the_aurora_writer_instance_is_not_refused(cfn, s3, tmp_path):
    """DBInstance is not stateful: an Aurora instance's data lives in the cluster volume."""
    client, stubber = cfn
    expect_stack(stubber, "UPDATE_COMPLETE")
    expect_create(stubber, "UPDATE")
    writer = change("Modify", "DatabaseWriter", "AWS::RDS::DBInstance", Replacement="True")
    expect_change_set(stubber, "CREATE_COMPLETE", [writer])
    run = Run(answer=False, s3=s3)

    assert run(client, request(tmp_path)) == 0  # declined at the prompt, not refused

    stubber.assert_no_pending_responses()
    assert uploaded_keys(s3) == [KEY]
    assert "AWS::RDS::DBInstance" not in STATEFUL_TYPES
    assert run.questions == [QUESTION]
    assert run.err[0].startswith("not executed (declined); change set ")


# --- a failed deployment ----------------------------------------------------------------------


def test_a_rollback_prints_the_first_failing_resource_and_its_reason_in_one_line(cfn, s3, tmp_path):
    client, stubber = cfn
    expect_stack(stubber, None)
    expect_create(stubber, "CREATE")
    expect_change_set(
        stubber,
        "CREATE_COMPLETE",
        [
            change("Add", "DatabaseCluster", "AWS::RDS::DBCluster"),
            change("Add", "LogGroup", "AWS::Logs::LogGroup"),
        ],
    )
    expect_events(stubber, [])
    expect_execute(stubber)
    expect_stack(stubber, "ROLLBACK_IN_PROGRESS")
    reason = "The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement."
    expect_events(
        stubber,
        [
            event(
                4,
                "ROLLBACK_IN_PROGRESS",
                STACK,
                "AWS::CloudFormation::Stack",
                "The following resource(s) failed to create: [DatabaseCluster, LogGroup].",
            ),
            event(
                3, "CREATE_FAILED", "LogGroup", "AWS::Logs::LogGroup", "Resource creation cancelled"
            ),
            event(2, "CREATE_FAILED", "DatabaseCluster", "AWS::RDS::DBCluster", reason),
            event(1, "CREATE_FAILED", "LogGroup", "AWS::Logs::LogGroup"),  # no reason: skipped
        ],
    )
    expect_stack(stubber, "ROLLBACK_COMPLETE")
    expect_events(
        stubber,
        [
            event(6, "ROLLBACK_COMPLETE", STACK, "AWS::CloudFormation::Stack"),
            event(5, "DELETE_COMPLETE", "DatabaseCluster", "AWS::RDS::DBCluster"),
            event(4, "ROLLBACK_IN_PROGRESS", STACK, "AWS::CloudFormation::Stack"),
        ],
    )
    run = Run(s3=s3)

    assert run(client, request(tmp_path)) == 1

    stubber.assert_no_pending_responses()
    assert uploaded_keys(s3) == [KEY]
    assert run.err == [
        "stack mlflow: ROLLBACK_COMPLETE",
        f"failed: DatabaseCluster (AWS::RDS::DBCluster): {reason}",
    ]
    assert "12:00:02  CREATE_FAILED  DatabaseCluster  AWS::RDS::DBCluster  " + reason in run.out
    assert run.out[-1] == "progress: 1/2 resources done"


# --- offline refusals: nothing is sent to AWS -------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        (
            {"LoadBalancerScheme": "internet-facing"},
            [
                "Rule InternetFacingNeedsCertificate: LoadBalancerScheme=internet-facing needs "
                "CertificateArn: an internet-facing MLflow is served over HTTPS only.",
                "Rule InternetFacingWithoutLoginNeedsConsent: LoadBalancerScheme=internet-facing "
                "with AuthMode=none serves MLflow, which has no login of its own, to whoever the "
                "allow-list lets in: set AuthMode, or AllowPublicAccessWithoutLogin=true to "
                "accept it.",
            ],
        ),
        (
            {"DatabaseMinCapacity": "8", "DatabaseMaxCapacity": "4"},
            [
                "DatabaseMinCapacity (8) is greater than DatabaseMaxCapacity (4): the minimum "
                "must not exceed the maximum"
            ],
        ),
        (
            {"TaskCpu": "7", "DesiredCount": "99"},
            [
                "Parameter 'DesiredCount' failed to satisfy constraint: DesiredCount must be a "
                "whole number from 0 to 20. (value '99' is greater than MaxValue 20)",
                "Parameter 'TaskCpu' failed to satisfy constraint: TaskCpu must be one of 256, "
                "512, 1024, 2048, 4096. (value '7' is not one of AllowedValues [256, 512, 1024, "
                "2048, 4096])",
            ],
        ),
    ],
)
def test_invalid_parameters_are_refused_offline_with_exit_2(cfn, tmp_path, overrides, errors):
    client, stubber = cfn  # no response queued but DescribeStacks for a Rule (see below)
    if any(error.startswith("Rule ") for error in errors):
        # A Rule weighs every parameter, and on an update those left out keep the deployed
        # values: the stack is read (and only read) before Rules are evaluated.
        expect_stack(stubber, None)
    path = write_parameters(tmp_path, **overrides)
    run = Run()

    code = run(client, DeployRequest(STACK, path, TEMPLATE, s3_bucket=BUCKET))

    assert (code, sorted(run.err), run.out) == (2, sorted(errors), [])
    stubber.assert_no_pending_responses()


def test_a_missing_parameters_file_is_refused_offline(cfn, tmp_path):
    client, _ = cfn
    missing = tmp_path / "nope.json"
    run = Run()

    assert run(client, DeployRequest(STACK, parameters_path=missing, template_path=TEMPLATE)) == 2

    assert run.err == [f"--parameters {missing}: no such file"]


def test_check_ranges_skips_absent_pairs_and_takes_new_pairs_as_table_entries(monkeypatch):
    assert check_ranges({"DatabaseMinCapacity": "4", "DatabaseMaxCapacity": "4"}) == []
    assert check_ranges({"DatabaseMinCapacity": "0.5", "DatabaseMaxCapacity": "1"}) == []
    assert check_ranges({"DatabaseMinCapacity": "8"}) == []
    assert check_ranges({"DatabaseMinCapacity": "2", "DatabaseMaxCapacity": "1"}) == [
        "DatabaseMinCapacity (2) is greater than DatabaseMaxCapacity (1): the minimum must not "
        "exceed the maximum"
    ]
    table = [pair for pair in checks_module.RANGE_PAIRS if pair != ("MinTasks", "MaxTasks")]
    monkeypatch.setattr(checks_module, "RANGE_PAIRS", (*table, ("MinTasks", "MaxTasks")))
    assert check_ranges({"MinTasks": "10", "MaxTasks": "9"}) == [
        "MinTasks (10) is greater than MaxTasks (9): the minimum must not exceed the maximum"
    ]


# --- where the template goes: TemplateURL (--s3-bucket) or TemplateBody -----------------------


SMALL = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"TopicName": {"Type": "String"}},
    "Resources": {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "TopicName"}}}
    },
}
"""A template far below the TemplateBody limit."""


def test_a_template_over_the_limit_without_s3_bucket_is_refused_offline_naming_the_flag(
    cfn, s3, tmp_path
):
    client, _ = cfn  # no response queued: any AWS call would fail the test
    path = write_parameters(tmp_path)
    run = Run(s3=s3)

    code = run(client, DeployRequest(STACK, parameters_path=path, template_path=TEMPLATE))

    size = len(expected_body().encode())
    assert size > 51_200
    assert (code, run.out) == (2, [])
    assert run.err == [
        f"{TEMPLATE}: it is {size} bytes even as compact JSON, over CloudFormation's "
        "51200-byte TemplateBody limit; pass --s3-bucket BUCKET to upload it to S3 and deploy it "
        "from its TemplateURL"
    ]
    assert uploaded_keys(s3) == []


def test_a_small_template_without_s3_bucket_is_sent_as_template_body(cfn, s3, tmp_path):
    client, stubber = cfn
    template = tmp_path / "small.json"
    template.write_text(json.dumps(SMALL, indent=2))
    parameters = {"TopicName": "mlflow-events"}
    path = tmp_path / "small-parameters.json"
    path.write_text(json.dumps(parameters))
    body = json.dumps(SMALL, separators=(",", ":"))
    name = change_set_name(body, parameters)
    expect_stack(stubber, "UPDATE_COMPLETE")
    expect_create(stubber, "UPDATE", name, {"TemplateBody": body}, parameters)
    stubber.add_response(
        "describe_change_set",
        {"ChangeSetName": name, "StackName": STACK, "Status": "FAILED", "StatusReason": NO_CHANGES},
        {"ChangeSetName": name, "StackName": STACK},
    )
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": name, "StackName": STACK})
    run = Run(s3=s3)

    assert run(client, DeployRequest(STACK, parameters_path=path, template_path=template)) == 0

    stubber.assert_no_pending_responses()
    assert run.out[0] == f"creating change set {name} (UPDATE of stack mlflow)"
    assert uploaded_keys(s3) == []


def test_the_upload_is_skipped_when_the_template_is_in_the_bucket_already(cfn, tmp_path):
    client, stubber = cfn
    s3 = boto3.client("s3", region_name="us-east-1")
    body = expected_body().encode()
    with Stubber(s3) as bucket:  # no put_object queued: an upload would fail the test
        bucket.add_response("head_bucket", {"BucketRegion": BUCKET_REGION}, {"Bucket": BUCKET})
        bucket.add_response(
            "head_object",
            {"ContentLength": len(body), "Metadata": {"sha256": hashlib.sha256(body).hexdigest()}},
            {"Bucket": BUCKET, "Key": KEY},
        )
        expect_stack(stubber, "UPDATE_COMPLETE")
        expect_create(stubber, "UPDATE")
        expect_change_set(stubber, "FAILED", StatusReason=NO_CHANGES)
        expect_delete(stubber)
        run = Run(s3=s3)

        assert run(client, request(tmp_path)) == 0

        bucket.assert_no_pending_responses()
    stubber.assert_no_pending_responses()
    assert run.out[0] == f"creating change set {expected_name()} (UPDATE of stack mlflow)"


def test_a_missing_bucket_is_one_line_exit_1_and_no_change_set_is_created(cfn, s3, tmp_path):
    client, stubber = cfn
    expect_stack(stubber, None)  # create_change_set is not queued: calling it would fail the test
    run = Run(s3=s3)

    assert run(client, request(tmp_path, s3_bucket="no-such-bucket")) == 1

    stubber.assert_no_pending_responses()
    assert run.err == [
        "cannot upload the template: bucket 'no-such-bucket' does not exist (HeadBucket)"
    ]
    assert run.out == []
    assert uploaded_keys(s3) == []


# --- asking -----------------------------------------------------------------------------------


def test_without_yes_and_without_a_terminal_the_change_set_is_left_and_exit_is_1(
    cfn, s3, tmp_path, monkeypatch
):
    client, stubber = cfn
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # input is there, but no terminal
    expect_stack(stubber, "UPDATE_COMPLETE")
    expect_create(stubber, "UPDATE")
    expect_change_set(
        stubber, "CREATE_COMPLETE", [change("Modify", "Service", "AWS::ECS::Service")]
    )
    errors: list[str] = []

    code = deploy(request(tmp_path), cfn=client, s3=s3, out=lambda line: None, err=errors.append)

    assert code == 1
    stubber.assert_no_pending_responses()  # neither deleted nor executed
    assert uploaded_keys(s3) == [KEY]
    name = expected_name()
    assert errors == [
        "stdin is not a terminal and neither --yes nor --no-execute-changeset was given: "
        "not executing",
        f"change set {name} is left for inspection: aws cloudformation describe-change-set "
        f"--stack-name mlflow --change-set-name {name}",
    ]


class Terminal(io.StringIO):
    """A stdin that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("typed", "answer"), [("y\n", True), ("Yes\n", True), ("\n", False), ("", False)]
)
def test_ask_reads_the_answer_on_a_terminal(monkeypatch, capsys, typed, answer):
    monkeypatch.setattr("sys.stdin", Terminal(typed))
    assert ask(QUESTION) is answer
    assert capsys.readouterr().out == "Execute this change set? [y/N] "


# --- AWS errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "code", "message", "line"),
    [
        (
            "describe_stacks",
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/x is not authorized\nto perform it",
            "AWS refused DescribeStacks: AccessDenied: User: arn:aws:iam::123456789012:user/x "
            "is not authorized to perform it",
        ),
        (
            "create_change_set",
            "Throttling",
            "Rate exceeded",
            "AWS refused CreateChangeSet: Throttling: Rate exceeded (still throttled after "
            "retrying; try again later)",
        ),
    ],
)
def test_aws_errors_end_with_a_one_line_cause_and_exit_1(
    cfn, s3, tmp_path, operation, code, message, line
):
    client, stubber = cfn
    if operation == "create_change_set":
        expect_stack(stubber, None)
    stubber.add_client_error(operation, service_error_code=code, service_message=message)
    run = Run(s3=s3)

    assert run(client, request(tmp_path)) == 1

    stubber.assert_no_pending_responses()
    uploaded = operation == "create_change_set"  # after the upload
    assert uploaded_keys(s3) == ([KEY] if uploaded else [])
    assert run.err == [line]


# --- the command line -------------------------------------------------------------------------


def parse(argv: list[str]) -> argparse.Namespace:
    root = argparse.ArgumentParser(prog="mlflow-cfn")
    add_deploy_parser(root.add_subparsers(dest="command", required=True))
    return root.parse_args(argv)


def test_the_parser_has_the_documented_flags_and_defaults():
    args = parse(["deploy", "--stack-name", "mlflow", "--parameters", "p.json"])
    assert (args.func, args.template, args.poll_seconds) == (
        run_deploy,
        None,  # the product template, built in memory
        5.0,
    )
    assert (args.allow_replacement, args.yes, args.region, args.s3_bucket) == (
        False,
        False,
        None,
        None,
    )
    assert (
        parse(["deploy", "--stack-name", "m", "--parameters", "p", "--s3-bucket", BUCKET]).s3_bucket
        == BUCKET
    )
    assert parse(["deploy", "--stack-name", "a" * 128, "--parameters", "p"]).stack_name == "a" * 128


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--stack-name", "1mlflow"],
            "argument --stack-name: '1mlflow' is not a valid stack name: it must start with a "
            "letter and contain only letters, digits and hyphens",
        ),
        (
            ["--stack-name", "ml_flow"],
            "argument --stack-name: 'ml_flow' is not a valid stack name",
        ),
        (
            ["--stack-name", "a" * 129],
            "argument --stack-name: stack name is 129 characters long; CloudFormation allows at "
            "most 128",
        ),
        (
            ["--stack-name", "ok", "--poll-seconds", "0"],
            "must be a positive number of seconds, got '0'",
        ),
        ([], "the following arguments are required: --stack-name"),
    ],
)
def test_bad_flags_are_refused_naming_the_flag(argv, message, capsys):
    with pytest.raises(SystemExit) as caught:
        parse(["deploy", *argv, *(["--parameters", "p.json"] if argv else [])])
    assert caught.value.code == 2
    assert message in capsys.readouterr().err


def test_run_deploy_builds_the_clients_from_the_flags_and_deploys(
    cfn, s3, tmp_path, monkeypatch, capsys
):
    client, stubber = cfn
    regions: list[str | None] = []
    s3_regions: list[str | None] = []
    monkeypatch.setattr(
        deploy_module,
        "cloudformation_client",
        lambda region, session: regions.append(region) or client,
    )
    monkeypatch.setattr(
        deploy_module, "s3_client", lambda region, session: s3_regions.append(region) or s3
    )
    expect_stack(stubber, "UPDATE_COMPLETE")
    expect_create(stubber, "UPDATE")
    expect_change_set(stubber, "FAILED", StatusReason=NO_CHANGES)
    expect_delete(stubber)
    args = parse(
        [
            "deploy",
            "--stack-name",
            STACK,
            "--parameters",
            str(write_parameters(tmp_path)),
            "--template",
            str(TEMPLATE),
            "--region",
            "eu-west-1",
            "--s3-bucket",
            BUCKET,
            "--yes",
        ]
    )

    assert args.func(args) == 0

    stubber.assert_no_pending_responses()
    assert regions == ["eu-west-1"]
    assert s3_regions == ["eu-west-1"]
    assert uploaded_keys(s3) == [KEY]
    assert (
        capsys.readouterr()
        .out.splitlines()[-1]
        .startswith("no changes: stack mlflow is up to date")
    )


def test_run_deploy_without_credentials_prints_one_line_and_exits_1(
    s3, tmp_path, monkeypatch, capsys
):
    def client_without_credentials(region: str | None, session=None):
        """A client that has no credentials (an empty provider chain) and an endpoint that
        nothing answers on: signing fails before anything is sent."""
        session = botocore.session.Session()
        session.register_component("credential_provider", CredentialResolver(providers=[]))
        return boto3.Session(botocore_session=session).client(
            "cloudformation", region_name=region, endpoint_url="http://127.0.0.1:9"
        )

    monkeypatch.setattr(deploy_module, "cloudformation_client", client_without_credentials)
    args = parse(
        [
            "deploy",
            "--stack-name",
            STACK,
            "--parameters",
            str(write_parameters(tmp_path)),
            "--template",
            str(TEMPLATE),
            "--region",
            "us-east-1",
            "--s3-bucket",
            BUCKET,
            "--yes",
        ]
    )

    assert run_deploy(args) == 1
    assert uploaded_keys(s3) == []  # DescribeStacks, before the upload, failed

    assert capsys.readouterr().err == (
        "mlflow-cfn deploy: no AWS credentials found: configure a profile (AWS_PROFILE), "
        "environment variables or "
        "an instance role, then run again\n"
    )


def test_run_deploy_without_a_region_prints_one_line_and_exits_2_before_anything(
    tmp_path, monkeypatch, capsys
):
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    args = parse(["deploy", "--stack-name", STACK, "--parameters", str(write_parameters(tmp_path))])

    assert run_deploy(args) == 2

    assert capsys.readouterr().err == (
        "mlflow-cfn deploy: no AWS region: pass --region, or set AWS_REGION or "
        "AWS_DEFAULT_REGION, or give the profile a region (aws configure set region REGION)\n"
    )


def test_the_region_comes_from_aws_region_first_as_the_aws_cli_reads_it(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    regions: list[str | None] = []

    def no_aws(region, session):
        regions.append(region)
        raise botocore.exceptions.NoRegionError()  # stop before any call

    monkeypatch.setattr(deploy_module, "cloudformation_client", no_aws)
    args = parse(["deploy", "--stack-name", STACK, "--parameters", str(write_parameters(tmp_path))])
    assert run_deploy(args) == 1
    assert regions == ["eu-central-1"]
    args = parse([*["deploy", "--stack-name", STACK], "--region", "ap-south-1",
                  "--parameters", str(write_parameters(tmp_path))])  # fmt: skip
    run_deploy(args)
    assert regions[-1] == "ap-south-1"


def test_the_client_retries_in_standard_mode_10_times():
    client = cloudformation_client("eu-central-1")
    assert client.meta.region_name == "eu-central-1"
    # botocore's retries={"max_attempts": 10} means 10 retries: 11 attempts in all
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 11}
