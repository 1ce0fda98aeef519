"""The network template's Parameters (with their console groups), Conditions and Rules: the
address range, two or three Availability Zones (by name, or as Fn::GetAZs lists them), the egress
choice (NAT gateways or VPC endpoints
only), where the load balancer's subnets are, flow-log retention and the optional pull-through
cache of the official image's registry."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import And, Equals, Not, Or, Parameter, Ref, Select, Split

from mlflow_cfn.stack.components.log_bucket import LOG_RETENTION_VALUES
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.interface import GROUP_GOVERNANCE
from mlflow_cfn.stack.logic import assertion, empty, given, is_value
from mlflow_cfn.stack.parameters import (
    ParameterSpec,
    boolean,
    choice,
)

GROUP_LAYOUT = "Address range and Availability Zones"
GROUP_EGRESS = "Egress (NAT gateways or VPC endpoints)"
GROUP_IMAGE = "Container image (ECR pull-through cache)"
GROUP_FLOW_LOGS = "Flow logs"
#: The network template's console groups, in order.
GROUPS = (GROUP_LAYOUT, GROUP_EGRESS, GROUP_IMAGE, GROUP_FLOW_LOGS, GROUP_GOVERNANCE)

# Parameters
VPC_CIDR = "VpcCidr"
AVAILABILITY_ZONE_COUNT = "AvailabilityZoneCount"
#: The zones by name, first to third (empty: as Fn::GetAZs lists them).
AVAILABILITY_ZONE_NAMES = ("AvailabilityZone1", "AvailabilityZone2", "AvailabilityZone3")
NETWORK_EGRESS = "NetworkEgress"
NAT_GATEWAY_PER_ZONE = "NatGatewayPerZone"
LOAD_BALANCER_SUBNET_TIER = "LoadBalancerSubnetTier"
IMAGE_CACHE_CREDENTIALS_ARN = "ImageCacheCredentialsSecretArn"
IMAGE_CACHE_PREFIX = "ImageCachePrefix"
FLOW_LOG_RETENTION_DAYS = "FlowLogRetentionDays"

EGRESS_NAT = "nat"
EGRESS_ENDPOINTS = "endpoints"
TIER_PRIVATE = "private"
TIER_PUBLIC = "public"

# Conditions
USE_NAT = "UseNatEgress"
USE_ENDPOINTS = "UseEndpointsEgress"
HAS_THIRD_ZONE = "HasThirdZone"
NAMED_ZONES = "NamedAvailabilityZones"
NAT_IN_THIRD_ZONE = "NatEgressInThirdZone"
NAT_GATEWAY_IN_EVERY_ZONE = "NatGatewayInEveryZone"
NAT_GATEWAY_IN_THIRD_ZONE = "NatGatewayInThirdZone"
LOAD_BALANCER_IN_PUBLIC_SUBNETS = "LoadBalancerInPublicSubnets"
CREATE_IMAGE_CACHE = "CreateImageCache"
VPC_IS_SLASH_16 = "VpcCidrIsSlash16"
VPC_IS_SLASH_18 = "VpcCidrIsSlash18"

# Rules
RULE_NAT_PER_ZONE = "NatGatewayPerZoneNeedsNatEgress"
RULE_PUBLIC_LOAD_BALANCER = "PublicLoadBalancerSubnetsNeedNatEgress"
RULE_ZONE_NAMES = "AvailabilityZoneNamesMatchTheCount"

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
#: A /16, /18 or /20 block: nine equal subnets (three tiers of three zones) of /20, /22 or /24.
VPC_CIDR_PATTERN = rf"^{_OCTET}(\.{_OCTET}){{3}}/(16|18|20)$"
#: An Availability Zone's name: "The code for an Availability Zone is its Region code followed by
#: a letter identifier" (AWS Regions and Availability Zones, "AWS Availability Zones",
#: https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html).
#: Region codes as in botocore's partitions.json: tests/facts/test_partitions.py checks every one.
ZONE_NAME = r"[a-z]{2,4}(-[a-z]+)+-[0-9]+[a-z]"
#: The complete ARN (name and the 6 characters Secrets Manager appends, as SECRET_FULL_ARN) of a
#: secret a pull-through cache rule accepts: its name starts with ``ecr-pullthroughcache/``
#: (Amazon ECR User Guide, "Creating a pull through cache rule in Amazon ECR", prerequisites).
#: Narrower than SECRET_FULL_ARN where botocore's ECR model is (CreatePullThroughCacheRule,
#: credentialArn: ``^arn:aws(-\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr\-pullthroughcache\/``
#: ``[a-zA-Z0-9\/_+=.@-]+$``, 50 to 612 characters): a partition is aws or aws-<word>, a name
#: has no "!". tests/facts/test_parameter_shapes.py holds it to the model.
IMAGE_CACHE_SECRET = (
    r"arn:aws(-[a-z]+)*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:"
    r"ecr-pullthroughcache/[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}"
)
IMAGE_CACHE_SECRET_MAX_LENGTH = 612
#: An ECR repository prefix as CreatePullThroughCacheRule takes it (2 to 30 characters).
IMAGE_CACHE_PREFIX_PATTERN = r"^([a-z0-9]{2,}|[a-z0-9]+([._-][a-z0-9]+)+)$"

_SPECS = (
    ParameterSpec(
        VPC_CIDR, "String",
        "IPv4 range of the VPC: a /16, /18 or /20 block, split into nine equal subnets (public, "
        "private and isolated, in up to three zones) of /20, /22 or /24. Pick one that does "
        "not overlap the networks your clients come from.",
        "VPC CIDR block", GROUP_LAYOUT, default="10.0.0.0/16",
        allowed_pattern=VPC_CIDR_PATTERN,
        constraint_description=f"{VPC_CIDR} must be an IPv4 block of size /16, /18 or /20, "
        "e.g. 10.0.0.0/16.",
    ),
    choice(
        AVAILABILITY_ZONE_COUNT,
        "Availability Zones to spread the subnets over: the ones named below, or the first two "
        "or three of the region as Fn::GetAZs lists them. Two is the minimum a load balancer and "
        "a database subnet group accept.",
        "Availability Zones", GROUP_LAYOUT, "2", ("2", "3"),
    ),
    *(
        ParameterSpec(
            name, "String",
            f"Name of zone {number} (e.g. us-west-1a): name the zones to pick ones Fargate runs "
            "in or that the account has subnets in; Fn::GetAZs lists only zones with a default "
            "subnet, in an order that can change. Empty: the region's zone at this place in "
            "Fn::GetAZs. Name zones 1 and 2 (and 3 with AvailabilityZoneCount=3) or none. Set "
            "them at creation: changing a zone replaces its subnets (naming the zones the stack "
            "already uses changes nothing).",
            f"Availability Zone {number} (name)", GROUP_LAYOUT, default="",
            allowed_pattern=f"^$|^{ZONE_NAME}$",
            constraint_description=f"{name} must be empty or an Availability Zone's name: its "
            "region's code and a letter, e.g. eu-west-1a.",
        )
        for number, name in enumerate(AVAILABILITY_ZONE_NAMES, start=1)
    ),
    choice(
        NETWORK_EGRESS,
        "How the MLflow tasks reach AWS and the image registry. nat: public subnets, an "
        "internet gateway and NAT gateways (tasks reach anything on the internet). endpoints: "
        "no route to the internet at all; an S3 gateway endpoint and interface endpoints for "
        "ECR, CloudWatch Logs and Secrets Manager, so the image must come from this account's "
        "ECR and login (AuthMode) cannot reach an identity provider on the internet.",
        "Egress", GROUP_EGRESS, EGRESS_NAT, (EGRESS_NAT, EGRESS_ENDPOINTS),
    ),
    boolean(
        NAT_GATEWAY_PER_ZONE,
        "With NetworkEgress=nat: a NAT gateway in every zone (tasks keep their egress when a "
        "zone fails; each gateway is billed by the hour) instead of one shared by all zones.",
        "NAT gateway in every zone", GROUP_EGRESS, "false",
    ),
    choice(
        LOAD_BALANCER_SUBNET_TIER,
        "Subnets the LoadBalancerSubnetIds output names: private (for the product's default "
        "internal load balancer) or public (for LoadBalancerScheme=internet-facing; needs "
        "NetworkEgress=nat, the only mode with an internet gateway).",
        "Load balancer subnets", GROUP_EGRESS, TIER_PRIVATE, (TIER_PRIVATE, TIER_PUBLIC),
    ),
    ParameterSpec(
        IMAGE_CACHE_CREDENTIALS_ARN, "String",
        "Secrets Manager secret (its name starts with ecr-pullthroughcache/) holding a GitHub "
        "user name and access token for ghcr.io. Given: an ECR pull-through cache rule for "
        "ghcr.io, and the MlflowImage output names the official image through this account's "
        "ECR (what NetworkEgress=endpoints needs). Empty: no rule.",
        "ghcr.io credentials secret (ARN)", GROUP_IMAGE, default="",
        allowed_pattern=f"^$|^{IMAGE_CACHE_SECRET}$", max_length=IMAGE_CACHE_SECRET_MAX_LENGTH,
        constraint_description=f"{IMAGE_CACHE_CREDENTIALS_ARN} must be empty or the complete "
        "ARN of a secret whose name starts with ecr-pullthroughcache/ (letters, digits and "
        f"/ _ + = . @ -; at most {IMAGE_CACHE_SECRET_MAX_LENGTH} characters in all, as ECR takes "
        "it), e.g. arn:aws:secretsmanager:eu-west-1:123456789012:secret:"
        "ecr-pullthroughcache/ghcr-AbCdEf.",
    ),
    ParameterSpec(
        IMAGE_CACHE_PREFIX, "String",
        "ECR repository prefix of the pull-through cache: images are pulled as "
        "ACCOUNT.dkr.ecr.REGION.amazonaws.com/PREFIX/mlflow/mlflow:TAG. One rule per "
        "prefix and account: change it if the account has a rule with this prefix already.",
        "Cache repository prefix", GROUP_IMAGE, default="ghcr",
        allowed_pattern=IMAGE_CACHE_PREFIX_PATTERN, max_length=30,
        constraint_description=f"{IMAGE_CACHE_PREFIX} must be 2 to 30 lower-case letters, "
        "digits and single . _ - separators.",
    ),
    ParameterSpec(
        FLOW_LOG_RETENTION_DAYS, "Number",
        "Days the VPC flow logs (every accepted and rejected connection) are kept in CloudWatch "
        "Logs.",
        "Flow log retention (days)", GROUP_FLOW_LOGS, default=365,
        allowed_values=LOG_RETENTION_VALUES,
        constraint_description=f"{FLOW_LOG_RETENTION_DAYS} must be one of CloudWatch's "
        f"retention periods: {', '.join(map(str, LOG_RETENTION_VALUES))}.",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class NetworkInputs:
    """The network template's Parameters."""

    vpc_cidr: Parameter
    zone_count: Parameter
    zone_1: Parameter
    zone_2: Parameter
    zone_3: Parameter
    egress: Parameter
    nat_per_zone: Parameter
    load_balancer_tier: Parameter
    image_cache_credentials: Parameter
    image_cache_prefix: Parameter
    flow_log_retention_days: Parameter

    @property
    def zone_names(self) -> tuple[Parameter, Parameter, Parameter]:
        """AvailabilityZone1 to 3."""
        return self.zone_1, self.zone_2, self.zone_3


