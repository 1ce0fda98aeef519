"""ECS as the suite observes and provokes it: the service's tasks and counts, a service made to
fail to start (an image that does not exist) and put back exactly as it was, and probe tasks,
one-off Fargate tasks that report what a container sees (a volume's owner and mode, the disk in
use) on a line of the stack's log group."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.aws.acceptance.waiting import REAL, Clock, poll

#: What `register_task_definition` takes of what `describe_task_definition` gives.
REGISTERED = (
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "ephemeralStorage",
    "runtimePlatform",
)
#: The line a probe prints: this marker, then JSON.
PROBE_MARKER = "MLFLOW_CFN_PROBE "


def service(ecs: Any, cluster: str, name: str) -> dict:
    """The service's description."""
    return ecs.describe_services(cluster=cluster, services=[name])["services"][0]


def tasks(ecs: Any, cluster: str, name: str, status: str = "RUNNING") -> list[dict]:
    """The service's tasks of one desired status, described."""
    arns = ecs.list_tasks(cluster=cluster, serviceName=name, desiredStatus=status)["taskArns"]
    return ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []


def wait_count(
    ecs: Any, cluster: str, name: str, count: int, timeout: float, clock: Clock = REAL
) -> dict:
    """Wait until the service wants and runs `count` tasks; the service then."""
    return poll(
        lambda: service(ecs, cluster, name),
        lambda s: s["desiredCount"] == count and s["runningCount"] == count,
        what=f"service {name} at {count} task(s)",
        timeout=timeout,
        every=15,
        clock=clock,
    )


def wait_steady(ecs: Any, cluster: str, name: str, timeout: float, clock: Clock = REAL) -> dict:
    """Wait until the service has one deployment, completed, with what it wants running."""
    return poll(
        lambda: service(ecs, cluster, name),
        lambda s: (
            len(s["deployments"]) == 1
            and s["deployments"][0].get("rolloutState") == "COMPLETED"
            and s["runningCount"] == s["desiredCount"]
        ),
        what=f"service {name} steady",
        timeout=timeout,
        every=15,
        clock=clock,
    )


@dataclass(frozen=True)
class Original:
    """What `break_service` changed, to put back."""

    task_definition: str
    deployment_configuration: dict


def break_service(
    ecs: Any, cluster: str, name: str, missing_image: str, family: str
) -> tuple[Original, str]:
    """Make the service start tasks of an image that does not exist, with its circuit breaker
    off (so ECS keeps trying until it reports the service as impaired, instead of rolling back
    after three tasks). The new revision is registered in a family of the suite's own. Returns
    what to restore and the new task definition's ARN."""
    described = service(ecs, cluster, name)
    original = Original(described["taskDefinition"], described["deploymentConfiguration"])
    definition = ecs.describe_task_definition(taskDefinition=original.task_definition)[
        "taskDefinition"
    ]
    server_image = next(
        c["image"] for c in definition["containerDefinitions"] if c["name"] == "mlflow"
    )
    containers = [
        {**c, "image": missing_image} if c["image"] == server_image else c
        for c in definition["containerDefinitions"]
    ]
    fields = {k: definition[k] for k in REGISTERED if k in definition}
    broken = ecs.register_task_definition(
        family=family, **{**fields, "containerDefinitions": containers}
    )["taskDefinition"]["taskDefinitionArn"]
    configuration = {
        **original.deployment_configuration,
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    }
    ecs.update_service(
        cluster=cluster,
        service=name,
        taskDefinition=broken,
        deploymentConfiguration=configuration,
        forceNewDeployment=True,
    )
    return original, broken


def restore_service(ecs: Any, cluster: str, name: str, original: Original) -> None:
    """Put the task definition and deployment configuration back as CloudFormation set them."""
    ecs.update_service(
        cluster=cluster,
        service=name,
        taskDefinition=original.task_definition,
        deploymentConfiguration=original.deployment_configuration,
        forceNewDeployment=True,
    )


@dataclass(frozen=True)
class Placement:
    """Where a probe runs: the stack's cluster, subnets and service security group, its task
    execution role (pull the image, write the stack's log group) and log group."""

    cluster: str
    subnets: list[str]
    security_group: str
    execution_role_arn: str
    log_group: str
    region: str


