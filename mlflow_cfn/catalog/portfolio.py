"""The Service Catalog portfolio template: a portfolio, the MLflow product and its launch role.

A platform team deploys it once. The launch role's policy is derived from the product template it
offers (or from several variants of it: the role then covers each): for each resource type, the
permissions its create/read/update/delete handlers list in the resource provider schemas bundled
with cfn-lint (so the policy changes only with the cfn-lint pin), plus what launching needs
besides: the checks of AWS-specific Parameter types and the dynamic references CloudFormation
resolves with the caller's permissions. Actions are scoped to the ARNs a provisioned product's
resources can have (RESOURCE_SCOPES per service; for state machines, whose generated names do not
start with the stack name, the names Step Functions derives from the product's logical ids;
ACTION_SCOPES where one action needs other ARNs than the rest of its service); actions that IAM
defines on no resource get ``*`` and are listed with their reason in WILDCARD_RESOURCE_EXCEPTIONS.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awacs.aws import (
    Action,
    Allow,
    ArnEquals,
    Bool,
    Condition,
    ConditionElement,
    PolicyDocument,
    Statement,
    StringEquals,
    StringLike,
)
from troposphere import GetAtt, Output, Ref, Sub, Template, encode_to_dict, iam, servicecatalog

from mlflow_cfn.cfn.schemas import iam_action, resource_schema
from mlflow_cfn.stack.parameters import ParameterSpec
from mlflow_cfn.stack.policies import VERSION, assume_role
from mlflow_cfn.versions import __version__

# --- Names: the portfolio template's public API (never renamed once released) ----------------
PORTFOLIO_NAME = "PortfolioName"
PORTFOLIO_PROVIDER_NAME = "PortfolioProviderName"
PRINCIPAL_ARN = "PrincipalArn"
PRODUCT_NAME = "ProductName"
PRODUCT_OWNER = "ProductOwner"
PRODUCT_VERSION_NAME = "ProductVersionName"
PRODUCT_TEMPLATE_URL = "ProductTemplateUrl"

PORTFOLIO = "Portfolio"
PRODUCT = "Product"
PORTFOLIO_PRODUCT_ASSOCIATION = "PortfolioProductAssociation"
PORTFOLIO_PRINCIPAL_ASSOCIATION = "PortfolioPrincipalAssociation"
LAUNCH_ROLE = "LaunchRole"
LAUNCH_ROLE_CONSTRAINT = "LaunchRoleConstraint"
LAUNCH_ROLE_POLICY_PREFIX = "LaunchRolePolicy"  # LaunchRolePolicy1, LaunchRolePolicy2, ...

PORTFOLIO_ID = "PortfolioId"
PRODUCT_ID = "ProductId"
LAUNCH_ROLE_ARN = "LaunchRoleArn"

GROUP_PORTFOLIO = "Portfolio"
GROUP_PRODUCT = "Product"

# --- IAM limits ------------------------------------------------------------------------------
#: Size limit of a managed policy document, whitespace not counted.
MANAGED_POLICY_MAX_CHARS = 6_144
#: Default quota of managed policies attached to one role.
MAX_MANAGED_POLICIES_PER_ROLE = 10

# --- Where the action table comes from -------------------------------------------------------
#: The handlers whose permissions the launch role gets ("list" is never called by a stack).
HANDLERS = ("create", "read", "update", "delete")
SERVICE_CATALOG_PRINCIPAL = "servicecatalog.amazonaws.com"

#: Resource types without handlers, and why they need no permission.
NO_HANDLER_TYPES: dict[str, str] = {
    "AWS::CloudFormation::WaitConditionHandle": (
        "CloudFormation itself makes the handle (a presigned URL); no service is called with the "
        "launch role's credentials"
    ),
}

#: Schema permissions that name an S3 API operation instead of the IAM action that authorizes it
#: (Amazon S3 API Reference, "Permissions" of each operation): that IAM action is granted instead.
SCHEMA_PERMISSION_ALIASES: dict[str, str] = {
    "s3:DeleteBucketAnalyticsConfiguration": "s3:PutAnalyticsConfiguration",
    "s3:DeleteBucketCors": "s3:PutBucketCORS",
    "s3:DeleteBucketEncryption": "s3:PutEncryptionConfiguration",
    "s3:DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
    "s3:DeleteBucketMetricsConfiguration": "s3:PutMetricsConfiguration",
    "s3:DeleteBucketReplication": "s3:PutReplicationConfiguration",
    "s3:PutBucketReplication": "s3:PutReplicationConfiguration",
    "s3:PutObjectLockConfiguration": "s3:PutBucketObjectLockConfiguration",
}

#: Schema permissions that are no IAM action at all, so they authorize nothing: not granted.
SCHEMA_PERMISSIONS_NOT_IAM: dict[str, str] = {
    "s3:REST.PUT.OBJECT": (
        "the name S3 server access logs give an object upload, not an IAM action; IAM rejects it"
    ),
}

#: Actions a resource type needs that its schema does not list, with the reason.
EXTRA_ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "AWS::RDS::DBCluster": (
        ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"),
        "Aurora encrypts storage and creates the RDS-managed master user secret with the stack's "
        "customer managed key using the caller's permissions (Aurora User Guide, 'Permissions "
        "required for Secrets Manager integration')",
    ),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": (
        ("iam:CreateServiceLinkedRole",),
        "the first load balancer of an account creates the Elastic Load Balancing service-linked "
        "role with the caller's permissions",
    ),
    "AWS::ApplicationAutoScaling::ScalableTarget": (
        ("ecs:DescribeServices", "ecs:UpdateService"),
        "registering an ECS service as a scalable target needs the caller's permission to "
        "describe and update that service (Amazon ECS Developer Guide, 'IAM permissions required "
        "for Amazon ECS service auto scaling')",
    ),
}

#: CloudFormation validates AWS-specific Parameter types against the account with the caller's
#: permissions: the describe call each type needs.
PARAMETER_TYPE_ACTIONS: dict[str, str] = {
    "AWS::EC2::SecurityGroup::Id": "ec2:DescribeSecurityGroups",
    "AWS::EC2::Subnet::Id": "ec2:DescribeSubnets",
    "AWS::EC2::VPC::Id": "ec2:DescribeVpcs",
}

#: CloudFormation resolves the product's dynamic references ``{{resolve:<service>:...}}`` with
#: the caller's permissions: the action that reads each service's values. Where it may read is in
#: ACTION_SCOPES.
DYNAMIC_REFERENCE_ACTIONS: dict[str, str] = {
    "secretsmanager": "secretsmanager:GetSecretValue",
}

#: What Service Catalog does with the launch role besides the resources: run the stack.
LAUNCH_ACTIONS = (
    "cloudformation:CreateChangeSet",
    "cloudformation:CreateStack",
    "cloudformation:DeleteChangeSet",
    "cloudformation:DeleteStack",
    "cloudformation:DescribeChangeSet",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStacks",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:GetTemplateSummary",
    "cloudformation:SetStackPolicy",
    "cloudformation:UpdateStack",
    "cloudformation:ValidateTemplate",
    "s3:GetObject",
)

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

_ACCOUNT_REGION = (
    "arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"
)


def _arn(service: str, resource: str) -> str:
    """An ARN pattern (for Fn::Sub) of ``resource`` of ``service`` in this account and region."""
    return _ACCOUNT_REGION.format(service=service, resource=resource)


#: The product's IAM roles: CloudFormation names them ``<stack>-<logical id>-<random>`` and
#: Service Catalog names its stacks ``SC-<account>-pp-<id>``.
PRODUCT_ROLES = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/SC-*"
#: Every key in this account and region: key ids are random, so no narrower pattern exists.
ACCOUNT_KEYS = _arn("kms", "key/*")

#: Where a scoped action may act, per IAM service prefix. Names CloudFormation generates start
#: with the stack name, so roles, log groups and EventBridge rules start with ``SC-`` and buckets
#: (lower-cased) with ``sc-``; KMS aliases are named after the stack by the product. A rule without
#: Name gets such a name (CloudFormation User Guide, AWS::Events::Rule: "If you don't specify a
#: name, CloudFormation generates a unique physical ID and uses that ID for the rule name"); cut to
#: the 64 characters a rule name may have, it keeps at least the first 25 of the stack name's 32
#: (13 characters go to the random suffix and its dash, 1 to the next dash, and the other 50 are
#: split fairly between stack name and logical id, as the resource provider SDK's
#: IdentifierUtils.generateResourceIdentifier does). The product's rules are on the default event
#: bus, whose rule ARNs are ``rule/<name>`` (GENERATED_NAME_PROPERTIES keeps both so). Other
#: services' names are truncated, random (user pools, scalable targets) or AWS defaults (RDS
#: default parameter and option groups): those are scoped to this account and region, by resource
#: type where IAM has one. CloudWatch alarms are named by Application Auto Scaling. The product has
#: no Lambda functions: the provisioned-concurrency calls the scalable target's handlers list may
#: only reach functions a Service Catalog stack named. Route 53 ARNs name no account (hosted zones
#: are global) and Route 53 has no resource-based policies, so an identity policy reaches only this
#: account's zones: record changes are limited to hosted zones, the zone the user gives. State
#: machines are not here: their scope is derived from the product, see STATE_MACHINE_NAME_MAX.
RESOURCE_SCOPES: dict[str, tuple[str, ...]] = {
    "application-autoscaling": (_arn("application-autoscaling", "scalable-target/*"),),
    "cloudformation": (_arn("cloudformation", "stack/SC-*"),),
    "cloudwatch": (_arn("cloudwatch", "alarm:*"),),
    "cognito-idp": (_arn("cognito-idp", "userpool/*"),),
    "ec2": tuple(
        _arn("ec2", f"{kind}/*") for kind in ("security-group", "security-group-rule", "vpc")
    ),
    "ecs": tuple(
        _arn("ecs", f"{kind}/*")
        for kind in ("cluster", "service", "service-deployment", "task-definition")
    ),
    "elasticloadbalancing": tuple(
        _arn("elasticloadbalancing", f"{kind}/*")
        for kind in ("listener", "listener-rule", "loadbalancer", "targetgroup")
    ),
    "events": (_arn("events", "rule/SC-*"),),
    "firehose": (_arn("firehose", "deliverystream/*"),),
    "iam": (PRODUCT_ROLES,),
    "kms": (ACCOUNT_KEYS, _arn("kms", "alias/SC-*")),
    "lambda": (_arn("lambda", "function:SC-*"),),
    "logs": (_arn("logs", "log-group:SC-*"),),
    "rds": (_arn("rds", "*"), "arn:${AWS::Partition}:rds::${AWS::AccountId}:global-cluster:*"),
    "route53": ("arn:${AWS::Partition}:route53:::hostedzone/*",),
    "s3": ("arn:${AWS::Partition}:s3:::sc-*", "arn:${AWS::Partition}:s3:::sc-*/*"),
    "s3tables": (_arn("s3tables", "bucket/*"),),
    "secretsmanager": (_arn("secretsmanager", "secret:rds!*"),),
}

#: Actions scoped apart from the rest of their service in RESOURCE_SCOPES, with the reason.
ACTION_SCOPES: dict[str, tuple[tuple[str, ...], str]] = {
    "route53:GetChange": (
        ("arn:${AWS::Partition}:route53:::change/*",),
        "the record set handlers wait for the change they submitted; IAM defines GetChange on "
        "changes only, which the hosted-zone scope of Route 53 does not match",
    ),
    "secretsmanager:GetSecretValue": (
        (_arn("secretsmanager", "secret:*"),),
        "CloudFormation resolves the product's {{resolve:secretsmanager:...}} references (the "
        "OIDC client secret) with the caller's permissions; the user names the secret, so any "
        "secret of this account and region may be read, while every other Secrets Manager action "
        "stays on the RDS-managed secrets",
    ),
}


#: Step Functions names a state machine without StateMachineName ``<logical id>-<12 random
#: characters>``, at most this long (the logical id cut to fit): not after the stack, so unlike the
#: services above its ARNs cannot be scoped to ``SC-*``. The Step Functions resource provider
#: (aws-cloudformation-resource-providers-stepfunctions) calls
#: IdentifierUtils.generateResourceIdentifier(logicalResourceId, clientRequestToken, 80). The
#: launch role acts on ``stateMachine:<logical id>-*`` of each of the product's state machines
#: instead: logical ids are never renamed once released (mlflow_cfn/stack/names.py), so an update or
#: termination of an older provisioned product still matches.
STATE_MACHINE_NAME_MAX = 80
#: The dash and the 12 random characters a generated name ends with.
GENERATED_NAME_SUFFIX = 13

#: Name properties the product must leave unset, by resource type, with the reason: its scope above
#: assumes the names CloudFormation or the resource provider generates.
GENERATED_NAME_PROPERTIES: dict[str, tuple[tuple[str, ...], str]] = {
    "AWS::Events::Rule": (
        ("Name", "EventBusName"),
        "events actions are scoped to rules CloudFormation named after a Service Catalog stack "
        "(rule/SC-*) on the default event bus (a custom bus's rule ARNs are rule/<bus>/<name>)",
    ),
    "AWS::StepFunctions::StateMachine": (
        ("StateMachineName",),
        "states actions are scoped to the names Step Functions generates from the product's "
        "logical ids (stateMachine:<logical id>-*)",
    ),
}


def _no_resource(needed_by: str) -> str:
    """The reason for a ``*`` resource: who needs the action, and that IAM scopes it nowhere."""
    return f"{needed_by}; IAM defines this action on no resource type, so only '*' matches"


#: The only actions granted on Resource "*", each with its reason. Every other action names ARNs.
WILDCARD_RESOURCE_EXCEPTIONS: dict[str, str] = {
    "cloudformation:GetTemplateSummary": (
        "Service Catalog reads the parameters of the provisioning artifact by its template URL; "
        "the request names no stack, so it is authorized on '*'"
    ),
    "cloudformation:ValidateTemplate": _no_resource("Service Catalog validates the artifact"),
    "s3:GetObject": (
        "Service Catalog keeps its copy of each provisioning artifact in a bucket it owns, in an "
        "account and bucket no one can name in advance; limited to objects tagged "
        "servicecatalog:provisioning=true, as the Service Catalog Administrator Guide documents"
    ),
    "application-autoscaling:DescribeScalableTargets": _no_resource("scalable target handlers"),
    "application-autoscaling:DescribeScalingPolicies": _no_resource("scaling policy handlers"),
    "application-autoscaling:DescribeScheduledActions": _no_resource(
        "scalable target handlers (the schedule's scaled-up and scaled-down actions)"
    ),
    "cloudwatch:GetMetricData": (
        "scaling policy create/update reads the target-tracking metric; IAM scopes it only to "
        "CloudWatch datasets, and a request for metrics names none, so it is authorized on '*'"
    ),
    "cognito-idp:CreateUserPool": _no_resource("user pool create (the pool does not exist yet)"),
    "cognito-idp:DescribeUserPoolDomain": _no_resource("user pool domain handlers"),
    "ec2:DescribeAccountAttributes": _no_resource("RDS DB instance create/read/update"),
    "ec2:DescribeAvailabilityZones": _no_resource("RDS DB instance create/read/update"),
    "ec2:DescribeInstances": _no_resource("security group delete (checks for attached instances)"),
    "ec2:DescribeInternetGateways": _no_resource("RDS DB instance create/read/update"),
    "ec2:DescribeIpamPools": _no_resource("load balancer create"),
    "ec2:DescribeSecurityGroupRules": _no_resource("security group ingress/egress rule handlers"),
    "ec2:DescribeSecurityGroups": _no_resource("security group handlers, RDS create/update"),
    "ec2:DescribeSubnets": _no_resource("RDS DB instance handlers, subnet-id Parameter checks"),
    "ec2:DescribeVpcs": _no_resource("target group and RDS handlers, VPC-id Parameter checks"),
    "ecs:DeregisterTaskDefinition": _no_resource("task definition delete and replacement"),
    "ecs:DescribeTaskDefinition": _no_resource("task definition handlers"),
    "ecs:PutAccountSetting": _no_resource("ECS cluster update"),
    "ecs:PutAccountSettingDefault": _no_resource("ECS cluster update"),
    "elasticloadbalancing:DescribeCapacityReservation": _no_resource("load balancer read"),
    "elasticloadbalancing:DescribeListenerAttributes": _no_resource("listener read/update"),
    "elasticloadbalancing:DescribeListeners": _no_resource("listener handlers"),
    "elasticloadbalancing:DescribeRules": _no_resource("listener rule handlers"),
    "elasticloadbalancing:DescribeLoadBalancerAttributes": _no_resource("load balancer read"),
    "elasticloadbalancing:DescribeLoadBalancers": _no_resource("load balancer handlers"),
    "elasticloadbalancing:DescribeTags": _no_resource("load balancer, listener, target group"),
    "elasticloadbalancing:DescribeTargetGroupAttributes": _no_resource("target group read"),
    "elasticloadbalancing:DescribeTargetGroups": _no_resource("target group handlers"),
    "elasticloadbalancing:DescribeTargetHealth": _no_resource("target group handlers"),
    "iam:ListRoles": _no_resource("RDS DB instance create/update"),
    "kms:CreateKey": _no_resource("KMS key create (the key does not exist yet)"),
    "kms:ListAliases": _no_resource("KMS alias read"),
    "logs:CreateLogDelivery": _no_resource("log group create/update"),
    "logs:DeleteIndexPolicy": _no_resource("log group update"),
    "logs:DeleteResourcePolicy": _no_resource("log group update"),
    "logs:DescribeIndexPolicies": _no_resource("log group handlers"),
    "logs:DescribeLogGroups": _no_resource("log group handlers"),
    "logs:DescribeResourcePolicies": _no_resource("log group handlers"),
    "logs:PutIndexPolicy": _no_resource("log group create/update"),
    "logs:PutResourcePolicy": _no_resource("log group create/update"),
    "rds:DescribeDBEngineVersions": _no_resource("RDS DB instance update"),
    "rds:DescribeEngineDefaultClusterParameters": _no_resource("cluster parameter group handlers"),
    "rds:DescribeEvents": _no_resource("RDS DB cluster and instance create/update"),
    "route53:ListHostedZones": _no_resource("record set handlers"),
}


def handler_permissions(resource_type: str) -> dict[str, tuple[str, ...]]:
    """The permissions each handler of ``resource_type`` lists in its bundled schema."""
    handlers = resource_schema(resource_type)
    return {
        name: tuple(handler.get("permissions", ()))
        for name, handler in handlers.get("handlers", {}).items()
        if name in HANDLERS
    }


def resource_actions(resource_type: str) -> frozenset[str]:
    """The IAM actions CloudFormation needs to create, read, update and delete ``resource_type``.

    Raises ValueError for a type with no handlers that NO_HANDLER_TYPES does not explain, and for
    schema permissions IAM does not know that no table here maps or explains.
    """
    if resource_type in NO_HANDLER_TYPES:
        return frozenset()
    permissions = {p for handler in handler_permissions(resource_type).values() for p in handler}
    actions = {
        SCHEMA_PERMISSION_ALIASES.get(p, p)
        for p in permissions
        if p not in SCHEMA_PERMISSIONS_NOT_IAM
    }
    actions.update(EXTRA_ACTIONS.get(resource_type, ((), ""))[0])
    if not actions:
        raise ValueError(
            f"{resource_type}: its schema lists no handler permissions; add it to "
            "NO_HANDLER_TYPES with the reason it needs none, or to EXTRA_ACTIONS with the "
            "actions it needs"
        )
    unknown = sorted(a for a in actions if iam_action(a) is None)
    if unknown:
        raise ValueError(
            f"{resource_type}: {', '.join(unknown)} are no IAM actions; map them in "
            "SCHEMA_PERMISSION_ALIASES or explain them in SCHEMA_PERMISSIONS_NOT_IAM"
        )
    return frozenset(actions)


#: The product template, or several variants of it (e.g. with and without a sidecar) that one
#: launch role serves.
ProductTemplates = dict[str, Any] | Sequence[dict[str, Any]]


def _variants(product_templates: ProductTemplates) -> tuple[dict[str, Any], ...]:
    """``product_templates`` as a tuple of templates; ValueError when there is none."""
    if isinstance(product_templates, dict):
        return (product_templates,)
    variants = tuple(product_templates)
    if not variants:
        raise ValueError("no product template given")
    return variants


def action_table(product_templates: ProductTemplates) -> dict[str, frozenset[str]]:
    """Resource type -> the actions its handlers need, for every type of the product template(s)."""
    types = sorted(
        {r["Type"] for t in _variants(product_templates) for r in t["Resources"].values()}
    )
    return {t: resource_actions(t) for t in types}


def _parameter_actions(variants: tuple[dict[str, Any], ...]) -> set[str]:
    """The describe calls that check the product's AWS-specific Parameter values."""
    actions = set()
    for variant in variants:
        for name, parameter in variant.get("Parameters", {}).items():
            kind = re.sub(r"^List<(.*)>$", r"\1", parameter["Type"])
            if kind.startswith("AWS::"):
                if kind not in PARAMETER_TYPE_ACTIONS:
                    raise ValueError(
                        f"Parameter {name}: add its type {kind} to PARAMETER_TYPE_ACTIONS"
                    )
                actions.add(PARAMETER_TYPE_ACTIONS[kind])
    return actions


