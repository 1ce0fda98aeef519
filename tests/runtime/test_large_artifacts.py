"""A 1 GiB artifact up and down through the emitted container, both ways MLflow 3.17 clients move
it (issue 16), on PostgreSQL with S3 emulated:

- streamed through the server (MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=false and
  MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD=false, what a client without a route to S3 sets): the
  server stages the whole file on its task volume (/tmp) in both directions, and its memory does
  not follow the file's size;
- directly to and from S3 (the client's default: the server advertises multipart uploads and
  presigned downloads, and clients use them for files of MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE
  (500 MiB) or more): the server only signs, and stages nothing.

Bytes must come back identical. Figures (seconds, peak memory, peak /tmp use) are printed:
``MLFLOW_CFN_REQUIRE_SERVICES=1 .venv/bin/python -m pytest -s -p no:cacheprovider
tests/runtime/test_large_artifacts.py``.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.runtime.conftest import s3_client
from tests.runtime.harness import (
    BUCKET,
    DOMAIN,
    LocalContainer,
    moto_server,
    through_load_balancer,
)
from tests.runtime.test_container_runtime import container, host_status

pytestmark = pytest.mark.runtime

MIB = 2**20
SIZE = 1024 * MIB
#: How much the container's memory (all its processes) may grow over its warmed-up idle level
#: while it moves the 1 GiB file: a server holding the file would need 1024 MiB more. Measured
#: growth is in the note printed by the test (see README, "Large artifacts").
MEMORY_GROWTH_BOUND = 128 * MIB
#: Staging that does not hold the whole file (the direct path) stays below this.
NO_STAGING = 64 * MIB
#: What a client without a route to S3 sets: everything streams through the server.
PROXIED = dict.fromkeys(
    ("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD"), "false"
)


@pytest.fixture
def s3_in_memory():
    """An S3 emulator of the test's own that keeps objects in memory and serves a range without
    copying the whole object (`tests.runtime.moto_in_memory`): the server downloads in 8 MiB
    ranges, and stock moto's whole-object copy per range would dominate the test."""
    with moto_server(module="tests.runtime.moto_in_memory") as endpoint:
        s3_client(endpoint).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield endpoint


def write_random_file(path: Path, size: int) -> str:
    """Write ``size`` random bytes, one MiB at a time (never the whole file in memory); return
    their SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as f:
        for _ in range(size // MIB):
            chunk = os.urandom(MIB)
            digest.update(chunk)
            f.write(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(MIB):
            digest.update(chunk)
    return digest.hexdigest()


class Watch:
    """While a transfer runs: the container's total resident memory and the use of its /tmp (the
    task volume, seen through /proc/<pid>/root), sampled every 0.25 s; their peaks."""

    def __init__(self, task: LocalContainer):
        self.task = task
        self.peak_rss = self.peak_tmp = 0
        self.began = time.monotonic()
        self.whole_at: float | None = None  # seconds until /tmp held the whole file
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def tmp_used(self) -> int:
        stat = os.statvfs(f"/proc/{self.task.process.pid}/root/tmp")
        return (stat.f_blocks - stat.f_bfree) * stat.f_frsize

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.peak_rss = max(self.peak_rss, self.task.sample())
            self.peak_tmp = max(self.peak_tmp, self.tmp_used())
            if self.whole_at is None and self.peak_tmp >= SIZE:
                self.whole_at = time.monotonic() - self.began

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.seconds = time.monotonic() - self.began


@dataclass
class Transfer:
    """One artifact up and down: seconds, the container's peak memory over its idle level, the
    peak use of its /tmp and when it held the whole file (the client hears nothing meanwhile)."""

    up_s: float
    down_s: float
    idle: int
    peak_rss: int
    staged: tuple[int, int]  # peak /tmp use while uploading, downloading
    whole_at: tuple[float | None, float | None]
    tmp_after: int
    local: Path

    def line(self, way: str) -> str:
        silent = ""
        if None not in self.whole_at:
            silent = (
                f"; silent towards the client {self.up_s - self.whole_at[0]:.1f} s after the "
                f"last byte up, {self.whole_at[1]:.1f} s before the first byte down"
            )
        return (
            f"1 GiB {way}: up {self.up_s:.1f} s, down {self.down_s:.1f} s; memory peak "
            f"{self.peak_rss / MIB:.0f} MiB, idle {self.idle / MIB:.0f} MiB (+"
            f"{(self.peak_rss - self.idle) / MIB:.0f}); /tmp peak {self.staged[0] / MIB:.0f} MiB "
            f"up, {self.staged[1] / MIB:.0f} MiB down{silent}"
        )


def transfer(task: LocalContainer, run_id: str, source: Path, target: Path, path: str) -> Transfer:
    """Upload ``source`` as ``path/<name>`` and download it to ``target``, watching the server."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=task.url)
    idle = task.sample()
    with Watch(task) as up:
        client.log_artifact(run_id, str(source), path)
    with Watch(task) as down:
        local = client.download_artifacts(run_id, f"{path}/{source.name}", str(target))
    return Transfer(
        up_s=up.seconds,
        down_s=down.seconds,
        idle=idle,
        peak_rss=max(up.peak_rss, down.peak_rss),
        staged=(up.peak_tmp, down.peak_tmp),
        whole_at=(up.whole_at, down.whole_at),
        tmp_after=down.tmp_used(),
        local=Path(local),
    )


