"""What ``plan`` and ``deploy --network-stack`` read beyond the network stack's description, one
cheap call each, and only where it can change the answer:

* DescribeSubnets (EC2), in a region where Fargate runs in some zones only
  (`mlflow_cfn.network.fargate_zones`): the zone IDs of the network's service subnets. A subnet
  in a zone without Fargate is refused: the service would never start a task there.

`LOOKUP_CALLS` lists each call with its IAM action; the operator policy of ``deploy``
(`mlflow_cfn.catalog.operator_policy`) grants them, and tests/unit/test_permissions.py holds the
table to the calls made here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mlflow_cfn.cfn.aws import aws_cause
from mlflow_cfn.network.fargate_zones import fargate_zone_problems, restricted
from mlflow_cfn.network.inputs import AVAILABILITY_ZONE_NAMES
from mlflow_cfn.network.stack_outputs import NetworkStack
from mlflow_cfn.stack.components.network import SERVICE_SUBNET_IDS

#: Each AWS call of this module -> the IAM action that authorizes it (Service Authorization
#: Reference: ec2:DescribeSubnets has no resource type, so it is granted on "*").
LOOKUP_CALLS: dict[str, str] = {"ec2:DescribeSubnets": "ec2:DescribeSubnets"}

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


def online_problems(
    network: NetworkStack, values: Mapping[str, str], make_client: MakeClient
) -> tuple[list[str], list[str]]:
    """(errors, warnings) that only AWS can tell for ``values`` (the product's parameters with
    the network's filled in) in ``network``."""
    return zone_problems(network, make_client), []