def register_probe(
    ecs: Any,
    family: str,
    placement: Placement,
    image: str,
    user: str,
    command: list[str],
    volumes: dict[str, str],
) -> str:
    """A one-container Fargate task definition: `command` (as the entry point) run as `user` in
    `image`, with a task volume at each path of `volumes` (name -> path), read-only root file
    system, logs to the stack's log group under the prefix ``probe``. Its ARN."""
    container = {
        "name": "probe",
        "image": image,
        "essential": True,
        "user": user,
        "entryPoint": command[:1],
        "command": command[1:],
        "readonlyRootFilesystem": True,
        "mountPoints": [
            {"sourceVolume": volume, "containerPath": path, "readOnly": False}
            for volume, path in volumes.items()
        ],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": placement.log_group,
                "awslogs-region": placement.region,
                "awslogs-stream-prefix": "probe",
            },
        },
    }
    return ecs.register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        executionRoleArn=placement.execution_role_arn,
        containerDefinitions=[container],
        volumes=[{"name": volume} for volume in volumes],
    )["taskDefinition"]["taskDefinitionArn"]


def run_probe(ecs: Any, placement: Placement, task_definition: str) -> str:
    """Start the probe task (no public address, as the service's tasks); its ARN."""
    started = ecs.run_task(
        cluster=placement.cluster,
        taskDefinition=task_definition,
        launchType="FARGATE",
        platformVersion="LATEST",
        count=1,
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": placement.subnets,
                "securityGroups": [placement.security_group],
                "assignPublicIp": "DISABLED",
            }
        },
    )
    if started.get("failures"):
        raise RuntimeError(f"run_task refused: {started['failures']}")
    return started["tasks"][0]["taskArn"]


def wait_stopped(ecs: Any, cluster: str, task_arn: str, clock: Clock = REAL) -> dict:
    """Wait until the task stopped; its description."""
    return poll(
        lambda: ecs.describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"][0],
        lambda t: t["lastStatus"] == "STOPPED",
        what=f"task {task_arn} stopped",
        timeout=900,
        every=10,
        clock=clock,
    )


def probe_report(logs: Any, placement: Placement, task: dict) -> list[dict]:
    """The probe's lines (its JSON after PROBE_MARKER); RuntimeError when the container did not
    run to a zero exit (the task's stop reason)."""
    container = task["containers"][0]
    if container.get("exitCode") != 0:
        reason = container.get("reason") or task.get("stoppedReason", "")
        raise RuntimeError(f"probe exited {container.get('exitCode')}: {reason}")
    stream = f"probe/probe/{task['taskArn'].rsplit('/', 1)[1]}"
    events = logs.get_log_events(
        logGroupName=placement.log_group, logStreamName=stream, startFromHead=True
    )["events"]
    return [
        json.loads(e["message"][len(PROBE_MARKER) :])
        for e in events
        if e["message"].startswith(PROBE_MARKER)
    ]


def pull_seconds(task: dict) -> float | None:
    """How long Fargate took to pull the task's images (None before the pull ended)."""
    started, stopped = task.get("pullStartedAt"), task.get("pullStoppedAt")
    return (stopped - started).total_seconds() if started and stopped else None


def container(task: dict, name: str) -> dict:
    """The task's container `name`."""
    return next(c for c in task["containers"] if c["name"] == name)


#: The directories the Datadog agent image declares as VOLUME (README, Security and reliability).
DATADOG_IMAGE_VOLUMES = ("/var/run/s6", "/var/log/datadog")


def template_container(template: dict, name: str) -> dict:
    """A container definition of the template's task definition, as written (those switched by
    a Condition are looked into too)."""
    for entry in template["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]:
        definition = entry["Fn::If"][1] if "Fn::If" in entry else entry
        if definition.get("Name") == name:
            return definition
    raise KeyError(f"no container {name!r} in the template's task definition")


#: What the MLflow image's probe prints: the mode and owner of /tmp as Fargate made it (no init
#: container, no VOLUME in the image), and the task's disk in use with that image.
TMP_PROBE = (
    "import json, os, shutil\n"
    "s = os.stat('/tmp')\n"
    "d = shutil.disk_usage('/')\n"
    f"print({PROBE_MARKER!r} + json.dumps({{'path': '/tmp', 'mode': oct(s.st_mode & 0o7777), "
    "'uid': s.st_uid, 'gid': s.st_gid, 'disk_total': d.total, 'disk_used': d.used}), "
    "flush=True)\n"
)


def volume_probe_script(paths: list[str]) -> str:
    """A shell script printing, for each path, its mode, owner and entry count as JSON."""
    lines = [
        f'printf \'%s{{"path": "%s", "mode": "%s", "uid": %s, "gid": %s, "entries": %s}}\\n\' '
        f"{PROBE_MARKER!r} {path} "
        f'"$(stat -c %a {path})" "$(stat -c %u {path})" "$(stat -c %g {path})" '
        f'"$(ls -A {path} | wc -l)"'
        for path in paths
    ]
    return "\n".join(["set -e", *lines]) + "\n"
