"""The permissions boundary every IAM role of the product carries when one is given: Service
Catalog launches pass the portfolio's boundary policy (its template constraint insists on it),
so no parameter value can produce a role beyond it. Empty outside Service Catalog."""

from __future__ import annotations

from troposphere import Equals, If, Not, Ref

from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.interface import GROUP_GOVERNANCE
from mlflow_cfn.stack.parameters import PARTITION, optional

PERMISSIONS_BOUNDARY_ARN = "PermissionsBoundaryArn"
HAS_PERMISSIONS_BOUNDARY = "HasPermissionsBoundary"

#: An IAM managed policy ARN (customer-managed: account id; AWS-managed: ``aws``).
MANAGED_POLICY_ARN = rf"arn:{PARTITION}:iam::([0-9]{{12}}|aws):policy/[A-Za-z0-9/_+=,.@-]{{1,512}}"

#: The value of every role's PermissionsBoundary property.
PERMISSIONS_BOUNDARY = If(
    HAS_PERMISSIONS_BOUNDARY, Ref(PERMISSIONS_BOUNDARY_ARN), Ref("AWS::NoValue")
)


def declare_permissions_boundary(ctx: Context) -> None:
    """Declare the PermissionsBoundaryArn Parameter and its Condition."""
    boundary = ctx.parameter(
        optional(
            PERMISSIONS_BOUNDARY_ARN,
            "IAM managed policy every role of this stack carries as its permissions boundary. "
            "Service Catalog launches set it to the portfolio's boundary; empty elsewhere.",
            "Permissions boundary (managed policy ARN)",
            GROUP_GOVERNANCE,
            MANAGED_POLICY_ARN,
            "arn:aws:iam::123456789012:policy/mlflow-cfn-boundary",
        )
    )
    ctx.condition(HAS_PERMISSIONS_BOUNDARY, Not(Equals(Ref(boundary), "")))
