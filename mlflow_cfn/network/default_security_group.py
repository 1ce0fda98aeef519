"""The VPC's default security group left without rules: a custom resource whose Lambda function
(`mlflow_cfn/network/functions/restrict_default_security_group.py`, inline) revokes the two rules
AWS creates, as AWS CDK's ``restrictDefaultSecurityGroup`` does. CloudFormation has no property for
it; checkov and cfn-lint check nothing about it, so tests/network assert the resources.

The function's role may revoke rules of that one group only and write its own log group
(encrypted with the network's logs key). The function runs outside the VPC: it needs the EC2 API,
which NetworkEgress=endpoints gives the VPC no route to, and nothing inside the VPC.
"""

from __future__ import annotations

from importlib import resources

from awacs.aws import Allow, PolicyDocument, Principal, Statement
from awacs.sts import AssumeRole
from troposphere import GetAtt, Ref, Sub
from troposphere.awslambda import Code, Function, LoggingConfig
from troposphere.cloudformation import CustomResource
from troposphere.iam import Policy, Role
from troposphere.logs import LogGroup

from mlflow_cfn.network.endpoints import action
from mlflow_cfn.network.flow_logs import FlowLogs, encrypted_log_group
from mlflow_cfn.network.inputs import NetworkInputs
from mlflow_cfn.network.layout import Layout
from mlflow_cfn.stack import policies
from mlflow_cfn.stack.components.permissions_boundary import PERMISSIONS_BOUNDARY
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.logic import checkov_skips

ROLE = "DefaultSecurityGroupRestrictionRole"
LOG_GROUP = "DefaultSecurityGroupRestrictionLogGroup"
FUNCTION = "DefaultSecurityGroupRestrictionFunction"
RESTRICTION = "DefaultSecurityGroupRestriction"
CUSTOM_TYPE = "Custom::RestrictDefaultSecurityGroup"
#: A Lambda runtime supported until 2029 (AWS Lambda Developer Guide, "Lambda runtimes").
RUNTIME = "python3.13"

_SKIPS = {
    "CKV_AWS_115": "Runs once per stack create or update; reserved concurrency would take from "
    "the account's unreserved pool (at least 10 must stay unreserved, and new accounts may "
    "have only 10) for a function that is never busy",
    "CKV_AWS_116": "Invoked synchronously by CloudFormation, which reports a failure on the "
    "stack itself; there is no asynchronous event a dead-letter queue could keep",
    "CKV_AWS_117": "It calls the EC2 API and nothing inside the VPC; in the VPC it would need "
    "the NAT gateway or an ec2 interface endpoint that NetworkEgress=endpoints does not create",
}


class RestrictDefaultSecurityGroup(CustomResource):
    """The custom resource, by its own type name (shown in the stack's events)."""

    resource_type = CUSTOM_TYPE


def handler_source() -> str:
    """The function's code (Lambda's inline ``ZipFile``, at most 4,096 bytes)."""
    package = resources.files("mlflow_cfn.network.functions")
    return package.joinpath("restrict_default_security_group.py").read_text()


def _role(ctx: Context, layout: Layout, log_group: LogGroup) -> Role:
    """Revoke rules of the VPC's default group only; write the function's own logs. Lambda's
    trust has no condition: the Lambda Developer Guide's execution role trust names none that
    Lambda sends when it assumes the role (SECURITY.md: a key not sent locks the role out)."""
    group_arn = Sub(
        "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:security-group/${Group}",
        Group=GetAtt(layout.vpc, "DefaultSecurityGroup"),
    )
    policy = policies.document(
        Statement(Sid="RevokeTheDefaultGroupsRules", Effect=Allow,
                  Action=[action("ec2:RevokeSecurityGroupEgress"),
                          action("ec2:RevokeSecurityGroupIngress")],
                  Resource=[group_arn]),
        Statement(Sid="WriteTheFunctionsLogs", Effect=Allow,
                  Action=[action("logs:CreateLogStream"), action("logs:PutLogEvents")],
                  Resource=[GetAtt(log_group, "Arn")]),
    )  # fmt: skip
    trust = PolicyDocument(
        Version=policies.VERSION,
        Statement=[Statement(Effect=Allow, Principal=Principal("Service", "lambda.amazonaws.com"),
                             Action=[AssumeRole])],
    )  # fmt: skip
    return ctx.template.add_resource(
        Role(
            ROLE,
            Description="Lets the function remove the rules of the VPC's default security group",
            PermissionsBoundary=PERMISSIONS_BOUNDARY,
            AssumeRolePolicyDocument=trust,
            Policies=[Policy(PolicyName="restrict-default-security-group", PolicyDocument=policy)],
        )
    )


def add_default_security_group_restriction(
    ctx: Context, *, inputs: NetworkInputs, layout: Layout, logs: FlowLogs
) -> RestrictDefaultSecurityGroup:
    """The function, its role and log group, and the custom resource that runs it."""
    log_group = encrypted_log_group(ctx, LOG_GROUP, logs.key, Ref(inputs.flow_log_retention_days))
    role = _role(ctx, layout, log_group)
    function = ctx.template.add_resource(
        Function(
            FUNCTION,
            Description="Removes the rules AWS gives the VPC's default security group",
            Runtime=RUNTIME,
            Handler="index.handler",
            Role=GetAtt(role, "Arn"),
            Timeout=60,
            MemorySize=128,
            Code=Code(ZipFile=handler_source()),
            LoggingConfig=LoggingConfig(LogGroup=Ref(log_group)),
            Metadata=checkov_skips(_SKIPS),
        )
    )
    return ctx.template.add_resource(
        RestrictDefaultSecurityGroup(
            RESTRICTION,
            ServiceToken=GetAtt(function, "Arn"),
            DefaultSecurityGroupId=GetAtt(layout.vpc, "DefaultSecurityGroup"),
            AccountId=Ref("AWS::AccountId"),
        )
    )
