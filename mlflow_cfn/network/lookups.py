"""What ``plan`` and ``deploy --network-stack`` read beyond the network stack's description, one
cheap call each, and only where it can change the answer:

* DescribeSubnets (EC2), in a region where Fargate runs in some zones only
  (`mlflow_cfn.network.fargate_zones`): the zone IDs of the network's service subnets. A subnet
  in a zone without Fargate is refused: the service would never start a task there.
* DescribeImages (ECR), when the product's image is in the network's pull-through cache: whether
  that tag is cached yet. ECR imports an image on a pull by someone allowed to import it, and the
  task execution role is not (`mlflow_cfn.network.image_cache`), so an image not yet cached is a
  warning that says what to run.

`LOOKUP_CALLS` lists each call with its IAM action and `LOOKUP_GRANTS` the statements that allow
them; the operator policy of ``deploy`` (`mlflow_cfn.catalog.operator_policy`) grants them, and
tests/unit/test_permissions.py holds the table to the calls made here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mlflow_cfn.cfn.aws import aws_cause, error_code
from mlflow_cfn.network.fargate_zones import fargate_zone_problems, restricted
from mlflow_cfn.network.image_cache import MLFLOW_IMAGE, seed_the_cache
from mlflow_cfn.network.inputs import AVAILABILITY_ZONE_NAMES, IMAGE_CACHE_PREFIX
from mlflow_cfn.network.stack_outputs import NetworkStack
from mlflow_cfn.stack.components.network import SERVICE_SUBNET_IDS

#: Each AWS call of this module -> the IAM action that authorizes it.
LOOKUP_CALLS: dict[str, str] = {
    "ec2:DescribeSubnets": "ec2:DescribeSubnets",
    "ecr:DescribeImages": "ecr:DescribeImages",
}
#: Statement id -> (actions, the resource they are granted on, with {partition}, {region} and
#: {account}). Service Authorization Reference (cfn-lint's copy, `mlflow_cfn.cfn.schemas`):
#: ec2:DescribeSubnets has no resource type ("*"); ecr:DescribeImages acts on a repository (the
#: cache's prefix is the network stack's Parameter, unknown to the policy: every repository).
LOOKUP_GRANTS: dict[str, tuple[tuple[str, ...], str]] = {
    "ReadTheNetworksSubnetZones": (("ec2:DescribeSubnets",), "*"),
    "ReadTheNetworksImageCache": (
        ("ecr:DescribeImages",),
        "arn:{partition}:ecr:{region}:{account}:repository/*",
    ),
}
#: What DescribeImages answers for an image that is not cached (yet).
NOT_CACHED = ("ImageNotFoundException", "RepositoryNotFoundException")

#: Makes the client of an AWS service (``"ec2"``) in the network stack's account and region.
MakeClient = Callable[[str], Any]


def subnet_zones(ec2: Any, subnet_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Subnet id -> (zone name, zone ID), by one DescribeSubnets call."""
    response = ec2.describe_subnets(SubnetIds=list(subnet_ids))
    return {
        subnet["SubnetId"]: (subnet["AvailabilityZone"], subnet["AvailabilityZoneId"])
        for subnet in response["Subnets"]
    }


def zone_problems(network: NetworkStack, make_client: MakeClient) -> list[str]:
    """The network's service subnets in zones where Fargate does not run (nothing is read in a
    region where it runs in every zone); an AWS error is a problem too, since the check could
    not be made."""
    if not restricted(network.region):
        return []
    subnets = [s for s in network.values[SERVICE_SUBNET_IDS].split(",") if s]
    try:
        zones = subnet_zones(make_client("ec2"), subnets)
    except (BotoCoreError, ClientError) as exc:
        return [
            f"{SERVICE_SUBNET_IDS}: cannot read the zones of network stack {network.name!r}'s "
            f"subnets (Fargate runs in some zones of {network.region} only): {aws_cause(exc)}"
        ]
    names = " to ".join(AVAILABILITY_ZONE_NAMES[::2])
    return [
        f"{problem}; update network stack {network.name!r} with {names} naming zones with "
        "those IDs (`aws ec2 describe-availability-zones` lists each zone's name and ID)"
        for problem in fargate_zone_problems(SERVICE_SUBNET_IDS, str(network.region), zones)
    ]


def cache_warnings(
    network: NetworkStack, values: Mapping[str, str], make_client: MakeClient
) -> list[str]:
    """A warning when the product's image is in the network's pull-through cache but its tag is
    not cached yet, or when that cannot be read; nothing for any other image."""
    image = values.get(MLFLOW_IMAGE, "")
    place = cached_image(network, image)
    if place is None:
        return []
    registry, repository, reference = place
    try:
        ecr = make_client("ecr")
        ecr.describe_images(registryId=registry, repositoryName=repository, imageIds=[reference])
    except (BotoCoreError, ClientError) as exc:
        seed = seed_the_cache(image, network.region)
        if isinstance(exc, ClientError) and error_code(exc) in NOT_CACHED:
            return [f"{MLFLOW_IMAGE} {image} is not in network stack {network.name!r}'s "
                    f"pull-through cache yet. {seed}"]  # fmt: skip
        return [f"could not tell whether {MLFLOW_IMAGE} {image} is cached: {aws_cause(exc)}. "
                f"If it is not: {seed}"]  # fmt: skip
    return []


def cached_image(network: NetworkStack, image: str) -> tuple[str, str, dict] | None:
    """(registry id, repository, image id for DescribeImages) of ``image`` when it is in the
    network's cache (``<account>.dkr.ecr.<region>.<suffix>/<ImageCachePrefix>/...``), else
    None."""
    output = network.values.get(MLFLOW_IMAGE)
    prefix = network.parameters.get(IMAGE_CACHE_PREFIX)
    if not output or not prefix:
        return None
    host = output.split("/", 1)[0]
    root = f"{host}/{prefix}/"
    if not image.startswith(root):
        return None
    path = image.removeprefix(root)
    if "@" in path:
        repository, digest = path.split("@", 1)
        reference = {"imageDigest": digest}
    else:
        repository, _, tag = path.partition(":")
        reference = {"imageTag": tag or "latest"}
    return host.split(".", 1)[0], f"{prefix}/{repository}", reference


def online_problems(
    network: NetworkStack, values: Mapping[str, str], make_client: MakeClient
) -> tuple[list[str], list[str]]:
    """(errors, warnings) that only AWS can tell for ``values`` (the product's parameters with
    the network's filled in) in ``network``."""
    return zone_problems(network, make_client), cache_warnings(network, values, make_client)
