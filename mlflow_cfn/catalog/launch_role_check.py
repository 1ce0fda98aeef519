"""What ``publish`` checks of the launch role it is asked to attach (``--launch-role-name``),
with read-only IAM calls, before it changes anything.

Service Catalog assumes the launch role for every launch, update and termination, and launchers
choose every Parameter value, so a role that others may assume, or that may create roles without
the portfolio's permissions boundary, hands launchers more than the product needs. Two checks:

* **Trust** (``iam:GetRole``): every Allow statement of the role's trust policy names only
  Service Catalog's service principal, and one lets it call ``sts:AssumeRole`` (Service Catalog
  Administrator Guide, "AWS Service Catalog launch constraints": "The IAM role also must have a
  trust relationship with AWS Service Catalog ... The trust relationship allows AWS Service
  Catalog to assume the role during the launch process to create resources.").
* **Roles only with the boundary** (``iam:SimulatePrincipalPolicy``): IAM's policy simulator
  evaluates the role's own policies for the role changes in `PROBES` (no boundary, another
  boundary, removing it) on a role named as CloudFormation names a Service Catalog stack's roles;
  none may be allowed. What the simulator covers (botocore's iam model, SimulatePrincipalPolicy):
  "The IAM policy simulator evaluates statements in identity-based policies, service control
  policies (SCPs) including their condition keys and resource scoping, and the inputs that you
  provide during simulation. The policy simulator results can differ from your live Amazon Web
  Services environment."

Not checked: the role's other permissions (the portfolio template derives those), and the roles
of the same name in other accounts, which a launch constraint by local role name uses when the
portfolio is shared (CloudFormation User Guide, AWS::ServiceCatalog::LaunchRoleConstraint,
LocalRoleName: "the IAM role with that name in the account will be used").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from mlflow_cfn.catalog.launch_role import SERVICE_CATALOG_PRINCIPAL
from mlflow_cfn.catalog.publish_request import LocalTemplate, PublishError
from mlflow_cfn.cfn.documents import parse_document

#: The condition key naming the boundary a role gets or has, on which the portfolio's launch role
#: conditions its role changes (`mlflow_cfn.catalog.conditioned_grants`, BOUNDED_ROLE_ACTIONS).
BOUNDARY_KEY = "iam:PermissionsBoundary"


@dataclass(frozen=True)
class Probe:
    """A role change a launch role must not be allowed: the action, whether the request names a
    boundary other than the portfolio's (else none), and what allowing it means."""

    action: str
    other_boundary: bool
    meaning: str


#: What the launch role may not do to a product's role: create it, or add permissions to it,
#: without the portfolio's boundary, give it another boundary, or take its boundary away.
PROBES = (
    Probe("iam:CreateRole", False, "create a role without a permissions boundary"),
    Probe("iam:PutRolePolicy", False, "add an inline policy to a role without a boundary"),
    Probe("iam:AttachRolePolicy", False, "attach a policy to a role without a boundary"),
    # IAM API Reference, DeleteRolePermissionsBoundary: "Deleting the permissions boundary for a
    # role might increase its permissions."
    Probe("iam:DeleteRolePermissionsBoundary", False, "remove a role's permissions boundary"),
    Probe("iam:CreateRole", True, "create a role with another permissions boundary"),
    Probe("iam:PutRolePermissionsBoundary", True, "give a role another permissions boundary"),
)


def role_ids(template: LocalTemplate) -> list[str]:
    """The logical ids of the roles ``template`` creates (JSON or YAML)."""
    resources = parse_document(template.body.decode("utf-8"), "--template").get("Resources", {})
    return sorted(k for k, v in resources.items() if v.get("Type") == "AWS::IAM::Role")


