"""Whether CloudFormation put ``aws:cloudformation:stack-name`` on a stack's resources, read type
by type from each service's own tag API, against what the type's resource provider schema says
(``tagging.cloudFormationSystemTags``, in the schemas bundled with cfn-lint). The launch roles'
tag-conditioned actions are sound only where the two agree."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from mlflow_cfn.cfn.schemas import resource_schema

STACK_NAME_TAG = "aws:cloudformation:stack-name"


@dataclass(frozen=True)
class Where:
    """What a reader needs besides the physical id: ARNs are built in this account and region."""

    partition: str
    region: str
    account: str

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"


def _ec2(aws: Any, physical: str, where: Where) -> list[str]:
    tags = aws("ec2").describe_tags(Filters=[{"Name": "resource-id", "Values": [physical]}])
    return [t["Key"] for t in tags["Tags"]]


def _address(aws: Any, physical: str, where: Where) -> list[str]:
    """An Elastic IP by its allocation id, or by the public address CloudFormation reports."""
    key = "AllocationIds" if physical.startswith("eipalloc-") else "PublicIps"
    addresses = aws("ec2").describe_addresses(**{key: [physical]})["Addresses"]
    return [t["Key"] for t in addresses[0].get("Tags", [])]


def _ecs(kind: str) -> Callable[[Any, str, Where], list[str]]:
    def read(aws: Any, physical: str, where: Where) -> list[str]:
        arn = physical if physical.startswith("arn:") else where.arn("ecs", f"{kind}/{physical}")
        return [t["key"] for t in aws("ecs").list_tags_for_resource(resourceArn=arn)["tags"]]

    return read


def _kms(aws: Any, physical: str, where: Where) -> list[str]:
    keys, marker = [], None
    while True:
        page = aws("kms").list_resource_tags(
            KeyId=physical, **({"Marker": marker} if marker else {})
        )
        keys += [t["TagKey"] for t in page.get("Tags", [])]
        if not page.get("Truncated"):
            return keys
        marker = page["NextMarker"]


def _elbv2(aws: Any, physical: str, where: Where) -> list[str]:
    described = aws("elbv2").describe_tags(ResourceArns=[physical])["TagDescriptions"]
    return [t["Key"] for t in described[0].get("Tags", [])]


def _rds(kind: str) -> Callable[[Any, str, Where], list[str]]:
    def read(aws: Any, physical: str, where: Where) -> list[str]:
        arn = where.arn("rds", f"{kind}:{physical}")
        return [t["Key"] for t in aws("rds").list_tags_for_resource(ResourceName=arn)["TagList"]]

    return read


def _user_pool(aws: Any, physical: str, where: Where) -> list[str]:
    arn = where.arn("cognito-idp", f"userpool/{physical}")
    return list(aws("cognito-idp").list_tags_for_resource(ResourceArn=arn).get("Tags", {}))


#: How to read a resource's tag keys, by type: the types the launch roles act on by tag (databases,
#: keys, security groups, load balancers, ECS, user pools, the network's EC2 resources).
READERS: dict[str, Callable[[Any, str, Where], list[str]]] = {
    **{
        kind: _ec2
        for kind in (
            "AWS::EC2::VPC",
            "AWS::EC2::Subnet",
            "AWS::EC2::SecurityGroup",
            "AWS::EC2::RouteTable",
            "AWS::EC2::InternetGateway",
            "AWS::EC2::NatGateway",
            "AWS::EC2::VPCEndpoint",
            "AWS::EC2::FlowLog",
        )
    },
    "AWS::EC2::EIP": _address,
    "AWS::ECS::Cluster": _ecs("cluster"),
    "AWS::ECS::Service": _ecs("service"),
    "AWS::KMS::Key": _kms,
    "AWS::ElasticLoadBalancingV2::LoadBalancer": _elbv2,
    "AWS::ElasticLoadBalancingV2::TargetGroup": _elbv2,
    "AWS::RDS::DBCluster": _rds("cluster"),
    "AWS::RDS::DBInstance": _rds("db"),
    "AWS::RDS::DBSubnetGroup": _rds("subgrp"),
    "AWS::RDS::DBClusterParameterGroup": _rds("cluster-pg"),
    "AWS::Cognito::UserPool": _user_pool,
}


def schema_says_tagged(resource_type: str) -> bool:
    """Whether the type's provider schema says CloudFormation applies its system tags."""
    return bool(resource_schema(resource_type).get("tagging", {}).get("cloudFormationSystemTags"))


@dataclass(frozen=True)
class Observation:
    """One resource: whether it carries the tag, and whether its schema says it would."""

    logical_id: str
    resource_type: str
    tagged: bool
    schema: bool

    @property
    def agrees(self) -> bool:
        return self.tagged == self.schema


def observe(aws: Any, resources: list[dict], where: Where) -> list[Observation]:
    """Every resource of the stack (ListStackResources summaries) of a type READERS can read."""
    found = []
    for resource in resources:
        kind, physical = resource["ResourceType"], resource.get("PhysicalResourceId")
        if kind not in READERS or not physical:
            continue
        keys = READERS[kind](aws, physical, where)
        found.append(
            Observation(
                resource["LogicalResourceId"],
                kind,
                STACK_NAME_TAG in keys,
                schema_says_tagged(kind),
            )
        )
    return found


def summary(observations: list[Observation]) -> str:
    """Per type: tagged or not, and where the schema says otherwise."""
    by_type: dict[str, list[Observation]] = {}
    for item in observations:
        by_type.setdefault(item.resource_type, []).append(item)
    parts = []
    for kind, items in sorted(by_type.items()):
        tagged = sum(i.tagged for i in items)
        state = "tagged" if tagged == len(items) else "untagged" if not tagged else "mixed"
        if not all(i.agrees for i in items):
            state += f" (schema says {'tagged' if items[0].schema else 'untagged'})"
        parts.append(f"{kind.removeprefix('AWS::')} {state}")
    return "; ".join(parts)


#: The tag RDS puts on the master user secret it manages, which the permissions boundary reads
#: (`mlflow_cfn.catalog.boundary.DATABASE_SECRET_TAG`): the AWS managed policy
#: AmazonRDSServiceRolePolicy lets RDS tag its secrets with it, no machine-readable source says
#: it always does, so the run reads it.
DATABASE_SECRET_TAG = "aws:rds:primaryDBClusterArn"


@dataclass(frozen=True)
class DatabaseSecret:
    """The stack's database cluster and the tag its managed master secret carries."""

    cluster_arn: str
    secret_arn: str
    tag: str | None


def database_secret(aws: Any, resources: list[dict]) -> DatabaseSecret:
    """The master user secret RDS manages for the stack's cluster, and its cluster tag."""
    (cluster,) = [r for r in resources if r["ResourceType"] == "AWS::RDS::DBCluster"]
    rds = aws("rds").describe_db_clusters(DBClusterIdentifier=cluster["PhysicalResourceId"])
    described = rds["DBClusters"][0]
    secret = described["MasterUserSecret"]["SecretArn"]
    found = aws("secretsmanager").describe_secret(SecretId=secret).get("Tags", [])
    tag = next((t["Value"] for t in found if t["Key"] == DATABASE_SECRET_TAG), None)
    return DatabaseSecret(described["DBClusterArn"], secret, tag)


def managed_policy_statements(aws: Any, arn: str) -> list[dict]:
    """The statements of a managed policy's default version (the permissions boundary)."""
    iam = aws("iam")
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]
    text = document["Document"]
    parsed = json.loads(unquote(text)) if isinstance(text, str) else text
    statements = parsed["Statement"]
    return statements if isinstance(statements, list) else [statements]
