"""Service Catalog as the end user sees it (launch, update, terminate a product of the portfolio
it is associated with), and the one call the run's own principal makes on the portfolio stack's
product: a second version. Idempotency tokens come from the run id and the step, never random."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.aws.acceptance.teardown import record_errors, wait_record
from tests.aws.acceptance.waiting import REAL, Clock, poll

VERSION_DESCRIPTION = "mlflow-cfn acceptance suite: the same product, key policies changed"


@dataclass(frozen=True)
class Launchable:
    """A product version and the launch path an end user provisions it through."""

    product_id: str
    artifact_id: str
    path_id: str


def launchable(sc: Any, product_id: str, version: str) -> Launchable:
    """The version's id and the launch path, as the end user reads them."""
    described = sc.describe_product(Id=product_id)
    artifacts = {a["Name"]: a["Id"] for a in described["ProvisioningArtifacts"]}
    if version not in artifacts:
        raise RuntimeError(f"product {product_id} has no version {version}: {sorted(artifacts)}")
    paths = sc.list_launch_paths(ProductId=product_id)["LaunchPathSummaries"]
    if not paths:
        raise RuntimeError(f"product {product_id}: no launch path for this principal")
    return Launchable(product_id, artifacts[version], paths[0]["Id"])


def provisioning_parameters(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in sorted(values.items())]


def provision(
    sc: Any, target: Launchable, name: str, parameters: dict[str, str], token: str
) -> dict:
    """Launch; the record (its ProvisionedProductId names what was launched)."""
    return sc.provision_product(
        ProductId=target.product_id,
        ProvisioningArtifactId=target.artifact_id,
        PathId=target.path_id,
        ProvisionedProductName=name,
        ProvisioningParameters=provisioning_parameters(parameters),
        ProvisionToken=token,
    )["RecordDetail"]


def update(
    sc: Any, provisioned_id: str, target: Launchable, parameters: dict[str, str], token: str
) -> dict:
    """Update to `target`'s version with these values (every one given: none left previous)."""
    return sc.update_provisioned_product(
        ProvisionedProductId=provisioned_id,
        ProductId=target.product_id,
        ProvisioningArtifactId=target.artifact_id,
        PathId=target.path_id,
        ProvisioningParameters=provisioning_parameters(parameters),
        UpdateToken=token,
    )["RecordDetail"]


def terminate(sc: Any, provisioned_id: str, token: str) -> dict:
    return sc.terminate_provisioned_product(
        ProvisionedProductId=provisioned_id, TerminateToken=token
    )["RecordDetail"]


def succeeded(sc: Any, record: dict, what: str, clock: Clock = REAL) -> dict:
    """Wait for the record; RuntimeError with its errors (the launch role's refusals show
    there) unless it succeeded."""
    ended = wait_record(sc, record["RecordId"], clock)
    if ended["Status"] != "SUCCEEDED":
        raise RuntimeError(f"{what}: {record_errors(ended)}")
    return ended


def add_version(
    sc: Any, product_id: str, name: str, template_url: str, token: str, clock: Clock = REAL
) -> str:
    """Add a version to the product (as the portfolio's admin) and wait until it is available;
    its id."""
    created = sc.create_provisioning_artifact(
        ProductId=product_id,
        Parameters={
            "Name": name,
            "Description": VERSION_DESCRIPTION,
            "Info": {"LoadTemplateFromURL": template_url},
            "Type": "CLOUD_FORMATION_TEMPLATE",
        },
        IdempotencyToken=token,
    )
    artifact = created["ProvisioningArtifactDetail"]["Id"]
    status = poll(
        lambda: sc.describe_provisioning_artifact(
            ProductId=product_id, ProvisioningArtifactId=artifact
        )["Status"],
        lambda s: s in ("AVAILABLE", "FAILED"),
        what=f"version {name} of {product_id}",
        timeout=600,
        every=10,
        clock=clock,
    )
    if status != "AVAILABLE":
        raise RuntimeError(f"version {name} of {product_id} is {status}")
    return str(artifact)


def visible_products(sc: Any, text: str) -> list[str]:
    """The names of the products the caller may launch that match `text`."""
    found = sc.search_products(Filters={"FullTextSearch": [text]})
    return sorted(p["Name"] for p in found["ProductViewSummaries"])
