"""The network's security properties, evaluated: VPC endpoints (service names per partition, private
DNS, subnets, a security group open on 443 to the private subnets only, policies for this account's
principals), flow logs (a customer-managed key whose policy lets CloudWatch Logs use it only with
the log-group encryption context, the delivery role), the default security group's rules removed,
roles with the permissions boundary."""

from __future__ import annotations

import pytest

from mlflow_cfn.network.endpoints import FULL_ACCESS, INTERFACE_ENDPOINTS
from tests.network.modes import ENDPOINTS, MODES, THREE_ZONES, stack

ACCOUNT = "123456789012"


def endpoint_mode(**extra: str):
    return stack(**ENDPOINTS, **extra)


def test_nat_mode_has_only_the_free_s3_gateway_endpoint():
    evaluated = stack()
    assert set(evaluated.of_type("AWS::EC2::VPCEndpoint")) == {"S3GatewayEndpoint"}
    assert evaluated.of_type("AWS::EC2::SecurityGroup") == {}


@pytest.mark.parametrize(("zones", "count"), [({}, 2), (THREE_ZONES, 3)])
def test_interface_endpoints_are_exactly_what_the_tasks_call(zones, count):
    evaluated = endpoint_mode(**zones)
    interface = {
        k: r["Properties"]
        for k, r in evaluated.of_type("AWS::EC2::VPCEndpoint").items()
        if r["Properties"]["VpcEndpointType"] == "Interface"
    }
    assert {p["ServiceName"] for p in interface.values()} == {
        "com.amazonaws.eu-west-1.ecr.api",
        "com.amazonaws.eu-west-1.ecr.dkr",
        "com.amazonaws.eu-west-1.logs",
        "com.amazonaws.eu-west-1.secretsmanager",
    }
    for props in interface.values():
        assert props["PrivateDnsEnabled"] is True
        assert props["VpcId"] == "<Vpc>"
        assert props["SubnetIds"] == [f"<PrivateSubnet{z}>" for z in range(1, count + 1)]
        assert props["SecurityGroupIds"] == ["<EndpointSecurityGroup>"]


def test_s3_gateway_endpoint_serves_the_private_route_tables():
    props = stack(**THREE_ZONES).resource("S3GatewayEndpoint")["Properties"]
    assert props["VpcEndpointType"] == "Gateway"
    assert props["ServiceName"] == "com.amazonaws.eu-west-1.s3"
    assert props["RouteTableIds"] == [f"<PrivateRouteTable{z}>" for z in (1, 2, 3)]


@pytest.mark.parametrize(
    ("region", "names"),
    [
        ("cn-north-1", {"cn.com.amazonaws.cn-north-1.ecr.api",
                        "cn.com.amazonaws.cn-north-1.ecr.dkr", "com.amazonaws.cn-north-1.logs",
                        "com.amazonaws.cn-north-1.secretsmanager",
                        "cn.com.amazonaws.cn-north-1.s3"}),
        ("us-gov-west-1", {f"com.amazonaws.us-gov-west-1.{s}" for s in
                           ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "s3")}),
    ],
)  # fmt: skip
def test_service_names_follow_the_partition(region, names):
    evaluated = stack(region=region, **ENDPOINTS)
    found = {
        r["Properties"]["ServiceName"] for r in evaluated.of_type("AWS::EC2::VPCEndpoint").values()
    }
    assert found == names


@pytest.mark.parametrize("zones", [{}, THREE_ZONES])
def test_endpoint_security_group_allows_https_from_the_private_subnets_only(zones):
    evaluated = endpoint_mode(**zones)
    props = evaluated.resource("EndpointSecurityGroup")["Properties"]
    count = 3 if zones else 2
    assert props["SecurityGroupIngress"] == [
        {
            "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
            "CidrIp": f"<PrivateSubnet{z}.CidrBlock>",
            "Description": f"HTTPS from the tasks in private subnet {z}",
        }
        for z in range(1, count + 1)
    ]  # fmt: skip
    assert props["SecurityGroupEgress"] == [
        {"CidrIp": "127.0.0.1/32", "IpProtocol": "-1", "Description": "No egress"}
    ]
    # No other rule reaches the group from elsewhere.
    assert evaluated.of_type("AWS::EC2::SecurityGroupIngress") == {}


@pytest.mark.parametrize("logical_id", sorted(INTERFACE_ENDPOINTS))
def test_interface_endpoint_policies_allow_only_the_tasks_calls_by_this_account(logical_id):
    policy = endpoint_mode().resource(logical_id)["Properties"]["PolicyDocument"]
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow" and statement["Principal"] == "*"
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}
    assert statement["Action"] == list(INTERFACE_ENDPOINTS[logical_id][2])
    assert all(not a.endswith("*") for a in statement["Action"])


def test_s3_endpoint_policy_with_nat_is_the_default_full_access():
    """The NAT gateway would reach any bucket: the endpoint, which carries the region's S3 traffic
    instead, must not refuse what the NAT path allows (another account's bucket)."""
    policy = stack().resource("S3GatewayEndpoint")["Properties"]["PolicyDocument"]
    assert policy == FULL_ACCESS
    assert FULL_ACCESS == {
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]
    }


def test_s3_endpoint_policy_reaches_ecr_layers_and_this_accounts_buckets_only():
    policy = endpoint_mode().resource("S3GatewayEndpoint")["Properties"]["PolicyDocument"]
    layers, buckets = policy["Statement"]
    assert layers["Action"] == ["s3:GetObject"]
    assert layers["Resource"] == ["arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*"]
    assert "Condition" not in layers  # the layer URLs are signed by ECR, not by this account
    assert buckets["Condition"] == {
        "StringEquals": {"aws:ResourceAccount": ACCOUNT, "aws:PrincipalAccount": ACCOUNT}
    }
    assert "s3:*" not in buckets["Action"] and "s3:PutObject" in buckets["Action"]


