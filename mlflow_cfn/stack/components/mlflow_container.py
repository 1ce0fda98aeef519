"""The ``mlflow`` container: the official image running the start-up script
(``stack/container/entrypoint.py``), configured by environment, the database credentials from the
RDS-managed secret through ECS ``Secrets``, hardened (read-only root, no capabilities, a writable
``/tmp`` volume only)."""

from __future__ import annotations

from importlib import resources

from troposphere import FindInMap, GetAtt, If, Join, Ref, Sub
from troposphere.ecs import (
    ContainerDefinition,
    Environment,
    HealthCheck,
    KernelCapabilities,
    LinuxParameters,
    LogConfiguration,
    MountPoint,
    PortMapping,
    Secret,
)

from mlflow_cfn.stack.components.database import DATABASE_NAME, Database
from mlflow_cfn.stack.components.load_balancer import LoadBalancing
from mlflow_cfn.stack.components.load_balancer_inputs import HAS_DOMAIN_NAME, IDLE_TIMEOUT_RANGE
from mlflow_cfn.stack.components.network import CONTAINER_PORT
from mlflow_cfn.stack.components.service_inputs import MAP_WORKERS, ServiceInputs
from mlflow_cfn.stack.components.storage import Storage
from mlflow_cfn.stack.components.volumes import TMP_VOLUME, after_preparation

MLFLOW_CONTAINER = "mlflow"
#: Seconds between SIGTERM and SIGKILL: the server drains in 5-14 s.
STOP_TIMEOUT = 30


def entrypoint_source() -> str:
    """The container's start-up script (run as ``python -c``), see ``container/entrypoint.py``."""
    return resources.files("mlflow_cfn.stack.container").joinpath("entrypoint.py").read_text()


#: A server connection idle this long is closed by the database, so that Aurora, which pauses only
#: when no connection is open for DatabaseAutoPauseSeconds (300 or more), pauses while a task
#: runs. 60 s: a user clicking through the UI keeps its connection; after a minute's pause the
#: next request opens a new one (measured in tests/runtime/test_idle_database.py).
DATABASE_IDLE_SECONDS = 60


#: Seconds uvicorn keeps an idle connection of the load balancer open (its default is 5): longer
#: than the load balancer's longest idle timeout, so that the load balancer, never the server,
#: closes it, as ELB's guide asks (https://docs.aws.amazon.com/elasticloadbalancing/latest/
#: application/edit-load-balancer-attributes.html#connection-idle-timeout: the application's
#: timeout larger), and never reuses a connection the server is closing (a 502).
KEEP_ALIVE_SECONDS = IDLE_TIMEOUT_RANGE[1] + 5


#: uid:gid the server runs as: no name, so it needs no /etc/passwd entry in the image (HOME and
#: TMPDIR point at /tmp).
CONTAINER_USER = "1000:1000"


def _environment(
    inputs: ServiceInputs, storage: Storage, database: Database, load_balancing: LoadBalancing
) -> dict:
    lb_dns = GetAtt(load_balancing.load_balancer, "DNSName")
    domain = load_balancing.inputs.domain_name
    return {
        # Read by the start-up script, which builds the backend store URI from them.
        "MLFLOW_CFN_DB_DIALECT": database.setting("Dialect"),
        "MLFLOW_CFN_DB_HOST": GetAtt(database.cluster, "Endpoint.Address"),
        "MLFLOW_CFN_DB_PORT": GetAtt(database.cluster, "Endpoint.Port"),
        "MLFLOW_CFN_DB_NAME": DATABASE_NAME,
        "MLFLOW_CFN_DB_QUERY": database.setting("Query"),
        "MLFLOW_CFN_DB_IDLE_SECONDS": str(DATABASE_IDLE_SECONDS),
        "MLFLOW_CFN_ALLOWED_HOSTS": If(HAS_DOMAIN_NAME, Join(",", [lb_dns, Ref(domain)]), lb_dns),
        # Read by `mlflow server` itself.
        "MLFLOW_HOST": "0.0.0.0",
        "MLFLOW_PORT": str(CONTAINER_PORT),
        "MLFLOW_WORKERS": FindInMap(MAP_WORKERS, Ref(inputs.cpu), "Workers"),
        "MLFLOW_SERVE_ARTIFACTS": "true",
        "MLFLOW_UVICORN_OPTS": f"--timeout-keep-alive {KEEP_ALIVE_SECONDS}",
        "MLFLOW_ARTIFACTS_DESTINATION": Sub(
            "s3://${Bucket}/${Prefix}",
            Bucket=storage.artifact_bucket_name,
            Prefix=storage.artifact_prefix,
        ),
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "AWS_DEFAULT_REGION": Ref("AWS::Region"),
        # The root file system is read-only: everything the server writes goes to /tmp.
        "TMPDIR": "/tmp",
        "HOME": "/tmp",
    }


def mlflow_container(
    inputs: ServiceInputs,
    *,
    storage: Storage,
    database: Database,
    load_balancing: LoadBalancing,
    log_options: dict,
) -> ContainerDefinition:
    """The MLflow server's container definition."""
    environment = _environment(inputs, storage, database, load_balancing)
    return ContainerDefinition(
        Name=MLFLOW_CONTAINER,
        Image=Ref(inputs.image),
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
        # Not root (Control Tower CT.ECS.PR.3). The official image runs as root unless told; the
        # server only reads the image and writes to the task volume at /tmp, which Fargate
        # creates root-owned 0755: the prepare-volumes init container opens it first (volumes.py).
        User=CONTAINER_USER,
        DependsOn=after_preparation(),
        MountPoints=[MountPoint(SourceVolume=TMP_VOLUME, ContainerPath="/tmp", ReadOnly=False)],
        Privileged=False,
        LinuxParameters=LinuxParameters(
            Capabilities=KernelCapabilities(Drop=["ALL"]), InitProcessEnabled=True
        ),
        LogConfiguration=LogConfiguration(
            LogDriver="awslogs", Options={**log_options, "awslogs-stream-prefix": "mlflow"}
        ),
    )