def _dynamic_reference_actions(variants: tuple[dict[str, Any], ...]) -> set[str]:
    """The actions that read the values of the product's dynamic references."""
    services = {
        service
        for variant in variants
        for service in re.findall(r"\{\{resolve:([^:}]+):", json.dumps(variant))
    }
    missing = sorted(services - DYNAMIC_REFERENCE_ACTIONS.keys())
    if missing:
        raise ValueError(
            f"dynamic references to {', '.join(missing)}: add them to DYNAMIC_REFERENCE_ACTIONS"
        )
    return {DYNAMIC_REFERENCE_ACTIONS[s] for s in services}


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
    return _resources_of(variants, "AWS::IAM::Role")


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


def _resources_of(variants: tuple[dict[str, Any], ...], kind: str) -> list[tuple[str, Any]]:
    """The product's resources of type ``kind`` (logical id, properties), of every variant."""
    return [
        (logical_id, resource.get("Properties", {}))
        for variant in variants
        for logical_id, resource in variant["Resources"].items()
        if resource["Type"] == kind
    ]


def _check_generated_names(variants: tuple[dict[str, Any], ...]) -> None:
    """ValueError when the product names a resource whose scope assumes a generated name."""
    for kind, (properties, reason) in GENERATED_NAME_PROPERTIES.items():
        for logical_id, props in _resources_of(variants, kind):
            named = [p for p in properties if p in props]
            if named:
                raise ValueError(f"{logical_id}: {', '.join(named)} must stay unset: {reason}")


