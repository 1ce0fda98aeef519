"""The names CloudFormation generates for a provisioned product's resources, and the ARN patterns
(for Fn::Sub) of the product's own resources by those names: what the launch role's scopes
(`mlflow_cfn.catalog.scopes`) and destructive grants (`mlflow_cfn.catalog.owned_grants`) reach,
and what the product must leave unnamed for them to hold (GENERATED_NAME_PROPERTIES).
"""

from __future__ import annotations

from typing import Any

from mlflow_cfn.catalog.product import resources_of

_ACCOUNT_REGION = (
    "arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"
)


def region_arn(service: str, resource: str) -> str:
    """An ARN pattern (for Fn::Sub) of ``resource`` of ``service`` in this account and region."""
    return _ACCOUNT_REGION.format(service=service, resource=resource)


#: IAM role ARNs (global: no region), before the role's name (the product sets no Path).
ROLES = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"

#: Step Functions names a state machine without StateMachineName ``<logical id>-<12 random
#: characters>``, at most this long (the logical id cut to fit): not after the stack, so unlike
#: the names of `generated_name` its ARNs cannot be scoped to ``SC-*``. The Step Functions resource
#: provider (aws-cloudformation-resource-providers-stepfunctions) calls
#: IdentifierUtils.generateResourceIdentifier(logicalResourceId, clientRequestToken, 80). The
#: launch role acts on ``stateMachine:<logical id>-*`` of each of the product's state machines
#: instead: logical ids are never renamed once released (tests/template/released.json), so an
#: update or termination of an older provisioned product still matches.
STATE_MACHINE_NAME_MAX = 80

#: The dash and the 12 random characters a generated name ends with.
GENERATED_NAME_SUFFIX = 13


