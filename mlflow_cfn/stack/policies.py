"""awacs policy documents: key policies, trust policies, role policies and bucket policies.

Every data action names its resource ARN; the only ``*`` resource is ecr:GetAuthorizationToken,
which AWS defines on no resource.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import awacs.ecr as ecr
import awacs.ecs as ecs
import awacs.kms as kms
import awacs.logs as logs
import awacs.s3 as s3
import awacs.secretsmanager as secretsmanager
import awacs.states as states
import awacs.sts as sts
from awacs.aws import (
    Action,
    Allow,
    ArnLike,
    Bool,
    Condition,
    Deny,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
    StringLike,
)
from troposphere import AWSHelperFn, If, Join, Ref, Split, Sub
from troposphere.iam import Policy, Role

from mlflow_cfn.stack.components.permissions_boundary import PERMISSIONS_BOUNDARY

VERSION = "2012-10-17"
NO_VALUE = Ref("AWS::NoValue")
ACCOUNT_ROOT = Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")


def _via(service: str) -> Condition:
    """Only when the key is used through ``service`` in this region (kms:ViaService)."""
    return Condition(
        StringEquals("kms:ViaService", Sub(f"{service}.${{AWS::Region}}.${{AWS::URLSuffix}}"))
    )


def key_policy(*statements: Statement) -> PolicyDocument:
    """A KMS key policy: the account administers the key through IAM, plus ``statements``."""
    root = Statement(
        Sid="AccountAdministersKeyThroughIam",
        Effect=Allow,
        Principal=Principal("AWS", ACCOUNT_ROOT),
        Action=[kms.Action("*")],
        Resource=["*"],
    )
    return PolicyDocument(Version=VERSION, Statement=[root, *statements])


def logs_key_statement() -> Statement:
    """CloudWatch Logs may use the key, only for this account's log groups in this region.

    Its principal is regional and, unlike most, takes the partition's DNS suffix:
    ``logs.<region>.amazonaws.com``, ``logs.<region>.amazonaws.com.cn`` in China (CloudWatch Logs
    User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS"; the partition exceptions of
    AWS CDK's region-info, which Terraform's aws_service_principal copies), so
    ``${AWS::URLSuffix}``, never a literal."""
    return Statement(
        Sid="CloudWatchLogsEncryptsThisAccountsLogGroups",
        Effect=Allow,
        Principal=Principal("Service", Sub("logs.${AWS::Region}.${AWS::URLSuffix}")),
        Action=[kms.Encrypt, kms.Decrypt, kms.ReEncryptFrom, kms.ReEncryptTo,
                kms.GenerateDataKey, kms.GenerateDataKeyWithoutPlaintext, kms.DescribeKey],
        Resource=["*"],
        Condition=Condition(
            ArnLike(
                "kms:EncryptionContext:aws:logs:arn",
                Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"),
            )
        ),
    )  # fmt: skip


#: What a service needs of a key to publish to a topic encrypted with it (Amazon SNS Developer
#: Guide, "Enable compatibility between event sources from AWS services and encrypted topics").
_PUBLISH_TO_ENCRYPTED_TOPIC = [kms.Decrypt, kms.Action("GenerateDataKey*")]


def alarms_key_statements() -> list[Statement]:
    """CloudWatch alarms of this account and EventBridge rules may publish to a topic encrypted
    with the key.

    CloudWatch: only for this account (``aws:SourceAccount``, step 3 of the SNS guide's section).
    EventBridge: with no condition, because "Adding the aws:SourceAccount, aws:SourceArn, and
    aws:SourceOrgID to a AWS KMS policy is not supported for EventBridge-to-encrypted topics"
    (same section, Important); the topic's policy admits only this stack's rule
    (`mlflow_cfn.stack.components.alarms`), and EventBridge uses the key only to publish there."""
    return [
        Statement(
            Sid="CloudWatchAlarmsOfThisAccountPublishToTheEncryptedTopic",
            Effect=Allow,
            Principal=Principal("Service", "cloudwatch.amazonaws.com"),
            Action=_PUBLISH_TO_ENCRYPTED_TOPIC,
            Resource=["*"],
            Condition=Condition(StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))),
        ),
        Statement(
            Sid="EventBridgePublishesToTheEncryptedTopic",
            Effect=Allow,
            Principal=Principal("Service", "events.amazonaws.com"),
            Action=_PUBLISH_TO_ENCRYPTED_TOPIC,
            Resource=["*"],
        ),
    ]


def assume_role(service: str) -> PolicyDocument:
    """Trust policy for an AWS service, limited to calls on behalf of this account."""
    return PolicyDocument(
        Version=VERSION,
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Service", service),
                Action=[sts.AssumeRole],
                Condition=Condition(StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))),
            )
        ],
    )


def tls_only(bucket_arn: AWSHelperFn) -> Statement:
    """Deny every request to the bucket and its objects that does not use TLS."""
    return Statement(
        Sid="DenyRequestsWithoutTls",
        Effect=Deny,
        Principal=Principal("*"),
        Action=[s3.Action("*")],
        Resource=[bucket_arn, Sub("${Arn}/*", Arn=bucket_arn)],
        Condition=Condition(Bool("aws:SecureTransport", False)),
    )


def s3_access_log_delivery(
    log_bucket_arn: AWSHelperFn, source_bucket_arn: AWSHelperFn, prefix: str
) -> Statement:
    """S3 server access logging may write under ``prefix``, only for ``source_bucket_arn``."""
    return Statement(
        Sid="S3ServerAccessLogDelivery",
        Effect=Allow,
        Principal=Principal("Service", "logging.s3.amazonaws.com"),
        Action=[s3.PutObject],
        Resource=[Sub(f"${{Arn}}/{prefix}*", Arn=log_bucket_arn)],
        Condition=Condition([
            ArnLike("aws:SourceArn", source_bucket_arn),
            StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}")),
        ]),
    )  # fmt: skip


def alb_log_delivery(log_bucket_arn: AWSHelperFn, prefix: str, principal: Principal) -> Statement:
    """The load balancer log-delivery ``principal`` may write this account's logs."""
    return Statement(
        Sid="LoadBalancerAccessLogDelivery",
        Effect=Allow,
        Principal=principal,
        Action=[s3.PutObject],
        Resource=[Sub(f"${{Arn}}/{prefix}AWSLogs/${{AWS::AccountId}}/*", Arn=log_bucket_arn)],
    )


def execution_role_policy(
    log_group_arn: AWSHelperFn,
    secret_arn: AWSHelperFn,
    secret_key_arn: AWSHelperFn,
    sidecar_secrets: list[SecretGrant],
) -> dict:
    """What ECS needs to start the task: pull the images, write the logs, read the database
    secret and each sidecar's secret (`SecretGrant`)."""
    return document(
            Statement(
                Sid="PullImagesFromThisAccountsEcr",
                Effect=Allow,
                Action=[ecr.BatchCheckLayerAvailability, ecr.GetDownloadUrlForLayer,
                        ecr.BatchGetImage],
                Resource=[Sub("arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}"
                              ":repository/*")],
            ),
            Statement(
                Sid="EcrLoginHasNoResource",
                Effect=Allow,
                Action=[ecr.GetAuthorizationToken],
                Resource=["*"],
            ),
            Statement(
                Sid="WriteTaskLogs",
                Effect=Allow,
                Action=[logs.CreateLogStream, logs.PutLogEvents],
                Resource=[log_group_arn],
            ),
            Statement(
                Sid="ReadTheDatabaseSecret",
                Effect=Allow,
                Action=[secretsmanager.GetSecretValue],
                Resource=[secret_arn],
            ),
            Statement(
                Sid="DecryptTheDatabaseSecret",
                Effect=Allow,
                Action=[kms.Decrypt],
                Resource=[secret_key_arn],
                Condition=_via("secretsmanager"),
            ),
            *[
                statement for grant in sidecar_secrets for statement in _read_secret(grant)
            ],
    )  # fmt: skip


class SecretGrant(NamedTuple):
    """A launcher's secret the execution role reads: ``Read<name>`` (under ``condition``, always
    when None) and, under ``key_condition``, ``DecryptWith<name>Key``: the customer-managed key
    it is encrypted with, only through Secrets Manager and only for that secret (Secrets Manager
    asks KMS with the encryption context ``SecretARN`` = the secret's ARN)."""

    name: str
    condition: str | None
    secret_arn: AWSHelperFn
    key_condition: str
    key_arn: AWSHelperFn


def _read_secret(grant: SecretGrant) -> list:
    read = Statement(
        Sid=f"Read{grant.name}",
        Effect=Allow,
        Action=[secretsmanager.GetSecretValue],
        Resource=[grant.secret_arn],
    )
    decrypt = Statement(
        Sid=f"DecryptWith{grant.name.removeprefix('The')}Key",
        Effect=Allow,
        Action=[kms.Decrypt],
        Resource=[grant.key_arn],
        Condition=Condition([
            StringLike("kms:ViaService", Sub("secretsmanager.*.${AWS::URLSuffix}")),
            StringEquals("kms:EncryptionContext:SecretARN", grant.secret_arn),
        ]),
    )  # fmt: skip
    return [only_if(grant.condition, read), only_if(grant.key_condition, decrypt)]


def only_if(condition: str | None, statement: Statement) -> Statement | If:
    """``statement`` when ``condition`` holds (always when it is None)."""
    return If(condition, statement, NO_VALUE) if condition else statement


def artifact_access(
    bucket_arn: AWSHelperFn,
    prefix: AWSHelperFn,
    *,
    key_statements: list[tuple[str, str, AWSHelperFn]],
    read_only_buckets: AWSHelperFn,
    read_only_condition: str,
    signed_uploads_condition: str,
) -> dict:
    """Read/write only under ``prefix`` of the artifact bucket, list only that prefix, use only
    its key (``key_statements``: statement id, condition, key ARN) and read, never write, the
    read-only buckets. Writes through URLs the server signs (clients' direct multipart uploads)
    only under ``signed_uploads_condition``."""
    objects = Sub("${Arn}/${Prefix}/*", Arn=bucket_arn, Prefix=prefix)
    return document(
        # S3's multipart upload API needs s3:PutObject to create, upload a part and complete,
        # s3:AbortMultipartUpload to abort (https://docs.aws.amazon.com/AmazonS3/latest/
        # userguide/mpuoverview.html#mpuAndPermissions); MLflow and boto3 never list parts.
        # The server's own uploads are multipart above 8 MiB (boto3) and abort on failure,
        # whichever way clients upload.
        Statement(
            Sid="ReadWriteArtifactsUnderThePrefix",
            Effect=Allow,
            Action=[s3.GetObject, s3.PutObject, s3.DeleteObject, s3.AbortMultipartUpload],
            Resource=[objects],
        ),
        If(signed_uploads_condition, NO_VALUE, _no_signed_uploads(objects)),
        Statement(
            Sid="ListOnlyThePrefix",
            Effect=Allow,
            Action=[s3.ListBucket],
            Resource=[bucket_arn],
            Condition=Condition(StringLike("s3:prefix", [
                prefix, Sub("${Prefix}/*", Prefix=prefix)])),
        ),
        *[
            If(
                condition,
                Statement(
                    Sid=sid,
                    Effect=Allow,
                    Action=[kms.Decrypt, kms.GenerateDataKey],
                    Resource=[key_arn],
                    Condition=_via("s3"),
                ),
                NO_VALUE,
            )
            for sid, condition, key_arn in key_statements
        ],
        *_read_only(read_only_buckets, read_only_condition),
    )  # fmt: skip


def _no_signed_uploads(objects: AWSHelperFn) -> Statement:
    """Refuse writes authenticated by a presigned URL (``s3:authType`` REST-QUERY-STRING,
    https://docs.aws.amazon.com/AmazonS3/latest/API/bucket-policy-s3-sigv4-conditions.html): a
    client's part upload through a URL the server signed is s3:PutObject under the task role.
    The server's own requests sign the Authorization header (REST-HEADER), and presigned
    downloads stay allowed."""
    return Statement(
        Sid="RefuseUploadsThroughSignedUrls",
        Effect=Deny,
        Action=[s3.PutObject],
        Resource=[objects],
        Condition=Condition(StringEquals("s3:authType", "REST-QUERY-STRING")),
    )


def allow(sid: str, actions: Sequence[str], resources: Any, **condition: Any) -> Statement:
    """Allow ``actions`` (``service:Name``) on ``resources``, under ``condition`` if given."""
    return Statement(
        Sid=sid,
        Effect=Allow,
        Action=[Action(*a.split(":", 1)) for a in actions],
        Resource=resources,
        **condition,
    )


def document(*statements: Statement | If) -> dict:
    """A policy document of awacs ``statements``, some of them chosen by Fn::If (which awacs'
    own PolicyDocument does not accept)."""
    return {"Version": VERSION, "Statement": list(statements)}


def _only(sid: str, action: object, resource: AWSHelperFn) -> dict:
    """A document allowing one action on one resource."""
    return document(Statement(Sid=sid, Effect=Allow, Action=[action], Resource=[resource]))


def redeploy_service(service_arn: AWSHelperFn) -> dict:
    """Force a new deployment of exactly one ECS service."""
    return _only("ForceNewDeploymentOfTheService", ecs.UpdateService, service_arn)


def start_execution(state_machine_arn: AWSHelperFn) -> dict:
    """Start exactly one state machine."""
    return _only("StartTheRedeployment", states.StartExecution, state_machine_arn)


def _read_only(read_only_buckets: AWSHelperFn, condition: str) -> list[If]:
    """Read the objects of, and list, the read-only buckets (a comma-separated ARN list)."""
    objects_of = Split(",", Sub("${Arns}/*", Arns=Join("/*,", Split(",", read_only_buckets))))
    return [
        only_if(condition, Statement(Sid=sid, Effect=Allow, Action=[action], Resource=resource))
        for sid, action, resource in (
            ("ReadObjectsOfReadOnlyBuckets", s3.GetObject, objects_of),
            ("ListReadOnlyBuckets", s3.ListBucket, Split(",", read_only_buckets)),
        )
    ]


def service_role(
    logical_id: str, description: str, service: str, policy_name: str, policy: dict
) -> Role:
    """A role that ``service`` assumes, with one inline policy (and the permissions boundary
    when one is given)."""
    return Role(
        logical_id,
        Description=description,
        PermissionsBoundary=PERMISSIONS_BOUNDARY,
        AssumeRolePolicyDocument=assume_role(service),
        Policies=[Policy(PolicyName=policy_name, PolicyDocument=policy)],
    )
