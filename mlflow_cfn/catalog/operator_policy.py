"""The IAM policy a person needs to run ``mlflow-cfn deploy`` or ``mlflow-cfn publish`` (the
``mlflow-cfn permissions`` command prints it).

Two parts:

* What the command itself calls: each AWS API call it makes (DEPLOY_CALLS, PUBLISH_CALLS), as the
  IAM action that authorizes it, on the ARNs it reaches (the stack, the bucket's template keys,
  Service Catalog's portfolios and products, the role it passes).
* For ``deploy`` without a CloudFormation service role: CloudFormation then creates, changes and
  deletes the stack's resources with the person's own permissions, so the person needs what the
  Service Catalog launch role needs for the same template. Those statements come from the launch
  role's machinery (`mlflow_cfn.catalog.launch_policy.launch_statements` without the launch
  itself), rendered for one account and region by the template evaluator, then retargeted from
  Service Catalog's stacks (``SC-*``) to the named stack (`retarget`).

With a service role (``deploy --role-arn``) the person needs the command's own calls and
``iam:PassRole`` on that role, to CloudFormation only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from troposphere import Template
from troposphere.iam import ManagedPolicy

from mlflow_cfn.catalog.launch_policy import launch_statements, pack, policy_chars, secret_list
from mlflow_cfn.catalog.portfolio_inputs import (
    ALLOW_LIST_PARAMETERS,
    AllowListInputs,
    allow_list_specs,
)
from mlflow_cfn.cfn.evaluate import evaluate
from mlflow_cfn.cfn.evaluate.parameters import pseudo_parameters
from mlflow_cfn.cfn.schemas import iam_action
from mlflow_cfn.cfn.upload import KEY_PREFIX
from mlflow_cfn.network.lookups import LOOKUP_CALLS, LOOKUP_GRANTS
from mlflow_cfn.stack.policies import VERSION, document

__all__ = [
    "DEPLOY_CALLS",
    "PUBLISH_CALLS",
    "PURPOSES",
    "Operator",
    "operator_policy",
    "policy_parts",
]

#: What the policy is for: ``deploy`` (no service role: CloudFormation acts as the person),
#: ``deploy-with-service-role`` (``deploy --role-arn``) and ``publish``.
PURPOSES = ("deploy", "deploy-with-service-role", "publish")

#: Template upload (`mlflow_cfn.cfn.upload`), shared by deploy and publish: API call -> the IAM
#: action that authorizes it (Amazon S3 API Reference: HeadBucket needs s3:ListBucket, HeadObject
#: needs s3:GetObject).
UPLOAD_CALLS: dict[str, str] = {
    "s3:HeadBucket": "s3:ListBucket",
    "s3:HeadObject": "s3:GetObject",
    "s3:PutObject": "s3:PutObject",
}

#: The stack's calls of ``mlflow-cfn deploy`` (`mlflow_cfn.cfn.stacks`, ``changes``, ``events``):
#: each is authorized by the IAM action of its own name.
STACK_CALLS: dict[str, str] = {
    f"cloudformation:{name}": f"cloudformation:{name}"
    for name in (
        "CreateChangeSet",
        "DeleteChangeSet",
        "DescribeChangeSet",
        "DescribeStackEvents",
        "DescribeStacks",
        "ExecuteChangeSet",
    )
}

#: Every AWS API call ``mlflow-cfn deploy`` makes (with ``--network-stack``,
#: `mlflow_cfn.network.stack_outputs` and `mlflow_cfn.network.lookups` too) -> its IAM action.
#: tests/unit/test_permissions.py finds the calls in the code and holds this table to them.
DEPLOY_CALLS: dict[str, str] = {**STACK_CALLS, **UPLOAD_CALLS, **LOOKUP_CALLS}

#: Service Catalog's calls of ``mlflow-cfn publish`` (`mlflow_cfn.catalog.publish`,
#: ``existing``, ``product_versions``, ``template_constraint``): each is authorized by the IAM
#: action of its own name.
CATALOG_CALLS: dict[str, str] = {
    f"servicecatalog:{name}": f"servicecatalog:{name}"
    for name in (
        "AssociatePrincipalWithPortfolio",
        "AssociateProductWithPortfolio",
        "CreateConstraint",
        "CreatePortfolio",
        "CreateProduct",
        "CreateProvisioningArtifact",
        "DeleteProduct",
        "DeleteProvisioningArtifact",
        "DescribeConstraint",
        "DescribeProvisioningArtifact",
        "ListConstraintsForPortfolio",
        "ListPortfolios",
        "ListPortfoliosForProduct",
        "ListPrincipalsForPortfolio",
        "ListProvisioningArtifacts",
        "SearchProductsAsAdmin",
        "UpdateConstraint",
        "UpdateProvisioningArtifact",
    )
}

#: The launch role check of ``mlflow-cfn publish --launch-role-name``
#: (`mlflow_cfn.catalog.launch_role_check`): each is authorized by the IAM action of its own
#: name, on the launch role only (Service Authorization Reference: both act on a role).
LAUNCH_ROLE_CALLS: dict[str, str] = {
    f"iam:{name}": f"iam:{name}" for name in ("GetRole", "SimulatePrincipalPolicy")
}

#: ``mlflow-cfn publish --portfolio-stack`` reads the portfolio stack's outputs
#: (`mlflow_cfn.commands.portfolio_stack`, through `mlflow_cfn.cfn.stacks.describe_stack`).
PORTFOLIO_STACK_CALLS: dict[str, str] = {a: a for a in ["cloudformation:DescribeStacks"]}

#: Every AWS API call ``mlflow-cfn publish`` makes -> its IAM action (held to the code as
#: DEPLOY_CALLS is).
PUBLISH_CALLS: dict[str, str] = {**CATALOG_CALLS, **UPLOAD_CALLS, **LAUNCH_ROLE_CALLS}
PUBLISH_CALLS |= PORTFOLIO_STACK_CALLS

#: Actions deploy needs besides its calls, with the reason.
DEPLOY_EXTRA_ACTIONS: dict[str, str] = {
    "cloudformation:TagResource": (
        "the stack's tags (deploy --tags), given when the change set creates the stack: "
        "CloudFormation authorizes them as tagging the stack"
    ),
}

#: Service Catalog's resource types (Service Authorization Reference) -> their ARN pattern.
CATALOG_ARNS: dict[str, str] = {
    "portfolio": "arn:{partition}:catalog:{region}:{account}:portfolio/*",
    "product": "arn:{partition}:catalog:{region}:{account}:product/*",
}

#: Launch-role statements that only Service Catalog needs, by Sid, with the reason: dropped.
SERVICE_CATALOG_ONLY: dict[str, str] = {
    "ReadServiceCatalogsCopyOfTheProductTemplate": (
        "reads Service Catalog's own copy of a provisioning artifact; deploy's template is read "
        "from the upload bucket (UploadTheTemplate)"
    ),
}

#: How Service Catalog's stacks appear in the launch role's statements: ARNs of what their
#: stacks name (``SC-*``; buckets lower-cased, ``sc-*``), and the stack-name tag's value.
SERVICE_CATALOG_STACKS = "SC-*"
SERVICE_CATALOG_BUCKETS = "sc-*"

#: The most characters of a stack name that every name CloudFormation generates from it keeps:
#: a bucket's 63 characters lose 13 to the random suffix and its dash and 1 to the dash after the
#: stack name; the other 49 are shared fairly between stack name and logical id
#: (`mlflow_cfn.catalog.generated_names.generated_name`), so at least 24 of the stack name remain;
#: as many or more in the launch role's other patterns (RDS clusters and instances 63, IAM roles
#: 64, rules 64, alarms 255), whose logical-id part is kept whatever the stack name.
STACK_NAME_KEPT = 24

#: Statement ids of the launch role, reworded for a person: Service Catalog's stacks become the
#: named stack's, the portfolio's boundary the given one, the admin's allow-lists the flags.
SID_WORDS: dict[str, str] = {
    "ServiceCatalogStacks": "TheStacks",
    "ThePortfoliosBoundary": "TheBoundary",
    "TheAdminAllows": "YouAllow",
}

#: Stand-in for "no permissions boundary" while the launch statements are rendered.
_NO_BOUNDARY = "no-permissions-boundary"
_BOUNDARY_KEY = "iam:PermissionsBoundary"
#: What a statement id says of the boundary, dropped with the boundary's condition.
_BOUNDARY_SID = "OnlyWithThePortfoliosBoundary"


@dataclass(frozen=True)
class Operator:
    """Who runs the command, where and on what: region and account of the ARNs, the stack
    (deploy) and the network stack whose outputs it reads (``--network-stack``), the bucket the
    template is uploaded to, the service role (deploy with one), the launch role publish
    constrains to, the boundary the stack's roles must carry, and the secrets and hosted zones
    the stack may use (what a portfolio's admin would allow)."""

    region: str
    account: str = "*"
    stack_name: str = "mlflow"
    network_stack: str | None = None
    bucket: str | None = None
    role_arn: str | None = None
    launch_role_name: str | None = None
    portfolio_stack: str | None = (
        None  # publish --portfolio-stack: the stack whose outputs it reads
    )
    boundary_arn: str | None = None
    secret_prefixes: tuple[str, ...] = ()
    hosted_zones: tuple[str, ...] = ()

    @property
    def partition(self) -> str:
        """The region's partition (aws, aws-cn, aws-us-gov), as the evaluator derives it."""
        return str(pseudo_parameters(self.region, self.account, "-", None)["AWS::Partition"])

    def arn(self, pattern: str) -> str:
        """``pattern`` with its {partition}, {region} and {account} filled in."""
        return pattern.format(partition=self.partition, region=self.region, account=self.account)


def _statement(
    sid: str, actions: Iterable[str], resources: list[str], condition: dict | None = None
) -> dict[str, Any]:
    """An Allow statement of ``actions`` (sorted, without repeats) on ``resources``."""
    statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(set(actions)),
        "Resource": resources,
    }
    return {**statement, "Condition": condition} if condition else statement


