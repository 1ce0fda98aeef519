"""The real-account acceptance suite (marker ``aws``): deploys, launches, provokes and measures in a
sandbox account what no offline test can settle, then deletes everything (README, "Acceptance in a
real account"). Opt-in only: without MLFLOW_CFN_AWS_ACCEPTANCE=1 every test here is skipped with
its reason, and nothing calls AWS.

The tests run in this order and share one run (the ``acceptance`` fixture, tests/aws/conftest.py),
whose teardown runs at the end of the session whatever failed. Each check is recorded in the run's
table (`tests.aws.acceptance.report.CHECKS` says what each proves); a test whose prerequisite did
not pass is skipped naming it. The Service Catalog steps run in the background from the moment the
portfolio and the network exist, beside the checks of the other stacks.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from mlflow_cfn.catalog.boundary import DATABASE_SECRET_TAG
from mlflow_cfn.cfn.upload import upload_template
from mlflow_cfn.smoke.http import PROBE_PATH, get
from mlflow_cfn.smoke.target import SmokeRequest, read_stack
from mlflow_cfn.smoke.token import fetch_token, plan_token
from tests.aws.acceptance import (
    alarms,
    artifacts,
    catalog,
    cli,
    ecs,
    exposure,
    gate,
    identities,
    measures,
    retention,
    tags,
)
from tests.aws.acceptance import parameter_sets as sets
from tests.aws.acceptance.ledger import Leftover
from tests.aws.acceptance.report import PASSED, SKIPPED, elapsed
from tests.aws.acceptance.run import Run
from tests.aws.acceptance.teardown import (
    IAM_POLICY,
    IAM_ROLE,
    PROVISIONED_PRODUCT,
    PUBLISHED_PORTFOLIO,
    SQS_QUEUE,
    STACK,
    TASK_FAMILY,
    existing_stack,
    provisioned_stack,
    stack_leftovers,
)
from tests.aws.acceptance.waiting import TimedOut, poll
from tests.conftest import TEMPLATES
from tests.publish.iam import allowed

SKIP = gate.skip_reason(os.environ)
pytestmark = [pytest.mark.aws, pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]

GIB = 1 << 30
MISSING_IMAGE = "ghcr.io/mlflow/mlflow:v0.0.0-mlflow-cfn-acceptance-does-not-exist"


def template(name: str) -> dict:
    return json.loads((TEMPLATES / name).read_text())


def compact(document: dict) -> bytes:
    """A template as `mlflow-cfn deploy` and `publish` send it."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def timed(check: Any, action: Any) -> Any:
    """Run `action`; its duration is the check's figure."""
    began = time.monotonic()
    try:
        return action()
    finally:
        check.figure = elapsed(time.monotonic() - began)


def make_role(run: Run, name: str, policy_arns: list[str], description: str) -> str:
    """A role of the run trusted by the person alone (registered before it is created)."""
    run.ledger.add(Leftover(IAM_ROLE, name, description))
    return identities.create_role(
        run.aws("iam"), name, run.caller, policy_arns, run.names.run, description
    )


def operator(
    run: Run, purpose: str, role: str, allowed: Callable[[Any], Any], **flags: str
) -> dict[str, str | None]:
    """A role holding only what `mlflow-cfn permissions --for PURPOSE` prints; the environment
    of a command run as it, once `allowed` (a call its policies allow, given a boto3 session as
    the role) no longer meets IAM's propagation delay."""
    directory = run.path("policies", purpose)
    args = cli.permissions(purpose, run.settings.region, run.settings.account, directory, **flags)
    run.mlflow_cfn(f"permissions-{purpose}", args).require(
        f"mlflow-cfn permissions --for {purpose}"
    )
    arns = []
    for number, path in enumerate(sorted(directory.glob(f"mlflow-cfn-{purpose}-*.json")), start=1):
        name = run.names.operator_policy(purpose, number)
        arn = f"arn:{run.partition}:iam::{run.settings.account}:policy/{name}"
        run.ledger.add(Leftover(IAM_POLICY, arn, f"permissions --for {purpose}"))
        identities.create_policy(run.aws("iam"), name, json.loads(path.read_text()), run.names.run)
        arns.append(arn)
    arn = make_role(run, role, arns, f"holds only mlflow-cfn permissions --for {purpose}")
    credentials = identities.assume(run.aws("sts"), arn, purpose)
    session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=run.settings.region,
    )
    identities.wait_allowed(lambda: allowed(session), f"the policies of {role}")
    return identities.credentials_environment(credentials)


