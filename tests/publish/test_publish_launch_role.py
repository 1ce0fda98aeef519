"""``mlflow-cfn publish --launch-role-name``: the role is attached only with the boundary it must
enforce (``--permissions-boundary-arn``), and only once IAM says it trusts Service Catalog alone and
cannot create or change roles without that boundary (GetRole and SimulatePrincipalPolicy, stubbed).

The simulator's answers come from tests/publish/iam.py evaluating the role's resolved statements
for the exact requests publish asks about: the portfolio template's own launch roles pass, a role
a person might write by hand does not.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from mlflow_cfn.catalog import portfolio
from mlflow_cfn.catalog.launch_role_check import PROBES, check_launch_role, role_ids
from mlflow_cfn.catalog.network_product import NETWORK_PRODUCT_TEMPLATE_URL
from mlflow_cfn.catalog.publish import PublishError, publish
from mlflow_cfn.catalog.publish_request import LocalTemplate
from mlflow_cfn.cfn.evaluate import evaluate
from service_catalog import publish as publish_module
from tests.conftest import TEMPLATES
from tests.publish.iam import allowed
from tests.publish.test_launcher_vectors import BOUNDARY_ARN, PORTFOLIO_PARAMETERS
from tests.publish.test_publish import (
    ACCOUNT,
    BOUNDARY,
    BUCKET,
    PA_OLD,
    PORT_ID,
    PORTFOLIO,
    PROD_ID,
    PRODUCT,
    ROLE,
    SERVICE_CATALOG_TRUST,
    Catalog,
    Decide,
    Iam,
    request,
    uploaded_keys,
    version,
    write_template,
)

#: What a person might attach without the portfolio template: roles on the product's names, no
#: boundary condition, no Deny.
HAND_MADE = [
    {
        "Effect": "Allow",
        "Action": ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PassRole"],
        "Resource": f"arn:aws:iam::{ACCOUNT}:role/SC-*",
    }
]


def roles_of(name: str) -> tuple[str, ...]:
    """The logical ids of the roles of the committed template ``name``, plus the generic one."""
    body = (TEMPLATES / name).read_bytes()
    return tuple(sorted({"Role", *role_ids(LocalTemplate(body, ""))}))


#: The roles each launch role's product creates (what the check probes when publishing it).
PRODUCT_ROLES = {"": roles_of("mlflow.json"), "Network": roles_of("network.json")}


def simulator(statements: list[dict[str, Any]]) -> Decide:
    """IAM's simulator for a role holding ``statements`` (its decision, allowed or not)."""

    def decide(action: str, resource: str, context: dict[str, str]) -> str:
        return "allowed" if allowed(statements, action, resource, context) else "implicitDeny"

    return decide


@pytest.fixture(scope="module")
def portfolio_stack() -> Any:
    """The committed portfolio template offering both products, evaluated (Ref to the boundary is
    its ARN)."""
    template = json.loads((TEMPLATES / "portfolio.json").read_text())
    url = "https://bucket.s3.amazonaws.com/network.json"
    return evaluate(
        template,
        {**PORTFOLIO_PARAMETERS, NETWORK_PRODUCT_TEMPLATE_URL: url},
        physical_ids={portfolio.PERMISSIONS_BOUNDARY: BOUNDARY_ARN},
        account_id=ACCOUNT,
        region="us-east-1",
    )


