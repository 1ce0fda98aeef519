"""VPC endpoints: the S3 gateway endpoint in every mode (free; S3 traffic then never crosses a NAT
gateway), and with NetworkEgress=endpoints the interface endpoints of exactly what the product's
tasks call while they run, with their security group and policies.

The S3 endpoint carries the region's S3 traffic in both modes: its route (S3's prefix list) is more
specific than a NAT gateway's 0.0.0.0/0, and "we direct traffic using the most specific route that
matches the traffic" (Amazon VPC User Guide, "How route priority works",
https://docs.aws.amazon.com/vpc/latest/userguide/route-tables-priority.html). So its policy limits
what the tasks reach even with NetworkEgress=nat, where the NAT gateway would reach anything: there
it is the endpoint's default policy, full access ("The default endpoint policy allows full access
to the service": the provider schema of AWS::EC2::VPCEndpoint, PolicyDocument; its JSON form is in
the AWS PrivateLink Guide, "Control access to VPC endpoints using endpoint policies", Default
endpoint policy), so another account's bucket works as it would through the NAT gateway. With
NetworkEgress=endpoints it admits ECR's image layers and this account's buckets only, for this
account's principals; a gateway endpoint serves its own region only, so another region's bucket is
out of reach there in any case.

What the tasks call (found in the product template: the task definition, its secrets and log
configuration, and the container's start-up script, mlflow_cfn/stack/container/entrypoint.py):

* image pull by the task execution role: ``ecr.api`` (GetAuthorizationToken, the manifest),
  ``ecr.dkr`` (the registry protocol) and S3 for the image layers, which ECR keeps in its
  ``prod-<region>-starport-layer-bucket`` (Amazon ECR User Guide, "Amazon ECR interface VPC
  endpoints (AWS PrivateLink)"; Amazon ECS Developer Guide, "Migrating to Linux platform version
  1.4.0": on Fargate 1.4 the pull, the secrets and the logs leave through the task's own ENI);
* the ``awslogs`` log driver: ``logs`` (CreateLogStream, PutLogEvents);
* the database password, which ECS injects from Secrets Manager at start: ``secretsmanager``
  (GetSecretValue; Secrets Manager decrypts with KMS on its side, so no ``kms`` endpoint);
* the MLflow server itself: S3 only (artifacts; its region comes from AWS_DEFAULT_REGION, so it
  uses the regional S3 endpoint the gateway serves) with the task role's credentials from the ECS
  credentials endpoint (169.254.170.2, inside the task; no STS call). The container health check
  and the start-up script call only the server and the database.

Not needed on Fargate: the ``ecs``, ``ecs-agent`` and ``ecs-telemetry`` endpoints (EC2 container
instances' agent), ``sts``, ``kms``, ``monitoring`` (Container Insights is collected by Fargate).
The redeploy on secret rotation, idle shutdown and alarms run in AWS services, not in the VPC.

Service names are ``com.amazonaws.<region>.<service>`` except in the China regions, where ECR and
S3 are ``cn.com.amazonaws.<region>.<service>`` (``aws ec2 describe-vpc-endpoint-services``; the
same exceptions as AWS CDK's InterfaceVpcEndpointAwsService).
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs.aws import Action, Allow, Condition, Principal, Statement, StringEquals
from troposphere import FindInMap, GetAtt, If, Ref, Sub
from troposphere.ec2 import SecurityGroup, SecurityGroupRule, VPCEndpoint

from mlflow_cfn.network.inputs import HAS_THIRD_ZONE, USE_ENDPOINTS
from mlflow_cfn.network.layout import ZONES, Layout
from mlflow_cfn.stack.components.network import NO_EGRESS
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.policies import NO_VALUE, document

S3_GATEWAY_ENDPOINT = "S3GatewayEndpoint"
ENDPOINT_SECURITY_GROUP = "EndpointSecurityGroup"
ENDPOINT_SERVICE_PREFIXES = "EndpointServicePrefixes"

#: Logical id -> (service name suffix, prefix key in ENDPOINT_SERVICE_PREFIXES, actions the
#: product's tasks call through it).
INTERFACE_ENDPOINTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "EcrApiEndpoint": ("ecr.api", "Ecr", (
        "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:BatchImportUpstreamImage",
        "ecr:GetAuthorizationToken", "ecr:GetDownloadUrlForLayer")),
    "EcrDockerEndpoint": ("ecr.dkr", "Ecr", (
        "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:BatchImportUpstreamImage",
        "ecr:GetAuthorizationToken", "ecr:GetDownloadUrlForLayer")),
    "LogsEndpoint": ("logs", "Logs", ("logs:CreateLogStream", "logs:PutLogEvents")),
    "SecretsManagerEndpoint": ("secretsmanager", "SecretsManager",
                               ("secretsmanager:GetSecretValue",)),
}  # fmt: skip

#: The endpoint service name prefix by partition and service (see the module's docstring).
SERVICE_PREFIXES = {
    "aws": {"Ecr": "com.amazonaws", "Logs": "com.amazonaws", "S3": "com.amazonaws",
            "SecretsManager": "com.amazonaws"},
    "aws-cn": {"Ecr": "cn.com.amazonaws", "Logs": "com.amazonaws", "S3": "cn.com.amazonaws",
               "SecretsManager": "com.amazonaws"},
    "aws-us-gov": {"Ecr": "com.amazonaws", "Logs": "com.amazonaws", "S3": "com.amazonaws",
                   "SecretsManager": "com.amazonaws"},
}  # fmt: skip

#: What the tasks do with this account's buckets (the artifact store): the product's task role
#: grants no more (mlflow_cfn/stack/policies.py, artifact_access).
BUCKET_ACTIONS = (
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:GetObject",
    "s3:ListBucket",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
)
THIS_ACCOUNT = Sub("${AWS::AccountId}")


@dataclass(frozen=True)
class Endpoints:
    """The S3 gateway endpoint and, with NetworkEgress=endpoints, the interface endpoints and
    their security group."""

    s3: VPCEndpoint
    interface: tuple[VPCEndpoint, ...]
    security_group: SecurityGroup


def service_name(service: str, prefix_key: str) -> Sub:
    """The endpoint service name of ``service`` in the stack's partition and region."""
    prefix = FindInMap(ENDPOINT_SERVICE_PREFIXES, Ref("AWS::Partition"), prefix_key)
    return Sub(f"${{Prefix}}.${{AWS::Region}}.{service}", Prefix=prefix)


