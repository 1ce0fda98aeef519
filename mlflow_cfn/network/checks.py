"""A product parameter set against a network stack: the network's values filled in, and what
cannot work in that network (errors) or may not (warnings), before anything is created.

What the network decides (`mlflow_cfn.network.stack_outputs.NetworkStack`):

* the VPC and subnets: the launcher may repeat them, never name others;
* ``NetworkEgress=endpoints``: no route to the internet. Tasks reach only S3, ECR, CloudWatch
  Logs and Secrets Manager of this region, so every image must be in this account's ECR (the
  network's ``MlflowImage`` output is the official image through its pull-through cache), and
  the Datadog agent (which sends to Datadog's intake) cannot work. The load balancer itself calls
  the identity provider's token, user-info and JWKS endpoints for login (AuthMode) and bearer
  tokens (Elastic Load Balancing User Guide, "Authenticate users using an Application Load
  Balancer": the endpoints' DNS names must be publicly resolvable, even if they resolve to private
  addresses): Cognito's are on the internet, so ``cognito`` is refused; an OIDC provider works only
  if its endpoints resolve to addresses the VPC reaches (a VPC endpoint service of the provider,
  or a provider inside your network), which no check can see, so ``oidc`` is a warning;
  With ``endpoints`` the S3 gateway endpoint admits only this account's buckets, and only in
  this region (a gateway endpoint serves its own region): a bucket the launcher names
  (``ArtifactBucketName``, ``ArtifactReadOnlyBucketArns``) may be another account's or region's,
  and neither its name nor its ARN says so (S3 ARNs carry no account or region), so that is a
  warning; with ``nat`` the endpoint's policy is full access and other buckets work;
* ``LoadBalancerSubnetTier``: an internet-facing load balancer needs the public subnets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from mlflow_cfn.network.image_cache import MLFLOW_IMAGE, UPSTREAM_IMAGE
from mlflow_cfn.network.inputs import EGRESS_ENDPOINTS, LOAD_BALANCER_SUBNET_TIER, TIER_PUBLIC
from mlflow_cfn.network.stack_outputs import REQUIRED_OUTPUTS, NetworkStack
from mlflow_cfn.stack.components.load_balancer_inputs import (
    LOAD_BALANCER_INGRESS_CIDRS,
    LOAD_BALANCER_SCHEME,
)
from mlflow_cfn.stack.components.login_inputs import AUTH_MODE
from mlflow_cfn.stack.components.sidecar_inputs import DATADOG_API_KEY_SECRET_ARN, SIDECAR_IMAGE
from mlflow_cfn.stack.components.storage import (
    ARTIFACT_BUCKET_NAME,
    ARTIFACT_READ_ONLY_BUCKET_ARNS,
)
from mlflow_cfn.versions import DEFAULT_MLFLOW_IMAGE

#: An image in a private ECR registry: ``<account>.dkr.ecr.<region>.amazonaws.com[.cn]/...``.
ECR_IMAGE = re.compile(r"^[0-9]{12}\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/")
#: Parameters whose values are lists of ids: equal whatever their order and spacing.
_LISTS = {name for name in REQUIRED_OUTPUTS if name.endswith("Ids")}


@dataclass(frozen=True)
class NetworkCheck:
    """The launcher's values with the network's filled in, and what is wrong or doubtful."""

    parameters: dict[str, str]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _same(name: str, given: str, network: str) -> bool:
    if name in _LISTS:
        return sorted(filter(None, map(str.strip, given.split(",")))) == sorted(network.split(","))
    return given.strip() == network


def _text(value: object) -> str:
    """A parameter value as the product takes it (lists comma-separated)."""
    return ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def apply_network_stack(network: NetworkStack, given: Mapping[str, object]) -> NetworkCheck:
    """The parameters for the product in ``network``: ``given`` (the launcher's values) with the
    network's outputs filled in where ``given`` has none; errors for values that conflict with the
    network or cannot work in it, warnings for what may not."""
    values = {name: _text(value) for name, value in given.items() if value not in (None, "")}
    errors, warnings = [], []
    for name in REQUIRED_OUTPUTS:
        theirs = network.values[name]
        if name in values and not _same(name, values[name], theirs):
            if name == LOAD_BALANCER_INGRESS_CIDRS:
                continue  # only a suggestion: the launcher's list wins
            errors.append(
                f"{name} is {values[name]} but network stack {network.name!r} has {theirs}: "
                f"leave it out (it is read from the network stack) or use another network stack"
            )
    if LOAD_BALANCER_INGRESS_CIDRS not in values:
        warnings.append(
            f"{LOAD_BALANCER_INGRESS_CIDRS} not given: using network stack {network.name!r}'s "
            f"suggestion {network.values[LOAD_BALANCER_INGRESS_CIDRS]} (clients inside the VPC "
            "only); give the ranges your users come from"
        )
    merged = {**network.values, **values}
    if MLFLOW_IMAGE in network.values and MLFLOW_IMAGE not in values:
        warnings += _cached_image_warnings(network)
    errors += _load_balancer_problems(network, merged)
    if network.egress == EGRESS_ENDPOINTS:
        endpoint_errors, endpoint_warnings = _endpoint_problems(network, merged)
        errors += endpoint_errors
        warnings += endpoint_warnings
    elif merged.get(LOAD_BALANCER_SCHEME, "internal") == "internal" and (
        network.load_balancer_tier == TIER_PUBLIC
    ):
        warnings.append(
            f"an internal load balancer in network stack {network.name!r}'s public subnets "
            f"({LOAD_BALANCER_SUBNET_TIER}=public): it works, but the private subnets are meant "
            "for it"
        )
    return NetworkCheck(merged, errors, warnings)


def _cached_image_warnings(network: NetworkStack) -> list[str]:
    """The network's MlflowImage is used: say so, and whether it is this version's image (a
    network stack built by an older mlflow-cfn names the image of that version)."""
    image = network.values[MLFLOW_IMAGE]
    warnings = [f"{MLFLOW_IMAGE} from network stack {network.name!r}: {image} (its pull-through "
                "cache)"]  # fmt: skip
    if not image.endswith("/" + UPSTREAM_IMAGE):
        warnings.append(
            f"network stack {network.name!r}'s {MLFLOW_IMAGE} is not this mlflow-cfn's image "
            f"({UPSTREAM_IMAGE}): update the network stack with this version's "
            "templates/network.json (its output then names the new tag), or give "
            f"{MLFLOW_IMAGE}; pull the new tag once into the cache before deploying"
        )
    return warnings


def _load_balancer_problems(network: NetworkStack, values: Mapping[str, str]) -> list[str]:
    """An internet-facing load balancer needs the network's public subnets."""
    if values.get(LOAD_BALANCER_SCHEME) != "internet-facing":
        return []
    if network.egress == EGRESS_ENDPOINTS:
        return [
            f"{LOAD_BALANCER_SCHEME}=internet-facing: network stack {network.name!r} has "
            f"NetworkEgress=endpoints, so no internet gateway and no public subnet; use an "
            "internal load balancer or a network stack with NetworkEgress=nat and "
            f"{LOAD_BALANCER_SUBNET_TIER}=public"
        ]
    if network.load_balancer_tier != TIER_PUBLIC:
        return [
            f"{LOAD_BALANCER_SCHEME}=internet-facing: network stack {network.name!r} gives "
            f"private subnets as LoadBalancerSubnetIds ({LOAD_BALANCER_SUBNET_TIER}=private); "
            f"update it with {LOAD_BALANCER_SUBNET_TIER}=public"
        ]
    return []


def _endpoint_problems(
    network: NetworkStack, values: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """What needs the internet, in a network without a route to it."""
    errors, warnings = [], []
    name = network.name
    for parameter, image in (
        (MLFLOW_IMAGE, values.get(MLFLOW_IMAGE, DEFAULT_MLFLOW_IMAGE)),
        (SIDECAR_IMAGE, values.get(SIDECAR_IMAGE, "")),
    ):
        match = ECR_IMAGE.match(image)
        if image and (not match or (network.region and match["region"] != network.region)):
            region = network.region or "the stack's region"
            errors.append(
                f"{parameter} {image}: network stack {name!r} has NetworkEgress=endpoints, so "
                f"tasks pull only from this account's ECR in {region} (the network's "
                f"{MLFLOW_IMAGE} output, with ImageCacheCredentialsSecretArn, is the official "
                "image through a pull-through cache; or mirror the image to ECR)"
            )
    warnings += _bucket_warnings(network, values)
    if values.get(DATADOG_API_KEY_SECRET_ARN):
        errors.append(
            f"the Datadog agent sends to Datadog's intake on the internet: network stack {name!r} "
            "has NetworkEgress=endpoints (no route to it)"
        )
    auth = values.get(AUTH_MODE, "none")
    if auth == "cognito":
        errors.append(
            f"{AUTH_MODE}=cognito: the load balancer calls Cognito's token, user-info and JWKS "
            f"endpoints on the internet, and network stack {name!r} has NetworkEgress=endpoints "
            "(no route to the internet); use a network with NetworkEgress=nat"
        )
    elif auth != "none":
        warnings.append(
            f"{AUTH_MODE}={auth}: the load balancer calls the identity provider's token, "
            f"user-info and JWKS endpoints, and network stack {name!r} has no route to the "
            "internet: login and bearer tokens work only if those endpoints resolve (public DNS) "
            "to addresses inside the VPC, e.g. a VPC endpoint service of your provider"
        )
    return errors, warnings


def _bucket_warnings(network: NetworkStack, values: Mapping[str, str]) -> list[str]:
    """The launcher's buckets, which the S3 endpoint of an endpoints network admits only if they
    are this account's and in this region (which no name or ARN says)."""
    account = f"account {network.account}" if network.account else "the network's account"
    region = network.region or "the network's region"
    return [
        f"{parameter} {values[parameter]}: network stack {network.name!r} has "
        f"NetworkEgress=endpoints, whose S3 gateway endpoint admits only buckets of {account} "
        f"in {region}: a bucket of another account or region cannot be reached (its name and "
        "ARN do not say whose or where it is, so this is not checked); use a network with "
        "NetworkEgress=nat for those"
        for parameter in (ARTIFACT_BUCKET_NAME, ARTIFACT_READ_ONLY_BUCKET_ARNS)
        if values.get(parameter)
    ]
