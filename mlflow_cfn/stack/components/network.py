"""Security groups: clients -> load balancer -> service -> database, each hop on its one port."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Sub
from troposphere.ec2 import SecurityGroup, SecurityGroupEgress, SecurityGroupIngress

from mlflow_cfn.stack import names
from mlflow_cfn.stack.conditions import https_ingress_condition, ingress_cidr, ingress_condition
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.engines import engine_setting

CONTAINER_PORT = 5000


@dataclass(frozen=True)
class SecurityGroups:
    """The security groups of the three tiers."""

    load_balancer: SecurityGroup
    service: SecurityGroup
    database: SecurityGroup


def _group(ctx: Context, logical_id: str, description: str, egress: list[dict]) -> SecurityGroup:
    return ctx.template.add_resource(
        SecurityGroup(
            logical_id,
            GroupDescription=description,
            VpcId=ctx.ref(names.VPC_ID),
            SecurityGroupEgress=egress,
            Tags=[{"Key": "Name", "Value": Sub(f"${{AWS::StackName}}-{logical_id}")}],
        )
    )


# A group with no egress rule gets "allow all"; this rule allows nothing useful instead.
_NO_EGRESS = {"CidrIp": "127.0.0.1/32", "IpProtocol": "-1", "Description": "No egress"}


def add_security_groups(ctx: Context) -> SecurityGroups:
    """Add the three groups and the rules between them."""
    t = ctx.template
    lb = _group(ctx, names.LOAD_BALANCER_SECURITY_GROUP, "MLflow load balancer", [_NO_EGRESS])
    service = _group(
        ctx,
        names.SERVICE_SECURITY_GROUP,
        "MLflow server tasks",
        [
            {
                "CidrIp": "0.0.0.0/0",
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "Description": "HTTPS to S3, Secrets Manager, CloudWatch Logs and the registry",
            }
        ],
    )
    database = _group(ctx, names.DATABASE_SECURITY_GROUP, "MLflow database", [_NO_EGRESS])
    port = engine_setting(ctx, "Port")
    for slot in range(ctx.options.ingress_cidr_slots):
        cidr = ingress_cidr(ctx, slot)
        http = SecurityGroupIngress(
            names.load_balancer_http_ingress(slot),
            GroupId=GetAtt(lb, "GroupId"),
            IpProtocol="tcp",
            FromPort=80,
            ToPort=80,
            CidrIp=cidr,
            Description=f"HTTP from allowed client CIDR {slot + 1}",
        )
        if condition := ingress_condition(slot):
            http.Condition = condition
        t.add_resource(http)
        t.add_resource(
            SecurityGroupIngress(
                names.load_balancer_https_ingress(slot),
                Condition=https_ingress_condition(slot),
                GroupId=GetAtt(lb, "GroupId"),
                IpProtocol="tcp",
                FromPort=443,
                ToPort=443,
                CidrIp=cidr,
                Description=f"HTTPS from allowed client CIDR {slot + 1}",
            )
        )
    t.add_resource(
        SecurityGroupEgress(
            names.LOAD_BALANCER_TO_SERVICE_EGRESS,
            GroupId=GetAtt(lb, "GroupId"),
            IpProtocol="tcp",
            FromPort=CONTAINER_PORT,
            ToPort=CONTAINER_PORT,
            DestinationSecurityGroupId=GetAtt(service, "GroupId"),
            Description="To the MLflow tasks",
        )
    )
    t.add_resource(
        SecurityGroupIngress(
            names.SERVICE_FROM_LOAD_BALANCER_INGRESS,
            GroupId=GetAtt(service, "GroupId"),
            IpProtocol="tcp",
            FromPort=CONTAINER_PORT,
            ToPort=CONTAINER_PORT,
            SourceSecurityGroupId=GetAtt(lb, "GroupId"),
            Description="From the load balancer",
        )
    )
    t.add_resource(
        SecurityGroupEgress(
            names.SERVICE_TO_DATABASE_EGRESS,
            GroupId=GetAtt(service, "GroupId"),
            IpProtocol="tcp",
            FromPort=port,
            ToPort=port,
            DestinationSecurityGroupId=GetAtt(database, "GroupId"),
            Description="To the database",
        )
    )
    t.add_resource(
        SecurityGroupIngress(
            names.DATABASE_FROM_SERVICE_INGRESS,
            GroupId=GetAtt(database, "GroupId"),
            IpProtocol="tcp",
            FromPort=port,
            ToPort=port,
            SourceSecurityGroupId=GetAtt(service, "GroupId"),
            Description="From the MLflow tasks",
        )
    )
    return SecurityGroups(load_balancer=lb, service=service, database=database)
