"""What a resource of a provisioned product is to IAM when the launch role acts on it: its ARN and
the request context keys that come from the resource itself, as AWS presents them, each rule read
from AWS's own machine-readable sources or with its documentation beside it:

* The ARN: IAM's ARN format of the resource type (cfn-lint's copy of the Service Authorization
  Reference, ``ARNFormats``) with the name CloudFormation generates,
  ``<stack>-<logical id>-<random>`` (CloudFormation User Guide, "Name type": "CloudFormation
  might name an Amazon S3 bucket with the following physical ID
  stack123123123123-s3bucket-abcdefghijk1"), cut to the type's limit as the resource provider
  SDK cuts it (`generated_name`, NAME_LIMITS), or the id the service assigns.
* ``aws:ResourceTag/aws:cloudformation:stack-name`` (and ``stack-id``, ``logical-id``): present only
  where the type's provider schema says CloudFormation puts its system tags on it
  (``tagging.cloudFormationSystemTags``); never on an ECS service or a KMS key.
* ``iam:PermissionsBoundary`` of a role: the boundary it carries, the portfolio's (the product sets
  PermissionsBoundary from the Parameter the portfolio's template constraint forces to it).
* ``kms:ResourceAliases``: the aliases that target the key (AWS KMS Developer Guide,
  "kms:ResourceAliases": "the aliases associated with the KMS key"): here, the product's
  ``AWS::KMS::Alias`` resources whose ``TargetKeyId`` is the key, named for the stack.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from mlflow_cfn.cfn.schemas import cloudformation_system_tags, iam_actions

#: CloudFormation type -> (IAM service prefix, IAM resource type, how the ARN's last part is
#: made: ``{name}`` is the generated name (`type_name`), ``{cluster}`` the generated name of the
#: ECS service's cluster; the rest stands for ids a service assigns).
IAM_RESOURCES: dict[str, tuple[str, str, str]] = {
    "AWS::Cognito::UserPool": ("cognito-idp", "userpool", "userpool/{region}_AbCdEfGhI"),
    "AWS::EC2::EIP": ("ec2", "elastic-ip", "elastic-ip/eipalloc-0123456789abcdef0"),
    "AWS::EC2::FlowLog": ("ec2", "vpc-flow-log", "vpc-flow-log/fl-0123456789abcdef0"),
    "AWS::EC2::InternetGateway": ("ec2", "internet-gateway", "internet-gateway/igw-0123456789ab"),
    "AWS::EC2::NatGateway": ("ec2", "natgateway", "natgateway/nat-0123456789abcdef0"),
    "AWS::EC2::RouteTable": ("ec2", "route-table", "route-table/rtb-0123456789abcdef0"),
    "AWS::EC2::SecurityGroup": ("ec2", "security-group", "security-group/sg-0123456789abcdef0"),
    "AWS::EC2::Subnet": ("ec2", "subnet", "subnet/subnet-0123456789abcdef0"),
    "AWS::EC2::VPC": ("ec2", "vpc", "vpc/vpc-0123456789abcdef0"),
    "AWS::EC2::VPCEndpoint": ("ec2", "vpc-endpoint", "vpc-endpoint/vpce-0123456789abcdef0"),
    "AWS::CloudWatch::Alarm": ("cloudwatch", "alarm", "alarm:{name}"),
    "AWS::ECS::Cluster": ("ecs", "cluster", "cluster/{name}"),
    "AWS::ECS::Service": ("ecs", "service", "service/{cluster}/{name}"),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": (
        "elasticloadbalancing", "loadbalancer/app/", "loadbalancer/app/{name}/0123456789abcdef"),
    "AWS::ElasticLoadBalancingV2::TargetGroup": (
        "elasticloadbalancing", "targetgroup", "targetgroup/{name}/0123456789abcdef"),
    "AWS::IAM::Role": ("iam", "role", "role/{name}"),
    "AWS::KMS::Key": ("kms", "key", "key/0a1b2c3d-1111-2222-3333-444455556666"),
    "AWS::RDS::DBCluster": ("rds", "cluster", "cluster:{name}"),
    "AWS::RDS::DBClusterParameterGroup": ("rds", "cluster-pg", "cluster-pg:{name}"),
    "AWS::RDS::DBInstance": ("rds", "db", "db:{name}"),
    "AWS::RDS::DBSubnetGroup": ("rds", "subgrp", "subgrp:{name}"),
}  # fmt: skip

#: The random part CloudFormation appends to a generated name (12 characters).
RANDOM = "ABCDEFGHIJKL"

#: CloudFormation type -> the most characters of the name CloudFormation generates for it, and
#: whether the provider lower-cases it. RDS: the RDS provider's IdentifierFactory (lower-cases) with
#: RESOURCE_ID_MAX_LENGTH 63 for clusters and instances and 255 for subnet and cluster parameter
#: groups (aws-cloudformation/aws-cloudformation-resource-providers-rds). IAM roles and alarms:
#: botocore's IAM model (roleNameType, max 64) and CloudWatch model (AlarmName, max 255); ECS
#: clusters and services: 255 (`mlflow_cfn.catalog.owned_grants.ECS_NAME_MAX`). Load balancers and
#: target groups: 25, what the names CloudFormation gives them show (``<stack name's first
#: 6>-<logical id's first 5>-<12 random>``, e.g. ``Restau-LB8A1-7ASNBoxQWbGn`` and
#: ``claude-HTTPT-VTF44BENVVF2`` in public repositories' stack outputs), well under ELB's 32.
NAME_LIMITS: dict[str, tuple[int, bool]] = {
    "AWS::CloudWatch::Alarm": (255, False),
    "AWS::ECS::Cluster": (255, False),
    "AWS::ECS::Service": (255, False),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": (25, False),
    "AWS::ElasticLoadBalancingV2::TargetGroup": (25, False),
    "AWS::IAM::Role": (64, False),
    "AWS::RDS::DBCluster": (63, True),
    "AWS::RDS::DBClusterParameterGroup": (255, True),
    "AWS::RDS::DBInstance": (63, True),
    "AWS::RDS::DBSubnetGroup": (255, True),
}


@dataclass(frozen=True)
class StackResource:
    """One resource of a stack as IAM sees it: ARN and the context keys it brings."""

    logical_id: str
    resource_type: str
    arn: str
    context: dict[str, Any]


def generated_name(stack: str, logical_id: str, max_length: int = 255) -> str:
    """The name CloudFormation gives ``logical_id`` of ``stack`` (CloudFormation User Guide, "Name
    type"), as the resource provider SDK's IdentifierUtils.generateResourceIdentifier(stackId,
    logicalId, token, maxLength) makes it (aws-cloudformation/cloudformation-cli-java-plugin): 13
    characters for the random part and its dash, one for the dash between the names, the rest
    split fairly (each name takes up to half of what is left in turn, the other the remainder).
    KensioSoftware/yulin#1113 shows names real stacks got that this reproduces (an IAM role of a
    26-character stack: ``ChineseboostAnalyticsStac-RainlyticsSummariesJobFun-UjecjFhpdr1d``)."""
    requested, allocated, remaining = [len(stack), len(logical_id)], [0, 0], max_length - 14
    while remaining > 0 and allocated != requested:
        share = 1 if remaining < 2 else remaining // 2
        for i in (0, 1):
            grant = min(share, requested[i] - allocated[i], remaining)
            allocated[i] += grant
            remaining -= grant
    prefix = f"{stack[: allocated[0]]}-{logical_id[: allocated[1]]}"
    return f"{prefix[: max_length - 13]}-{RANDOM}"


def type_name(resource_type: str, stack: str, logical_id: str) -> str:
    """The name CloudFormation generates for ``logical_id`` of type ``resource_type`` in ``stack``
    (NAME_LIMITS)."""
    max_length, lower = NAME_LIMITS.get(resource_type, (255, False))
    name = generated_name(stack, logical_id, max_length)
    # The RDS provider's IdentifierFactory also collapses repeated dashes and drops a last one.
    return re.sub("-{2,}", "-", name).rstrip("-").lower() if lower else name


def _arn(service: str, kind: str, tail: str, *, region: str, account: str) -> str:
    """``tail`` in IAM's ARN format for ``service``'s resource type ``kind``; AssertionError if
    the ARN does not match that format (the format's ``.*`` is where the tail goes)."""
    (arn_format,) = iam_actions()[service]["Resources"][kind]["ARNFormats"]
    filled = (
        arn_format.replace("${Partition}", "aws")
        .replace("${Region}", region)
        .replace("${Account}", account)
    )
    prefix = filled.split(".*")[0]
    # The resource type's part of the prefix: ``cluster/`` or ``cluster:`` (whose colon the
    # ARN's last field separator would otherwise hide).
    kind_prefix = prefix[prefix.rstrip(":").rfind(":") + 1 :]
    arn = prefix + tail.removeprefix(kind_prefix)
    pattern = re.escape(filled).replace(re.escape(".*"), ".*")
    assert re.fullmatch(pattern, arn), (arn, arn_format)
    return arn


def _aliases(template: dict[str, Any], stack: str) -> dict[str, list[str]]:
    """Key logical id -> the names of the product's aliases that target it, in ``stack``."""
    found: dict[str, list[str]] = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::KMS::Alias":
            continue
        props = resource["Properties"]
        name = props["AliasName"]["Fn::Sub"].replace("${AWS::StackName}", stack)
        found.setdefault(props["TargetKeyId"]["Ref"], []).append(name)
    return found


def stack_resources(
    template: dict[str, Any], stack: str, *, region: str, account: str, boundary: str = ""
) -> list[StackResource]:
    """Every resource of ``template`` whose type IAM_RESOURCES knows, as a stack named ``stack``
    creates it (its roles with the permissions boundary ``boundary``, if given)."""
    aliases = _aliases(template, stack)
    resources = []
    for logical_id, resource in template["Resources"].items():
        kind = resource["Type"]
        if kind not in IAM_RESOURCES:
            continue
        service, iam_kind, tail = IAM_RESOURCES[kind]
        name = type_name(kind, stack, logical_id)
        cluster = resource.get("Properties", {}).get("Cluster", {}).get("Ref", "")
        cluster_name = type_name("AWS::ECS::Cluster", stack, cluster)
        tail = tail.format(name=name, region=region, cluster=cluster_name)
        context: dict[str, Any] = {}
        if cloudformation_system_tags(kind):
            context = {
                "aws:ResourceTag/aws:cloudformation:stack-name": stack,
                "aws:ResourceTag/aws:cloudformation:logical-id": logical_id,
            }
        if kind == "AWS::KMS::Key":
            context["kms:ResourceAliases"] = aliases.get(logical_id, [])
        if kind == "AWS::IAM::Role" and boundary:
            context["iam:PermissionsBoundary"] = boundary
        arn = _arn(service, iam_kind, tail, region=region, account=account)
        resources.append(StackResource(logical_id, kind, arn, context))
    return resources


def iam_resource_kinds(action: str) -> list[str]:
    """The IAM resource types ``action`` is authorized on (Service Authorization Reference)."""
    service, _, name = action.lower().partition(":")
    return iam_actions()[service]["Actions"].get(name, {}).get("Resources", [])


def acts_on(action: str, resource_type: str) -> bool:
    """Whether ``action`` is authorized on resources of ``resource_type``'s IAM resource type."""
    service, kind, _ = IAM_RESOURCES[resource_type]
    return action.lower().startswith(service + ":") and kind in iam_resource_kinds(action)


def describe(resource: StackResource) -> str:
    """One line for an assertion message."""
    return f"{resource.logical_id} ({resource.resource_type}) {resource.arn} " + json.dumps(
        resource.context
    )
