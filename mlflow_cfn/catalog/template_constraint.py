"""The TEMPLATE constraint ``publish`` keeps on the product: the allow-list Rules
(`mlflow_cfn.catalog.allow_lists`) for the published template's Parameters, with the admin's
``--allow-*`` values written in.

Ours is the TEMPLATE constraint with DESCRIPTION; it is created when missing, updated when its
Rules differ, left alone when equal. A template without guarded Parameters needs none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient

from mlflow_cfn.catalog.allow_lists import RuleValues, template_rules
from mlflow_cfn.catalog.publish_request import LocalTemplate, PublishRequest, idempotency_token

#: How ``publish`` recognises its own template constraint.
DESCRIPTION = "mlflow-cfn allow-lists: what launchers may point the product at"


@dataclass(frozen=True)
class ExistingRules:
    """Our template constraint as it exists: its id and Rules."""

    constraint_id: str
    rules: dict[str, Any]


def wanted_rules(request: PublishRequest, template: LocalTemplate, partition: str) -> dict:
    """The Rules the request's allow-lists give the template's Parameters (empty: none needed,
    or the portfolio stack's own template constraint holds the product)."""
    if request.stack_product_id is not None:
        return {}
    parameters = json.loads(template.body).get("Parameters", {})
    values = RuleValues(request.allow, partition, request.permissions_boundary_arn)
    return template_rules(parameters, values)


def existing_rules(sc: BaseClient, constraints: list[dict[str, Any]]) -> ExistingRules | None:
    """Our template constraint among the product's ``constraints`` (ListConstraintsForPortfolio
    details), with its Rules."""
    for constraint in constraints:
        if constraint.get("Type") == "TEMPLATE" and constraint.get("Description") == DESCRIPTION:
            described = sc.describe_constraint(Id=constraint["ConstraintId"])
            parameters = json.loads(described.get("ConstraintParameters") or "{}")
            return ExistingRules(constraint["ConstraintId"], parameters.get("Rules", {}))
    return None


def put_rules(
    sc: BaseClient,
    portfolio_id: str,
    product_id: str,
    rules: dict[str, Any],
    existing: ExistingRules | None,
) -> str:
    """Create our template constraint, or update its Rules; returns its id."""
    parameters = json.dumps({"Rules": rules}, sort_keys=True)
    if existing is not None:
        sc.update_constraint(
            Id=existing.constraint_id, Description=DESCRIPTION, Parameters=parameters
        )
        return existing.constraint_id
    response = sc.create_constraint(
        PortfolioId=portfolio_id,
        ProductId=product_id,
        Type="TEMPLATE",
        Parameters=parameters,
        Description=DESCRIPTION,
        IdempotencyToken=idempotency_token("template", portfolio_id, product_id, parameters),
    )
    return response["ConstraintDetail"]["ConstraintId"]
