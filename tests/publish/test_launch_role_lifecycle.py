"""The launch roles can update and terminate what they launched: every destructive or modifying
action the resource handlers list for a resource of the product (and of the network product) is
allowed on that resource *as AWS presents it* (tests/publish/stack_resources.py: its ARN as
CloudFormation names it, the system tags only where the type's provider schema says CloudFormation
puts them, a key's aliases), and refused on the same kind of resource of someone else.

Before issue 22 the launch role allowed ecs:UpdateService, ecs:DeleteService and the KMS key
changes only under the ``aws:cloudformation:stack-name`` tag, which CloudFormation never puts on
ECS services or KMS keys: every update touching the service, every termination and every key
policy change failed in a real account while the tests, which assumed the tag, passed. Since
issue 23 roles, databases and alarms are reached by the names CloudFormation generates for the
product's logical ids, cut to each type's limit as the resource provider SDK cuts them: the cases
present them so (an IAM role's 64 characters cut a Service Catalog stack's name).
"""

from __future__ import annotations

import json

import pytest

from mlflow_cfn.catalog import portfolio
from mlflow_cfn.catalog.conditioned_grants import KEY_USE_ACTIONS
from mlflow_cfn.catalog.generated_names import NAMED_TYPES
from mlflow_cfn.catalog.launch_actions import REFUSED_ACTIONS
from mlflow_cfn.catalog.network_grants import NETWORK_OWNED_ONLY_EC2
from mlflow_cfn.catalog.owned_grants import (
    ALIASED_KEY_ACTIONS,
    OWNED_ONLY_ACTIONS,
    STACK_NAMED_ACTIONS,
)
from mlflow_cfn.catalog.schema_actions import EXTRA_ACTIONS, handler_permissions
from mlflow_cfn.cfn.evaluate import evaluate
from mlflow_cfn.cfn.render import to_dict
from tests.conftest import TEMPLATES
from tests.publish.iam import allowed
from tests.publish.stack_resources import (
    IAM_RESOURCES,
    StackResource,
    acts_on,
    describe,
    stack_resources,
)

ACCOUNT = "123456789012"
REGION = "eu-west-1"
STACK = "SC-123456789012-pp-abcdefghijklm"
OTHER_STACK = "prod-database"
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/PermissionsBoundary-ABC"
URL = "https://my-sc-templates.s3.eu-west-1.amazonaws.com/mlflow-cfn/templates/"
PORTFOLIO_PARAMETERS = {
    "PortfolioProviderName": "Platform",
    "PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/DataScientist",
    "ProductOwner": "ML",
    "ProductTemplateUrl": URL + "mlflow.json",
    "NetworkProductTemplateUrl": URL + "network.json",
}
PRODUCTS = {
    name: json.loads((TEMPLATES / name).read_text())
    for name in ("mlflow.json", "mlflow-datadog.json", "network.json")
}
#: Actions checked elsewhere under their own conditions (kms:ViaService, kms:GrantIsForAWSResource,
#: iam:AWSServiceName): what the services do with a key's material, and the service-linked roles a
#: service creates (``role/aws-service-role/...``), not changes to the product's resources.
OTHER_CONDITIONS = {
    a.lower() for a in (*KEY_USE_ACTIONS, "kms:CreateGrant", "iam:CreateServiceLinkedRole")
}


@pytest.fixture(scope="module")
def launch_roles() -> dict[str, list[dict]]:
    """The product's and the network's launch role statements, as the portfolio stack resolves
    them in one account and region."""
    template = to_dict(
        portfolio.build_portfolio_template(
            [PRODUCTS["mlflow.json"], PRODUCTS["mlflow-datadog.json"]],
            network=PRODUCTS["network.json"],
        )
    )
    evaluated = evaluate(
        template,
        PORTFOLIO_PARAMETERS,
        physical_ids={portfolio.PERMISSIONS_BOUNDARY: BOUNDARY_ARN},
        account_id=ACCOUNT,
        region=REGION,
    )
    roles: dict[str, list[dict]] = {"": [], "Network": []}
    for logical_id, resource in evaluated.of_type("AWS::IAM::ManagedPolicy").items():
        for prefix in roles:
            if logical_id.startswith(prefix + portfolio.LAUNCH_ROLE_POLICY_PREFIX):
                roles[prefix] += resource["Properties"]["PolicyDocument"]["Statement"]
    return roles


def changes(resource_type: str) -> list[str]:
    """The actions CloudFormation calls on an existing resource of ``resource_type`` when it
    updates or deletes it (its handlers' permissions, plus what other types' handlers need on it,
    EXTRA_ACTIONS), that act on the resource itself."""
    permissions = handler_permissions(resource_type)
    listed = {*permissions.get("update", ()), *permissions.get("delete", ())}
    listed |= {a for actions, _ in EXTRA_ACTIONS.values() for a in actions}
    refused = {a.lower() for a in REFUSED_ACTIONS}
    return sorted(
        a
        for a in listed
        if acts_on(a, resource_type) and a.lower() not in refused | OTHER_CONDITIONS
    )


