"""The task's scratch volumes, and the init container that makes them writable for the non-root
containers.

Fargate creates a task volume (a bind mount) empty, owned by root, mode 0755; it copies data and
permissions from the image only for a path the image declares with ``VOLUME`` (ECS developer
guide, "Use bind mounts with Amazon ECS", considerations). The official MLflow image declares
none, so the server (uid 1000) could not write its ``/tmp``. AWS's answer
(aws/containers-roadmap#938) is a non-essential init container that fixes the permissions and
exits; the others start after it succeeded. Ours runs as root because only the owner may chmod,
with every Linux capability dropped (an owner needs none), a read-only root file system, and
nothing but ``os.chmod`` to run. ``VolumePreparation=none`` leaves it out, so that no container
runs as root (Control Tower CT.ECS.PR.3 refuses a task definition with any root container); the
images must then declare ``VOLUME /tmp`` themselves (README: "Accounts that forbid root")."""

from __future__ import annotations

from troposphere import If, Parameter, Ref
from troposphere.ecs import (
    ContainerDefinition,
    ContainerDependency,
    MountPoint,
)

from mlflow_cfn.stack.components.hardening import hardened_settings
from mlflow_cfn.stack.components.sidecar_inputs import HAS_SIDECAR
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.interface import GROUP_SERVICE
from mlflow_cfn.stack.logic import assertion, is_value
from mlflow_cfn.stack.parameters import choice
from mlflow_cfn.stack.policies import NO_VALUE

VOLUME_PREPARATION = "VolumePreparation"
PREPARE_VOLUMES = "PrepareVolumes"
RULE_DATADOG_NEEDS_PREPARED_VOLUMES = "DatadogNeedsVolumePreparation"
PREPARE_CONTAINER = "prepare-volumes"
#: The mlflow container's volume; the generic sidecar's.
TMP_VOLUME = "tmp"
SIDECAR_TMP_VOLUME = "sidecar-tmp"
#: Root: only a directory's owner (root, on Fargate) may change its mode without CAP_FOWNER.
INIT_USER = "0"
#: Sticky and world-writable, as /tmp always is: each user may remove only its own files.
CHMOD_SCRIPT = "import os, sys\nfor path in sys.argv[1:]:\n    os.chmod(path, 0o1777)\n"


def declare_volume_preparation(ctx: Context) -> Parameter:
    """Declare VolumePreparation, its Condition, and (Datadog preset) the Rule that keeps it."""
    parameter = ctx.parameter(
        choice(
            VOLUME_PREPARATION,
            "How the task's scratch volumes (/tmp) become writable for the non-root containers "
            "(Fargate creates them owned by root, mode 0755). root-init-container: a container "
            "runs first as root with no Linux capabilities, sets mode 1777 and exits. none: no "
            "container runs as root (for accounts enforcing Control Tower CT.ECS.PR.3); "
            "MlflowImage and SidecarImage must then declare VOLUME /tmp with mode 1777.",
            "Scratch volume preparation",
            GROUP_SERVICE,
            "root-init-container",
            ("root-init-container", "none"),
        )
    )
    ctx.condition(PREPARE_VOLUMES, is_value(parameter, "root-init-container"))
    if ctx.options.sidecar == "datadog":
        ctx.rule(
            RULE_DATADOG_NEEDS_PREPARED_VOLUMES,
            [
                assertion(
                    is_value(parameter, "root-init-container"),
                    f"The Datadog agent needs {VOLUME_PREPARATION}=root-init-container: its "
                    "configuration is copied into a task volume by an init container.",
                )
            ],
        )
    return parameter


def init_container_settings(log_options: dict, stream_prefix: str) -> dict:
    """What every init container shares: root (see the module), otherwise `hardened_settings`."""
    return {"User": INIT_USER, **hardened_settings(log_options, stream_prefix)}


def prepare_volumes_container(image: Parameter, log_options: dict) -> If:
    """The init container (the MLflow image: it has Python) that opens /tmp and the generic
    sidecar's volume; nothing under VolumePreparation=none."""
    sidecar_path = "/volumes/sidecar-tmp"
    container = ContainerDefinition(
        Name=PREPARE_CONTAINER,
        Image=Ref(image),
        EntryPoint=["python", "-c"],
        Command=[CHMOD_SCRIPT, "/tmp", If(HAS_SIDECAR, sidecar_path, NO_VALUE)],
        MountPoints=[
            MountPoint(SourceVolume=TMP_VOLUME, ContainerPath="/tmp", ReadOnly=False),
            If(
                HAS_SIDECAR,
                MountPoint(SourceVolume=SIDECAR_TMP_VOLUME, ContainerPath=sidecar_path),
                NO_VALUE,
            ),
        ],
        **init_container_settings(log_options, "prepare-volumes"),
    )
    return If(PREPARE_VOLUMES, container, NO_VALUE)


def after_preparation() -> If:
    """DependsOn for a container that writes to a prepared volume."""
    return If(
        PREPARE_VOLUMES,
        [ContainerDependency(ContainerName=PREPARE_CONTAINER, Condition="SUCCESS")],
        NO_VALUE,
    )
