"""``mlflow-cfn smoke`` from inputs to exit code: read the stack, get a token, reach the server
(waiting a bounded time for a waking service), run the MLflow checks, clean up, summarise."""

from __future__ import annotations

import importlib.metadata
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlflow_cfn.smoke.client import client_environment, environment, quiet_logs
from mlflow_cfn.smoke.http import SLOWEST_RETRY_SECONDS, reach
from mlflow_cfn.smoke.steps import SmokeInputError, StepFailed, Steps
from mlflow_cfn.smoke.target import SmokeRequest, Stack, read_stack
from mlflow_cfn.smoke.token import fetch_token, plan_token
from mlflow_cfn.stack.components.wake import ROUTE_SECONDS, WAKE_BUDGET_SECONDS
from mlflow_cfn.versions import MLFLOW_VERSION

__all__ = ["INSTALL_HINT", "mlflow_client_version", "smoke"]

INSTALL_HINT = f"pip install 'mlflow-cfn[smoke]' (mlflow=={MLFLOW_VERSION})"

#: Makes a boto3 client for a service name in the chosen region and profile.
AwsClients = Callable[[str], Any]


def mlflow_client_version() -> str:
    """The installed MLflow client's version; SmokeInputError naming the install command when
    MLflow is not installed (it is an optional extra of mlflow-cfn)."""
    try:
        return importlib.metadata.version("mlflow")
    except importlib.metadata.PackageNotFoundError:
        raise SmokeInputError(f"the MLflow client is not installed: {INSTALL_HINT}") from None


def _header(request: SmokeRequest, region: str | None, version: str) -> str:
    where = f"stack {request.stack_name} in {region}" if request.stack_name else ""
    target = ", ".join(filter(None, [request.tracking_uri, where]))
    return f"smoke test of {target} (MLflow client {version}; the stack runs {MLFLOW_VERSION})"


def _stack(request: SmokeRequest, aws: AwsClients, steps: Steps) -> Stack | None:
    """The stack's outputs and login settings (a step), or None with ``--tracking-uri`` only."""
    if not request.stack_name:
        return None

    def detail(stack: Stack) -> str:
        return f"{stack.found_outputs()} (AuthMode={stack.auth_mode}, {stack.status})"

    name = request.stack_name
    return steps.run("read stack outputs", lambda: read_stack(aws("cloudformation"), name), detail)


def _token(request: SmokeRequest, stack: Stack | None, aws: AwsClients, steps: Steps) -> str | None:
    """The bearer token (a step), or None when no login is expected."""
    plan = plan_token(request, stack)
    if plan is None:
        return None
    fetch = lambda: fetch_token(plan, lambda: aws("cognito-idp"))  # noqa: E731
    return steps.run("get a bearer token", fetch, lambda _: plan.source)


def _checks(uri: str, token: str | None, request: SmokeRequest, steps: Steps) -> None:
    """The MLflow client checks and their clean-up, in the client's environment."""
    from mlflow_cfn.smoke.checks import Checks

    with (
        tempfile.TemporaryDirectory(prefix="mlflow-cfn-smoke-") as workdir,
        environment(client_environment(uri, token)),
        quiet_logs(),
    ):
        checks = Checks(uri, token, steps, Path(workdir), request.artifact_bytes)
        try:
            checks.run_all()
        except StepFailed:
            pass  # reported by the step; clean up and summarise
        finally:
            checks.clean_up()


def within_budget(waited: float) -> str:
    """The measured wake (first 502/503/504 to the answer) against README's wake budget, plus
    the routing to the woken task and smoke's own retry interval."""
    allowed = WAKE_BUDGET_SECONDS + ROUTE_SECONDS + SLOWEST_RETRY_SECONDS
    line = f"woke in {waited:.0f} s (allowed {allowed:.0f} s: the {WAKE_BUDGET_SECONDS} s budget"
    line += f", {ROUTE_SECONDS} s routing, {SLOWEST_RETRY_SECONDS:.0f} s between tries)"
    if waited > allowed:
        raise StepFailed(line)
    return line


def smoke(
    request: SmokeRequest,
    *,
    aws: AwsClients,
    region: str | None,
    out: Callable[[str], None] = print,
    err: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Check the deployed server end to end; 0 when every step passed, 1 when one failed.
    SmokeInputError (exit code 2) for inputs that let nothing be checked; `aws` makes the
    CloudFormation and Cognito clients, only when the stack is read."""
    if not (request.stack_name or request.tracking_uri):
        raise SmokeInputError(
            "give --stack-name NAME (reads its TrackingUri) or --tracking-uri URL"
        )
    version = mlflow_client_version()
    out(_header(request, region, version))
    steps = Steps(out, err)
    try:
        stack = _stack(request, aws, steps)
        uri = (request.tracking_uri or (stack.outputs["TrackingUri"] if stack else "")).rstrip("/")
        token = _token(request, stack, aws, steps)
        answer = steps.run(
            "reach the server",
            lambda: reach(uri, token, request.wake_seconds, steps.note, sleep),
            lambda answer: f"{uri} answered HTTP {answer.status}",
        )
        if answer.waited:
            steps.run("wake within the budget", lambda: within_budget(answer.waited), str)
    except StepFailed:
        return steps.summary()
    _checks(uri, token, request, steps)
    return steps.summary()
