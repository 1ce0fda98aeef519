"""The VPC and its three tiers of subnets in two or three Availability Zones, with their route
tables: public subnets (NetworkEgress=nat only: the internet gateway, the NAT gateways and an
internet-facing load balancer), private subnets (the MLflow tasks and, by default, the internal
load balancer; a default route to a NAT gateway only with NetworkEgress=nat) and isolated subnets
(the database: no route out of the VPC in any mode). No subnet gives its instances a public IP.

The nine subnets take fixed slots of the VPC's range (tier x zone), so a third zone added later
adds subnets without moving the first ones (a subnet whose CIDR changes is replaced). Their zones
are AvailabilityZone1 to 3 when named, else the region's first three as Fn::GetAZs lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Cidr, GetAtt, GetAZs, If, Join, Output, Ref, Select, Sub, Tags
from troposphere.ec2 import (
    EIP,
    VPC,
    InternetGateway,
    NatGateway,
    Route,
    RouteTable,
    Subnet,
    SubnetRouteTableAssociation,
    VPCGatewayAttachment,
)

from mlflow_cfn.network.inputs import (
    HAS_THIRD_ZONE,
    LOAD_BALANCER_IN_PUBLIC_SUBNETS,
    NAMED_ZONES,
    NAT_GATEWAY_IN_EVERY_ZONE,
    NAT_GATEWAY_IN_THIRD_ZONE,
    NAT_IN_THIRD_ZONE,
    USE_NAT,
    VPC_IS_SLASH_16,
    VPC_IS_SLASH_18,
    NetworkInputs,
)
from mlflow_cfn.stack.components.load_balancer_inputs import LOAD_BALANCER_INGRESS_CIDRS
from mlflow_cfn.stack.components.network import (
    DATABASE_SUBNET_IDS,
    LOAD_BALANCER_SUBNET_IDS,
    SERVICE_SUBNET_IDS,
    VPC_ID,
)
from mlflow_cfn.stack.context import Context

# Resources (the subnets, route tables and NAT gateways of zone N end in N, 1 to 3)
VPC_RESOURCE = "Vpc"
INTERNET_GATEWAY = "InternetGateway"
INTERNET_GATEWAY_ATTACHMENT = "InternetGatewayAttachment"
PUBLIC_ROUTE_TABLE = "PublicRouteTable"
PUBLIC_DEFAULT_ROUTE = "PublicDefaultRoute"
ISOLATED_ROUTE_TABLE = "IsolatedRouteTable"
TIERS = ("Public", "Private", "Isolated")

ZONES = 3
#: Host bits of each of the nine subnets, by the VPC's prefix length (/16, /18, /20).
SUBNET_HOST_BITS = {"16": 12, "18": 10, "20": 8}
ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class Layout:
    """The VPC, its subnets by tier (public ones exist with NetworkEgress=nat only; the third of
    each tier with AvailabilityZoneCount=3 only) and the route tables the S3 endpoint joins."""

    vpc: VPC
    public: tuple[Subnet, ...]
    private: tuple[Subnet, ...]
    isolated: tuple[Subnet, ...]
    private_route_tables: tuple[RouteTable, ...]


def _zone_condition(zone: int, tier_condition: str | None, third_zone_condition: str) -> dict:
    """The Condition= of a resource of ``zone`` (0-based) in a tier that exists under
    ``tier_condition`` (always when None)."""
    if zone == ZONES - 1:
        return {"Condition": third_zone_condition}
    return {"Condition": tier_condition} if tier_condition else {}


def subnet_cidr(inputs: NetworkInputs, slot: int) -> If:
    """The CIDR of subnet ``slot`` (0 to 8) of the VPC's range, whatever its size."""
    block = Ref(inputs.vpc_cidr)
    sixteen, eighteen, twenty = (
        Select(slot, Cidr(block, 9, SUBNET_HOST_BITS[p])) for p in ("16", "18", "20")
    )
    return If(VPC_IS_SLASH_16, sixteen, If(VPC_IS_SLASH_18, eighteen, twenty))