def stack_of(run: Run, role: str) -> str:
    return run.names.stack(role)


def open_uri(run: Run) -> str:
    run.exposure("open")  # skipped without a domain: nothing here reaches the load balancer
    return run.outputs(stack_of(run, "open"))["TrackingUri"]


def smoke(run: Run, role: str, name: str, wake_seconds: int = 300) -> cli.Finished:
    return run.mlflow_cfn(name, cli.smoke(stack_of(run, role), run.settings.region, wake_seconds))


def smoke_figure(finished: cli.Finished) -> str:
    """``8 steps, 3.4 s`` from smoke's last line."""
    found = re.search(r"passed: (\d+) steps in ([\d.]+) s", finished.tail)
    return f"{found[1]} steps, {found[2]} s" if found else ""


def placement(run: Run, role: str = "open") -> ecs.Placement:
    """Where a probe runs: the stack's cluster, subnets, service security group and roles."""
    stack = stack_of(run, role)
    subnets = run.stack_parameters(stack)["ServiceSubnetIds"].split(",")
    return ecs.Placement(
        cluster=run.outputs(stack)["ClusterName"],
        subnets=subnets,
        security_group=run.physical(stack, "ServiceSecurityGroup"),
        execution_role_arn=run.aws("iam").get_role(
            RoleName=run.physical(stack, "TaskExecutionRole")
        )["Role"]["Arn"],
        log_group=run.physical(stack, "LogGroup"),
        region=run.settings.region,
    )


def probe(run: Run, purpose: str, image: str, user: str, command: list[str], volumes: dict) -> list:
    """Run a probe task in the open stack's place; what it printed."""
    where = placement(run)
    family = run.names.task_family(f"probe-{purpose}")
    run.ledger.add(Leftover(TASK_FAMILY, family, f"probe {purpose}"))
    definition = ecs.register_probe(run.aws("ecs"), family, where, image, user, command, volumes)
    task_arn = ecs.run_probe(run.aws("ecs"), where, definition)
    task = ecs.wait_stopped(run.aws("ecs"), where.cluster, task_arn)
    run.found[f"probe-{purpose}-task"] = task
    return ecs.probe_report(run.aws("logs"), where, task)


# --- 1. the template bucket, the network, the portfolio -----------------------------------------


def test_template_bucket(acceptance: Run):
    run = acceptance
    with run.report.check("template-bucket"):
        bucket = run.names.template_bucket
        run.ledger.add(Leftover("AWS::S3::Bucket", bucket, "the run's template bucket"))
        exposure.create_template_bucket(run.aws("s3"), bucket, run.settings.region, run.names.run)

        def upload(document: dict) -> str:
            return upload_template(run.aws("s3"), bucket, compact(document), out=lambda _: None)

        product = template("mlflow.json")
        run.found["product-url"] = upload(product)
        run.found["version-2-url"] = upload(sets.key_policy_version(product))
        run.found["network-url"] = upload(template("network.json"))


def test_network_and_portfolio(acceptance: Run):
    run = acceptance
    run.require("template-bucket", checks=("deploy-network", "deploy-portfolio"))

    def network(check: Any) -> None:
        deployed = timed(
            check,
            lambda: run.deploy("network", sets.network(), template="network.json", network=False),
        )
        deployed.require("mlflow-cfn deploy (network)")

    def portfolio(check: Any) -> None:
        # The end user first: the portfolio's principal, a role with the end-user policy only.
        policy = identities.aws_managed_policy(run.partition, identities.END_USER_POLICY)
        end_user = make_role(run, run.names.end_user_role, [policy], "Service Catalog end user")
        session = identities.RoleSession(run.aws("sts"), end_user, run.settings.region, "end-user")
        session.client("sts")  # assumed once: its trust has reached STS
        run.found.update({"end-user-arn": end_user, "end-user": session})
        parameters = sets.portfolio(
            run.names, end_user, run.found["product-url"], run.found["network-url"]
        )
        deployed = timed(
            check,
            lambda: run.deploy("portfolio", parameters, template="portfolio.json", network=False),
        )
        deployed.require("mlflow-cfn deploy (portfolio)")

    run.in_parallel({"deploy-network": network, "deploy-portfolio": portfolio})
    if PASSED == run.report.outcome("deploy-network") == run.report.outcome("deploy-portfolio"):
        run.in_background("service-catalog", lambda: service_catalog(run))
    run.assert_passed("deploy-network", "deploy-portfolio")


