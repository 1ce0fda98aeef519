"""What the launch role may change or delete: only what this product's provisioned products own,
told apart by what each resource really carries. CloudFormation's system tags where the resource
type's provider schema says CloudFormation puts them
(`mlflow_cfn.cfn.schemas.cloudformation_system_tags`): the stack name of a Service Catalog stack
and one of the product's own logical ids; besides, for databases, the names CloudFormation
generates from them (`mlflow_cfn.catalog.generated_names.NAMED_TYPES`). Otherwise the names
CloudFormation generates (ECS services) or the aliases the product names after the stack (KMS
keys).
"""

from __future__ import annotations

from typing import Any

from awacs.aws import ForAnyValueStringLike, StringEquals, StringLike

from mlflow_cfn.catalog.generated_names import (
    NAMED_TYPES,
    final_snapshot_arns,
    generated_name,
    named_arns,
    region_arn,
)
from mlflow_cfn.catalog.grants import Grant
from mlflow_cfn.catalog.network_grants import NETWORK_OWNED_ONLY_EC2
from mlflow_cfn.catalog.product import resources_of
from mlflow_cfn.catalog.scopes import ACCOUNT_KEYS, pascal
from mlflow_cfn.cfn.schemas import cloudformation_system_tags

#: The tag CloudFormation puts on the resources it creates, of the types whose provider schema says
#: so (`mlflow_cfn.cfn.schemas.cloudformation_system_tags`; CloudFormation User Guide, "Tag your
#: CloudFormation resources": aws:cloudformation:stack-name, stack-id, logical-id). No one else can
#: set it (tag keys starting with ``aws:`` are reserved), and Service Catalog names its stacks
#: ``SC-<account>-pp-<id>``.
OWNED_TAG = "aws:ResourceTag/aws:cloudformation:stack-name"
#: The logical id CloudFormation tags the same resources with (same sources): with OWNED_TAG, a
#: resource this product created in a Service Catalog stack, not one of any Service Catalog
#: stack's. Logical ids are never renamed once released (tests/template/released.json), so a
#: provisioned product of an older version still matches.
LOGICAL_ID_TAG = "aws:ResourceTag/aws:cloudformation:logical-id"

