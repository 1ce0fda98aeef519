"""Issue 23, items 2 and 8 (images): what launchers share through the admin's lists.

A bucket the admin allows for artifacts is shared by every launcher's stacks: each stores under
its own UUID (the template constraint requires ArtifactPrefixPerStack), so no ArtifactPrefix a
launcher picks reaches another stack's artifacts. Buckets for reading only are a list of their
own: never an artifact store, and the boundary grants only reads on them. Images may be pinned by
digest, and the admin may take away the default image (a tag).
"""

from __future__ import annotations

from typing import Any

import pytest

from mlflow_cfn.catalog.allow_lists import AllowLists
from mlflow_cfn.cfn.evaluate import evaluate
from mlflow_cfn.cfn.evaluate.parameters import pseudo_parameters
from mlflow_cfn.versions import DEFAULT_MLFLOW_IMAGE
from tests.conftest import REQUIRED_PARAMETERS
from tests.publish.iam import allowed, allowed_within
from tests.publish.test_launcher_vectors import (
    ACCOUNT,
    ADMIN_ALLOWS,
    BOUNDARY_ARN,
    REGION,
    boundary,
    evaluated_portfolio,
    launch,
    product,
    refused_with,
)

SHARED = "team-artifacts"
READ_ONLY = "shared-datasets"
DIGEST = "sha256:" + "0123456789abcdef" * 4
PINNED_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/mlflow@{DIGEST}"
ON_THE_SHARED_BUCKET = {"ArtifactBucketName": SHARED, "ArtifactPrefixPerStack": "true"}
VICTIM = "SC-123456789012-pp-victimvictim1"
ATTACKER = "SC-123456789012-pp-attacker0001"


@pytest.fixture(scope="module")
def admin() -> Any:
    return evaluated_portfolio(ADMIN_ALLOWS)


def uuid_of(stack_name: str) -> str:
    """The UUID in the id `evaluate` gives stack ``stack_name`` (arn:...:stack/name/UUID)."""
    return pseudo_parameters(REGION, ACCOUNT, stack_name, None)["AWS::StackId"].split("/")[2]


def stack(name: str, parameters: dict[str, str]) -> Any:
    """The product as a Service Catalog stack ``name`` creates it with ``parameters``."""
    return evaluate(
        product(), {**REQUIRED_PARAMETERS, "PermissionsBoundaryArn": BOUNDARY_ARN, **parameters},
        account_id=ACCOUNT, region=REGION, stack_name=name,
    )  # fmt: skip


