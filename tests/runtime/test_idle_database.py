"""A running but idle task holds no database connection, so Aurora Serverless v2 can pause.

The entry point asks the database to end each of the server's sessions after
MLFLOW_CFN_DB_IDLE_SECONDS without a statement (the template sets 60; the test 3). MLflow's pool
checks a connection before use (pool_pre_ping), so the first request after the database closed
it succeeds without an error or a client retry; what that reconnect costs is measured here.
"""

from __future__ import annotations

import runpy
import statistics
import time
from importlib import resources

import pytest
import requests
import sqlalchemy

from tests.runtime.conftest import LocalDatabase
from tests.runtime.harness import LB_DNS_NAME, through_load_balancer
from tests.runtime.test_container_runtime import check_run, container, log_a_run

pytestmark = pytest.mark.runtime

IDLE_SECONDS = 3
#: How long after the idle time the sessions may still be seen: PostgreSQL's timer is in
#: milliseconds; MariaDB's wait_timeout is whole seconds, checked as a socket read timeout.
CLOSE_MARGIN_SECONDS = {"aurora-postgresql": 2.0, "aurora-mysql": 4.0}
#: First requests after the sessions closed, and warm requests, measured for each.
SAMPLES = 5
#: What a reconnect (a failed pre-ping, a new TLS connection) may add to a request here.
RECONNECT_BOUND_SECONDS = 1.0

entrypoint = runpy.run_path(
    str(resources.files("mlflow_cfn.stack.container") / "entrypoint.py"),
    run_name="entrypoint_under_test",
)


def sessions(request, db: LocalDatabase) -> int:
    """The database sessions the user of ``db`` holds now (seen by an administrator)."""
    if db.engine == "aurora-postgresql":
        query = "SELECT count(*) FROM pg_stat_activity WHERE usename = %s"
        admin = request.getfixturevalue("pg_admin")
    else:
        query = "SELECT count(*) FROM information_schema.processlist WHERE user = %s"
        admin = request.getfixturevalue("mysql_admin")
    with admin.cursor() as cur:
        cur.execute(query, (db.user,))
        return cur.fetchone()[0]


def seconds_until_no_session(request, db: LocalDatabase) -> float:
    """Poll until the user holds no session; seconds from now. Fails past the idle time plus
    the engine's margin."""
    began = time.monotonic()
    limit = IDLE_SECONDS + CLOSE_MARGIN_SECONDS[db.engine]
    while (held := sessions(request, db)) and time.monotonic() - began < limit:
        time.sleep(0.1)
    assert held == 0, f"{held} session(s) still open {limit}s after the last request"
    return time.monotonic() - began


def get_run_once(url: str, run_id: str) -> float:
    """One request that reads the database, no retry; asserts 200 and returns its seconds."""
    began = time.perf_counter()
    response = requests.get(
        f"{url}/api/2.0/mlflow/runs/get",
        params={"run_id": run_id},
        headers={"Host": LB_DNS_NAME.lower()},
        timeout=30,
    )
    seconds = time.perf_counter() - began
    assert response.status_code == 200, response.text
    assert response.json()["run"]["data"]["params"] == [{"key": "learning_rate", "value": "0.01"}]
    return seconds


def server_uri(db: LocalDatabase, s3_endpoint: str, **overrides: str) -> str:
    """The backend store URI the entry point builds from the container's environment."""
    task = container(db, s3_endpoint)
    task.overrides.update(overrides)
    return entrypoint["backend_store_uri"](task.environment())


