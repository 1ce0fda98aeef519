"""The network's layout, evaluated for each mode: subnets and their CIDRs and zones, route tables
and routes (none to the internet with NetworkEgress=endpoints), NAT gateways, the outputs that are
the product's network Parameters, and the Rules that refuse what cannot work."""

from __future__ import annotations

import ipaddress

import pytest

from mlflow_cfn.cfn.create_only import create_only_values
from mlflow_cfn.cfn.evaluate import ParameterError
from mlflow_cfn.network.inputs import AVAILABILITY_ZONE_NAMES
from mlflow_cfn.stack.options import StackOptions
from mlflow_cfn.stack.template import parameter_specs
from tests.network.modes import ENDPOINTS, MODES, PER_ZONE, THREE_ZONES, stack, template

ANYWHERE = "0.0.0.0/0"
SUBNET = "AWS::EC2::Subnet"


def subnets(evaluated, tier: str) -> dict[str, dict]:
    """The created subnets of a tier ("Public", "Private", "Isolated") by logical id."""
    return {
        k: r["Properties"]
        for k, r in evaluated.of_type("AWS::EC2::Subnet").items()
        if k.startswith(tier)
    }


def routes(evaluated) -> list[dict]:
    return [r["Properties"] for r in evaluated.of_type("AWS::EC2::Route").values()]


def association(evaluated, subnet: str) -> str:
    (table,) = [
        r["Properties"]["RouteTableId"]
        for r in evaluated.of_type("AWS::EC2::SubnetRouteTableAssociation").values()
        if r["Properties"]["SubnetId"] == f"<{subnet}>"
    ]
    return table.strip("<>")


def test_default_is_two_zones_of_three_tiers_in_a_slash_16():
    evaluated = stack()
    assert evaluated.resource("Vpc")["Properties"] == {
        "CidrBlock": "10.0.0.0/16", "EnableDnsHostnames": True, "EnableDnsSupport": True,
        "Tags": [{"Key": "Name", "Value": "mlflow-vpc"}],
    }  # fmt: skip
    cidrs = {
        k: (r["Properties"]["CidrBlock"], r["Properties"]["AvailabilityZone"])
        for k, r in evaluated.of_type("AWS::EC2::Subnet").items()
    }
    assert cidrs == {
        "PublicSubnet1": ("10.0.0.0/20", "eu-west-1a"),
        "PublicSubnet2": ("10.0.16.0/20", "eu-west-1b"),
        "PrivateSubnet1": ("10.0.48.0/20", "eu-west-1a"),
        "PrivateSubnet2": ("10.0.64.0/20", "eu-west-1b"),
        "IsolatedSubnet1": ("10.0.96.0/20", "eu-west-1a"),
        "IsolatedSubnet2": ("10.0.112.0/20", "eu-west-1b"),
    }


@pytest.mark.parametrize(
    ("cidr", "size"), [("10.0.0.0/16", 20), ("10.8.0.0/18", 22), ("192.168.16.0/20", 24)]
)
def test_nine_slots_of_any_vpc_size_never_overlap_and_stay_inside(cidr, size):
    evaluated = stack(VpcCidr=cidr, **THREE_ZONES)
    blocks = [
        ipaddress.ip_network(r["Properties"]["CidrBlock"])
        for r in evaluated.of_type("AWS::EC2::Subnet").values()
    ]
    assert len(blocks) == 9
    assert {b.prefixlen for b in blocks} == {size}
    assert all(b.subnet_of(ipaddress.ip_network(cidr)) for b in blocks)
    assert all(not a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])


def test_a_third_zone_adds_subnets_without_moving_the_first_ones():
    two, three = stack(), stack(**THREE_ZONES)
    for logical_id, resource in two.of_type("AWS::EC2::Subnet").items():
        assert three.resource(logical_id)["Properties"] == resource["Properties"]
    added = set(three.of_type("AWS::EC2::Subnet")) - set(two.of_type("AWS::EC2::Subnet"))
    assert added == {"PublicSubnet3", "PrivateSubnet3", "IsolatedSubnet3"}
    assert three.resource("PrivateSubnet3")["Properties"]["AvailabilityZone"] == "eu-west-1c"


def zones_of(evaluated) -> dict[str, str]:
    return {k: r["Properties"]["AvailabilityZone"] for k, r in evaluated.of_type(SUBNET).items()}


@pytest.mark.parametrize("zones", [{}, THREE_ZONES])
def test_named_zones_place_the_subnets(zones):
    names = ("eu-west-1c", "eu-west-1a", "eu-west-1b")[: 3 if zones else 2]
    named = dict(zip(AVAILABILITY_ZONE_NAMES, names, strict=False))
    placed = zones_of(stack(**zones, **named))
    assert len(placed) == 3 * len(names)
    for subnet, zone in placed.items():
        assert zone == names[int(subnet[-1]) - 1], subnet


