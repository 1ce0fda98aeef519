"""The `mlflow-cfn` commands the run uses, each run as a user runs it: the console script's entry
point (`mlflow_cfn.cli`) in a child process of this interpreter, with its output in a log file of
the run. A child process, so that several deployments go on at once and an operator's command
runs with the operator's credentials alone (its environment), never the person's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


def deploy(
    stack: str,
    parameters: Path,
    region: str,
    bucket: str,
    *,
    template: str | None = None,
    network_stack: str | None = None,
    tags: Sequence[str] = (),
) -> list[str]:
    """`mlflow-cfn deploy`, executing without asking (the change set is printed in the log)."""
    args = ["deploy", "--stack-name", stack, "--parameters", str(parameters)]
    args += ["--s3-bucket", bucket, "--region", region, "--yes", "--poll-seconds", "15"]
    if template:
        args += ["--template", template]
    if network_stack:
        args += ["--network-stack", network_stack]
    if tags:
        args += ["--tags", *tags]
    return args


def smoke(stack: str, region: str, wake_seconds: int = 300) -> list[str]:
    """`mlflow-cfn smoke` of a stack (its outputs give the URL and, with Cognito, the token)."""
    return ["smoke", "--stack-name", stack, "--region", region, "--wake-seconds", str(wake_seconds)]


def permissions(
    purpose: str, region: str, account: str, output_dir: Path, **flags: str
) -> list[str]:
    """`mlflow-cfn permissions --for PURPOSE` into managed-policy-sized files; `flags` are the
    command's other flags by their names (stack_name="x" is --stack-name x)."""
    args = ["permissions", "--for", purpose, "--region", region, "--account-id", account]
    for name, value in flags.items():
        args += [f"--{name.replace('_', '-')}", value]
    return [*args, "--output-dir", str(output_dir)]


def publish(
    portfolio: str,
    product: str,
    version: str,
    bucket: str,
    region: str,
    *,
    launch_role_name: str,
    principal: str,
    boundary_arn: str,
) -> list[str]:
    """`mlflow-cfn publish` of the product template as a new portfolio's product."""
    return [
        "publish",
        "--portfolio",
        portfolio,
        "--product",
        product,
        "--version",
        version,
        "--bucket",
        bucket,
        "--launch-role-name",
        launch_role_name,
        "--principal",
        principal,
        "--permissions-boundary-arn",
        boundary_arn,
        "--region",
        region,
    ]


@dataclass(frozen=True)
class Finished:
    """How a command ended: its exit code and the end of its output."""

    code: int
    log: Path
    tail: str

    def require(self, what: str) -> None:
        """RuntimeError with the end of the output unless the command exited 0."""
        if self.code != 0:
            raise RuntimeError(f"{what} exited {self.code}: {self.tail} (log: {self.log})")


def write_parameters(path: Path, parameters: Mapping[str, str]) -> Path:
    """A parameters file as `deploy --parameters` reads it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(parameters), indent=1, sort_keys=True) + "\n")
    return path


def child_environment(changes: Mapping[str, str | None]) -> dict[str, str]:
    """This process's environment with `changes` (None removes a variable)."""
    env = dict(os.environ)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run(
    args: Sequence[str], log: Path, environment: Mapping[str, str | None] | None = None
) -> Finished:
    """Run ``mlflow-cfn ARGS`` with this interpreter; output (both streams) to `log`.
    `environment` changes the child's environment (see `child_environment`)."""
    env = child_environment(environment or {})
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as output:
        output.write(f"$ mlflow-cfn {' '.join(args)}\n")
        output.flush()
        code = subprocess.run(
            [sys.executable, "-m", "mlflow_cfn.cli", *args],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            check=False,
        ).returncode
    lines = [line for line in log.read_text().splitlines()[1:] if line.strip()]
    return Finished(code, log, " | ".join(lines[-3:]))
