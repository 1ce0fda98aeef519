"""The Service Catalog portfolio template: a portfolio, the MLflow product and its launch role.

A platform team deploys it once. The launch role's policy is derived from the product template it
offers (or from several variants of it: the role then covers each), see
`mlflow_cfn.catalog.launch_policy`: the permissions of the product's resource types from
cfn-lint's schemas (`schema_actions`), what launching needs besides (`launch_actions`), the ARNs
each action may act on (`scopes`) and the conditions some actions need (`conditioned_grants`).
The tables of those modules that the tests read are re-exported here.

What launchers may point the product at is what the admin allows in the allow-list Parameters
(`portfolio_inputs`): a template constraint refuses other values before anything is created
(`allow_lists`), and the launch role and the permissions boundary of the product's roles
(`boundary`) reach only those. The template constraint also forces the product's
PermissionsBoundaryArn to the portfolio's boundary, and the launch role creates and changes roles
only with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from troposphere import GetAtt, Output, Ref, Template, iam, servicecatalog

from mlflow_cfn.catalog.boundary import boundary_document
from mlflow_cfn.catalog.conditioned_grants import (
    KEY_USE_ACTIONS,
    KEY_USE_VIA_SERVICES,
    SERVICE_LINKED_ROLE_SERVICES,
)
from mlflow_cfn.catalog.launch_actions import LAUNCH_ACTIONS
from mlflow_cfn.catalog.launch_role import (
    LAUNCH_ROLE,
    LAUNCH_ROLE_POLICY_PREFIX,
    LAUNCH_TEMPLATE_CONSTRAINT,
    add_launch_role,
    add_template_constraint,
)
from mlflow_cfn.catalog.network_product import (
    add_network_product,
    declare_offer_condition,
    network_parameter_specs,
)
from mlflow_cfn.catalog.portfolio_inputs import (
    ALLOW_DEFAULT_MLFLOW_IMAGE,
    ALLOW_LIST_PARAMETERS,
    ALLOWED_EXPOSURE,
    PORTFOLIO_NAME,
    PORTFOLIO_PROVIDER_NAME,
    PRINCIPAL_ARN,
    PRODUCT_NAME,
    PRODUCT_OWNER,
    PRODUCT_TEMPLATE_URL,
    PRODUCT_VERSION_NAME,
    AllowListInputs,
    add_parameters,
    declare_default_image_condition,
    parameter_specs,
)
from mlflow_cfn.catalog.product import ProductTemplates, product_variants
from mlflow_cfn.catalog.schema_actions import (
    EXTRA_ACTIONS,
    HANDLERS,
    NO_HANDLER_TYPES,
    SCHEMA_PERMISSION_ALIASES,
    SCHEMA_PERMISSIONS_NOT_IAM,
    action_table,
)
from mlflow_cfn.catalog.scopes import (
    ACCOUNT_KEYS,
    ACTION_SCOPES,
    GENERATED_NAME_PROPERTIES,
    GENERATED_NAME_SUFFIX,
    WILDCARD_RESOURCE_EXCEPTIONS,
)
from mlflow_cfn.versions import __version__

__all__ = [
    "ACCOUNT_KEYS",
    "ACTION_SCOPES",
    "ALLOWED_EXPOSURE",
    "ALLOW_DEFAULT_MLFLOW_IMAGE",
    "ALLOW_LIST_PARAMETERS",
    "EXTRA_ACTIONS",
    "GENERATED_NAME_PROPERTIES",
    "GENERATED_NAME_SUFFIX",
    "HANDLERS",
    "KEY_USE_ACTIONS",
    "KEY_USE_VIA_SERVICES",
    "LAUNCH_ACTIONS",
    "LAUNCH_ROLE",
    "LAUNCH_ROLE_ARN",
    "LAUNCH_ROLE_CONSTRAINT",
    "LAUNCH_ROLE_POLICY_PREFIX",
    "LAUNCH_TEMPLATE_CONSTRAINT",
    "NO_HANDLER_TYPES",
    "PERMISSIONS_BOUNDARY",
    "PERMISSIONS_BOUNDARY_ARN",
    "PORTFOLIO",
    "PORTFOLIO_ID",
    "PORTFOLIO_NAME",
    "PORTFOLIO_PRINCIPAL_ASSOCIATION",
    "PORTFOLIO_PRODUCT_ASSOCIATION",
    "PORTFOLIO_PROVIDER_NAME",
    "PRINCIPAL_ARN",
    "PRODUCT",
    "PRODUCT_ID",
    "PRODUCT_NAME",
    "PRODUCT_OWNER",
    "PRODUCT_TEMPLATE_URL",
    "PRODUCT_VERSION_NAME",
    "SCHEMA_PERMISSIONS_NOT_IAM",
    "SCHEMA_PERMISSION_ALIASES",
    "SERVICE_LINKED_ROLE_SERVICES",
    "WILDCARD_RESOURCE_EXCEPTIONS",
    "action_table",
    "build_portfolio_template",
    "portfolio_template_from_file",
]

# --- Names: the portfolio template's public API (never renamed once released) ----------------

PORTFOLIO = "Portfolio"
PRODUCT = "Product"
PORTFOLIO_PRODUCT_ASSOCIATION = "PortfolioProductAssociation"
PORTFOLIO_PRINCIPAL_ASSOCIATION = "PortfolioPrincipalAssociation"
LAUNCH_ROLE_CONSTRAINT = "LaunchRoleConstraint"
PERMISSIONS_BOUNDARY = "PermissionsBoundary"

PORTFOLIO_ID = "PortfolioId"
PRODUCT_ID = "ProductId"
LAUNCH_ROLE_ARN = "LaunchRoleArn"
PERMISSIONS_BOUNDARY_ARN = "PermissionsBoundaryArn"


def portfolio_template_from_file(
    path: str | Path, *variants: str | Path, network: str | Path | None = None
) -> Template:
    """The portfolio template offering the product template stored as JSON at ``path``, its launch
    role also covering the product's ``variants`` stored beside it, and the network template
    stored at ``network`` as a second product (when given)."""
    return build_portfolio_template(
        [json.loads(Path(p).read_text()) for p in (path, *variants)],
        network=json.loads(Path(network).read_text()) if network else None,
    )


def build_portfolio_template(
    product_templates: ProductTemplates, *, network: dict[str, Any] | None = None
) -> Template:
    """The portfolio template offering the product: ``product_templates`` is its template (the
    committed templates/mlflow.json) or several variants of it (e.g. with
    templates/mlflow-datadog.json), which the launch role then all covers; the product's
    description is the first one's.

    With ``network`` (templates/network.json as JSON data), the portfolio can offer it as a
    second product with its own launch role (`mlflow_cfn.catalog.network_product`).

    Raises ValueError when the product uses something the launch-role tables do not cover.
    """
    variants = product_variants(product_templates)
    template = Template(
        Description=(
            f"Service Catalog portfolio offering the MLflow product, with its launch role "
            f"(mlflow-cfn {__version__})"
        )
    )
    template.set_version("2010-09-09")
    params = add_parameters(
        template, parameter_specs() + (network_parameter_specs() if network else [])
    )
    declare_default_image_condition(template)
    offer_network = declare_offer_condition(template) if network else None
    portfolio = template.add_resource(
        servicecatalog.Portfolio(
            PORTFOLIO,
            DisplayName=params[PORTFOLIO_NAME],
            ProviderName=params[PORTFOLIO_PROVIDER_NAME],
            Description="Self-service MLflow tracking servers",
        )
    )
    product = _add_product(
        template, params, variants[0].get("Description", "MLflow tracking server")
    )
    association = _add_associations(template, portfolio, product, params[PRINCIPAL_ARN])
    allowed = AllowListInputs(template)
    boundary = _add_boundary(template, variants, allowed, offer_network)
    role = add_launch_role(template, variants, allowed, boundary)
    template.add_resource(
        servicecatalog.LaunchRoleConstraint(
            LAUNCH_ROLE_CONSTRAINT,
            DependsOn=[association],
            Description="Launch as the MLflow launch role: users need no permissions of their own",
            PortfolioId=Ref(portfolio),
            ProductId=Ref(product),
            LocalRoleName=Ref(role),
        )
    )
    add_template_constraint(template, variants, portfolio, product, association, boundary)
    _add_outputs(template, portfolio, product, role, boundary)
    if network:
        add_network_product(template, params, network, portfolio, allowed, boundary)
    return template


def _add_boundary(
    template: Template,
    variants: tuple[dict[str, Any], ...],
    allowed: AllowListInputs,
    offer_network: str | None,
) -> iam.ManagedPolicy:
    """The permissions boundary of every role of the product (and of the network product's,
    under ``offer_network``)."""
    return template.add_resource(
        iam.ManagedPolicy(
            PERMISSIONS_BOUNDARY,
            Description=(
                "Permissions boundary of every role of the MLflow product: the most they may do"
            ),
            PolicyDocument=boundary_document(variants, allowed, offer_network),
        )
    )


def _add_product(
    template: Template, params: dict[str, Ref], description: str
) -> servicecatalog.CloudFormationProduct:
    """The MLflow product, its one version loaded from the template URL the launcher gives."""
    return template.add_resource(
        servicecatalog.CloudFormationProduct(
            PRODUCT,
            Name=params[PRODUCT_NAME],
            Owner=params[PRODUCT_OWNER],
            Description=description,
            ProvisioningArtifactParameters=[
                servicecatalog.ProvisioningArtifactProperties(
                    Name=params[PRODUCT_VERSION_NAME],
                    Description=f"Built by mlflow-cfn {__version__}",
                    Info=servicecatalog.Info(LoadTemplateFromURL=params[PRODUCT_TEMPLATE_URL]),
                    Type="CLOUD_FORMATION_TEMPLATE",
                )
            ],
        )
    )


def _add_associations(
    template: Template,
    portfolio: servicecatalog.Portfolio,
    product: servicecatalog.CloudFormationProduct,
    principal_arn: Ref,
) -> servicecatalog.PortfolioProductAssociation:
    """Put the product in the portfolio and give the principal access; return the product's
    association, which the launch constraint waits for."""
    association = template.add_resource(
        servicecatalog.PortfolioProductAssociation(
            PORTFOLIO_PRODUCT_ASSOCIATION, PortfolioId=Ref(portfolio), ProductId=Ref(product)
        )
    )
    template.add_resource(
        servicecatalog.PortfolioPrincipalAssociation(
            PORTFOLIO_PRINCIPAL_ASSOCIATION,
            PortfolioId=Ref(portfolio),
            PrincipalARN=principal_arn,
            PrincipalType="IAM",
        )
    )
    return association


def _add_outputs(
    template: Template,
    portfolio: servicecatalog.Portfolio,
    product: servicecatalog.CloudFormationProduct,
    role: iam.Role,
    boundary: iam.ManagedPolicy,
) -> None:
    """The ids of the portfolio and product, the launch role's and the boundary's ARNs."""
    template.add_output(
        [
            Output(PORTFOLIO_ID, Description="Id of the portfolio", Value=Ref(portfolio)),
            Output(PRODUCT_ID, Description="Id of the MLflow product", Value=Ref(product)),
            Output(
                LAUNCH_ROLE_ARN,
                Description="ARN of the role Service Catalog launches the product as",
                Value=GetAtt(role, "Arn"),
            ),
            Output(
                PERMISSIONS_BOUNDARY_ARN,
                Description="ARN of the permissions boundary every role of the product carries",
                Value=Ref(boundary),
            ),
        ]
    )
