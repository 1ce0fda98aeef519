"""A condition on CloudFormation's system tags (``aws:ResourceTag/aws:cloudformation:*``) is only
where CloudFormation puts them: every statement of every policy the project emits that carries such
a condition reaches, through each of its actions, only IAM resource types whose CloudFormation
resource type's provider schema says ``tagging.cloudFormationSystemTags: true``.

A statement that breaks this allows nothing in a real account (the key is never in the request), so
the resources it was meant for can never be updated or deleted by the role; the tests that checked
such statements with a hand-made context that had the tag agreed with the mistake (issue 22).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlflow_cfn.catalog import portfolio
from mlflow_cfn.catalog.operator_policy import Operator, operator_policy
from mlflow_cfn.cfn.evaluate import evaluate
from mlflow_cfn.cfn.schemas import cloudformation_system_tags, iam_actions
from tests.conftest import TEMPLATES
from tests.publish.iam import matches
from tests.publish.stack_resources import IAM_RESOURCES, iam_resource_kinds

ACCOUNT = "123456789012"
REGION = "eu-west-1"
SYSTEM_TAG = "aws:ResourceTag/aws:cloudformation:"
#: (IAM service, IAM resource type) -> the CloudFormation type whose resources have such ARNs: the
#: product's (tests/publish/stack_resources.py), and the kinds the statements' ARN patterns also
#: match that the product never creates (network and gateway load balancers are
#: AWS::ElasticLoadBalancingV2::LoadBalancer too; ``loadbalancer`` is a Classic Load Balancer).
CFN_TYPE_OF = {
    **{(service, kind): t for t, (service, kind, _) in IAM_RESOURCES.items()},
    ("elasticloadbalancing", "loadbalancer/net/"): "AWS::ElasticLoadBalancingV2::LoadBalancer",
    ("elasticloadbalancing", "loadbalancer/gwy/"): "AWS::ElasticLoadBalancingV2::LoadBalancer",
    ("elasticloadbalancing", "loadbalancer"): "AWS::ElasticLoadBalancing::LoadBalancer",
}


def _statements(node: Any) -> list[dict]:
    """Every policy statement under ``node`` (a template or a policy document, resolved)."""
    found = []
    if isinstance(node, dict):
        if "Effect" in node and ("Action" in node or "NotAction" in node):
            return [node]
        for value in node.values():
            found += _statements(value)
    elif isinstance(node, list):
        for value in node:
            found += _statements(value)
    return found


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _sample_arn(service: str, kind: str) -> str:
    """An ARN of ``service``'s resource type ``kind`` in this account and region."""
    (arn_format,) = iam_actions()[service]["Resources"][kind]["ARNFormats"]
    return (
        arn_format.replace("${Partition}", "aws")
        .replace("${Region}", REGION)
        .replace("${Account}", ACCOUNT)
        .replace(".*", "SC-123456789012-pp-abcdefghijklm-Thing-ABCDEFGHIJKL")
    )


def tag_conditioned_reach(statements: list[dict]) -> list[tuple[str, str, str]]:
    """(statement id, action, IAM resource type) for every resource type a statement with a
    system-tag condition can reach through one of its actions."""
    reached = []
    for statement in statements:
        keys = {k for test in statement.get("Condition", {}).values() for k in test}
        if not any(k.startswith(SYSTEM_TAG) for k in keys):
            continue
        for action in _listed(statement["Action"]):
            service = action.split(":")[0].lower()
            for kind in iam_resource_kinds(action):
                arn = _sample_arn(service, kind)
                if any(matches(r, arn) for r in _listed(statement["Resource"])):
                    reached.append((statement.get("Sid", "?"), action, f"{service}:{kind}"))
    return reached


def policies() -> dict[str, list[dict]]:
    """Every policy the project emits, resolved in one account and region: the portfolio's
    (launch roles, boundary), each product template's role policies, and what
    ``mlflow-cfn permissions --for deploy`` prints for each template."""
    found: dict[str, list[dict]] = {}
    portfolio_template = json.loads((TEMPLATES / "portfolio.json").read_text())
    evaluated = evaluate(
        portfolio_template,
        {
            "PortfolioProviderName": "Platform",
            "PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/DataScientist",
            "ProductOwner": "ML",
            "ProductTemplateUrl": "https://my-sc-templates.s3.amazonaws.com/mlflow.json",
            "NetworkProductTemplateUrl": "https://my-sc-templates.s3.amazonaws.com/network.json",
        },
        physical_ids={portfolio.PERMISSIONS_BOUNDARY: f"arn:aws:iam::{ACCOUNT}:policy/B"},
        account_id=ACCOUNT,
        region=REGION,
    )
    found["portfolio.json"] = _statements(evaluated.resources)
    for name in ("mlflow.json", "mlflow-datadog.json", "network.json"):
        template = json.loads((TEMPLATES / name).read_text())
        found[name] = _statements(template["Resources"])
        document = operator_policy("deploy", Operator(region=REGION, account=ACCOUNT), template)
        found[f"permissions --for deploy ({name})"] = document["Statement"]
    return found


POLICIES = policies()


def test_the_policies_do_condition_on_system_tags():
    # The check below must have something to check.
    assert tag_conditioned_reach(POLICIES["portfolio.json"])
    assert tag_conditioned_reach(POLICIES["permissions --for deploy (mlflow.json)"])


@pytest.mark.parametrize("source", sorted(POLICIES))
def test_system_tag_conditions_reach_only_types_cloudformation_tags(source):
    wrong = []
    for sid, action, kind in tag_conditioned_reach(POLICIES[source]):
        resource_type = CFN_TYPE_OF.get(tuple(kind.split(":", 1)))
        if resource_type is None or not cloudformation_system_tags(resource_type):
            wrong.append((sid, action, kind, resource_type))
    assert wrong == []


def test_the_check_catches_the_mistake_of_release_0_1():
    # What the launch role had: ECS service and KMS key changes under the stack-name tag.
    mistake = {
        "Sid": "EcsChangesOnlyServiceCatalogStacksResources",
        "Effect": "Allow",
        "Action": ["ecs:UpdateService", "kms:PutKeyPolicy"],
        "Resource": [f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/*",
                     f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*"],
        "Condition": {"StringLike": {f"{SYSTEM_TAG}stack-name": "SC-*"}},
    }  # fmt: skip
    reached = tag_conditioned_reach([mistake])
    assert {(a, k) for _, a, k in reached} == {
        ("ecs:UpdateService", "ecs:service"),
        ("kms:PutKeyPolicy", "kms:key"),
    }
    assert not any(
        cloudformation_system_tags(CFN_TYPE_OF[tuple(k.split(":"))]) for *_, k in reached
    )