#: A VPC endpoint's default policy, as the AWS PrivateLink Guide writes it ("Control access to VPC
#: endpoints using endpoint policies", Default endpoint policy).
FULL_ACCESS = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}


def s3_endpoint_policy() -> If:
    """With NetworkEgress=endpoints, `this_accounts_s3`; with nat, the default full access (see
    the module's docstring)."""
    return If(USE_ENDPOINTS, this_accounts_s3(), FULL_ACCESS)


def this_accounts_s3() -> dict:
    """ECR's image layers (a bucket AWS owns; the layer URLs are signed by ECR, so no principal
    condition) and this account's buckets, for this account's principals only."""
    return document(
        Statement(
            Sid="EcrImageLayers",
            Effect=Allow,
            Principal=Principal("*"),
            Action=[action("s3:GetObject")],
            Resource=[Sub("arn:${AWS::Partition}:s3:::prod-${AWS::Region}-starport-layer-bucket/*")],
        ),
        Statement(
            Sid="ThisAccountsBucketsByThisAccountsPrincipals",
            Effect=Allow,
            Principal=Principal("*"),
            Action=[action(a) for a in BUCKET_ACTIONS],
            Resource=["*"],
            # One StringEquals with both keys: two StringEquals elements of a list would be one
            # JSON key, and the second would replace the first.
            Condition=Condition(StringEquals({
                "aws:ResourceAccount": THIS_ACCOUNT,
                "aws:PrincipalAccount": THIS_ACCOUNT,
            })),
        ),
    )  # fmt: skip


def interface_endpoint_policy(actions: tuple[str, ...]) -> dict:
    """Only ``actions``, only for this account's principals (no data leaves through the endpoint
    with another account's credentials)."""
    return document(
        Statement(
            Sid="WhatTheTasksCallByThisAccountsPrincipals",
            Effect=Allow,
            Principal=Principal("*"),
            Action=[action(a) for a in actions],
            Resource=["*"],
            Condition=Condition(StringEquals("aws:PrincipalAccount", THIS_ACCOUNT)),
        )
    )


def action(name: str) -> Action:
    """The awacs Action of ``service:Name``."""
    return Action(*name.split(":", 1))


def _zones(subnets: tuple, value) -> If:
    """``value(subnet)`` for the subnets of the zones the stack uses."""
    return If(
        HAS_THIRD_ZONE,
        [value(s) for s in subnets],
        [value(s) for s in subnets[: ZONES - 1]],
    )


def _security_group(ctx: Context, layout: Layout) -> SecurityGroup:
    """HTTPS in from the private subnets (the tasks) only; nothing out (endpoints answer, they
    never call)."""
    ingress = [
        SecurityGroupRule(
            IpProtocol="tcp", FromPort=443, ToPort=443,
            CidrIp=GetAtt(subnet, "CidrBlock"),
            Description=f"HTTPS from the tasks in private subnet {zone + 1}",
        )
        for zone, subnet in enumerate(layout.private)
    ]  # fmt: skip
    return ctx.template.add_resource(
        SecurityGroup(
            ENDPOINT_SECURITY_GROUP,
            Condition=USE_ENDPOINTS,
            GroupDescription="Interface VPC endpoints: HTTPS from the private subnets only",
            VpcId=Ref(layout.vpc),
            SecurityGroupIngress=[*ingress[:-1], If(HAS_THIRD_ZONE, ingress[-1], NO_VALUE)],
            SecurityGroupEgress=[NO_EGRESS],
            Tags=[{"Key": "Name", "Value": Sub("${AWS::StackName}-endpoints")}],
        )
    )


def add_endpoints(ctx: Context, *, layout: Layout) -> Endpoints:
    """The S3 gateway endpoint on the private route tables; the interface endpoints in the
    private subnets with NetworkEgress=endpoints."""
    ctx.template.add_mapping(ENDPOINT_SERVICE_PREFIXES, SERVICE_PREFIXES)
    s3 = ctx.template.add_resource(
        VPCEndpoint(
            S3_GATEWAY_ENDPOINT,
            VpcEndpointType="Gateway",
            ServiceName=service_name("s3", "S3"),
            VpcId=Ref(layout.vpc),
            RouteTableIds=_zones(layout.private_route_tables, Ref),
            PolicyDocument=s3_endpoint_policy(),
        )
    )
    group = _security_group(ctx, layout)
    interface = tuple(
        ctx.template.add_resource(
            VPCEndpoint(
                logical_id,
                Condition=USE_ENDPOINTS,
                VpcEndpointType="Interface",
                ServiceName=service_name(service, prefix_key),
                VpcId=Ref(layout.vpc),
                SubnetIds=_zones(layout.private, Ref),
                SecurityGroupIds=[Ref(group)],
                PrivateDnsEnabled=True,
                PolicyDocument=interface_endpoint_policy(actions),
            )
        )
        for logical_id, (service, prefix_key, actions) in INTERFACE_ENDPOINTS.items()
    )
    return Endpoints(s3, interface, group)