# --- 2. the product stacks ----------------------------------------------------------------------


def test_products(acceptance: Run):
    run = acceptance
    products = ("deploy-open", "deploy-login", "operator-deploy", "deploy-datadog")
    run.require("deploy-network", checks=products)

    def deploy(role: str, parameters: Callable[[], dict], **options: Any) -> Any:
        def action(check: Any) -> None:
            values = parameters()
            deployed = timed(check, lambda: run.deploy(role, values, **options))
            deployed.require(f"mlflow-cfn deploy ({role})")

        return action

    def open_parameters() -> dict:
        reach = run.exposure("open") if run.settings.has_domain else None
        run.found["open-parameters"] = sets.open_product(reach)
        return run.found["open-parameters"]

    def operator_deploy(check: Any) -> None:
        network = stack_of(run, "network")
        environment = operator(
            run,
            "deploy",
            run.names.deploy_operator_role,
            lambda as_role: as_role.client("cloudformation").describe_stacks(StackName=network),
            stack_name=stack_of(run, "operator"),
            s3_bucket=run.names.template_bucket,
            network_stack=stack_of(run, "network"),
        )
        deployed = timed(
            check,
            lambda: run.deploy("operator", sets.operator_product(), environment=environment),
        )
        deployed.require("mlflow-cfn deploy as the operator (with --tags)")

    actions = {
        "deploy-open": deploy("open", open_parameters),
        "deploy-login": deploy("login", lambda: sets.login_product(run.exposure("login"))),
        "operator-deploy": operator_deploy,
    }
    if run.settings.datadog_secret_arn:
        secret = run.settings.datadog_secret_arn
        actions["deploy-datadog"] = deploy(
            "datadog", lambda: sets.datadog_product(secret), template="mlflow-datadog.json"
        )
    else:
        run.report.record("deploy-datadog", SKIPPED, detail=f"{gate.DATADOG_SECRET} is not set")
    run.in_parallel(actions)
    run.assert_passed(*actions)


# --- 3. the open stack: HTTP, artifacts, alarms, Fargate ----------------------------------------


def test_smoke_open(acceptance: Run):
    run = acceptance
    run.require("deploy-open", checks=("smoke-open",))
    with run.report.check("smoke-open") as check:
        open_uri(run)
        finished = smoke(run, "open", "smoke-open")
        finished.require("mlflow-cfn smoke")
        check.figure = smoke_figure(finished)


def test_schema_migration_time(acceptance: Run):
    run = acceptance
    run.require("deploy-open", checks=("schema-migration-time",))
    with run.report.check("schema-migration-time") as check:
        group = run.physical(stack_of(run, "open"), "LogGroup")
        seconds = measures.migration_seconds(run.aws("logs"), group)
        assert seconds is not None, f"no task logged creating the schema in {group}"
        check.figure = elapsed(seconds)


def test_signed_part_upload(acceptance: Run):
    run = acceptance
    run.require("deploy-open", "smoke-open", checks=("signed-part-upload",))
    with run.report.check("signed-part-upload") as check:
        uri = open_uri(run)
        path = run.path("work", "parts.bin")
        artifacts.write_file(path, 3 * artifacts.PART_BYTES + 1)
        artifacts.upload(uri, None, path, direct=False)  # the server's own write: allowed
        try:
            artifacts.upload(uri, None, path, direct=True)
            refusal = None
        except Exception as error:  # the client's error names the part's HTTP status
            refusal = " ".join(str(error).split())
        assert refusal is not None, "a part went up through a signed URL despite the Deny"
        assert "403" in refusal, f"refused, but not with 403: {refusal[:300]}"
        parameters = sets.direct_uploads(run.found["open-parameters"])
        run.deploy("open", parameters, step="direct-uploads").require("deploy (direct uploads)")
        run.found["open-parameters"] = parameters

        def accepted() -> bool:
            try:
                artifacts.upload(uri, None, path, direct=True)
            except Exception:  # IAM takes a moment to drop the Deny
                return False
            return True

        poll(accepted, bool, what="a signed part upload accepted", timeout=300, every=20)
        check.figure = "403, then accepted"


