"""The stack-name tag readers: one per type the launch roles act on by tag, each calling its
service's tag API as the Stubber's models say, compared with the provider schemas."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.aws.acceptance import tags
from tests.aws.stubs import ACCOUNT, REGION, Stubs
from tests.conftest import TEMPLATES

pytestmark = pytest.mark.usefixtures("no_real_aws")

WHERE = tags.Where("aws", REGION, ACCOUNT)
TAG = tags.STACK_NAME_TAG


@pytest.fixture
def aws():
    stubs = Stubs()
    yield stubs
    stubs.done()


def template_types() -> set[str]:
    return {
        resource["Type"]
        for path in TEMPLATES.glob("*.json")
        for resource in json.loads(path.read_text())["Resources"].values()
    }


def test_every_reader_reads_a_type_the_templates_create():
    assert set(tags.READERS) <= template_types()


def test_the_types_the_brief_names_are_read():
    wanted = {"AWS::ECS::Service", "AWS::KMS::Key", "AWS::EC2::VPCEndpoint", "AWS::EC2::EIP"}
    assert wanted | {"AWS::EC2::FlowLog"} <= set(tags.READERS)


def test_the_schemas_disagree_where_the_issue_says():
    # CloudFormation's system tags never reach ECS services or KMS keys (their schemas say so):
    # the run checks that this is what the accounts see, and the others are tagged.
    assert not tags.schema_says_tagged("AWS::ECS::Service")
    assert not tags.schema_says_tagged("AWS::KMS::Key")
    assert tags.schema_says_tagged("AWS::EC2::VPCEndpoint")
    assert tags.schema_says_tagged("AWS::RDS::DBCluster")


def summary(logical_id: str, kind: str, physical: str) -> dict:
    return {"LogicalResourceId": logical_id, "ResourceType": kind, "PhysicalResourceId": physical}


def test_each_service_is_asked_as_its_api_wants(aws):
    tagged = [{"Key": TAG, "Value": "SC-1-pp-x"}]
    aws.expect(
        "ec2",
        "describe_tags",
        {"Filters": [{"Name": "resource-id", "Values": ["vpce-0123"]}]},
        {"Tags": [{"Key": TAG, "Value": "SC-1-pp-x", "ResourceId": "vpce-0123"}]},
    )
    aws.expect(
        "ec2",
        "describe_addresses",
        {"PublicIps": ["3.4.5.6"]},
        {"Addresses": [{"PublicIp": "3.4.5.6", "Tags": tagged}]},
    )
    service = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/c/s"
    aws.expect("ecs", "list_tags_for_resource", {"resourceArn": service}, {"tags": []})
    aws.expect(
        "ecs",
        "list_tags_for_resource",
        {"resourceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/the-cluster"},
        {"tags": [{"key": TAG, "value": "SC-1-pp-x"}]},
    )
    aws.expect("kms", "list_resource_tags", {"KeyId": "k-1"}, {"Tags": [], "Truncated": False})
    balancer = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/x/1"
    aws.expect(
        "elbv2",
        "describe_tags",
        {"ResourceArns": [balancer]},
        {"TagDescriptions": [{"ResourceArn": balancer, "Tags": tagged}]},
    )
    aws.expect(
        "rds",
        "list_tags_for_resource",
        {"ResourceName": f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:the-db"},
        {"TagList": tagged},
    )
    aws.expect(
        "cognito-idp",
        "list_tags_for_resource",
        {"ResourceArn": f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/eu-west-1_AbC"},
        {"Tags": {TAG: "SC-1-pp-x"}},
    )
    resources = [
        summary("S3Endpoint", "AWS::EC2::VPCEndpoint", "vpce-0123"),
        summary("NatAddress", "AWS::EC2::EIP", "3.4.5.6"),
        summary("Service", "AWS::ECS::Service", service),
        summary("EcsCluster", "AWS::ECS::Cluster", "the-cluster"),
        summary("LogsKey", "AWS::KMS::Key", "k-1"),
        summary("LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer", balancer),
        summary("DatabaseCluster", "AWS::RDS::DBCluster", "the-db"),
        summary("CognitoUserPool", "AWS::Cognito::UserPool", "eu-west-1_AbC"),
        summary("Topic", "AWS::SNS::Topic", "arn:aws:sns:x"),  # no reader: not read
    ]
    observed = tags.observe(aws, resources, WHERE)
    assert [(o.logical_id, o.tagged) for o in observed] == [
        ("S3Endpoint", True),
        ("NatAddress", True),
        ("Service", False),
        ("EcsCluster", True),
        ("LogsKey", False),
        ("LoadBalancer", True),
        ("DatabaseCluster", True),
        ("CognitoUserPool", True),
    ]
    assert all(o.agrees for o in observed)


def test_the_summary_names_each_type_and_every_disagreement():
    observed = [
        tags.Observation("A", "AWS::ECS::Service", True, False),
        tags.Observation("B", "AWS::KMS::Key", False, False),
        tags.Observation("C", "AWS::KMS::Key", False, False),
        tags.Observation("D", "AWS::EC2::Subnet", True, True),
        tags.Observation("E", "AWS::EC2::Subnet", False, True),
    ]
    assert tags.summary(observed) == (
        "EC2::Subnet mixed (schema says tagged); ECS::Service tagged (schema says untagged); "
        "KMS::Key untagged"
    )


# --- The database secret's cluster tag, which the permissions boundary reads -------------------

CLUSTER = f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:sc-1-pp-x-databasecluster-abc"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!cluster-0123-AbCdEf"
CLUSTER_RESOURCE = summary(
    "DatabaseCluster", "AWS::RDS::DBCluster", "sc-1-pp-x-databasecluster-abc"
)


def expect_database_secret(aws, tags_found: list[dict]) -> None:
    aws.expect(
        "rds",
        "describe_db_clusters",
        {"DBClusterIdentifier": "sc-1-pp-x-databasecluster-abc"},
        {"DBClusters": [{"DBClusterArn": CLUSTER, "MasterUserSecret": {"SecretArn": SECRET}}]},
    )
    aws.expect("secretsmanager", "describe_secret", {"SecretId": SECRET}, {"Tags": tags_found})


def test_the_database_secrets_cluster_tag_is_read(aws):
    expect_database_secret(aws, [{"Key": "aws:rds:primaryDBClusterArn", "Value": CLUSTER}])
    found = tags.database_secret(aws, [summary("Service", "AWS::ECS::Service", "s"),
                                       CLUSTER_RESOURCE])  # fmt: skip
    assert found == tags.DatabaseSecret(CLUSTER, SECRET, CLUSTER)


def test_a_secret_without_the_tag_is_reported_as_such(aws):
    expect_database_secret(aws, [{"Key": "other", "Value": "x"}])
    assert tags.database_secret(aws, [CLUSTER_RESOURCE]).tag is None


def test_the_tag_the_run_reads_is_the_one_the_boundary_conditions_on():
    from mlflow_cfn.catalog.boundary import DATABASE_SECRET_TAG

    assert f"aws:ResourceTag/{tags.DATABASE_SECRET_TAG}" == DATABASE_SECRET_TAG


def test_the_boundarys_statements_are_read_from_its_default_version(aws):
    arn = f"arn:aws:iam::{ACCOUNT}:policy/Boundary"
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    aws.expect("iam", "get_policy", {"PolicyArn": arn},
               {"Policy": {"Arn": arn, "DefaultVersionId": "v3"}})  # fmt: skip
    aws.expect(
        "iam",
        "get_policy_version",
        {"PolicyArn": arn, "VersionId": "v3"},
        {"PolicyVersion": {"Document": quote(json.dumps({"Statement": statement}))}},
    )
    assert tags.managed_policy_statements(aws, arn) == [statement]
