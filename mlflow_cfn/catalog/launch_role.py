"""What the portfolio template gives each product it offers (the MLflow product, and the network
product beside it): a launch role whose managed policies are derived from that product's
template (`mlflow_cfn.catalog.launch_policy`), trusted by Service Catalog, and the template
constraint whose Rules refuse what the admin does not allow (`mlflow_cfn.catalog.allow_lists`).

The MLflow product's resources keep the names they were released with (``LaunchRole``,
``LaunchRolePolicy1``...); another product's carry a prefix (``NetworkLaunchRole``...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from awacs.aws import Allow, PolicyDocument, Principal, Statement
from awacs.sts import AssumeRole
from troposphere import Ref, Sub, Template, iam, servicecatalog

from mlflow_cfn.catalog.allow_lists import template_rules
from mlflow_cfn.catalog.launch_policy import launch_policy_documents
from mlflow_cfn.catalog.portfolio_inputs import AllowListInputs, TemplateRuleValues
from mlflow_cfn.catalog.product import ProductTemplates
from mlflow_cfn.stack.policies import VERSION

LAUNCH_ROLE = "LaunchRole"
LAUNCH_ROLE_POLICY_PREFIX = "LaunchRolePolicy"  # LaunchRolePolicy1, LaunchRolePolicy2, ...
LAUNCH_TEMPLATE_CONSTRAINT = "LaunchTemplateConstraint"

#: Who assumes the launch role.
SERVICE_CATALOG_PRINCIPAL = "servicecatalog.amazonaws.com"


@dataclass(frozen=True)
class Offering:
    """How one product's launch resources are named and described, and the Condition they exist
    under (None: always)."""

    prefix: str = ""
    what: str = "MLflow product"
    plural: str = "MLflow products"
    condition: str | None = None

    def only_if(self) -> dict[str, str]:
        """The ``Condition=`` keyword of the offering's resources."""
        return {"Condition": self.condition} if self.condition else {}


#: The MLflow product's offering: the names and texts released in templates/portfolio.json.
MLFLOW = Offering()


def add_launch_role(
    template: Template,
    product_templates: ProductTemplates,
    allowed: AllowListInputs,
    boundary: iam.ManagedPolicy,
    offering: Offering = MLFLOW,
) -> iam.Role:
    """The launch role, trusted by Service Catalog, with its managed policies attached."""
    documents = launch_policy_documents(product_templates, allowed, Ref(boundary))
    policies = [
        template.add_resource(
            iam.ManagedPolicy(
                f"{offering.prefix}{LAUNCH_ROLE_POLICY_PREFIX}{i}",
                **offering.only_if(),
                Description=(
                    f"{offering.what} launch permissions, part {i} of {len(documents)}: derived "
                    "from the product template's resource types"
                ),
                PolicyDocument=document,
            )
        )
        for i, document in enumerate(documents, start=1)
    ]
    return template.add_resource(
        iam.Role(
            f"{offering.prefix}{LAUNCH_ROLE}",
            **offering.only_if(),
            Description=f"Service Catalog launches, updates and ends {offering.plural} with it",
            AssumeRolePolicyDocument=launch_role_trust(),
            ManagedPolicyArns=[Ref(p) for p in policies],
        )
    )


def launch_role_trust() -> PolicyDocument:
    """Service Catalog assumes the launch role: the trust relationship the Service Catalog
    Administrator Guide gives a launch role ("AWS Service Catalog launch constraints",
    "Configuring a launch role": the role type AWS Service Catalog, principal
    servicecatalog.amazonaws.com). No condition key: the guide documents none that Service
    Catalog sends when it assumes a launch role, and a key it does not send refuses every launch."""
    return PolicyDocument(
        Version=VERSION,
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Service", SERVICE_CATALOG_PRINCIPAL),
                Action=[AssumeRole],
            )
        ],
    )


def add_template_constraint(
    template: Template,
    variants: tuple[dict[str, Any], ...],
    portfolio: servicecatalog.Portfolio,
    product: servicecatalog.CloudFormationProduct,
    association: servicecatalog.PortfolioProductAssociation,
    boundary: iam.ManagedPolicy,
    offering: Offering = MLFLOW,
) -> None:
    """The template constraint whose Rules refuse what the admin does not allow."""
    values = TemplateRuleValues(boundary.title)
    # Rules may name only Parameters the launched template declares: those of every variant.
    parameters = set.intersection(*(set(v.get("Parameters", {})) for v in variants))
    rules = template_rules(parameters, values)
    template.add_resource(
        servicecatalog.LaunchTemplateConstraint(
            f"{offering.prefix}{LAUNCH_TEMPLATE_CONSTRAINT}",
            **offering.only_if(),
            DependsOn=[association],
            Description=(
                "Only the secrets, buckets, KMS keys, hosted zones and images the admin allows, "
                "and the portfolio's permissions boundary"
            ),
            PortfolioId=Ref(portfolio),
            ProductId=Ref(product),
            Rules=Sub(json.dumps(rules, sort_keys=True), **values.variables),
            Metadata={
                "cfn-lint": {"config": {"ignore_checks": ["I3042"]}},
                "Comment": (
                    "I3042: the Rules compare a launcher's bucket ARN with each partition's form "
                    "of every allowed bucket, since Fn::Join's delimiter cannot hold the "
                    "AWS::Partition pseudo parameter; an ARN of another partition names no bucket "
                    "here"
                ),
            },
        )
    )
