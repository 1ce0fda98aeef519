"""The Service Catalog portfolio template: a portfolio, the MLflow product and its launch role.

A platform team deploys it once. The launch role's policy is derived from the product template it
offers (or from several variants of it: the role then covers each), see
`mlflow_cfn.catalog.launch_policy`: the permissions of the product's resource types from
cfn-lint's schemas (`schema_actions`), what launching needs besides (`launch_actions`), the ARNs
each action may act on (`scopes`) and the conditions some actions need (`conditioned_grants`).
The tables of those modules that the tests read are re-exported here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from troposphere import GetAtt, Output, Ref, Template, iam, servicecatalog

from mlflow_cfn.catalog.conditioned_grants import (
    KEY_USE_ACTIONS,
    KEY_USE_VIA_SERVICES,
    SERVICE_LINKED_ROLE_SERVICES,
)
from mlflow_cfn.catalog.launch_actions import LAUNCH_ACTIONS
from mlflow_cfn.catalog.launch_policy import launch_policy_documents
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
from mlflow_cfn.stack.parameters import ParameterSpec
from mlflow_cfn.stack.policies import assume_role
from mlflow_cfn.versions import __version__

__all__ = [
    "ACCOUNT_KEYS",
    "ACTION_SCOPES",
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
    "NO_HANDLER_TYPES",
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
PORTFOLIO_NAME = "PortfolioName"
PORTFOLIO_PROVIDER_NAME = "PortfolioProviderName"
PRINCIPAL_ARN = "PrincipalArn"
PRODUCT_NAME = "ProductName"
PRODUCT_OWNER = "ProductOwner"
PRODUCT_VERSION_NAME = "ProductVersionName"
PRODUCT_TEMPLATE_URL = "ProductTemplateUrl"

PORTFOLIO = "Portfolio"
PRODUCT = "Product"
PORTFOLIO_PRODUCT_ASSOCIATION = "PortfolioProductAssociation"
PORTFOLIO_PRINCIPAL_ASSOCIATION = "PortfolioPrincipalAssociation"
LAUNCH_ROLE = "LaunchRole"
LAUNCH_ROLE_CONSTRAINT = "LaunchRoleConstraint"
LAUNCH_ROLE_POLICY_PREFIX = "LaunchRolePolicy"  # LaunchRolePolicy1, LaunchRolePolicy2, ...

PORTFOLIO_ID = "PortfolioId"
PRODUCT_ID = "ProductId"
LAUNCH_ROLE_ARN = "LaunchRoleArn"

GROUP_PORTFOLIO = "Portfolio"
GROUP_PRODUCT = "Product"

#: Who assumes the launch role.
SERVICE_CATALOG_PRINCIPAL = "servicecatalog.amazonaws.com"


def portfolio_template_from_file(path: str | Path, *variants: str | Path) -> Template:
    """The portfolio template offering the product template stored as JSON at ``path``, its launch
    role also covering the product's ``variants`` stored beside it."""
    return build_portfolio_template([json.loads(Path(p).read_text()) for p in (path, *variants)])