def role_of(stack: Any, prefix: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The trust policy and the resolved statements of the ``prefix`` launch role."""
    role = stack.resource(f"{prefix}{portfolio.LAUNCH_ROLE}")["Properties"]
    policies = sorted(k for k in stack.resources if k.startswith(f"{prefix}LaunchRolePolicy"))
    statements = [
        statement
        for name in policies
        for statement in stack.resource(name)["Properties"]["PolicyDocument"]["Statement"]
    ]
    return role["AssumeRolePolicyDocument"], statements


def test_a_launch_role_needs_the_boundary_it_enforces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 23, item 4: without --permissions-boundary-arn no Rule holds the product's
    PermissionsBoundaryArn, so publishing failed open."""
    with pytest.raises(PublishError, match="--launch-role-name needs --permissions-boundary-arn"):
        request(write_template(tmp_path), launch_role_name=ROLE)
    flags = ["--portfolio", PORTFOLIO, "--product", PRODUCT, "--bucket", BUCKET, "--version", "v1"]
    flags += ["--template", str(write_template(tmp_path)), "--launch-role-name", ROLE]

    assert publish_module.main(flags) == 2  # refused before any AWS call
    err = capsys.readouterr().err
    assert "--launch-role-name needs --permissions-boundary-arn" in err
    assert "PermissionsBoundaryArn" in err and "LaunchRoleArn" in err


@pytest.mark.parametrize("prefix", ["", "Network"])
def test_the_portfolio_templates_launch_roles_pass(portfolio_stack: Any, iam: Iam, prefix: str):
    trust, statements = role_of(portfolio_stack, prefix)
    name = f"{prefix}LaunchRole-ABC"
    iam.launch_role(name, trust, simulator(statements), PRODUCT_ROLES[prefix])

    roles = PRODUCT_ROLES[prefix]
    assert check_launch_role(iam.client, name, roles) == f"arn:aws:iam::{ACCOUNT}:role/{name}"


def test_a_role_that_creates_roles_without_the_boundary_is_refused(iam: Iam) -> None:
    iam.launch_role(decide=simulator(HAND_MADE))

    with pytest.raises(PublishError) as raised:
        check_launch_role(iam.client, ROLE)

    assert str(raised.value) == (
        f"launch role '{ROLE}' (arn:aws:iam::{ACCOUNT}:role/{ROLE}) is refused: it may create a "
        "role without a permissions boundary (iam:CreateRole); it may add an inline policy to a "
        "role without a boundary (iam:PutRolePolicy); it may attach a policy to a role without a "
        "boundary (iam:AttachRolePolicy); it may create a role with another permissions boundary "
        "(iam:CreateRole). A launch role must trust only servicecatalog.amazonaws.com and create "
        "or change roles only with the portfolio's permissions boundary, as the portfolio "
        "template's LaunchRole does"
    )


def without_boundary(statement: dict[str, Any]) -> dict[str, Any]:
    """``statement`` with its conditions on iam:PermissionsBoundary taken out."""
    kept = {k: v for k, v in statement.items() if k != "Condition"}
    condition = {
        operator: rest
        for operator, keys in statement.get("Condition", {}).items()
        if (rest := {k: v for k, v in keys.items() if k != "iam:PermissionsBoundary"})
    }
    return kept | {"Condition": condition} if condition else kept


def test_the_portfolio_role_without_its_boundary_conditions_is_refused(
    portfolio_stack: Any, iam: Iam
) -> None:
    """The portfolio's launch role with the boundary taken out (no condition on it, no Deny):
    what IAM would then allow is what the check names."""
    trust, statements = role_of(portfolio_stack, "")
    unbounded = [without_boundary(s) for s in statements if s["Effect"] == "Allow"]
    iam.launch_role(trust=trust, decide=simulator(unbounded), role_ids=PRODUCT_ROLES[""])

    with pytest.raises(PublishError) as raised:
        check_launch_role(iam.client, ROLE, PRODUCT_ROLES[""])

    named = re.findall(r"it may [^;]*\((iam:\w+)\)", str(raised.value))
    # AttachRolePolicy stays refused: its grant also names the policies the product attaches.
    assert named == [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:CreateRole",
        "iam:PutRolePermissionsBoundary",
    ]


@pytest.mark.parametrize(
    ("statements", "problem"),
    [
        (
            [
                *SERVICE_CATALOG_TRUST["Statement"],
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "sts:AssumeRole",
                },
            ],
            f"its trust policy also lets in AWS arn:aws:iam::{ACCOUNT}:root",
        ),
        (
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["servicecatalog.amazonaws.com", "ec2.amazonaws.com"]},
                    "Action": ["sts:AssumeRole"],
                }
            ],
            "its trust policy also lets in Service ec2.amazonaws.com",
        ),
        (
            [{"Effect": "Allow", "Principal": "*", "Action": "sts:*"}],
            "its trust policy also lets in every principal; its trust policy does not let "
            "servicecatalog.amazonaws.com call sts:AssumeRole (every launch would fail)",
        ),
        (
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudformation.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
            "its trust policy also lets in Service cloudformation.amazonaws.com; its trust policy "
            "does not let servicecatalog.amazonaws.com call sts:AssumeRole",
        ),
    ],
    ids=["an-account", "another-service", "everyone", "not-service-catalog"],
)
def test_a_role_others_may_assume_is_refused(
    iam: Iam, statements: list[dict[str, Any]], problem: str
) -> None:
    iam.launch_role(trust={"Version": "2012-10-17", "Statement": statements})

    with pytest.raises(PublishError) as raised:
        check_launch_role(iam.client, ROLE)

    assert f"is refused: {problem}" in str(raised.value)


