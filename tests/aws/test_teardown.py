"""The teardown of a run: what the templates retain has a handler, and each handler makes exactly
the AWS calls it should (botocore's Stubber checks them against the API models)."""

from __future__ import annotations

import datetime
import json

import pytest

from tests.aws.acceptance import teardown as td
from tests.aws.acceptance.ledger import Ledger, Leftover
from tests.aws.stubs import ACCOUNT, REGION, FakeClock, Stubs
from tests.conftest import TEMPLATES

pytestmark = pytest.mark.usefixtures("no_real_aws")

STACK_NAME = "mfa2612071530-web"
STACK_ARN = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK_NAME}/0a1b2c3d"
NOW = datetime.datetime(2026, 12, 7, 15, 30, tzinfo=datetime.UTC)


@pytest.fixture
def aws():
    stubs = Stubs()
    yield stubs
    stubs.done()


def retained_by_templates() -> dict[str, set[str]]:
    """Every type a committed template retains -> the templates that retain it."""
    found: dict[str, set[str]] = {}
    for path in sorted(TEMPLATES.glob("*.json")):
        for kind in td.retained(json.loads(path.read_text())).values():
            found.setdefault(kind, set()).add(path.name)
    return found


def test_every_type_a_template_retains_has_a_handler():
    found = retained_by_templates()
    assert found, "no template retains anything: the derivation reads nothing"
    missing = {kind: names for kind, names in found.items() if kind not in td.HANDLERS}
    assert missing == {}, f"retained without a teardown handler: {missing}"


def test_retained_reads_both_policies_and_ignores_delete():
    template = {
        "Resources": {
            "Table": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain"},
            "Cluster": {"Type": "AWS::RDS::DBCluster", "DeletionPolicy": "Snapshot"},
            "Replaced": {"Type": "AWS::EFS::FileSystem", "UpdateReplacePolicy": "Retain"},
            "Kept": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "RetainExceptOnCreate"},
            "Gone": {"Type": "AWS::SNS::Topic", "DeletionPolicy": "Delete"},
            "Plain": {"Type": "AWS::SNS::Topic"},
        }
    }
    assert td.retained(template) == {
        "Table": "AWS::DynamoDB::Table",
        "Cluster": "AWS::RDS::DBCluster",
        "Replaced": "AWS::EFS::FileSystem",
        "Kept": "AWS::SQS::Queue",
    }


def test_the_product_templates_retain_what_the_readme_says():
    retained = td.retained(json.loads((TEMPLATES / "mlflow.json").read_text()))
    assert set(retained) == {
        "ArtifactBucket",
        "ArtifactKey",
        "CognitoUserPool",
        "DatabaseCluster",
        "DatabaseKey",
        "LogBucket",
        "LogGroup",
        "LogsKey",
        "WakeFunctionLogGroup",  # with IdleShutdownMinutes
    }


def test_every_handled_kind_has_its_place_in_the_order_and_keys_come_last():
    assert set(td.KIND_ORDER) == set(td.HANDLERS)
    assert len(td.KIND_ORDER) == len(set(td.KIND_ORDER))
    assert td.KIND_ORDER[-1] == "AWS::KMS::Key"
    assert td.KIND_ORDER.index(td.STACK) < td.KIND_ORDER.index("AWS::S3::Bucket")
    assert td.KIND_ORDER.index(td.PROVISIONED_PRODUCT) < td.KIND_ORDER.index(td.STACK)


# --- what stacks keep ----------------------------------------------------------------------------


def test_a_bucket_is_emptied_of_every_version_then_deleted(aws):
    page = {
        "Versions": [{"Key": "a.bin", "VersionId": "v1"}, {"Key": "a.bin", "VersionId": "v2"}],
        "DeleteMarkers": [{"Key": "b.bin", "VersionId": "v3"}],
    }
    aws.expect("s3", "list_object_versions", {"Bucket": "bkt"}, page)
    objects = [
        {"Key": "a.bin", "VersionId": "v1"},
        {"Key": "a.bin", "VersionId": "v2"},
        {"Key": "b.bin", "VersionId": "v3"},
    ]
    aws.expect(
        "s3", "delete_objects", {"Bucket": "bkt", "Delete": {"Objects": objects, "Quiet": True}}
    )
    aws.fail("s3", "delete_bucket", "BucketNotEmpty", 409, {"Bucket": "bkt"})  # a late log
    aws.expect(
        "s3",
        "list_object_versions",
        {"Bucket": "bkt"},
        {"Versions": [{"Key": "log", "VersionId": "v4"}]},
    )
    aws.expect(
        "s3",
        "delete_objects",
        {
            "Bucket": "bkt",
            "Delete": {"Objects": [{"Key": "log", "VersionId": "v4"}], "Quiet": True},
        },
    )
    aws.expect("s3", "delete_bucket", {"Bucket": "bkt"})
    time = FakeClock()
    assert td.empty_and_delete_bucket(aws, "bkt", time.clock) == []
    assert time.slept == [30]