def test_alarm_delivery(acceptance: Run):
    run = acceptance
    run.require("deploy-open", checks=("alarm-delivery",))
    with run.report.check("alarm-delivery") as check:
        stack = stack_of(run, "open")
        topic = run.outputs(stack)["AlarmTopicArn"]
        sqs, cloudwatch = run.aws("sqs"), run.aws("cloudwatch")
        url, arn = alarms.create_queue(sqs, run.names.alarm_queue, run.names.run)
        run.ledger.add(Leftover(SQS_QUEUE, url, "alarm delivery"))
        alarms.subscribe(sqs, run.aws("sns"), url, arn, topic)
        inbox = run.found["inbox"] = alarms.Inbox(sqs, url)
        names = {
            r["PhysicalResourceId"]: r["LogicalResourceId"]
            for r in run.resources(stack)
            if r["ResourceType"] == "AWS::CloudWatch::Alarm"
        }
        notifying = alarms.notifying_alarms(cloudwatch, sorted(names), topic)
        assert notifying, f"none of the stack's alarms notifies {topic}"
        began = time.monotonic()
        for name in notifying:
            alarms.force_alarm(cloudwatch, name)
        delays = {}
        for name in notifying:
            arrived, _ = inbox.wait_for(alarms.is_alarm(name), f"the notification of {name}", 600)
            delays[names[name]] = arrived - began
        check.figure = f"{len(delays)} in {elapsed(max(delays.values()))}"
        check.detail = ", ".join(f"{k} {elapsed(v)}" for k, v in sorted(delays.items()))


def test_fargate_tmp_volume(acceptance: Run):
    run = acceptance
    run.require("deploy-open", checks=("fargate-tmp-volume",))
    with run.report.check("fargate-tmp-volume") as check:
        image = run.stack_parameters(stack_of(run, "open"))["MlflowImage"]
        user = ecs.template_container(template("mlflow.json"), "mlflow")["User"]
        command = ["python", "-c", ecs.TMP_PROBE]
        [report] = probe(run, "tmp", image, user, command, {"tmp": "/tmp"})
        run.found["tmp-probe"] = {**report, "image": image}
        check.figure = f"{report['mode'][2:]} uid {report['uid']}"
        assert (report["mode"], report["uid"]) == ("0o755", 0), f"Fargate made /tmp {report}"


def test_task_disk_usage(acceptance: Run):
    run = acceptance
    run.require("deploy-open", checks=("task-disk-usage",))
    report = run.found.get("tmp-probe")
    if report is None:
        run.skip("needs the /tmp probe's report (fargate-tmp-volume)", ("task-disk-usage",))
    with run.report.check("task-disk-usage") as check:
        check.figure = f"{report['disk_used'] / GIB:.1f}/{report['disk_total'] / GIB:.1f} GiB"
        check.detail = f"a task of {report['image']} and nothing else"
        assert 0 < report["disk_used"] < report["disk_total"], report


def test_datadog_volumes(acceptance: Run):
    run = acceptance
    run.require("deploy-open", checks=("datadog-volumes",))
    with run.report.check("datadog-volumes") as check:
        agent = ecs.template_container(template("mlflow-datadog.json"), "datadog-agent")
        paths = list(ecs.DATADOG_IMAGE_VOLUMES)
        volumes = {f"datadog-{n}": path for n, path in enumerate(paths)}
        command = ["/bin/sh", "-c", ecs.volume_probe_script(paths)]
        reports = probe(run, "datadog", agent["Image"], agent["User"], command, volumes)
        check.figure = "; ".join(f"{r['path']} {r['mode']} uid {r['uid']}" for r in reports)
        check.detail = ", ".join(f"{r['path']} {r['entries']} entries" for r in reports)
        assert len(reports) == len(paths), reports
        assert all(r["uid"] == int(agent["User"]) for r in reports), "not filled from the image"


def test_pull_through_recheck(acceptance: Run):
    run = acceptance
    checks = ("pull-through-recheck",)
    run.require_setting(bool(run.settings.stale_cache_image), gate.STALE_CACHE_IMAGE, checks)
    run.require("deploy-open", checks=checks)
    with run.report.check("pull-through-recheck") as check:
        image = run.settings.stale_cache_image or ""
        repository, tag = image.split("/", 1)[1].rsplit(":", 1)
        detail = run.aws("ecr").describe_images(
            repositoryName=repository, imageIds=[{"imageTag": tag}]
        )["imageDetails"][0]
        last = detail.get("lastRecordedPullTime") or detail["imagePushedAt"]
        hours = (datetime.now(UTC) - last).total_seconds() / 3600
        if hours < 24:
            pytest.skip(f"{image} was pulled {hours:.1f} h ago: ECR re-checks after 24 h only")
        user = ecs.template_container(template("mlflow.json"), "mlflow")["User"]
        probe(run, "cache", image, user, ["python", "-c", ecs.TMP_PROBE], {"tmp": "/tmp"})
        check.figure = f"pulled after {hours:.0f} h"