@pytest.mark.parametrize("mode", sorted(MODES))
def test_without_names_every_subnet_keeps_its_zone(mode):
    """Empty names give each subnet the zone Fn::GetAZs gives it, as before the names existed;
    naming exactly those zones changes no create-only value (no subnet is replaced)."""
    bare = stack(**MODES[mode])
    assert set(zones_of(bare).values()) <= {"eu-west-1a", "eu-west-1b", "eu-west-1c"}
    for subnet, zone in zones_of(bare).items():
        assert zone == "eu-west-1" + "abc"[int(subnet[-1]) - 1], subnet
    count = 3 if MODES[mode].get("AvailabilityZoneCount") == "3" else 2
    same = dict(zip(AVAILABILITY_ZONE_NAMES, ("eu-west-1a", "eu-west-1b", "eu-west-1c")[:count],
                    strict=False))  # fmt: skip
    named = stack(**MODES[mode], **same)
    for subnet, resource in bare.of_type(SUBNET).items():
        assert create_only_values(named.resource(subnet)) == create_only_values(resource)
    template_zone = template()["Resources"]["PrivateSubnet1"]["Properties"]["AvailabilityZone"]
    assert template_zone["Fn::If"][2] == {"Fn::Select": [0, {"Fn::GetAZs": ""}]}


@pytest.mark.parametrize(
    ("names", "words"),
    [
        ({"AvailabilityZone1": "eu-west-1a"}, "Name AvailabilityZone1 and AvailabilityZone2"),
        ({"AvailabilityZone2": "eu-west-1a"}, "Name AvailabilityZone1 and AvailabilityZone2"),
        ({"AvailabilityZone1": "eu-west-1a", "AvailabilityZone2": "eu-west-1b", **THREE_ZONES},
         "AvailabilityZone3 is named exactly when AvailabilityZoneCount=3"),
        ({"AvailabilityZone1": "eu-west-1a", "AvailabilityZone2": "eu-west-1b",
          "AvailabilityZone3": "eu-west-1c"},
         "AvailabilityZone3 is named exactly when AvailabilityZoneCount=3"),
        ({"AvailabilityZone1": "eu-west-1a", "AvailabilityZone2": "eu-west-1a"},
         "must name different zones"),
        ({"AvailabilityZone1": "eu-west-1a", "AvailabilityZone2": "eu-west-1b",
          "AvailabilityZone3": "eu-west-1b", **THREE_ZONES}, "must name different zones"),
    ],
)  # fmt: skip
def test_zone_names_must_match_the_count_and_differ(names, words):
    with pytest.raises(ParameterError) as raised:
        stack(**names)
    assert any("AvailabilityZoneNamesMatchTheCount" in e and words in e
               for e in raised.value.errors), raised.value.errors  # fmt: skip


@pytest.mark.parametrize("mode", sorted(MODES))
def test_no_subnet_gives_a_public_ip(mode):
    created = stack(**MODES[mode]).of_type("AWS::EC2::Subnet").values()
    assert created
    for subnet in created:
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


@pytest.mark.parametrize("mode", [m for m in MODES if m.startswith("endpoints")])
def test_endpoints_mode_has_no_way_to_the_internet(mode):
    evaluated = stack(**MODES[mode])
    assert routes(evaluated) == []  # no 0.0.0.0/0 (nor any other route) anywhere
    gateways = ("InternetGateway", "VPCGatewayAttachment", "NatGateway", "EIP",
                "EgressOnlyInternetGateway", "TransitGatewayAttachment", "VPNGateway")  # fmt: skip
    for kind in gateways:
        assert evaluated.of_type(f"AWS::EC2::{kind}") == {}, kind
    assert subnets(evaluated, "Public") == {}
    # Nothing names the internet, but the function that removes the default group's rule to it.
    others = [r for r in evaluated.resources.values() if r["Type"] != "AWS::Lambda::Function"]
    assert ANYWHERE not in str(others)


def test_nat_mode_routes_private_subnets_through_one_nat_gateway():
    evaluated = stack()
    assert set(evaluated.of_type("AWS::EC2::NatGateway")) == {"NatGateway1"}
    nat = evaluated.resource("NatGateway1")["Properties"]
    assert nat["SubnetId"] == "<PublicSubnet1>"
    assert nat["AllocationId"] == "<NatGateway1Address.AllocationId>"
    by_table = {p["RouteTableId"]: p for p in routes(evaluated)}
    assert by_table["<PublicRouteTable>"] == {
        "RouteTableId": "<PublicRouteTable>", "DestinationCidrBlock": ANYWHERE,
        "GatewayId": "<InternetGateway>",
    }  # fmt: skip
    for zone in (1, 2):
        assert by_table[f"<PrivateRouteTable{zone}>"]["NatGatewayId"] == "<NatGateway1>"
        assert association(evaluated, f"PrivateSubnet{zone}") == f"PrivateRouteTable{zone}"
        assert association(evaluated, f"PublicSubnet{zone}") == "PublicRouteTable"


