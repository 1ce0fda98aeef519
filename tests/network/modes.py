"""The network template evaluated for each mode (egress, zones, NAT gateways, load balancer subnets,
image cache) as CloudFormation would, shared by the tests of tests/network."""

from __future__ import annotations

import copy
import functools

from mlflow_cfn.cfn.evaluate import Evaluated, evaluate, render_template
from mlflow_cfn.cfn.render import to_dict
from mlflow_cfn.network import build_network_template

REGION = "eu-west-1"
CACHE_SECRET = (
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/ghcr-AbCdEf"
)
ENDPOINTS = {"NetworkEgress": "endpoints"}
THREE_ZONES = {"AvailabilityZoneCount": "3"}
PER_ZONE = {"NatGatewayPerZone": "true"}

#: Every mode the tests evaluate, lint and scan: egress x zones x NAT gateways, the public load
#: balancer subnets and the image cache.
MODES: dict[str, dict[str, str]] = {
    "nat": {},
    "nat-3-zones": THREE_ZONES,
    "nat-per-zone": PER_ZONE,
    "nat-per-zone-3-zones-public-lb-cache": {
        **PER_ZONE, **THREE_ZONES, "LoadBalancerSubnetTier": "public",
        "ImageCacheCredentialsSecretArn": CACHE_SECRET,
    },
    "endpoints": ENDPOINTS,
    "endpoints-3-zones-cache": {
        **ENDPOINTS, **THREE_ZONES, "ImageCacheCredentialsSecretArn": CACHE_SECRET,
        "VpcCidr": "172.20.0.0/20",
    },
}  # fmt: skip


@functools.cache
def template() -> dict:
    """The emitted network template as JSON data."""
    return to_dict(build_network_template())


def stack(region: str = REGION, **parameters: str) -> Evaluated:
    """The network template evaluated with ``parameters``."""
    return evaluate(template(), parameters, region=region)


def rendered(**parameters: str) -> dict:
    """A concrete template for linters and scanners. The renderer resolves Fn::GetAZs into zone
    names, which cfn-lint rightly calls hard-coded (W3010); without named zones the subnets get
    back the template's own Fn::Select of Fn::GetAZs (the Fn::If's branch for unnamed zones)."""
    concrete = render_template(template(), parameters, region=REGION)
    for logical_id, resource in concrete["Resources"].items():
        if resource["Type"] == "AWS::EC2::Subnet" and not parameters.get("AvailabilityZone1"):
            original = template()["Resources"][logical_id]["Properties"]["AvailabilityZone"]
            resource["Properties"]["AvailabilityZone"] = copy.deepcopy(original["Fn::If"][2])
    return concrete