def declare_network_inputs(ctx: Context) -> NetworkInputs:
    """Declare the Parameters, Conditions and Rules of the network template."""
    inputs = NetworkInputs(*ctx.parameters(*_SPECS))
    prefix = Select(1, Split("/", Ref(inputs.vpc_cidr)))
    nat, endpoints = is_value(inputs.egress, EGRESS_NAT), is_value(inputs.egress, EGRESS_ENDPOINTS)
    third = is_value(inputs.zone_count, "3")
    per_zone = And(nat, is_value(inputs.nat_per_zone, "true"))
    for name, expression in (
        (USE_NAT, nat),
        (USE_ENDPOINTS, endpoints),
        (HAS_THIRD_ZONE, third),
        (NAMED_ZONES, given(inputs.zone_1)),
        (NAT_IN_THIRD_ZONE, And(nat, third)),
        (NAT_GATEWAY_IN_EVERY_ZONE, per_zone),
        (NAT_GATEWAY_IN_THIRD_ZONE, And(per_zone, third)),
        (LOAD_BALANCER_IN_PUBLIC_SUBNETS, is_value(inputs.load_balancer_tier, TIER_PUBLIC)),
        (CREATE_IMAGE_CACHE, given(inputs.image_cache_credentials)),
        (VPC_IS_SLASH_16, Equals(prefix, "16")),
        (VPC_IS_SLASH_18, Equals(prefix, "18")),
    ):
        ctx.condition(name, expression)
    _declare_rules(ctx, inputs)
    return inputs