@pytest.mark.parametrize("zones", [{}, THREE_ZONES])
def test_nat_per_zone_gives_each_zone_its_own_gateway(zones):
    evaluated = stack(**PER_ZONE, **zones)
    count = 3 if zones else 2
    assert len(evaluated.of_type("AWS::EC2::NatGateway")) == count
    assert len(evaluated.of_type("AWS::EC2::EIP")) == count
    by_table = {p["RouteTableId"]: p.get("NatGatewayId") for p in routes(evaluated)}
    by_table.pop("<PublicRouteTable>")
    assert by_table == {f"<PrivateRouteTable{z}>": f"<NatGateway{z}>" for z in range(1, count + 1)}
    for zone in range(1, count + 1):
        assert evaluated.resource(f"NatGateway{zone}")["Properties"]["SubnetId"] == (
            f"<PublicSubnet{zone}>"
        )


@pytest.mark.parametrize("mode", sorted(MODES))
def test_isolated_subnets_have_no_route_out_in_any_mode(mode):
    evaluated = stack(**MODES[mode])
    isolated = subnets(evaluated, "Isolated")
    assert {association(evaluated, s) for s in isolated} == {"IsolatedRouteTable"}
    assert [p for p in routes(evaluated) if p["RouteTableId"] == "<IsolatedRouteTable>"] == []
    s3 = evaluated.resource("S3GatewayEndpoint")["Properties"]
    assert "<IsolatedRouteTable>" not in s3["RouteTableIds"]


@pytest.mark.parametrize(
    ("parameters", "lb"),
    [
        ({}, "<PrivateSubnet1>,<PrivateSubnet2>"),
        (ENDPOINTS, "<PrivateSubnet1>,<PrivateSubnet2>"),
        ({**THREE_ZONES, "LoadBalancerSubnetTier": "public"},
         "<PublicSubnet1>,<PublicSubnet2>,<PublicSubnet3>"),
    ],
)  # fmt: skip
def test_outputs_are_the_products_network_parameters(parameters, lb):
    evaluated = stack(**parameters)
    zones = 3 if parameters.get("AvailabilityZoneCount") == "3" else 2
    ids = lambda tier: ",".join(f"<{tier}Subnet{z}>" for z in range(1, zones + 1))  # noqa: E731
    assert evaluated.outputs == {
        "VpcId": "<Vpc>",
        "LoadBalancerSubnetIds": lb,
        "ServiceSubnetIds": ids("Private"),
        "DatabaseSubnetIds": ids("Isolated"),
        "LoadBalancerIngressCidrs": "<Vpc.CidrBlock>",
    }
    product = {s.name: s for s in parameter_specs(StackOptions())}
    for name in evaluated.outputs:
        assert name in product, name  # each output is a product Parameter of the same name


def test_outputs_have_no_exports():
    assert all("Export" not in o for o in template()["Outputs"].values())


@pytest.mark.parametrize(
    ("parameters", "rule"),
    [
        ({**ENDPOINTS, **PER_ZONE}, "NatGatewayPerZoneNeedsNatEgress"),
        ({**ENDPOINTS, "LoadBalancerSubnetTier": "public"},
         "PublicLoadBalancerSubnetsNeedNatEgress"),
    ],
)  # fmt: skip
def test_rules_refuse_what_cannot_work(parameters, rule):
    with pytest.raises(ParameterError) as raised:
        stack(**parameters)
    assert any(rule in error for error in raised.value.errors), raised.value.errors


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VpcCidr", "10.0.0.0/24"),
        ("VpcCidr", "10.0.0.0/8"),
        ("VpcCidr", "10.0.0/16"),
        ("AvailabilityZoneCount", "4"),
        ("NetworkEgress", "none"),
        ("ImageCacheCredentialsSecretArn",
         "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ghcr-AbCdEf"),
        ("AvailabilityZone1", "eu-west-1"),
        ("AvailabilityZone2", "euw1-az1"),
        ("AvailabilityZone3", "EU-WEST-1A"),
        ("ImageCachePrefix", "x"),
        ("ImageCachePrefix", "Upper"),
        ("FlowLogRetentionDays", "10"),
    ],
)  # fmt: skip
def test_parameter_constraints_refuse_bad_values(name, value):
    with pytest.raises(ParameterError) as raised:
        stack(**{name: value})
    assert any(name in error for error in raised.value.errors)
