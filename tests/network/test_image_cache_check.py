"""Is the product's image in the network's pull-through cache yet? (``plan``/``deploy
--network-stack``: DescribeImages, checked by botocore's Stubber against the real API model.) ECR
imports a tag only when someone allowed to import pulls it, which the tasks are not."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from mlflow_cfn.network.lookups import cache_warnings, cached_image
from mlflow_cfn.network.stack_outputs import NetworkStack
from tests.network.test_stack_outputs import CACHED_IMAGE, NAME, OUTPUTS

ACCOUNT = "123456789012"
NETWORK = NetworkStack(
    NAME, "CREATE_COMPLETE", {**OUTPUTS, "MlflowImage": CACHED_IMAGE}, "endpoints",
    region="eu-west-1", parameters={"ImageCachePrefix": "ghcr"}, account=ACCOUNT,
)  # fmt: skip
ASKED = {
    "registryId": ACCOUNT,
    "repositoryName": "ghcr/mlflow/mlflow",
    "imageIds": [{"imageTag": "v3.17.2-full"}],
}


@pytest.fixture
def ecr(no_real_aws):
    client = boto3.client("ecr", region_name="eu-west-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def warnings_for(client, image: str = CACHED_IMAGE) -> list[str]:
    return cache_warnings(NETWORK, {"MlflowImage": image}, lambda service: client)


def test_a_cached_tag_is_no_warning(ecr):
    client, stubber = ecr
    detail = {"registryId": ACCOUNT, "repositoryName": "ghcr/mlflow/mlflow",
              "imageDigest": "sha256:" + "a" * 64, "imageTags": ["v3.17.2-full"]}  # fmt: skip
    stubber.add_response("describe_images", {"imageDetails": [detail]}, ASKED)
    assert warnings_for(client) == []


@pytest.mark.parametrize("code", ["ImageNotFoundException", "RepositoryNotFoundException"])
def test_a_tag_not_cached_yet_says_what_to_run(ecr, code):
    client, stubber = ecr
    stubber.add_client_error("describe_images", code, "not there", expected_params=ASKED)
    (warning,) = warnings_for(client)
    assert warning.startswith(f"MlflowImage {CACHED_IMAGE} is not in network stack {NAME!r}'s")
    assert "ecr:BatchImportUpstreamImage" in warning
    host = CACHED_IMAGE.split("/")[0]
    assert (
        f"aws ecr get-login-password --region eu-west-1 | docker login --username AWS "
        f"--password-stdin {host} && docker pull {CACHED_IMAGE}"
    ) in warning


def test_a_newer_tag_given_by_the_launcher_is_checked_too(ecr):
    client, stubber = ecr
    newer = CACHED_IMAGE.replace("v3.17.2", "v3.18.0")
    asked = {**ASKED, "imageIds": [{"imageTag": "v3.18.0-full"}]}
    stubber.add_client_error("describe_images", "ImageNotFoundException", "no",
                             expected_params=asked)  # fmt: skip
    (warning,) = warnings_for(client, newer)
    assert f"MlflowImage {newer} is not in" in warning


def test_a_read_that_fails_is_a_warning_that_still_says_what_to_run(ecr):
    client, stubber = ecr
    stubber.add_client_error("describe_images", "AccessDeniedException", "no",
                             expected_params=ASKED)  # fmt: skip
    (warning,) = warnings_for(client)
    assert "could not tell whether" in warning and "AccessDeniedException" in warning
    assert "docker pull" in warning


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/mlflow/mlflow:v3.17.2-full",  # not through the cache
        f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/mirror/mlflow:v3.17.2-full",  # own mirror
    ],
)
def test_other_images_are_not_looked_up(ecr, image):
    client, _ = ecr  # no response stubbed: a call would fail
    assert warnings_for(client, image) == []


def test_a_digest_is_looked_up_by_digest():
    digest = "sha256:" + "b" * 64
    image = CACHED_IMAGE.split(":v")[0] + "@" + digest
    assert cached_image(NETWORK, image) == (
        ACCOUNT, "ghcr/mlflow/mlflow", {"imageDigest": digest}
    )  # fmt: skip
