"""Where the launch role's actions may act: the ARNs a provisioned product's resources can have.

Actions are scoped per IAM service prefix (RESOURCE_SCOPES); IAM roles, and the changes to RDS
databases and CloudWatch alarms, to the names CloudFormation generates for the product's own
logical ids (`mlflow_cfn.catalog.generated_names`); state machines, whose generated names do not
start with the stack name, to the names Step Functions derives from the product's logical ids;
ACTION_SCOPES where one action needs other ARNs than the rest of its service. Actions that IAM
defines on no resource get ``*`` and are listed with their reason in WILDCARD_RESOURCE_EXCEPTIONS.
The scopes assume names CloudFormation generates, so the product must leave the names in
GENERATED_NAME_PROPERTIES unset.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mlflow_cfn.catalog.generated_names import (
    GENERATED_NAME_PROPERTIES as GENERATED_NAME_PROPERTIES,
)
from mlflow_cfn.catalog.generated_names import (
    GENERATED_NAME_SUFFIX as GENERATED_NAME_SUFFIX,
)
from mlflow_cfn.catalog.generated_names import (
    NAMED_TYPES,
    final_snapshot_arns,
    named_arns,
    product_role_arns,
    region_arn,
    state_machine_arns,
)
from mlflow_cfn.catalog.network_grants import (
    EC2_KINDS_BY_TYPE,
    NETWORK_WILDCARD_RESOURCE_EXCEPTIONS,
)
from mlflow_cfn.cfn.schemas import iam_action

#: The product's dashboard, which it names after the stack (dashboards are global: no region).
DASHBOARDS = "arn:${AWS::Partition}:cloudwatch::${AWS::AccountId}:dashboard/SC-*"

#: Every key in this account and region: key ids are random, so no narrower pattern exists.
ACCOUNT_KEYS = region_arn("kms", "key/*")

#: Where a scoped action may act, per IAM service prefix. Names CloudFormation generates start
#: with the stack name, so log groups and EventBridge rules start with ``SC-`` and buckets
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
#: type where IAM has one. For RDS and CloudWatch these are the scopes of what only reads (READS):
#: their changes reach only the product's own databases and alarms (`named_changes`). The product
#: names its dashboard after the stack. IAM roles are not here: only the product's own roles, by
#: their generated names (`product_role_arns`).
#: The product has no Lambda functions: the provisioned-concurrency calls the scalable target's
#: handlers list may only reach functions a Service Catalog stack named. Route 53's hosted zones
#: and Secrets Manager's secrets are not here: the launch role reaches only those the admin allows
#: (ALLOW_LISTED_ACTIONS). State machines are not here: their scope is derived from the product
#: (`mlflow_cfn.catalog.generated_names.STATE_MACHINE_NAME_MAX`).
RESOURCE_SCOPES: dict[str, tuple[str, ...]] = {
    "application-autoscaling": (region_arn("application-autoscaling", "scalable-target/*"),),
    "cloudformation": (region_arn("cloudformation", "stack/SC-*"),),
    "cloudwatch": (region_arn("cloudwatch", "alarm:*"), DASHBOARDS),
    "cognito-idp": (region_arn("cognito-idp", "userpool/*"),),
    "ec2": tuple(
        region_arn("ec2", f"{kind}/*") for kind in ("security-group", "security-group-rule", "vpc")
    ),
    "ecs": tuple(
        region_arn("ecs", f"{kind}/*")
        for kind in ("cluster", "service", "service-deployment", "task-definition")
    ),
    "elasticloadbalancing": tuple(
        region_arn("elasticloadbalancing", f"{kind}/*")
        for kind in ("listener", "listener-rule", "loadbalancer", "targetgroup")
    ),
    "events": (region_arn("events", "rule/SC-*"),),
    "firehose": (region_arn("firehose", "deliverystream/*"),),
    "kms": (ACCOUNT_KEYS, region_arn("kms", "alias/SC-*")),
    "lambda": (region_arn("lambda", "function:SC-*"),),
    "logs": (region_arn("logs", "log-group:SC-*"),),
    "rds": (
        region_arn("rds", "*"),
        "arn:${AWS::Partition}:rds::${AWS::AccountId}:global-cluster:*",
    ),
    "s3": ("arn:${AWS::Partition}:s3:::sc-*", "arn:${AWS::Partition}:s3:::sc-*/*"),
    "s3tables": (region_arn("s3tables", "bucket/*"),),
    "secretsmanager": (region_arn("secretsmanager", "secret:rds!*"),),
    "sns": (region_arn("sns", "SC-*"),),
}

#: Actions scoped apart from the rest of their service in RESOURCE_SCOPES, with the reason.
ACTION_SCOPES: dict[str, tuple[tuple[str, ...], str]] = {
    "route53:GetChange": (
        ("arn:${AWS::Partition}:route53:::change/*",),
        "the record set handlers wait for the change they submitted; IAM defines GetChange on "
        "changes only, which the hosted-zone scope of Route 53 does not match",
    ),
}

#: Actions whose resources are what the admin allows (`mlflow_cfn.catalog.portfolio_inputs`):
#: action -> (allow-list, what comes before and after each entry in the ARN, reason). Granted only
#: when the list is not empty. Route 53 ARNs name no account (hosted zones are global) and Route 53
#: has no resource-based policies, so ``arn:*:`` (the partition of the request) reaches only this
#: account's zones.
_ZONE_RECORDS = (
    "hosted_zones",
    "arn:*:route53:::hostedzone/",
    "",
    "the record set handlers change, read and list records of the zone the launcher gives as "
    "HostedZoneId: only the zones the admin allows",
)
ALLOW_LISTED_ACTIONS: dict[str, tuple[str, str, str, str]] = {
    "route53:ChangeResourceRecordSets": _ZONE_RECORDS,
    "route53:GetHostedZone": _ZONE_RECORDS,
    "route53:ListResourceRecordSets": _ZONE_RECORDS,
    "secretsmanager:GetSecretValue": (
        "secret_prefixes",
        "",
        "*",
        "CloudFormation resolves the product's {{resolve:secretsmanager:...}} references (the OIDC "
        "client secret) with the launch role: only secrets under the ARN prefixes the admin "
        "allows, never the RDS-managed ones, which no handler reads",
    ),
}

#: Actions that only read, by the AWS API naming convention (Describe and List operations change
#: nothing): for RDS and CloudWatch they keep the service's RESOURCE_SCOPES.
READS = ("Describe", "List")

#: RDS resources the product's changes name but never create, allowed account-wide: the engine's
#: default DB parameter group and option group its instances use (RDS names them
#: ``default.<family>``, ``default:<engine>-<version>``) and Aurora global clusters (which the
#: product joins none of; RemoveFromGlobalCluster also names the cluster, which must be the
#: product's).
RDS_REFERENCED = (
    region_arn("rds", "pg:*"),
    region_arn("rds", "og:*"),
    "arn:${AWS::Partition}:rds::${AWS::AccountId}:global-cluster:*",
)

#: The alarm ARN of a request that names no alarm: Application Auto Scaling checks the caller's
#: cloudwatch:PutMetricAlarm and cloudwatch:DeleteAlarms with such requests when it registers a
#: scalable target (Application Auto Scaling User Guide, "Permissions validation for API calls on
#: target resources": "we provide no parameters to DeleteAlarms"), which IAM evaluates on the alarm
#: ARN with an empty name (an AccessDenied for DeleteAlarms of no alarm names
#: ``arn:aws:cloudwatch:<region>:<account>:alarm:``, aws-samples/amazon-cloudwatch-auto-alarms#18).
#: It matches no alarm. The target tracking alarms (``TargetTracking-<resource id>-AlarmHigh-...``)
#: are Application Auto Scaling's: it changes them with its service-linked role, never the caller's
#: (its User Guide, "Service-linked roles": AWSServiceRoleForApplicationAutoScaling_ECSService).
NO_ALARM = region_arn("cloudwatch", "alarm:")


def _no_resource(needed_by: str) -> str:
    """The reason for a ``*`` resource: who needs the action, and that IAM scopes it nowhere."""
    return (
        f"{needed_by}; the Service Authorization Reference (the service's page 'Actions, "
        "resources, and condition keys for ...', Resource types column empty) defines this "
        "action on no resource type, so only '*' matches"
    )


#: The only actions granted on Resource "*", each with its reason. Every other action names ARNs.
#: tests/publish/test_portfolio.py checks each against cfn-lint's copy of the Service
#: Authorization Reference (Policies.json): no resource type, or one no request can name.
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
    "ec2:DescribeNetworkInterfaces": _no_resource(
        "Lambda function handlers; the network's VPC endpoint and NAT gateway handlers"
    ),
    "ec2:DescribeSecurityGroupRules": _no_resource("security group ingress/egress rule handlers"),
    "ec2:DescribeSecurityGroups": _no_resource("security group handlers, RDS create/update"),
    "ec2:DescribeSubnets": _no_resource("RDS DB instance handlers, subnet-id Parameter checks"),
    "ec2:DescribeVpcs": _no_resource("target group and RDS handlers, VPC-id Parameter checks"),
    "ecs:DeregisterTaskDefinition": _no_resource("task definition delete and replacement"),
    "ecs:DescribeTaskDefinition": _no_resource("task definition handlers"),
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


class ScopedActions(NamedTuple):
    """One statement's worth of actions: its id, the ARN patterns it allows and the actions; or,
    with ``allow_list`` (list, before and after each entry), the ARNs the admin allows."""

    sid: str
    patterns: tuple[str, ...]
    actions: list[str]
    allow_list: tuple[str, ...] | None = None


def scoped_actions(
    needed: dict[str, str], variants: tuple[dict[str, Any], ...]
) -> list[ScopedActions]:
    """The ``needed`` actions (by lower-case name) grouped by service and scope, sorted: each on
    its service's scope, its own ACTION_SCOPES entry or, if IAM scopes it nowhere, ``*``.

    Raises ValueError for a name IAM does not know, for an action that can only be granted on
    ``*`` but has no entry in WILDCARD_RESOURCE_EXCEPTIONS, and for a service without a scope.
    """
    exceptions = (*WILDCARD_RESOURCE_EXCEPTIONS, *NETWORK_WILDCARD_RESOURCE_EXCEPTIONS)
    wildcard = {a.lower() for a in exceptions}
    _check_scopable(needed, wildcard)
    scopes = {**RESOURCE_SCOPES, **_derived_scopes(variants)}
    changes = named_changes(variants)
    action_scopes = {a.lower(): (a.split(":", 1)[1], s) for a, (s, _) in ACTION_SCOPES.items()}
    allow_listed = {a.lower(): entry[:3] for a, entry in ALLOW_LISTED_ACTIONS.items()}
    # (service, statement id suffix, allow-list) -> (ARN patterns, actions)
    groups: dict[tuple[str, str, tuple[str, ...]], tuple[tuple[str, ...], list[str]]] = {}
    for key, action in needed.items():
        service, listed = key.split(":")[0], allow_listed.get(key, ())
        if listed:
            label, patterns = "OnlyWhatTheAdminAllows", ()
        elif key in wildcard:
            label, patterns = "WithoutResourceLevelPermissions", ("*",)
        elif key in action_scopes:
            label, patterns = action_scopes[key]
        elif service in changes and not action.split(":")[1].startswith(READS):
            label, patterns = "ChangesOnlyTheProductsOwn", changes[service]
        else:
            label, patterns = "Scoped", scopes.get(service, ())
        groups.setdefault((service, label, listed), (patterns, []))[1].append(action)
    scoped = []
    for (service, label, listed), (patterns, actions) in sorted(groups.items()):
        if not patterns and not listed:
            raise ValueError(f"{', '.join(actions)}: add {service!r} to RESOURCE_SCOPES")
        scoped.append(ScopedActions(pascal(service) + label, patterns, actions, listed or None))
    return scoped


def _check_scopable(needed: dict[str, str], wildcard: set[str]) -> None:
    """ValueError for needed names IAM does not know, then for actions IAM scopes nowhere that
    have no ``wildcard`` exception."""
    unknown = sorted(a for a in needed.values() if iam_action(a) is None)
    if unknown:
        raise ValueError(f"{', '.join(unknown)} are no IAM actions")
    unscopable = sorted(
        a for k, a in needed.items() if k not in wildcard and not iam_action(a).get("Resources")
    )
    if unscopable:
        raise ValueError(
            f"{', '.join(unscopable)} can only be granted on '*': add each to "
            "WILDCARD_RESOURCE_EXCEPTIONS with its reason"
        )


def _derived_scopes(variants: tuple[dict[str, Any], ...]) -> dict[str, tuple[str, ...]]:
    """The scopes that depend on the product: its roles' and state machines' generated names, and
    the EC2 kinds of the network template's types (EC2_KINDS_BY_TYPE; none is the product's)."""
    machines = state_machine_arns(variants)
    roles = product_role_arns(variants)
    types = {r["Type"] for variant in variants for r in variant["Resources"].values()}
    kinds = sorted({k for t in types for k in EC2_KINDS_BY_TYPE.get(t, ())})
    derived = {"states": machines} if machines else {}
    if roles:
        derived["iam"] = roles
    if kinds:
        derived["ec2"] = (*RESOURCE_SCOPES["ec2"], *(region_arn("ec2", f"{k}/*") for k in kinds))
    return derived


def named_changes(variants: tuple[dict[str, Any], ...]) -> dict[str, tuple[str, ...]]:
    """Where the changing actions of RDS and CloudWatch (all but READS) may act: the product's
    own databases (NAMED_TYPES), their final snapshots and what they name but never create
    (RDS_REFERENCED); the product's own alarms, the request of no alarm (NO_ALARM) and the
    product's dashboard."""
    rds = [named_arns(variants, t) for t in NAMED_TYPES if t.startswith("AWS::RDS::")]
    alarms = named_arns(variants, "AWS::CloudWatch::Alarm")
    return {
        "cloudwatch": (*alarms, NO_ALARM, DASHBOARDS),
        "rds": (
            *(a for arns in rds for a in arns),
            *final_snapshot_arns(variants),
            *RDS_REFERENCED,
        ),
    }


def pascal(service: str) -> str:
    """``cognito-idp`` -> ``CognitoIdp``, for statement ids."""
    return "".join(part.capitalize() for part in service.split("-"))