def _upload(operator: Operator) -> list[dict[str, Any]]:
    """Find the bucket, and read and write the template keys (`mlflow_cfn.cfn.upload`: HeadBucket,
    HeadObject, PutObject)."""
    if operator.bucket is None:
        return []
    bucket = operator.arn("arn:{partition}:s3:::") + operator.bucket
    return [
        _statement("FindTheTemplateBucket", ["s3:ListBucket"], [bucket]),
        _statement(
            "UploadTheTemplate", ["s3:GetObject", "s3:PutObject"], [f"{bucket}/{KEY_PREFIX}*"]
        ),
    ]


def _deploy_statements(operator: Operator) -> list[dict[str, Any]]:
    """The change sets of the stack, its events, its tags; the network stack's outputs; the
    template upload; with a service role, passing it to CloudFormation."""
    stack = operator.arn("arn:{partition}:cloudformation:{region}:{account}:stack/")
    statements = [
        _statement(
            "DeployTheStackByChangeSets",
            [*STACK_CALLS.values(), *DEPLOY_EXTRA_ACTIONS],
            [f"{stack}{operator.stack_name}/*"],
        ),
        *_upload(operator),
    ]
    if operator.network_stack:
        statements.append(
            _statement(
                "ReadTheNetworkStacksOutputs",
                ["cloudformation:DescribeStacks"],
                [f"{stack}{operator.network_stack}/*"],
            )
        )
        for sid, (actions, resource) in LOOKUP_GRANTS.items():
            statements.append(_statement(sid, actions, [operator.arn(resource)]))
    if operator.role_arn:
        statements.append(
            _statement(
                "PassTheServiceRoleToCloudFormation",
                ["iam:PassRole"],
                [operator.role_arn],
                {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}},
            )
        )
    return statements