def test_a_bucket_that_is_gone_is_done(aws):
    aws.fail("s3", "list_object_versions", "NoSuchBucket", 404, {"Bucket": "bkt"})
    td.empty_and_delete_bucket(aws, "bkt", FakeClock().clock)


def test_a_key_is_scheduled_for_deletion_with_the_shortest_window(aws):
    aws.expect(
        "kms",
        "describe_key",
        {"KeyId": "k-1"},
        {"KeyMetadata": {"KeyId": "k-1", "KeyState": "Enabled"}},
    )
    aws.expect("kms", "schedule_key_deletion", {"KeyId": "k-1", "PendingWindowInDays": 7})
    aws.expect(
        "kms",
        "describe_key",
        {"KeyId": "k-2"},
        {"KeyMetadata": {"KeyId": "k-2", "KeyState": "PendingDeletion"}},
    )
    aws.fail("kms", "describe_key", "NotFoundException", params={"KeyId": "k-3"})
    for key in ("k-1", "k-2", "k-3"):
        td.schedule_key_deletion(aws, key)


def test_log_groups_of_the_stack_and_of_its_services(aws):
    aws.expect("logs", "delete_log_group", {"logGroupName": "mfa-web-LogGroup-X"})
    aws.fail(
        "logs", "delete_log_group", "ResourceNotFoundException", params={"logGroupName": "gone"}
    )
    prefix = "/aws/rds/cluster/mfa-web-databasecluster-x/"
    aws.expect(
        "logs",
        "describe_log_groups",
        {"logGroupNamePrefix": prefix},
        {"logGroups": [{"logGroupName": prefix + "postgresql"}]},
    )
    aws.expect("logs", "delete_log_group", {"logGroupName": prefix + "postgresql"})
    td.delete_log_group(aws, "mfa-web-LogGroup-X")
    td.delete_log_group(aws, "gone")
    td.delete_log_groups_with_prefix(aws, prefix)


def test_a_user_pool_loses_its_domain_and_protection_then_goes(aws):
    pool = {"Id": "eu-west-1_AbC", "Domain": "mfa-idp-login"}
    aws.expect(
        "cognito-idp", "describe_user_pool", {"UserPoolId": "eu-west-1_AbC"}, {"UserPool": pool}
    )
    aws.expect(
        "cognito-idp",
        "delete_user_pool_domain",
        {"Domain": "mfa-idp-login", "UserPoolId": "eu-west-1_AbC"},
    )
    aws.expect(
        "cognito-idp",
        "update_user_pool",
        {"UserPoolId": "eu-west-1_AbC", "DeletionProtection": "INACTIVE"},
    )
    aws.expect("cognito-idp", "delete_user_pool", {"UserPoolId": "eu-west-1_AbC"})
    td.delete_user_pool(aws, "eu-west-1_AbC")


def test_the_final_snapshot_is_deleted_once_available(aws):
    query = {"DBClusterIdentifier": "mfa-web-db", "SnapshotType": "manual"}
    snapshot = {
        "DBClusterSnapshotIdentifier": "mfa-web-databasecluster-snapshot",
        "Status": "creating",
    }
    aws.expect("rds", "describe_db_cluster_snapshots", query, {"DBClusterSnapshots": [snapshot]})
    available = {**snapshot, "Status": "available"}
    aws.expect("rds", "describe_db_cluster_snapshots", query, {"DBClusterSnapshots": [available]})
    aws.expect(
        "rds",
        "delete_db_cluster_snapshot",
        {"DBClusterSnapshotIdentifier": "mfa-web-databasecluster-snapshot"},
    )
    time = FakeClock()
    td.delete_cluster_snapshots(aws, "mfa-web-db", time.clock)
    assert time.slept == [30]


# --- stacks --------------------------------------------------------------------------------------