def _derived_scopes(variants: tuple[dict[str, Any], ...]) -> dict[str, tuple[str, ...]]:
    """The scopes that depend on the product: its state machines' generated names."""
    cut = STATE_MACHINE_NAME_MAX - GENERATED_NAME_SUFFIX
    machines = sorted({i for i, _ in _resources_of(variants, "AWS::StepFunctions::StateMachine")})
    if not machines:
        return {}
    return {"states": tuple(_arn("states", f"stateMachine:{i[:cut]}-*") for i in machines)}


def _linked_role_services(table: dict[str, frozenset[str]]) -> list[str]:
    """The service-linked roles the product's resource types may create."""
    namespaces = {
        t.rsplit("::", 1)[0] for t, a in table.items() if "iam:CreateServiceLinkedRole" in a
    }
    missing = sorted(namespaces - SERVICE_LINKED_ROLE_SERVICES.keys())
    if missing:
        raise ValueError(f"add {', '.join(missing)} to SERVICE_LINKED_ROLE_SERVICES")
    return sorted(SERVICE_LINKED_ROLE_SERVICES[n] for n in namespaces)


def _unique(values: Iterable[Any]) -> list[Any]:
    """``values`` without repeats, sorted by their JSON text (stable output)."""
    by_text = {json.dumps(v, sort_keys=True): v for v in values}
    return [by_text[k] for k in sorted(by_text)]


