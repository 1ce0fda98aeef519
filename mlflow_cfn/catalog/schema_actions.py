"""What CloudFormation needs to manage each resource type of the product, from cfn-lint's schemas.

For each type, the permissions its create/read/update/delete handlers list in the resource provider
schemas bundled with cfn-lint (so the launch role changes only with the cfn-lint pin), corrected by
the tables here: schema permissions that name an S3 API operation instead of its IAM action, ones
that are no IAM action at all, and actions a type needs that its schema does not list.
"""

from __future__ import annotations

from mlflow_cfn.catalog.network_grants import (
    CUSTOM_RESOURCE_ACTIONS,
    NETWORK_SCHEMA_PERMISSIONS_NOT_IAM,
)
from mlflow_cfn.catalog.product import ProductTemplates, product_variants
from mlflow_cfn.cfn.schemas import iam_action, resource_schema

#: The handlers whose permissions the launch role gets ("list" is never called by a stack).
HANDLERS = ("create", "read", "update", "delete")

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
    "lambda:AssociateRuntimeAlias": (
        "listed by the Lambda function handlers (the wake function; the network's function); "
        "IAM defines no such action"
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
    if resource_type in CUSTOM_RESOURCE_ACTIONS:
        return frozenset(CUSTOM_RESOURCE_ACTIONS[resource_type])
    not_iam = {*SCHEMA_PERMISSIONS_NOT_IAM, *NETWORK_SCHEMA_PERMISSIONS_NOT_IAM}
    permissions = {p for handler in handler_permissions(resource_type).values() for p in handler}
    actions = {SCHEMA_PERMISSION_ALIASES.get(p, p) for p in permissions if p not in not_iam}
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


def action_table(product_templates: ProductTemplates) -> dict[str, frozenset[str]]:
    """Resource type -> the actions its handlers need, for every type of the product template(s)."""
    types = sorted(
        {r["Type"] for t in product_variants(product_templates) for r in t["Resources"].values()}
    )
    return {t: resource_actions(t) for t in types}
