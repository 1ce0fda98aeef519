"""The AWS-side rules the network template (templates/network.json) and `plan`/`deploy
--network-stack` depend on."""

from __future__ import annotations

from mlflow_cfn.stack.constraints.entry import DOCS as _DOCS
from mlflow_cfn.stack.constraints.entry import Constraint

NETWORK_CATALOGUE: tuple[Constraint, ...] = (
    Constraint(
        "ecr-pull-through-cache-credential-arn",
        "ECR's CreatePullThroughCacheRule takes a credentialArn of 50 to 612 characters, in "
        "partition aws or aws-<word>, whose secret name is ecr-pullthroughcache/ and letters, "
        "digits and / _ + = . @ - only (no !); CloudFormation sends it in the middle of the "
        "stack operation.",
        "botocore's ECR service model: CreatePullThroughCacheRule, credentialArn (CredentialArn)",
        "AllowedPattern and MaxLength of ImageCacheCredentialsSecretArn (network template); "
        "tests/facts holds every Parameter to the API shape it reaches.",
    ),
    Constraint(
        "s3-gateway-endpoint-carries-the-regions-s3",
        "A route table's route to an S3 gateway endpoint (S3's prefix list) is more specific "
        "than 0.0.0.0/0, so the region's S3 requests take the endpoint, and its policy, even "
        "with a NAT gateway; a gateway endpoint serves its own region only.",
        f"{_DOCS}/vpc/latest/privatelink/vpc-endpoints-s3.html",
        "Template: with NetworkEgress=nat the S3 endpoint has the default full-access policy "
        "(other accounts' buckets work, as through the NAT gateway); with endpoints, this "
        "account's buckets only, and plan/deploy --network-stack warn about ArtifactBucketName "
        "and ArtifactReadOnlyBucketArns (a bucket's name or ARN names no account or region).",
    ),
    Constraint(
        "getazs-lists-zones-with-a-default-subnet",
        "Fn::GetAZs lists only the zones that have a default subnet (all of them when none has), "
        "in an order that is not guaranteed and can change when zones are added: subnets placed "
        "by index may land in a zone the product cannot use, fail when it lists fewer zones than "
        "asked, or move (be replaced) on a later update.",
        f"{_DOCS}/AWSCloudFormation/latest/TemplateReference/"
        "intrinsic-function-reference-getavailabilityzones.html",
        "Parameters AvailabilityZone1 to 3 name the zones (AllowedPattern: a region's code and a "
        "letter; Rule AvailabilityZoneNamesMatchTheCount: zones 1 and 2, zone 3 exactly with "
        "AvailabilityZoneCount=3, all different); empty keeps Fn::GetAZs, and each subnet's "
        "zone as it was.",
    ),
    Constraint(
        "fargate-zone-ids",
        "Fargate runs tasks in some zones only of us-west-1 (usw1-az1, usw1-az3), ap-northeast-1 "
        "(apne1-az1, apne1-az2, apne1-az4) and cn-north-1 (cnn1-az1, cnn1-az2), by zone ID; a "
        "zone's name maps to a different ID in each account of the older regions.",
        f"{_DOCS}/AmazonECS/latest/developerguide/AWS_Fargate-Regions.html",
        "plan/deploy --network-stack: in those regions they read the service subnets' zone IDs "
        "(DescribeSubnets) and refuse a subnet in another zone; AvailabilityZone1 to 3 pick the "
        "zones.",
    ),
    Constraint(
        "ecr-pull-through-cache-imports-on-pull",
        "ECR imports an image into a pull-through cache only when a caller allowed "
        "ecr:BatchImportUpstreamImage (and ecr:CreateRepository for the repository's first "
        "image) pulls it, and with interface endpoints that first pull needs a route to the "
        "internet. Each tag is an image of its own, and the task execution role may only pull "
        "cached images: every new tag must be pulled once by an administrator.",
        f"{_DOCS}/AmazonECR/latest/userguide/pull-through-cache-iam.html",
        "plan/deploy --network-stack warn while the product's image is in the network's cache "
        "but its tag is not (DescribeImages), with the commands to run; README says what to run "
        "on every upgrade.",
    ),
)