@dataclass(frozen=True)
class _Grant:
    """Actions allowed on ``resources`` under ``condition``; ``values`` empty means not needed."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: type[ConditionElement]
    key: str
    values: tuple[Any, ...]


def _conditioned_grants(
    variants: tuple[dict[str, Any], ...], table: dict[str, frozenset[str]]
) -> tuple[_Grant, ...]:
    """The actions that are only safe with a condition, each with its condition."""
    via = tuple(Sub(f"{s}.${{AWS::Region}}.amazonaws.com") for s in KEY_USE_VIA_SERVICES)
    return (
        _Grant("PassProductRolesOnlyToTheServicesTheyTrust", ("iam:PassRole",), (PRODUCT_ROLES,),
               StringEquals, "iam:PassedToService", tuple(_passed_role_services(variants))),
        _Grant("CreateOnlyTheProductsServiceLinkedRoles", ("iam:CreateServiceLinkedRole",),
               ("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/*",),
               StringEquals, "iam:AWSServiceName", tuple(_linked_role_services(table))),
        _Grant("AttachOnlyThePoliciesTheProductAttaches",
               ("iam:AttachRolePolicy", "iam:DetachRolePolicy"), (PRODUCT_ROLES,),
               ArnEquals, "iam:PolicyARN", tuple(_attached_policy_arns(variants))),
        _Grant("GrantKeysOnlyToAwsServices", ("kms:CreateGrant",), (ACCOUNT_KEYS,),
               Bool, "kms:GrantIsForAWSResource", (True,)),
        _Grant("UseKeysOnlyThroughTheProductsServices", KEY_USE_ACTIONS, (ACCOUNT_KEYS,),
               StringEquals, "kms:ViaService", via),
        # The user pool domain handlers list it for custom domains (the product's is a prefix
        # domain): only distributions CloudFormation tagged as made by a Service Catalog stack,
        # and the product makes none.
        _Grant("UpdateOnlyDistributionsOfServiceCatalogStacks", ("cloudfront:UpdateDistribution",),
               ("arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/*",),
               StringLike, "aws:ResourceTag/aws:cloudformation:stack-name", ("SC-*",)),
        _Grant("ReadServiceCatalogsCopyOfTheProductTemplate", ("s3:GetObject",), ("*",),
               StringEquals, "s3:ExistingObjectTag/servicecatalog:provisioning", ("true",)),
    )  # fmt: skip


def _pascal(service: str) -> str:
    """``cognito-idp`` -> ``CognitoIdp``, for statement ids."""
    return "".join(part.capitalize() for part in service.split("-"))


def _resources(patterns: Iterable[str]) -> list[Any]:
    """Resource entries: ``*`` as is, ARN patterns as Fn::Sub."""
    return [p if p == "*" else Sub(p) for p in patterns]


def launch_statements(product_templates: ProductTemplates) -> list[Statement]:
    """The launch role's statements: what the resources, Parameters and dynamic references of the
    product template(s) need, and the launch itself, in a stable order.

    Raises ValueError when a needed action can only be granted on ``*`` but has no entry in
    WILDCARD_RESOURCE_EXCEPTIONS, belongs to a service without RESOURCE_SCOPES (or a scope derived
    from the product), or reads a dynamic reference DYNAMIC_REFERENCE_ACTIONS does not cover, and
    when the product sets a name GENERATED_NAME_PROPERTIES keeps unset.
    """
    variants = _variants(product_templates)
    _check_generated_names(variants)
    scopes = {**RESOURCE_SCOPES, **_derived_scopes(variants)}
    table = action_table(variants)
    required = set().union(
        *table.values(),
        _parameter_actions(variants),
        _dynamic_reference_actions(variants),
        LAUNCH_ACTIONS,
    )
    needed = {a.lower(): a for a in sorted(required)}
    statements = []
    for grant in _conditioned_grants(variants, table):
        actions = [a for a in grant.actions if needed.pop(a.lower(), None)]
        if actions and grant.values:
            values = list(grant.values) if len(grant.values) > 1 else grant.values[0]
            statements.append(
                Statement(
                    Sid=grant.sid,
                    Effect=Allow,
                    Action=[Action(*a.split(":", 1)) for a in actions],
                    Resource=_resources(grant.resources),
                    Condition=Condition(grant.condition(grant.key, values)),
                )
            )
    unknown = sorted(a for a in needed.values() if iam_action(a) is None)
    if unknown:
        raise ValueError(f"{', '.join(unknown)} are no IAM actions")
    wildcard = {a.lower() for a in WILDCARD_RESOURCE_EXCEPTIONS}
    unscopable = sorted(
        a for k, a in needed.items() if k not in wildcard and not iam_action(a).get("Resources")
    )
    if unscopable:
        raise ValueError(
            f"{', '.join(unscopable)} can only be granted on '*': add each to "
            "WILDCARD_RESOURCE_EXCEPTIONS with its reason"
        )
    action_scopes = {a.lower(): (a.split(":", 1)[1], s) for a, (s, _) in ACTION_SCOPES.items()}
    groups: dict[tuple[str, str], tuple[tuple[str, ...], list[str]]] = {}
    for key, action in needed.items():
        service = key.split(":")[0]
        if key in wildcard:
            label, patterns = "WithoutResourceLevelPermissions", ("*",)
        elif key in action_scopes:
            label, patterns = action_scopes[key]
        else:
            label, patterns = "Scoped", scopes.get(service, ())
        groups.setdefault((service, label), (patterns, []))[1].append(action)
    for (service, label), (patterns, actions) in sorted(groups.items()):
        if not patterns:
            raise ValueError(f"{', '.join(actions)}: add {service!r} to RESOURCE_SCOPES")
        statements.append(
            Statement(
                Sid=_pascal(service) + label,
                Effect=Allow,
                Action=[Action(*a.split(":", 1)) for a in actions],
                Resource=_resources(patterns),
            )
        )
    return statements


def policy_chars(document: PolicyDocument) -> int:
    """Characters of ``document`` as IAM counts them (no whitespace). Fn::Sub placeholders are
    longer than the values they stand for, so this over-counts."""
    return len(json.dumps(encode_to_dict(document), separators=(",", ":")))


def launch_policy_documents(product_templates: ProductTemplates) -> list[PolicyDocument]:
    """The launch statements packed, in order, into documents of managed-policy size."""
    documents: list[list[Statement]] = [[]]
    for statement in launch_statements(product_templates):
        if policy_chars(PolicyDocument(Version=VERSION, Statement=[statement])) >= (
            MANAGED_POLICY_MAX_CHARS
        ):
            raise ValueError(f"statement {statement.Sid} alone exceeds a managed policy")
        candidate = PolicyDocument(Version=VERSION, Statement=[*documents[-1], statement])
        if policy_chars(candidate) >= MANAGED_POLICY_MAX_CHARS:
            documents.append([])
        documents[-1].append(statement)
    if len(documents) > MAX_MANAGED_POLICIES_PER_ROLE:
        raise ValueError(f"the launch role needs {len(documents)} managed policies")
    return [PolicyDocument(Version=VERSION, Statement=s) for s in documents]


def _parameter_specs() -> list[ParameterSpec]:
    """The portfolio template's Parameters, in console order."""
    name_pattern = r"^\S(.*\S)?$"
    return [
        ParameterSpec(
            PORTFOLIO_NAME, "String", "Display name of the Service Catalog portfolio.",
            "Portfolio name", GROUP_PORTFOLIO, default="MLflow",
            allowed_pattern=name_pattern, max_length=100,
            constraint_description="1 to 100 characters, no leading or trailing space.",
        ),
        ParameterSpec(
            PORTFOLIO_PROVIDER_NAME, "String",
            "Who provides the portfolio, e.g. the platform team's name.",
            "Portfolio provider", GROUP_PORTFOLIO,
            allowed_pattern=name_pattern, max_length=50,
            constraint_description="1 to 50 characters, no leading or trailing space.",
        ),
        ParameterSpec(
            PRINCIPAL_ARN, "String",
            "ARN of the IAM role, group or user that may launch the product, e.g. "
            "arn:aws:iam::123456789012:role/DataScientist.",
            "Principal with access", GROUP_PORTFOLIO,
            allowed_pattern=(
                r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|group|user)/([\w+=,.@-]+/)*[\w+=,.@-]+$"
            ),
            constraint_description="An IAM role, group or user ARN of this partition.",
        ),
        ParameterSpec(
            PRODUCT_NAME, "String", "Name of the MLflow product in the portfolio.",
            "Product name", GROUP_PRODUCT, default="MLflow tracking server",
            allowed_pattern=name_pattern, max_length=100,
            constraint_description="1 to 100 characters, no leading or trailing space.",
        ),
        ParameterSpec(
            PRODUCT_OWNER, "String", "Owner of the product shown to users, e.g. a team name.",
            "Product owner", GROUP_PRODUCT,
            allowed_pattern=name_pattern, max_length=100,
            constraint_description="1 to 100 characters, no leading or trailing space.",
        ),
        ParameterSpec(
            PRODUCT_VERSION_NAME, "String",
            "Version name of the provisioning artifact, the mlflow-cfn release it was built by.",
            "Product version", GROUP_PRODUCT, default=f"v{__version__}",
            allowed_pattern=r"^v[0-9]+\.[0-9]+\.[0-9]+$",
            constraint_description="v followed by a semantic version, e.g. v0.1.0.",
        ),
        ParameterSpec(
            PRODUCT_TEMPLATE_URL, "String",
            "HTTPS URL of the uploaded product template (templates/mlflow.json) in S3, e.g. "
            "https://my-bucket.s3.eu-west-1.amazonaws.com/mlflow/v0.1.0/mlflow.json.",
            "Product template URL", GROUP_PRODUCT,
            allowed_pattern=(
                r"^https://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\.)?s3([.-][a-z0-9-]+)*"
                r"\.amazonaws\.com(\.cn)?/\S+$"
            ),
            constraint_description="An https URL of an S3 object (virtual-hosted or path style).",
        ),
    ]  # fmt: skip


