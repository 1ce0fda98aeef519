"""The launch role's actions that are only safe with a condition, each with its condition(s).

Passing the product's roles, creating service-linked roles, creating and changing roles (only with
the portfolio's permissions boundary), attaching managed policies, granting and using KMS keys:
what each may reach is derived from the product (the services its roles trust, the policies they
attach, the service-linked roles its resource types create) or fixed here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from awacs.aws import ArnEquals, Bool, ConditionElement, StringEquals, StringLike
from troposphere import Sub

from mlflow_cfn.catalog.network_grants import (
    NETWORK_OWNED_ONLY_EC2,
    NETWORK_SERVICE_LINKED_ROLE_SERVICES,
    NO_SERVICE_LINKED_ROLE,
)
from mlflow_cfn.catalog.product import resources_of
from mlflow_cfn.catalog.scopes import ACCOUNT_KEYS, PRODUCT_ROLES, pascal, region_arn

#: Service-linked roles the product's resource types may create, by type namespace: for
#: Application Auto Scaling the role of ECS services (the only scalable target of the product), for
#: Cognito the role that sends a user pool's email with Amazon SES (Cognito's other role serves
#: Amazon Pinpoint analytics, which no client of the product configures).
SERVICE_LINKED_ROLE_SERVICES: dict[str, str] = {
    "AWS::ApplicationAutoScaling": "ecs.application-autoscaling.amazonaws.com",
    "AWS::Cognito": "email.cognito-idp.amazonaws.com",
    "AWS::ECS": "ecs.amazonaws.com",
    "AWS::ElasticLoadBalancingV2": "elasticloadbalancing.amazonaws.com",
    "AWS::RDS": "rds.amazonaws.com",
}

#: The KMS actions that use a key's material: granted only through KEY_USE_VIA_SERVICES.
KEY_USE_ACTIONS = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)

#: Services that use keys with the caller's permissions: RDS (storage, Performance Insights),
#: Secrets Manager (the RDS-managed master user secret, a customer secret that a dynamic reference
#: reads) and Cognito (whose user pool and domain handlers list key use for the keys a pool names).
#: Not Step Functions, whose state machine handlers list key use for an EncryptionConfiguration with
#: a customer managed key: the product's state machines have none, so an AWS owned key encrypts
#: them and no KMS call is made with the caller's permissions.
KEY_USE_VIA_SERVICES = ("cognito-idp", "rds", "secretsmanager")

#: Through Secrets Manager keys are used only for the secrets the launch role may reach: the
#: RDS-managed ones (encryption context SecretARN, Secrets Manager User Guide, "Secret encryption
#: and decryption") and the ones the admin allows (`mlflow_cfn.catalog.launch_policy`).
SECRETS_MANAGER = "secretsmanager"
SECRETS_MANAGER_VIA = Sub("secretsmanager.${AWS::Region}.amazonaws.com")
SECRET_CONTEXT = "kms:EncryptionContext:SecretARN"
RDS_SECRETS = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:rds!*"


#: The role actions the ``iam:PermissionsBoundary`` condition key applies to (Service
#: Authorization Reference, "Actions defined by AWS Identity and Access Management"): the launch
#: role may do them only to roles that carry (or get) the portfolio's boundary.
BOUNDED_ROLE_ACTIONS = (
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
)


#: The tag CloudFormation puts on every taggable resource it creates (CloudFormation User Guide,
#: "Tag your CloudFormation resources": aws:cloudformation:stack-name, stack-id, logical-id). No
#: one else can set it (tag keys starting with ``aws:`` are reserved), and Service Catalog names
#: its stacks ``SC-<account>-pp-<id>``.
OWNED_TAG = "aws:ResourceTag/aws:cloudformation:stack-name"

#: Destructive actions allowed only on resources of Service Catalog stacks (OWNED_TAG like
#: ``SC-*``), by service: the actions and the ARN kinds (resource types that the product creates
#: and CloudFormation tags; a security group, not a rule of it; a load balancer, not a listener)
#: they are granted on. Only actions whose every IAM resource type is one of those kinds, or a new
#: resource allowed apart (OWNED_ONLY_PLAIN), are here, so no untagged resource of the same request
#: (a default parameter group, a listener) fails the condition.
OWNED_ONLY_ACTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cognito-idp": (
        ("cognito-idp:DeleteResourceServer", "cognito-idp:DeleteUserPool",
         "cognito-idp:DeleteUserPoolClient", "cognito-idp:DeleteUserPoolDomain",
         "cognito-idp:SetUserPoolMfaConfig", "cognito-idp:UpdateResourceServer",
         "cognito-idp:UpdateUserPool", "cognito-idp:UpdateUserPoolClient",
         "cognito-idp:UpdateUserPoolDomain"),
        ("userpool/*",),
    ),
    "ec2": (
        ("ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress",
         "ec2:DeleteSecurityGroup", "ec2:RevokeSecurityGroupEgress",
         "ec2:RevokeSecurityGroupIngress", "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
         "ec2:UpdateSecurityGroupRuleDescriptionsIngress"),
        ("security-group/*",),
    ),
    "ecs": (
        ("ecs:DeleteCluster", "ecs:DeleteService", "ecs:PutClusterCapacityProviders",
         "ecs:UpdateCluster", "ecs:UpdateClusterSettings", "ecs:UpdateService"),
        ("cluster/*", "service/*"),
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
        ("loadbalancer/*", "targetgroup/*"),
    ),
    "kms": (
        ("kms:DisableKey", "kms:DisableKeyRotation", "kms:PutKeyPolicy",
         "kms:ScheduleKeyDeletion"),
        ("key/*",),
    ),
    "rds": (
        ("rds:DeleteDBCluster", "rds:DeleteDBClusterParameterGroup", "rds:DeleteDBInstance",
         "rds:DeleteDBSubnetGroup", "rds:DisableHttpEndpoint",
         "rds:ModifyDBClusterParameterGroup", "rds:ModifyDBSubnetGroup",
         "rds:PromoteReadReplica", "rds:RebootDBInstance", "rds:RemoveRoleFromDBCluster",
         "rds:RemoveRoleFromDBInstance", "rds:ResetDBClusterParameterGroup",
         "rds:StopDBInstanceAutomatedBackupsReplication"),
        ("cluster:*", "cluster-pg:*", "db:*", "subgrp:*"),
    ),
}  # fmt: skip

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


@dataclass(frozen=True)
class Grant:
    """Actions allowed on ``resources`` under ``condition`` on ``key`` (and under ``also``, more
    conditions); ``values`` empty means not needed."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: type[ConditionElement]
    key: str
    values: tuple[Any, ...]
    also: tuple[Grant, ...] = ()
    #: (statement id, actions, resources) allowed without the condition: resource types of the
    #: same request that cannot carry it (the final snapshot a delete creates).
    plain: tuple[str, tuple[str, ...], tuple[str, ...]] | None = None

    def condition_elements(self) -> list[ConditionElement]:
        """The condition on ``key`` (one value as is, several as a list), then ``also``'s."""
        values = list(self.values) if len(self.values) > 1 else self.values[0]
        return [
            self.condition(self.key, values),
            *(c for g in self.also for c in g.condition_elements()),
        ]