def build_portfolio_template(product_templates: ProductTemplates) -> Template:
    """The portfolio template offering the product: ``product_templates`` is its template (the
    committed templates/mlflow.json) or several variants of it (e.g. with
    templates/mlflow-datadog.json), which the launch role then all covers; the product's
    description is the first one's.

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
    params = _add_parameters(template, _parameter_specs())
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
    role = _add_launch_role(template, variants)
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
    _add_outputs(template, portfolio, product, role)
    return template


def _parameter_specs() -> list[ParameterSpec]:
    """The portfolio template's Parameters, in console order."""
    return [
        ParameterSpec(PORTFOLIO_NAME, "String", "Display name of the Service Catalog portfolio.",
                      "Portfolio name", GROUP_PORTFOLIO, default="MLflow", **_display_name(100)),
        ParameterSpec(PORTFOLIO_PROVIDER_NAME, "String",
                      "Who provides the portfolio, e.g. the platform team's name.",
                      "Portfolio provider", GROUP_PORTFOLIO, **_display_name(50)),
        ParameterSpec(
            PRINCIPAL_ARN, "String",
            "ARN of the IAM role, group or user that may launch the product, e.g. "
            "arn:aws:iam::123456789012:role/DataScientist.",
            "Principal with access", GROUP_PORTFOLIO,
            allowed_pattern=(
                r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|group|user)/([\w+=,.@-]+/)*[\w+=,.@-]+$"
            ),
            constraint_description="An IAM role, group or user ARN of this partition.",
        ),
        ParameterSpec(PRODUCT_NAME, "String", "Name of the MLflow product in the portfolio.",
                      "Product name", GROUP_PRODUCT, default="MLflow tracking server",
                      **_display_name(100)),
        ParameterSpec(PRODUCT_OWNER, "String",
                      "Owner of the product shown to users, e.g. a team name.",
                      "Product owner", GROUP_PRODUCT, **_display_name(100)),
        ParameterSpec(
            PRODUCT_VERSION_NAME, "String",
            "Version name of the provisioning artifact, the mlflow-cfn release it was built by.",
            "Product version", GROUP_PRODUCT, default=f"v{__version__}",
            allowed_pattern=r"^v[0-9]+\.[0-9]+\.[0-9]+$",
            constraint_description="v followed by a semantic version, e.g. v0.1.0.",
        ),
        ParameterSpec(
            PRODUCT_TEMPLATE_URL, "String",
            "HTTPS URL of the uploaded product template (templates/mlflow.json) in S3, e.g. "
            "https://my-bucket.s3.eu-west-1.amazonaws.com/mlflow/v0.1.0/mlflow.json.",
            "Product template URL", GROUP_PRODUCT,
            allowed_pattern=(
                r"^https://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\.)?s3([.-][a-z0-9-]+)*"
                r"\.amazonaws\.com(\.cn)?/\S+$"
            ),
            constraint_description="An https URL of an S3 object (virtual-hosted or path style).",
        ),
    ]  # fmt: skip


def _display_name(max_length: int) -> dict[str, Any]:
    """The constraint of a display-name Parameter: 1 to ``max_length`` characters, no leading or
    trailing space."""
    return {
        "allowed_pattern": r"^\S(.*\S)?$",
        "max_length": max_length,
        "constraint_description": f"1 to {max_length} characters, no leading or trailing space.",
    }


def _add_parameters(template: Template, specs: list[ParameterSpec]) -> dict[str, Ref]:
    """Add the Parameters with their console groups and labels; return Refs by name."""
    refs = {spec.name: Ref(template.add_parameter(spec.to_parameter())) for spec in specs}
    groups = list(dict.fromkeys(spec.group for spec in specs))
    template.set_metadata(
        {
            "AWS::CloudFormation::Interface": {
                "ParameterGroups": [
                    {"Label": {"default": g}, "Parameters": [s.name for s in specs if s.group == g]}
                    for g in groups
                ],
                "ParameterLabels": {s.name: {"default": s.label} for s in specs},
            }
        }
    )
    return refs


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


def _add_launch_role(template: Template, product_templates: ProductTemplates) -> iam.Role:
    """The launch role, trusted by Service Catalog, with its managed policies attached."""
    documents = launch_policy_documents(product_templates)
    policies = [
        template.add_resource(
            iam.ManagedPolicy(
                f"{LAUNCH_ROLE_POLICY_PREFIX}{i}",
                Description=(
                    f"MLflow product launch permissions, part {i} of {len(documents)}: derived "
                    "from the product template's resource types"
                ),
                PolicyDocument=document,
            )
        )
        for i, document in enumerate(documents, start=1)
    ]
    return template.add_resource(
        iam.Role(
            LAUNCH_ROLE,
            Description="Service Catalog launches, updates and ends MLflow products with it",
            AssumeRolePolicyDocument=assume_role(SERVICE_CATALOG_PRINCIPAL),
            ManagedPolicyArns=[Ref(p) for p in policies],
        )
    )


def _add_outputs(
    template: Template,
    portfolio: servicecatalog.Portfolio,
    product: servicecatalog.CloudFormationProduct,
    role: iam.Role,
) -> None:
    """The ids of the portfolio and product and the launch role's ARN."""
    template.add_output(
        [
            Output(PORTFOLIO_ID, Description="Id of the portfolio", Value=Ref(portfolio)),
            Output(PRODUCT_ID, Description="Id of the MLflow product", Value=Ref(product)),
            Output(
                LAUNCH_ROLE_ARN,
                Description="ARN of the role Service Catalog launches the product as",
                Value=GetAtt(role, "Arn"),
            ),
        ]
    )