TEMPLATE = {
    "Resources": {
        "LogGroup": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain"},
        "DatabaseCluster": {"Type": "AWS::RDS::DBCluster", "DeletionPolicy": "Snapshot"},
        "EcsCluster": {"Type": "AWS::ECS::Cluster"},
        "LogsKey": {"Type": "AWS::KMS::Key", "DeletionPolicy": "Retain"},
        "Topic": {"Type": "AWS::SNS::Topic"},
    }
}


def resource(logical_id: str, kind: str, physical: str, status: str = "CREATE_COMPLETE") -> dict:
    return {
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical,
        "ResourceType": kind,
        "LastUpdatedTimestamp": NOW,
        "ResourceStatus": status,
    }


def stack(status: str) -> dict:
    return {"Stacks": [{"StackName": STACK_NAME, "CreationTime": NOW, "StackStatus": status}]}


def expect_leftovers(aws: Stubs, name: str = STACK_NAME) -> None:
    aws.expect(
        "cloudformation",
        "get_template",
        {"StackName": name, "TemplateStage": "Original"},
        {"TemplateBody": json.dumps(TEMPLATE)},
    )
    resources = [
        resource("LogGroup", "AWS::Logs::LogGroup", "mfa-web-LogGroup-X"),
        resource("DatabaseCluster", "AWS::RDS::DBCluster", "mfa-web-db"),
        resource("EcsCluster", "AWS::ECS::Cluster", "mfa-web-EcsCluster-Y"),
        resource("LogsKey", "AWS::KMS::Key", "k-logs", "UPDATE_COMPLETE"),
        resource("Topic", "AWS::SNS::Topic", "arn:aws:sns:eu-west-1:123456789012:t"),
    ]
    aws.expect(
        "cloudformation",
        "list_stack_resources",
        {"StackName": name},
        {"StackResourceSummaries": resources},
    )


EXPECTED_LEFTOVERS = [
    Leftover("AWS::Logs::LogGroup", "mfa-web-LogGroup-X", f"stack {STACK_NAME} LogGroup"),
    Leftover("AWS::RDS::DBCluster", "mfa-web-db", f"stack {STACK_NAME} DatabaseCluster"),
    Leftover(
        td.SERVICE_LOG_GROUPS, "/aws/rds/cluster/mfa-web-db/", f"stack {STACK_NAME} DatabaseCluster"
    ),
    Leftover(
        td.SERVICE_LOG_GROUPS,
        "/aws/ecs/containerinsights/mfa-web-EcsCluster-Y/",
        f"stack {STACK_NAME} EcsCluster",
    ),
    Leftover("AWS::KMS::Key", "k-logs", f"stack {STACK_NAME} LogsKey"),
]


def test_a_stack_is_deleted_after_what_it_keeps_is_read_from_its_template(aws):
    aws.expect(
        "cloudformation", "describe_stacks", {"StackName": STACK_NAME}, stack("UPDATE_COMPLETE")
    )
    expect_leftovers(aws)
    aws.expect("cloudformation", "delete_stack", {"StackName": STACK_NAME})
    aws.expect(
        "cloudformation", "describe_stacks", {"StackName": STACK_NAME}, stack("DELETE_IN_PROGRESS")
    )
    aws.fail(
        "cloudformation",
        "describe_stacks",
        "ValidationError",
        params={"StackName": STACK_NAME},
    )
    # A ValidationError is "does not exist" only when it says so: the stub's message does not.
    time = FakeClock()
    with pytest.raises(Exception, match="ValidationError"):
        td.delete_stack(aws, STACK_NAME, time.clock)


def gone(aws: Stubs, name: str = STACK_NAME) -> None:
    """describe_stacks says the stack does not exist (as it does once deleted by name)."""
    aws("cloudformation")
    aws.stubbers["cloudformation"].add_client_error(
        "describe_stacks",
        "ValidationError",
        f"Stack with id {name} does not exist",
        expected_params={"StackName": name},
    )


def test_a_stack_deletion_registers_every_retained_resource(aws):
    aws.expect(
        "cloudformation", "describe_stacks", {"StackName": STACK_NAME}, stack("CREATE_COMPLETE")
    )
    expect_leftovers(aws)
    aws.expect("cloudformation", "delete_stack", {"StackName": STACK_NAME})
    aws.expect(
        "cloudformation", "describe_stacks", {"StackName": STACK_NAME}, stack("DELETE_IN_PROGRESS")
    )
    gone(aws)
    time = FakeClock()
    assert td.delete_stack(aws, STACK_NAME, time.clock) == EXPECTED_LEFTOVERS
    assert time.slept == [20]


