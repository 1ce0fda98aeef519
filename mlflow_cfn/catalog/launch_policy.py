"""The launch role's policy: its statements, assembled from the tables of the other catalog modules,
packed into managed policies within IAM's limits.

Each needed action (`mlflow_cfn.catalog.launch_actions`) is granted once: under its condition if
it is only safe with one (`mlflow_cfn.catalog.conditioned_grants`), otherwise on the ARNs it may act
on (`mlflow_cfn.catalog.scopes`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from awacs.aws import Action, Allow, Condition, ConditionElement, PolicyDocument, Statement
from troposphere import Sub, encode_to_dict

from mlflow_cfn.catalog.conditioned_grants import Grant, conditioned_grants
from mlflow_cfn.catalog.launch_actions import required_actions
from mlflow_cfn.catalog.product import ProductTemplates, product_variants
from mlflow_cfn.catalog.schema_actions import action_table
from mlflow_cfn.catalog.scopes import check_generated_names, scoped_actions
from mlflow_cfn.stack.policies import VERSION

#: Size limit of a managed policy document, whitespace not counted.
MANAGED_POLICY_MAX_CHARS = 6_144
#: Default quota of managed policies attached to one role.
MAX_MANAGED_POLICIES_PER_ROLE = 10


def launch_statements(product_templates: ProductTemplates) -> list[Statement]:
    """The launch role's statements: what the resources, Parameters and dynamic references of the
    product template(s) need, and the launch itself, in a stable order.

    Raises ValueError when a needed action can only be granted on ``*`` but has no entry in
    WILDCARD_RESOURCE_EXCEPTIONS, belongs to a service without RESOURCE_SCOPES (or a scope derived
    from the product), or reads a dynamic reference DYNAMIC_REFERENCE_ACTIONS does not cover, and
    when the product sets a name GENERATED_NAME_PROPERTIES keeps unset.
    """
    variants = product_variants(product_templates)
    check_generated_names(variants)
    table = action_table(variants)
    needed = {a.lower(): a for a in sorted(required_actions(variants, table))}
    statements = _conditioned_statements(conditioned_grants(variants, table), needed)
    statements += [
        _statement(group.sid, group.actions, group.patterns)
        for group in scoped_actions(needed, variants)
    ]
    return statements


def _conditioned_statements(grants: Iterable[Grant], needed: dict[str, str]) -> list[Statement]:
    """A statement for each grant with values whose actions are ``needed`` (by lower-case name),
    which it takes out of ``needed``."""
    statements = []
    for grant in grants:
        actions = [a for a in grant.actions if needed.pop(a.lower(), None)]
        if actions and grant.values:
            statements.append(
                _statement(grant.sid, actions, grant.resources, grant.condition_element())
            )
    return statements


def _statement(
    sid: str,
    actions: Iterable[str],
    patterns: Iterable[str],
    condition: ConditionElement | None = None,
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


def policy_chars(document: PolicyDocument) -> int:
    """Characters of ``document`` as IAM counts them (no whitespace). Fn::Sub placeholders are
    longer than the values they stand for, so this over-counts."""
    return len(json.dumps(encode_to_dict(document), separators=(",", ":")))


def launch_policy_documents(product_templates: ProductTemplates) -> list[PolicyDocument]:
    """The launch statements packed, in order, into documents of managed-policy size."""
    documents: list[list[Statement]] = [[]]
    for statement in launch_statements(product_templates):
        if policy_chars(PolicyDocument(Version=VERSION, Statement=[statement])) >= (
            MANAGED_POLICY_MAX_CHARS
        ):
            raise ValueError(f"statement {statement.Sid} alone exceeds a managed policy")
        candidate = PolicyDocument(Version=VERSION, Statement=[*documents[-1], statement])
        if policy_chars(candidate) >= MANAGED_POLICY_MAX_CHARS:
            documents.append([])
        documents[-1].append(statement)
    if len(documents) > MAX_MANAGED_POLICIES_PER_ROLE:
        raise ValueError(f"the launch role needs {len(documents)} managed policies")
    return [PolicyDocument(Version=VERSION, Statement=s) for s in documents]
