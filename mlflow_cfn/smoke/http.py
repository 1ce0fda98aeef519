"""The first request of ``mlflow-cfn smoke`` and what its failures mean.

It is sent without the MLflow client so that every answer can be explained: MLflow's Host check
(403 with its DNS-rebinding message), the load balancer's login (a redirect to the login page
without a token, 401 for a bad one), 502/503/504 while no task is healthy (retried for a bounded
time, said so), and a name that does not resolve or an address that does not answer."""

from __future__ import annotations

import dataclasses
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from mlflow_cfn.smoke.steps import StepFailed

__all__ = ["HOST_REFUSED", "Answer", "connection_cause", "http_cause", "reach"]

#: What MLflow answers (403) to a Host header outside MLFLOW_SERVER_ALLOWED_HOSTS.
HOST_REFUSED = "Invalid Host header"
PROBE_PATH = "/api/2.0/mlflow/experiments/search?max_results=1"
WAKING = (502, 503, 504)
TIMEOUT_SECONDS = 30
#: The longest wait between two tries while the service wakes.
SLOWEST_RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, the headers that explain it, and the start of the body."""

    status: int
    location: str = ""
    authenticate: str = ""
    body: str = ""
    waited: float = 0.0  # seconds from the first 502/503/504 to this answer (a wake)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are answers to explain (login page, HTTP to HTTPS), not to follow."""

    def redirect_request(self, *args, **kwargs):
        return None


def get(url: str, token: str | None) -> Answer:
    """GET `url` (with the bearer token), following no redirect; OSError when unreachable."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(
            urllib.request.Request(url, headers=headers), timeout=TIMEOUT_SECONDS
        ) as r:
            return Answer(r.status, body=r.read(16384).decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        return Answer(
            exc.code,
            location=exc.headers.get("Location", ""),
            authenticate=exc.headers.get("WWW-Authenticate", ""),
            body=exc.read(16384).decode("utf-8", "replace"),
        )


def _message(body: str) -> str:
    """MLflow's error message from a JSON body, else the body's first 200 characters."""
    try:
        data = json.loads(body)
        if isinstance(data, dict) and data.get("message"):
            return str(data["message"])
    except ValueError:
        pass
    return " ".join(body.split())[:200]


def http_cause(answer: Answer, uri: str, token: str | None) -> str:
    """The likely cause of a refused request, in one line."""
    host = urllib.parse.urlsplit(uri).netloc
    if answer.status == 403 and HOST_REFUSED in answer.body:
        return (
            f"Host header refused by MLflow (403 {_message(answer.body)!r}): the server answers "
            f"only its load balancer's DNS name and the stack's DomainName, not {host}; use the "
            "stack's TrackingUri, or deploy with this name as DomainName"
        )
    if answer.status == 401:
        detail = f" ({answer.authenticate})" if answer.authenticate else ""
        given = "the bearer token was refused" if token else "no bearer token was sent"
        return (
            f"401 from the load balancer{detail}: {given}; the token must be valid, unexpired, "
            "from the stack's identity provider and carry its scope (Cognito) or audience (OIDC)"
        )
    if answer.status == 403:
        return (
            f"403 from the load balancer or a firewall in front of MLflow (not MLflow's Host "
            f"check): {_message(answer.body) or 'no message'}; check the token's scope or "
            "audience and any WAF rule"
        )
    if 300 <= answer.status < 400:
        return _redirect_cause(answer, uri, token)
    if answer.status in WAKING:
        return (
            f"{answer.status} from the load balancer: no healthy MLflow task answered (service "
            "scaled to zero, still starting, or failing its health check); see the ECS "
            "service's events and the task logs"
        )
    if answer.status == 404:
        return f"404 for {PROBE_PATH}: {uri} is not an MLflow tracking server"
    return f"HTTP {answer.status} from {host}: {_message(answer.body) or 'no message'}"


def _redirect_cause(answer: Answer, uri: str, token: str | None) -> str:
    """A redirect: to HTTPS (use it) or to a login page (no valid token)."""
    target = urllib.parse.urlsplit(answer.location)
    source = urllib.parse.urlsplit(uri)
    if source.scheme == "http" and target.scheme == "https" and target.hostname == source.hostname:
        return f"the load balancer redirects to HTTPS: use https://{source.netloc}"
    login = target.hostname or answer.location or "elsewhere"
    return (
        f"{answer.status} redirect to the login page at {login}: the load balancer wants a "
        f"login; {'the token did not count as a bearer token' if token else 'send a token'} "
        "(--token, MLFLOW_TRACKING_TOKEN, or --token-url/--client-id)"
    )


def connection_cause(exc: BaseException, uri: str) -> str:
    """Why `uri` could not be reached at all, in one line."""
    parsed = urllib.parse.urlsplit(uri)
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, socket.gaierror):
        return (
            f"cannot resolve {parsed.hostname} from this client ({reason}): the DNS record is "
            "missing (DomainName without HostedZoneId: create the record) or this client cannot "
            "query public DNS (a load balancer's name, internal ones included, is public)"
        )
    return (
        f"cannot connect to {parsed.netloc}: {reason}; this client's address must be in the "
        "stack's LoadBalancerIngressCidrs and have a network route to the load balancer"
    )


def reach(
    uri: str,
    token: str | None,
    wait_seconds: float,
    note: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Answer:
    """Search experiments once; while the load balancer answers 502/503/504 retry every few
    seconds (at most 5, so the wait is measured to within that) for up to `wait_seconds` (saying
    so). The answer tells how long it waited. StepFailed with the cause otherwise."""
    url = uri.rstrip("/") + PROBE_PATH
    began = clock()
    deadline = began + wait_seconds
    delay, said = 2.0, False
    while True:
        try:
            answer = get(url, token)
        except OSError as exc:
            raise StepFailed(connection_cause(exc, uri)) from exc
        if answer.status == 200:
            return dataclasses.replace(answer, waited=clock() - began) if said else answer
        left = deadline - clock()
        if answer.status not in WAKING or left <= 0:
            cause = http_cause(answer, uri, token)
            if answer.status in WAKING and wait_seconds > 0:
                cause += f" (still {answer.status} after waiting {wait_seconds:.0f} s)"
            raise StepFailed(cause)
        if not said:
            note(f"{answer.status}: the service may be waking up; retrying for up to {left:.0f} s")
            said = True
        sleep(min(delay, left))
        delay = min(delay * 1.5, SLOWEST_RETRY_SECONDS)
