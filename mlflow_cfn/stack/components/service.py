"""ECS Fargate: the cluster, the roles, the mlflow task definition and the service behind the
load balancer."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from troposphere import FindInMap, GetAtt, If, Join, Output, Ref, Sub
from troposphere.ecs import (
    AwsvpcConfiguration,
    Cluster,
    ClusterSetting,
    ContainerDefinition,
    DeploymentCircuitBreaker,
    DeploymentConfiguration,
    Environment,
    HealthCheck,
    KernelCapabilities,
    LinuxParameters,
    LoadBalancer,
    LogConfiguration,
    MountPoint,
    NetworkConfiguration,
    PortMapping,
    RuntimePlatform,
    Secret,
    Service,
    TaskDefinition,
    Volume,
)
from troposphere.iam import Policy, Role
from troposphere.logs import LogGroup

from mlflow_cfn.stack import names, policies
from mlflow_cfn.stack.components.database import DATABASE_NAME, Database
from mlflow_cfn.stack.components.keys import Keys
from mlflow_cfn.stack.components.load_balancer import Listeners, LoadBalancing
from mlflow_cfn.stack.components.network import CONTAINER_PORT, SecurityGroups
from mlflow_cfn.stack.components.sidecars import (
    datadog_sidecar,
    generic_sidecar,
    sidecar_secret_arns,
    sidecar_volumes,
)
from mlflow_cfn.stack.components.storage import Storage
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.engines import engine_setting
from mlflow_cfn.stack.policies import NO_VALUE

#: Seconds between SIGTERM and SIGKILL: the server drains in 5-14 s.
STOP_TIMEOUT = 30
#: Seconds the load balancer's health checks are ignored after a task starts. The server answers
#: /health about 10 s after start on a fresh database; a paused database first takes ~15 s to
#: resume and a schema upgrade a few seconds more.
HEALTH_CHECK_GRACE_PERIOD = 120
TMP_VOLUME = "tmp"


@dataclass(frozen=True)
class MlflowService:
    """The ECS resources of the MLflow server."""

    cluster: Cluster
    task_definition: TaskDefinition
    service: Service
    task_role: Role
    execution_role: Role


def entrypoint_source() -> str:
    """The container's start-up script (run as ``python -c``), see ``container/entrypoint.py``."""
    return resources.files("mlflow_cfn.stack.container").joinpath("entrypoint.py").read_text()