def _declare_rules(ctx: Context, inputs: NetworkInputs) -> None:
    """Combinations CloudFormation would build but that cannot work, refused before anything is
    created."""
    endpoints = is_value(inputs.egress, EGRESS_ENDPOINTS)
    ctx.rule(
        RULE_NAT_PER_ZONE,
        [assertion(
            Not(is_value(inputs.nat_per_zone, "true")),
            f"{NAT_GATEWAY_PER_ZONE}=true needs {NETWORK_EGRESS}=nat: with "
            f"{NETWORK_EGRESS}=endpoints there is no NAT gateway.",
        )],
        when=endpoints,
    )  # fmt: skip
    ctx.rule(
        RULE_PUBLIC_LOAD_BALANCER,
        [assertion(
            Not(endpoints),
            f"{LOAD_BALANCER_SUBNET_TIER}=public needs {NETWORK_EGRESS}=nat: with "
            f"{NETWORK_EGRESS}=endpoints the VPC has no internet gateway and no public subnet.",
        )],
        when=is_value(inputs.load_balancer_tier, TIER_PUBLIC),
    )  # fmt: skip
    _declare_zone_rule(ctx, inputs)


def _declare_zone_rule(ctx: Context, inputs: NetworkInputs) -> None:
    """Named zones: the first two, and the third exactly when AvailabilityZoneCount=3 (Rules
    cannot count the items of a list, so each zone is a Parameter of its own), all different."""
    first, second, third = inputs.zone_names
    zone_1, zone_2, zone_3 = AVAILABILITY_ZONE_NAMES
    three = is_value(inputs.zone_count, "3")
    ctx.rule(
        RULE_ZONE_NAMES,
        [
            assertion(
                And(given(first), given(second)),
                f"Name {zone_1} and {zone_2} (and {zone_3} with {AVAILABILITY_ZONE_COUNT}=3), or "
                "leave them all empty.",
            ),
            assertion(
                Or(And(three, given(third)), And(Not(three), empty(third))),
                f"{zone_3} is named exactly when {AVAILABILITY_ZONE_COUNT}=3: name as many zones "
                f"as {AVAILABILITY_ZONE_COUNT} says.",
            ),
            assertion(
                And(
                    Not(Equals(Ref(first), Ref(second))),
                    Or(empty(third), And(Not(Equals(Ref(first), Ref(third))),
                                         Not(Equals(Ref(second), Ref(third))))),
                ),
                f"{zone_1}, {zone_2} and {zone_3} must name different zones.",
            ),
        ],
        when=Or(given(first), given(second), given(third)),
    )  # fmt: skip