def zone_name(inputs: NetworkInputs, zone: int) -> If:
    """Zone ``zone`` (0-based): AvailabilityZone<zone + 1> when the zones are named, else the
    region's zone at that place in Fn::GetAZs (what every subnet had before the names existed,
    so a stack without them keeps its subnets)."""
    return If(NAMED_ZONES, Ref(inputs.zone_names[zone]), Select(zone, GetAZs("")))


def _name(text: str) -> Tags:
    """A Name tag ``<stack>-<text>`` (what the VPC console lists)."""
    return Tags(Name=Sub(f"${{AWS::StackName}}-{text}"))


def _subnets(ctx: Context, inputs: NetworkInputs, vpc: VPC, tier: int, condition: str | None):
    """The subnets of one tier, a zone each (the third under its condition)."""
    name = TIERS[tier]
    third = {0: NAT_IN_THIRD_ZONE, 1: HAS_THIRD_ZONE, 2: HAS_THIRD_ZONE}[tier]
    return tuple(
        ctx.template.add_resource(
            Subnet(
                f"{name}Subnet{zone + 1}",
                **_zone_condition(zone, condition, third),
                VpcId=Ref(vpc),
                CidrBlock=subnet_cidr(inputs, tier * ZONES + zone),
                AvailabilityZone=zone_name(inputs, zone),
                MapPublicIpOnLaunch=False,
                Tags=_name(f"{name.lower()}-{zone + 1}"),
            )
        )
        for zone in range(ZONES)
    )


def _associate(ctx: Context, subnets: tuple[Subnet, ...], tables: tuple[RouteTable, ...]) -> None:
    """Each subnet into its zone's route table (or the tier's one table)."""
    for zone, subnet in enumerate(subnets):
        table = tables[min(zone, len(tables) - 1)]
        condition = getattr(subnet, "Condition", None)
        ctx.template.add_resource(
            SubnetRouteTableAssociation(
                f"{subnet.title}RouteTableAssociation",
                **({"Condition": condition} if condition else {}),
                SubnetId=Ref(subnet),
                RouteTableId=Ref(table),
            )
        )


def _public_routes(ctx: Context, vpc: VPC) -> RouteTable:
    """The internet gateway and the public route table's default route to it."""
    gateway = ctx.template.add_resource(
        InternetGateway(INTERNET_GATEWAY, Condition=USE_NAT, Tags=_name("igw"))
    )
    attachment = ctx.template.add_resource(
        VPCGatewayAttachment(
            INTERNET_GATEWAY_ATTACHMENT,
            Condition=USE_NAT,
            VpcId=Ref(vpc),
            InternetGatewayId=Ref(gateway),
        )
    )
    table = ctx.template.add_resource(
        RouteTable(PUBLIC_ROUTE_TABLE, Condition=USE_NAT, VpcId=Ref(vpc), Tags=_name("public"))
    )
    ctx.template.add_resource(
        Route(
            PUBLIC_DEFAULT_ROUTE,
            Condition=USE_NAT,
            DependsOn=[attachment],
            RouteTableId=Ref(table),
            DestinationCidrBlock=ANYWHERE,
            GatewayId=Ref(gateway),
        )
    )
    return table


def _nat_gateways(ctx: Context, public: tuple[Subnet, ...]) -> tuple[NatGateway, ...]:
    """One NAT gateway (zone 1), or one per zone with NatGatewayPerZone, each with its address."""
    conditions = (USE_NAT, NAT_GATEWAY_IN_EVERY_ZONE, NAT_GATEWAY_IN_THIRD_ZONE)
    gateways = []
    for zone, condition in enumerate(conditions):
        address = ctx.template.add_resource(
            EIP(f"NatGateway{zone + 1}Address", Condition=condition, Domain="vpc",
                Tags=_name(f"nat-{zone + 1}"))
        )  # fmt: skip
        gateways.append(
            ctx.template.add_resource(
                NatGateway(
                    f"NatGateway{zone + 1}",
                    Condition=condition,
                    DependsOn=[INTERNET_GATEWAY_ATTACHMENT],
                    AllocationId=GetAtt(address, "AllocationId"),
                    SubnetId=Ref(public[zone]),
                    Tags=_name(f"nat-{zone + 1}"),
                )
            )
        )
    return tuple(gateways)