def test_service_catalog_with_sts_wildcards_and_a_deny_is_trusted(iam: Iam) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Principal": {"Service": ["servicecatalog.amazonaws.com"]},
            "Action": "sts:Assume*",
        },
    }
    iam.launch_role(trust=trust)
    assert check_launch_role(iam.client, ROLE).endswith(f":role/{ROLE}")


def test_a_missing_role_is_refused(iam: Iam) -> None:
    iam.missing_role("NoSuchRole")
    with pytest.raises(PublishError, match="launch role 'NoSuchRole' does not exist in this"):
        check_launch_role(iam.client, "NoSuchRole")


def test_a_simulation_without_a_decision_refuses(iam: Iam) -> None:
    """Fail closed: an action the simulator does not answer for counts as a problem."""
    iam.launch_role(
        decide=lambda action, resource, context: (
            None if action == "iam:PutRolePermissionsBoundary" else "implicitDeny"
        )
    )

    with pytest.raises(PublishError) as raised:
        check_launch_role(iam.client, ROLE)

    assert str(raised.value).count("no decision") == 1
    assert "no decision for iam:PutRolePermissionsBoundary (give a role another" in str(
        raised.value
    )


def test_the_probes_are_the_role_changes_that_escape_the_boundary() -> None:
    assert {(p.action, p.other_boundary) for p in PROBES} == {
        ("iam:CreateRole", False),
        ("iam:PutRolePolicy", False),
        ("iam:AttachRolePolicy", False),
        ("iam:DeleteRolePermissionsBoundary", False),
        ("iam:CreateRole", True),
        ("iam:PutRolePermissionsBoundary", True),
    }


def test_a_refused_role_stops_publish_before_any_change(
    sc: Catalog, s3: Any, iam: Iam, tmp_path: Path
) -> None:
    sc.portfolios((PORT_ID, PORTFOLIO))
    sc.products((PROD_ID, PRODUCT))
    sc.versions(version(PA_OLD, "v0.1.0"))
    sc.associated_portfolios(PORT_ID)
    sc.constraints()
    iam.launch_role(decide=simulator(HAND_MADE))
    publishing = request(
        write_template(tmp_path),
        version="v0.2.0",
        launch_role_name=ROLE,
        permissions_boundary_arn=BOUNDARY,
    )

    with pytest.raises(PublishError, match="is refused: it may create a role without"):
        publish(publishing, sc=sc.client, s3=s3, iam=iam.client)

    assert uploaded_keys(s3) == []  # and the Stubber saw no call that changes anything


def test_publish_with_a_launch_role_needs_an_iam_client(sc: Catalog, tmp_path: Path) -> None:
    publishing = request(
        write_template(tmp_path), launch_role_name=ROLE, permissions_boundary_arn=BOUNDARY
    )
    with pytest.raises(ValueError, match="needs an IAM client to check the role"):
        publish(publishing, sc=sc.client, s3=None)


def test_the_check_probes_the_roles_of_the_template_it_publishes(tmp_path: Path) -> None:
    """A launch role reaches only its product's roles (role/SC-*-<logical id>-*): probing a name
    no product uses would let a role without boundary conditions pass."""
    assert {"Role", "TaskRole", "TaskExecutionRole"} <= set(PRODUCT_ROLES[""])
    yaml = b"Resources:\n  Mine:\n    Type: AWS::IAM::Role\n  Topic:\n    Type: AWS::SNS::Topic\n"
    assert role_ids(LocalTemplate(yaml, "")) == ["Mine"]
