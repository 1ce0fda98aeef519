"""What the network template's launch role needs beyond the product's tables, in the same form:
the launch-role derivation (`mlflow_cfn.catalog.launch_policy`) reads these beside the product's
tables, so the product's launch role is unchanged (none of these actions is the product's; what
both templates' Lambda functions need is in the product's tables) and the network's is derived
the same way from templates/network.json.

Each entry has its reason, as in the product's tables (`schema_actions`, `launch_actions`,
`scopes`, `conditioned_grants`).
"""

from __future__ import annotations

#: Schema permissions of the network's types that are no IAM action (cfn-lint's copy of the
#: Service Authorization Reference has none of them): not granted.
NETWORK_SCHEMA_PERMISSIONS_NOT_IAM: dict[str, str] = {
    "vpc-lattice:DescribeServiceNetworkVpcEndpointAssociation": (
        "listed by the VPC endpoint handlers for service-network endpoints; IAM defines no such "
        "action (the network's endpoints are gateway and interface endpoints)"
    ),
}

#: Actions the network's resource handlers list that its launch role does not get, with the
#: reason: each serves a feature the network template never configures.
NETWORK_REFUSED_ACTIONS: dict[str, str] = {
    "vpc-lattice:CreateServiceNetworkVpcEndpointAssociation": (
        "VPC endpoints of type ServiceNetwork (VPC Lattice); the network's are Gateway and "
        "Interface endpoints"
    ),
    "vpce:AllowMultiRegion": "cross-region VPC endpoints (ServiceRegion); the network's are local",
    "ec2:AttachVpnGateway": "VPC gateway attachments of a VPN gateway; the network attaches an "
    "internet gateway only",
    "ec2:DetachVpnGateway": "as ec2:AttachVpnGateway",
    "ec2:CreateVpcEncryptionControl": "VPC encryption controls, which the network sets none of",
    "ec2:AcceptAddressTransfer": "Elastic IP address transfers between accounts "
    "(TransferAddress); the network's addresses are allocated, never transferred",
}

#: Service-linked roles the network's types may create, by type namespace (as the product's
#: SERVICE_LINKED_ROLE_SERVICES in `mlflow_cfn.catalog.conditioned_grants`): a pull-through cache
#: rule's first use creates AWSServiceRoleForECRPullThroughCache (Amazon ECR User Guide, "Amazon ECR
#: service-linked role for pull through cache").
NETWORK_SERVICE_LINKED_ROLE_SERVICES: dict[str, str] = {
    "AWS::ECR": "pullthroughcache.ecr.amazonaws.com",
}

#: Type namespaces whose handlers list iam:CreateServiceLinkedRole but whose service-linked role
#: the network never needs: granted none.
NO_SERVICE_LINKED_ROLE: dict[str, str] = {
    "AWS::EC2": (
        "the flow log create handler lists it for destinations delivered by CloudWatch Logs' "
        "log-delivery role (Firehose, cross-account); the network's flow log writes to a log "
        "group with its own role (DeliverLogsPermissionArn)"
    ),
}

#: The network's custom resource types and the actions they need: CloudFormation invokes the
#: function named by the resource's ServiceToken with the caller's credentials (CloudFormation
#: User Guide, "Lambda-backed custom resources"), so the launch role may invoke the product's
#: functions (``function:SC-*``). Any other custom type is refused like an unknown type.
CUSTOM_RESOURCE_ACTIONS: dict[str, tuple[str, ...]] = {
    "Custom::RestrictDefaultSecurityGroup": ("lambda:InvokeFunction",),
}


def _no_resource(needed_by: str) -> str:
    return (
        f"{needed_by}; the Service Authorization Reference defines this action on no resource "
        "type, so only '*' matches"
    )


