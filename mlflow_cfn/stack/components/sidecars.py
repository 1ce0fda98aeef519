"""Sidecar containers: a generic one switched on by SidecarImage, and build-time presets
(Datadog agent). Sidecars never receive the database secret, are not essential, and the
mlflow container does not depend on them."""

from __future__ import annotations

from troposphere import If, Select, Split
from troposphere.ecs import (
    ContainerDefinition,
    Environment,
    HealthCheck,
    KernelCapabilities,
    LinuxParameters,
    LogConfiguration,
    MountPoint,
    Secret,
    Volume,
)

from mlflow_cfn.stack import names
from mlflow_cfn.stack.conditions import sidecar_variable
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.policies import NO_VALUE

#: The Datadog agent image (major version pinned; the agent updates within it).
DATADOG_IMAGE = "public.ecr.aws/datadog/agent:7"
#: Directories the agent writes to, each a task volume, so its root file system stays read-only.
DATADOG_WRITABLE = {
    "datadog-config": "/etc/datadog-agent",
    "datadog-run": "/opt/datadog-agent/run",
    "datadog-socket": "/var/run/datadog",
    "datadog-tmp": "/tmp",
}
SIDECAR_TMP_VOLUME = "sidecar-tmp"


def _hardened(log_options: dict, stream_prefix: str) -> dict:
    """Settings every sidecar shares: not essential, no privileges, logs to CloudWatch."""
    return {
        "Essential": False,
        "Privileged": False,
        "ReadonlyRootFilesystem": True,
        "LinuxParameters": LinuxParameters(Capabilities=KernelCapabilities(Drop=["ALL"])),
        "LogConfiguration": LogConfiguration(
            LogDriver="awslogs", Options={**log_options, "awslogs-stream-prefix": stream_prefix}
        ),
    }


def generic_sidecar(ctx: Context, log_options: dict) -> If:
    """The SidecarImage container (or nothing)."""
    environment = []
    for slot in range(ctx.options.sidecar_environment_slots):
        pair = Split("=", sidecar_variable(ctx, slot))
        environment.append(
            If(
                names.has_sidecar_variable(slot),
                Environment(Name=Select(0, pair), Value=Select(1, pair)),
                NO_VALUE,
            )
        )
    container = ContainerDefinition(
        Name=ctx.ref(names.SIDECAR_NAME),
        Image=ctx.ref(names.SIDECAR_IMAGE),
        Cpu=ctx.ref(names.SIDECAR_CPU),
        MemoryReservation=ctx.ref(names.SIDECAR_MEMORY),
        Environment=environment,
        Secrets=[
            If(
                names.HAS_SIDECAR_SECRET,
                Secret(
                    Name=ctx.ref(names.SIDECAR_SECRET_VARIABLE),
                    ValueFrom=ctx.ref(names.SIDECAR_SECRET_ARN),
                ),
                NO_VALUE,
            )
        ],
        MountPoints=[MountPoint(SourceVolume=SIDECAR_TMP_VOLUME, ContainerPath="/tmp")],
        **_hardened(log_options, "sidecar"),
    )
    return If(names.HAS_SIDECAR, container, NO_VALUE)


def datadog_sidecar(ctx: Context, log_options: dict) -> ContainerDefinition:
    """The Datadog agent for ECS Fargate, its API key from Secrets Manager."""
    return ContainerDefinition(
        Name=names.DATADOG_CONTAINER,
        Image=DATADOG_IMAGE,
        Cpu=128,
        MemoryReservation=256,
        Environment=[
            Environment(Name="ECS_FARGATE", Value="true"),
            Environment(Name="DD_SITE", Value=ctx.ref(names.DATADOG_SITE)),
            Environment(Name="DD_PROCESS_AGENT_ENABLED", Value="true"),
        ],
        Secrets=[Secret(Name="DD_API_KEY", ValueFrom=ctx.ref(names.DATADOG_API_KEY_SECRET_ARN))],
        MountPoints=[
            MountPoint(SourceVolume=volume, ContainerPath=path)
            for volume, path in DATADOG_WRITABLE.items()
        ],
        HealthCheck=HealthCheck(
            Command=["CMD", "agent", "health"], Interval=30, Timeout=5, Retries=3, StartPeriod=60
        ),
        **_hardened(log_options, "datadog"),
    )


def sidecar_volumes(ctx: Context) -> list:
    """The task volumes the sidecars write to."""
    volumes = [If(names.HAS_SIDECAR, Volume(Name=SIDECAR_TMP_VOLUME), NO_VALUE)]
    if ctx.options.sidecar == "datadog":
        volumes += [Volume(Name=volume) for volume in DATADOG_WRITABLE]
    return volumes


def sidecar_secret_arns(ctx: Context) -> list[tuple[str, str, object]]:
    """(statement id, condition or None, secret ARN) the execution role may read for sidecars."""
    arns = [("ReadTheSidecarSecret", names.HAS_SIDECAR_SECRET, ctx.ref(names.SIDECAR_SECRET_ARN))]
    if ctx.options.sidecar == "datadog":
        arns.append(("ReadTheDatadogApiKey", None, ctx.ref(names.DATADOG_API_KEY_SECRET_ARN)))
    return arns
