"""Large artifacts (issue 16), on the evaluated template: the load balancer's idle timeout, the
task's disk, and who may write through URLs the server signs (clients' direct multipart uploads).
"""

from __future__ import annotations

import json

import pytest

from mlflow_cfn.cfn.evaluate import ParameterError
from mlflow_cfn.cli import main
from tests.conftest import REQUIRED_PARAMETERS, lint
from tests.template.modes import OWN_BUCKET, rendered, stack

OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
NO_SIGNED_UPLOADS = "RefuseUploadsThroughSignedUrls"


def lb_attributes(s) -> dict[str, str]:
    attributes = s.resource("LoadBalancer")["Properties"]["LoadBalancerAttributes"]
    return {a["Key"]: str(a["Value"]) for a in attributes}


def task_statements(s) -> dict[str, dict]:
    (policy,) = s.resource("TaskRole")["Properties"]["Policies"]
    return {st["Sid"]: st for st in policy["PolicyDocument"]["Statement"]}


def mlflow_env(s) -> dict[str, str]:
    task = s.resource("TaskDefinition")["Properties"]
    (c,) = [c for c in task["ContainerDefinitions"] if c["Name"] == "mlflow"]
    return {e["Name"]: e["Value"] for e in c["Environment"]}


def refused(**parameters) -> list[str]:
    with pytest.raises(ParameterError) as caught:
        stack(**parameters)
    return caught.value.errors


# --- Defaults ----------------------------------------------------------------------------------
def test_defaults_fit_multi_gb_artifacts():
    s = stack()
    assert lb_attributes(s)["idle_timeout.timeout_seconds"] == "300"  # not ELB's 60
    assert "EphemeralStorage" not in s.resource("TaskDefinition")["Properties"]  # Fargate's 20 GiB
    by_sid = task_statements(s)
    assert NO_SIGNED_UPLOADS not in by_sid  # MLflow 3.17 clients upload >= 500 MiB directly
    assert by_sid["ReadWriteArtifactsUnderThePrefix"]["Action"] == OBJECT_ACTIONS
    # Nothing lists multipart parts (MLflow, boto3): the role may not either.
    assert "ListMultipartUploadParts" not in json.dumps(s.resource("TaskRole"))


# --- Load balancer idle timeout ----------------------------------------------------------------
def test_idle_timeout_follows_the_parameter():
    attributes = lb_attributes(stack(LoadBalancerIdleTimeoutSeconds="4000"))
    assert attributes["idle_timeout.timeout_seconds"] == "4000"


@pytest.mark.parametrize("seconds", ["59", "4001"])
def test_idle_timeout_outside_what_the_load_balancer_allows_is_refused(seconds):
    errors = refused(LoadBalancerIdleTimeoutSeconds=seconds)
    assert any("LoadBalancerIdleTimeoutSeconds" in e and "60 to 4000" in e for e in errors), errors


def test_the_server_keeps_connections_open_longer_than_the_load_balancer_may():
    """ELB's guide: the target's keep-alive must exceed the idle timeout, or the load balancer
    may send a request on a connection the server is closing (502)."""
    opts = mlflow_env(stack())["MLFLOW_UVICORN_OPTS"].split()
    assert opts[:1] == ["--timeout-keep-alive"] and int(opts[1]) > 4000, opts


def test_plan_shows_the_idle_timeout(tmp_path, capsys, no_real_aws, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    path = tmp_path / "params.json"
    path.write_text(json.dumps({**REQUIRED_PARAMETERS, "LoadBalancerIdleTimeoutSeconds": "900"}))
    assert main(["plan", "--parameters", str(path)]) == 0
    assert "  idle timeout: 900 s" in capsys.readouterr().out


# --- Task disk ---------------------------------------------------------------------------------
@pytest.mark.parametrize("gib", ["21", "200"])
def test_more_task_disk_sets_ephemeral_storage(gib):
    task = stack(TaskEphemeralStorageGiB=gib).resource("TaskDefinition")["Properties"]
    assert str(task["EphemeralStorage"]["SizeInGiB"]) == gib


@pytest.mark.parametrize("gib", ["19", "201"])
def test_task_disk_outside_what_fargate_gives_is_refused(gib):
    errors = refused(TaskEphemeralStorageGiB=gib)
    assert any("TaskEphemeralStorageGiB" in e and "20" in e and "200" in e for e in errors), errors


def test_service_platform_supports_ephemeral_storage():
    """EphemeralStorage needs Fargate platform 1.4.0 or later: LATEST is."""
    service = stack(TaskEphemeralStorageGiB="50").resource("Service")["Properties"]
    assert service["PlatformVersion"] == "LATEST"


# --- Direct multipart uploads ------------------------------------------------------------------
@pytest.mark.parametrize("bucket", [{}, OWN_BUCKET], ids=["created-bucket", "own-bucket"])
def test_off_refuses_writes_through_signed_urls_under_the_prefix_only(bucket):
    on, off = (stack(ArtifactDirectMultipartUpload=v, **bucket) for v in ("true", "false"))
    on_sids, off_sids = task_statements(on), task_statements(off)
    deny = off_sids.pop(NO_SIGNED_UPLOADS)
    assert off_sids == on_sids  # the switch adds or removes exactly this statement
    prefix = on_sids["ReadWriteArtifactsUnderThePrefix"]["Resource"]
    assert deny == {
        "Sid": NO_SIGNED_UPLOADS,
        "Effect": "Deny",
        "Action": ["s3:PutObject"],  # a part upload; presigned downloads (GetObject) stay allowed
        "Resource": prefix,
        "Condition": {"StringEquals": {"s3:authType": "REST-QUERY-STRING"}},
    }
    if bucket:
        assert prefix == ["arn:aws:s3:::team-ml-artifacts/mlflow/prod/*"]


def test_every_writing_statement_stays_under_the_prefix():
    for value in ("true", "false"):
        by_sid = task_statements(stack(ArtifactDirectMultipartUpload=value))
        prefix = by_sid["ReadWriteArtifactsUnderThePrefix"]["Resource"]
        for sid, st in by_sid.items():
            if {"s3:PutObject", "s3:AbortMultipartUpload"} & set(st["Action"]):
                assert st["Resource"] == prefix, sid


def test_the_switch_changes_nothing_in_the_container():
    """The server signs part uploads whatever the switch; only the task role decides."""
    assert mlflow_env(stack(ArtifactDirectMultipartUpload="false")) == mlflow_env(stack())


def test_non_default_large_artifact_settings_lint_clean():
    params = {
        "ArtifactDirectMultipartUpload": "false",
        "TaskEphemeralStorageGiB": "120",
        "LoadBalancerIdleTimeoutSeconds": "4000",
    }
    assert lint(rendered(**params)) == []
    assert lint(rendered(**params, **OWN_BUCKET)) == []