def _add_parameters(template: Template, specs: list[ParameterSpec]) -> dict[str, Ref]:
    """Add the Parameters with their console groups and labels; return Refs by name."""
    refs = {spec.name: Ref(template.add_parameter(spec.to_parameter())) for spec in specs}
    groups = list(dict.fromkeys(spec.group for spec in specs))
    template.set_metadata(
        {
            "AWS::CloudFormation::Interface": {
                "ParameterGroups": [
                    {"Label": {"default": g}, "Parameters": [s.name for s in specs if s.group == g]}
                    for g in groups
                ],
                "ParameterLabels": {s.name: {"default": s.label} for s in specs},
            }
        }
    )
    return refs


def _add_launch_role(template: Template, product_templates: ProductTemplates) -> iam.Role:
    """The launch role, trusted by Service Catalog, with its managed policies attached."""
    documents = launch_policy_documents(product_templates)
    policies = [
        template.add_resource(
            iam.ManagedPolicy(
                f"{LAUNCH_ROLE_POLICY_PREFIX}{i}",
                Description=(
                    f"MLflow product launch permissions, part {i} of {len(documents)}: derived "
                    "from the product template's resource types"
                ),
                PolicyDocument=document,
            )
        )
        for i, document in enumerate(documents, start=1)
    ]
    return template.add_resource(
        iam.Role(
            LAUNCH_ROLE,
            Description="Service Catalog launches, updates and ends MLflow products with it",
            AssumeRolePolicyDocument=assume_role(SERVICE_CATALOG_PRINCIPAL),
            ManagedPolicyArns=[Ref(p) for p in policies],
        )
    )


