"""The AWS-side rules a Service Catalog portfolio relies on to keep launchers apart: what several
provisioned products of one account share (buckets, secrets, images) and what tells theirs apart."""

from __future__ import annotations

from mlflow_cfn.stack.constraints.entry import DOCS as _DOCS
from mlflow_cfn.stack.constraints.entry import Constraint

SHARING_CATALOGUE: tuple[Constraint, ...] = (
    Constraint(
        "stack-id-ends-in-a-uuid",
        "Nothing keeps two stacks from storing under the same key prefix of one bucket. A "
        "stack's id ends in a UUID CloudFormation makes for that stack (arn:...:stack/<name>/"
        "<UUID>), while its name is free again once it is deleted.",
        f"{_DOCS}/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html",
        "Template: ArtifactPrefixPerStack=true stores under <UUID>/<ArtifactPrefix> (Fn::Select 2 "
        "of Fn::Split / AWS::StackId); the portfolio's Rule SharedBucketNeedsAPrefixPerStack "
        "requires it on an allowed bucket.",
    ),
    Constraint(
        "rds-managed-secret-cluster-tag",
        "RDS names the master user secret it manages rds!cluster-<id> (only service-managed "
        "secrets have a '!') and tags it aws:rds:primaryDBClusterArn with its cluster's ARN: a "
        "secret prefix that matches one matches every database's of the account.",
        "AWS managed policy AmazonRDSServiceRolePolicy (RDS tags rds!* secrets with "
        "aws:rds:primaryDBClusterArn); checked by the acceptance suite (database-secret-tag)",
        "Secret Parameters refuse '!'; the permissions boundary reads rds!* only when the tag "
        "names one of the product's clusters (sc-*-databasecluster-*) and denies every other "
        "*!* secret.",
    ),
    Constraint(
        "ecs-image-reference-forms",
        "ECS takes an image as repository-url/image:tag or repository-url/image@digest, the "
        "digest sha256: and exactly 64 hexadecimal characters; a tag names whatever was last "
        "pushed under it.",
        "botocore's ECS service model: ContainerDefinition.image",
        "AllowedImages entries (publish --allow-image, the portfolio's AllowedPattern) are "
        "REPO:TAG or REPO@sha256:<64 hex>; publish warns about each tag; "
        "AllowDefaultMlflowImage=false refuses the default image (a tag).",
    ),
)
