"""What a rolled-back first create keeps (`create-rollback`): each resource the template gives
a DeletionPolicy, as the stack's last event of it says it went.

CloudFormation User Guide, DeletionPolicy attribute: "RetainExceptOnCreate behaves like Retain
for stack operations, except for the stack operation that initially created the resource. If the
stack operation that created the resource is rolled back, CloudFormation deletes the resource."
A retained resource's delete is reported as DELETE_SKIPPED (botocore's cloudformation model,
ResourceStatus). mlflow_cfn/stack/components/retention.py says which resources get which.
"""

from __future__ import annotations

from typing import Any

#: The last status a created resource reaches in the rollback of its create, by DeletionPolicy.
ROLLBACK_STATUS = {"Retain": "DELETE_SKIPPED", "RetainExceptOnCreate": "DELETE_COMPLETE"}

#: An image that does not exist (a -full tag, so `plan`'s offline check lets it through): the
#: service's tasks never start, the deployment circuit breaker fails the service, and the first
#: create rolls back after the keys, buckets and log groups exist.
ROLLBACK_IMAGE = "ghcr.io/mlflow/mlflow:v0.0.0-mlflow-cfn-rollback-full"


def last_statuses(events: list[dict[str, Any]]) -> dict[str, str]:
    """Each logical id's newest ResourceStatus among DescribeStackEvents' events."""
    newest: dict[str, dict[str, Any]] = {}
    for event in events:
        seen = newest.get(event["LogicalResourceId"])
        if seen is None or event["Timestamp"] >= seen["Timestamp"]:
            newest[event["LogicalResourceId"]] = event
    return {logical_id: event["ResourceStatus"] for logical_id, event in newest.items()}


def rollback_problems(template: dict[str, Any], events: list[dict[str, Any]]) -> list[str]:
    """One line per resource the rollback kept or deleted against its DeletionPolicy (resources
    the create never reached are not judged); empty when every one went as the policy says."""
    statuses = last_statuses(events)
    problems = []
    for logical_id, resource in sorted(template["Resources"].items()):
        wanted = ROLLBACK_STATUS.get(resource.get("DeletionPolicy", ""))
        status = statuses.get(logical_id)
        if wanted and status and status != wanted:
            problems.append(
                f"{logical_id} (DeletionPolicy {resource['DeletionPolicy']}): {status}, "
                f"expected {wanted}"
            )
    return problems


def judged(template: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The logical ids the rollback reached, by DeletionPolicy judged (for the report)."""
    statuses = last_statuses(events)
    found: dict[str, list[str]] = {}
    for logical_id, resource in sorted(template["Resources"].items()):
        policy = resource.get("DeletionPolicy", "")
        if policy in ROLLBACK_STATUS and logical_id in statuses:
            found.setdefault(policy, []).append(logical_id)
    return found


def cluster_snapshots(rds: Any, events: list[dict[str, Any]]) -> list[str]:
    """The snapshots RDS holds of the database cluster the events name (none if the create never
    reached it): whether the rollback's delete kept a final one is not documented."""
    clusters = {
        e.get("PhysicalResourceId")
        for e in events
        if e["LogicalResourceId"] == "DatabaseCluster" and e.get("PhysicalResourceId")
    }
    found = []
    for cluster in sorted(clusters):
        answer = rds.describe_db_cluster_snapshots(DBClusterIdentifier=cluster)
        found += [s["DBClusterSnapshotIdentifier"] for s in answer["DBClusterSnapshots"]]
    return found
