"""The figures the README leaves to a real account: how long the schema takes to create (from the
server's own log lines), how long a password rotation takes to happen, and the wake `mlflow-cfn
smoke --wake-seconds` measured on a service at zero tasks."""

from __future__ import annotations

import re
from typing import Any

from tests.aws.acceptance.waiting import REAL, Clock, poll

#: What the start-up script logs around its schema work (mlflow_cfn/stack/container/entrypoint.py;
#: tests/aws/test_measures.py keeps these equal to what it prints).
SCHEMA_STARTS = ("empty database: creating the MLflow schema", "upgrading the MLflow schema from")
SCHEMA_DONE = "database schema is current"
SERVER_STREAMS = "mlflow/"  # the awslogs stream prefix of the mlflow container


def migration_seconds(logs: Any, log_group: str) -> float | None:
    """Seconds from the first task's "creating/upgrading the schema" line to its "schema is
    current" line; None when no task logged both."""
    events = [
        event
        for page in logs.get_paginator("filter_log_events").paginate(
            logGroupName=log_group,
            logStreamNamePrefix=SERVER_STREAMS,
            filterPattern='"mlflow-cfn:"',
        )
        for event in page["events"]
    ]
    spans: list[tuple[int, int]] = []
    for stream in sorted({e["logStreamName"] for e in events}):
        lines = sorted(
            (e["timestamp"], e["message"]) for e in events if e["logStreamName"] == stream
        )
        start = next((t for t, m in lines if any(s in m for s in SCHEMA_STARTS)), None)
        if start is None:
            continue
        done = next((t for t, m in lines if t >= start and SCHEMA_DONE in m), None)
        if done is not None:
            spans.append((start, done))
    if not spans:
        return None
    start, done = min(spans)
    return (done - start) / 1000


def current_version(secrets: Any, secret_arn: str) -> str:
    """The secret's AWSCURRENT version id."""
    stages = secrets.describe_secret(SecretId=secret_arn)["VersionIdsToStages"]
    return next(version for version, labels in stages.items() if "AWSCURRENT" in labels)


def rotate(secrets: Any, secret_arn: str, clock: Clock = REAL, timeout: float = 900) -> str:
    """Rotate the secret now (RDS rotates its managed secret itself) and wait until a new
    version is AWSCURRENT; that version's id."""
    before = current_version(secrets, secret_arn)
    secrets.rotate_secret(SecretId=secret_arn)
    return poll(
        lambda: current_version(secrets, secret_arn),
        lambda version: version != before,
        what=f"rotation of {secret_arn}",
        timeout=timeout,
        every=10,
        clock=clock,
    )


#: What `mlflow-cfn smoke` prints when the stack it reached was asleep (mlflow_cfn.smoke.run).
WOKE = re.compile(r"woke in (\d+) s \(allowed (\d+) s")


def smoke_wake(output: str) -> tuple[int, int] | None:
    """The wake `mlflow-cfn smoke --wake-seconds` measured (first 503 to the answer) and what
    it allowed, from its output; None when it found the service awake."""
    found = WOKE.search(output)
    return (int(found[1]), int(found[2])) if found else None


def tampered(token: str) -> str:
    """The token with its signature changed (its first character), header and claims intact:
    what the load balancer must refuse for its signature alone."""
    header, claims, signature = token.split(".")
    first = "B" if signature[0] == "A" else "A"
    return f"{header}.{claims}.{first}{signature[1:]}"


def http_status(url: str) -> int:
    """One GET's status through `mlflow_cfn.smoke.http.get` (0 when nothing answered)."""
    from mlflow_cfn.smoke.http import get

    try:
        return get(url, None).status
    except OSError:
        return 0
