"""The network the stack runs in (VPC and the three tiers' subnets) and its security groups:
clients -> load balancer -> service -> database, each hop on its one port. This component adds the
groups and the load balancer -> service hop; the load balancer adds the client ingress, the
database the service -> database hop (each owns its port)."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Parameter, Ref, Sub
from troposphere.ec2 import SecurityGroup, SecurityGroupEgress, SecurityGroupIngress

from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.interface import GROUP_NETWORK
from mlflow_cfn.stack.parameters import ParameterSpec

# Parameters
VPC_ID = "VpcId"
LOAD_BALANCER_SUBNET_IDS = "LoadBalancerSubnetIds"
SERVICE_SUBNET_IDS = "ServiceSubnetIds"
DATABASE_SUBNET_IDS = "DatabaseSubnetIds"
# Resources
LOAD_BALANCER_SECURITY_GROUP = "LoadBalancerSecurityGroup"
SERVICE_SECURITY_GROUP = "ServiceSecurityGroup"
DATABASE_SECURITY_GROUP = "DatabaseSecurityGroup"
LOAD_BALANCER_TO_SERVICE_EGRESS = "LoadBalancerToServiceEgress"
SERVICE_FROM_LOAD_BALANCER_INGRESS = "ServiceFromLoadBalancerIngress"

CONTAINER_PORT = 5000

#: Parameters AWS needs in at least two Availability Zones (a load balancer and a DB subnet
#: group refuse one subnet); Rules cannot count list items, so `plan` checks them.
TWO_ZONE_SUBNET_PARAMETERS = (LOAD_BALANCER_SUBNET_IDS, DATABASE_SUBNET_IDS)

_SUBNETS = "List<AWS::EC2::Subnet::Id>"
_SPECS = (
    ParameterSpec(
        VPC_ID,
        "AWS::EC2::VPC::Id",
        "The VPC the load balancer, the service and the database run in.",
        "VPC",
        GROUP_NETWORK,
    ),
    ParameterSpec(
        LOAD_BALANCER_SUBNET_IDS,
        _SUBNETS,
        "Subnets for the load balancer, in at least two Availability Zones: private subnets "
        "for an internal load balancer, public ones for an internet-facing one.",
        "Load balancer subnets",
        GROUP_NETWORK,
    ),
    ParameterSpec(
        SERVICE_SUBNET_IDS,
        _SUBNETS,
        "Private subnets for the MLflow tasks (no public IP is assigned). They need a route to "
        "S3, Secrets Manager, CloudWatch Logs and the image registry (NAT or VPC endpoints).",
        "Service subnets",
        GROUP_NETWORK,
    ),
    ParameterSpec(
        DATABASE_SUBNET_IDS,
        _SUBNETS,
        "Private subnets for the database, in at least two Availability Zones.",
        "Database subnets",
        GROUP_NETWORK,
    ),
)

# A group with no egress rule gets "allow all"; this rule allows nothing useful instead.
NO_EGRESS = {"CidrIp": "127.0.0.1/32", "IpProtocol": "-1", "Description": "No egress"}


@dataclass(frozen=True)
class Network:
    """The network Parameters and the security groups of the three tiers."""

    vpc_id: Parameter
    load_balancer_subnets: Parameter
    service_subnets: Parameter
    database_subnets: Parameter
    load_balancer: SecurityGroup
    service: SecurityGroup
    database: SecurityGroup


def _group(ctx: Context, logical_id: str, vpc_id: Parameter, description: str, egress: list):
    return ctx.template.add_resource(
        SecurityGroup(
            logical_id,
            GroupDescription=description,
            VpcId=Ref(vpc_id),
            SecurityGroupEgress=egress,
            Tags=[{"Key": "Name", "Value": Sub(f"${{AWS::StackName}}-{logical_id}")}],
        )
    )


def connect(
    ctx: Context,
    ids: tuple[str, str],
    source: SecurityGroup,
    destination: SecurityGroup,
    port: object,
    descriptions: tuple[str, str],
) -> None:
    """Allow ``source`` to reach ``destination`` on ``port``: an egress rule on the source and an
    ingress rule on the destination (logical IDs and descriptions in that order)."""
    egress_id, ingress_id = ids
    ctx.template.add_resource(
        SecurityGroupEgress(
            egress_id,
            GroupId=GetAtt(source, "GroupId"),
            IpProtocol="tcp",
            FromPort=port,
            ToPort=port,
            DestinationSecurityGroupId=GetAtt(destination, "GroupId"),
            Description=descriptions[0],
        )
    )
    ctx.template.add_resource(
        SecurityGroupIngress(
            ingress_id,
            GroupId=GetAtt(destination, "GroupId"),
            IpProtocol="tcp",
            FromPort=port,
            ToPort=port,
            SourceSecurityGroupId=GetAtt(source, "GroupId"),
            Description=descriptions[1],
        )
    )


def add_network(ctx: Context) -> Network:
    """Declare the network Parameters; add the three groups and the load balancer -> service
    hop."""
    vpc, lb_subnets, service_subnets, db_subnets = ctx.parameters(*_SPECS)
    lb = _group(ctx, LOAD_BALANCER_SECURITY_GROUP, vpc, "MLflow load balancer", [NO_EGRESS])
    to_aws = {
        "CidrIp": "0.0.0.0/0",
        "IpProtocol": "tcp",
        "FromPort": 443,
        "ToPort": 443,
        "Description": "HTTPS to S3, Secrets Manager, CloudWatch Logs and the registry",
    }
    service = _group(ctx, SERVICE_SECURITY_GROUP, vpc, "MLflow server tasks", [to_aws])
    database = _group(ctx, DATABASE_SECURITY_GROUP, vpc, "MLflow database", [NO_EGRESS])
    connect(
        ctx,
        (LOAD_BALANCER_TO_SERVICE_EGRESS, SERVICE_FROM_LOAD_BALANCER_INGRESS),
        lb,
        service,
        CONTAINER_PORT,
        ("To the MLflow tasks", "From the load balancer"),
    )
    return Network(
        vpc_id=vpc,
        load_balancer_subnets=lb_subnets,
        service_subnets=service_subnets,
        database_subnets=db_subnets,
        load_balancer=lb,
        service=service,
        database=database,
    )