def test_task_start_impaired(acceptance: Run):
    run = acceptance
    run.require("deploy-open", "alarm-delivery", checks=("task-start-impaired",))
    with run.report.check("task-start-impaired") as check:
        stack = stack_of(run, "open")
        cluster, service = run.outputs(stack)["ClusterName"], run.physical(stack, "Service")
        family = run.names.task_family("impaired")
        run.ledger.add(Leftover(TASK_FAMILY, family, "the service's image that does not exist"))
        began = time.monotonic()
        original, _ = ecs.break_service(run.aws("ecs"), cluster, service, MISSING_IMAGE, family)
        try:
            arrived, _ = run.found["inbox"].wait_for(
                alarms.is_impaired(service), "ECS's SERVICE_TASK_START_IMPAIRED on the topic", 2400
            )
            check.figure = elapsed(arrived - began)
        finally:
            ecs.restore_service(run.aws("ecs"), cluster, service, original)
            ecs.wait_steady(run.aws("ecs"), cluster, service, 1800)


# --- 4. the login stack -------------------------------------------------------------------------


def test_smoke_login(acceptance: Run):
    run = acceptance
    run.require("deploy-login", checks=("smoke-login",))
    with run.report.check("smoke-login") as check:
        finished = smoke(run, "login", "smoke-login")
        finished.require("mlflow-cfn smoke (bearer token from the stack's Cognito pool)")
        check.figure = smoke_figure(finished)


def test_refused_token_status(acceptance: Run):
    run = acceptance
    run.require("deploy-login", "smoke-login", checks=("refused-token-status",))
    with run.report.check("refused-token-status") as check:
        stack = read_stack(run.aws("cloudformation"), stack_of(run, "login"))
        plan = plan_token(SmokeRequest(stack_name=stack.name), stack)
        assert plan is not None, "the login stack asks for no token"
        token = fetch_token(plan, lambda: run.aws("cognito-idp"))
        url = stack.outputs["TrackingUri"].rstrip("/") + PROBE_PATH
        statuses = {
            name: get(url, value).status
            for name, value in (
                ("valid", token),
                ("malformed", "not-a-jwt"),
                ("re-signed", measures.tampered(token)),
            )
        }
        check.figure = ", ".join(f"{name} {status}" for name, status in statuses.items())
        assert statuses["valid"] == 200, statuses
        assert {statuses["malformed"], statuses["re-signed"]} <= {401, 403}, statuses


def test_datadog_agent_healthy(acceptance: Run):
    run = acceptance
    checks = ("datadog-agent-healthy",)
    run.require_setting(bool(run.settings.datadog_secret_arn), gate.DATADOG_SECRET, checks)
    run.require("deploy-datadog", checks=checks)
    with run.report.check("datadog-agent-healthy") as check:
        outputs = run.outputs(stack_of(run, "datadog"))
        cluster, service = outputs["ClusterName"], outputs["ServiceName"]

        def agent() -> dict:
            running = ecs.tasks(run.aws("ecs"), cluster, service)
            return ecs.container(running[0], "datadog-agent") if running else {}

        found = poll(
            agent,
            lambda c: c.get("healthStatus") == "HEALTHY",
            what="the agent's health check",
            timeout=900,
            every=15,
        )
        task = ecs.tasks(run.aws("ecs"), cluster, service)[0]
        definition = run.aws("ecs").describe_task_definition(
            taskDefinition=task["taskDefinitionArn"]
        )["taskDefinition"]
        user = next(
            c["user"] for c in definition["containerDefinitions"] if c["name"] == found["name"]
        )
        check.figure = f"{found['healthStatus']} as uid {user}"
        assert user == "100", f"the agent runs as {user}"


# --- 5. the publisher ---------------------------------------------------------------------------


