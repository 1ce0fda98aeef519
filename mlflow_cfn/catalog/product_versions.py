"""Creating a version (provisioning artifact) of the product and waiting until it is usable.

A version is created with the product's first version or added to an existing product, then polled
until Service Catalog has validated its template; one that fails is deleted again (with its
product, if it was the product's only version), so a later run can retry cleanly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.client import BaseClient

from mlflow_cfn.catalog.publish_request import (
    DEFAULT_DESCRIPTION,
    LocalTemplate,
    PublishError,
    PublishRequest,
    idempotency_token,
)

#: Waiting for a new version: up to POLL_ATTEMPTS polls POLL_SECONDS apart (10 minutes).
POLL_SECONDS = 5.0
POLL_ATTEMPTS = 120


def create_product(
    sc: BaseClient,
    request: PublishRequest,
    template: LocalTemplate,
    url: str,
    sleep: Callable[[float], None],
) -> tuple[str, str]:
    """Create the product with its first version; returns the product and version ids."""
    response = sc.create_product(
        Name=request.product,
        Owner=request.owner,
        Description=request.description or DEFAULT_DESCRIPTION,
        ProductType="CLOUD_FORMATION_TEMPLATE",
        ProvisioningArtifactParameters=_version_parameters(request, template, url),
        IdempotencyToken=idempotency_token(
            "product", request.product, request.version, template.sha256
        ),
    )
    product_id = response["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
    version_id = response["ProvisioningArtifactDetail"]["Id"]
    status = wait_for_version(sc, product_id, version_id, sleep)
    if status != "AVAILABLE":
        sc.delete_product(Id=product_id)  # a product cannot exist without its only version
        raise PublishError(
            f"version {request.version} ({version_id}) of new product {product_id} ended {status}; "
            "deleted the product (check the template and the bucket's read access)"
        )
    return product_id, version_id


def create_version(
    sc: BaseClient,
    request: PublishRequest,
    template: LocalTemplate,
    url: str,
    product_id: str,
    sleep: Callable[[float], None],
) -> str:
    """Add this version to the product and wait until it is AVAILABLE; returns its id."""
    response = sc.create_provisioning_artifact(
        ProductId=product_id,
        Parameters=_version_parameters(request, template, url),
        IdempotencyToken=idempotency_token("version", product_id, request.version, template.sha256),
    )
    version_id = response["ProvisioningArtifactDetail"]["Id"]
    status = wait_for_version(sc, product_id, version_id, sleep)
    if status != "AVAILABLE":
        sc.delete_provisioning_artifact(ProductId=product_id, ProvisioningArtifactId=version_id)
        raise PublishError(
            f"version {request.version} ({version_id}) ended {status}; deleted it "
            "(check the template and the bucket's read access)"
        )
    return version_id


def wait_for_version(
    sc: BaseClient, product_id: str, version_id: str, sleep: Callable[[float], None]
) -> str | None:
    """Poll until the version is no longer CREATING; returns its final status."""
    for _ in range(POLL_ATTEMPTS):
        status = sc.describe_provisioning_artifact(
            ProductId=product_id, ProvisioningArtifactId=version_id
        ).get("Status")
        if status != "CREATING":
            return status
        sleep(POLL_SECONDS)
    raise PublishError(
        f"version {version_id} still CREATING after {POLL_ATTEMPTS * POLL_SECONDS:.0f}s: "
        "run publish again later to finish"
    )


def _version_parameters(
    request: PublishRequest, template: LocalTemplate, url: str
) -> dict[str, Any]:
    """ProvisioningArtifactProperties for this version."""
    return {
        "Name": request.version,
        "Description": f"mlflow-cfn template sha256 {template.sha256}",
        "Info": {"LoadTemplateFromURL": url},
        "Type": "CLOUD_FORMATION_TEMPLATE",
        "DisableTemplateValidation": False,
    }