def _publish_statements(operator: Operator) -> list[dict[str, Any]]:
    """Service Catalog's calls on the ARNs IAM defines them on (portfolios, products, or ``*``
    for calls on no resource type), the template upload, and the launch role it checks and
    constrains to."""
    by_kinds: dict[tuple[str, ...], list[str]] = {}
    for action in CATALOG_CALLS.values():
        kinds = tuple(sorted({k.lower() for k in iam_action(action).get("Resources", ())}))
        by_kinds.setdefault(kinds, []).append(action)
    statements = [
        _statement(
            "CatalogOn" + ("And".join(k.capitalize() for k in kinds) or "NoResourceType"),
            actions,
            [operator.arn(CATALOG_ARNS[k]) for k in kinds] or ["*"],
        )
        for kinds, actions in sorted(by_kinds.items())
    ]
    statements += _upload(operator)
    if operator.portfolio_stack:
        stack = operator.arn("arn:{partition}:cloudformation:{region}:{account}:stack/")
        resources = [f"{stack}{operator.portfolio_stack}/*"]
        statements.append(
            _statement("ReadThePortfolioStack", PORTFOLIO_STACK_CALLS.values(), resources)
        )
    if operator.launch_role_name:
        role = operator.arn("arn:{partition}:iam::{account}:role/") + operator.launch_role_name
        statements.append(
            _statement("AssignTheLaunchRole", [*LAUNCH_ROLE_CALLS.values(), "iam:PassRole"], [role])
        )
    return statements


