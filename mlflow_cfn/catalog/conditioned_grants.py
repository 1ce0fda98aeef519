"""The launch role's actions that are only safe with a condition, each with its condition(s).

Passing the product's roles, creating service-linked roles, creating and changing roles (only with
the portfolio's permissions boundary), attaching managed policies, granting and using KMS keys:
what each may reach is derived from the product (the services its roles trust, the policies they
attach, the service-linked roles its resource types create) or fixed here. Changing and deleting
the product's resources: `mlflow_cfn.catalog.owned_grants`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from awacs.aws import ArnEquals, Bool, StringEquals, StringLike
from troposphere import Sub

from mlflow_cfn.catalog.generated_names import product_role_arns
from mlflow_cfn.catalog.grants import Grant
from mlflow_cfn.catalog.network_grants import (
    NETWORK_SERVICE_LINKED_ROLE_SERVICES,
    NO_SERVICE_LINKED_ROLE,
)
from mlflow_cfn.catalog.owned_grants import owned_grants
from mlflow_cfn.catalog.product import resources_of
from mlflow_cfn.catalog.scopes import ACCOUNT_KEYS

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

#: Services that use keys with the caller's permissions (as ``kms:ViaService``, the service's
#: endpoint name in the region, ``<service>.<region>.<the partition's DNS suffix>``; AWS KMS
#: Developer Guide, "kms:ViaService"): RDS (storage, Performance Insights),
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
SECRETS_MANAGER_VIA = Sub("secretsmanager.${AWS::Region}.${AWS::URLSuffix}")
SECRET_CONTEXT = "kms:EncryptionContext:SecretARN"
RDS_SECRETS = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:rds!*"


#: Role actions the ``iam:PermissionsBoundary`` condition key applies to (Service Authorization
#: Reference, "Actions defined by AWS Identity and Access Management"): the launch role may do them
#: only to roles that carry (or get) the portfolio's boundary. Every role action, these and the
#: rest (UpdateAssumeRolePolicy, DeleteRole, TagRole, PassRole...), reaches only the product's own
#: roles, by the names CloudFormation generates for them (`product_role_arns`): the boundary alone
#: does not tell them apart from the roles of the portfolio's other products, which carry it too.
BOUNDED_ROLE_ACTIONS = (
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
)


def conditioned_grants(
    variants: tuple[dict[str, Any], ...], table: dict[str, frozenset[str]], boundary: Any
) -> tuple[Grant, ...]:
    """The actions that are only safe with a condition, each with its condition(s); ``boundary``
    is the ARN of the portfolio's permissions boundary."""
    via = tuple(
        Sub(f"{s}.${{AWS::Region}}.${{AWS::URLSuffix}}")
        for s in KEY_USE_VIA_SERVICES
        if s != SECRETS_MANAGER
    )
    bounded = Grant("", (), (), StringEquals, "iam:PermissionsBoundary", (boundary,))
    roles = product_role_arns(variants)
    return (
        Grant("CreateAndChangeRolesOnlyWithThePortfoliosBoundary", BOUNDED_ROLE_ACTIONS,
              roles, StringEquals, "iam:PermissionsBoundary", (boundary,)),
        Grant("PassProductRolesOnlyToTheServicesTheyTrust", ("iam:PassRole",), roles,
              StringEquals, "iam:PassedToService", tuple(_passed_role_services(variants))),
        Grant("CreateOnlyTheProductsServiceLinkedRoles", ("iam:CreateServiceLinkedRole",),
              ("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/*",),
              StringEquals, "iam:AWSServiceName", tuple(_linked_role_services(table))),
        Grant("AttachOnlyThePoliciesTheProductAttaches",
              ("iam:AttachRolePolicy", "iam:DetachRolePolicy"), roles,
              ArnEquals, "iam:PolicyARN", tuple(_attached_policy_arns(variants)),
              also=(bounded,)),
        Grant("GrantKeysOnlyToAwsServices", ("kms:CreateGrant",), (ACCOUNT_KEYS,),
              Bool, "kms:GrantIsForAWSResource", (True,)),
        Grant("UseKeysOnlyThroughTheProductsServices", KEY_USE_ACTIONS, (ACCOUNT_KEYS,),
              StringEquals, "kms:ViaService", via),
        Grant("UseKeysOnlyForRdsManagedSecrets", KEY_USE_ACTIONS, (ACCOUNT_KEYS,),
              StringEquals, "kms:ViaService", (SECRETS_MANAGER_VIA,),
              also=(Grant("", (), (), StringLike, SECRET_CONTEXT, (Sub(RDS_SECRETS),)),)),
        Grant("ReadServiceCatalogsCopyOfTheProductTemplate", ("s3:GetObject",), ("*",),
              StringEquals, "s3:ExistingObjectTag/servicecatalog:provisioning", ("true",)),
        *owned_grants(variants),
    )  # fmt: skip


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
