"""ECS Fargate: the log group, the cluster, the two roles, the task definition (the mlflow
container and the sidecars) and the service behind the load balancer."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, If, Output, Ref
from troposphere.ecs import (
    AwsvpcConfiguration,
    Cluster,
    ClusterSetting,
    DeploymentCircuitBreaker,
    DeploymentConfiguration,
    EphemeralStorage,
    LoadBalancer,
    NetworkConfiguration,
    RuntimePlatform,
    Service,
    TaskDefinition,
    Volume,
)
from troposphere.iam import Role
from troposphere.logs import LogGroup

from mlflow_cfn.stack import policies
from mlflow_cfn.stack.components.database import Database
from mlflow_cfn.stack.components.keys import Keys
from mlflow_cfn.stack.components.listeners import Listeners
from mlflow_cfn.stack.components.load_balancer import LoadBalancing
from mlflow_cfn.stack.components.mlflow_container import MLFLOW_CONTAINER, mlflow_container
from mlflow_cfn.stack.components.network import CONTAINER_PORT, Network
from mlflow_cfn.stack.components.retention import KEEP_EXCEPT_ON_CREATE
from mlflow_cfn.stack.components.scaling_inputs import USE_SCALABLE_TARGET
from mlflow_cfn.stack.components.service_inputs import (
    HAS_EXTRA_EPHEMERAL_STORAGE,
    ServiceInputs,
    declare_service_inputs,
)
from mlflow_cfn.stack.components.sidecars import Sidecars
from mlflow_cfn.stack.components.storage import Storage
from mlflow_cfn.stack.components.volumes import (
    TMP_VOLUME,
    declare_volume_preparation,
    prepare_volumes_container,
)
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.logic import checkov_skips
from mlflow_cfn.stack.policies import NO_VALUE

LOG_GROUP = "LogGroup"
ECS_CLUSTER = "EcsCluster"
TASK_EXECUTION_ROLE = "TaskExecutionRole"
TASK_ROLE = "TaskRole"
TASK_DEFINITION = "TaskDefinition"
SERVICE = "Service"
OUT_CLUSTER_NAME = "ClusterName"
OUT_SERVICE_NAME = "ServiceName"
OUT_TASK_ROLE_ARN = "TaskRoleArn"

#: Seconds the load balancer's health checks are ignored after a task starts. The server answers
#: /health about 10 s after start on a fresh database; a paused database first takes ~15 s to
#: resume and a schema upgrade a few seconds more.
HEALTH_CHECK_GRACE_PERIOD = 120


@dataclass(frozen=True)
class MlflowService:
    """The ECS resources of the MLflow server."""

    cluster: Cluster
    task_definition: TaskDefinition
    service: Service
    task_role: Role
    execution_role: Role


def _roles(
    ctx: Context,
    log_group: LogGroup,
    keys: Keys,
    storage: Storage,
    database: Database,
    sidecars: Sidecars,
) -> tuple[Role, Role]:
    """The execution role (start the task) and the task role (what the server may do)."""
    execution_role = ctx.template.add_resource(
        policies.service_role(
            TASK_EXECUTION_ROLE,
            "Lets ECS start the MLflow task: image, logs, database secret",
            "ecs-tasks.amazonaws.com",
            "start-mlflow-task",
            policies.execution_role_policy(
                GetAtt(log_group, "Arn"),
                database.secret_arn,
                GetAtt(keys.database, "Arn"),
                sidecars.secret_arns,
            ),
        )
    )
    task_role = ctx.template.add_resource(
        policies.service_role(
            TASK_ROLE,
            "What the MLflow server may do: its artifacts, nothing else",
            "ecs-tasks.amazonaws.com",
            "artifact-store",
            storage.artifact_access,
        )
    )
    return execution_role, task_role


def _task_definition(
    ctx: Context,
    inputs: ServiceInputs,
    roles: tuple[Role, Role],
    containers: list,
    volumes: list,
) -> TaskDefinition:
    execution_role, task_role = roles
    return ctx.template.add_resource(
        TaskDefinition(
            TASK_DEFINITION,
            RequiresCompatibilities=["FARGATE"],
            NetworkMode="awsvpc",
            Cpu=Ref(inputs.cpu),
            Memory=Ref(inputs.memory),
            RuntimePlatform=RuntimePlatform(
                CpuArchitecture="X86_64", OperatingSystemFamily="LINUX"
            ),
            ExecutionRoleArn=GetAtt(execution_role, "Arn"),
            TaskRoleArn=GetAtt(task_role, "Arn"),
            Volumes=volumes,
            ContainerDefinitions=containers,
            # PlatformVersion LATEST (the service) is 1.4.0 or later, which EphemeralStorage needs.
            EphemeralStorage=If(
                HAS_EXTRA_EPHEMERAL_STORAGE,
                EphemeralStorage(SizeInGiB=Ref(inputs.ephemeral_storage)),
                NO_VALUE,
            ),
        )
    )  # fmt: skip


def _service(
    ctx: Context,
    inputs: ServiceInputs,
    parts: tuple,
    network: Network,
    load_balancing: LoadBalancing,
    dependencies: list,
) -> Service:
    cluster, task_definition = parts
    return ctx.template.add_resource(
        Service(
            SERVICE,
            Cluster=Ref(cluster),
            LaunchType="FARGATE",
            PlatformVersion="LATEST",
            TaskDefinition=Ref(task_definition),
            # With autoscaling or a schedule, Application Auto Scaling owns the count: a stack
            # update must not reset it (for example scale up at night).
            DesiredCount=If(USE_SCALABLE_TARGET, NO_VALUE, Ref(inputs.desired_count)),
            HealthCheckGracePeriodSeconds=HEALTH_CHECK_GRACE_PERIOD,
            DeploymentConfiguration=DeploymentConfiguration(
                MaximumPercent=200,
                MinimumHealthyPercent=100,
                DeploymentCircuitBreaker=DeploymentCircuitBreaker(Enable=True, Rollback=True),
            ),
            LoadBalancers=[
                LoadBalancer(
                    ContainerName=MLFLOW_CONTAINER,
                    ContainerPort=CONTAINER_PORT,
                    TargetGroupArn=Ref(load_balancing.target_group),
                )
            ],
            NetworkConfiguration=NetworkConfiguration(
                AwsvpcConfiguration=AwsvpcConfiguration(
                    AssignPublicIp="DISABLED",
                    Subnets=Ref(network.service_subnets),
                    SecurityGroups=[GetAtt(network.service, "GroupId")],
                )
            ),
            EnableECSManagedTags=True,
            PropagateTags="SERVICE",
            DependsOn=dependencies,
        )
    )  # fmt: skip


def _log_group_and_cluster(
    ctx: Context, keys: Keys, storage: Storage, inputs: ServiceInputs
) -> tuple:
    log_group = ctx.template.add_resource(
        LogGroup(
            LOG_GROUP,
            KmsKeyId=GetAtt(keys.logs, "Arn"),
            RetentionInDays=Ref(storage.log_retention_days),
            DeletionPolicy=KEEP_EXCEPT_ON_CREATE,
            UpdateReplacePolicy="Retain",
        )
    )
    cluster = ctx.template.add_resource(
        Cluster(
            ECS_CLUSTER,
            ClusterSettings=[
                ClusterSetting(Name="containerInsights", Value=Ref(inputs.container_insights))
            ],
            Metadata=checkov_skips(
                {
                    "CKV_AWS_65": "Container Insights is the ContainerInsights Parameter: "
                    "$11.40 a month while a task runs, off by default so that an idle month "
                    "stays cheap; the service's CPU and memory metrics and the alarms on them "
                    "need no Container Insights.",
                }
            ),
        )
    )
    return log_group, cluster


def add_service(
    ctx: Context,
    *,
    keys: Keys,
    storage: Storage,
    database: Database,
    network: Network,
    load_balancing: LoadBalancing,
    listeners: Listeners,
    sidecars: Sidecars,
) -> MlflowService:
    """Declare the service Parameters; add the log group, the ECS cluster, the two roles, the
    task definition, the service and the outputs."""
    inputs = declare_service_inputs(ctx, sidecars)
    declare_volume_preparation(ctx)
    log_group, cluster = _log_group_and_cluster(ctx, keys, storage, inputs)
    roles = _roles(ctx, log_group, keys, storage, database, sidecars)
    log_options = {"awslogs-group": Ref(log_group), "awslogs-region": Ref("AWS::Region")}
    container = mlflow_container(
        inputs,
        storage=storage,
        database=database,
        load_balancing=load_balancing,
        log_options=log_options,
    )
    task_definition = _task_definition(
        ctx,
        inputs,
        roles,
        [
            prepare_volumes_container(inputs.image, log_options),
            container,
            *sidecars.containers(ctx, log_options),
        ],
        [Volume(Name=TMP_VOLUME), *sidecars.volumes],
    )
    service = _service(
        ctx, inputs, (cluster, task_definition), network, load_balancing,
        [listeners.ready, database.writer],
    )  # fmt: skip
    task_role = roles[1]
    for name, description, value in (
        (OUT_CLUSTER_NAME, "ECS cluster", Ref(cluster)),
        (OUT_SERVICE_NAME, "ECS service", GetAtt(service, "Name")),
        (OUT_TASK_ROLE_ARN, "Role the MLflow server runs as", GetAtt(task_role, "Arn")),
    ):
        ctx.template.add_output(Output(name, Description=description, Value=value))
    return MlflowService(cluster, task_definition, service, task_role, roles[0])