def test_a_stack_that_is_gone_is_done(aws):
    gone(aws)
    assert td.delete_stack(aws, STACK_NAME, FakeClock().clock) == []


def test_a_failed_deletion_is_retried_with_deletion_protection_off(aws):
    aws.expect(
        "cloudformation", "describe_stacks", {"StackName": STACK_NAME}, stack("CREATE_COMPLETE")
    )
    expect_leftovers(aws)
    aws.expect("cloudformation", "delete_stack", {"StackName": STACK_NAME})
    aws.expect(
        "cloudformation", "describe_stacks", {"StackName": STACK_NAME}, stack("DELETE_FAILED")
    )
    failed = {
        "StackId": STACK_ARN,
        "EventId": "e1",
        "StackName": STACK_NAME,
        "LogicalResourceId": "DatabaseCluster",
        "ResourceStatus": "DELETE_FAILED",
        "ResourceStatusReason": "Cannot delete protected Cluster",
        "Timestamp": NOW,
    }
    aws.expect(
        "cloudformation",
        "describe_stack_events",
        {"StackName": STACK_NAME},
        {"StackEvents": [failed]},
    )
    aws.expect(
        "cloudformation", "describe_stacks", {"StackName": STACK_NAME}, stack("DELETE_FAILED")
    )
    expect_leftovers(aws)
    balancer = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/x/1"
    aws.expect(
        "cloudformation",
        "list_stack_resources",
        {"StackName": STACK_NAME},
        {
            "StackResourceSummaries": [
                resource("DatabaseCluster", "AWS::RDS::DBCluster", "mfa-web-db"),
                resource("LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer", balancer),
                resource("Topic", "AWS::SNS::Topic", "t", "DELETE_COMPLETE"),
            ]
        },
    )
    aws.expect(
        "rds",
        "modify_db_cluster",
        {
            "DBClusterIdentifier": "mfa-web-db",
            "DeletionProtection": False,
            "ApplyImmediately": True,
        },
    )
    aws.expect(
        "elbv2",
        "modify_load_balancer_attributes",
        {
            "LoadBalancerArn": balancer,
            "Attributes": [{"Key": "deletion_protection.enabled", "Value": "false"}],
        },
    )
    aws.expect("cloudformation", "delete_stack", {"StackName": STACK_NAME})
    gone(aws)
    leftovers = td.delete_stack(aws, STACK_NAME, FakeClock().clock)
    assert leftovers == EXPECTED_LEFTOVERS * 2  # the ledger keeps each once


# --- Service Catalog -----------------------------------------------------------------------------

PP_ID = "pp-abcdefghijklm"
SC_STACK = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/SC-{ACCOUNT}-{PP_ID}/1"


def record(record_id: str, status: str, **extra) -> dict:
    return {"RecordDetail": {"RecordId": record_id, "Status": status, **extra}}


def expect_provisioned_stack(aws: Stubs) -> None:
    aws.expect(
        "servicecatalog",
        "describe_provisioned_product",
        {"Id": PP_ID},
        {"ProvisionedProductDetail": {"Id": PP_ID, "LastProvisioningRecordId": "rec-launch"}},
    )
    aws.expect(
        "servicecatalog",
        "describe_record",
        {"Id": "rec-launch"},
        {
            **record("rec-launch", "SUCCEEDED"),
            "RecordOutputs": [{"OutputKey": "CloudformationStackARN", "OutputValue": SC_STACK}],
        },
    )


def test_a_provisioned_product_is_terminated_after_its_stacks_leftovers_are_read(aws):
    expect_provisioned_stack(aws)
    aws.expect(
        "cloudformation", "describe_stacks", {"StackName": SC_STACK}, stack("UPDATE_COMPLETE")
    )
    expect_leftovers(aws, SC_STACK)
    aws.expect(
        "servicecatalog",
        "terminate_provisioned_product",
        {"ProvisionedProductId": PP_ID, "TerminateToken": f"teardown-{PP_ID}"},
        record("rec-end", "CREATED"),
    )
    aws.expect(
        "servicecatalog", "describe_record", {"Id": "rec-end"}, record("rec-end", "IN_PROGRESS")
    )
    aws.expect(
        "servicecatalog", "describe_record", {"Id": "rec-end"}, record("rec-end", "SUCCEEDED")
    )
    found = td.terminate_provisioned_product(aws, PP_ID, FakeClock().clock)
    assert [leftover.name for leftover in found] == [e.name for e in EXPECTED_LEFTOVERS]