#: Actions whose request names something besides the resource (IAM Service Authorization
#: Reference: iam:PolicyARN of AttachRolePolicy and DetachRolePolicy, the managed policy).
ATTACHING = {"iam:attachrolepolicy", "iam:detachrolepolicy"}


def request_context(template: dict, resource: StackResource, action: str) -> dict | None:
    """The keys the request carries besides the resource's own: for attaching and detaching, the
    managed policy the product's role attaches (in the aws partition). None when the product never
    makes this request on this resource (a role that attaches no managed policy)."""
    if action.lower() not in ATTACHING:
        return {}
    arns = template["Resources"][resource.logical_id]["Properties"].get("ManagedPolicyArns", [])
    if not arns:
        return None
    return {"iam:PolicyARN": arns[0]["Fn::Sub"].replace("${AWS::Partition}", "aws")}


def stack_of(template: dict, stack: str) -> list[StackResource]:
    """The template's resources as a stack named ``stack`` creates them, its roles with the
    portfolio's boundary."""
    return stack_resources(template, stack, region=REGION, account=ACCOUNT, boundary=BOUNDARY_ARN)


def cases() -> list[tuple[str, str, StackResource, str, dict]]:
    cases = []
    for name, template in PRODUCTS.items():
        role = "Network" if name == "network.json" else ""
        for resource in stack_of(template, STACK):
            for action in changes(resource.resource_type):
                request = request_context(template, resource, action)
                if request is not None:
                    cases.append((name, role, resource, action, request))
    return cases


CASES = cases()
EACH_CASE = pytest.mark.parametrize(
    ("product", "role", "resource", "action", "request_keys"),
    CASES,
    ids=[f"{p}:{r.logical_id}:{a}" for p, _, r, a, _ in CASES],
)
#: The actions only safe on what the product launched: under the stack tag, on the product's
#: generated names, or on keys with the product's aliases.
DESTRUCTIVE = {
    a.lower()
    for a in (
        *(a for actions, _ in OWNED_ONLY_ACTIONS.values() for a in actions),
        *NETWORK_OWNED_ONLY_EC2[0],
        *STACK_NAMED_ACTIONS,
        *ALIASED_KEY_ACTIONS,
    )
}


def test_the_cases_cover_the_untagged_types_and_every_type_the_table_knows():
    types = {resource.resource_type for _, _, resource, *_ in CASES}
    assert {"AWS::ECS::Service", "AWS::KMS::Key"} <= types
    assert types == set(IAM_RESOURCES)
    assert {"ecs:UpdateService", "ecs:DeleteService", "kms:PutKeyPolicy"} <= {
        action for *_, action, _ in CASES
    }


@EACH_CASE
def test_the_launch_role_may_change_and_delete_what_it_launched(
    launch_roles, product, role, resource, action, request_keys
):
    context = {**resource.context, **request_keys}
    assert allowed(launch_roles[role], action, resource.arn, context), describe(resource)


def someone_elses(product: str, resource: StackResource) -> StackResource:
    """The same resource of the same template in a stack outside Service Catalog (its key not
    the product's: another key id, the other stack's alias)."""
    (other,) = [
        r for r in stack_of(PRODUCTS[product], OTHER_STACK) if r.logical_id == resource.logical_id
    ]
    if resource.resource_type != "AWS::KMS::Key":
        return other
    arn = other.arn.rsplit("/", 1)[0] + "/99999999-8888-7777-6666-555555555555"
    return StackResource(other.logical_id, other.resource_type, arn, other.context)


def changes_by_name(resource: StackResource, action: str) -> bool:
    """Whether ``action`` changes a resource the launch role reaches by the names CloudFormation
    generates for the product's own (roles, databases, alarms: everything but what reads)."""
    reads = action.split(":")[1].startswith(("Describe", "List", "Get"))
    return resource.resource_type in NAMED_TYPES and not reads


@EACH_CASE
def test_the_launch_role_may_not_change_someone_elses(
    launch_roles, product, role, resource, action, request_keys
):
    if action.lower() not in DESTRUCTIVE and not changes_by_name(resource, action):
        return  # reading and tagging actions are scoped by ARN only
    other = someone_elses(product, resource)
    context = {**other.context, **request_keys}
    assert not allowed(launch_roles[role], action, other.arn, context), describe(other)


def test_a_key_without_the_products_alias_is_not_the_products():
    (key,) = [
        r
        for r in stack_resources(PRODUCTS["mlflow.json"], STACK, region=REGION, account=ACCOUNT)
        if r.logical_id == "DatabaseKey"
    ]
    assert key.context == {"kms:ResourceAliases": [f"alias/{STACK}/database"]}
    (service,) = [
        r
        for r in stack_resources(PRODUCTS["mlflow.json"], STACK, region=REGION, account=ACCOUNT)
        if r.resource_type == "AWS::ECS::Service"
    ]
    assert service.context == {}  # no system tag: the schema says CloudFormation puts none
    assert service.arn == (
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{STACK}-EcsCluster-ABCDEFGHIJKL/"
        f"{STACK}-Service-ABCDEFGHIJKL"
    )