def check_launch_role(iam: BaseClient, name: str, role_ids: Iterable[str] = ()) -> str:
    """The ARN of the role ``name`` once it passes both checks, probed on the roles a Service
    Catalog stack of the template would create (``role_ids``, its roles' logical ids);
    PublishError naming every problem otherwise (or the role missing)."""
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NoSuchEntity":
            raise
        raise PublishError(
            f"launch role {name!r} does not exist in this account (--launch-role-name; the "
            "portfolio template's is the name at the end of its LaunchRoleArn output)"
        ) from None
    arn = role["Arn"]
    # botocore decodes the URL-encoded policy document into JSON data (json_decode_policies).
    problems = _trust_problems(role["AssumeRolePolicyDocument"])
    problems += _role_change_problems(iam, arn, sorted({"Role", *role_ids}))
    if problems:
        raise PublishError(
            f"launch role {name!r} ({arn}) is refused: {'; '.join(problems)}. A launch role must "
            f"trust only {SERVICE_CATALOG_PRINCIPAL} and create or change roles only with the "
            "portfolio's permissions boundary, as the portfolio template's LaunchRole does"
        )
    return arn


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _trust_problems(document: dict[str, Any]) -> list[str]:
    """Who else the trust policy lets in, and whether Service Catalog may assume the role."""
    others: list[str] = []
    assumable = False
    for statement in _listed(document.get("Statement", [])):
        if statement.get("Effect") != "Allow":
            continue  # a Deny only narrows who may assume it
        principal = statement.get("Principal")
        if principal is None or principal == "*":
            others.append("every principal" if principal else "NotPrincipal (all but some)")
            continue
        for kind, values in principal.items():
            for value in _listed(values):
                if (kind, value) != ("Service", SERVICE_CATALOG_PRINCIPAL):
                    others.append(f"{kind} {value}")
                elif any(
                    fnmatchcase("sts:assumerole", action.lower())
                    for action in _listed(statement.get("Action", []))
                ):
                    assumable = True
    problems = []
    if others:
        problems.append(f"its trust policy also lets in {', '.join(sorted(set(others)))}")
    if not assumable:
        problems.append(
            f"its trust policy does not let {SERVICE_CATALOG_PRINCIPAL} call sts:AssumeRole "
            "(every launch would fail)"
        )
    return problems


def _role_change_problems(iam: BaseClient, role_arn: str, role_ids: list[str]) -> list[str]:
    """What of `PROBES` IAM's simulator allows the role (or gives no decision for), on roles named
    as a Service Catalog stack's roles are (``SC-<account>-pp-<id>-<logical id>-<suffix>``), one
    per logical id: a launch role may reach only the roles its product creates."""
    _, partition, _, _, account, _ = role_arn.split(":", 5)
    targets = [
        f"arn:{partition}:iam::{account}:role/SC-{account}-pp-publishcheck-{logical_id}-CHECK"
        for logical_id in role_ids
    ]
    other = f"arn:{partition}:iam::aws:policy/AdministratorAccess"
    found = []
    for other_boundary in (False, True):
        probes = [p for p in PROBES if p.other_boundary == other_boundary]
        boundary = {"ContextKeyName": BOUNDARY_KEY, "ContextKeyValues": [other]}
        pages = iam.get_paginator("simulate_principal_policy").paginate(
            PolicySourceArn=role_arn,
            ActionNames=[p.action for p in probes],
            ResourceArns=targets,
            ContextEntries=[boundary | {"ContextKeyType": "string"}] if other_boundary else [],
        )
        decisions = _decisions(pages)
        for probe in probes:
            decided = decisions.get(probe.action.lower())
            if not decided:
                found.append(
                    f"IAM's simulator gave no decision for {probe.action} ({probe.meaning})"
                )
            elif "allowed" in decided:
                found.append(f"it may {probe.meaning} ({probe.action})")
    return found


def _decisions(pages: Any) -> dict[str, set[str]]:
    """Action name (lower case) -> every decision the simulator's pages give it: overall and for
    each resource (EvalDecision, EvalResourceDecision: allowed, explicitDeny or implicitDeny)."""
    decisions: dict[str, set[str]] = {}
    for page in pages:
        for result in page.get("EvaluationResults", []):
            found = decisions.setdefault(result["EvalActionName"].lower(), set())
            found.add(result["EvalDecision"])
            found |= {r["EvalResourceDecision"] for r in result.get("ResourceSpecificResults", [])}
    return decisions
