"""Custom resource handler (Lambda, inline): remove the two rules AWS gives every VPC's default
security group, so nothing placed in it by mistake can talk to anything (Security Hub EC2.2,
"VPC default security groups should not allow inbound or outbound traffic").

CloudFormation cannot express this: AWS::EC2::VPC has no property for its default group's rules
and a template cannot revoke rules it did not create. AWS CDK's ``restrictDefaultSecurityGroup``
does the same with a Lambda-backed custom resource. The rules removed are the defaults the Amazon
VPC User Guide lists ("Default security groups for your VPCs"): inbound all traffic from the group
itself, outbound all IPv4 traffic (the VPC has no IPv6 block, so no IPv6 rule). Deleting the
custom resource changes nothing: the rules stay removed until the VPC (and its default group) is
deleted. Embedded in the template as ``ZipFile`` code, where Lambda provides ``cfnresponse``.
"""

import boto3
import cfnresponse

#: The error EC2 answers when the rule is already gone (a retried or updated request).
NOT_FOUND = "InvalidPermission.NotFound"


def default_rules(group_id, account_id):
    """The ingress and egress rules AWS creates in a new VPC's default security group."""
    itself = [{"GroupId": group_id, "UserId": account_id}]
    ingress = [{"IpProtocol": "-1", "UserIdGroupPairs": itself}]
    egress = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    return ingress, egress


def revoke(call, group_id, permissions):
    """Revoke one rule; a rule that is already gone is fine."""
    try:
        call(GroupId=group_id, IpPermissions=permissions)
    except Exception as error:  # botocore's ClientError, without importing botocore
        if getattr(error, "response", {}).get("Error", {}).get("Code") != NOT_FOUND:
            raise


def restrict(ec2, group_id, account_id):
    """Remove both default rules of ``group_id``."""
    ingress, egress = default_rules(group_id, account_id)
    revoke(ec2.revoke_security_group_ingress, group_id, ingress)
    revoke(ec2.revoke_security_group_egress, group_id, egress)


def handler(event, context, ec2=None):
    """Create and Update restrict the group the request names; Delete does nothing."""
    properties = event.get("ResourceProperties", {})
    group_id = properties.get("DefaultSecurityGroupId", "")
    status, reason = cfnresponse.SUCCESS, None
    try:
        if event["RequestType"] in ("Create", "Update"):
            restrict(ec2 or boto3.client("ec2"), group_id, properties["AccountId"])
    except Exception as error:
        status, reason = cfnresponse.FAILED, f"{type(error).__name__}: {error}"
    physical_id = event.get("PhysicalResourceId") or f"restrict-{group_id}"
    cfnresponse.send(event, context, status, {}, physical_id, reason=reason)
