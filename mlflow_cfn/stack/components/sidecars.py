"""Sidecar containers: a generic one switched on by SidecarImage, and build-time presets
(Datadog agent). Sidecars never receive the database secret, are not essential, and the
mlflow container does not depend on them."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import If, Ref, Select, Split
from troposphere.ecs import (
    ContainerDefinition,
    ContainerDependency,
    Environment,
    HealthCheck,
    MountPoint,
    Secret,
    Volume,
)

from mlflow_cfn.stack import policies
from mlflow_cfn.stack.components.hardening import hardened_settings
from mlflow_cfn.stack.components.sidecar_inputs import (
    DATADOG_API_KEY_KMS_KEY_ARN,
    DATADOG_API_KEY_SECRET_ARN,
    DATADOG_SITE,
    HAS_DATADOG_API_KEY_KMS_KEY,
    HAS_SIDECAR,
    HAS_SIDECAR_SECRET,
    HAS_SIDECAR_SECRET_KMS_KEY,
    SIDECAR_CPU,
    SIDECAR_IMAGE,
    SIDECAR_MEMORY,
    SIDECAR_NAME,
    SIDECAR_SECRET_ARN,
    SIDECAR_SECRET_KMS_KEY_ARN,
    SIDECAR_SECRET_VARIABLE,
    SIDECAR_USER,
    SidecarInputs,
    declare_sidecar_inputs,
    has_sidecar_variable,
    sidecar_variable,
)
from mlflow_cfn.stack.components.volumes import (
    SIDECAR_TMP_VOLUME,
    after_preparation,
    init_container_settings,
)
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.policies import NO_VALUE

#: The Datadog agent image (major version pinned; the agent updates within it).
DATADOG_IMAGE = "public.ecr.aws/datadog/agent:7"
#: Directories the agent writes to, each a task volume, so its root file system stays read-only
#: (Datadog's "Running the Agent with a Read-Only Root Filesystem" guide, plus the two paths the
#: image declares as VOLUME, which Fargate fills from the image only when a task volume is there).
DATADOG_WRITABLE = {
    "datadog-config": "/etc/datadog-agent",
    "datadog-run": "/opt/datadog-agent/run",
    "datadog-socket": "/var/run/datadog",
    "datadog-tmp": "/tmp",
    "datadog-s6": "/var/run/s6",
    "datadog-log": "/var/log/datadog",
}
DATADOG_CONTAINER = "datadog-agent"
DATADOG_INIT_CONTAINER = "datadog-init"
#: The image's dd-agent user: its Dockerfile fails the build unless the uid is 100, and Datadog's
#: docs name 100 for running the agent unprivileged. Its primary group is root (gid 0).
DATADOG_USER = "100"
#: Where the init container sees the configuration volume (its own /etc/datadog-agent holds the
#: image's defaults, copied there, as Datadog's ECS Fargate Terraform module does).
DATADOG_CONFIG_COPY = "/volumes/datadog-config"
#: Copy the default configuration; open every volume still owned by root (Fargate's default) to
#: the agent; leave the ones Fargate filled from the image's VOLUME (owned by dd-agent) alone.
DATADOG_INIT_SCRIPT = (
    "set -e\n"
    f"cp -R /etc/datadog-agent/. {DATADOG_CONFIG_COPY}/\n"
    f"chmod -R a+rwX {DATADOG_CONFIG_COPY}\n"
    f"for d in {' '.join(p for v, p in DATADOG_WRITABLE.items() if v != 'datadog-config')}; do\n"
    '  if [ "$(stat -c %u "$d")" = 0 ]; then chmod 1777 "$d"; fi\n'
    "done\n"
)


def generic_sidecar(ctx: Context, inputs: SidecarInputs, log_options: dict) -> If:
    """The SidecarImage container (or nothing)."""
    environment = []
    for slot in range(ctx.options.sidecar_environment_slots):
        pair = Split("=", sidecar_variable(ctx, inputs, slot))
        environment.append(
            If(
                has_sidecar_variable(slot),
                Environment(Name=Select(0, pair), Value=Select(1, pair)),
                NO_VALUE,
            )
        )
    container = ContainerDefinition(
        Name=Ref(inputs[SIDECAR_NAME]),
        Image=Ref(inputs[SIDECAR_IMAGE]),
        Cpu=Ref(inputs[SIDECAR_CPU]),
        MemoryReservation=Ref(inputs[SIDECAR_MEMORY]),
        Environment=environment,
        Secrets=[
            If(
                HAS_SIDECAR_SECRET,
                Secret(
                    Name=Ref(inputs[SIDECAR_SECRET_VARIABLE]),
                    ValueFrom=Ref(inputs[SIDECAR_SECRET_ARN]),
                ),
                NO_VALUE,
            )
        ],
        User=Ref(inputs[SIDECAR_USER]),  # never root (the Parameter refuses 0)
        DependsOn=after_preparation(),
        MountPoints=[MountPoint(SourceVolume=SIDECAR_TMP_VOLUME, ContainerPath="/tmp")],
        **hardened_settings(log_options, "sidecar"),
    )
    return If(HAS_SIDECAR, container, NO_VALUE)


def datadog_sidecar(inputs: SidecarInputs, log_options: dict) -> ContainerDefinition:
    """The Datadog agent for ECS Fargate, its API key from Secrets Manager."""
    return ContainerDefinition(
        Name=DATADOG_CONTAINER,
        Image=DATADOG_IMAGE,
        Cpu=128,
        MemoryReservation=256,
        Environment=[
            Environment(Name="ECS_FARGATE", Value="true"),
            Environment(Name="DD_SITE", Value=Ref(inputs[DATADOG_SITE])),
            Environment(Name="DD_PROCESS_AGENT_ENABLED", Value="true"),
        ],
        Secrets=[Secret(Name="DD_API_KEY", ValueFrom=Ref(inputs[DATADOG_API_KEY_SECRET_ARN]))],
        User=DATADOG_USER,
        DependsOn=[ContainerDependency(ContainerName=DATADOG_INIT_CONTAINER, Condition="SUCCESS")],
        MountPoints=[
            MountPoint(SourceVolume=volume, ContainerPath=path)
            for volume, path in DATADOG_WRITABLE.items()
        ],
        HealthCheck=HealthCheck(
            Command=["CMD", "agent", "health"], Interval=30, Timeout=5, Retries=3, StartPeriod=60
        ),
        **hardened_settings(log_options, "datadog"),
    )


def datadog_init(log_options: dict) -> ContainerDefinition:
    """The agent's init container: its configuration and volumes, ready for uid 100."""
    paths = {**DATADOG_WRITABLE, "datadog-config": DATADOG_CONFIG_COPY}
    return ContainerDefinition(
        Name=DATADOG_INIT_CONTAINER,
        Image=DATADOG_IMAGE,
        EntryPoint=["/bin/sh", "-c"],
        Command=[DATADOG_INIT_SCRIPT],
        MountPoints=[
            MountPoint(SourceVolume=volume, ContainerPath=path) for volume, path in paths.items()
        ],
        **init_container_settings(log_options, "datadog-init"),
    )


