"""Where Fargate runs (the documented table, `mlflow_cfn.network.fargate_zones`) and the check of
a network's service subnets against it (DescribeSubnets, checked by botocore's Stubber against
the real API model)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from mlflow_cfn.network.fargate_zones import FARGATE_ZONE_IDS, fargate_zone_problems
from mlflow_cfn.network.lookups import online_problems, subnet_zones
from mlflow_cfn.network.stack_outputs import NetworkStack
from tests.facts.test_partitions import REGIONS
from tests.network.test_stack_outputs import NAME, OUTPUTS

SUBNETS = OUTPUTS["ServiceSubnetIds"].split(",")


@pytest.mark.parametrize(
    ("region", "runs", "does_not_run"),
    [
        # The rows of ECS Developer Guide, "Supported Regions for Amazon ECS on AWS Fargate".
        ("us-west-1", ["usw1-az1", "usw1-az3"], ["usw1-az2"]),
        ("ap-northeast-1", ["apne1-az1", "apne1-az2", "apne1-az4"], ["apne1-az3"]),
        ("cn-north-1", ["cnn1-az1", "cnn1-az2"], ["cnn1-az4"]),
    ],
)
def test_the_documented_zones(region, runs, does_not_run):
    zones = {f"subnet-{i}": (f"{region}x", zone) for i, zone in enumerate(runs + does_not_run)}
    problems = fargate_zone_problems("ServiceSubnetIds", region, zones)
    assert len(problems) == len(does_not_run)
    for problem, zone in zip(problems, does_not_run, strict=True):
        assert f"({zone}), where Fargate does not run tasks" in problem
        assert f"in {region} it runs in {', '.join(sorted(runs))} only" in problem


def test_elsewhere_every_zone_runs_fargate():
    assert fargate_zone_problems("ServiceSubnetIds", "eu-west-1", {"s": ("x", "euw1-az9")}) == []


def test_the_table_names_regions_and_zone_ids_that_exist():
    regions = {r for partition in REGIONS.values() for r in partition}
    for region, zone_ids in FARGATE_ZONE_IDS.items():
        assert region in regions, region
        prefix = region.split("-")[0][:2]
        assert all(z.startswith(prefix) and "-az" in z for z in zone_ids), zone_ids


def described_subnets(region: str, zone_ids: list[str]) -> dict:
    """A DescribeSubnets response for the network's service subnets."""
    return {
        "Subnets": [
            {"SubnetId": subnet, "AvailabilityZone": f"{region}{'ab'[i]}",
             "AvailabilityZoneId": zone, "VpcId": OUTPUTS["VpcId"], "State": "available",
             "CidrBlock": f"10.0.{i}.0/24"}
            for i, (subnet, zone) in enumerate(zip(SUBNETS, zone_ids, strict=True))
        ]
    }  # fmt: skip


@pytest.fixture
def ec2(no_real_aws):
    client = boto3.client("ec2", region_name="us-west-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def network(region: str) -> NetworkStack:
    return NetworkStack(NAME, "CREATE_COMPLETE", dict(OUTPUTS), "nat", region=region)


def test_reads_the_zone_ids_of_the_service_subnets(ec2):
    client, stubber = ec2
    response = described_subnets("us-west-1", ["usw1-az1", "usw1-az3"])
    stubber.add_response("describe_subnets", response, {"SubnetIds": SUBNETS})
    assert subnet_zones(client, SUBNETS) == {
        SUBNETS[0]: ("us-west-1a", "usw1-az1"), SUBNETS[1]: ("us-west-1b", "usw1-az3")
    }  # fmt: skip


def test_a_service_subnet_where_fargate_does_not_run_is_refused(ec2):
    client, stubber = ec2
    response = described_subnets("us-west-1", ["usw1-az1", "usw1-az2"])
    stubber.add_response("describe_subnets", response, {"SubnetIds": SUBNETS})
    errors, warnings = online_problems(network("us-west-1"), OUTPUTS, lambda service: client)
    (error,) = errors
    assert error.startswith(f"ServiceSubnetIds: subnet {SUBNETS[1]} is in us-west-1b (usw1-az2)")
    assert f"update network stack {NAME!r} with AvailabilityZone1 to AvailabilityZone3" in error
    assert warnings == []


def test_nothing_is_read_where_fargate_runs_in_every_zone(ec2):
    client, _ = ec2  # no response stubbed: a call would fail
    assert online_problems(network("eu-west-1"), OUTPUTS, lambda service: client) == ([], [])


def test_a_subnet_read_that_fails_is_an_error(ec2):
    client, stubber = ec2
    stubber.add_client_error("describe_subnets", "UnauthorizedOperation", "not allowed",
                             expected_params={"SubnetIds": SUBNETS})  # fmt: skip
    (error,), _ = online_problems(network("us-west-1"), OUTPUTS, lambda service: client)
    assert "cannot read the zones" in error and "UnauthorizedOperation" in error
