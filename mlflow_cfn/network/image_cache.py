"""The official MLflow image through this account's ECR: an ECR pull-through cache rule for
ghcr.io (with ImageCacheCredentialsSecretArn; GitHub's registry needs credentials for it, Amazon
ECR User Guide, "Creating a pull through cache rule in Amazon ECR") and the ``MlflowImage``
output, the product Parameter of the same name: the image the product pins, pulled as
``<account>.dkr.ecr.<region>.<suffix>/<prefix>/mlflow/mlflow:<tag>``.

ECR imports an image into the cache on a pull of it, by a caller allowed to import:
``ecr:BatchImportUpstreamImage`` "Grants permission to retrieve the external image and import it to
your private registry", and ``ecr:CreateRepository`` "is required if the repository storing the
cached images doesn't already exist" (Amazon ECR User Guide, "IAM permissions required to sync an
upstream registry with an Amazon ECR private registry",
https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html). Each tag is an
image of its own, and "When an image is pulled using a pull through cache rule for the first time,
if you've configured Amazon ECR to use an interface VPC endpoint using AWS PrivateLink then you need
to create a public subnet in the same VPC, with a NAT gateway, and then route all outbound traffic
to the internet from their private subnet to the NAT gateway in order for the pull to work.
Subsequent image pulls don't require this." (Amazon ECR User Guide, considerations for pull through
cache rules, https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html). The
product's task execution role may only pull, and NetworkEgress=endpoints has no NAT gateway, so
an administrator pulls every new tag once (each upgrade that changes MlflowImage), from a machine
with a route to the internet, before the tasks can pull it (`seed_the_cache`; ``plan
--network-stack`` reads whether the tag is cached, `mlflow_cfn.network.lookups`).
"""

from __future__ import annotations

from troposphere import Output, Ref, Sub
from troposphere.ecr import PullThroughCacheRule

from mlflow_cfn.network.inputs import CREATE_IMAGE_CACHE, NetworkInputs
from mlflow_cfn.stack.context import Context
from mlflow_cfn.versions import DEFAULT_MLFLOW_IMAGE

IMAGE_CACHE_RULE = "ImageCacheRule"
#: The output named as the product's image Parameter.
MLFLOW_IMAGE = "MlflowImage"
#: The official image's repository and tag inside ghcr.io (``mlflow/mlflow:v<version>-full``).
UPSTREAM_IMAGE = DEFAULT_MLFLOW_IMAGE.removeprefix("ghcr.io/")


def add_image_cache(ctx: Context, *, inputs: NetworkInputs) -> PullThroughCacheRule:
    """The pull-through cache rule and the MlflowImage output (both only with credentials)."""
    rule = ctx.template.add_resource(
        PullThroughCacheRule(
            IMAGE_CACHE_RULE,
            Condition=CREATE_IMAGE_CACHE,
            EcrRepositoryPrefix=Ref(inputs.image_cache_prefix),
            UpstreamRegistry="github-container-registry",
            UpstreamRegistryUrl="ghcr.io",
            CredentialArn=Ref(inputs.image_cache_credentials),
        )
    )
    ctx.template.add_output(
        Output(
            MLFLOW_IMAGE,
            Condition=CREATE_IMAGE_CACHE,
            Description="The product's default MLflow image through this account's ECR cache",
            Value=Sub(
                "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/${Prefix}/"
                + UPSTREAM_IMAGE,
                Prefix=Ref(inputs.image_cache_prefix),
            ),
        )
    )
    return rule


def seed_the_cache(image: str, region: str | None) -> str:
    """What to run so that ECR imports ``image`` into the cache, in words and commands."""
    host = image.split("/", 1)[0]
    where = f" --region {region}" if region else ""
    return (
        "The tasks cannot import it (the task execution role may only pull cached images): "
        "before deploying, pull it once with credentials allowed ecr:BatchImportUpstreamImage "
        "(and ecr:CreateRepository for the cache's first image), from a machine with a route to "
        f"the internet: aws ecr get-login-password{where} | docker login --username AWS "
        f"--password-stdin {host} && docker pull {image}"
    )
