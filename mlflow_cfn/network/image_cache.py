"""The official MLflow image through this account's ECR: an ECR pull-through cache rule for
ghcr.io (with ImageCacheCredentialsSecretArn; GitHub's registry needs credentials for it, Amazon
ECR User Guide, "Creating a pull through cache rule in Amazon ECR") and the ``MlflowImage``
output, the product Parameter of the same name: the image the product pins, pulled as
``<account>.dkr.ecr.<region>.<suffix>/<prefix>/mlflow/mlflow:<tag>``.

ECR creates the cache repository and imports the image on the first pull, for a caller allowed
``ecr:CreateRepository`` and ``ecr:BatchImportUpstreamImage`` (Amazon ECR User Guide, "IAM
permissions required to sync an upstream registry"). The product's task execution role has only
the pull actions, so an administrator pulls the image once before the first deployment (README,
"Network template"); later pulls are served from the cache.
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
