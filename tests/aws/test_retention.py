"""The offline part of `create-rollback`: judging a rolled-back first create's events against the
committed template's DeletionPolicy (tests/aws/acceptance/retention.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.aws.acceptance.retention import ROLLBACK_IMAGE, judged, rollback_problems
from tests.conftest import REQUIRED_PARAMETERS, TEMPLATES

TEMPLATE = json.loads((TEMPLATES / "mlflow.json").read_text())
T0 = datetime(2026, 12, 7, tzinfo=UTC)


def events(*statuses: tuple[str, str]) -> list[dict]:
    """Each (logical id, status) as an event, one second apart, newest first as AWS lists them."""
    made = [
        {"LogicalResourceId": logical_id, "ResourceStatus": status, "Timestamp": T0 + timedelta(i)}
        for i, (logical_id, status) in enumerate(statuses)
    ]
    return list(reversed(made))


AS_DOCUMENTED = events(
    ("ArtifactKey", "CREATE_COMPLETE"),
    ("LogBucket", "CREATE_COMPLETE"),
    ("LogGroup", "CREATE_COMPLETE"),
    ("Service", "CREATE_FAILED"),
    ("LogGroup", "DELETE_COMPLETE"),
    ("LogBucket", "DELETE_SKIPPED"),
    ("ArtifactKey", "DELETE_COMPLETE"),
)


def test_a_rollback_as_documented_has_no_problem():
    assert rollback_problems(TEMPLATE, AS_DOCUMENTED) == []
    assert judged(TEMPLATE, AS_DOCUMENTED) == {
        "Retain": ["LogBucket"],
        "RetainExceptOnCreate": ["ArtifactKey", "LogGroup"],
    }


def test_a_kept_key_and_a_deleted_log_bucket_are_named():
    wrong = events(
        ("ArtifactKey", "CREATE_COMPLETE"),
        ("LogBucket", "CREATE_COMPLETE"),
        ("ArtifactKey", "DELETE_SKIPPED"),
        ("LogBucket", "DELETE_COMPLETE"),
    )
    assert rollback_problems(TEMPLATE, wrong) == [
        "ArtifactKey (DeletionPolicy RetainExceptOnCreate): DELETE_SKIPPED, expected "
        "DELETE_COMPLETE",
        "LogBucket (DeletionPolicy Retain): DELETE_COMPLETE, expected DELETE_SKIPPED",
    ]


def test_a_failed_delete_in_the_rollback_is_a_problem_and_unreached_resources_are_not():
    failed = events(("ArtifactBucket", "CREATE_COMPLETE"), ("ArtifactBucket", "DELETE_FAILED"))
    assert rollback_problems(TEMPLATE, failed) == [
        "ArtifactBucket (DeletionPolicy RetainExceptOnCreate): DELETE_FAILED, expected "
        "DELETE_COMPLETE"
    ]
    assert "CognitoUserPool" not in judged(TEMPLATE, failed).get("Retain", [])


def test_the_rollback_image_passes_deploys_offline_validation():
    """The create must reach AWS (and fail there, late): deploy's offline checks accept it."""
    from mlflow_cfn.stack.plan import evaluate_checked

    given = {**REQUIRED_PARAMETERS, "MlflowImage": ROLLBACK_IMAGE}
    evaluated = evaluate_checked(TEMPLATE, given, region="eu-west-1")
    assert evaluated.parameters["MlflowImage"] == ROLLBACK_IMAGE
    assert ROLLBACK_IMAGE.startswith("ghcr.io/mlflow/mlflow:v0.0.0-")


def test_cluster_snapshots_are_read_for_the_cluster_the_events_name():
    import boto3
    from botocore.stub import Stubber

    from tests.aws.acceptance.retention import cluster_snapshots

    rds = boto3.client("rds", region_name="eu-west-1")
    reached = events(("DatabaseCluster", "CREATE_IN_PROGRESS"))
    reached[0]["PhysicalResourceId"] = "rollback-databasecluster-abc"
    with Stubber(rds) as stubber:
        stubber.add_response(
            "describe_db_cluster_snapshots",
            {"DBClusterSnapshots": [{"DBClusterSnapshotIdentifier": "final-1"}]},
            {"DBClusterIdentifier": "rollback-databasecluster-abc"},
        )
        assert cluster_snapshots(rds, reached) == ["final-1"]
    assert cluster_snapshots(rds, events(("LogGroup", "CREATE_COMPLETE"))) == []
