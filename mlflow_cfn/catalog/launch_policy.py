"""The launch role's policy: its statements, assembled from the tables of the other catalog modules,
packed into managed policies within IAM's limits.

Each needed action (`mlflow_cfn.catalog.launch_actions`) is granted once: under its condition if
it is only safe with one (`mlflow_cfn.catalog.conditioned_grants`), otherwise on the ARNs it may act
on (`mlflow_cfn.catalog.scopes`), which for some actions are what the admin allows
(`mlflow_cfn.catalog.portfolio_inputs`). Actions the product's handlers list but that reach beyond
it are refused (REFUSED_ACTIONS), and two Deny statements keep the portfolio's permissions boundary
on every role the launch role creates or changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from awacs.aws import (
    Action,
    Allow,
    Condition,
    ConditionElement,
    Deny,
    Statement,
    StringEquals,
    StringLike,
    StringNotEquals,
)
from troposphere import If, Sub, encode_to_dict

from mlflow_cfn.catalog.allow_lists import SECRET_PARAMETERS
from mlflow_cfn.catalog.conditioned_grants import (
    BOUNDED_ROLE_ACTIONS,
    SECRET_CONTEXT,
    SECRETS_MANAGER_VIA,
    conditioned_grants,
)
from mlflow_cfn.catalog.generated_names import check_generated_names
from mlflow_cfn.catalog.grants import Grant
from mlflow_cfn.catalog.launch_actions import REFUSED_ACTIONS, required_actions, stack_actions
from mlflow_cfn.catalog.network_grants import NETWORK_REFUSED_ACTIONS
from mlflow_cfn.catalog.portfolio_inputs import ALLOW_LISTED_STATEMENT_RESERVE, AllowListInputs
from mlflow_cfn.catalog.product import ProductTemplates, product_variants
from mlflow_cfn.catalog.schema_actions import action_table
from mlflow_cfn.catalog.scopes import ACCOUNT_KEYS, scoped_actions
from mlflow_cfn.stack.policies import document

#: Size limit of a managed policy document, whitespace not counted.
MANAGED_POLICY_MAX_CHARS = 6_144
#: Default quota of managed policies attached to one role.
MAX_MANAGED_POLICIES_PER_ROLE = 10

_S = TypeVar("_S")


def launch_statements(
    product_templates: ProductTemplates,
    allowed: AllowListInputs,
    boundary: Any,
    *,
    launch: bool = True,
) -> list[Statement | If]:
    """The launch role's statements: what the resources, Parameters and dynamic references of the
    product template(s) need, and the launch itself (without ``launch``: only what CloudFormation
    does for the stack, `mlflow_cfn.catalog.operator_policy`), in a stable order; the actions on
    what the admin allows only when ``allowed`` lists some; roles only with ``boundary`` (its ARN).

    Raises ValueError when a needed action can only be granted on ``*`` but has no entry in
    WILDCARD_RESOURCE_EXCEPTIONS, belongs to a service without RESOURCE_SCOPES (or a scope derived
    from the product), or reads a dynamic reference DYNAMIC_REFERENCE_ACTIONS does not cover, and
    when the product sets a name GENERATED_NAME_PROPERTIES keeps unset.
    """
    variants = product_variants(product_templates)
    check_generated_names(variants)
    table = action_table(variants)
    refused = {a.lower() for a in (*REFUSED_ACTIONS, *NETWORK_REFUSED_ACTIONS)}
    actions = (required_actions if launch else stack_actions)(variants, table)
    needed = {a.lower(): a for a in sorted(actions) if a.lower() not in refused}
    decrypts = "kms:decrypt" in needed
    secrets = secret_list(variants)
    statements: list[Statement | If] = []
    statements += _conditioned_statements(conditioned_grants(variants, table, boundary), needed)
    for group in scoped_actions(needed, variants):
        if group.allow_list is None:
            statements.append(_statement(group.sid, group.actions, group.patterns))
            continue
        list_name, prefix, suffix = group.allow_list
        list_name = secrets if list_name == "secret_prefixes" else list_name
        statements.append(allowed.only_if_allowed(list_name, Statement(
            Sid=group.sid,
            Effect=Allow,
            Action=[Action(*a.split(":", 1)) for a in group.actions],
            Resource=allowed.arns(list_name, prefix, suffix),
        )))  # fmt: skip
    if decrypts:
        statements.append(_allowed_secrets_keys(allowed, secrets))
    return [*statements, *_boundary_denials(boundary)]


def secret_list(variants: tuple[dict[str, Any], ...]) -> str:
    """The allow-list that holds the prefixes of the secrets the product's Parameters name
    (`mlflow_cfn.catalog.allow_lists.SECRET_PARAMETERS`): each product reads from its own."""
    lists = {
        SECRET_PARAMETERS[name]
        for variant in variants
        for name in variant.get("Parameters", {})
        if name in SECRET_PARAMETERS
    }
    if len(lists) > 1:
        raise ValueError(f"one product's secrets come from one allow-list, not {sorted(lists)}")
    return lists.pop() if lists else "secret_prefixes"


def _allowed_secrets_keys(allowed: AllowListInputs, secrets: str) -> If:
    """Decrypt through Secrets Manager the secrets the admin allows (resolving the OIDC client
    secret), with whichever key encrypts them: the encryption context names the secret."""
    return allowed.only_if_allowed(secrets, Statement(
        Sid="DecryptOnlyTheSecretsTheAdminAllows",
        Effect=Allow,
        Action=[Action("kms", "Decrypt")],
        Resource=[Sub(ACCOUNT_KEYS)],
        Condition=Condition([
            StringEquals("kms:ViaService", SECRETS_MANAGER_VIA),
            StringLike(SECRET_CONTEXT, allowed.arns(secrets, suffix="*")),
        ]),
    ))  # fmt: skip


def _boundary_denials(boundary: Any) -> list[Statement]:
    """Deny creating or re-bounding a role with any boundary but ``boundary``, and removing it."""
    return [
        Statement(
            Sid="DenyRolesWithoutThePortfoliosBoundary",
            Effect=Deny,
            Action=[Action(*a.split(":", 1)) for a in BOUNDED_ROLE_ACTIONS],
            Resource=["*"],
            Condition=Condition(StringNotEquals("iam:PermissionsBoundary", boundary)),
        ),
        Statement(
            Sid="DenyRemovingThePortfoliosBoundary",
            Effect=Deny,
            Action=[Action("iam", "DeleteRolePermissionsBoundary")],
            Resource=["*"],
        ),
    ]


def _conditioned_statements(grants: Iterable[Grant], needed: dict[str, str]) -> list[Statement]:
    """A statement for each grant with values (or without a condition) whose actions are
    ``needed`` (by lower-case name), and one for its plain resources; takes the grants' actions
    out of ``needed``."""
    grants = list(grants)
    statements = []
    for grant in grants:
        actions = [a for a in grant.actions if a.lower() in needed]
        if actions and (grant.values or grant.condition is None):
            statements.append(
                _statement(grant.sid, actions, grant.resources, grant.condition_elements())
            )
        if actions and grant.plain:
            sid, plain_actions, resources = grant.plain
            statements.append(_statement(sid, plain_actions, resources))
    for grant in grants:
        for action in grant.actions:
            needed.pop(action.lower(), None)
    return statements


def _statement(
    sid: str,
    actions: Iterable[str],
    patterns: Iterable[str],
    condition: list[ConditionElement] | None = None,
) -> Statement:
    """Allow ``actions`` on ``patterns`` (``*`` as is, ARN patterns as Fn::Sub), if given only
    under ``condition``."""
    conditioned = {"Condition": Condition(condition)} if condition else {}
    return Statement(
        Sid=sid,
        Effect=Allow,
        Action=[Action(*a.split(":", 1)) for a in actions],
        Resource=_resources(patterns),
        **conditioned,
    )


def _resources(patterns: Iterable[str]) -> list[Any]:
    """Resource entries: ``*`` as is, ARN patterns as Fn::Sub."""
    return [p if p == "*" else Sub(p) for p in patterns]


def policy_chars(policy: dict[str, Any]) -> int:
    """Characters of ``policy`` as IAM counts them (no whitespace). Fn::Sub placeholders are
    longer than the values they stand for, and Fn::If/Fn::Split around statements and ARNs take
    room they do not take once resolved, so this over-counts."""
    return len(json.dumps(encode_to_dict(policy), separators=(",", ":")))


def _packed_chars(statements: list[Statement | If]) -> int:
    """policy_chars of a document of ``statements``, with ALLOW_LISTED_STATEMENT_RESERVE for each
    allow-listed one (an Fn::If)."""
    reserve = ALLOW_LISTED_STATEMENT_RESERVE * sum(isinstance(s, If) for s in statements)
    return policy_chars(document(*statements)) + reserve


def launch_policy_documents(
    product_templates: ProductTemplates, allowed: AllowListInputs, boundary: Any
) -> list[dict[str, Any]]:
    """The launch statements packed, in order, into documents of managed-policy size (each
    allow-listed statement with room for the ARNs the admin's list resolves to)."""
    documents = pack(launch_statements(product_templates, allowed, boundary), _packed_chars)
    if len(documents) > MAX_MANAGED_POLICIES_PER_ROLE:
        raise ValueError(f"the launch role needs {len(documents)} managed policies")
    return [document(*s) for s in documents]


def pack(statements: Iterable[_S], chars: Callable[[list[_S]], int]) -> list[list[_S]]:
    """``statements`` in order, cut into as few runs as each fit one managed policy, measured by
    ``chars`` (the size of a document of a run); ValueError for a statement too large alone."""
    runs: list[list[_S]] = [[]]
    for statement in statements:
        if chars([statement]) >= MANAGED_POLICY_MAX_CHARS:
            raise ValueError(f"statement {encode_to_dict(statement)} alone exceeds a policy")
        if chars([*runs[-1], statement]) >= MANAGED_POLICY_MAX_CHARS:
            runs.append([])
        runs[-1].append(statement)
    return runs
