"""The permissions boundary every role of the product carries: the most any of them may ever do,
whatever a launcher passes as Parameters.

Read from the product's roles (templates/mlflow.json): the task role (artifacts in the artifact
bucket with its key, reading read-only buckets), the task execution role (pulling images, writing
the task's logs, reading the database secret and the sidecar's or Datadog's secret with their keys),
the rotation roles (EventBridge starts the redeploy state machine, which forces a new deployment of
the service), idle shutdown's wake function (the service's count, its wake rules, its idle alarm,
the uploads in flight) and the RDS enhanced monitoring role (the managed policy
AmazonRDSEnhancedMonitoringRole: RDS* log groups). Each statement reaches only what a provisioned
product creates (names CloudFormation generates from the ``SC-`` stack name, keys with the stack's
``alias/SC-...`` aliases) or what the admin allows (`mlflow_cfn.catalog.portfolio_inputs`).
"""

from __future__ import annotations

from typing import Any

from awacs.aws import (
    Action,
    Condition,
    Deny,
    ForAnyValueStringLike,
    Statement,
    StringEquals,
    StringLike,
    StringNotLike,
)
from troposphere import If, Ref, Sub

from mlflow_cfn.catalog.portfolio_inputs import AllowListInputs
from mlflow_cfn.catalog.product import ProductTemplates, product_variants, resources_of
from mlflow_cfn.catalog.scopes import state_machine_arns
from mlflow_cfn.stack.policies import allow as _allow
from mlflow_cfn.stack.policies import document

#: What the product's roles do with objects of their artifact and read-only buckets.
OBJECT_ACTIONS = (
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:GetObject",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
)
#: What the product's roles do with their buckets: list, and see uploads in flight (idle shutdown).
BUCKET_ACTIONS = ("s3:ListBucket", "s3:ListBucketMultipartUploads")
#: What the product's roles do with keys: through S3 (artifacts) and Secrets Manager (secrets).
KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
#: AmazonRDSEnhancedMonitoringRole's actions, on RDS's own log groups.
RDS_MONITORING_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogStreams",
    "logs:GetLogEvents",
    "logs:PutLogEvents",
    "logs:PutRetentionPolicy",
)
NO_VALUE = Ref("AWS::NoValue")
#: The tag RDS puts on the master user secret it manages: the ARN of the cluster it belongs to (the
#: AWS managed policy AmazonRDSServiceRolePolicy lets RDS tag ``secret:rds!*`` with
#: aws:rds:primaryDBClusterArn or aws:rds:primaryDBInstanceArn, and the secrets it owns carry
#: aws:secretsmanager:owningService ``rds``). A secret's tags are in the request context as
#: aws:ResourceTag (a condition key of IAM's secretsmanager ``Secret`` resource type).
DATABASE_SECRET_TAG = "aws:ResourceTag/aws:rds:primaryDBClusterArn"
#: Names of secrets another service manages: ``<service>!<id>``; a person's secret never has ``!``
#: (`mlflow_cfn.stack.parameters.SECRET_ARN`).
MANAGED_SECRETS = "secret:*!*"
_HERE = "arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"


def _here(service: str, resource: str) -> Sub:
    """An ARN of ``resource`` of ``service`` in this account and region."""
    return Sub(_HERE.format(service=service, resource=resource))


def boundary_document(
    product_templates: ProductTemplates,
    allowed: AllowListInputs,
    network_condition: str | None = None,
) -> dict:
    """The boundary's policy document (some statements only when the admin allows something;
    the network product's roles' only under ``network_condition``, when the portfolio offers
    it)."""
    variants = product_variants(product_templates)
    via = [Sub(f"{s}.${{AWS::Region}}.${{AWS::URLSuffix}}") for s in ("s3", "secretsmanager")]
    artifacts = "arn:${AWS::Partition}:s3:::sc-*"
    # Sids are short: with the longest allow-lists the document is close to IAM's 6,144
    # characters (tests/publish/test_launcher_vectors.py measures it).
    return document(
        _allow("EcrPull",
               ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer"),
               [_here("ecr", "repository/*")]),
        # Actions IAM defines on no resource type (Service Authorization Reference, in
        # cfn-lint's copy): logging in to ECR; the wake function's reads of target health,
        # listener rules and the scaling bounds.
        _allow("Unscoped",
               ("ecr:GetAuthorizationToken", "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DescribeRules",
                "application-autoscaling:DescribeScalableTargets"), ["*"]),
        _allow("ProductLogs", ("logs:CreateLogStream", "logs:PutLogEvents"),
               [_here("logs", "log-group:SC-*")]),
        _allow("RdsLogs", RDS_MONITORING_ACTIONS,
               [_here("logs", "log-group:RDS*")]),
        *_database_secret(variants),
        allowed.only_if_allowed("secret_prefixes", _allow(
            "AllowedSecrets", ("secretsmanager:GetSecretValue",),
            allowed.arns("secret_prefixes", suffix="*"))),
        _deny_other_managed_secrets(variants),
        _allow("ProductKeys", KEY_ACTIONS,
               [_here("kms", "key/*")],
               Condition=Condition([
                   ForAnyValueStringLike("kms:ResourceAliases", "alias/SC-*"),
                   StringEquals("kms:ViaService", via),
               ])),
        allowed.only_if_allowed("kms_keys", _allow(
            "AllowedKeys", KEY_ACTIONS, allowed.arns("kms_keys"))),
        _allow("ProductObjects", OBJECT_ACTIONS, [Sub(f"{artifacts}/*")]),
        # Listing, and the wake function's look at uploads in flight.
        _allow("ProductBuckets", BUCKET_ACTIONS, [Sub(artifacts)]),
        *_allowed_buckets(allowed),
        # The rotation's redeployment, and the wake function's task count.
        _allow("ProductService", ("ecs:DescribeServices", "ecs:UpdateService"),
               [_here("ecs", "service/SC-*")]),
        _wake(),
        *[_allow("Redeploy", ("states:StartExecution",),
                 [Sub(arn) for arn in machines]) for machines in [state_machine_arns(variants)]
          if machines],
        *(_network_statements(network_condition) if network_condition else []),
    )  # fmt: skip