#: The network's actions granted on Resource "*" (read-only describes, and the pull-through cache
#: rule, which IAM scopes nowhere), each with its reason.
NETWORK_WILDCARD_RESOURCE_EXCEPTIONS: dict[str, str] = {
    "autoscaling:DescribeTags": _no_resource("flow log handlers"),
    "ec2:DescribeAddresses": _no_resource("Elastic IP and NAT gateway handlers"),
    "ec2:DescribeFlowLogs": _no_resource("flow log handlers"),
    "ec2:DescribeNatGateways": _no_resource("NAT gateway handlers"),
    "ec2:DescribeNetworkAcls": _no_resource("subnet handlers"),
    "ec2:DescribeRouteTables": _no_resource("route table, route and association handlers"),
    "ec2:DescribeTags": _no_resource("Elastic IP and VPC handlers"),
    "ec2:DescribeVpcEncryptionControls": _no_resource("VPC read"),
    "ec2:DescribeVpcEndpoints": _no_resource("VPC endpoint handlers"),
    "ec2:DescribeVpnGateways": _no_resource("VPC gateway attachment handlers"),
    "ecr:CreatePullThroughCacheRule": _no_resource(
        "pull-through cache rule create (for the launcher's ImageCachePrefix; a prefix that "
        "exists makes the create fail, it never takes over another rule)"
    ),
    "ecr:DeletePullThroughCacheRule": _no_resource(
        "pull-through cache rule delete (CloudFormation deletes only the rule it created)"
    ),
    "ecr:DescribePullThroughCacheRules": _no_resource("pull-through cache rule handlers"),
    "logs:DeleteLogDelivery": _no_resource("log group update"),
}

#: EC2 resource kinds (ARN ``<kind>/*`` of this account and region) the network's types create or
#: act on, added to the product's EC2 scope (security groups and their rules, VPCs) for a template
#: that has the type. A NAT gateway's network interface is EC2's own; its Elastic IP address is
#: associated with and disassociated from it.
EC2_KINDS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "AWS::EC2::EIP": ("elastic-ip",),
    "AWS::EC2::FlowLog": ("vpc-flow-log",),
    "AWS::EC2::InternetGateway": ("internet-gateway",),
    "AWS::EC2::NatGateway": ("natgateway", "network-interface"),
    "AWS::EC2::RouteTable": ("route-table",),
    "AWS::EC2::Subnet": ("subnet",),
    "AWS::EC2::VPCEndpoint": ("vpc-endpoint",),
}

#: Destructive and modifying EC2 actions on the network's resources, allowed only on resources
#: CloudFormation tagged as a Service Catalog stack's (the product's tag condition, see
#: `mlflow_cfn.catalog.owned_grants.OWNED_ONLY_ACTIONS`), and the kinds they act on, each
#: with the resource type that has ARNs of that kind (whose provider schema must say CloudFormation
#: puts its system tags on it).
NETWORK_OWNED_ONLY_EC2: tuple[tuple[str, ...], dict[str, str]] = (
    (
        "ec2:DeleteFlowLogs", "ec2:DeleteInternetGateway", "ec2:DeleteNatGateway",
        "ec2:DeleteRoute", "ec2:DeleteRouteTable", "ec2:DeleteSubnet", "ec2:DeleteVpc",
        "ec2:DeleteVpcEndpoints", "ec2:DetachInternetGateway", "ec2:DisassociateRouteTable",
        "ec2:ModifySubnetAttribute", "ec2:ModifyVpcAttribute", "ec2:ModifyVpcEndpoint",
        "ec2:ReleaseAddress", "ec2:ReplaceRoute", "ec2:ReplaceRouteTableAssociation",
    ),
    {
        "elastic-ip/*": "AWS::EC2::EIP", "internet-gateway/*": "AWS::EC2::InternetGateway",
        "natgateway/*": "AWS::EC2::NatGateway", "route-table/*": "AWS::EC2::RouteTable",
        "security-group/*": "AWS::EC2::SecurityGroup", "subnet/*": "AWS::EC2::Subnet",
        "vpc/*": "AWS::EC2::VPC", "vpc-endpoint/*": "AWS::EC2::VPCEndpoint",
        "vpc-flow-log/*": "AWS::EC2::FlowLog",
    },
)  # fmt: skip
