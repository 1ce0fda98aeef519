"""The launch role reaches only this product's own resources, not those of every Service Catalog
stack of the account (issue 23, item 7): a coming restore-from-snapshot Parameter, or any value a
launcher steers, must not turn the launch role against another product.

Each vector is a request on a resource of *another* Service Catalog product in the same account, as
AWS presents it (tests/publish/stack_resources.py: the name CloudFormation generates from that
product's stack and logical id, CloudFormation's system tags where the type's provider schema says
it puts them, a role's permissions boundary), beside the same request on this product's resource,
which must stay allowed. IAM cannot tell this product's provisioned products apart (one launch role
serves them all, with the same logical ids): those stay reachable, and so does a resource another
product gives the same logical id in a Service Catalog stack.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import TEMPLATES
from tests.publish.iam import allowed
from tests.publish.stack_resources import (
    StackResource,
    describe,
    generated_name,
    stack_resources,
)
from tests.publish.test_launch_role_lifecycle import changes
from tests.publish.test_launcher_vectors import (
    ACCOUNT,
    ADMIN_ALLOWS,
    BOUNDARY_ARN,
    REGION,
    STACK,
    evaluated_portfolio,
    launch_role,
    product,
)

#: Another Service Catalog product's stack in the same account.
OTHER_STACK = f"SC-{ACCOUNT}-pp-zyxwvutsrqpon"
#: That product's resources: the same types as this product's, under its own logical ids.
OTHER_PRODUCT = {
    "Resources": {
        "ProdDatabase": {"Type": "AWS::RDS::DBCluster"},
        "ProdDatabaseInstance": {"Type": "AWS::RDS::DBInstance"},
        "ProdDatabaseSubnets": {"Type": "AWS::RDS::DBSubnetGroup"},
        "ProdDatabaseParameters": {"Type": "AWS::RDS::DBClusterParameterGroup"},
        "PublicLoadBalancer": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer"},
        "ApiTargets": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup"},
        "ApiSecurityGroup": {"Type": "AWS::EC2::SecurityGroup"},
        "Compute": {"Type": "AWS::ECS::Cluster"},
        "Users": {"Type": "AWS::Cognito::UserPool"},
        "AdminRole": {"Type": "AWS::IAM::Role"},
        "BillingAlarm": {"Type": "AWS::CloudWatch::Alarm"},
    }
}
#: The managed policy this product's role attaches (what iam:PolicyARN of its requests is).
MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
#: Actions that only read (AWS API naming: Describe, List and Get operations change nothing).
READS = ("Describe", "List", "Get")
#: Tagging actions of types whose names carry no logical id: they stay on every resource of the
#: type, because creating a resource with tags authorizes them on the resource being created,
#: which carries no tag yet (a condition on the stack's tags would refuse every create). The
#: system tags the conditions read cannot be changed (keys beginning ``aws:`` are reserved).
UNSCOPED_TAGGING = {
    "cognito-idp:TagResource", "cognito-idp:UntagResource", "ec2:CreateTags", "ec2:DeleteTags",
    "ecs:TagResource", "ecs:UntagResource", "elasticloadbalancing:AddTags",
    "elasticloadbalancing:RemoveTags",
}  # fmt: skip
HERE = f"{REGION}:{ACCOUNT}"


@pytest.fixture(scope="module")
def role() -> list[dict]:
    """This product's launch role, as the portfolio stack resolves it."""
    return launch_role(evaluated_portfolio(ADMIN_ALLOWS))


def presented(template: dict, stack: str) -> list[StackResource]:
    """``template``'s resources as a stack named ``stack`` creates them, its roles with the
    portfolio's boundary (the worst case: a product of the same portfolio)."""
    return stack_resources(template, stack, region=REGION, account=ACCOUNT, boundary=BOUNDARY_ARN)


def ours(resource_type: str) -> StackResource:
    """This product's resource of ``resource_type`` (the role that attaches a managed policy)."""
    found = [r for r in presented(product(), STACK) if r.resource_type == resource_type]
    return next((r for r in found if r.logical_id == "DatabaseMonitoringRole"), found[0])


def theirs(resource_type: str) -> StackResource:
    """The other product's resource of ``resource_type``."""
    (found,) = [
        r for r in presented(OTHER_PRODUCT, OTHER_STACK) if r.resource_type == resource_type
    ]
    return found