def generated_name(logical_id: str, max_length: int, *, lower: bool = False) -> str:
    """The pattern of every name CloudFormation generates for the product's ``logical_id`` in a
    Service Catalog stack (``SC-*``), for a type whose names have at most ``max_length``
    characters (lower-cased if the provider lower-cases them).

    The resource provider SDK's IdentifierUtils.generateResourceIdentifier(stackId, logicalId,
    clientRequestToken, maxLength) (aws-cloudformation/cloudformation-cli-java-plugin) makes
    ``<stack name>-<logical id>-<12 random>``: it keeps GENERATED_NAME_SUFFIX characters for the
    random part and its dash and one for the dash between the names, and splits the rest fairly,
    each name taking up to half of it in turn. So whatever the stack name's length, the logical id
    keeps at least its first half of the rest (whole if shorter), and the stack name too (at least
    the ``SC-`` it starts with); a cut logical id is followed by ``*``, not ``-*``.
    """
    kept = min(len(logical_id), (max_length - GENERATED_NAME_SUFFIX - 1) // 2)
    name = f"SC-*-{logical_id[:kept]}" + ("-*" if kept == len(logical_id) else "*")
    return name.lower() if lower else name


#: Types whose resources the launch role reaches by the names CloudFormation generates for the
#: product's logical ids (`generated_name`): ARN up to the name (Fn::Sub), the most characters of a
#: name, and whether the provider lower-cases it. RDS: the RDS resource provider
#: (aws-cloudformation/aws-cloudformation-resource-providers-rds) names clusters, instances,
#: subnet groups and cluster parameter groups with its IdentifierFactory over the SDK's
#: generateResourceIdentifier, lower-cased, at most 63 characters (RESOURCE_ID_MAX_LENGTH) for
#: clusters and instances and 255 for the groups. IAM roles: 64 characters (IAM API Reference,
#: CreateRole RoleName; botocore's roleNameType); names real stacks got show the SDK's split
#: (KensioSoftware/yulin#1113: ``ChineseboostAnalyticsStac-RainlyticsSummariesJobFun-UjecjFhpdr1d``
#: for a 26-character stack). Alarms: 255 characters (CloudWatch API Reference, PutMetricAlarm
#: AlarmName), more than a 128-character stack name and the product's logical ids need, so never
#: cut. GENERATED_NAME_PROPERTIES keeps these names unset.
NAMED_TYPES: dict[str, tuple[str, int, bool]] = {
    "AWS::CloudWatch::Alarm": (region_arn("cloudwatch", "alarm:"), 255, False),
    "AWS::IAM::Role": (ROLES, 64, False),
    "AWS::RDS::DBCluster": (region_arn("rds", "cluster:"), 63, True),
    "AWS::RDS::DBClusterParameterGroup": (region_arn("rds", "cluster-pg:"), 255, True),
    "AWS::RDS::DBInstance": (region_arn("rds", "db:"), 63, True),
    "AWS::RDS::DBSubnetGroup": (region_arn("rds", "subgrp:"), 255, True),
}

#: The final snapshot the RDS provider's delete handler takes of a cluster (DeletionPolicy
#: Snapshot) or a stand-alone instance: named by the same IdentifierFactory after ``Snapshot-``
#: and the logical id, at most 255 characters, lower-cased (its DeleteHandler, SNAPSHOT_PREFIX).
FINAL_SNAPSHOTS: dict[str, str] = {
    "AWS::RDS::DBCluster": region_arn("rds", "cluster-snapshot:"),
    "AWS::RDS::DBInstance": region_arn("rds", "snapshot:"),
}
FINAL_SNAPSHOT_PREFIX = "Snapshot-"

#: Name properties the product must leave unset, by resource type, with the reason: its scope
#: assumes the names CloudFormation or the resource provider generates.
GENERATED_NAME_PROPERTIES: dict[str, tuple[tuple[str, ...], str]] = {
    "AWS::CloudWatch::Alarm": (
        ("AlarmName",),
        "alarm changes are scoped to the names CloudFormation generates for the product's alarms "
        "(alarm:SC-*-<logical id>-*)",
    ),
    "AWS::IAM::Role": (
        ("RoleName", "Path"),
        "role actions are scoped to the names CloudFormation generates for the product's roles "
        "(role/SC-*-<logical id>-*), on the default path (a Path is part of the role's ARN)",
    ),
    "AWS::RDS::DBCluster": (
        ("DBClusterIdentifier",),
        "RDS changes are scoped to the identifiers the RDS provider generates for the product's "
        "clusters (cluster:sc-*-<logical id>-*) and their final snapshots",
    ),
    "AWS::RDS::DBClusterParameterGroup": (
        ("DBClusterParameterGroupName",),
        "RDS changes are scoped to the names the RDS provider generates for the product's groups",
    ),
    "AWS::RDS::DBInstance": (
        ("DBInstanceIdentifier",),
        "RDS changes are scoped to the identifiers the RDS provider generates for the product's "
        "instances (db:sc-*-<logical id>-*)",
    ),
    "AWS::RDS::DBSubnetGroup": (
        ("DBSubnetGroupName",),
        "RDS changes are scoped to the names the RDS provider generates for the product's groups",
    ),
    "AWS::ECS::Cluster": (
        ("ClusterName",),
        "the service actions are scoped to services of clusters CloudFormation named after a "
        "Service Catalog stack and the cluster's logical id "
        "(`mlflow_cfn.catalog.owned_grants.STACK_NAMED_ACTIONS`)",
    ),
    "AWS::ECS::Service": (
        ("ServiceName",),
        "the service actions are scoped to services CloudFormation named after a Service "
        "Catalog stack and the service's logical id (CloudFormation does not tag services)",
    ),
    "AWS::Events::Rule": (
        ("Name", "EventBusName"),
        "events actions are scoped to rules CloudFormation named after a Service Catalog stack "
        "(rule/SC-*) on the default event bus (a custom bus's rule ARNs are rule/<bus>/<name>)",
    ),
    "AWS::SNS::Topic": (
        ("TopicName",),
        "sns actions are scoped to topics CloudFormation named after a Service Catalog stack "
        "(SC-*); a subscription's ARN is its topic's ARN and an id",
    ),
    "AWS::StepFunctions::StateMachine": (
        ("StateMachineName",),
        "states actions are scoped to the names Step Functions generates from the product's "
        "logical ids (stateMachine:<logical id>-*)",
    ),
}


def check_generated_names(variants: tuple[dict[str, Any], ...]) -> None:
    """ValueError when the product names a resource whose scope assumes a generated name."""
    for kind, (properties, reason) in GENERATED_NAME_PROPERTIES.items():
        for logical_id, props in resources_of(variants, kind):
            named = [p for p in properties if p in props]
            if named:
                raise ValueError(f"{logical_id}: {', '.join(named)} must stay unset: {reason}")


def state_machine_arns(variants: tuple[dict[str, Any], ...]) -> tuple[str, ...]:
    """ARN patterns (for Fn::Sub) of the product's state machines, by their generated names."""
    cut = STATE_MACHINE_NAME_MAX - GENERATED_NAME_SUFFIX
    machines = sorted({i for i, _ in resources_of(variants, "AWS::StepFunctions::StateMachine")})
    return tuple(region_arn("states", f"stateMachine:{i[:cut]}-*") for i in machines)


def named_arns(variants: tuple[dict[str, Any], ...], resource_type: str) -> tuple[str, ...]:
    """ARN patterns (for Fn::Sub) of the product's resources of ``resource_type`` (one of
    NAMED_TYPES), by the names CloudFormation generates for their logical ids."""
    prefix, max_length, lower = NAMED_TYPES[resource_type]
    ids = sorted({i for i, _ in resources_of(variants, resource_type)})
    return tuple(prefix + generated_name(i, max_length, lower=lower) for i in ids)


def product_role_arns(variants: tuple[dict[str, Any], ...]) -> tuple[str, ...]:
    """ARN patterns of the product's IAM roles, by their generated names: the roles the launch
    role may create, change, pass and delete."""
    return named_arns(variants, "AWS::IAM::Role")


def final_snapshot_arns(
    variants: tuple[dict[str, Any], ...], types: tuple[str, ...] = tuple(FINAL_SNAPSHOTS)
) -> tuple[str, ...]:
    """ARN patterns of the final snapshots the RDS provider takes of the product's resources of
    ``types`` (clusters and instances, FINAL_SNAPSHOTS)."""
    return tuple(
        FINAL_SNAPSHOTS[kind] + generated_name(FINAL_SNAPSHOT_PREFIX + i, 255, lower=True)
        for kind in types
        for i in sorted({i for i, _ in resources_of(variants, kind)})
    )
