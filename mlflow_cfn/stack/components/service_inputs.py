"""The MLflow service's Parameters (image, task size, task count), the Mapping of server workers
per task size, and the Rules that keep the task size one Fargate accepts and big enough for the
sidecars."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Equals, Not, Parameter, Ref

from mlflow_cfn.stack.components.sidecar_inputs import SIDECAR_IMAGE
from mlflow_cfn.stack.components.sidecars import Sidecars
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.interface import GROUP_SERVICE
from mlflow_cfn.stack.logic import given, is_value
from mlflow_cfn.stack.parameters import ParameterSpec, choice
from mlflow_cfn.versions import DEFAULT_MLFLOW_IMAGE

MLFLOW_IMAGE = "MlflowImage"
TASK_CPU = "TaskCpu"
TASK_MEMORY = "TaskMemory"
DESIRED_COUNT = "DesiredCount"
CONTAINER_INSIGHTS = "ContainerInsights"
TASK_EPHEMERAL_STORAGE_GIB = "TaskEphemeralStorageGiB"
USE_CONTAINER_INSIGHTS = "UseContainerInsights"
HAS_EXTRA_EPHEMERAL_STORAGE = "HasExtraEphemeralStorage"
MAP_WORKERS = "WorkersByTaskCpu"
RULE_SIDECAR_NEEDS_MEMORY = "SidecarNeedsTaskMemory"

#: Fargate's CPU units -> the task memory sizes (MiB) it allows, restricted to sizes where the
#: server has room (the smallest, 512 MiB, does not leave enough beside one worker).
FARGATE_MEMORY_BY_CPU: dict[str, tuple[str, ...]] = {
    "256": ("1024", "2048"),
    "512": ("1024", "2048", "3072", "4096"),
    "1024": ("2048", "3072", "4096", "5120", "6144", "7168", "8192"),
    "2048": ("4096", "5120", "6144", "7168", "8192", "16384"),
    "4096": ("8192", "16384", "30720"),
}
TASK_MEMORY_VALUES = tuple(
    sorted({m for sizes in FARGATE_MEMORY_BY_CPU.values() for m in sizes}, key=int)
)
#: Server worker processes per task size: one per vCPU, at least one (requests are also served
#: concurrently by threads inside each worker).
WORKERS_BY_TASK_CPU = {"256": "1", "512": "1", "1024": "2", "2048": "4", "4096": "8"}
#: Fargate (platform 1.4.0 and later) gives a task 20 GiB of ephemeral storage; EphemeralStorage
#: raises it to 21..200 GiB, and the pulled and unpacked images take their share ("Fargate task
#: ephemeral storage for Amazon ECS",
#: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-storage.html;
#: API_EphemeralStorage: sizeInGiB 21 to 200). 20 here means: leave Fargate's default.
EPHEMERAL_STORAGE_GIB = (20, 200)


def rule_task_size(cpu: str) -> str:
    """Rule: the memory sizes Fargate allows for one CPU size."""
    return f"TaskMemoryFitsCpu{cpu}"


@dataclass(frozen=True)
class ServiceInputs:
    """The service Parameters."""

    image: Parameter
    cpu: Parameter
    memory: Parameter
    desired_count: Parameter
    container_insights: Parameter
    ephemeral_storage: Parameter


def _ephemeral_storage_spec() -> ParameterSpec:
    return ParameterSpec(
        TASK_EPHEMERAL_STORAGE_GIB,
        "Number",
        "Task disk in GiB (the image takes a few). The server keeps every artifact it "
        "streams, up or down, whole on this disk until the transfer ends, so the free part "
        "bounds the artifacts in flight at once. 20 is Fargate's default; 21 to 200 cost "
        "extra per GiB-hour.",
        "Task disk (GiB)",
        GROUP_SERVICE,
        default=EPHEMERAL_STORAGE_GIB[0],
        min_value=EPHEMERAL_STORAGE_GIB[0],
        max_value=EPHEMERAL_STORAGE_GIB[1],
        constraint_description=(
            f"{TASK_EPHEMERAL_STORAGE_GIB} must be a whole number of GiB from "
            f"{EPHEMERAL_STORAGE_GIB[0]} (Fargate's default) to {EPHEMERAL_STORAGE_GIB[1]} "
            "(the most Fargate gives a task)."
        ),
    )


def _specs(memory_default: str) -> list[ParameterSpec]:
    return [
        ParameterSpec(
            MLFLOW_IMAGE,
            "String",
            "Container image of the MLflow server: an MLflow 3 '-full' image (it has the database "
            "drivers and boto3). The default is the version this template is tested with.",
            "MLflow image",
            GROUP_SERVICE,
            default=DEFAULT_MLFLOW_IMAGE,
            allowed_pattern=r"^[a-z0-9][a-z0-9._/:@-]{0,254}$",
            constraint_description=(
                f"{MLFLOW_IMAGE} must be an image reference such as "
                f"{DEFAULT_MLFLOW_IMAGE} (lower-case, no spaces)."
            ),
        ),
        ParameterSpec(
            TASK_CPU,
            "String",
            "CPU units per task (1024 = 1 vCPU). The number of server workers follows it.",
            "Task CPU units",
            GROUP_SERVICE,
            default="512",
            allowed_values=tuple(FARGATE_MEMORY_BY_CPU),
            constraint_description=f"{TASK_CPU} must be one of {', '.join(FARGATE_MEMORY_BY_CPU)}.",
        ),
        ParameterSpec(
            TASK_MEMORY,
            "String",
            "Memory per task in MiB; Fargate allows only some sizes per CPU value. With a "
            "sidecar, at least 2048.",
            "Task memory (MiB)",
            GROUP_SERVICE,
            default=memory_default,
            allowed_values=TASK_MEMORY_VALUES,
            constraint_description=f"{TASK_MEMORY} must be one of {', '.join(TASK_MEMORY_VALUES)}.",
        ),
        ParameterSpec(
            DESIRED_COUNT,
            "Number",
            "How many MLflow tasks run without autoscaling or a schedule (which then take over). "
            "0 stops the service (and lets the database pause).",
            "Task count",
            GROUP_SERVICE,
            default=1,
            min_value=0,
            max_value=20,
            constraint_description=f"{DESIRED_COUNT} must be a whole number from 0 to 20.",
        ),
        choice(
            CONTAINER_INSIGHTS,
            "ECS Container Insights: per-task CPU, memory, network and task-count metrics, "
            "and the two alarms on task counts. About $11.40 a month while a task runs (38 "
            "custom metrics); the service's own CPU and memory metrics are free either way.",
            "Container Insights",
            GROUP_SERVICE,
            "disabled",
            ("enabled", "disabled"),
        ),
    ]


def _declare_size_rules(ctx: Context, inputs: ServiceInputs, sidecars: Sidecars) -> None:
    for cpu, memory in FARGATE_MEMORY_BY_CPU.items():
        ctx.rule(
            rule_task_size(cpu),
            [
                {
                    "Assert": {"Fn::Contains": [list(memory), Ref(inputs.memory)]},
                    "AssertDescription": (
                        f"{TASK_CPU}={cpu} needs {TASK_MEMORY} to be one of "
                        f"{', '.join(memory)} (the sizes Fargate allows for it)."
                    ),
                }
            ],
            when=Equals(Ref(inputs.cpu), cpu),
        )
    memory_rule = {
        "Assert": Not(Equals(Ref(inputs.memory), "1024")),
        "AssertDescription": (
            f"A sidecar needs {TASK_MEMORY} of at least 2048: the MLflow server uses "
            "about 550 MiB of 1024 on its own."
        ),
    }
    # The preset's sidecar is always there; the generic one only with SidecarImage.
    when = None if ctx.options.sidecar else given(sidecars.inputs[SIDECAR_IMAGE])
    ctx.rule(RULE_SIDECAR_NEEDS_MEMORY, [memory_rule], when=when)


def declare_service_inputs(ctx: Context, sidecars: Sidecars) -> ServiceInputs:
    """Declare the service Parameters, the workers Mapping and the task size Rules."""
    memory_default = "2048" if ctx.options.sidecar else "1024"
    inputs = ServiceInputs(*ctx.parameters(*_specs(memory_default), _ephemeral_storage_spec()))
    ctx.template.add_mapping(
        MAP_WORKERS, {cpu: {"Workers": n} for cpu, n in WORKERS_BY_TASK_CPU.items()}
    )
    _declare_size_rules(ctx, inputs, sidecars)
    ctx.condition(USE_CONTAINER_INSIGHTS, is_value(inputs.container_insights, "enabled"))
    ctx.condition(
        HAS_EXTRA_EPHEMERAL_STORAGE,
        Not(Equals(Ref(inputs.ephemeral_storage), str(EPHEMERAL_STORAGE_GIB[0]))),
    )
    return inputs