def sidecar_volumes(ctx: Context) -> list:
    """The task volumes the sidecars write to."""
    volumes = [If(HAS_SIDECAR, Volume(Name=SIDECAR_TMP_VOLUME), NO_VALUE)]
    if ctx.options.sidecar == "datadog":
        volumes += [Volume(Name=volume) for volume in DATADOG_WRITABLE]
    return volumes


def sidecar_secret_arns(ctx: Context, inputs: SidecarInputs) -> list[policies.SecretGrant]:
    """The secrets the execution role may read for sidecars, with their keys."""
    grants = [
        policies.SecretGrant(
            "TheSidecarSecret",
            HAS_SIDECAR_SECRET,
            Ref(inputs[SIDECAR_SECRET_ARN]),
            HAS_SIDECAR_SECRET_KMS_KEY,
            Ref(inputs[SIDECAR_SECRET_KMS_KEY_ARN]),
        )
    ]
    if ctx.options.sidecar == "datadog":
        grants.append(
            policies.SecretGrant(
                "TheDatadogApiKey",
                None,
                Ref(inputs[DATADOG_API_KEY_SECRET_ARN]),
                HAS_DATADOG_API_KEY_KMS_KEY,
                Ref(inputs[DATADOG_API_KEY_KMS_KEY_ARN]),
            )
        )
    return grants


@dataclass(frozen=True)
class Sidecars:
    """The sidecar Parameters and what the task definition and its roles need for them."""

    inputs: SidecarInputs
    volumes: list
    secret_arns: list[policies.SecretGrant]

    def containers(self, ctx: Context, log_options: dict) -> list:
        """The sidecar containers (the generic one only if SidecarImage is set)."""
        generic = generic_sidecar(ctx, self.inputs, log_options)
        if ctx.options.sidecar == "datadog":
            return [generic, datadog_init(log_options), datadog_sidecar(self.inputs, log_options)]
        return [generic]


def add_sidecars(ctx: Context) -> Sidecars:
    """Declare the sidecar Parameters; return what the service needs to run them."""
    inputs = declare_sidecar_inputs(ctx)
    return Sidecars(
        inputs=inputs, volumes=sidecar_volumes(ctx), secret_arns=sidecar_secret_arns(ctx, inputs)
    )
