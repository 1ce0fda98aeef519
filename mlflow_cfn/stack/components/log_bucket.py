"""The log bucket: S3 server access logs of the artifact bucket and load balancer access logs,
kept ``LogRetentionDays``. SSE-S3, because load balancers cannot deliver to SSE-KMS buckets; its
policy admits the region's load balancer log-delivery principal and TLS only."""

from __future__ import annotations

from dataclasses import dataclass

from awacs.aws import Principal
from troposphere import Equals, FindInMap, GetAtt, If, Parameter, Ref, Sub
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    Bucket,
    BucketEncryption,
    BucketPolicy,
    LifecycleConfiguration,
    LifecycleRule,
    NoncurrentVersionExpiration,
    OwnershipControls,
    OwnershipControlsRule,
    PublicAccessBlockConfiguration,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
    VersioningConfiguration,
)

from mlflow_cfn.stack import policies
from mlflow_cfn.stack.components.retention import KEEP
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.interface import GROUP_LOGGING
from mlflow_cfn.stack.logic import any_of, checkov_skips
from mlflow_cfn.stack.parameters import ParameterSpec

LOG_RETENTION_DAYS = "LogRetentionDays"
USE_ELB_LOG_DELIVERY_ACCOUNT = "UseElbLogDeliveryAccount"
MAP_ELB_LOG_DELIVERY = "ElbLogDeliveryAccounts"
LOG_BUCKET = "LogBucket"
LOG_BUCKET_POLICY = "LogBucketPolicy"

ALB_LOG_PREFIX = "alb/"
S3_ACCESS_LOG_PREFIX = "s3-access-logs/"
LOG_RETENTION_VALUES = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip

#: Regions whose load balancers deliver access logs as an ELB-owned account (regions opened
#: later use the logdelivery.elasticloadbalancing.amazonaws.com service principal instead).
#: Source: Elastic Load Balancing user guide, "Enable access logs", bucket policy section.
ELB_LOG_DELIVERY_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580",
    "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
}


@dataclass(frozen=True)
class Logs:
    """The log bucket and how long logs are kept (the server's log group keeps them as long)."""

    bucket: Bucket
    retention_days: Parameter


def _log_retention_spec() -> ParameterSpec:
    return ParameterSpec(
        LOG_RETENTION_DAYS,
        "Number",
        "Days the server logs (CloudWatch) and access logs (S3) are kept.",
        "Log retention (days)",
        GROUP_LOGGING,
        default=365,
        allowed_values=LOG_RETENTION_VALUES,
        constraint_description=(
            f"{LOG_RETENTION_DAYS} must be one of CloudWatch's retention periods: "
            f"{', '.join(map(str, LOG_RETENTION_VALUES))}."
        ),
    )


def private_bucket_settings(deletion_policy: str = KEEP) -> dict:
    """Settings every bucket of this stack shares: no public access, no ACLs, versioned."""
    return {
        "PublicAccessBlockConfiguration": PublicAccessBlockConfiguration(
            BlockPublicAcls=True,
            BlockPublicPolicy=True,
            IgnorePublicAcls=True,
            RestrictPublicBuckets=True,
        ),
        "OwnershipControls": OwnershipControls(
            Rules=[OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
        ),
        "VersioningConfiguration": VersioningConfiguration(Status="Enabled"),
        "DeletionPolicy": deletion_policy,
        "UpdateReplacePolicy": "Retain",
    }


def encryption(default: ServerSideEncryptionByDefault, **rule) -> BucketEncryption:
    return BucketEncryption(
        ServerSideEncryptionConfiguration=[
            ServerSideEncryptionRule(ServerSideEncryptionByDefault=default, **rule)
        ]
    )


def _log_bucket(ctx: Context, retention_days: Parameter) -> Bucket:
    return ctx.template.add_resource(
        Bucket(
            LOG_BUCKET,
            BucketEncryption=encryption(ServerSideEncryptionByDefault(SSEAlgorithm="AES256")),
            LifecycleConfiguration=LifecycleConfiguration(
                Rules=[
                    LifecycleRule(
                        Id="ExpireLogs",
                        Status="Enabled",
                        ExpirationInDays=Ref(retention_days),
                        NoncurrentVersionExpiration=NoncurrentVersionExpiration(NoncurrentDays=30),
                        AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(
                            DaysAfterInitiation=7
                        ),
                    )
                ]
            ),
            Metadata=checkov_skips(
                {
                    "CKV_AWS_18": "This is the access-log bucket; logging it to itself would "
                    "log its own log deliveries in a loop.",
                    "CKV_AWS_145": "Load balancer access logs can only be delivered to SSE-S3 "
                    "buckets, not SSE-KMS.",
                }
            ),
            **private_bucket_settings(),
        )
    )


def add_log_bucket(ctx: Context) -> Logs:
    """Add LogRetentionDays, the region's log-delivery Mapping and Condition, and the bucket."""
    retention_days = ctx.parameter(_log_retention_spec())
    ctx.condition(
        USE_ELB_LOG_DELIVERY_ACCOUNT,
        any_of([Equals(Ref("AWS::Region"), r) for r in ELB_LOG_DELIVERY_ACCOUNTS]),
    )
    ctx.template.add_mapping(
        MAP_ELB_LOG_DELIVERY,
        {region: {"AccountId": acct} for region, acct in ELB_LOG_DELIVERY_ACCOUNTS.items()},
    )
    return Logs(bucket=_log_bucket(ctx, retention_days), retention_days=retention_days)


def add_log_bucket_policy(
    ctx: Context, logs: Logs, artifact_bucket: Bucket, create_artifact_bucket: str
) -> BucketPolicy:
    """TLS only; S3 server access logs of the artifact bucket; load balancer access logs from
    the region's ELB account, or the log-delivery service in newer regions."""
    log_arn = GetAtt(logs.bucket, "Arn")
    elb_account = Principal(
        "AWS",
        Sub(
            "arn:${AWS::Partition}:iam::${Account}:root",
            Account=FindInMap(MAP_ELB_LOG_DELIVERY, Ref("AWS::Region"), "AccountId"),
        ),
    )
    elb_service = Principal("Service", "logdelivery.elasticloadbalancing.amazonaws.com")
    return ctx.template.add_resource(
        BucketPolicy(
            LOG_BUCKET_POLICY,
            Bucket=Ref(logs.bucket),
            # A plain document (not awacs.PolicyDocument): one statement is chosen by Fn::If.
            PolicyDocument={
                "Version": policies.VERSION,
                "Statement": [
                    policies.tls_only(log_arn),
                    If(
                        create_artifact_bucket,
                        policies.s3_access_log_delivery(
                            log_arn, GetAtt(artifact_bucket, "Arn"), S3_ACCESS_LOG_PREFIX
                        ),
                        policies.NO_VALUE,
                    ),
                    If(
                        USE_ELB_LOG_DELIVERY_ACCOUNT,
                        policies.alb_log_delivery(log_arn, ALB_LOG_PREFIX, elb_account),
                        policies.alb_log_delivery(log_arn, ALB_LOG_PREFIX, elb_service),
                    ),
                ],
            },
        )
    )