def _rendered_launch_statements(template: dict, operator: Operator) -> list[dict[str, Any]]:
    """The launch role's statements for ``template`` without the launch itself, every intrinsic
    resolved in the operator's account and region, the allow-lists being the operator's secrets
    and hosted zones (their statements drop out when empty)."""
    holder = Template()
    for spec in allow_list_specs():
        holder.add_parameter(spec.to_parameter())
    boundary = operator.boundary_arn or _NO_BOUNDARY
    statements = launch_statements(template, AllowListInputs(holder), boundary, launch=False)
    holder.add_resource(ManagedPolicy("Policy", PolicyDocument=document(*statements)))
    # The operator's secret prefixes stand for the list the template's secrets come from.
    lists = {
        secret_list((template,)): operator.secret_prefixes,
        "hosted_zones": operator.hosted_zones,
    }
    values = {ALLOW_LIST_PARAMETERS[name][0]: ",".join(v) for name, v in lists.items()}
    rendered = evaluate(
        holder.to_dict(),
        values,
        region=operator.region,
        account_id=operator.account,
        partition=operator.partition,
        stack_name=operator.stack_name,
    )
    return rendered.resource("Policy")["Properties"]["PolicyDocument"]["Statement"]


def retarget(node: Any, stack_name: str) -> Any:
    """``node`` with Service Catalog's stacks replaced by ``stack_name``: the stack-name tag's
    value by the name itself, ARN patterns by the part of it every generated name keeps (buckets
    lower-cased). A prefix also matches stacks whose names begin with this one's."""
    if isinstance(node, dict):
        return {key: retarget(value, stack_name) for key, value in node.items()}
    if isinstance(node, list):
        return [retarget(item, stack_name) for item in node]
    if node == SERVICE_CATALOG_STACKS:
        return stack_name
    if isinstance(node, str):
        kept = stack_name[:STACK_NAME_KEPT]
        node = node.replace(SERVICE_CATALOG_STACKS, f"{kept}*")
        return node.replace(SERVICE_CATALOG_BUCKETS, f"{kept.lower()}*")
    return node


def _without_boundary(statement: dict[str, Any]) -> dict[str, Any] | None:
    """``statement`` for a stack whose roles carry no boundary: the launch role's Deny statements
    (both keep the boundary on roles) dropped, conditions on the boundary removed."""
    if statement["Effect"] == "Deny":
        return None
    condition = {
        operator: kept
        for operator, keys in statement.get("Condition", {}).items()
        if (kept := {k: v for k, v in keys.items() if k != _BOUNDARY_KEY})
    }
    statement = {k: v for k, v in statement.items() if k != "Condition"}
    statement["Sid"] = statement["Sid"].replace(_BOUNDARY_SID, "")
    return {**statement, "Condition": condition} if condition else statement


def _stack_statements(template: dict, operator: Operator) -> list[dict[str, Any]]:
    """What CloudFormation does with the person's permissions for a stack of ``template``."""
    statements = []
    for statement in _rendered_launch_statements(template, operator):
        if statement["Sid"] in SERVICE_CATALOG_ONLY:
            continue
        if operator.boundary_arn is None and (statement := _without_boundary(statement)) is None:
            continue
        sid = statement["Sid"]
        for words, replacement in SID_WORDS.items():
            sid = sid.replace(words, replacement)
        statements.append(retarget({**statement, "Sid": sid}, operator.stack_name))
    return statements


def operator_policy(purpose: str, operator: Operator, template: dict | None = None) -> dict:
    """The IAM policy document (plain JSON data) for ``purpose`` (one of PURPOSES); ``template``
    (the stack's, needed for ``deploy``) gives what CloudFormation does as the person."""
    if purpose == "publish":
        statements = _publish_statements(operator)
    elif purpose == "deploy-with-service-role":
        if not operator.role_arn:
            raise ValueError("deploy-with-service-role needs the service role's ARN")
        statements = _deploy_statements(operator)
    elif purpose == "deploy":
        if template is None:
            raise ValueError("deploy needs the stack's template")
        statements = _deploy_statements(operator) + _stack_statements(template, operator)
    else:
        raise ValueError(f"unknown purpose {purpose!r}: one of {', '.join(PURPOSES)}")
    return {"Version": VERSION, "Statement": statements}


def policy_parts(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """``policy`` cut, statements in order, into documents that each fit one managed policy."""
    runs = pack(policy["Statement"], lambda run: policy_chars({**policy, "Statement": run}))
    return [{**policy, "Statement": run} for run in runs]