def test_operator_publish(acceptance: Run):
    run = acceptance
    run.require("deploy-portfolio", checks=("operator-publish",))
    with run.report.check("operator-publish") as check:
        outputs = run.outputs(stack_of(run, "portfolio"))
        launch_role = outputs["LaunchRoleArn"].rsplit("/", 1)[1]
        bucket = run.names.template_bucket
        environment = operator(
            run,
            "publish",
            run.names.publish_operator_role,
            lambda as_role: as_role.client("s3").head_bucket(Bucket=bucket),
            bucket=bucket,
            launch_role_name=launch_role,
        )
        run.ledger.add(Leftover(PUBLISHED_PORTFOLIO, run.names.published_portfolio, "publish"))
        args = cli.publish(
            run.names.published_portfolio,
            run.names.published_product,
            sets.VERSION_1,
            bucket,
            run.settings.region,
            launch_role_name=launch_role,
            principal=run.found["end-user-arn"],
            boundary_arn=outputs["PermissionsBoundaryArn"],
        )
        began = time.monotonic()
        run.mlflow_cfn("publish", args, environment).require("mlflow-cfn publish as the operator")
        check.figure = elapsed(time.monotonic() - began)
        end_user = run.found["end-user"]
        poll(
            lambda: catalog.visible_products(
                end_user.client("servicecatalog"), run.names.published_product
            ),
            lambda names: run.names.published_product in names,
            what="the published product among the end user's",
            timeout=180,
            every=15,
        )


# --- 6. the open stack again: rotation, a large transfer, idle shutdown --------------------------


def test_rotation_heals(acceptance: Run):
    run = acceptance
    run.require("deploy-open", "smoke-open", checks=("rotation-heals",))
    with run.report.check("rotation-heals") as check:
        stack = stack_of(run, "open")
        outputs = run.outputs(stack)
        cluster, service = outputs["ClusterName"], run.physical(stack, "Service")
        began, since = time.monotonic(), datetime.now(UTC)
        measures.rotate(run.aws("secretsmanager"), outputs["DatabaseSecretArn"])
        rotated = time.monotonic() - began
        try:
            poll(
                lambda: ecs.service(run.aws("ecs"), cluster, service)["deployments"],
                lambda deployments: any(d["createdAt"] > since for d in deployments),
                what="a deployment started by the rotation rule",
                timeout=600,
                every=15,
            )
            ecs.wait_steady(run.aws("ecs"), cluster, service, 1800)
            redeployed = "redeployed by the rotation rule"
        except TimedOut:
            redeployed = "no redeployment within 10 min (the rule did not act)"
        poll(
            lambda: smoke(run, "open", "smoke-after-rotation", 120).code == 0,
            bool,
            what="smoke passing after the rotation",
            timeout=1200,
            every=30,
        )
        check.figure = f"rotated {elapsed(rotated)}, healed {elapsed(time.monotonic() - began)}"
        check.detail = redeployed
        assert redeployed.startswith("redeployed"), redeployed


def test_streamed_transfer(acceptance: Run):
    run = acceptance
    checks = ("streamed-transfer",)
    run.require_setting(bool(run.settings.stream_gib), gate.STREAM_GIB, checks)
    run.require("deploy-open", "smoke-open", checks=checks)
    with run.report.check("streamed-transfer") as check:
        size = run.settings.stream_gib or 0
        path = run.path("work", "streamed.bin")
        try:
            artifacts.write_file(path, size * GIB)
            up, down = artifacts.round_trip(open_uri(run), None, path, run.path("work", "down"))
        finally:
            path.unlink(missing_ok=True)
        check.figure = f"{size} GiB: up {elapsed(up)}, down {elapsed(down)}"


def test_wake_time(acceptance: Run):
    run = acceptance
    run.require("deploy-open", "smoke-open", checks=("wake-time", "image-pull-time"))
    with run.report.check("wake-time") as check:
        stack = stack_of(run, "open")
        parameters = sets.idle_shutdown(run.found["open-parameters"])
        run.deploy("open", parameters, step="idle-shutdown").require("deploy (idle shutdown)")
        cluster, service = run.outputs(stack)["ClusterName"], run.physical(stack, "Service")
        ecs.wait_count(run.aws("ecs"), cluster, service, 0, (sets.IDLE_MINUTES + 25) * 60)
        finished = smoke(run, "open", "smoke-wake")
        finished.require("mlflow-cfn smoke --wake-seconds (a sleeping stack)")
        woke = measures.smoke_wake(finished.log.read_text())
        assert woke is not None, "smoke found the service awake: it never went to sleep"
        check.figure = elapsed(woke[0])
        check.detail = f"smoke's wake, allowed {woke[1]} s (README: the wake budget)"