def _wake() -> Statement:
    """The wake function: the rules of the product's load balancers (names CloudFormation
    generates from the SC- stack name) and the product's idle alarm. Any region and account in
    these two ARNs: a boundary grants nothing by itself, the role's own policy names this
    account's, and the document is near IAM's size limit."""
    return _allow(
        "Wake",
        ("elasticloadbalancing:ModifyRule", "cloudwatch:SetAlarmState"),
        [Sub("arn:${AWS::Partition}:elasticloadbalancing:*:*:listener-rule/app/SC-*"),
         Sub("arn:${AWS::Partition}:cloudwatch:*:*:alarm:SC-*-IdleShutdownAlarm-*")],
    )  # fmt: skip


def database_clusters(variants: tuple[dict[str, Any], ...]) -> list[Sub]:
    """ARN patterns of the product's database clusters in a Service Catalog stack: RDS's resource
    provider names a cluster without DBClusterIdentifier ``<stack>-<logical id>-<random>``, cut to
    63 characters and lower-cased (aws-cloudformation-resource-providers-rds, IdentifierFactory
    over IdentifierUtils.generateResourceIdentifier); a Service Catalog stack's 32-character name
    and the logical id fit whole."""
    ids = sorted({logical_id for logical_id, props in resources_of(variants, "AWS::RDS::DBCluster")
                  if "DBClusterIdentifier" not in props})  # fmt: skip
    return [_here("rds", f"cluster:sc-*-{logical_id.lower()}-*") for logical_id in ids]


def _database_secret(variants: tuple[dict[str, Any], ...]) -> list[Statement]:
    """Read the master user secret RDS manages for the product's own database (RDS names them
    rds!cluster-<id>, Aurora User Guide, "Password management with Amazon RDS and AWS Secrets
    Manager"), told apart from other databases' by the tag RDS puts on it."""
    clusters = database_clusters(variants)
    if not clusters:
        return []
    return [_allow("DatabaseSecret", ("secretsmanager:GetSecretValue",),
                   [_here("secretsmanager", "secret:rds!*")],
                   Condition=Condition(StringLike(DATABASE_SECRET_TAG, clusters)))]  # fmt: skip


def _deny_other_managed_secrets(variants: tuple[dict[str, Any], ...]) -> Statement:
    """No role of the product reads a secret another service manages but its own database's,
    whatever the admin allows (a prefix such as ``...:secret:`` or ``...:secret:r`` would match
    every ``rds!`` secret of the account)."""
    clusters = database_clusters(variants)
    condition = (
        {"Condition": Condition(StringNotLike(DATABASE_SECRET_TAG, clusters))} if clusters else {}
    )
    return Statement(
        Sid="DenyManaged",
        Effect=Deny,
        Action=[Action("secretsmanager", "GetSecretValue")],
        Resource=[_here("secretsmanager", MANAGED_SECRETS)],
        **condition,
    )


def _network_statements(condition: str) -> list[If]:
    """What the network product's roles do besides writing their own SC-* log groups (which
    ProductLogs allows): VPC Flow Logs' delivery role finds its log group and
    streams; the default security group's function removes that group's rules (its own policy
    names the one group; a default group carries no tag a boundary could match)."""
    return [
        If(condition, _allow("NetworkFlowLogs",
                             ("logs:DescribeLogGroups", "logs:DescribeLogStreams"),
                             [_here("logs", "log-group:*")]), NO_VALUE),
        If(condition, _allow("NetworkDefaultGroup",
                             ("ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress"),
                             [_here("ec2", "security-group/*")]), NO_VALUE),
    ]  # fmt: skip


def _allowed_buckets(allowed: AllowListInputs) -> list[If]:
    """Objects and listing of the buckets the admin allows; only reads of the read-only ones."""
    return [
        allowed.only_if_allowed("buckets", _allow(
            "AllowedObjects", OBJECT_ACTIONS,
            allowed.arns("buckets", "arn:*:s3:::", "/*"))),
        allowed.only_if_allowed("buckets", _allow(
            "AllowedBuckets", BUCKET_ACTIONS,
            allowed.arns("buckets", "arn:*:s3:::"))),
        allowed.only_if_allowed("read_only_buckets", _allow(
            "ReadOnlyGet", ("s3:GetObject",),
            allowed.arns("read_only_buckets", "arn:*:s3:::", "/*"))),
        allowed.only_if_allowed("read_only_buckets", _allow(
            "ReadOnlyList", ("s3:ListBucket",),
            allowed.arns("read_only_buckets", "arn:*:s3:::"))),
    ]  # fmt: skip