def task_role(created: Any) -> list[dict]:
    """The statements of the stack's task role (what the server and a sidecar may do)."""
    role = created.resource("TaskRole")["Properties"]
    return [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def reaches(created: Any, admin: Any, action: str, key: str, **context: str) -> bool:
    """Whether the stack's task role, within the portfolio's boundary, may ``action`` ``key`` of
    the shared bucket (its ListBucket with ``s3:prefix``)."""
    resource = f"arn:aws:s3:::{SHARED}" + ("" if action == "s3:ListBucket" else f"/{key}")
    return allowed_within(task_role(created), boundary(admin), action, resource, context)


# --- Shared artifact buckets: each stack under its own UUID ----------------------------------


def test_a_shared_bucket_is_refused_without_a_prefix_per_stack(admin):
    errors = launch(admin, {"ArtifactBucketName": SHARED})
    assert any("ArtifactPrefixPerStack=true" in e and "the portfolio's" in e for e in errors)
    assert launch(admin, {"ArtifactBucketName": SHARED, "ArtifactPrefixPerStack": "false"})
    assert launch(admin, ON_THE_SHARED_BUCKET) == []
    assert launch(admin, {"ArtifactPrefixPerStack": "false"}) == []  # its own bucket: no sharing


@pytest.mark.parametrize(
    "prefix_of",
    [
        lambda victim: "artifacts",  # the same prefix
        lambda victim: f"{victim}/artifacts",  # the victim's own destination
        lambda victim: victim,  # a parent of it
    ],
)
def test_no_prefix_a_launcher_picks_reaches_another_stacks_artifacts(admin, prefix_of):
    victim = stack(VICTIM, {**ON_THE_SHARED_BUCKET, "ArtifactPrefix": "artifacts"})
    root = f"s3://{SHARED}/{uuid_of(VICTIM)}/artifacts"
    assert victim.outputs["ArtifactRoot"] == root
    model = f"{uuid_of(VICTIM)}/artifacts/1/0123abcd/artifacts/model/model.pkl"
    taken = prefix_of(uuid_of(VICTIM))
    attacker = stack(ATTACKER, {**ON_THE_SHARED_BUCKET, "ArtifactPrefix": taken})
    assert attacker.outputs["ArtifactRoot"].startswith(f"s3://{SHARED}/{uuid_of(ATTACKER)}/")
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert reaches(victim, admin, action, model), action  # what the victim's server does
        assert not reaches(attacker, admin, action, model), action
    listing = {"s3:prefix": f"{uuid_of(VICTIM)}/artifacts/1/"}
    assert reaches(victim, admin, "s3:ListBucket", "", **listing)
    assert not reaches(attacker, admin, "s3:ListBucket", "", **listing)


def test_without_a_prefix_per_stack_the_destination_stays_where_it_was():
    """Stacks launched before (and `aws cloudformation deploy` users) keep their artifacts: the
    Parameter's default leaves the destination at ArtifactPrefix."""
    created = stack(VICTIM, {"ArtifactBucketName": SHARED, "ArtifactPrefix": "teams/ml"})
    assert created.outputs["ArtifactRoot"] == f"s3://{SHARED}/teams/ml"


# --- Read-only buckets: a list of their own, reads only ------------------------------------


@pytest.mark.parametrize(
    ("parameters", "refused"),
    [
        ({"ArtifactReadOnlyBucketArns": f"arn:aws:s3:::{SHARED}"}, "ArtifactReadOnlyBucketArns"),
        ({"ArtifactBucketName": READ_ONLY, "ArtifactPrefixPerStack": "true"},
         "ArtifactBucketName"),
    ],
)  # fmt: skip
def test_read_only_and_artifact_buckets_never_swap(admin, parameters, refused):
    errors = launch(admin, parameters)
    assert refused_with(errors, refused), errors
    assert launch(admin, {"ArtifactReadOnlyBucketArns": f"arn:aws:s3:::{READ_ONLY}"}) == []


@pytest.mark.parametrize(
    ("action", "allows"),
    [("s3:GetObject", True), ("s3:ListBucket", True), ("s3:PutObject", False),
     ("s3:DeleteObject", False), ("s3:AbortMultipartUpload", False)],
)  # fmt: skip
def test_the_boundary_only_reads_read_only_buckets(admin, action, allows):
    resource = f"arn:aws:s3:::{READ_ONLY}" + ("" if action == "s3:ListBucket" else "/data.csv")
    assert allowed(boundary(admin), action, resource) is allows


def test_the_admin_cannot_list_one_bucket_both_ways():
    with pytest.raises(ValueError, match="'team-artifacts' is also in read_only_buckets"):
        AllowLists(buckets=(SHARED,), read_only_buckets=(SHARED,))


# --- Images by digest, and the default image only if the admin allows it ---------------------


def test_an_image_pinned_by_digest_can_be_allowed(admin):
    pinned = evaluated_portfolio({**ADMIN_ALLOWS, "AllowedImages": PINNED_IMAGE})
    assert launch(pinned, {"MlflowImage": PINNED_IMAGE}) == []
    assert refused_with(launch(pinned, {"MlflowImage": PINNED_IMAGE[:-1] + "1"}), "MlflowImage")


def test_the_admin_decides_whether_the_default_image_runs():
    pinned = {**ADMIN_ALLOWS, "AllowedImages": PINNED_IMAGE}
    only_pinned = evaluated_portfolio({**pinned, "AllowDefaultMlflowImage": "false"})
    errors = launch(only_pinned, {})  # the product's default MlflowImage
    assert refused_with(errors, "MlflowImage"), errors
    assert DEFAULT_MLFLOW_IMAGE not in launch(only_pinned, {"MlflowImage": "x:1"})[0]
    assert launch(only_pinned, {"MlflowImage": PINNED_IMAGE}) == []
    assert launch(evaluated_portfolio(pinned), {"MlflowImage": DEFAULT_MLFLOW_IMAGE}) == []


@pytest.mark.parametrize(
    "image",
    ["ghcr.io/mlflow/mlflow", f"r@sha256:{'0' * 63}", "r@md5:" + "0" * 32, "Repo:1", "r:-1"],
)
def test_images_are_allowed_only_by_tag_or_sha256_digest(image):
    with pytest.raises(ValueError, match="images"):
        AllowLists(images=(image,))


def test_tags_are_allowed_with_a_warning_offering_the_digest():
    lists = AllowLists(images=("ghcr.io/team/agent:1.2", PINNED_IMAGE))
    (warning,) = lists.warnings()
    assert "'ghcr.io/team/agent:1.2' is a tag" in warning
    assert "ghcr.io/team/agent@sha256:<digest>" in warning