def test_flow_logs_capture_everything_into_an_encrypted_retained_group():
    evaluated = stack(FlowLogRetentionDays="90")
    flow = evaluated.resource("FlowLog")["Properties"]
    assert flow["ResourceId"] == "<Vpc>" and flow["ResourceType"] == "VPC"
    assert flow["TrafficType"] == "ALL"
    assert flow["LogDestinationType"] == "cloud-watch-logs"
    assert flow["LogGroupName"] == "<FlowLogGroup>"
    assert flow["DeliverLogsPermissionArn"] == "<FlowLogRole.Arn>"
    group = evaluated.resource("FlowLogGroup")
    assert group["Properties"] == {"KmsKeyId": "<LogsKey.Arn>", "RetentionInDays": "90"}
    # Kept, except by the rollback of the create that made it (retention.py)
    assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == (
        "RetainExceptOnCreate",
        "Retain",
    )


def test_logs_key_lets_cloudwatch_logs_use_it_only_for_this_accounts_log_groups():
    key = stack().resource("LogsKey")
    props = key["Properties"]
    assert props["EnableKeyRotation"] is True and props["PendingWindowInDays"] == 30
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
    root, logs = props["KeyPolicy"]["Statement"]
    assert root["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert logs["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:*"
        }
    }
    assert "kms:*" not in logs["Action"]


def test_flow_log_role_is_trusted_by_vpc_flow_logs_of_this_account_and_writes_one_group():
    role = stack(PermissionsBoundaryArn=f"arn:aws:iam::{ACCOUNT}:policy/b").resource("FlowLogRole")
    props = role["Properties"]
    (trust,) = props["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert props["PermissionsBoundary"] == f"arn:aws:iam::{ACCOUNT}:policy/b"
    write, find = props["Policies"][0]["PolicyDocument"]["Statement"]
    assert write["Resource"] == ["<FlowLogGroup.Arn>"]
    assert set(write["Action"]) == {
        "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"
    }  # fmt: skip
    assert find["Action"] == ["logs:DescribeLogGroups"]


@pytest.mark.parametrize("mode", sorted(MODES))
def test_default_security_group_is_stripped_in_every_mode(mode):
    evaluated = stack(**MODES[mode])
    restriction = evaluated.resource("DefaultSecurityGroupRestriction")
    assert restriction["Type"] == "Custom::RestrictDefaultSecurityGroup"
    assert restriction["Properties"] == {
        "ServiceToken": "<DefaultSecurityGroupRestrictionFunction.Arn>",
        "DefaultSecurityGroupId": "<Vpc.DefaultSecurityGroup>",
        "AccountId": ACCOUNT,
    }
    function = evaluated.resource("DefaultSecurityGroupRestrictionFunction")["Properties"]
    assert "VpcConfig" not in function  # the EC2 API is outside the VPC
    assert function["LoggingConfig"] == {"LogGroup": "<DefaultSecurityGroupRestrictionLogGroup>"}
    assert len(function["Code"]["ZipFile"].encode()) <= 4096  # Lambda's inline code limit
    role = evaluated.resource("DefaultSecurityGroupRestrictionRole")["Properties"]
    revoke, logs = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert revoke["Action"] == ["ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress"]
    assert revoke["Resource"] == [
        f"arn:aws:ec2:eu-west-1:{ACCOUNT}:security-group/<Vpc.DefaultSecurityGroup>"
    ]
    assert logs["Resource"] == ["<DefaultSecurityGroupRestrictionLogGroup.Arn>"]
    group = evaluated.resource("DefaultSecurityGroupRestrictionLogGroup")["Properties"]
    assert group["KmsKeyId"] == "<LogsKey.Arn>"


def test_every_role_carries_the_permissions_boundary_when_given():
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/portfolio-boundary"
    with_boundary = stack(PermissionsBoundaryArn=boundary).of_type("AWS::IAM::Role")
    assert len(with_boundary) == 2
    assert {r["Properties"]["PermissionsBoundary"] for r in with_boundary.values()} == {boundary}
    without = stack().of_type("AWS::IAM::Role")
    assert all("PermissionsBoundary" not in r["Properties"] for r in without.values())


def test_image_cache_rule_and_output_only_with_credentials():
    assert "ImageCacheRule" not in stack().resources
    assert "MlflowImage" not in stack().outputs
    evaluated = stack(**MODES["endpoints-3-zones-cache"])
    assert evaluated.resource("ImageCacheRule")["Properties"] == {
        "EcrRepositoryPrefix": "ghcr",
        "UpstreamRegistry": "github-container-registry",
        "UpstreamRegistryUrl": "ghcr.io",
        "CredentialArn": MODES["endpoints-3-zones-cache"]["ImageCacheCredentialsSecretArn"],
    }
    assert evaluated.outputs["MlflowImage"] == (
        f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/ghcr/mlflow/mlflow:v3.17.2-full"
    )


def test_no_physical_names_so_stacks_coexist():
    for logical_id, resource in stack(**MODES["endpoints-3-zones-cache"]).resources.items():
        named = {"FunctionName", "RoleName", "LogGroupName", "GroupName"} & set(
            resource.get("Properties", {})
        )
        assert not named or resource["Type"] == "AWS::EC2::FlowLog", logical_id