def test_a_termination_the_launch_role_cannot_do_deletes_the_stack_directly(aws):
    expect_provisioned_stack(aws)
    gone(aws, SC_STACK)  # (its leftovers were read when it was launched)
    aws.expect(
        "servicecatalog",
        "terminate_provisioned_product",
        {"ProvisionedProductId": PP_ID, "TerminateToken": f"teardown-{PP_ID}"},
        record("rec-end", "CREATED"),
    )
    errors = [{"Code": "AccessDenied", "Description": "ecs:DeleteService"}]
    aws.expect(
        "servicecatalog",
        "describe_record",
        {"Id": "rec-end"},
        record("rec-end", "FAILED", RecordErrors=errors),
    )
    gone(aws, SC_STACK)  # delete_stack: nothing left to delete
    aws.expect(
        "servicecatalog",
        "terminate_provisioned_product",
        {
            "ProvisionedProductId": PP_ID,
            "TerminateToken": f"teardown-ignore-errors-{PP_ID}",
            "IgnoreErrors": True,
        },
        record("rec-force", "CREATED"),
    )
    aws.expect(
        "servicecatalog", "describe_record", {"Id": "rec-force"}, record("rec-force", "SUCCEEDED")
    )
    td.terminate_provisioned_product(aws, PP_ID, FakeClock().clock)


def test_a_published_portfolio_is_emptied_then_deleted(aws):
    aws.expect(
        "servicecatalog",
        "list_portfolios",
        {},
        {
            "PortfolioDetails": [
                {"Id": "port-1", "DisplayName": "mfa published"},
                {"Id": "port-2", "DisplayName": "someone else's"},
            ]
        },
    )
    aws.expect(
        "servicecatalog",
        "list_constraints_for_portfolio",
        {"PortfolioId": "port-1"},
        {"ConstraintDetails": [{"ConstraintId": "cons-1"}, {"ConstraintId": "cons-2"}]},
    )
    aws.expect("servicecatalog", "delete_constraint", {"Id": "cons-1"})
    aws.expect("servicecatalog", "delete_constraint", {"Id": "cons-2"})
    user = f"arn:aws:iam::{ACCOUNT}:role/mfa-end-user"
    aws.expect(
        "servicecatalog",
        "list_principals_for_portfolio",
        {"PortfolioId": "port-1"},
        {"Principals": [{"PrincipalARN": user, "PrincipalType": "IAM"}]},
    )
    aws.expect(
        "servicecatalog",
        "disassociate_principal_from_portfolio",
        {"PortfolioId": "port-1", "PrincipalARN": user, "PrincipalType": "IAM"},
    )
    aws.expect(
        "servicecatalog",
        "search_products_as_admin",
        {"PortfolioId": "port-1"},
        {"ProductViewDetails": [{"ProductViewSummary": {"ProductId": "prod-1"}}]},
    )
    aws.expect(
        "servicecatalog",
        "disassociate_product_from_portfolio",
        {"ProductId": "prod-1", "PortfolioId": "port-1"},
    )
    aws.expect("servicecatalog", "delete_product", {"Id": "prod-1"})
    aws.expect("servicecatalog", "delete_portfolio", {"Id": "port-1"})
    td.delete_published_portfolio(aws, "mfa published")


# --- the suite's own -----------------------------------------------------------------------------


def test_a_role_loses_its_policies_then_goes(aws):
    name = "mfa-end-user"
    policy = "arn:aws:iam::aws:policy/AWSServiceCatalogEndUserFullAccess"
    aws.expect(
        "iam",
        "list_attached_role_policies",
        {"RoleName": name},
        {"AttachedPolicies": [{"PolicyName": "x", "PolicyArn": policy}]},
    )
    aws.expect("iam", "list_role_policies", {"RoleName": name}, {"PolicyNames": ["inline"]})
    aws.expect("iam", "detach_role_policy", {"RoleName": name, "PolicyArn": policy})
    aws.expect("iam", "delete_role_policy", {"RoleName": name, "PolicyName": "inline"})
    aws.expect("iam", "delete_role", {"RoleName": name})
    aws.fail("iam", "list_attached_role_policies", "NoSuchEntity", 404, {"RoleName": "gone"})
    td.delete_role(aws, name)
    td.delete_role(aws, "gone")


