"""The emitted container really runs MLflow against each engine (PostgreSQL, and MariaDB for
Aurora MySQL) and S3 (an emulator).

One test walks the life of a deployment: start, serve, store, survive a restart; the others
check concurrent first starts and an image upgrade over an older schema.
"""

from __future__ import annotations

import concurrent.futures
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import requests

from tests.runtime.conftest import LocalDatabase, s3_client
from tests.runtime.harness import (
    BUCKET,
    DOMAIN,
    LB_DNS_NAME,
    SECRET_ARN,
    LocalContainer,
    free_port,
    new_workdir,
    render_container,
    through_load_balancer,
)

pytestmark = pytest.mark.runtime

PARAMETERS = {
    "DomainName": DOMAIN,
    "CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f",
    "ArtifactPrefix": "teams/ml/artifacts",
    "TaskCpu": "512",
    "TaskMemory": "1024",
}


def container(db: LocalDatabase, s3_endpoint: str, **parameters: str) -> LocalContainer:
    spec = render_container(
        {**PARAMETERS, "DatabaseEngine": db.engine, **parameters},
        db_host=db.host,
        db_port=db.port,
    )
    return LocalContainer(
        spec=spec,
        secret_values={SECRET_ARN: {"username": db.user, "password": db.password}},
        overrides={
            "MLFLOW_CFN_DB_NAME": db.name,  # one database per test on the shared local server
            "MLFLOW_PORT": str(free_port()),
            "MLFLOW_S3_ENDPOINT_URL": s3_endpoint,
        },
        workdir=new_workdir(),
    )


def log_a_run(url: str, artifact_dir) -> tuple[str, str]:
    with through_load_balancer(url, LB_DNS_NAME.lower()):
        return _log_a_run(url, artifact_dir)


def _log_a_run(url: str, artifact_dir) -> tuple[str, str]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=url)
    experiment_id = client.create_experiment(f"runtime-{time.time_ns()}")
    run = client.create_run(experiment_id)
    client.log_param(run.info.run_id, "learning_rate", "0.01")
    for step in range(5):
        client.log_metric(run.info.run_id, "loss", 1.0 / (step + 1), step=step)
    artifact = artifact_dir / "model-card.md"
    artifact.write_text("# model card\nnothing lost\n")
    client.log_artifact(run.info.run_id, str(artifact), artifact_path="docs")
    client.set_terminated(run.info.run_id)
    return experiment_id, run.info.run_id


def check_run(url: str, run_id: str, download_dir, monkeypatch) -> None:
    """Read a run back, downloading its artifact both ways MLflow 3.17 clients do: by a presigned
    S3 URL the server signs (the default: the client needs a route to S3, not credentials) and
    streamed through the server (MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD=false)."""
    for proxied in ("false", "true"):
        if proxied == "true":
            monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD", "false")
        with through_load_balancer(url, DOMAIN):
            _check_run(url, run_id, download_dir / f"proxied-{proxied}")
    monkeypatch.delenv("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD")


def _check_run(url: str, run_id: str, download_dir) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=url)
    run = client.get_run(run_id)
    assert run.data.params == {"learning_rate": "0.01"}
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(s, 1.0 / (s + 1)) for s in range(5)]
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/"), run.info.artifact_uri
    assert [f.path for f in client.list_artifacts(run_id, "docs")] == ["docs/model-card.md"]
    local = client.download_artifacts(run_id, "docs/model-card.md", str(download_dir))
    assert Path(local).read_text() == "# model card\nnothing lost\n"


def host_status(url: str, host: str, path: str = "/api/2.0/mlflow/experiments/search") -> int:
    response = requests.get(
        f"{url}{path}", params={"max_results": 1}, headers={"Host": host}, timeout=10
    )
    return response.status_code


