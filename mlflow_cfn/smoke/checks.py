"""The checks ``mlflow-cfn smoke`` runs with the real MLflow client, as a user's code would: a
temporary experiment and run with params, metrics and tags, an artifact of a few MB uploaded and
downloaded both ways clients do (presigned S3 URL, and through the server), a search, and the
clean-up of everything it made (also after a failure)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow_cfn.smoke.client import (
    PROXY_DOWNLOAD,
    check_presigned_url,
    environment,
    mlflow_cause,
    presigned_cause,
    server_advertises_presigned_downloads,
)
from mlflow_cfn.smoke.steps import StepFailed, Steps

__all__ = ["ARTIFACT_PATH", "Checks"]

ARTIFACT_DIR = "smoke"
ARTIFACT_NAME = "payload.bin"
ARTIFACT_PATH = f"{ARTIFACT_DIR}/{ARTIFACT_NAME}"
MARKER_TAG = "mlflow-cfn.smoke"
PARAMS = {"learning_rate": "0.01", "optimizer": "adam"}
LOSSES = [1.0, 0.5, 0.25]


@dataclass
class Checks:
    """The checks against `uri` (the MLflow client's environment already set), what they made
    (`experiment_id`, `run_id`) for the clean-up, and the local files in `workdir`."""

    uri: str
    token: str | None
    steps: Steps
    workdir: Path
    artifact_bytes: int
    marker: str = ""
    experiment_id: str | None = None
    run_id: str | None = None
    artifact: str = ""  # <experiment>/<run>/artifacts/<path>, as the presigned endpoint names it
    digest: str = ""

    def __post_init__(self) -> None:
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(tracking_uri=self.uri)
        self.marker = f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{secrets.token_hex(4)}"

    def _step(self, name: str, action: Any, detail: Any = None) -> Any:
        """A step whose MLflow errors are told as their likely cause."""

        def guarded() -> Any:
            try:
                return action()
            except StepFailed:
                raise
            except Exception as exc:
                raise StepFailed(mlflow_cause(exc, self.uri, self.token)) from exc

        return self.steps.run(name, guarded, detail)

    def run_all(self) -> None:
        """Every check in order; StepFailed stops at the first failure (but a failed presigned
        download goes on to the download through the server)."""
        self._step("create experiment", self._create_experiment, lambda name: name)
        self._step("log params, metrics and tags", self._log, lambda n: f"{n} values read back")
        self._step("upload artifact", self._upload, lambda size: f"{size / 2**20:.1f} MiB")
        self._presigned_download()
        self._step(
            "download through the server", lambda: self._download(PROXY_DOWNLOAD, "false"), _same
        )
        self._step("search runs", self._search, lambda n: f"found the run among {n}")

    def _create_experiment(self) -> str:
        name = f"mlflow-cfn-smoke-{self.marker}"
        self.experiment_id = self.client.create_experiment(name, tags={MARKER_TAG: self.marker})
        return f"{name} (id {self.experiment_id})"

    def _log(self) -> int:
        from mlflow.entities import Metric, Param, RunTag

        run = self.client.create_run(self.experiment_id, tags={MARKER_TAG: self.marker})
        self.run_id = run.info.run_id
        now = int(time.time() * 1000)
        self.client.log_batch(
            self.run_id,
            metrics=[Metric("loss", v, now, step) for step, v in enumerate(LOSSES)],
            params=[Param(k, v) for k, v in PARAMS.items()],
            tags=[RunTag("stage", "smoke")],
        )
        data = self.client.get_run(self.run_id).data
        history = [m.value for m in self.client.get_metric_history(self.run_id, "loss")]
        got = (data.params, history, data.tags.get("stage"))
        if got != (PARAMS, LOSSES, "smoke"):
            raise StepFailed(f"read back {got}, logged {(PARAMS, LOSSES, 'smoke')}")
        return len(PARAMS) + len(LOSSES) + 1

    def _upload(self) -> int:
        source = self.workdir / "upload" / ARTIFACT_NAME
        source.parent.mkdir()
        payload = os.urandom(self.artifact_bytes)
        source.write_bytes(payload)
        self.digest = hashlib.sha256(payload).hexdigest()
        self.client.log_artifact(self.run_id, str(source), artifact_path=ARTIFACT_DIR)
        uri = self.client.get_run(self.run_id).info.artifact_uri
        if not uri.startswith("mlflow-artifacts:"):
            raise StepFailed(f"artifacts are not proxied by the server: artifact URI {uri}")
        self.artifact = f"{uri.split(':', 1)[1].lstrip('/')}/{ARTIFACT_PATH}"
        return self.artifact_bytes

    def _download(self, variable: str, value: str | None) -> bool:
        """Download the artifact with `variable` set to `value`; True if the bytes match."""
        target = Path(tempfile.mkdtemp(dir=self.workdir))
        with environment({variable: value}):
            local = self.client.download_artifacts(self.run_id, ARTIFACT_PATH, str(target))
        digest = hashlib.sha256(Path(local).read_bytes()).hexdigest()
        if digest != self.digest:
            raise StepFailed(f"downloaded bytes differ from the upload (sha256 {digest[:12]})")
        return True

    def _presigned_download(self) -> None:
        """The download clients do by default: a presigned S3 URL the server signs."""
        name = "download by presigned S3 URL"
        if not server_advertises_presigned_downloads(self.uri, self.token):
            self.steps.note(f"{name}: skipped, the server does not offer presigned downloads")
            return

        def download() -> bool:
            check_presigned_url(self.uri, self.token, self.artifact)
            try:
                return self._download(PROXY_DOWNLOAD, None)
            except StepFailed:
                raise
            except Exception as exc:
                raise StepFailed(presigned_cause(self.uri, exc)) from exc

        # The next step shows whether streaming through the server works instead.
        with contextlib.suppress(StepFailed):  # reported by the step; the summary counts it
            self.steps.run(name, download, _same)

    def _search(self) -> int:
        runs = self.client.search_runs(
            [self.experiment_id], filter_string=f"tags.`{MARKER_TAG}` = '{self.marker}'"
        )
        if [r.info.run_id for r in runs] != [self.run_id]:
            raise StepFailed(f"search by tag found {[r.info.run_id for r in runs]}")
        if runs[0].data.metrics.get("loss") != LOSSES[-1]:
            raise StepFailed(f"search returned loss {runs[0].data.metrics.get('loss')}")
        return len(runs)

    def clean_up(self) -> None:
        """Delete what the checks made: the artifact (from S3, through the server), the run
        and the experiment (to MLflow's trash; ``mlflow gc`` purges it). Runs after a failure."""
        if self.experiment_id is None:
            return
        with contextlib.suppress(StepFailed):  # reported by the step; the summary counts it
            self._step("delete artifact, run and experiment", self._delete, lambda made: made)

    def _delete(self) -> str:
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        made = []
        if self.run_id is not None:
            if self.artifact:
                uri = self.client.get_run(self.run_id).info.artifact_uri
                get_artifact_repository(uri).delete_artifacts(ARTIFACT_DIR)
                made.append("artifact")
            self.client.delete_run(self.run_id)
            made.append(f"run {self.run_id}")
        self.client.delete_experiment(self.experiment_id)
        return ", ".join([*made, f"experiment {self.experiment_id}"])


def _same(_: bool) -> str:
    """What a download step prints when the bytes matched."""
    return "bytes match"