def request(action: str) -> dict[str, Any]:
    """The keys the request carries besides the resource's own (iam:PolicyARN of attaching)."""
    attaching = action.lower() in ("iam:attachrolepolicy", "iam:detachrolepolicy")
    return {"iam:PolicyARN": MONITORING_POLICY} if attaching else {}


def may(statements: list[dict], action: str, resource: StackResource) -> bool:
    return allowed(statements, action, resource.arn, {**resource.context, **request(action)})


CHANGES = [
    (kind["Type"], action)
    for kind in OTHER_PRODUCT["Resources"].values()
    for action in changes(kind["Type"])
    if not action.split(":")[1].startswith(READS) and action not in UNSCOPED_TAGGING
]


def test_the_vectors_cover_what_the_issue_names():
    actions = {action for _, action in CHANGES}
    assert {"rds:DeleteDBCluster", "rds:ModifyDBCluster", "rds:DeleteDBInstance",
            "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:DeleteTargetGroup",
            "iam:UpdateAssumeRolePolicy", "iam:DeleteRole", "iam:TagRole",
            "cloudwatch:DeleteAlarms"} <= actions  # fmt: skip


@pytest.mark.parametrize(("resource_type", "action"), CHANGES, ids=[a for _, a in CHANGES])
def test_no_change_reaches_another_service_catalog_products_resource(role, resource_type, action):
    # Before: every Service Catalog stack's (the stack-name tag like SC-*, role/SC-*, alarm:*).
    assert may(role, action, ours(resource_type)), describe(ours(resource_type))
    assert not may(role, action, theirs(resource_type)), describe(theirs(resource_type))


ROLE_ACTIONS = [
    "iam:UpdateAssumeRolePolicy", "iam:DeleteRole", "iam:TagRole", "iam:UntagRole",
    "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
]  # fmt: skip


@pytest.mark.parametrize("action", ROLE_ACTIONS)
def test_roles_are_the_products_own_not_the_portfolios_other_products(role, action):
    # The network product's roles carry the same boundary, so iam:PermissionsBoundary alone does
    # not keep them apart; the names CloudFormation generates for this product's roles do.
    network = json.loads((TEMPLATES / "network.json").read_text())
    (flow_logs,) = [r for r in presented(network, STACK) if r.logical_id == "FlowLogRole"]
    assert may(role, action, ours("AWS::IAM::Role"))
    assert not may(role, action, flow_logs), describe(flow_logs)
    assert not may(role, action, theirs("AWS::IAM::Role"))


def test_roles_are_passed_only_if_the_products_own(role):
    to_tasks = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    task_role = next(r for r in presented(product(), STACK) if r.logical_id == "TaskRole")
    assert allowed(role, "iam:PassRole", task_role.arn, to_tasks)
    admin = theirs("AWS::IAM::Role")
    assert not allowed(role, "iam:PassRole", admin.arn, to_tasks), describe(admin)
    # Still only to the services the product's roles trust (Lambda is one: the wake function).
    to_ec2 = {"iam:PassedToService": "ec2.amazonaws.com"}
    assert not allowed(role, "iam:PassRole", task_role.arn, to_ec2)