#: Destructive actions allowed only on the product's resources in Service Catalog stacks (OWNED_TAG
#: like ``SC-*`` and LOGICAL_ID_TAG one of the product's logical ids of those types), by service:
#: the actions and the ARN kinds they are granted on, each with the resource type that has ARNs of
#: that kind; a kind of NAMED_TYPES only on the names CloudFormation generates for the product's
#: logical ids (databases; load balancer and target group names keep only 5 characters of a logical
#: id, user pools and security groups have random ids: the tags tell those apart). Every such type
#: must carry CloudFormation's system tags by its provider schema (checked when the grants are
#: built): AWS::ECS::Service and AWS::KMS::Key do not, so their actions are granted apart
#: (STACK_NAMED_ACTIONS, ALIASED_KEY_ACTIONS). Only actions whose every IAM resource type is one of
#: those kinds, or a new resource allowed apart (OWNED_ONLY_PLAIN), are here, so no untagged
#: resource of the same request (a default parameter group, a listener) fails the condition; never
#: a tagging action, which a create authorizes on the resource it creates (no tag yet). A user
#: pool's clients, domain and resource servers are created and their secrets read only in the
#: product's own pool: cognito-idp:DescribeUserPoolClient stays on every pool, for the listener's
#: authenticate-cognito action on a pool a launcher brings (CognitoUserPoolArn), which
#: CloudFormation did not create.
OWNED_ONLY_ACTIONS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "cognito-idp": (
        ("cognito-idp:AddCustomAttributes", "cognito-idp:CreateResourceServer",
         "cognito-idp:CreateUserPoolClient", "cognito-idp:CreateUserPoolDomain",
         "cognito-idp:DeleteResourceServer", "cognito-idp:DeleteUserPool",
         "cognito-idp:DeleteUserPoolClient", "cognito-idp:DeleteUserPoolDomain",
         "cognito-idp:ListUserPoolClientSecrets", "cognito-idp:SetUserPoolMfaConfig",
         "cognito-idp:UpdateResourceServer", "cognito-idp:UpdateUserPool",
         "cognito-idp:UpdateUserPoolClient", "cognito-idp:UpdateUserPoolDomain"),
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
         "elasticloadbalancing:RegisterTargets",
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

#: The most characters of ECS cluster and service names (Amazon ECS API Reference, CreateCluster
#: and CreateService: "Up to 255 letters"): a 128-character stack name and the product's logical
#: ids never need cutting (`mlflow_cfn.catalog.generated_names.generated_name`).
ECS_NAME_MAX = 255

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
#: (DeletionPolicy Snapshot), by the name the RDS provider gives the product's (None here:
#: `mlflow_cfn.catalog.generated_names.final_snapshot_arns`), a security group's new rule. Neither
#: changes anything alone.
OWNED_ONLY_PLAIN: dict[str, tuple[str, tuple[str, ...], tuple[str, ...] | None]] = {
    "ec2": (
        "Ec2NewRulesOfTheProductsSecurityGroups",
        ("ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress"),
        (region_arn("ec2", "security-group-rule/*"),),
    ),
    "rds": ("RdsFinalSnapshotOfTheProductsDeletedCluster", ("rds:DeleteDBCluster",), None),
}


def owned_grants(variants: tuple[dict[str, Any], ...]) -> list[Grant]:
    """Every destructive grant: by tags (and names), by generated name, by alias."""
    return [
        *_owned_only_grants(variants),
        *_stack_named_grants(variants),
        *_aliased_key_grants(variants),
    ]


def _owned_only_grants(variants: tuple[dict[str, Any], ...]) -> list[Grant]:
    """OWNED_ONLY_ACTIONS, each service's under the tag conditions on the product's resources of
    its kinds, and the network's (NETWORK_OWNED_ONLY_EC2: granted only to a template that needs
    them). ValueError for a kind whose resource type CloudFormation does not tag (the condition
    would never hold)."""
    network_actions, network_kinds = NETWORK_OWNED_ONLY_EC2
    owned = [
        (f"{pascal(service)}ChangesOnlyTheProductsResources", service, actions, kinds,
         OWNED_ONLY_PLAIN.get(service))
        for service, (actions, kinds) in sorted(OWNED_ONLY_ACTIONS.items())
    ] + [("Ec2NetworkChangesOnlyTheProductsResources", "ec2", network_actions,
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
        _owned_grant(variants, sid, service, actions, kinds, plain)
        for sid, service, actions, kinds, plain in owned
    ]


def _owned_grant(
    variants: tuple[dict[str, Any], ...],
    sid: str,
    service: str,
    actions: tuple[str, ...],
    kinds: dict[str, str],
    plain: tuple[str, tuple[str, ...], tuple[str, ...] | None] | None,
) -> Grant:
    """``actions`` on the product's resources of ``kinds`` in Service Catalog stacks: the kind's
    ARNs (the product's generated names for NAMED_TYPES), with the stack-name tag of a Service
    Catalog stack and one of the product's logical ids of those types (not needed, no values,
    when the product has none)."""
    resources = tuple(
        arn
        for kind, resource_type in kinds.items()
        for arn in (
            named_arns(variants, resource_type)
            if resource_type in NAMED_TYPES
            else (region_arn(service, kind),)
        )
    )
    ids = tuple(sorted({i for t in kinds.values() for i, _ in resources_of(variants, t)}))
    if plain and plain[2] is None:
        plain = (plain[0], plain[1], final_snapshot_arns(variants, ("AWS::RDS::DBCluster",)))
    logical = Grant("", (), (), StringEquals, LOGICAL_ID_TAG, ids)
    return Grant(sid, actions, resources, StringLike, OWNED_TAG, ("SC-*",) if ids else (),
                 also=(logical,), plain=plain)  # fmt: skip


def stack_named(logical_id: str) -> str:
    """The name pattern of the product's ECS cluster or service ``logical_id`` in a Service
    Catalog stack."""
    return generated_name(logical_id, ECS_NAME_MAX)


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