def requests_logged(task: LocalContainer, path: str) -> list[str]:
    """The server's access-log request lines for artifacts under ``path``."""
    lines = [line for line in task.log().splitlines() if '"' in line]
    return [line for line in lines if f"/{path}/" in line or f"/{path} HTTP" in line]


def test_a_1_gib_artifact_goes_up_and_down_both_ways(
    pg_database, s3_in_memory, tmp_path, monkeypatch
):
    source = tmp_path / "model.bin"
    digest = write_random_file(source, SIZE)
    task = container(pg_database, s3_in_memory)
    task.start()
    try:
        task.wait_healthy()
        # uvicorn keeps the load balancer's idle connections longer than any idle timeout, and
        # still refuses Host names other than the load balancer's and the domain.
        assert any("--timeout-keep-alive 4005" in c for c in task.command_lines())
        assert (host_status(task.url, DOMAIN), host_status(task.url, "evil.example")) == (200, 403)
        with through_load_balancer(task.url, DOMAIN):
            lines = _both_ways(task, source, digest, tmp_path, monkeypatch)
        hwm = _high_water_marks(task)
    finally:
        task.stop()
        for path in tmp_path.rglob("*.bin"):
            path.unlink()
    lines += [
        f"sum of the container's processes' VmHWM (a bound of its peak): {hwm / MIB:.0f} MiB",
        f"asserted: memory grows less than {MEMORY_GROWTH_BOUND / MIB:.0f} MiB over idle",
    ]
    print("\n" + "\n".join(lines))


def _both_ways(task, source, digest, tmp_path, monkeypatch) -> list[str]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=task.url)
    run_id = client.create_run(client.create_experiment(f"large-{time.time_ns()}")).info.run_id
    for name, value in PROXIED.items():
        monkeypatch.setenv(name, value)
    # Warm up with 1 MiB (the first transfer imports boto3's S3 machinery: not per file).
    write_random_file(warm := tmp_path / "warm.bin", MIB)
    transfer(task, run_id, warm, tmp_path / "warm", "warm")
    streamed = transfer(task, run_id, source, tmp_path / "proxied", "proxied")
    for name in PROXIED:  # MLflow 3.17's default: what the server advertises
        monkeypatch.delenv(name)
    direct = transfer(task, run_id, source, tmp_path / "direct", "direct")
    for way in (streamed, direct):
        assert sha256_of(way.local) == digest
        assert way.peak_rss - way.idle < MEMORY_GROWTH_BOUND, way
        assert way.tmp_after < NO_STAGING, way  # the server removed what it staged
    # Streamed: the server stages the whole file on the task volume, both ways.
    assert min(streamed.staged) >= SIZE, streamed
    assert not [r for r in requests_logged(task, "proxied") if "/mpu/" in r or "/presigned/" in r]
    # Direct: the server signs (multipart upload, presigned download), S3 carries the bytes.
    assert max(direct.staged) < NO_STAGING, direct
    logged = " ".join(requests_logged(task, "direct"))
    assert all(f"/{call}/" in logged for call in ("mpu/create", "mpu/complete", "presigned"))
    assert '"PUT /api/2.0/mlflow-artifacts/artifacts/' not in logged, logged
    return [streamed.line("streamed through the server"), direct.line("directly to and from S3")]


def _high_water_marks(task: LocalContainer) -> int:
    total = 0
    for pid in task.process_tree():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) * 1024
    return total
