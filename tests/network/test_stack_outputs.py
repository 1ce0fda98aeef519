"""Reading a network stack (DescribeStacks, checked by botocore's Stubber against the real API
model) and applying it to a product parameter set."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from mlflow_cfn.network.checks import apply_network_stack
from mlflow_cfn.network.stack_outputs import NetworkStack, NetworkStackError, read_network_stack

NAME = "mlflow-network"
OUTPUTS = {
    "VpcId": "vpc-0123456789abcdef0",
    "LoadBalancerSubnetIds": "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
    "ServiceSubnetIds": "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
    "DatabaseSubnetIds": "subnet-0cccccccccccccccc,subnet-0dddddddddddddddd",
    "LoadBalancerIngressCidrs": "10.0.0.0/16",
}
CACHED_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghcr/mlflow/mlflow:v3.17.2-full"


def described(status="CREATE_COMPLETE", outputs=None, egress="nat", tier="private") -> dict:
    """A DescribeStacks response for a network stack."""
    parameters = [{"ParameterKey": "LoadBalancerSubnetTier", "ParameterValue": tier}]
    if egress is not None:
        parameters.append({"ParameterKey": "NetworkEgress", "ParameterValue": egress})
    return {
        "Stacks": [
            {
                "StackName": NAME,
                "StackId": f"arn:aws:cloudformation:eu-west-1:123456789012:stack/{NAME}/1",
                "CreationTime": "2026-12-01T10:00:00Z",
                "StackStatus": status,
                "Parameters": parameters,
                "Outputs": [
                    {"OutputKey": k, "OutputValue": v}
                    for k, v in (OUTPUTS if outputs is None else outputs).items()
                ],
            }
        ]
    }


@pytest.fixture
def cloudformation(no_real_aws):
    client = boto3.client("cloudformation", region_name="eu-west-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def read(cloudformation, response) -> NetworkStack:
    client, stubber = cloudformation
    stubber.add_response("describe_stacks", response, {"StackName": NAME})
    return read_network_stack(client, NAME)


def test_reads_the_outputs_as_product_parameters_and_the_egress(cloudformation):
    network = read(cloudformation, described(egress="endpoints"))
    assert network.values == OUTPUTS
    assert (network.egress, network.load_balancer_tier, network.region, network.account) == (
        "endpoints", "private", "eu-west-1", "123456789012"
    )  # fmt: skip


def test_reads_the_cached_image_when_the_stack_has_it(cloudformation):
    network = read(cloudformation, described(outputs={**OUTPUTS, "MlflowImage": CACHED_IMAGE}))
    assert network.values["MlflowImage"] == CACHED_IMAGE


@pytest.mark.parametrize("status", ["UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"])
def test_completed_updates_are_usable(cloudformation, status):
    assert read(cloudformation, described(status=status)).status == status


def test_a_missing_stack_is_named_with_the_region(cloudformation):
    client, stubber = cloudformation
    stubber.add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {NAME} does not exist",
        expected_params={"StackName": NAME},
    )  # fmt: skip
    with pytest.raises(NetworkStackError, match=f"'{NAME}' not found in region eu-west-1"):
        read_network_stack(client, NAME)


def test_other_aws_errors_propagate(cloudformation):
    client, stubber = cloudformation
    stubber.add_client_error(
        "describe_stacks", "AccessDenied", "no", expected_params={"StackName": NAME}
    )
    with pytest.raises(ClientError):
        read_network_stack(client, NAME)


@pytest.mark.parametrize(
    "status", ["CREATE_IN_PROGRESS", "ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED"]
)
def test_a_stack_not_complete_is_refused(cloudformation, status):
    with pytest.raises(NetworkStackError, match=f"is {status}"):
        read(cloudformation, described(status=status))


def test_missing_outputs_and_parameter_are_all_named(cloudformation):
    outputs = {k: v for k, v in OUTPUTS.items() if k not in ("VpcId", "DatabaseSubnetIds")}
    with pytest.raises(NetworkStackError) as raised:
        read(cloudformation, described(outputs=outputs, egress=None))
    message = str(raised.value)
    assert "VpcId, DatabaseSubnetIds, Parameter NetworkEgress" in message
    assert "templates/network.json" in message


def network(egress="nat", tier="private", **extra) -> NetworkStack:
    return NetworkStack(NAME, "CREATE_COMPLETE", {**OUTPUTS, **extra}, egress, tier, "eu-west-1")


def test_network_values_fill_what_the_launcher_leaves_out():
    check = apply_network_stack(network(), {"LoadBalancerIngressCidrs": "10.20.0.0/16"})
    assert check.parameters == {**OUTPUTS, "LoadBalancerIngressCidrs": "10.20.0.0/16"}
    assert check.errors == check.warnings == []


def test_the_suggested_ingress_is_used_with_a_warning():
    check = apply_network_stack(network(), {})
    assert check.parameters["LoadBalancerIngressCidrs"] == "10.0.0.0/16"
    assert check.errors == []
    (warning,) = check.warnings
    assert "LoadBalancerIngressCidrs not given" in warning


def test_repeating_the_networks_values_is_fine_in_any_order():
    given = {
        "VpcId": OUTPUTS["VpcId"],
        "ServiceSubnetIds": "subnet-0bbbbbbbbbbbbbbbb, subnet-0aaaaaaaaaaaaaaaa",
        "DatabaseSubnetIds": ["subnet-0cccccccccccccccc", "subnet-0dddddddddddddddd"],
        "LoadBalancerIngressCidrs": "10.0.0.0/8",
    }
    assert apply_network_stack(network(), given).errors == []


def test_values_that_conflict_with_the_network_are_all_refused():
    given = {"VpcId": "vpc-0ffffffffffffffff", "ServiceSubnetIds": "subnet-0eeeeeeeeeeeeeeee",
             "LoadBalancerIngressCidrs": "10.0.0.0/8"}  # fmt: skip
    errors = apply_network_stack(network(), given).errors
    assert len(errors) == 2
    assert "VpcId is vpc-0ffffffffffffffff" in errors[0] and "ServiceSubnetIds" in errors[1]


def test_endpoints_refuse_cognito_login_and_warn_about_oidc():
    cognito = apply_network_stack(
        network("endpoints", MlflowImage=CACHED_IMAGE), {"AuthMode": "cognito"}
    )
    assert any("AuthMode=cognito" in e and "NetworkEgress=nat" in e for e in cognito.errors)
    oidc = apply_network_stack(network("endpoints", MlflowImage=CACHED_IMAGE), {"AuthMode": "oidc"})
    assert not any("AuthMode" in e for e in oidc.errors)
    assert any("AuthMode=oidc" in w and "VPC endpoint service" in w for w in oidc.warnings)
    nat = apply_network_stack(network("nat"), {"AuthMode": "cognito"})
    assert not any("AuthMode" in e for e in nat.errors + nat.warnings)


def test_endpoints_need_images_from_this_regions_ecr():
    default = apply_network_stack(network("endpoints"), {})
    assert any("MlflowImage ghcr.io/mlflow/mlflow:v3.17.2-full" in e for e in default.errors)
    cached = apply_network_stack(network("endpoints", MlflowImage=CACHED_IMAGE), {})
    assert cached.errors == []
    assert cached.parameters["MlflowImage"] == CACHED_IMAGE
    assert any("(its pull-through cache)" in w for w in cached.warnings)
    assert not any("not this mlflow-cfn's image" in w for w in cached.warnings)
    older = apply_network_stack(
        network("endpoints", MlflowImage=CACHED_IMAGE.replace("v3.17.2", "v3.16.0")), {}
    )
    (stale,) = [w for w in older.warnings if "not this mlflow-cfn's image" in w]
    assert "mlflow/mlflow:v3.17.2-full" in stale and "update the network stack" in stale
    elsewhere = CACHED_IMAGE.replace("eu-west-1", "us-east-1")
    other_region = apply_network_stack(network("endpoints"), {"MlflowImage": elsewhere})
    assert any("in eu-west-1" in e for e in other_region.errors)
    sidecar = apply_network_stack(
        network("endpoints", MlflowImage=CACHED_IMAGE),
        {"SidecarImage": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"},
    )
    assert any(e.startswith("SidecarImage") for e in sidecar.errors)
    datadog = apply_network_stack(
        network("endpoints", MlflowImage=CACHED_IMAGE),
        {
            "DatadogApiKeySecretArn": (
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:dd-AbCdEf"
            )
        },
    )
    assert any("Datadog" in e for e in datadog.errors)


def test_internet_facing_needs_the_public_subnets_of_a_nat_network():
    facing = {"LoadBalancerScheme": "internet-facing"}
    assert apply_network_stack(network("nat", "public"), facing).errors == []
    private = apply_network_stack(network("nat", "private"), facing).errors
    assert any("LoadBalancerSubnetTier=public" in e for e in private)
    endpoints = apply_network_stack(network("endpoints", MlflowImage=CACHED_IMAGE), facing).errors
    assert any("no internet gateway" in e for e in endpoints)
    internal_in_public = apply_network_stack(network("nat", "public"), {}).warnings
    assert any("internal load balancer in" in w for w in internal_in_public)


def test_buckets_named_in_an_endpoints_network_are_warned_about():
    given = {"ArtifactBucketName": "team-ml", "ArtifactReadOnlyBucketArns": "arn:aws:s3:::data"}
    closed = network("endpoints", MlflowImage=CACHED_IMAGE)
    closed = NetworkStack(**{**closed.__dict__, "account": "123456789012"})
    check = apply_network_stack(closed, given)
    assert check.errors == []
    (name, arns) = [w for w in check.warnings if "S3 gateway endpoint" in w]
    assert name.startswith("ArtifactBucketName team-ml: network stack 'mlflow-network' has ")
    assert "buckets of account 123456789012 in eu-west-1" in name and "NetworkEgress=nat" in name
    assert arns.startswith("ArtifactReadOnlyBucketArns arn:aws:s3:::data:")
    assert not any("S3" in w for w in apply_network_stack(network("nat"), given).warnings)
