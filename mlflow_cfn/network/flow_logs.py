"""VPC flow logs of every accepted and rejected connection, to a CloudWatch Logs group encrypted
with the stack's own customer-managed key (rotation on, retained), kept FlowLogRetentionDays.

The key policy lets CloudWatch Logs use the key only for this account's log groups in this region
(the ``kms:EncryptionContext:aws:logs:arn`` condition; CloudWatch Logs User Guide, "Encrypt log
data in CloudWatch Logs using AWS KMS"). The role VPC Flow Logs assumes may write only to this
log group (Amazon VPC User Guide, "IAM role for publishing flow logs to CloudWatch Logs").
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs.aws import Allow, Statement
from troposphere import GetAtt, Ref, Sub, Tags
from troposphere.ec2 import FlowLog
from troposphere.kms import Key
from troposphere.logs import LogGroup

from mlflow_cfn.network.endpoints import action
from mlflow_cfn.network.inputs import NetworkInputs
from mlflow_cfn.network.layout import Layout
from mlflow_cfn.stack import policies
from mlflow_cfn.stack.components.keys import customer_managed_key
from mlflow_cfn.stack.components.retention import KEEP_EXCEPT_ON_CREATE
from mlflow_cfn.stack.context import Context

LOGS_KEY = "LogsKey"
LOGS_KEY_ALIAS = "LogsKeyAlias"
FLOW_LOG_GROUP = "FlowLogGroup"
FLOW_LOG_ROLE = "FlowLogRole"
FLOW_LOG = "FlowLog"


@dataclass(frozen=True)
class FlowLogs:
    """The key of the network's logs (flow logs and the default security group's function) and
    the flow log group."""

    key: Key
    group: LogGroup


def encrypted_log_group(ctx: Context, logical_id: str, key: Key, retention: object) -> LogGroup:
    """A log group encrypted with ``key``, kept ``retention`` days, retained on delete."""
    return ctx.template.add_resource(
        LogGroup(
            logical_id,
            KmsKeyId=GetAtt(key, "Arn"),
            RetentionInDays=retention,
            DeletionPolicy=KEEP_EXCEPT_ON_CREATE,
            UpdateReplacePolicy="Retain",
        )
    )


def _role_policy(group: LogGroup) -> dict:
    """Write this log group's streams; find log groups (the service checks the group exists)."""
    return policies.document(
        Statement(
            Sid="WriteTheFlowLogGroup",
            Effect=Allow,
            Action=[action(a) for a in
                    ("logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents")],
            Resource=[GetAtt(group, "Arn")],
        ),
        Statement(
            Sid="FindTheFlowLogGroup",
            Effect=Allow,
            Action=[action("logs:DescribeLogGroups")],
            Resource=[Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
                          ":log-group:*")],
        ),
    )  # fmt: skip


def add_flow_logs(ctx: Context, *, inputs: NetworkInputs, layout: Layout) -> FlowLogs:
    """The logs key, the flow log group, the role VPC Flow Logs delivers with, the flow log."""
    key = customer_managed_key(
        ctx, LOGS_KEY, LOGS_KEY_ALIAS, "network logs",
        policies.key_policy(policies.logs_key_statement()),
    )  # fmt: skip
    group = encrypted_log_group(ctx, FLOW_LOG_GROUP, key, Ref(inputs.flow_log_retention_days))
    role = ctx.template.add_resource(
        policies.service_role(
            FLOW_LOG_ROLE,
            "Lets VPC Flow Logs write the VPC's flow logs to their log group",
            "vpc-flow-logs.amazonaws.com",
            "deliver-flow-logs",
            _role_policy(group),
        )
    )
    ctx.template.add_resource(
        FlowLog(
            FLOW_LOG,
            ResourceId=Ref(layout.vpc),
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="cloud-watch-logs",
            LogGroupName=Ref(group),
            DeliverLogsPermissionArn=GetAtt(role, "Arn"),
            MaxAggregationInterval=600,
            Tags=Tags(Name=Sub("${AWS::StackName}-vpc")),
        )
    )
    return FlowLogs(key, group)