def test_image_pull_time(acceptance: Run):
    run = acceptance
    run.require("wake-time", checks=("image-pull-time",))
    with run.report.check("image-pull-time") as check:
        stack = stack_of(run, "open")
        cluster, service = run.outputs(stack)["ClusterName"], run.physical(stack, "Service")
        running = ecs.tasks(run.aws("ecs"), cluster, service)
        seconds = ecs.pull_seconds(running[0]) if running else None
        assert seconds is not None, "no task of the wake-up reported its image pull"
        check.figure = elapsed(seconds)
        check.detail = "the task the wake-up started"


def test_create_rollback(acceptance: Run):
    """A first create that fails late (an image that does not exist) and rolls back: the keys,
    the artifact bucket and the log groups go, the log bucket stays (RetainExceptOnCreate and
    Retain as README's teardown section says); and whether RDS kept a final snapshot."""
    run = acceptance
    run.require("deploy-network", checks=("create-rollback",))
    with run.report.check("create-rollback") as check:
        parameters = {**sets.operator_product(), "MlflowImage": retention.ROLLBACK_IMAGE}
        finished = run.deploy("rollback", parameters, step="failing-create")
        assert finished.code != 0, "the create with an image that does not exist succeeded"
        cfn, stack = run.aws("cloudformation"), stack_of(run, "rollback")
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        assert status == "ROLLBACK_COMPLETE", f"{stack} is {status} after the failed create"
        pages = cfn.get_paginator("describe_stack_events").paginate(StackName=stack)
        events = [event for page in pages for event in page["StackEvents"]]
        problems = retention.rollback_problems(template("mlflow.json"), events)
        assert problems == [], "\n".join(problems)
        reached = retention.judged(template("mlflow.json"), events)
        check.figure = ", ".join(f"{len(ids)} {policy}" for policy, ids in reached.items())
        snapshots = retention.cluster_snapshots(run.aws("rds"), events)
        check.detail = "final snapshot of the rolled-back cluster: " + (
            ", ".join(snapshots) or "none"
        )


# --- 7. Service Catalog (started in the background by test_network_and_portfolio) ---------------

SC_CHECKS = (
    "sc-launch",
    "stack-name-tags-product",
    "database-secret-tag",
    "sc-update-service",
    "sc-update-key-policy",
    "sc-terminate",
    "sc-network-launch",
    "stack-name-tags-network",
    "sc-network-terminate",
)