def _private_routes(ctx: Context, vpc: VPC, nat: tuple[NatGateway, ...]) -> tuple[RouteTable, ...]:
    """A route table per zone; with NetworkEgress=nat, its default route to the zone's NAT
    gateway (zone 1's when there is one gateway)."""
    tables = []
    own_gateway = (None, NAT_GATEWAY_IN_EVERY_ZONE, NAT_GATEWAY_IN_THIRD_ZONE)
    for zone in range(ZONES):
        table = ctx.template.add_resource(
            RouteTable(
                f"PrivateRouteTable{zone + 1}",
                **_zone_condition(zone, None, HAS_THIRD_ZONE),
                VpcId=Ref(vpc),
                Tags=_name(f"private-{zone + 1}"),
            )
        )
        gateway = If(own_gateway[zone], Ref(nat[zone]), Ref(nat[0])) if zone else Ref(nat[0])
        ctx.template.add_resource(
            Route(
                f"PrivateDefaultRoute{zone + 1}",
                **_zone_condition(zone, USE_NAT, NAT_IN_THIRD_ZONE),
                RouteTableId=Ref(table),
                DestinationCidrBlock=ANYWHERE,
                NatGatewayId=gateway,
            )
        )
        tables.append(table)
    return tuple(tables)


def add_layout(ctx: Context, *, inputs: NetworkInputs) -> Layout:
    """Add the VPC, the subnets of the three tiers, their routes and the NAT gateways, and the
    outputs that name them as the product's network Parameters."""
    vpc = ctx.template.add_resource(
        VPC(
            VPC_RESOURCE,
            CidrBlock=Ref(inputs.vpc_cidr),
            # Private DNS names of interface endpoints need both (Amazon VPC User Guide, "DNS
            # attributes for your VPC").
            EnableDnsSupport=True,
            EnableDnsHostnames=True,
            Tags=_name("vpc"),
        )
    )
    public = _subnets(ctx, inputs, vpc, 0, USE_NAT)
    private = _subnets(ctx, inputs, vpc, 1, None)
    isolated = _subnets(ctx, inputs, vpc, 2, None)
    _associate(ctx, public, (_public_routes(ctx, vpc),))
    private_tables = _private_routes(ctx, vpc, _nat_gateways(ctx, public))
    _associate(ctx, private, private_tables)
    isolated_table = ctx.template.add_resource(
        RouteTable(ISOLATED_ROUTE_TABLE, VpcId=Ref(vpc), Tags=_name("isolated"))
    )
    _associate(ctx, isolated, (isolated_table,))
    layout = Layout(vpc, public, private, isolated, private_tables)
    _add_outputs(ctx, inputs, layout)
    return layout


def subnet_list(subnets: tuple[Subnet, ...]) -> If:
    """The comma-separated ids of a tier's subnets in the zones the stack uses."""
    return If(
        HAS_THIRD_ZONE,
        Join(",", [Ref(s) for s in subnets]),
        Join(",", [Ref(s) for s in subnets[: ZONES - 1]]),
    )


def _add_outputs(ctx: Context, inputs: NetworkInputs, layout: Layout) -> None:
    """The outputs are the product's network Parameters, by the same names."""
    values = {
        VPC_ID: ("The VPC", Ref(layout.vpc)),
        LOAD_BALANCER_SUBNET_IDS: (
            "Subnets for the load balancer (LoadBalancerSubnetTier)",
            If(LOAD_BALANCER_IN_PUBLIC_SUBNETS, subnet_list(layout.public),
               subnet_list(layout.private)),
        ),
        SERVICE_SUBNET_IDS: ("Private subnets for the MLflow tasks", subnet_list(layout.private)),
        DATABASE_SUBNET_IDS: ("Isolated subnets for the database", subnet_list(layout.isolated)),
        LOAD_BALANCER_INGRESS_CIDRS: (
            "A suggestion: clients inside the VPC; add the ranges your users come from",
            GetAtt(layout.vpc, "CidrBlock"),
        ),
    }  # fmt: skip
    ctx.template.add_output(
        [Output(name, Description=text, Value=value) for name, (text, value) in values.items()]
    )