def _mlflow_container(
    ctx: Context,
    *,
    storage: Storage,
    database: Database,
    load_balancing: LoadBalancing,
    log_options: dict,
) -> ContainerDefinition:
    lb_dns = GetAtt(load_balancing.load_balancer, "DNSName")
    environment = {
        # Read by the start-up script, which builds the backend store URI from them.
        "MLFLOW_CFN_DB_DIALECT": engine_setting(ctx, "Dialect"),
        "MLFLOW_CFN_DB_HOST": GetAtt(database.cluster, "Endpoint.Address"),
        "MLFLOW_CFN_DB_PORT": GetAtt(database.cluster, "Endpoint.Port"),
        "MLFLOW_CFN_DB_NAME": DATABASE_NAME,
        "MLFLOW_CFN_DB_QUERY": engine_setting(ctx, "Query"),
        "MLFLOW_CFN_ALLOWED_HOSTS": If(
            names.HAS_DOMAIN_NAME, Join(",", [lb_dns, ctx.ref(names.DOMAIN_NAME)]), lb_dns
        ),
        # Read by `mlflow server` itself.
        "MLFLOW_HOST": "0.0.0.0",
        "MLFLOW_PORT": str(CONTAINER_PORT),
        "MLFLOW_WORKERS": FindInMap(names.MAP_WORKERS, ctx.ref(names.TASK_CPU), "Workers"),
        "MLFLOW_SERVE_ARTIFACTS": "true",
        "MLFLOW_ARTIFACTS_DESTINATION": Sub(
            "s3://${Bucket}/${Prefix}",
            Bucket=storage.artifact_bucket_name,
            Prefix=ctx.ref(names.ARTIFACT_PREFIX),
        ),
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "AWS_DEFAULT_REGION": Ref("AWS::Region"),
        # The root file system is read-only: everything the server writes goes to /tmp.
        "TMPDIR": "/tmp",
        "HOME": "/tmp",
    }
    return ContainerDefinition(
        Name=names.MLFLOW_CONTAINER,
        Image=ctx.ref(names.MLFLOW_IMAGE),
        Essential=True,
        EntryPoint=["python", "-c"],
        WorkingDirectory="/tmp",
        Command=[entrypoint_source()],
        PortMappings=[PortMapping(ContainerPort=CONTAINER_PORT, Protocol="tcp")],
        Environment=[Environment(Name=k, Value=v) for k, v in sorted(environment.items())],
        Secrets=[
            Secret(
                Name=f"MLFLOW_CFN_DB_{field.upper()}",
                ValueFrom=Sub(f"${{Arn}}:{field}::", Arn=database.secret_arn),
            )
            for field in ("username", "password")
        ],
        HealthCheck=HealthCheck(
            Command=[
                "CMD",
                "python",
                "-c",
                f"import urllib.request; urllib.request.urlopen("
                f"'http://127.0.0.1:{CONTAINER_PORT}/health', timeout=4)",
            ],
            Interval=30,
            Timeout=5,
            Retries=3,
            StartPeriod=60,
        ),
        StopTimeout=STOP_TIMEOUT,
        ReadonlyRootFilesystem=True,
        MountPoints=[MountPoint(SourceVolume=TMP_VOLUME, ContainerPath="/tmp", ReadOnly=False)],
        Privileged=False,
        LinuxParameters=LinuxParameters(
            Capabilities=KernelCapabilities(Drop=["ALL"]), InitProcessEnabled=True
        ),
        LogConfiguration=LogConfiguration(
            LogDriver="awslogs", Options={**log_options, "awslogs-stream-prefix": "mlflow"}
        ),
    )


