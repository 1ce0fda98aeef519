"""The artifact steps with the real MLflow client against a local MLflow server (SQLite, local
artifacts): the calls work, the bytes come back, and what they made is deleted. S3 itself (the
signed part URLs, the s3:authType refusal) only the real account has."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.aws.acceptance import artifacts

pytestmark = pytest.mark.usefixtures("no_real_aws")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """A local `mlflow server` proxying artifacts to a directory; its URL."""
    home = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("mlflow")),
        "server",
        "--backend-store-uri",
        f"sqlite:///{home}/db.sqlite",
        "--artifacts-destination",
        str(home / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    log = (home / "server.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url + "/health", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((home / "server.log").read_text()[-2000:]) from None
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def test_a_file_and_its_digest(tmp_path):
    path = tmp_path / "f.bin"
    digest = artifacts.write_file(path, 3 * artifacts.MIB + 5)
    assert path.stat().st_size == 3 * artifacts.MIB + 5
    assert artifacts.sha256_of(path) == digest
    assert artifacts.write_file(tmp_path / "g.bin", 1024) != artifacts.write_file(
        tmp_path / "h.bin", 1024
    )


def test_the_client_settings_for_each_path():
    direct = artifacts.settings("https://x", "t", direct_upload=True, streamed=False)
    assert direct["MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"] == "true"
    assert direct["MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE"] == str(5 * artifacts.MIB)
    assert direct["MLFLOW_TRACKING_TOKEN"] == "t"
    streamed = artifacts.settings("https://x", None, direct_upload=False, streamed=True)
    assert streamed["MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"] == "false"
    assert streamed["MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD"] == "false"
    assert streamed["MLFLOW_HTTP_REQUEST_TIMEOUT"] == str(artifacts.STREAM_TIMEOUT_SECONDS)


def test_uploads_and_a_round_trip_clean_up_after_themselves(server, tmp_path):
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    path = tmp_path / "payload.bin"
    artifacts.write_file(path, 3 * artifacts.PART_BYTES + 1)
    assert artifacts.upload(server, None, path, direct=True) > 0  # (no S3 here: falls back)
    assert artifacts.upload(server, None, path, direct=False) > 0
    up, down = artifacts.round_trip(server, None, path, tmp_path / "down")
    assert up > 0 and down > 0
    assert list((tmp_path / "down").iterdir()) == []
    client = MlflowClient(tracking_uri=server)
    made = [
        e
        for e in client.search_experiments(view_type=ViewType.ALL)
        if e.name.startswith("mlflow-cfn-acceptance-")
    ]
    assert len(made) == 3 and {e.lifecycle_stage for e in made} == {"deleted"}
