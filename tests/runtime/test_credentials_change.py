"""The second line of defence against a password change (rotation, or a person): a task whose
credentials the database refuses exits (status 3) instead of serving errors, and the task ECS
starts in its place reads the current secret. Nothing is lost, and the password is never printed.

The harness plays ECS: when the container exits, it starts a new one with the secret's current
value, as a replacement task would read it.
"""

from __future__ import annotations

import time
import urllib.parse

import pytest
import requests

from tests.runtime.conftest import LocalDatabase
from tests.runtime.harness import LB_DNS_NAME, SECRET_ARN, LocalContainer
from tests.runtime.test_container_runtime import check_run, container, log_a_run

pytestmark = pytest.mark.runtime

NEW_PASSWORD = "n3w:p@ss/w%rd#?&= 'x\"[]"
#: From the password change to the first request served again: the failed request, the old
#: server's clean stop (5-14 s), the replacement's start (5-7 s on an existing database).
RECOVERY_BOUND_SECONDS = 60


def change_password(request, db: LocalDatabase, password: str) -> None:
    """Change the user's password and end its sessions, as a rotation does to old clients."""
    if db.engine == "aurora-postgresql":
        from psycopg2 import sql

        admin = request.getfixturevalue("pg_admin")
        with admin.cursor() as cur:
            cur.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(db.user), sql.Literal(password)
                )
            )
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (db.user,),
            )
        return
    admin = request.getfixturevalue("mysql_admin")
    with admin.cursor() as cur:
        for host in ("localhost", "127.0.0.1"):
            cur.execute(f"ALTER USER '{db.user}'@'{host}' IDENTIFIED BY %s", (password,))
        cur.execute("SELECT id FROM information_schema.processlist WHERE user = %s", (db.user,))
        for (session,) in cur.fetchall():
            cur.execute(f"KILL {int(session)}")


def search_status(url: str) -> int:
    try:
        response = requests.get(
            f"{url}/api/2.0/mlflow/experiments/search",
            params={"max_results": 1},
            headers={"Host": LB_DNS_NAME.lower()},
            timeout=10,
        )
    except requests.ConnectionError:
        return 0  # the server is stopping
    return response.status_code


def serve_until_recovered(task: LocalContainer, db: LocalDatabase, s3_endpoint: str):
    """Send requests until one succeeds, restarting an exited task with the current secret as
    ECS would. Returns (seconds until success, the exit status, the task now serving)."""
    began, exit_status = time.monotonic(), None
    while time.monotonic() - began < RECOVERY_BOUND_SECONDS + 30:
        if task.process.poll() is not None and exit_status is None:
            exit_status = task.process.returncode
            task = container(db, s3_endpoint)  # a new task: it reads the current secret
            task.secret_values[SECRET_ARN]["password"] = NEW_PASSWORD
            task.start()
            task.wait_healthy()
        elif search_status(task.url) == 200 and exit_status is not None:
            return time.monotonic() - began, exit_status, task
        time.sleep(0.5)
    raise AssertionError(f"not recovered; exit status {exit_status}:\n{task.log()[-3000:]}")


def test_a_password_change_heals_without_a_person(
    request, database, s3_endpoint, tmp_path, monkeypatch
):
    first = container(database, s3_endpoint)
    first.start()
    serving = first
    try:
        first.wait_healthy()
        _, run_id = log_a_run(first.url, tmp_path)
        assert search_status(first.url) == 200
        change_password(request, database, NEW_PASSWORD)
        seconds, status, serving = serve_until_recovered(first, database, s3_endpoint)
        print(f"\nserving again {seconds:.1f}s after the password changed (exit status {status})")
        assert status == 3, first.log()[-3000:]
        assert seconds < RECOVERY_BOUND_SECONDS
        assert "the database refused the credentials" in first.log()
        check_run(serving.url, run_id, tmp_path / "after", monkeypatch)  # nothing lost
    finally:
        serving.stop()
        first.stop()
    for log in (first.log(), serving.log()):
        for password in (database.password, NEW_PASSWORD):
            assert password not in log and urllib.parse.quote(password, safe="") not in log


def test_sigterm_to_the_first_process_alone_stops_the_server_cleanly(database, s3_endpoint):
    """ECS signals only the container's first process: the supervisor forwards it."""
    import os
    import signal

    task = container(database, s3_endpoint)
    task.start()
    try:
        task.wait_healthy()
        server_pids = [pid for pid in task.process_tree() if pid != task.process.pid]
        assert server_pids, "the server runs as a child of the supervisor"
        began = time.monotonic()
        os.kill(task.process.pid, signal.SIGTERM)
        status = task.process.wait(30)
        seconds = time.monotonic() - began
    finally:
        task.stop()
    print(f"\nstopped {seconds:.1f}s after SIGTERM to the first process, status {status}")
    assert seconds < 30
    assert task.process_tree() == []  # no orphan left behind
    assert "Traceback" not in task.log()
