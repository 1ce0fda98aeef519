"""The MLflow client as ``mlflow-cfn smoke`` runs it: its environment for the checks (few quick
retries, no progress bars, the token), and its errors told as the likely cause."""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from mlflow_cfn.smoke.http import HOST_REFUSED, WAKING, Answer, get, http_cause
from mlflow_cfn.smoke.steps import StepFailed, unexpected

__all__ = [
    "PROXY_DOWNLOAD",
    "check_presigned_url",
    "client_environment",
    "mlflow_cause",
    "presigned_cause",
    "quiet_logs",
    "server_advertises_presigned_downloads",
]

#: The client switch between presigned S3 URLs (unset: the server's choice) and the server.
PROXY_DOWNLOAD = "MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD"

#: The client's settings during the checks: one quick retry so a failure is told at once (the
#: first request already waited for a waking service), and no progress bars in the output.
CLIENT_SETTINGS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}


@contextmanager
def environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for None, remove) environment variables, restoring them afterwards: the MLflow
    client reads its settings from the environment at each call."""
    previous = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def client_environment(uri: str, token: str | None) -> Mapping[str, str | None]:
    """The environment of the checks: the tracking URI (the proxied ``mlflow-artifacts:/`` URIs
    resolve against it), the token, quick retries, and the server's choice of download path."""
    return {
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_TRACKING_TOKEN": token,
        PROXY_DOWNLOAD: None,
        **CLIENT_SETTINGS,
    }


def mlflow_cause(exc: BaseException, uri: str, token: str | None) -> str:
    """The likely cause of an MLflow client error: an HTTP status it names is explained as for
    the first request; anything else is told as it is."""
    text = str(exc)
    if HOST_REFUSED in text:
        return http_cause(Answer(403, body=HOST_REFUSED), uri, token)
    found = re.search(r"error code (\d{3})|\b(\d{3}) (?:Client|Server) Error", text)
    if found:
        status = int(found.group(1) or found.group(2))
        if status in (401, 403, *WAKING):
            return http_cause(Answer(status, body=text), uri, token)
    return unexpected(exc)


def server_advertises_presigned_downloads(uri: str, token: str | None) -> bool:
    """Whether the server tells clients to download artifacts by presigned URL (MLflow's
    server-info); the 3.17 server with an S3 artifact store does."""
    answer = get(uri.rstrip("/") + "/api/3.0/mlflow/server-info", token)
    if answer.status != 200:
        return False
    try:
        return bool(json.loads(answer.body).get("multipart_downloads_enabled"))
    except (ValueError, AttributeError):
        return False


def _presigned_url(uri: str, token: str | None, artifact: str) -> tuple[str, dict[str, str]]:
    """The presigned S3 URL (and headers) the server gives for `artifact`
    (``<experiment>/<run>/artifacts/<path>``); StepFailed when it gives none."""
    base = uri.rstrip("/") + "/api/2.0/mlflow-artifacts/presigned/"
    answer = get(base + urllib.parse.quote(artifact), token)
    if answer.status != 200:
        raise StepFailed(f"the server gave no presigned URL: {http_cause(answer, uri, token)}")
    try:
        presigned = json.loads(answer.body)
        return presigned["url"], presigned.get("headers") or {}
    except (ValueError, KeyError, TypeError) as exc:
        raise StepFailed(f"the server's presigned URL answer is not understood: {exc}") from exc


def _advice(host: str, reason: str) -> str:
    return (
        f"download by the presigned S3 URL (host {host}) failed: {reason}; clients like this "
        f"one need a route to S3, or {PROXY_DOWNLOAD}=false to stream artifacts through the "
        "server"
    )


def check_presigned_url(uri: str, token: str | None, artifact: str) -> None:
    """Fetch the first byte of `artifact` by its presigned URL, once, without the MLflow client
    (which retries an unreachable S3 for minutes); StepFailed naming the S3 host and the error."""
    url, headers = _presigned_url(uri, token, artifact)
    request = urllib.request.Request(url, headers={**headers, "Range": "bytes=0-0"})
    try:  # a new opener reads the proxy variables now, as the MLflow client's requests does
        with urllib.request.build_opener().open(request, timeout=15):
            return
    except urllib.error.HTTPError as error:
        reason = f"S3 answered HTTP {error.code}"
    except OSError as error:
        reason = f"S3 is not reachable from this client ({getattr(error, 'reason', error)})"
    raise StepFailed(_advice(urllib.parse.urlsplit(url).netloc, reason))


def presigned_cause(uri: str, exc: BaseException) -> str:
    """The MLflow client's failure to download by a presigned URL that answered a first probe."""
    return _advice(urllib.parse.urlsplit(uri).netloc + "'s S3", unexpected(exc))


@contextmanager
def quiet_logs(names: tuple[str, ...] = ("mlflow", "urllib3")) -> Iterator[None]:
    """Keep the MLflow client's and urllib3's retry and progress messages out of the output:
    each failure is told in one line by its step."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