def service_catalog(run: Run) -> None:
    """The end user's launches, updates and terminations, the product's and the network's at
    the same time; each step recorded as its check."""
    outputs = run.outputs(stack_of(run, "portfolio"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        flows = [pool.submit(product_flow, run, outputs), pool.submit(network_flow, run, outputs)]
        for flow in flows:
            flow.result()


def launched(run: Run, what: str, product_id: str, parameters: dict, state: dict) -> Any:
    """A launch check's action: provision as the end user, register what it made."""

    def action(check: Any) -> None:
        sc = run.found["end-user"].client("servicecatalog")
        target = catalog.launchable(sc, product_id, sets.VERSION_1)
        token = f"{run.names.run}-{what}-launch"
        record = catalog.provision(sc, target, run.names.provisioned(what), parameters, token)
        provisioned = record["ProvisionedProductId"]
        run.ledger.add(Leftover(PROVISIONED_PRODUCT, provisioned, f"the end user's {what}"))
        try:
            timed(check, lambda: catalog.succeeded(sc, record, f"launch of the {what}"))
        finally:  # what a failed launch kept is the teardown's too
            stack = provisioned_stack(run.aws("servicecatalog"), provisioned)
            if stack and existing_stack(run.aws("cloudformation"), stack):
                run.ledger.add(Leftover(STACK, stack, f"the end user's {what}"))
                run.ledger.add(*stack_leftovers(run.aws("cloudformation"), stack))
        assert stack, f"the {what}'s record names no stack"
        state.update(target=target, provisioned=provisioned, stack=stack)

    return action


def tagged(run: Run, state: dict) -> Any:
    """A tag check's action on the launched stack."""

    def action(check: Any) -> None:
        where = tags.Where(run.partition, run.settings.region, run.settings.account)
        observed = tags.observe(run.aws, run.resources(state["stack"]), where)
        check.figure = f"{len(observed)} resources"
        check.detail = tags.summary(observed)
        assert observed, "no resource of a type the suite reads tags of"
        assert all(o.agrees for o in observed), "the tag differs from what the schema says"

    return action


def database_secret_tagged(run: Run, state: dict) -> Any:
    """The boundary's condition on the launched database's secret: its tag names the cluster,
    and the cluster ARN matches the boundary's pattern."""

    def action(check: Any) -> None:
        found = tags.database_secret(run.aws, run.resources(state["stack"]))
        check.detail = f"{found.secret_arn}: {tags.DATABASE_SECRET_TAG}={found.tag}"
        assert found.tag == found.cluster_arn, "the secret does not name its cluster"
        arn = run.outputs(stack_of(run, "portfolio"))["PermissionsBoundaryArn"]
        boundary = tags.managed_policy_statements(run.aws, arn)
        context = {DATABASE_SECRET_TAG: found.tag}
        assert allowed(boundary, "secretsmanager:GetSecretValue", found.secret_arn, context), (
            "the boundary refuses the product's own database secret"
        )

    return action


def terminated(run: Run, what: str, state: dict) -> Any:
    def action(check: Any) -> None:
        sc = run.found["end-user"].client("servicecatalog")
        token = f"{run.names.run}-{what}-terminate"
        record = catalog.terminate(sc, state["provisioned"], token)
        timed(check, lambda: catalog.succeeded(sc, record, f"termination of the {what}"))

    return action


def skip_after(run: Run, failed: str, checks: tuple[str, ...]) -> None:
    for check in checks:
        run.report.record(check, SKIPPED, detail=f"needs {failed} ({run.report.outcome(failed)})")


def product_flow(run: Run, outputs: dict) -> None:
    network = run.outputs(stack_of(run, "network"))
    parameters = sets.launched_product(network, outputs["PermissionsBoundaryArn"])
    state: dict = {}
    run.background_step(
        "sc-launch", launched(run, "product", outputs["ProductId"], parameters, state)
    )
    if run.report.outcome("sc-launch") != PASSED:
        rest = (
            "stack-name-tags-product",
            "database-secret-tag",
            "sc-update-service",
            "sc-update-key-policy",
            "sc-terminate",
        )
        return skip_after(run, "sc-launch", rest)
    run.background_step("stack-name-tags-product", tagged(run, state))
    run.background_step("database-secret-tag", database_secret_tagged(run, state))
    updated = sets.service_update(parameters)

    def update(version: str, step: str) -> Any:
        def action(check: Any) -> None:
            sc = run.found["end-user"].client("servicecatalog")
            target = catalog.launchable(sc, outputs["ProductId"], version)
            token = f"{run.names.run}-product-{step}"
            record = catalog.update(sc, state["provisioned"], target, updated, token)
            timed(check, lambda: catalog.succeeded(sc, record, f"update ({step})"))

        return action

    run.background_step("sc-update-service", update(sets.VERSION_1, "service"))

    def key_policies(check: Any) -> None:
        catalog.add_version(
            run.aws("servicecatalog"),
            outputs["ProductId"],
            sets.VERSION_2,
            run.found["version-2-url"],
            f"{run.names.run}-version-2",
        )
        update(sets.VERSION_2, "key-policies")(check)

    run.background_step("sc-update-key-policy", key_policies)
    run.background_step("sc-terminate", terminated(run, "product", state))


def network_flow(run: Run, outputs: dict) -> None:
    parameters = sets.launched_network(outputs["PermissionsBoundaryArn"])
    state: dict = {}
    product = outputs["NetworkProductId"]
    run.background_step("sc-network-launch", launched(run, "network", product, parameters, state))
    if run.report.outcome("sc-network-launch") != PASSED:
        return skip_after(
            run, "sc-network-launch", ("stack-name-tags-network", "sc-network-terminate")
        )
    run.background_step("stack-name-tags-network", tagged(run, state))
    run.background_step("sc-network-terminate", terminated(run, "network", state))


def test_service_catalog(acceptance: Run):
    """The background steps' outcomes (they ran beside the checks above)."""
    run = acceptance
    run.require("deploy-network", "deploy-portfolio", checks=SC_CHECKS)
    run.join("service-catalog")
    run.assert_passed(*SC_CHECKS)
    if all(run.report.outcome(check) == SKIPPED for check in SC_CHECKS):
        pytest.skip("every Service Catalog step was skipped")
