"""The network template as the portfolio's second product: its launch role derived from
templates/network.json by the product's machinery, least privilege checked the same ways, the
boundary covering its roles, and the MLflow product's launch role unchanged by it."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest
from cfnlint.data import AdditionalSpecs
from cfnlint.helpers import load_resource

from mlflow_cfn.catalog import launch_actions, network_grants, portfolio, schema_actions
from mlflow_cfn.catalog.network_product import OFFER_NETWORK_PRODUCT
from mlflow_cfn.cfn.evaluate import evaluate
from mlflow_cfn.cfn.render import to_dict
from tests.conftest import TEMPLATES, lint

PRODUCT = json.loads((TEMPLATES / "mlflow.json").read_text())
NETWORK = json.loads((TEMPLATES / "network.json").read_text())
URL = "https://my-sc-templates.s3.eu-west-1.amazonaws.com/mlflow-cfn/templates/net.json"
PORTFOLIO_PARAMETERS = {
    "PortfolioProviderName": "Platform team",
    "PrincipalArn": "arn:aws:iam::123456789012:role/DataScientists",
    "ProductOwner": "Platform team",
    "ProductTemplateUrl": URL.replace("net.json", "mlflow.json"),
}


@pytest.fixture(scope="module")
def template() -> dict:
    return to_dict(portfolio.build_portfolio_template(PRODUCT, network=NETWORK))


def policies(template: dict, prefix: str) -> dict[str, dict]:
    return {
        k: r
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::ManagedPolicy" and k.startswith(f"{prefix}LaunchRolePolicy")
    }


def statements(template: dict, prefix: str = "Network") -> list[dict]:
    found = []
    for policy in policies(template, prefix).values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            found.append(statement["Fn::If"][1] if "Fn::If" in statement else statement)
    return found


def granted(template: dict) -> set[str]:
    return {a.lower() for s in statements(template) if s["Effect"] == "Allow" for a in s["Action"]}


def test_the_committed_portfolio_offers_the_network(template):
    assert json.loads((TEMPLATES / "portfolio.json").read_text()) == template


def test_portfolio_with_the_network_is_lint_clean_informational_included(template):
    assert lint(template, informational=True) == []


def test_network_product_exists_only_when_its_template_url_is_given(template):
    network_ids = {k for k, r in template["Resources"].items() if r.get("Condition")}
    assert network_ids == {
        "NetworkProduct", "NetworkPortfolioProductAssociation", "NetworkLaunchRole",
        "NetworkLaunchRoleConstraint", "NetworkLaunchTemplateConstraint",
        *policies(template, "Network"),
    }  # fmt: skip
    assert all(template["Resources"][k]["Condition"] == OFFER_NETWORK_PRODUCT for k in network_ids)
    without = evaluate(template, PORTFOLIO_PARAMETERS)
    assert not network_ids & set(without.resources)
    offered = evaluate(template, {**PORTFOLIO_PARAMETERS, "NetworkProductTemplateUrl": URL})
    assert network_ids <= set(offered.resources)
    product = offered.resource("NetworkProduct")["Properties"]
    assert product["Name"] == "MLflow network"
    artifact = product["ProvisioningArtifactParameters"][0]
    assert artifact["Info"] == {"LoadTemplateFromURL": URL}
    constraint = offered.resource("NetworkLaunchRoleConstraint")["Properties"]
    assert constraint["ProductId"] == "<NetworkProduct>"
    assert constraint["LocalRoleName"] == "<NetworkLaunchRole>"
    assert offered.outputs["NetworkLaunchRoleArn"] == "<NetworkLaunchRole.Arn>"


def test_the_mlflow_products_launch_role_is_unchanged_by_the_network(template):
    alone = to_dict(portfolio.build_portfolio_template(PRODUCT))
    assert policies(alone, "") == policies(template, "")
    assert alone["Resources"]["LaunchRole"] == template["Resources"]["LaunchRole"]


def test_every_handler_permission_of_the_networks_types_is_granted_or_refused(template):
    refused = {a.lower() for a in (*network_grants.NETWORK_REFUSED_ACTIONS,
                                   *launch_actions.REFUSED_ACTIONS)}  # fmt: skip
    # The network's roles attach no managed policy, so attaching one is granted for none.
    refused |= {"iam:attachrolepolicy", "iam:detachrolepolicy"}
    not_iam = {*portfolio.SCHEMA_PERMISSIONS_NOT_IAM,
               *network_grants.NETWORK_SCHEMA_PERMISSIONS_NOT_IAM}  # fmt: skip
    types = {r["Type"] for r in NETWORK["Resources"].values()}
    for kind in sorted(types - set(network_grants.CUSTOM_RESOURCE_ACTIONS)):
        for permissions in schema_actions.handler_permissions(kind).values():
            for permission in permissions:
                if permission in not_iam:
                    continue
                action = portfolio.SCHEMA_PERMISSION_ALIASES.get(permission, permission).lower()
                assert action in granted(template) or action in refused, (kind, permission)
    assert "lambda:invokefunction" in granted(template)  # the custom resource's function
    assert not refused & granted(template)


def test_every_network_wildcard_exception_is_used_reasoned_and_unscopable(template):
    iam = load_resource(AdditionalSpecs, "Policies.json")
    on_any = {
        a.lower() for s in statements(template) if s["Resource"] == ["*"] for a in s["Action"]
    }
    product_exceptions = {a.lower() for a in portfolio.WILDCARD_RESOURCE_EXCEPTIONS}
    for action, reason in network_grants.NETWORK_WILDCARD_RESOURCE_EXCEPTIONS.items():
        assert action.lower() in on_any, f"{action} is no longer needed: remove it"
        assert len(reason) > 30, action
        service, name = action.lower().split(":", 1)
        assert not iam[service]["Actions"][name].get("Resources"), action
    allowed_on_any = product_exceptions | {
        a.lower() for a in network_grants.NETWORK_WILDCARD_RESOURCE_EXCEPTIONS
    }
    assert on_any - {"iam:deleterolepermissionsboundary", *(
        a.lower() for s in statements(template) if s["Effect"] == "Deny" for a in s["Action"])
    } <= allowed_on_any  # fmt: skip


def test_scoped_network_actions_stay_in_this_account_and_region(template):
    for statement in statements(template):
        if statement["Effect"] != "Allow" or not isinstance(statement["Resource"], list):
            continue
        for resource in statement["Resource"]:
            if resource == "*":
                continue
            arn = resource["Fn::Sub"]
            assert "${AWS::AccountId}" in arn or arn.startswith("arn:${AWS::Partition}:s3:::sc-")


def test_destructive_ec2_actions_need_the_stack_tag_of_a_service_catalog_stack(template):
    actions, kinds = network_grants.NETWORK_OWNED_ONLY_EC2
    (statement,) = [
        s for s in statements(template)
        if s["Sid"] == "Ec2NetworkChangesOnlyTheProductsResources"
    ]  # fmt: skip
    assert statement["Action"] == list(actions)
    # A Service Catalog stack's resource, and one the network template creates (its logical ids).
    ids = sorted(i for i, r in NETWORK["Resources"].items() if r["Type"] in set(kinds.values()))
    assert statement["Condition"] == {
        "StringLike": {"aws:ResourceTag/aws:cloudformation:stack-name": "SC-*"},
        "StringEquals": {"aws:ResourceTag/aws:cloudformation:logical-id": ids},
    }
    assert [r["Fn::Sub"].rsplit(":", 1)[1] for r in statement["Resource"]] == list(kinds)
    for other in statements(template):
        if other is not statement and other["Effect"] == "Allow":
            assert not {a.lower() for a in actions} & {a.lower() for a in other["Action"]}


def test_network_roles_go_only_to_the_services_they_trust(template):
    (statement,) = [s for s in statements(template) if "iam:PassRole" in s["Action"]]
    assert statement["Condition"] == {
        "StringEquals": {"iam:PassedToService": ["lambda.amazonaws.com",
                                                 "vpc-flow-logs.amazonaws.com"]}
    }  # fmt: skip
    (linked,) = [s for s in statements(template) if "iam:CreateServiceLinkedRole" in s["Action"]]
    assert linked["Condition"] == {
        "StringEquals": {"iam:AWSServiceName": "pullthroughcache.ecr.amazonaws.com"}
    }


def test_network_template_constraint_forces_the_boundary_and_guards_the_cache_secret(template):
    rules = template["Resources"]["NetworkLaunchTemplateConstraint"]["Properties"]["Rules"]
    text = rules["Fn::Sub"][0] if isinstance(rules["Fn::Sub"], list) else rules["Fn::Sub"]
    assert set(json.loads(text)) == {
        "PermissionsBoundaryArnIsThePortfolios", "ImageCacheCredentialsSecretArnIsAllowed"
    }  # fmt: skip


def _allows(statement: dict, action: str, arn: str) -> bool:
    actions = {a.lower() for a in statement["Action"]}
    resources = [r if isinstance(r, str) else r["Fn::Sub"] for r in statement["Resource"]]
    return action.lower() in actions and any(fnmatchcase(arn, r) for r in resources)


def test_the_boundary_allows_what_the_networks_roles_do_when_the_network_is_offered(template):
    boundary = template["Resources"]["PermissionsBoundary"]["Properties"]["PolicyDocument"]
    offered = [
        s["Fn::If"][1] if "Fn::If" in s else s
        for s in boundary["Statement"]
        if "Fn::If" not in s or s["Fn::If"][0] == OFFER_NETWORK_PRODUCT
    ]
    here = "arn:${AWS::Partition}:SERVICE:${AWS::Region}:${AWS::AccountId}:"
    examples = {  # what each role's policy names, as a Service Catalog stack's resources
        "logs": here.replace("SERVICE", "logs") + "log-group:SC-1234-pp-abc-FlowLogGroup-X:*",
        "logs-any": here.replace("SERVICE", "logs") + "log-group:*",
        "ec2": here.replace("SERVICE", "ec2") + "security-group/sg-0123456789abcdef0",
    }
    for role in ("FlowLogRole", "DefaultSecurityGroupRestrictionRole"):
        document = NETWORK["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]
        for statement in document["Statement"]:
            for action in statement["Action"]:
                service = action.split(":")[0]
                arn = examples["logs-any" if action == "logs:DescribeLogGroups" else service]
                assert any(_allows(s, action, arn) for s in offered), (role, action)
