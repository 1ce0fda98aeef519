"""The network template (templates/network.json) as a second product of the portfolio: its own
launch role, derived from its template by the same machinery as the MLflow product's
(`mlflow_cfn.catalog.launch_role`), its template constraint (the portfolio's permissions boundary
on its roles, the admin's secret prefixes for the pull-through cache's credentials), in the same
portfolio and for the same principal.

Offered when the admin gives NetworkProductTemplateUrl (Condition OfferNetworkProduct): every
resource here exists only then, and the boundary's statements for the network's roles too.
"""

from __future__ import annotations

from typing import Any

from troposphere import Equals, GetAtt, Not, Output, Ref, Template, iam, servicecatalog

from mlflow_cfn.catalog.launch_role import (
    Offering,
    add_launch_role,
    add_template_constraint,
)
from mlflow_cfn.catalog.portfolio_inputs import (
    ALLOW_LIST_PARAMETERS,
    NETWORK_ALLOW_LISTS,
    PRODUCT_OWNER,
    PRODUCT_TEMPLATE_URL_PATTERN,
    PRODUCT_VERSION_NAME,
    AllowListInputs,
    allow_list_specs,
)
from mlflow_cfn.stack.parameters import ParameterSpec
from mlflow_cfn.versions import __version__

NETWORK_PRODUCT_NAME = "NetworkProductName"
#: The allow-list Parameters of the network product (the image cache's credentials).
NETWORK_ALLOW_LIST_PARAMETERS = tuple(ALLOW_LIST_PARAMETERS[n][0] for n in NETWORK_ALLOW_LISTS)
NETWORK_PRODUCT_TEMPLATE_URL = "NetworkProductTemplateUrl"
GROUP_NETWORK_PRODUCT = "Network product (optional)"
OFFER_NETWORK_PRODUCT = "OfferNetworkProduct"

NETWORK_PRODUCT = "NetworkProduct"
NETWORK_PORTFOLIO_PRODUCT_ASSOCIATION = "NetworkPortfolioProductAssociation"
NETWORK_LAUNCH_ROLE_CONSTRAINT = "NetworkLaunchRoleConstraint"
NETWORK_PRODUCT_ID = "NetworkProductId"
NETWORK_LAUNCH_ROLE_ARN = "NetworkLaunchRoleArn"

#: The network product's launch role and policies: NetworkLaunchRole, NetworkLaunchRolePolicy1...
NETWORK = Offering(
    prefix="Network",
    what="MLflow network",
    plural="MLflow networks",
    condition=OFFER_NETWORK_PRODUCT,
)


def network_parameter_specs() -> list[ParameterSpec]:
    """The network product's Parameters: its name, and the URL that offers it (empty: not)."""
    return [
        ParameterSpec(
            NETWORK_PRODUCT_NAME, "String",
            "Name of the network product (a VPC for the MLflow product) in the portfolio.",
            "Network product name", GROUP_NETWORK_PRODUCT, default="MLflow network",
            allowed_pattern=r"^\S(.*\S)?$", max_length=100,
            constraint_description="1 to 100 characters, no leading or trailing space.",
        ),
        ParameterSpec(
            NETWORK_PRODUCT_TEMPLATE_URL, "String",
            "HTTPS URL of the uploaded network template (templates/network.json) in S3. Empty: "
            "the portfolio offers the MLflow product only.",
            "Network template URL", GROUP_NETWORK_PRODUCT, default="",
            allowed_pattern=f"^$|{PRODUCT_TEMPLATE_URL_PATTERN}",
            constraint_description="Empty, or an https URL of an S3 object.",
        ),
        *[spec for spec in allow_list_specs() if spec.name in NETWORK_ALLOW_LIST_PARAMETERS],
    ]  # fmt: skip


def add_network_product(
    template: Template,
    params: dict[str, Ref],
    network: dict[str, Any],
    portfolio: servicecatalog.Portfolio,
    allowed: AllowListInputs,
    boundary: iam.ManagedPolicy,
) -> None:
    """The network product in ``portfolio``, its launch role and constraints, and its outputs."""
    product = template.add_resource(
        servicecatalog.CloudFormationProduct(
            NETWORK_PRODUCT,
            Condition=OFFER_NETWORK_PRODUCT,
            Name=params[NETWORK_PRODUCT_NAME],
            Owner=params[PRODUCT_OWNER],
            Description=network.get("Description", "Network for the MLflow product"),
            ProvisioningArtifactParameters=[
                servicecatalog.ProvisioningArtifactProperties(
                    Name=params[PRODUCT_VERSION_NAME],
                    Description=f"Built by mlflow-cfn {__version__}",
                    Info=servicecatalog.Info(
                        LoadTemplateFromURL=params[NETWORK_PRODUCT_TEMPLATE_URL]
                    ),
                    Type="CLOUD_FORMATION_TEMPLATE",
                )
            ],
        )
    )
    association = template.add_resource(
        servicecatalog.PortfolioProductAssociation(
            NETWORK_PORTFOLIO_PRODUCT_ASSOCIATION, Condition=OFFER_NETWORK_PRODUCT,
            PortfolioId=Ref(portfolio), ProductId=Ref(product),
        )
    )  # fmt: skip
    role = add_launch_role(template, network, allowed, boundary, NETWORK)
    template.add_resource(
        servicecatalog.LaunchRoleConstraint(
            NETWORK_LAUNCH_ROLE_CONSTRAINT,
            Condition=OFFER_NETWORK_PRODUCT,
            DependsOn=[association],
            Description="Launch as the network launch role: users need no permissions of their own",
            PortfolioId=Ref(portfolio),
            ProductId=Ref(product),
            LocalRoleName=Ref(role),
        )
    )
    add_template_constraint(
        template, (network,), portfolio, product, association, boundary, NETWORK
    )
    template.add_output([
        Output(NETWORK_PRODUCT_ID, Condition=OFFER_NETWORK_PRODUCT,
               Description="Id of the network product", Value=Ref(product)),
        Output(NETWORK_LAUNCH_ROLE_ARN, Condition=OFFER_NETWORK_PRODUCT,
               Description="ARN of the role Service Catalog launches the network product as",
               Value=GetAtt(role, "Arn")),
    ])  # fmt: skip


def declare_offer_condition(template: Template) -> str:
    """The Condition that the admin offers the network product (gave its template URL)."""
    template.add_condition(
        OFFER_NETWORK_PRODUCT, Not(Equals(Ref(NETWORK_PRODUCT_TEMPLATE_URL), ""))
    )
    return OFFER_NETWORK_PRODUCT