def conditioned_grants(
    variants: tuple[dict[str, Any], ...], table: dict[str, frozenset[str]], boundary: Any
) -> tuple[Grant, ...]:
    """The actions that are only safe with a condition, each with its condition(s); ``boundary``
    is the ARN of the portfolio's permissions boundary."""
    via = tuple(
        Sub(f"{s}.${{AWS::Region}}.amazonaws.com")
        for s in KEY_USE_VIA_SERVICES
        if s != SECRETS_MANAGER
    )
    bounded = Grant("", (), (), StringEquals, "iam:PermissionsBoundary", (boundary,))
    return (
        Grant("CreateAndChangeRolesOnlyWithThePortfoliosBoundary", BOUNDED_ROLE_ACTIONS,
              (PRODUCT_ROLES,), StringEquals, "iam:PermissionsBoundary", (boundary,)),
        Grant("PassProductRolesOnlyToTheServicesTheyTrust", ("iam:PassRole",), (PRODUCT_ROLES,),
              StringEquals, "iam:PassedToService", tuple(_passed_role_services(variants))),
        Grant("CreateOnlyTheProductsServiceLinkedRoles", ("iam:CreateServiceLinkedRole",),
              ("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/*",),
              StringEquals, "iam:AWSServiceName", tuple(_linked_role_services(table))),
        Grant("AttachOnlyThePoliciesTheProductAttaches",
              ("iam:AttachRolePolicy", "iam:DetachRolePolicy"), (PRODUCT_ROLES,),
              ArnEquals, "iam:PolicyARN", tuple(_attached_policy_arns(variants)),
              also=(bounded,)),
        Grant("GrantKeysOnlyToAwsServices", ("kms:CreateGrant",), (ACCOUNT_KEYS,),
              Bool, "kms:GrantIsForAWSResource", (True,)),
        Grant("UseKeysOnlyThroughTheProductsServices", KEY_USE_ACTIONS, (ACCOUNT_KEYS,),
              StringEquals, "kms:ViaService", via),
        Grant("UseKeysOnlyForRdsManagedSecrets", KEY_USE_ACTIONS, (ACCOUNT_KEYS,),
              StringEquals, "kms:ViaService", (SECRETS_MANAGER_VIA,),
              also=(Grant("", (), (), StringLike, SECRET_CONTEXT, (Sub(RDS_SECRETS),)),)),
        # The user pool domain handlers list it for custom domains (the product's is a prefix
        # domain): only distributions CloudFormation tagged as made by a Service Catalog stack,
        # and the product makes none.
        Grant("UpdateOnlyDistributionsOfServiceCatalogStacks", ("cloudfront:UpdateDistribution",),
              ("arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/*",),
              StringLike, "aws:ResourceTag/aws:cloudformation:stack-name", ("SC-*",)),
        Grant("ReadServiceCatalogsCopyOfTheProductTemplate", ("s3:GetObject",), ("*",),
              StringEquals, "s3:ExistingObjectTag/servicecatalog:provisioning", ("true",)),
        *_owned_only_grants(),
    )  # fmt: skip