def add_service(
    ctx: Context,
    *,
    keys: Keys,
    storage: Storage,
    database: Database,
    security_groups: SecurityGroups,
    load_balancing: LoadBalancing,
    listeners: Listeners,
) -> MlflowService:
    """Add the log group, the ECS cluster, the two roles, the task definition and the service."""
    t = ctx.template
    log_group = t.add_resource(
        LogGroup(
            names.LOG_GROUP,
            KmsKeyId=GetAtt(keys.logs, "Arn"),
            RetentionInDays=ctx.ref(names.LOG_RETENTION_DAYS),
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
        )
    )
    cluster = t.add_resource(
        Cluster(
            names.ECS_CLUSTER,
            ClusterSettings=[ClusterSetting(Name="containerInsights", Value="enabled")],
        )
    )
    execution_role = t.add_resource(
        Role(
            names.TASK_EXECUTION_ROLE,
            Description="Lets ECS start the MLflow task: image, logs, database secret",
            AssumeRolePolicyDocument=policies.assume_role("ecs-tasks.amazonaws.com"),
            Policies=[
                Policy(
                    PolicyName="start-mlflow-task",
                    PolicyDocument=policies.execution_role_policy(
                        GetAtt(log_group, "Arn"),
                        database.secret_arn,
                        GetAtt(keys.database, "Arn"),
                        sidecar_secret_arns(ctx),
                    ),
                )
            ],
        )
    )
    task_role = t.add_resource(
        Role(
            names.TASK_ROLE,
            Description="What the MLflow server may do: its artifacts, nothing else",
            AssumeRolePolicyDocument=policies.assume_role("ecs-tasks.amazonaws.com"),
            Policies=[
                Policy(
                    PolicyName="artifact-store",
                    PolicyDocument=policies.artifact_access(
                        storage.artifact_bucket_arn,
                        ctx.ref(names.ARTIFACT_PREFIX),
                        key_statements=[
                            (
                                "EncryptArtifactsWithTheStacksKey",
                                names.CREATE_ARTIFACT_BUCKET,
                                GetAtt(keys.artifacts, "Arn"),
                            ),
                            (
                                "EncryptArtifactsWithTheBucketsKey",
                                names.USE_ARTIFACT_BUCKET_KMS_KEY,
                                ctx.ref(names.ARTIFACT_BUCKET_KMS_KEY_ARN),
                            ),
                        ],
                        read_only_buckets=ctx.ref(names.ARTIFACT_READ_ONLY_BUCKET_ARNS),
                        read_only_condition=names.HAS_READ_ONLY_BUCKETS,
                    ),
                )
            ],
        )
    )
    log_options = {"awslogs-group": Ref(log_group), "awslogs-region": Ref("AWS::Region")}
    task_definition = t.add_resource(
        TaskDefinition(
            names.TASK_DEFINITION,
            RequiresCompatibilities=["FARGATE"],
            NetworkMode="awsvpc",
            Cpu=ctx.ref(names.TASK_CPU),
            Memory=ctx.ref(names.TASK_MEMORY),
            RuntimePlatform=RuntimePlatform(
                CpuArchitecture="X86_64", OperatingSystemFamily="LINUX"
            ),
            ExecutionRoleArn=GetAtt(execution_role, "Arn"),
            TaskRoleArn=GetAtt(task_role, "Arn"),
            Volumes=[Volume(Name=TMP_VOLUME), *sidecar_volumes(ctx)],
            ContainerDefinitions=[
                _mlflow_container(
                    ctx,
                    storage=storage,
                    database=database,
                    load_balancing=load_balancing,
                    log_options=log_options,
                ),
                generic_sidecar(ctx, log_options),
                *([datadog_sidecar(ctx, log_options)] if ctx.options.sidecar == "datadog" else []),
            ],
        )
    )
    service = t.add_resource(
        Service(
            names.SERVICE,
            Cluster=Ref(cluster),
            LaunchType="FARGATE",
            PlatformVersion="LATEST",
            TaskDefinition=Ref(task_definition),
            # With autoscaling or a schedule, Application Auto Scaling owns the count: a stack
            # update must not reset it (for example scale up at night).
            DesiredCount=If(names.USE_SCALABLE_TARGET, NO_VALUE, ctx.ref(names.DESIRED_COUNT)),
            HealthCheckGracePeriodSeconds=HEALTH_CHECK_GRACE_PERIOD,
            DeploymentConfiguration=DeploymentConfiguration(
                MaximumPercent=200,
                MinimumHealthyPercent=100,
                DeploymentCircuitBreaker=DeploymentCircuitBreaker(Enable=True, Rollback=True),
            ),
            LoadBalancers=[
                LoadBalancer(
                    ContainerName=names.MLFLOW_CONTAINER,
                    ContainerPort=CONTAINER_PORT,
                    TargetGroupArn=Ref(load_balancing.target_group),
                )
            ],
            NetworkConfiguration=NetworkConfiguration(
                AwsvpcConfiguration=AwsvpcConfiguration(
                    AssignPublicIp="DISABLED",
                    Subnets=ctx.ref(names.SERVICE_SUBNET_IDS),
                    SecurityGroups=[GetAtt(security_groups.service, "GroupId")],
                )
            ),
            EnableECSManagedTags=True,
            PropagateTags="SERVICE",
            DependsOn=[listeners.ready, database.writer],
        )
    )
    for name, description, value in (
        (names.OUT_CLUSTER_NAME, "ECS cluster", Ref(cluster)),
        (names.OUT_SERVICE_NAME, "ECS service", GetAtt(service, "Name")),
        (names.OUT_TASK_ROLE_ARN, "Role the MLflow server runs as", GetAtt(task_role, "Arn")),
    ):
        t.add_output(Output(name, Description=description, Value=value))
    return MlflowService(
        cluster=cluster,
        task_definition=task_definition,
        service=service,
        task_role=task_role,
        execution_role=execution_role,
    )
