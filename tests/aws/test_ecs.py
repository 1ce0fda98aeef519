"""The ECS steps: the service broken on purpose and restored as it was, and the probe tasks (their
task definition, their run, and their scripts, run here on local directories)."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys

import pytest

from tests.aws.acceptance import ecs
from tests.aws.stubs import ACCOUNT, REGION, FakeClock, Stubs
from tests.conftest import TEMPLATES

pytestmark = pytest.mark.usefixtures("no_real_aws")

CLUSTER = "mfa2612071530-web-EcsCluster-Y"
SERVICE = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/mfa2612071530-web-Service-Z"
ORIGINAL = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/mfa2612071530-web-TaskDefinition-Q:3"
BROKEN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/mfa2612071530-impaired:1"
IMAGE = "ghcr.io/mlflow/mlflow:v3.17.2-full"
MISSING = "ghcr.io/mlflow/mlflow:v0.0.0-does-not-exist"
T0 = datetime.datetime(2026, 12, 7, 15, 30, tzinfo=datetime.UTC)
PLACEMENT = ecs.Placement(
    cluster=CLUSTER,
    subnets=["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
    security_group="sg-0123456789abcdef0",
    execution_role_arn=f"arn:aws:iam::{ACCOUNT}:role/mfa2612071530-web-TaskExecutionRole-R",
    log_group="mfa2612071530-web-LogGroup-X",
    region=REGION,
)


@pytest.fixture
def aws():
    stubs = Stubs()
    yield stubs
    stubs.done()


CONFIGURATION = {
    "deploymentCircuitBreaker": {"enable": True, "rollback": True},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}


def test_the_service_is_broken_with_its_circuit_breaker_off_and_restored_as_it_was(aws):
    aws.expect(
        "ecs",
        "describe_services",
        {"cluster": CLUSTER, "services": [SERVICE]},
        {"services": [{"taskDefinition": ORIGINAL, "deploymentConfiguration": CONFIGURATION}]},
    )
    init = {"name": "prepare-volumes", "image": IMAGE, "essential": False, "user": "0"}
    server = {"name": "mlflow", "image": IMAGE, "essential": True, "user": "1000"}
    sidecar = {"name": "log-router", "image": "public.ecr.aws/x/fluent-bit:stable"}
    definition = {
        "taskDefinitionArn": ORIGINAL,
        "family": "mfa2612071530-web-TaskDefinition-Q",
        "revision": 3,
        "status": "ACTIVE",
        "executionRoleArn": PLACEMENT.execution_role_arn,
        "networkMode": "awsvpc",
        "containerDefinitions": [init, server, sidecar],
        "volumes": [{"name": "tmp"}],
        "requiresCompatibilities": ["FARGATE"],
        "compatibilities": ["EC2", "FARGATE"],
        "cpu": "512",
        "memory": "1024",
        "registeredAt": T0,
    }
    aws.expect(
        "ecs",
        "describe_task_definition",
        {"taskDefinition": ORIGINAL},
        {"taskDefinition": definition},
    )
    aws.expect(
        "ecs",
        "register_task_definition",
        {
            "family": "mfa2612071530-impaired",
            "executionRoleArn": PLACEMENT.execution_role_arn,
            "networkMode": "awsvpc",
            "containerDefinitions": [
                {**init, "image": MISSING},
                {**server, "image": MISSING},
                sidecar,
            ],
            "volumes": [{"name": "tmp"}],
            "requiresCompatibilities": ["FARGATE"],
            "cpu": "512",
            "memory": "1024",
        },
        {"taskDefinition": {"taskDefinitionArn": BROKEN}},
    )
    aws.expect(
        "ecs",
        "update_service",
        {
            "cluster": CLUSTER,
            "service": SERVICE,
            "taskDefinition": BROKEN,
            "deploymentConfiguration": {
                **CONFIGURATION,
                "deploymentCircuitBreaker": {"enable": False, "rollback": False},
            },
            "forceNewDeployment": True,
        },
    )
    aws.expect(
        "ecs",
        "update_service",
        {
            "cluster": CLUSTER,
            "service": SERVICE,
            "taskDefinition": ORIGINAL,
            "deploymentConfiguration": CONFIGURATION,
            "forceNewDeployment": True,
        },
    )
    original, broken = ecs.break_service(
        aws("ecs"), CLUSTER, SERVICE, MISSING, "mfa2612071530-impaired"
    )
    assert broken == BROKEN
    ecs.restore_service(aws("ecs"), CLUSTER, SERVICE, original)


def test_waiting_for_a_steady_service(aws):
    call = {"cluster": CLUSTER, "services": [SERVICE]}
    two = [{"rolloutState": "COMPLETED"}, {"rolloutState": "IN_PROGRESS"}]
    aws.expect(
        "ecs",
        "describe_services",
        call,
        {"services": [{"deployments": two, "desiredCount": 1, "runningCount": 2}]},
    )
    steady = {"deployments": two[:1], "desiredCount": 1, "runningCount": 1}
    aws.expect("ecs", "describe_services", call, {"services": [steady]})
    time = FakeClock()
    assert ecs.wait_steady(aws("ecs"), CLUSTER, SERVICE, 600, time.clock)["runningCount"] == 1
    assert time.slept == [15]


def test_a_probe_is_a_hardened_one_container_task_logging_to_the_stack(aws):
    container = {
        "name": "probe",
        "image": IMAGE,
        "essential": True,
        "user": "1000",
        "entryPoint": ["python"],
        "command": ["-c", ecs.TMP_PROBE],
        "readonlyRootFilesystem": True,
        "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": PLACEMENT.log_group,
                "awslogs-region": REGION,
                "awslogs-stream-prefix": "probe",
            },
        },
    }
    probe = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/mfa2612071530-probe-tmp:1"
    aws.expect(
        "ecs",
        "register_task_definition",
        {
            "family": "mfa2612071530-probe-tmp",
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "cpu": "256",
            "memory": "512",
            "executionRoleArn": PLACEMENT.execution_role_arn,
            "containerDefinitions": [container],
            "volumes": [{"name": "tmp"}],
        },
        {"taskDefinition": {"taskDefinitionArn": probe}},
    )
    task_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/0123abcd"
    aws.expect(
        "ecs",
        "run_task",
        {
            "cluster": CLUSTER,
            "taskDefinition": probe,
            "launchType": "FARGATE",
            "platformVersion": "LATEST",
            "count": 1,
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": PLACEMENT.subnets,
                    "securityGroups": [PLACEMENT.security_group],
                    "assignPublicIp": "DISABLED",
                }
            },
        },
        {"tasks": [{"taskArn": task_arn}], "failures": []},
    )
    running = {"taskArn": task_arn, "lastStatus": "RUNNING", "containers": []}
    stopped = {
        "taskArn": task_arn,
        "lastStatus": "STOPPED",
        "pullStartedAt": T0,
        "pullStoppedAt": T0 + datetime.timedelta(seconds=61.5),
        "containers": [{"name": "probe", "exitCode": 0}],
    }
    describe = {"cluster": CLUSTER, "tasks": [task_arn]}
    aws.expect("ecs", "describe_tasks", describe, {"tasks": [running]})
    aws.expect("ecs", "describe_tasks", describe, {"tasks": [stopped]})
    line = ecs.PROBE_MARKER + json.dumps({"path": "/tmp", "mode": "0o755", "uid": 0})
    aws.expect(
        "logs",
        "get_log_events",
        {
            "logGroupName": PLACEMENT.log_group,
            "logStreamName": "probe/probe/0123abcd",
            "startFromHead": True,
        },
        {"events": [{"message": "noise"}, {"message": line}]},
    )
    arn = ecs.register_probe(
        aws("ecs"),
        "mfa2612071530-probe-tmp",
        PLACEMENT,
        IMAGE,
        "1000",
        ["python", "-c", ecs.TMP_PROBE],
        {"tmp": "/tmp"},
    )
    task = ecs.wait_stopped(
        aws("ecs"), CLUSTER, ecs.run_probe(aws("ecs"), PLACEMENT, arn), FakeClock().clock
    )
    assert ecs.probe_report(aws("logs"), PLACEMENT, task) == [
        {"path": "/tmp", "mode": "0o755", "uid": 0}
    ]
    assert ecs.pull_seconds(task) == 61.5


def test_a_probe_that_failed_says_why(aws):
    task = {
        "taskArn": "arn:aws:ecs:x:1:task/c/1",
        "stoppedReason": "CannotPullContainerError: not found",
        "containers": [{"name": "probe"}],
    }
    with pytest.raises(RuntimeError, match="CannotPullContainerError"):
        ecs.probe_report(aws("logs"), PLACEMENT, task)


def parsed(output: str) -> list[dict]:
    lines = [line for line in output.splitlines() if line.startswith(ecs.PROBE_MARKER)]
    return [json.loads(line[len(ecs.PROBE_MARKER) :]) for line in lines]


def test_the_tmp_probe_reports_mode_owner_and_disk():
    result = subprocess.run(
        [sys.executable, "-c", ecs.TMP_PROBE], capture_output=True, text=True, check=True
    )
    [report] = parsed(result.stdout)
    status = os.stat("/tmp")
    assert report["mode"] == oct(status.st_mode & 0o7777)
    assert (report["uid"], report["gid"]) == (status.st_uid, status.st_gid)
    assert 0 < report["disk_used"] < report["disk_total"]


def test_the_volume_probe_reports_each_path(tmp_path):
    filled, empty = tmp_path / "s6", tmp_path / "log"
    filled.mkdir(mode=0o750)
    empty.mkdir()
    (filled / "a").write_text("x")
    (filled / ".b").write_text("x")
    os.chmod(filled, 0o750)
    script = ecs.volume_probe_script([str(filled), str(empty)])
    result = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, check=True)
    reports = parsed(result.stdout)
    assert [(r["path"], r["mode"], r["entries"]) for r in reports] == [
        (str(filled), "750", 2),
        (str(empty), oct(os.stat(empty).st_mode & 0o777)[2:], 0),
    ]
    assert reports[0]["uid"] == os.getuid()


def test_the_probes_run_as_the_templates_containers_do():
    product = json.loads((TEMPLATES / "mlflow.json").read_text())
    assert ecs.template_container(product, "mlflow")["User"] == "1000:1000"
    datadog = json.loads((TEMPLATES / "mlflow-datadog.json").read_text())
    agent = ecs.template_container(datadog, "datadog-agent")
    assert agent["User"] == "100"
    paths = [m["ContainerPath"] for m in agent["MountPoints"]]
    assert set(ecs.DATADOG_IMAGE_VOLUMES) <= set(paths)
    with pytest.raises(KeyError):
        ecs.template_container(product, "datadog-agent")