def test_container_serves_stores_and_survives_a_restart(
    database, s3_endpoint, tmp_path, monkeypatch
):
    first = container(database, s3_endpoint)
    first.start()
    try:
        seconds = first.wait_healthy()
        print(f"\n/health answered {seconds:.1f}s after start (empty database)")
        _, run_id = log_a_run(first.url, tmp_path)
        check_run(first.url, run_id, tmp_path / "dl1", monkeypatch)

        # The artifact sits in the bucket under the configured prefix.
        keys = [
            o["Key"]
            for o in s3_client(s3_endpoint).list_objects_v2(Bucket=BUCKET).get("Contents", [])
        ]
        assert any(
            k.startswith("teams/ml/artifacts/")
            and k.endswith(f"{run_id}/artifacts/docs/model-card.md")
            for k in keys
        ), keys

        # Users reach it by the load balancer's name and the custom domain; others are refused.
        for host in (
            LB_DNS_NAME,
            LB_DNS_NAME.lower(),
            f"{LB_DNS_NAME.lower()}:80",
            DOMAIN,
            f"{DOMAIN}:443",
        ):
            assert host_status(first.url, host) == 200, host
            assert host_status(first.url, host, "/") == 200, host
        assert host_status(first.url, "attacker.example.net") == 403
        assert host_status(first.url, f"{DOMAIN}.attacker.example.net") == 403
        assert host_status(first.url, f"127.0.0.1:{first.port}") == 403  # only through the ALB

        # Not as root: every process of the container runs as the task definition's User.
        uids = {
            Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split()[0]
            for pid in first.process_tree()
        }
        assert uids == {first.spec.user.split(":")[0]} and "0" not in uids, uids
        # It ran as ECS runs it: read-only root file system, writable task volume on /tmp.
        mounts = dict(first.root_mount_options())
        assert mounts["/"].endswith(":ro") and mounts["/tmp"] == "tmpfs:rw", mounts

        # The password is in no process argument, raw or encoded.
        first.sample()
        encoded = urllib.parse.quote(database.password, safe="")
        for line in first.command_lines():
            assert database.password not in line and encoded not in line, line
        assert len(first.command_lines()) >= 2  # the server and its worker(s) were inspected
        print(f"peak memory of all container processes: {first.peak_rss_bytes / 2**20:.0f} MiB")
    finally:
        stop_seconds = first.stop()
    print(f"stopped {stop_seconds:.1f}s after SIGTERM")
    assert stop_seconds < 30, "the server must drain within the task's stop timeout"

    # A new task (a restart or a redeploy) on the same database sees everything.
    second = container(database, s3_endpoint)
    second.start()
    try:
        seconds = second.wait_healthy()
        print(f"/health answered {seconds:.1f}s after start (existing database)")
        check_run(second.url, run_id, tmp_path / "dl2", monkeypatch)
    finally:
        second.stop()


def test_two_tasks_starting_together_on_an_empty_database_both_serve(database, s3_endpoint):
    tasks = [container(database, s3_endpoint) for _ in range(2)]
    for task in tasks:
        task.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda t: t.wait_healthy(), tasks))
        for task in tasks:
            assert host_status(task.url, LB_DNS_NAME) == 200
        logs = "".join(t.log() for t in tasks)
        assert logs.count("empty database: creating the MLflow schema") == 1, logs
    finally:
        for task in tasks:
            task.stop()


def test_an_image_upgrade_migrates_an_older_schema_without_a_person(
    database, s3_endpoint, tmp_path, monkeypatch
):
    """A database at an older schema revision (as a previous MLflow image left it) is upgraded
    by the new image's start, with nobody running `mlflow db upgrade`."""
    import sqlalchemy
    from alembic import command
    from alembic.script import ScriptDirectory
    from mlflow.store.db.utils import _get_alembic_config
    from mlflow.store.tracking.dbmodels.initial_models import Base as InitialBase

    url = database.url
    config = _get_alembic_config(url.render_as_string(hide_password=False))
    script = ScriptDirectory.from_config(config)
    head = script.get_current_head()
    older = script.get_revision(head).down_revision  # the schema one release back
    engine = sqlalchemy.create_engine(url)
    InitialBase.metadata.create_all(engine)  # what mlflow's first start does, one step short
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, older)
    engine.dispose()

    task = container(database, s3_endpoint)
    task.start()
    try:
        task.wait_healthy()
        assert f"upgrading the MLflow schema from {older} to {head}" in task.log()
        _, run_id = log_a_run(task.url, tmp_path)
        check_run(task.url, run_id, tmp_path / "dl", monkeypatch)
    finally:
        task.stop()
