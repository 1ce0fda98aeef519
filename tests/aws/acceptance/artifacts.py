"""Artifacts moved with the real MLflow client, the two ways the suite needs: parts uploaded
straight to S3 through the URLs the server signs (the s3:authType check), and everything streamed
through the load balancer and the server (the server's own writes; the large transfer)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlflow_cfn.smoke.client import client_environment, environment, quiet_logs

MIB = 1 << 20
#: S3's smallest part (all but the last): a file of three parts goes up as a multipart upload.
PART_BYTES = 5 * MIB
#: Seconds the client waits for an answer: a streamed transfer is silent while the server moves
#: the file between its disk and S3 (README, Large artifacts).
STREAM_TIMEOUT_SECONDS = 1200


def write_file(path: Path, size: int) -> str:
    """A file of `size` random bytes (nothing to compress or deduplicate); its sha256."""
    digest = hashlib.sha256()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as output:
        left = size
        while left:
            block = os.urandom(min(left, 16 * MIB))
            digest.update(block)
            output.write(block)
            left -= len(block)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(16 * MIB), b""):
            digest.update(block)
    return digest.hexdigest()


def settings(uri: str, token: str | None, *, direct_upload: bool, streamed: bool) -> dict:
    """The client's environment: multipart uploads through signed URLs for files of three parts
    and more (`direct_upload`), or none; downloads streamed through the server (`streamed`)."""
    values: dict[str, str | None] = dict(client_environment(uri, token))
    values.update(
        MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD="true" if direct_upload else "false",
        MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE=str(PART_BYTES),
        MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE=str(PART_BYTES),
    )
    if streamed:
        values.update(
            MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD="false",
            MLFLOW_HTTP_REQUEST_TIMEOUT=str(STREAM_TIMEOUT_SECONDS),
        )
    return values


@contextlib.contextmanager
def temporary_run(client: Any) -> Iterator[str]:
    """A run in an experiment of its own, both deleted afterwards (also after a failure)."""
    name = f"mlflow-cfn-acceptance-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}"
    experiment = client.create_experiment(name)
    run = client.create_run(experiment).info.run_id
    try:
        yield run
    finally:
        with contextlib.suppress(Exception):  # the clean-up must not hide the result
            client.delete_run(run)
        with contextlib.suppress(Exception):
            client.delete_experiment(experiment)


def upload(uri: str, token: str | None, path: Path, *, direct: bool) -> float:
    """Log `path` as an artifact (by signed part URLs when `direct`, else through the server);
    the seconds it took. The MLflow client's error when it fails."""
    from mlflow.tracking import MlflowClient

    with environment(settings(uri, token, direct_upload=direct, streamed=False)), quiet_logs():
        client = MlflowClient(tracking_uri=uri)
        with temporary_run(client) as run:
            began = time.monotonic()
            client.log_artifact(run, str(path))
            return time.monotonic() - began


def round_trip(uri: str, token: str | None, path: Path, workdir: Path) -> tuple[float, float]:
    """Stream `path` up and back down through the server; the seconds each way. AssertionError
    when the bytes that come back differ."""
    from mlflow.tracking import MlflowClient

    expected = sha256_of(path)
    with environment(settings(uri, token, direct_upload=False, streamed=True)), quiet_logs():
        client = MlflowClient(tracking_uri=uri)
        with temporary_run(client) as run:
            began = time.monotonic()
            client.log_artifact(run, str(path))
            up = time.monotonic() - began
            began = time.monotonic()
            back = Path(client.download_artifacts(run, path.name, str(workdir)))
            down = time.monotonic() - began
    try:
        assert sha256_of(back) == expected, "the bytes that came back differ"
    finally:
        back.unlink(missing_ok=True)
    return up, down