def final_snapshot(stack: str, logical_id: str) -> str:
    """The final snapshot the RDS provider takes of a deleted cluster (its DeleteHandler:
    IdentifierFactory with the logical id prefixed ``Snapshot-``, 255 characters, lower-cased)."""
    name = generated_name(stack, f"Snapshot-{logical_id}", 255).lower()
    return f"arn:aws:rds:{HERE}:cluster-snapshot:{name}"


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("rds:ModifyDBCluster", f"arn:aws:rds:{HERE}:cluster:prod-db"),
        ("rds:ModifyDBInstance", f"arn:aws:rds:{HERE}:db:prod-db-1"),
        ("rds:RestoreDBClusterFromSnapshot", f"arn:aws:rds:{HERE}:cluster-snapshot:prod-nightly"),
        ("rds:RestoreDBClusterFromSnapshot", final_snapshot(OTHER_STACK, "ProdDatabase")),
        ("rds:RestoreDBClusterToPointInTime", f"arn:aws:rds:{HERE}:cluster:prod-db"),
        ("rds:RestoreDBInstanceFromDBSnapshot", f"arn:aws:rds:{HERE}:snapshot:prod-nightly"),
        ("rds:CreateDBInstanceReadReplica", f"arn:aws:rds:{HERE}:db:prod-db-1"),
        ("rds:CreateDBClusterSnapshot", f"arn:aws:rds:{HERE}:cluster:prod-db"),
        ("rds:AddRoleToDBCluster", f"arn:aws:rds:{HERE}:cluster:prod-db"),
        ("rds:EnableHttpEndpoint", f"arn:aws:rds:{HERE}:cluster:prod-db"),
    ],
)  # fmt: skip
def test_no_database_outside_the_product_is_modified_or_restored_from(role, action, resource):
    # Before: rds:* of the account. A restore reads its source (a snapshot, a cluster's point in
    # time): it must be the product's own.
    assert not allowed(role, action, resource)


def test_the_product_restores_and_modifies_its_own_database(role):
    cluster = ours("AWS::RDS::DBCluster")
    for action in ("rds:ModifyDBCluster", "rds:RestoreDBClusterFromSnapshot"):
        assert allowed(role, action, cluster.arn)
    own = final_snapshot(STACK, "DatabaseCluster")
    assert allowed(role, "rds:RestoreDBClusterFromSnapshot", own)
    # Deleting the cluster takes that snapshot (new, so untagged); no other name.
    assert allowed(role, "rds:DeleteDBCluster", own)
    assert not allowed(role, "rds:DeleteDBCluster", f"arn:aws:rds:{HERE}:cluster-snapshot:x")


ALARMS = f"arn:aws:cloudwatch:{HERE}:alarm:"


@pytest.mark.parametrize("action", ["cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm"])
def test_alarms_are_the_products_own(role, action):
    assert may(role, action, ours("AWS::CloudWatch::Alarm"))
    # Application Auto Scaling checks the caller's permission with a request naming no alarm
    # (its User Guide, "Permissions validation for API calls on target resources"), which IAM
    # sees as the alarm ARN with an empty name (aws-samples/amazon-cloudwatch-auto-alarms#18).
    assert allowed(role, action, ALARMS)
    for other in (
        "prod-api-5xx",
        # Target tracking alarms: Application Auto Scaling's, changed with its service-linked
        # role (AWSServiceRoleForApplicationAutoScaling_ECSService), never the launch role's;
        # named as botocore's PutScalingPolicy example shows.
        "TargetTracking-service/prod/api-AlarmHigh-d4f0770c-b46e-434a-a60f-3b36d653feca",
    ):
        assert not allowed(role, action, ALARMS + other), other
    assert not may(role, action, theirs("AWS::CloudWatch::Alarm"))
    assert allowed(role, "cloudwatch:DescribeAlarms", ALARMS + "*")  # reads stay account-wide


POOLS = f"arn:aws:cognito-idp:{HERE}:userpool/"


def test_a_launchers_own_user_pool_is_only_read(role):
    # AuthMode=cognito with CognitoUserPoolArn: the listener's authenticate-cognito action names
    # the launcher's pool and client, and the listener handlers read the client
    # (cognito-idp:DescribeUserPoolClient) with the launch role: that read must stay, on any pool
    # of the account (no allow-list names pools; the client's secret goes to the load balancer,
    # never to the launcher). CloudFormation did not create that pool, so it has no system tag.
    launchers = f"{POOLS}{REGION}_LauncherPool"
    assert allowed(role, "cognito-idp:DescribeUserPoolClient", launchers)
    assert allowed(role, "cognito-idp:DescribeUserPoolClient", ours("AWS::Cognito::UserPool").arn)
    for action in (
        "cognito-idp:CreateUserPoolClient",
        "cognito-idp:ListUserPoolClientSecrets",
        "cognito-idp:AddCustomAttributes",
        "cognito-idp:CreateUserPoolDomain",
        "cognito-idp:CreateResourceServer",
    ):
        assert may(role, action, ours("AWS::Cognito::UserPool")), action
        assert not allowed(role, action, launchers), action
        assert not may(role, action, theirs("AWS::Cognito::UserPool")), action
