"""S3: the artifact bucket (SSE-KMS with its own key, versioned, TLS-only) or the user's own
bucket, and the log bucket for S3 server access logs and load balancer access logs (SSE-S3: load
balancers cannot write to SSE-KMS buckets). Also what the server may do with artifacts."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import AWSHelperFn, GetAtt, If, Output, Parameter, Ref, Select, Split, Sub
from troposphere.kms import Key
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    Bucket,
    BucketPolicy,
    LifecycleConfiguration,
    LifecycleRule,
    LoggingConfiguration,
    NoncurrentVersionExpiration,
    ServerSideEncryptionByDefault,
)

from mlflow_cfn.stack import policies
from mlflow_cfn.stack.components.keys import customer_managed_key
from mlflow_cfn.stack.components.log_bucket import (
    S3_ACCESS_LOG_PREFIX,
    Logs,
    add_log_bucket_policy,
    encryption,
    private_bucket_settings,
)
from mlflow_cfn.stack.components.retention import KEEP_EXCEPT_ON_CREATE
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.interface import GROUP_ARTIFACTS
from mlflow_cfn.stack.logic import assertion, empty, given, is_value
from mlflow_cfn.stack.parameters import (
    BUCKET,
    BUCKET_ARN,
    KMS_KEY_ARN,
    ParameterSpec,
    boolean,
    optional,
)

# Parameters
ARTIFACT_PREFIX = "ArtifactPrefix"
ARTIFACT_PREFIX_PER_STACK = "ArtifactPrefixPerStack"
ARTIFACT_NONCURRENT_VERSION_DAYS = "ArtifactNoncurrentVersionDays"
ARTIFACT_BUCKET_NAME = "ArtifactBucketName"
ARTIFACT_BUCKET_KMS_KEY_ARN = "ArtifactBucketKmsKeyArn"
ARTIFACT_READ_ONLY_BUCKET_ARNS = "ArtifactReadOnlyBucketArns"
ARTIFACT_DIRECT_MULTIPART_UPLOAD = "ArtifactDirectMultipartUpload"
# Conditions, Rules, Mappings
CREATE_ARTIFACT_BUCKET = "CreateArtifactBucket"
USE_ARTIFACT_BUCKET_KMS_KEY = "UseArtifactBucketKmsKey"
HAS_READ_ONLY_BUCKETS = "HasReadOnlyArtifactBuckets"
ENABLE_DIRECT_MULTIPART_UPLOAD = "EnableArtifactDirectMultipartUpload"
USE_ARTIFACT_PREFIX_PER_STACK = "UseArtifactPrefixPerStack"
RULE_ARTIFACT_KEY_NEEDS_OWN_BUCKET = "ArtifactKmsKeyNeedsOwnBucket"
# Resources and Outputs
ARTIFACT_KEY = "ArtifactKey"
ARTIFACT_KEY_ALIAS = "ArtifactKeyAlias"
ARTIFACT_BUCKET = "ArtifactBucket"
ARTIFACT_BUCKET_POLICY = "ArtifactBucketPolicy"
OUT_ARTIFACT_BUCKET_NAME = "ArtifactBucketName"
OUT_ARTIFACT_ROOT = "ArtifactRoot"


@dataclass(frozen=True)
class Storage:
    """The buckets this stack made, where artifacts go (its bucket or the user's), and what the
    MLflow server may do with them."""

    log_bucket: Bucket
    log_bucket_policy: BucketPolicy
    artifact_bucket: Bucket  # exists only under CreateArtifactBucket
    artifact_bucket_name: If
    artifact_bucket_arn: If
    #: Where in the bucket: ArtifactPrefix, under the stack's UUID with ArtifactPrefixPerStack.
    artifact_prefix: AWSHelperFn
    log_retention_days: Parameter
    artifact_access: dict  # the task role's policy document


@dataclass(frozen=True)
class _Inputs:
    prefix: Parameter
    prefix_per_stack: Parameter
    noncurrent_days: Parameter
    bucket_name: Parameter
    bucket_key_arn: Parameter
    read_only_arns: Parameter
    direct_multipart_upload: Parameter


def _declare_inputs(ctx: Context) -> _Inputs:
    """The artifact store's Parameters, Conditions and Rules."""
    inputs = _Inputs(*ctx.parameters(*_artifact_specs()))
    ctx.condition(CREATE_ARTIFACT_BUCKET, empty(inputs.bucket_name))
    ctx.condition(USE_ARTIFACT_BUCKET_KMS_KEY, given(inputs.bucket_key_arn))
    ctx.condition(HAS_READ_ONLY_BUCKETS, given(inputs.read_only_arns))
    ctx.condition(USE_ARTIFACT_PREFIX_PER_STACK, is_value(inputs.prefix_per_stack, "true"))
    ctx.condition(ENABLE_DIRECT_MULTIPART_UPLOAD, is_value(inputs.direct_multipart_upload, "true"))
    ctx.rule(
        RULE_ARTIFACT_KEY_NEEDS_OWN_BUCKET,
        [
            assertion(
                given(inputs.bucket_name),
                f"{ARTIFACT_BUCKET_KMS_KEY_ARN} is the key of your own bucket: set "
                f"{ARTIFACT_BUCKET_NAME} too (a created bucket uses the stack's key).",
            )
        ],
        when=given(inputs.bucket_key_arn),
    )
    return inputs


def _artifact_specs() -> list[ParameterSpec]:
    return [
        ParameterSpec(
            ARTIFACT_PREFIX,
            "String",
            "Key prefix in the artifact bucket under which the server stores artifacts.",
            "Artifact prefix",
            GROUP_ARTIFACTS,
            default="artifacts",
            allowed_pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$",
            max_length=200,
            constraint_description=(
                f"{ARTIFACT_PREFIX} must be path segments of letters, digits, '.', '_' or "
                "'-' separated by single '/', without a leading or trailing '/' (e.g. "
                "teams/ml/artifacts)."
            ),
        ),
        boolean(
            ARTIFACT_PREFIX_PER_STACK,
            "true: the server stores artifacts under <stack UUID>/<ArtifactPrefix> (the last "
            "part of the stack's id, which CloudFormation makes unique), so stacks sharing a "
            "bucket never reach each other's artifacts, whatever prefix each chooses; a "
            "Service Catalog portfolio requires it with ArtifactBucketName. Choose it at launch: "
            "changing it later moves where new artifacts go, and the earlier ones stay behind.",
            "Artifact prefix under the stack's own UUID",
            GROUP_ARTIFACTS,
            "false",
        ),
        ParameterSpec(
            ARTIFACT_NONCURRENT_VERSION_DAYS,
            "Number",
            "Days an overwritten or deleted artifact stays recoverable as a noncurrent version.",
            "Keep noncurrent artifact versions (days)",
            GROUP_ARTIFACTS,
            default=30,
            min_value=1,
            max_value=3650,
            constraint_description=(
                f"{ARTIFACT_NONCURRENT_VERSION_DAYS} must be from 1 to 3650 days."
            ),
        ),
        *_own_bucket_specs(),
        boolean(
            ARTIFACT_DIRECT_MULTIPART_UPLOAD,
            "true: clients upload large artifacts (MLflow 3.17 clients: 500 MiB and more, unless "
            "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=false) in parts straight to S3 through URLs "
            "the server signs; they need a route to S3. false: the task role refuses writes "
            "through signed URLs, so every upload streams through the server; clients must set "
            "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=false.",
            "Direct multipart uploads to S3",
            GROUP_ARTIFACTS,
            "true",
        ),
    ]


def _own_bucket_specs() -> list[ParameterSpec]:
    return [
        optional(
            ARTIFACT_BUCKET_NAME,
            "Your own S3 bucket for artifacts (under ArtifactPrefix). Empty: the stack creates "
            "an encrypted, versioned bucket. With your bucket the task may read and write only "
            "under the prefix.",
            "Own artifact bucket name",
            GROUP_ARTIFACTS,
            BUCKET,
            "my-team-mlflow-artifacts",
        ),
        optional(
            ARTIFACT_BUCKET_KMS_KEY_ARN,
            "KMS key ARN your bucket encrypts with (SSE-KMS); empty for SSE-S3. The task may use "
            "only this key, and only through S3.",
            "Own artifact bucket KMS key ARN",
            GROUP_ARTIFACTS,
            KMS_KEY_ARN,
            "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        ),
        optional(
            ARTIFACT_READ_ONLY_BUCKET_ARNS,
            "Comma-separated ARNs of more buckets the server may read (never write), e.g. "
            "datasets referenced by runs. Their objects must use SSE-S3, or their KMS key "
            "policy must allow the task role.",
            "Read-only bucket ARNs",
            GROUP_ARTIFACTS,
            f"{BUCKET_ARN}(,{BUCKET_ARN}){{0,9}}",
            "arn:aws:s3:::datasets,arn:aws:s3:::models (up to 10, no spaces)",
        ),
    ]


def _artifact_bucket(ctx: Context, inputs: _Inputs, key: Key, log_bucket: Bucket) -> Bucket:
    return ctx.template.add_resource(
        Bucket(
            ARTIFACT_BUCKET,
            Condition=CREATE_ARTIFACT_BUCKET,
            BucketEncryption=encryption(
                ServerSideEncryptionByDefault(
                    SSEAlgorithm="aws:kms", KMSMasterKeyID=GetAtt(key, "Arn")
                ),
                BucketKeyEnabled=True,
            ),
            LifecycleConfiguration=LifecycleConfiguration(
                Rules=[
                    LifecycleRule(
                        Id="ExpireNoncurrentVersions",
                        Status="Enabled",
                        NoncurrentVersionExpiration=NoncurrentVersionExpiration(
                            NoncurrentDays=Ref(inputs.noncurrent_days)
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
            **private_bucket_settings(KEEP_EXCEPT_ON_CREATE),
        )
    )


def _artifact_prefix(inputs: _Inputs) -> If:
    """ArtifactPrefix, under the stack's UUID (AWS::StackId is arn:...:stack/<name>/<UUID>) with
    ArtifactPrefixPerStack: two stacks' prefixes then differ in their first segment, so neither
    is inside the other."""
    uuid = Select(2, Split("/", Ref("AWS::StackId")))
    return If(
        USE_ARTIFACT_PREFIX_PER_STACK,
        Sub("${Uuid}/${Prefix}", Uuid=uuid, Prefix=Ref(inputs.prefix)),
        Ref(inputs.prefix),
    )


def _artifact_outputs(ctx: Context, bucket_name: If, prefix: AWSHelperFn) -> None:
    ctx.template.add_output(
        Output(
            OUT_ARTIFACT_BUCKET_NAME,
            Description="S3 bucket holding the artifacts",
            Value=bucket_name,
        )
    )
    ctx.template.add_output(
        Output(
            OUT_ARTIFACT_ROOT,
            Description="Where the server stores artifacts (clients use the proxied "
            "mlflow-artifacts:/ URIs and need no AWS credentials)",
            Value=Sub("s3://${Bucket}/${Prefix}", Bucket=bucket_name, Prefix=prefix),
        )
    )


def _artifact_access(inputs: _Inputs, bucket_arn: If, prefix: If, key: Key) -> dict:
    """Read/write only under the prefix, with the stack's key or the bucket's own."""
    return policies.artifact_access(
        bucket_arn,
        prefix,
        key_statements=[
            ("EncryptArtifactsWithTheStacksKey", CREATE_ARTIFACT_BUCKET, GetAtt(key, "Arn")),
            (
                "EncryptArtifactsWithTheBucketsKey",
                USE_ARTIFACT_BUCKET_KMS_KEY,
                Ref(inputs.bucket_key_arn),
            ),
        ],
        read_only_buckets=Ref(inputs.read_only_arns),
        read_only_condition=HAS_READ_ONLY_BUCKETS,
        signed_uploads_condition=ENABLE_DIRECT_MULTIPART_UPLOAD,
    )


def add_storage(ctx: Context, *, logs: Logs) -> Storage:
    """Add the artifact key, the log bucket, the artifact bucket (unless the user gives theirs),
    their policies and outputs."""
    inputs = _declare_inputs(ctx)
    # Only for a bucket the stack creates; the user's own bucket has its own key (or none).
    key = customer_managed_key(
        ctx,
        ARTIFACT_KEY,
        ARTIFACT_KEY_ALIAS,
        "artifacts",
        policies.key_policy(),
        CREATE_ARTIFACT_BUCKET,
    )
    artifact_bucket = _artifact_bucket(ctx, inputs, key, logs.bucket)
    log_bucket_policy = add_log_bucket_policy(ctx, logs, artifact_bucket, CREATE_ARTIFACT_BUCKET)
    artifact_arn = GetAtt(artifact_bucket, "Arn")
    ctx.template.add_resource(
        BucketPolicy(
            ARTIFACT_BUCKET_POLICY,
            Condition=CREATE_ARTIFACT_BUCKET,
            Bucket=Ref(artifact_bucket),
            PolicyDocument=policies.document(policies.tls_only(artifact_arn)),
        )
    )
    bucket_name = If(CREATE_ARTIFACT_BUCKET, Ref(artifact_bucket), Ref(inputs.bucket_name))
    bucket_arn = If(
        CREATE_ARTIFACT_BUCKET,
        artifact_arn,
        Sub(f"arn:${{AWS::Partition}}:s3:::${{{ARTIFACT_BUCKET_NAME}}}"),
    )
    prefix = _artifact_prefix(inputs)
    _artifact_outputs(ctx, bucket_name, prefix)
    return Storage(
        log_bucket=logs.bucket,
        log_bucket_policy=log_bucket_policy,
        artifact_bucket=artifact_bucket,
        artifact_bucket_name=bucket_name,
        artifact_bucket_arn=bucket_arn,
        artifact_prefix=prefix,
        log_retention_days=logs.retention_days,
        artifact_access=_artifact_access(inputs, bucket_arn, prefix, key),
    )
