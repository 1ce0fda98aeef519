"""What the launch role may change or delete: only what a provisioned product owns, told apart by
what each resource really carries. CloudFormation's stack-name tag where the resource type's
provider schema says CloudFormation puts it (`mlflow_cfn.cfn.schemas.cloudformation_system_tags`);
otherwise the names CloudFormation generates from the stack (ECS services) or the aliases the
product names after the stack (KMS keys).
"""

from __future__ import annotations

from typing import Any

from awacs.aws import ForAnyValueStringLike, StringLike

from mlflow_cfn.catalog.grants import Grant
from mlflow_cfn.catalog.network_grants import NETWORK_OWNED_ONLY_EC2
from mlflow_cfn.catalog.product import resources_of
from mlflow_cfn.catalog.scopes import ACCOUNT_KEYS, pascal, region_arn
from mlflow_cfn.cfn.schemas import cloudformation_system_tags

#: The tag CloudFormation puts on the resources it creates, of the types whose provider schema says
#: so (`mlflow_cfn.cfn.schemas.cloudformation_system_tags`; CloudFormation User Guide, "Tag your
#: CloudFormation resources": aws:cloudformation:stack-name, stack-id, logical-id). No one else can
#: set it (tag keys starting with ``aws:`` are reserved), and Service Catalog names its stacks
#: ``SC-<account>-pp-<id>``.
OWNED_TAG = "aws:ResourceTag/aws:cloudformation:stack-name"

#: Destructive actions allowed only on resources of Service Catalog stacks (OWNED_TAG like
#: ``SC-*``), by service: the actions and the ARN kinds they are granted on, each with the resource
#: type that has ARNs of that kind. Every such type must carry CloudFormation's system tags by its
#: provider schema (checked when the grants are built): AWS::ECS::Service and AWS::KMS::Key do not,
#: so their actions are granted apart (STACK_NAMED_ACTIONS, ALIASED_KEY_ACTIONS). Only actions whose
#: every IAM resource type is one of those kinds, or a new resource allowed apart
#: (OWNED_ONLY_PLAIN), are here, so no untagged resource of the same request (a default parameter
#: group, a listener) fails the condition.
OWNED_ONLY_ACTIONS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "cognito-idp": (
        ("cognito-idp:DeleteResourceServer", "cognito-idp:DeleteUserPool",
         "cognito-idp:DeleteUserPoolClient", "cognito-idp:DeleteUserPoolDomain",
         "cognito-idp:SetUserPoolMfaConfig", "cognito-idp:UpdateResourceServer",
         "cognito-idp:UpdateUserPool", "cognito-idp:UpdateUserPoolClient",
         "cognito-idp:UpdateUserPoolDomain"),
        {"userpool/*": "AWS::Cognito::UserPool"},
    ),
    "ec2": (
        ("ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress",
         "ec2:DeleteSecurityGroup", "ec2:RevokeSecurityGroupEgress",
         "ec2:RevokeSecurityGroupIngress", "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
         "ec2:UpdateSecurityGroupRuleDescriptionsIngress"),
        {"security-group/*": "AWS::EC2::SecurityGroup"},
    ),
    "ecs": (
        ("ecs:DeleteCluster", "ecs:PutClusterCapacityProviders", "ecs:UpdateCluster",
         "ecs:UpdateClusterSettings"),
        {"cluster/*": "AWS::ECS::Cluster"},
    ),
    "elasticloadbalancing": (
        ("elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:DeleteTargetGroup",
         "elasticloadbalancing:DeregisterTargets",
         "elasticloadbalancing:ModifyCapacityReservation", "elasticloadbalancing:ModifyIpPools",
         "elasticloadbalancing:ModifyLoadBalancerAttributes",
         "elasticloadbalancing:ModifyTargetGroup",
         "elasticloadbalancing:ModifyTargetGroupAttributes",
         "elasticloadbalancing:SetIpAddressType", "elasticloadbalancing:SetSecurityGroups",
         "elasticloadbalancing:SetSubnets"),
        {"loadbalancer/*": "AWS::ElasticLoadBalancingV2::LoadBalancer",
         "targetgroup/*": "AWS::ElasticLoadBalancingV2::TargetGroup"},
    ),
    "rds": (
        ("rds:DeleteDBCluster", "rds:DeleteDBClusterParameterGroup", "rds:DeleteDBInstance",
         "rds:DeleteDBSubnetGroup", "rds:DisableHttpEndpoint",
         "rds:ModifyDBClusterParameterGroup", "rds:ModifyDBSubnetGroup",
         "rds:PromoteReadReplica", "rds:RebootDBInstance", "rds:RemoveRoleFromDBCluster",
         "rds:RemoveRoleFromDBInstance", "rds:ResetDBClusterParameterGroup",
         "rds:StopDBInstanceAutomatedBackupsReplication"),
        {"cluster:*": "AWS::RDS::DBCluster", "cluster-pg:*": "AWS::RDS::DBClusterParameterGroup",
         "db:*": "AWS::RDS::DBInstance", "subgrp:*": "AWS::RDS::DBSubnetGroup"},
    ),
}  # fmt: skip