def test_an_idle_server_holds_no_session_and_reconnects_unseen(
    request, database, s3_endpoint, tmp_path, monkeypatch
):
    # The schema exists, as an earlier task left it: the sessions counted are the server's
    # (a first start's migration, longer than 3 s, is test_the_schema_lock_outlasts_the_idle_time).
    entrypoint["prepare_schema"](server_uri(database, s3_endpoint))
    task = container(database, s3_endpoint)
    task.overrides["MLFLOW_CFN_DB_IDLE_SECONDS"] = str(IDLE_SECONDS)
    task.start()
    try:
        task.wait_healthy()
        _, run_id = log_a_run(task.url, tmp_path)
        warm = [get_run_once(task.url, run_id) for _ in range(SAMPLES * 2)][SAMPLES:]
        assert sessions(request, database) > 0, "a serving task holds pooled sessions"

        # Idle: the database ends every session; each next request reconnects, first time.
        closed, first = [], []
        for _ in range(SAMPLES):
            closed.append(seconds_until_no_session(request, database))
            first.append(get_run_once(task.url, run_id))
        closed.append(seconds_until_no_session(request, database))
        with monkeypatch.context() as no_retry, through_load_balancer(task.url, LB_DNS_NAME):
            no_retry.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
            from mlflow.tracking import MlflowClient

            run = MlflowClient(tracking_uri=task.url).get_run(run_id)
        check_run(task.url, run_id, tmp_path / "after-idle", monkeypatch)  # nothing lost
    finally:
        task.stop()
    assert run.data.params == {"learning_rate": "0.01"}
    assert "Traceback" not in task.log(), task.log()[-3000:]
    cost = statistics.median(first) - statistics.median(warm)
    print(
        f"\n{database.engine}: no session {max(closed):.1f}s at most after the last request "
        f"(idle {IDLE_SECONDS}s); first request after idle: median "
        f"{statistics.median(first) * 1000:.0f} ms, warm {statistics.median(warm) * 1000:.0f} ms"
        f" (reconnect +{cost * 1000:.0f} ms)"
    )
    assert cost < RECONNECT_BOUND_SECONDS


def test_the_template_asks_the_database_to_close_idle_sessions(request, database, s3_endpoint):
    """With the template's own setting (60 s), a connection made with the URI the entry point
    builds carries the idle timeout as a session value."""
    assert container(database, s3_endpoint).environment()["MLFLOW_CFN_DB_IDLE_SECONDS"] == "60"
    engine = sqlalchemy.create_engine(server_uri(database, s3_endpoint))
    try:
        with engine.connect() as conn:
            if database.engine == "aurora-postgresql":
                query = "SELECT setting, unit FROM pg_settings WHERE name = 'idle_session_timeout'"
                expected = ("60000", "ms")
            else:
                query = "SELECT @@SESSION.wait_timeout, @@SESSION.interactive_timeout"
                expected = (60, 60)
            assert tuple(conn.execute(sqlalchemy.text(query)).one()) == expected
    finally:
        engine.dispose()


def test_the_schema_lock_outlasts_the_idle_time(database, s3_endpoint, monkeypatch):
    """prepare_schema holds a database lock on one connection, idle while the migration runs on
    others; a migration longer than the idle time must neither lose the lock nor fail, even when
    one of its steps leaves its connection idle longer than that (issue 24: "MySQL server has
    gone away" at COMMIT): the start-up script prepares the schema with a URI that carries no
    idle timeout (only the serving pool has one)."""
    from mlflow.store.db import utils

    migrate = utils._initialize_tables
    pause = IDLE_SECONDS + CLOSE_MARGIN_SECONDS[database.engine]

    def slow_migration(engine):  # an upgrade of a large database, or a slow first start
        with engine.connect() as step:  # one long step: its connection idles between statements
            step.execute(sqlalchemy.text("SELECT 1"))
            step.commit()
            time.sleep(pause)
            step.execute(sqlalchemy.text("SELECT 1"))
            step.commit()
        migrate(engine)

    monkeypatch.setattr(utils, "_initialize_tables", slow_migration)
    environment = container(database, s3_endpoint).environment()
    environment["MLFLOW_CFN_DB_IDLE_SECONDS"] = str(IDLE_SECONDS)
    entrypoint["prepare_schema"](entrypoint["backend_store_uri"](environment, idle=False))