def _owned_only_grants() -> list[Grant]:
    """OWNED_ONLY_ACTIONS, each service's under the stack-name tag condition, and the network's
    (NETWORK_OWNED_ONLY_EC2: granted only to a template that needs them)."""
    network_actions, network_kinds = NETWORK_OWNED_ONLY_EC2
    return [
        Grant(f"{pascal(service)}ChangesOnlyServiceCatalogStacksResources", actions,
              tuple(region_arn(service, kind) for kind in kinds), StringLike, OWNED_TAG, ("SC-*",),
              plain=OWNED_ONLY_PLAIN.get(service))
        for service, (actions, kinds) in sorted(OWNED_ONLY_ACTIONS.items())
    ] + [
        Grant("Ec2NetworkChangesOnlyServiceCatalogStacksResources", network_actions,
              tuple(region_arn("ec2", kind) for kind in network_kinds), StringLike, OWNED_TAG,
              ("SC-*",)),
    ]  # fmt: skip


def _portable(value: Any, where: str) -> Any:
    """``value`` if it means the same in the portfolio template (a literal, or Fn::Sub of pseudo
    parameters only); ValueError naming ``where`` otherwise."""
    text = value.get("Fn::Sub") if isinstance(value, dict) and len(value) == 1 else value
    if isinstance(text, str) and all(
        v.startswith("AWS::") for v in re.findall(r"\$\{([^}!]+)\}", text)
    ):
        return value
    raise ValueError(f"{where}: {json.dumps(value)} refers to the product's own template")


def _roles(variants: tuple[dict[str, Any], ...]) -> list[tuple[str, dict[str, Any]]]:
    """The product's IAM roles (logical id, properties), of every variant."""
    return resources_of(variants, "AWS::IAM::Role")


def _passed_role_services(variants: tuple[dict[str, Any], ...]) -> list[Any]:
    """The service principals the product's roles trust: the only services roles go to."""
    services = []
    for logical_id, props in _roles(variants):
        for statement in props["AssumeRolePolicyDocument"]["Statement"]:
            principal = statement.get("Principal", {}).get("Service", [])
            for service in principal if isinstance(principal, list) else [principal]:
                services.append(_portable(service, f"{logical_id} trust policy"))
    return _unique(services)


def _attached_policy_arns(variants: tuple[dict[str, Any], ...]) -> list[Any]:
    """The managed policies the product's roles attach: the only ones the launch role may."""
    arns = [
        _portable(arn, f"{logical_id} ManagedPolicyArns")
        for logical_id, props in _roles(variants)
        for arn in props.get("ManagedPolicyArns", [])
    ]
    return _unique(arns)


def _linked_role_services(table: dict[str, frozenset[str]]) -> list[str]:
    """The service-linked roles the product's resource types may create (the network's too)."""
    services = {**SERVICE_LINKED_ROLE_SERVICES, **NETWORK_SERVICE_LINKED_ROLE_SERVICES}
    namespaces = {
        t.rsplit("::", 1)[0] for t, a in table.items() if "iam:CreateServiceLinkedRole" in a
    } - NO_SERVICE_LINKED_ROLE.keys()
    missing = sorted(namespaces - services.keys())
    if missing:
        raise ValueError(f"add {', '.join(missing)} to SERVICE_LINKED_ROLE_SERVICES")
    return sorted(services[n] for n in namespaces)


def _unique(values: Iterable[Any]) -> list[Any]:
    """``values`` without repeats, sorted by their JSON text (stable output)."""
    by_text = {json.dumps(v, sort_keys=True): v for v in values}
    return [by_text[k] for k in sorted(by_text)]