#: The pattern of a name CloudFormation generates for the product's resource ``{logical_id}`` in a
#: Service Catalog stack: ``<stack name>-<logical id>-<random>`` (CloudFormation User Guide, "Name
#: type": "CloudFormation might name an Amazon S3 bucket with the following physical ID
#: stack123123123123-s3bucket-abcdefghijk1"; the resource provider SDK's
#: IdentifierUtils.generateResourceIdentifier cuts the two first parts only to fit the type's
#: name limit, 255 characters for ECS clusters and services, which a 128-character stack name and
#: a logical id of at most STACK_NAMED_ID_MAX characters never reach).
STACK_NAMED = "SC-*-{logical_id}-*"
STACK_NAMED_ID_MAX = 100

#: Destructive actions on ECS services, whose provider schema says CloudFormation does not tag
#: them (``tagging.cloudFormationSystemTags`` false; aws-cloudformation/
#: cloudformation-coverage-roadmap#2062): granted on the ARNs of the product's services as a
#: Service Catalog stack names them, ``service/<cluster name>/<service name>`` (Amazon ECS
#: Developer Guide, "Amazon Resource Names (ARNs) and IDs", the long ARN format), both names
#: generated (GENERATED_NAME_PROPERTIES keeps ClusterName and ServiceName unset). Application
#: Auto Scaling checks the caller's ecs:UpdateService on the service when it registers it as a
#: scalable target (`mlflow_cfn.catalog.schema_actions.EXTRA_ACTIONS`), so creates need it too.
STACK_NAMED_ACTIONS: tuple[str, ...] = ("ecs:DeleteService", "ecs:UpdateService")

#: Destructive actions on KMS keys, whose provider schema says CloudFormation does not tag them
#: (the KMS provider's TagHelper: "KMS does not support system tags currently"): allowed only on
#: keys that carry one of the aliases the product gives its keys, with ``${AWS::StackName}`` a
#: Service Catalog stack's name (``kms:ResourceAliases``, a condition key of IAM's KMS ``key``
#: resource type; AWS KMS Developer Guide, "kms:ResourceAliases": "Controls access to a KMS key
#: based on the aliases associated with the KMS key"). The KMS provider calls PutKeyPolicy,
#: DisableKey and DisableKeyRotation only on update (its create sends the policy with CreateKey),
#: when the product's alias of the key exists; the keys are retained, so no delete schedules one.
ALIASED_KEY_ACTIONS: tuple[str, ...] = (
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
)
ALIASES_KEY = "kms:ResourceAliases"

#: Where OWNED_ONLY_ACTIONS need no tag: resources of the same request that are new, so untagged
#: (IAM authorizes each resource of a request apart): DeleteDBCluster's final snapshot
#: (DeletionPolicy Snapshot), a security group's new rule. Neither changes anything alone.
OWNED_ONLY_PLAIN: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "ec2": (
        "Ec2NewRulesOfServiceCatalogStacksSecurityGroups",
        ("ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress"),
        (region_arn("ec2", "security-group-rule/*"),),
    ),
    "rds": (
        "RdsFinalSnapshotOfADeletedCluster",
        ("rds:DeleteDBCluster",),
        (region_arn("rds", "cluster-snapshot:*"),),
    ),
}


def owned_grants(variants: tuple[dict[str, Any], ...]) -> list[Grant]:
    """Every destructive grant: by tag, by generated name, by alias."""
    return [
        *_owned_only_grants(),
        *_stack_named_grants(variants),
        *_aliased_key_grants(variants),
    ]


