"""S3: the artifact bucket (SSE-KMS, versioned, TLS-only) and the log bucket for S3 server access
logs and load balancer access logs (SSE-S3: load balancers cannot write to SSE-KMS buckets)."""

from __future__ import annotations

from dataclasses import dataclass

from awacs.aws import Principal
from troposphere import FindInMap, GetAtt, If, Output, Ref, Sub
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    Bucket,
    BucketEncryption,
    BucketPolicy,
    LifecycleConfiguration,
    LifecycleRule,
    LoggingConfiguration,
    NoncurrentVersionExpiration,
    OwnershipControls,
    OwnershipControlsRule,
    PublicAccessBlockConfiguration,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
    VersioningConfiguration,
)

from mlflow_cfn.stack import names, policies
from mlflow_cfn.stack.components.keys import Keys
from mlflow_cfn.stack.context import Context

ALB_LOG_PREFIX = "alb/"
S3_ACCESS_LOG_PREFIX = "s3-access-logs/"


@dataclass(frozen=True)
class Storage:
    """The buckets this stack made and where artifacts go (its bucket or the user's)."""

    log_bucket: Bucket
    log_bucket_policy: BucketPolicy
    artifact_bucket: Bucket  # exists only under CreateArtifactBucket
    artifact_bucket_name: If
    artifact_bucket_arn: If


def _private_bucket_settings() -> dict:
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
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
    }


def add_storage(ctx: Context, *, keys: Keys) -> Storage:
    """Add the log bucket, the artifact bucket and their policies."""
    t = ctx.template
    log_bucket = t.add_resource(
        Bucket(
            names.LOG_BUCKET,
            BucketEncryption=BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    ServerSideEncryptionRule(
                        ServerSideEncryptionByDefault=ServerSideEncryptionByDefault(
                            SSEAlgorithm="AES256"
                        )
                    )
                ]
            ),
            LifecycleConfiguration=LifecycleConfiguration(
                Rules=[
                    LifecycleRule(
                        Id="ExpireLogs",
                        Status="Enabled",
                        ExpirationInDays=ctx.ref(names.LOG_RETENTION_DAYS),
                        NoncurrentVersionExpiration=NoncurrentVersionExpiration(NoncurrentDays=30),
                        AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(
                            DaysAfterInitiation=7
                        ),
                    )
                ]
            ),
            Metadata={
                "checkov": {
                    "skip": [
                        {
                            "id": "CKV_AWS_18",
                            "comment": "This is the access-log bucket; logging it to itself "
                            "would log its own log deliveries in a loop.",
                        },
                        {
                            "id": "CKV_AWS_145",
                            "comment": "Load balancer access logs can only be delivered to "
                            "SSE-S3 buckets, not SSE-KMS.",
                        },
                    ]
                }
            },
            **_private_bucket_settings(),
        )
    )
    artifact_bucket = t.add_resource(
        Bucket(
            names.ARTIFACT_BUCKET,
            Condition=names.CREATE_ARTIFACT_BUCKET,
            BucketEncryption=BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    ServerSideEncryptionRule(
                        BucketKeyEnabled=True,
                        ServerSideEncryptionByDefault=ServerSideEncryptionByDefault(
                            SSEAlgorithm="aws:kms",
                            KMSMasterKeyID=GetAtt(keys.artifacts, "Arn"),
                        ),
                    )
                ]
            ),
            LifecycleConfiguration=LifecycleConfiguration(
                Rules=[
                    LifecycleRule(
                        Id="ExpireNoncurrentVersions",
                        Status="Enabled",
                        NoncurrentVersionExpiration=NoncurrentVersionExpiration(
                            NoncurrentDays=ctx.ref(names.ARTIFACT_NONCURRENT_VERSION_DAYS)
                        ),
                        AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(
                            DaysAfterInitiation=7
                        ),
                    ),
                    LifecycleRule(
                        Id="RemoveExpiredDeleteMarkers",
                        Status="Enabled",
                        ExpiredObjectDeleteMarker=True,
                    ),
                ]
            ),
            LoggingConfiguration=LoggingConfiguration(
                DestinationBucketName=Ref(log_bucket),
                LogFilePrefix=f"{S3_ACCESS_LOG_PREFIX}artifacts/",
            ),
            **_private_bucket_settings(),
        )
    )
    log_arn = GetAtt(log_bucket, "Arn")
    artifact_arn = GetAtt(artifact_bucket, "Arn")
    elb_account = policies.alb_log_delivery(
        log_arn,
        ALB_LOG_PREFIX,
        Principal(
            "AWS",
            Sub(
                "arn:${AWS::Partition}:iam::${Account}:root",
                Account=FindInMap(names.MAP_ELB_LOG_DELIVERY, Ref("AWS::Region"), "AccountId"),
            ),
        ),
    )
    elb_service = policies.alb_log_delivery(
        log_arn,
        ALB_LOG_PREFIX,
        Principal("Service", "logdelivery.elasticloadbalancing.amazonaws.com"),
    )
    log_bucket_policy = t.add_resource(
        BucketPolicy(
            names.LOG_BUCKET_POLICY,
            Bucket=Ref(log_bucket),
            # A plain document (not awacs.PolicyDocument): one statement is chosen by Fn::If.
            PolicyDocument={
                "Version": policies.VERSION,
                "Statement": [
                    policies.tls_only(log_arn),
                    If(
                        names.CREATE_ARTIFACT_BUCKET,
                        policies.s3_access_log_delivery(
                            log_arn, artifact_arn, S3_ACCESS_LOG_PREFIX
                        ),
                        policies.NO_VALUE,
                    ),
                    If(names.USE_ELB_LOG_DELIVERY_ACCOUNT, elb_account, elb_service),
                ],
            },
        )
    )
    t.add_resource(
        BucketPolicy(
            names.ARTIFACT_BUCKET_POLICY,
            Condition=names.CREATE_ARTIFACT_BUCKET,
            Bucket=Ref(artifact_bucket),
            PolicyDocument=policies.document(policies.tls_only(artifact_arn)),
        )
    )
    bucket_name = If(
        names.CREATE_ARTIFACT_BUCKET, Ref(artifact_bucket), ctx.ref(names.ARTIFACT_BUCKET_NAME)
    )
    t.add_output(
        Output(
            names.OUT_ARTIFACT_BUCKET_NAME,
            Description="S3 bucket holding the artifacts",
            Value=bucket_name,
        )
    )
    t.add_output(
        Output(
            names.OUT_ARTIFACT_ROOT,
            Description="Where the server stores artifacts (clients use the proxied "
            "mlflow-artifacts:/ URIs and need no AWS credentials)",
            Value=Sub(
                "s3://${Bucket}/${Prefix}",
                Bucket=bucket_name,
                Prefix=ctx.ref(names.ARTIFACT_PREFIX),
            ),
        )
    )
    return Storage(
        log_bucket=log_bucket,
        log_bucket_policy=log_bucket_policy,
        artifact_bucket=artifact_bucket,
        artifact_bucket_name=bucket_name,
        artifact_bucket_arn=If(
            names.CREATE_ARTIFACT_BUCKET,
            artifact_arn,
            Sub(f"arn:${{AWS::Partition}}:s3:::${{{names.ARTIFACT_BUCKET_NAME}}}"),
        ),
    )
