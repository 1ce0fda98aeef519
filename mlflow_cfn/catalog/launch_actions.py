"""Every action the launch role needs: the resource handlers' and what launching needs besides.

Besides the handlers' permissions (`mlflow_cfn.catalog.schema_actions`), CloudFormation checks the
values of AWS-specific Parameter types and resolves dynamic references with the caller's
permissions, and Service Catalog runs the stack itself with the launch role.
"""

from __future__ import annotations

import json
import re
from typing import Any

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

#: Actions the product's resource handlers list that the launch role must not have, with the
#: reason: they reach beyond what a provisioned product owns.
REFUSED_ACTIONS: dict[str, str] = {
    "cloudfront:UpdateDistribution": (
        "the user pool domain handlers list it for custom domains, whose CloudFront distribution "
        "Cognito associates with the domain's certificate; the product's domain is a prefix "
        "domain (mlflow-<stack id>), for which no distribution is changed"
    ),
    "ecs:PutAccountSetting": (
        "the ECS cluster handlers list it for account-wide settings; the product's cluster sets "
        "only its own ClusterSettings (containerInsights, UpdateClusterSettings), and an account "
        "setting would change every cluster and service of the account"
    ),
    "ecs:PutAccountSettingDefault": (
        "as ecs:PutAccountSetting, for the default of every IAM principal of the account"
    ),
    "elasticfilesystem:DescribeMountTargets": (
        "the Lambda function handlers list it for functions with an EFS file system "
        "(FileSystemConfigs); neither the wake function nor the network's function has one"
    ),
    "s3files:ListMountTargets": (
        "the Lambda function handlers list it for functions with a file system "
        "(FileSystemConfigs); neither template's function has one"
    ),
    "iam:DeleteRolePermissionsBoundary": (
        "the IAM role handlers list it for a role whose PermissionsBoundary is removed; every role "
        "of the product keeps the portfolio's boundary, so it is denied outright"
    ),
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


def stack_actions(
    variants: tuple[dict[str, Any], ...], table: dict[str, frozenset[str]]
) -> set[str]:
    """What CloudFormation does with the caller's permissions for a stack of the product: the
    actions of its ``table`` of resource types, its Parameter checks and its dynamic references
    (a launch role's, or a person's who deploys without a service role)."""
    return set().union(
        *table.values(), _parameter_actions(variants), _dynamic_reference_actions(variants)
    )


def required_actions(
    variants: tuple[dict[str, Any], ...], table: dict[str, frozenset[str]]
) -> set[str]:
    """`stack_actions` and the launch itself (LAUNCH_ACTIONS)."""
    return stack_actions(variants, table) | set(LAUNCH_ACTIONS)


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