def _owned_only_grants() -> list[Grant]:
    """OWNED_ONLY_ACTIONS, each service's under the stack-name tag condition, and the network's
    (NETWORK_OWNED_ONLY_EC2: granted only to a template that needs them). ValueError for a kind
    whose resource type CloudFormation does not tag (the condition would never hold)."""
    network_actions, network_kinds = NETWORK_OWNED_ONLY_EC2
    owned = [
        (f"{pascal(service)}ChangesOnlyServiceCatalogStacksResources", service, actions, kinds,
         OWNED_ONLY_PLAIN.get(service))
        for service, (actions, kinds) in sorted(OWNED_ONLY_ACTIONS.items())
    ] + [("Ec2NetworkChangesOnlyServiceCatalogStacksResources", "ec2", network_actions,
          network_kinds, None)]  # fmt: skip
    untagged = sorted(
        t for *_, kinds, _ in owned for t in kinds.values() if not cloudformation_system_tags(t)
    )
    if untagged:
        raise ValueError(
            f"{', '.join(untagged)}: CloudFormation does not put its system tags on them (provider "
            "schema tagging.cloudFormationSystemTags), so a condition on "
            f"{OWNED_TAG} never holds; scope them by name or alias instead"
        )
    return [
        Grant(sid, actions, tuple(region_arn(service, kind) for kind in kinds), StringLike,
              OWNED_TAG, ("SC-*",), plain=plain)
        for sid, service, actions, kinds, plain in owned
    ]  # fmt: skip


def stack_named(logical_id: str) -> str:
    """The name pattern (STACK_NAMED) of the product's resource ``logical_id`` in a Service
    Catalog stack; ValueError for a logical id too long to keep whole in a generated name."""
    if len(logical_id) > STACK_NAMED_ID_MAX:
        raise ValueError(f"{logical_id}: a generated name may cut a logical id this long")
    return STACK_NAMED.format(logical_id=logical_id)


def _stack_named_grants(variants: tuple[dict[str, Any], ...]) -> list[Grant]:
    """STACK_NAMED_ACTIONS on the product's ECS services, by their generated names; ValueError
    for a service whose cluster is not a Ref to the product's own cluster."""
    arns = set()
    for logical_id, props in resources_of(variants, "AWS::ECS::Service"):
        cluster = props.get("Cluster")
        if not (isinstance(cluster, dict) and set(cluster) == {"Ref"}):
            raise ValueError(f"{logical_id}: its Cluster must be a Ref to the product's cluster")
        arns.add(region_arn("ecs", f"service/{stack_named(cluster['Ref'])}/"
                                   f"{stack_named(logical_id)}"))  # fmt: skip
    if not arns:
        return []
    return [Grant("EcsChangesOnlyTheProductsServicesOfServiceCatalogStacks",
                  STACK_NAMED_ACTIONS, tuple(sorted(arns)), None, "", ())]  # fmt: skip


def key_aliases(variants: tuple[dict[str, Any], ...]) -> tuple[str, ...]:
    """The alias patterns of the product's keys in a Service Catalog stack (``${AWS::StackName}``
    as ``SC-*``); ValueError for a key without an alias named after the stack, whose updates the
    launch role could not make."""
    aliased, patterns = set(), set()
    for logical_id, props in resources_of(variants, "AWS::KMS::Alias"):
        name, target = props.get("AliasName"), props.get("TargetKeyId")
        text = name.get("Fn::Sub") if isinstance(name, dict) else None
        if not (
            isinstance(text, str)
            and text.startswith("alias/${AWS::StackName}/")
            and "${" not in text.removeprefix("alias/${AWS::StackName}/")
        ):
            raise ValueError(f"{logical_id}: AliasName must be Fn::Sub alias/${{AWS::StackName}}/…")
        patterns.add(text.replace("${AWS::StackName}", "SC-*"))
        if isinstance(target, dict) and set(target) == {"Ref"}:
            aliased.add(target["Ref"])
    keys = {logical_id for logical_id, _ in resources_of(variants, "AWS::KMS::Key")}
    if keys - aliased:
        raise ValueError(
            f"{', '.join(sorted(keys - aliased))}: a key needs an alias named after the stack "
            "(alias/${AWS::StackName}/...) that targets it by Ref"
        )
    return tuple(sorted(patterns))


def _aliased_key_grants(variants: tuple[dict[str, Any], ...]) -> list[Grant]:
    """ALIASED_KEY_ACTIONS on keys that carry one of the product's aliases."""
    aliases = key_aliases(variants)
    if not aliases:
        return []
    return [Grant("KmsChangesOnlyKeysWithTheProductsAliases", ALIASED_KEY_ACTIONS,
                  (ACCOUNT_KEYS,), ForAnyValueStringLike, ALIASES_KEY, aliases)]  # fmt: skip