def test_a_policy_loses_its_old_versions_then_goes(aws):
    arn = f"arn:aws:iam::{ACCOUNT}:policy/mfa-deploy-1"
    versions = [
        {"VersionId": "v2", "IsDefaultVersion": True},
        {"VersionId": "v1", "IsDefaultVersion": False},
    ]
    aws.expect("iam", "list_policy_versions", {"PolicyArn": arn}, {"Versions": versions})
    aws.expect("iam", "delete_policy_version", {"PolicyArn": arn, "VersionId": "v1"})
    aws.expect("iam", "delete_policy", {"PolicyArn": arn})
    td.delete_policy(aws, arn)


def test_the_queue_goes(aws):
    url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/mfa-alarms"
    aws.expect("sqs", "delete_queue", {"QueueUrl": url})
    aws.fail(
        "sqs", "delete_queue", "AWS.SimpleQueueService.NonExistentQueue", params={"QueueUrl": url}
    )
    td.delete_queue(aws, url)
    td.delete_queue(aws, url)


def test_task_definitions_are_deregistered_then_deleted_ten_at_a_time(aws):
    family = "mfa2612071530-probe"
    arns = [f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{n}" for n in range(1, 13)]
    aws.expect(
        "ecs",
        "list_task_definitions",
        {"familyPrefix": family, "status": "ACTIVE"},
        {"taskDefinitionArns": arns[-1:]},
    )
    aws.expect("ecs", "deregister_task_definition", {"taskDefinition": arns[-1]})
    aws.expect(
        "ecs",
        "list_task_definitions",
        {"familyPrefix": family, "status": "INACTIVE"},
        {"taskDefinitionArns": arns},
    )
    aws.expect("ecs", "delete_task_definitions", {"taskDefinitions": arns[:10]})
    aws.expect("ecs", "delete_task_definitions", {"taskDefinitions": arns[10:]})
    td.delete_task_definitions(aws, family)


# --- the order -----------------------------------------------------------------------------------


def test_teardown_goes_by_kind_waves_and_goes_on_after_a_failure(monkeypatch, tmp_path):
    done: list[str] = []

    def handler(kind: str, fails: str = ""):
        def handle(aws, name, clock):
            if name == fails:
                raise RuntimeError("refused")
            done.append(f"{kind} {name}")
            if kind == td.STACK and name == "web":
                return [Leftover("AWS::KMS::Key", "k-web"), Leftover("AWS::S3::Bucket", "b-web")]
            return []

        return handle

    for kind in td.KIND_ORDER:
        monkeypatch.setitem(td.HANDLERS, kind, handler(kind, fails="broken"))
    monkeypatch.setattr(td, "delete_stack", td.HANDLERS[td.STACK])
    ledger = Ledger(tmp_path / "state.json", REGION, "mfa")
    ledger.add(
        Leftover("AWS::KMS::Key", "k-run"),
        Leftover(td.STACK, "net", wave=1),
        Leftover(td.STACK, "web"),
        Leftover(td.IAM_ROLE, "broken"),
        Leftover(td.IAM_ROLE, "end-user"),
        Leftover(td.PROVISIONED_PRODUCT, "pp-1"),
        Leftover("something-new", "x"),
    )
    failures = td.teardown(
        lambda service: None, ledger, log=lambda line: None, clock=FakeClock().clock
    )
    assert done == [
        "provisioned-product pp-1",
        "stack web",
        "stack net",
        "iam-role end-user",
        "AWS::S3::Bucket b-web",
        "AWS::KMS::Key k-run",
        "AWS::KMS::Key k-web",
    ]
    assert failures == ["iam-role broken: refused", "no handler for something-new: left as is"]
    reloaded = Ledger.load(tmp_path / "state.json")
    assert [(e.kind, e.name) for e in reloaded.pending()] == [
        ("iam-role", "broken"),
        ("something-new", "x"),
    ]


def test_a_run_left_behind_is_torn_down_from_its_state_file(tmp_path, capsys):
    ledger = Ledger(tmp_path / "state.json", REGION, "mfa2612071530")
    ledger.add(Leftover("AWS::Logs::LogGroup", "kept"), Leftover("something-new", "x"))
    ledger.done(Leftover("AWS::Logs::LogGroup", "kept"))
    assert td.main([str(tmp_path / "state.json")]) == 1  # nothing to call AWS for; one unknown
    captured = capsys.readouterr()
    assert "left: no handler for something-new" in captured.err
    assert json.loads(captured.out) == {"run": "mfa2612071530", "pending": 1}