def build_portfolio_template(product_templates: ProductTemplates) -> Template:
    """The portfolio template offering the product: ``product_templates`` is its template (the
    committed templates/mlflow.json) or several variants of it (e.g. with
    templates/mlflow-datadog.json), which the launch role then all covers; the product's
    description is the first one's.

    Raises ValueError when the product uses something the launch-role tables do not cover.
    """
    variants = _variants(product_templates)
    template = Template(
        Description=(
            f"Service Catalog portfolio offering the MLflow product, with its launch role "
            f"(mlflow-cfn {__version__})"
        )
    )
    template.set_version("2010-09-09")
    params = _add_parameters(template, _parameter_specs())
    portfolio = template.add_resource(
        servicecatalog.Portfolio(
            PORTFOLIO,
            DisplayName=params[PORTFOLIO_NAME],
            ProviderName=params[PORTFOLIO_PROVIDER_NAME],
            Description="Self-service MLflow tracking servers",
        )
    )
    product = template.add_resource(
        servicecatalog.CloudFormationProduct(
            PRODUCT,
            Name=params[PRODUCT_NAME],
            Owner=params[PRODUCT_OWNER],
            Description=variants[0].get("Description", "MLflow tracking server"),
            ProvisioningArtifactParameters=[
                servicecatalog.ProvisioningArtifactProperties(
                    Name=params[PRODUCT_VERSION_NAME],
                    Description=f"Built by mlflow-cfn {__version__}",
                    Info=servicecatalog.Info(LoadTemplateFromURL=params[PRODUCT_TEMPLATE_URL]),
                    Type="CLOUD_FORMATION_TEMPLATE",
                )
            ],
        )
    )
    association = template.add_resource(
        servicecatalog.PortfolioProductAssociation(
            PORTFOLIO_PRODUCT_ASSOCIATION, PortfolioId=Ref(portfolio), ProductId=Ref(product)
        )
    )
    template.add_resource(
        servicecatalog.PortfolioPrincipalAssociation(
            PORTFOLIO_PRINCIPAL_ASSOCIATION,
            PortfolioId=Ref(portfolio),
            PrincipalARN=params[PRINCIPAL_ARN],
            PrincipalType="IAM",
        )
    )
    role = _add_launch_role(template, variants)
    template.add_resource(
        servicecatalog.LaunchRoleConstraint(
            LAUNCH_ROLE_CONSTRAINT,
            DependsOn=[association],
            Description="Launch as the MLflow launch role: users need no permissions of their own",
            PortfolioId=Ref(portfolio),
            ProductId=Ref(product),
            LocalRoleName=Ref(role),
        )
    )
    template.add_output(
        [
            Output(PORTFOLIO_ID, Description="Id of the portfolio", Value=Ref(portfolio)),
            Output(PRODUCT_ID, Description="Id of the MLflow product", Value=Ref(product)),
            Output(
                LAUNCH_ROLE_ARN,
                Description="ARN of the role Service Catalog launches the product as",
                Value=GetAtt(role, "Arn"),
            ),
        ]
    )
    return template


def portfolio_template_from_file(path: str | Path, *variants: str | Path) -> Template:
    """The portfolio template offering the product template stored as JSON at ``path``, its launch
    role also covering the product's ``variants`` stored beside it."""
    return build_portfolio_template([json.loads(Path(p).read_text()) for p in (path, *variants)])
