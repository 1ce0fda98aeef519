"""Every entry of the AWS-side constraints catalogue (`mlflow_cfn.stack.constraints`) is
enforced: its violating parameter set is refused, or renders the corrected template, and the fixed
set passes. Evaluated as CloudFormation would (`mlflow_cfn.cfn.evaluate`), plus plan's checks."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from fnmatch import fnmatchcase
from pathlib import Path

import boto3
import mlflow
import pytest
from botocore.stub import Stubber

from mlflow_cfn.catalog import owned_grants, portfolio
from mlflow_cfn.catalog.generated_names import NAMED_TYPES, generated_name
from mlflow_cfn.catalog.scopes import NO_ALARM, named_changes
from mlflow_cfn.cfn.evaluate import EvaluationError, evaluate, render_template
from mlflow_cfn.cfn.schemas import cloudformation_system_tags as cfn_system_tags
from mlflow_cfn.cfn.schemas import resource_schema
from mlflow_cfn.network import network_template
from mlflow_cfn.network.checks import apply_network_stack
from mlflow_cfn.network.inputs import IMAGE_CACHE_CREDENTIALS_ARN
from mlflow_cfn.network.lookups import online_problems
from mlflow_cfn.network.stack_outputs import NetworkStack
from mlflow_cfn.stack.checks import network_notes, region_problems
from mlflow_cfn.stack.constraints import CATALOGUE, constraints_table
from mlflow_cfn.stack.engines import AURORA_MYSQL, AURORA_POSTGRESQL
from mlflow_cfn.stack.plan import evaluate_checked
from tests.conftest import REQUIRED_PARAMETERS, ROOT, lint
from tests.network.test_fargate_zones import described_subnets
from tests.network.test_stack_outputs import CACHED_IMAGE, OUTPUTS
from tests.publish.iam import allowed
from tests.publish.stack_resources import generated_name as cloudformation_name
from tests.template.delivery import stack_deliveries
from tests.template.modes import DATADOG, HTTPS, OIDC, SIDECAR, stack, template

KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
COGNITO = {"AuthMode": "cognito", **HTTPS}


def refusals(sidecar: str | None = None, stack_name: str = "mlflow", **parameters) -> list[str]:
    """Every refusal of CloudFormation's checks and plan's for this parameter set ([] if none)."""
    extra = DATADOG if sidecar == "datadog" else {}
    try:
        evaluate_checked(
            template(sidecar),
            {**REQUIRED_PARAMETERS, **extra, **parameters},
            region="eu-west-1",
            stack_name=stack_name,
        )
    except EvaluationError as exc:
        return exc.errors
    return []


def refused_and_fixed(violating: dict, fixed: dict, words: str, sidecar: str | None = None):
    """The violating set is refused with a message containing ``words``; the fixed set is not."""
    assert any(words in e for e in refusals(sidecar, **violating)), refusals(sidecar, **violating)
    assert refusals(sidecar, **fixed) == []


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


# --- Aurora ------------------------------------------------------------------------------------
def aurora_auto_pause_needs_zero_minimum():
    scaling = stack(DatabaseMinCapacity="0.5").resource("DatabaseCluster")["Properties"][
        "ServerlessV2ScalingConfiguration"
    ]
    assert "SecondsUntilAutoPause" not in scaling
    paused = stack().resource("DatabaseCluster")["Properties"]["ServerlessV2ScalingConfiguration"]
    assert (str(paused["SecondsUntilAutoPause"]), str(paused["MinCapacity"])) == ("300", "0")


def aurora_capacity_range():
    refused_and_fixed({"DatabaseMinCapacity": "8", "DatabaseMaxCapacity": "4"},
                      {"DatabaseMinCapacity": "4", "DatabaseMaxCapacity": "4"},
                      "greater than DatabaseMaxCapacity")  # fmt: skip
    refused_and_fixed({"DatabaseMaxCapacity": "512"}, {"DatabaseMaxCapacity": "256"},
                      "DatabaseMaxCapacity must be one of")  # fmt: skip


def aurora_auto_pause_seconds():
    refused_and_fixed({"DatabaseAutoPauseSeconds": "120"}, {"DatabaseAutoPauseSeconds": "300"},
                      "DatabaseAutoPauseSeconds")  # fmt: skip


def aurora_backup_retention():
    refused_and_fixed(
        {"DatabaseBackupRetentionDays": "36"},
        {"DatabaseBackupRetentionDays": "35"},
        "DatabaseBackupRetentionDays",
    )


def aurora_version_scales_to_zero():
    postgres = tuple(int(x) for x in AURORA_POSTGRESQL.version.split(".")[:2])
    minimum = {13: (13, 15), 14: (14, 12), 15: (15, 7), 16: (16, 3)}.get(postgres[0], (17, 0))
    assert postgres >= minimum, AURORA_POSTGRESQL.version
    mysql = re.fullmatch(r"8\.0\.mysql_aurora\.(\d+)\.(\d+)\.\d+", AURORA_MYSQL.version)
    assert mysql and (int(mysql[1]), int(mysql[2])) >= (3, 8), AURORA_MYSQL.version
    for engine in ("aurora-postgresql", "aurora-mysql"):
        s = stack(DatabaseEngine=engine, DatabaseHighAvailability="true")
        for instance in s.of_type("AWS::RDS::DBInstance").values():
            assert instance["Properties"]["AutoMinorVersionUpgrade"] is True


def aurora_writer_first():
    s = stack(DatabaseHighAvailability="true")
    assert s.resource("DatabaseReader")["DependsOn"] == ["DatabaseWriter"]
    assert "DependsOn" not in s.resource("DatabaseWriter")


def aurora_mysql_slow_log_exported():
    s = stack(DatabaseEngine="aurora-mysql")
    assert "slowquery" in s.resource("DatabaseCluster")["Properties"]["EnableCloudwatchLogsExports"]
    group = s.resource("DatabaseClusterParameterGroup")["Properties"]["Parameters"]
    assert (group["slow_query_log"], group["log_output"]) == ("1", "FILE")


def rds_kms_key_form():
    t = template()
    cluster = t["Resources"]["DatabaseCluster"]["Properties"]
    writer = t["Resources"]["DatabaseWriter"]["Properties"]
    key_id = {"Ref": "DatabaseKey"}
    assert cluster["KmsKeyId"] == cluster["MasterUserSecret"]["KmsKeyId"] == key_id
    assert writer["PerformanceInsightsKMSKeyId"] == key_id
    transforms = resource_schema("AWS::RDS::DBCluster")["propertyTransform"]
    for path in ("/properties/KmsKeyId", "/properties/MasterUserSecret/KmsKeyId"):
        assert "kms" in transforms[path], path  # key IDs compare equal to the reported ARNs
    assert (
        "kms"
        in resource_schema("AWS::RDS::DBInstance")["propertyTransform"][
            "/properties/PerformanceInsightsKMSKeyId"
        ]
    )
    assert "/properties/KmsKeyId" in resource_schema("AWS::RDS::DBCluster")["createOnlyProperties"]
    # Everywhere else (aliases aside, which take either form), keys are referenced by ARN.
    others = {
        logical_id: resource
        for logical_id, resource in t["Resources"].items()
        if not logical_id.startswith("Database") and resource["Type"] != "AWS::KMS::Alias"
    }
    for key in ("LogsKey", "ArtifactKey", "DatabaseKey"):
        assert json.dumps({"Ref": key}) not in json.dumps(others), key


def two_availability_zones():
    one = "subnet-0aaaaaaaaaaaaaaaa"
    refused_and_fixed({"LoadBalancerSubnetIds": one, "DatabaseSubnetIds": one},
                      {}, "at least two Availability Zones")  # fmt: skip


# --- ECS, Fargate, scaling, secrets ------------------------------------------------------------
def fargate_cpu_memory():
    refused_and_fixed(
        {"TaskCpu": "256", "TaskMemory": "8192"},
        {"TaskCpu": "1024", "TaskMemory": "8192"},
        "TaskCpu=256 needs TaskMemory",
    )


def _containers(s) -> dict[str, dict]:
    task = s.resource("TaskDefinition")["Properties"]
    return {c["Name"]: c for c in task["ContainerDefinitions"]}


def fargate_bind_mount_owner():
    prepared = _containers(stack(**SIDECAR))
    init, server = prepared["prepare-volumes"], prepared["mlflow"]
    assert init["Command"][1:] == ["/tmp", "/volumes/sidecar-tmp"]
    assert "os.chmod(path, 0o1777)" in init["Command"][0]
    assert {m["SourceVolume"] for m in init["MountPoints"]} == {"tmp", "sidecar-tmp"}
    for name in ("mlflow", SIDECAR["SidecarName"]):
        assert prepared[name]["DependsOn"] == [
            {"ContainerName": "prepare-volumes", "Condition": "SUCCESS"}
        ]
    assert server["MountPoints"][0]["ContainerPath"] == "/tmp"
    bare = _containers(stack(VolumePreparation="none"))
    assert set(bare) == {"mlflow"} and "DependsOn" not in bare["mlflow"]


def ecs_success_dependency_not_essential():
    for sidecar, parameters in ((None, SIDECAR), ("datadog", {})):
        containers = _containers(stack(sidecar, **parameters))
        for container in containers.values():
            for dependency in container.get("DependsOn", []):
                assert dependency["Condition"] == "SUCCESS"
                assert containers[dependency["ContainerName"]]["Essential"] is False


def control_tower_no_root_container():
    root = re.compile(r"^(0|root)(:.*)?$")
    default = _containers(stack(**SIDECAR)).values()
    assert any(root.match(str(c.get("User", ""))) for c in default)  # the init container
    strict = _containers(stack(VolumePreparation="none", **SIDECAR)).values()
    assert all("User" in c and not root.match(str(c["User"])) for c in strict)
    refused_and_fixed({"VolumePreparation": "none"}, {"VolumePreparation": "root-init-container"},
                      "VolumePreparation=root-init-container", sidecar="datadog")  # fmt: skip


def fargate_ephemeral_storage():
    refused_and_fixed({"TaskEphemeralStorageGiB": "201"}, {"TaskEphemeralStorageGiB": "200"},
                      "TaskEphemeralStorageGiB")  # fmt: skip
    assert "EphemeralStorage" not in stack().resource("TaskDefinition")["Properties"]
    more = stack(TaskEphemeralStorageGiB="21")
    assert more.resource("TaskDefinition")["Properties"]["EphemeralStorage"] == {"SizeInGiB": "21"}
    assert more.resource("Service")["Properties"]["PlatformVersion"] == "LATEST"


def scaling_needs_a_running_task():
    refused_and_fixed(
        {"MinTasks": "0", "ScalingMetric": "cpu"},
        {"MinTasks": "1", "ScalingMetric": "cpu"},
        "MinTasks must be at least 1",
    )
    schedule = {"ScaleUpSchedule": "cron(0 7 ? * MON-FRI *)",
                "ScaleDownSchedule": "cron(0 20 ? * MON-FRI *)"}  # fmt: skip
    refused_and_fixed({**schedule, "MinTasks": "0"}, {**schedule, "MinTasks": "1"},
                      "ScalingMetric cpu or requests or a ScaleUpSchedule")  # fmt: skip
    assert refusals(MinTasks="0") == []  # no scaling: MinTasks is not used


def ecs_keeps_the_scaled_count():
    scaled = stack(ScalingMetric="cpu").resource("Service")["Properties"]
    assert "DesiredCount" not in scaled
    assert str(stack().resource("Service")["Properties"]["DesiredCount"]) == "1"
    # CloudFormation re-registers the scalable target (MinTasks..MaxTasks, which at night would
    # start tasks) only when its own properties change: they follow nothing but the scaling
    # Parameters and the service's identity, so an image or database change leaves it alone.
    target = json.dumps(template()["Resources"]["ScalableTarget"]["Properties"])
    refs = set(re.findall(r'"Ref": "(\w+)"', target)) | set(
        re.findall(r'"Fn::GetAtt": \["(\w+)"', target)
    )
    scaling = {"MinTasks", "MaxTasks", "ScaleDownTasks", "ScheduleTimezone", "ScaleUpSchedule",
               "ScaleDownSchedule"}  # fmt: skip
    assert refs <= scaling | {"EcsCluster", "Service"}, refs


def alb_metrics_arrive_late():
    s = stack(IdleShutdownMinutes="30")
    assert "WakeOnRequestAlarm" not in s.resources and "WakeHttpListenerRule" in s.resources
    idle = s.resource("IdleShutdownAlarm")["Properties"]["Metrics"]
    assert {q["MetricStat"]["Metric"]["MetricName"] for q in idle if "MetricStat" in q} == {
        "RequestCount",
        "ActiveConnectionCount",
    }
    refused_and_fixed({"IdleShutdownMinutes": "4"}, {"IdleShutdownMinutes": "5"},
                      "IdleShutdownMinutes")  # fmt: skip


def alarm_lambda_action_once_per_change():
    s = stack(IdleShutdownMinutes="30")
    alarm = s.resource("IdleShutdownAlarm")["Properties"]
    assert alarm["AlarmActions"] == ["<WakeFunction.Arn>"]
    role = json.dumps(s.resource("WakeFunctionRole")["Properties"]["Policies"])
    assert "cloudwatch:SetAlarmState" in role and "-IdleShutdownAlarm-*" in role


def alarm_window_one_day():
    refused_and_fixed({"IdleShutdownMinutes": "1441"}, {"IdleShutdownMinutes": "1440"},
                      "IdleShutdownMinutes")  # fmt: skip


def scaling_stays_within_the_target():
    for params, floor in (({"IdleShutdownMinutes": "30"}, "0"), ({"ScalingMetric": "cpu"}, "1")):
        target = stack(**params).resource("ScalableTarget")["Properties"]
        assert str(target["MinCapacity"]) == floor, params


def secret_full_arn():
    partial = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:router"
    refused_and_fixed({**SIDECAR, "SidecarSecretArn": partial}, SIDECAR, "SidecarSecretArn")
    refused_and_fixed({"DatadogApiKeySecretArn": partial}, {}, "DatadogApiKeySecretArn",
                      sidecar="datadog")  # fmt: skip


def secret_customer_managed_key():
    for sidecar, params, sid in (
        (None, {**SIDECAR, "SidecarSecretKmsKeyArn": KEY}, "DecryptWithSidecarSecretKey"),
        ("datadog", {**DATADOG, "DatadogApiKeyKmsKeyArn": KEY}, "DecryptWithDatadogApiKeyKey"),
    ):
        secret = params.get("SidecarSecretArn") or params["DatadogApiKeySecretArn"]
        s = stack(sidecar, **params)
        role = s.resource("TaskExecutionRole")["Properties"]["Policies"][0]["PolicyDocument"]
        (statement,) = [st for st in role["Statement"] if st.get("Sid") == sid]
        assert statement["Action"] == ["kms:Decrypt"] and statement["Resource"] == [KEY]
        assert statement["Condition"] == {
            "StringEquals": {"kms:EncryptionContext:SecretARN": secret},
            "StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"},
        }
        without = stack(sidecar, **{k: v for k, v in params.items() if "KmsKey" not in k})
        role = without.resource("TaskExecutionRole")["Properties"]["Policies"][0]
        assert sid not in json.dumps(role)
    refused_and_fixed({"SidecarSecretKmsKeyArn": KEY}, {}, "SidecarSecretKmsKeyArn needs")


def log_retention_values():
    refused_and_fixed({"LogRetentionDays": "10"}, {"LogRetentionDays": "14"}, "LogRetentionDays")


# --- Load balancer and login -------------------------------------------------------------------
def login_needs_https():
    refused_and_fixed({"AuthMode": "cognito"}, COGNITO, "needs CertificateArn")


def login_needs_a_route_out():
    egress = "LoadBalancerToIdentityProviderEgress"
    rule = stack(**COGNITO).resource(egress)["Properties"]
    assert (rule["FromPort"], rule["ToPort"], rule["CidrIp"]) == (443, 443, "0.0.0.0/0")
    assert egress not in stack().resources
    (_, note) = network_notes(stack(**COGNITO).parameters)
    assert "NAT gateway" in note and "LoadBalancerSubnetIds" in note
    assert [n.split(" ")[0] for n in network_notes(stack().parameters)] == ["ServiceSubnetIds"]


def jwt_claim_values():
    refused_and_fixed(
        {**HTTPS, **OIDC, "OidcTokenAudience": "a" * 257},
        {**HTTPS, **OIDC, "OidcTokenAudience": "a" * 256},
        "OidcTokenAudience",
    )
    pool = {
        "AuthMode": "cognito",
        "CognitoUserPoolArn": "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Ab1",
        "CognitoUserPoolClientId": "1example23456789",
        "CognitoUserPoolDomain": "team-login",
    }
    refused_and_fixed(
        {**HTTPS, **pool, "CognitoTokenScope": "mlflow/" + "a" * 250},
        {**HTTPS, **pool, "CognitoTokenScope": "mlflow/" + "a" * 249},
        "CognitoTokenScope",
    )
    refused_and_fixed(
        {**HTTPS, **pool, "CognitoTokenScope": "mlflow/api extra"},
        {**HTTPS, **pool, "CognitoTokenScope": "mlflow/api"},
        "CognitoTokenScope",
    )


def jwt_claim_format():
    for audience_format in ("single-string", "string-array"):
        s = stack(**HTTPS, **OIDC, OidcTokenAudienceFormat=audience_format)
        jwt = s.resource("BearerTokenListenerRule")["Properties"]["Actions"][0]
        (claim,) = jwt["JwtValidationConfig"]["AdditionalClaims"]
        assert claim == {"Name": "aud", "Format": audience_format, "Values": ["api://mlflow"]}
    refused_and_fixed({**HTTPS, **OIDC, "OidcTokenAudienceFormat": "space-separated"},
                      {**HTTPS, **OIDC}, "OidcTokenAudienceFormat")  # fmt: skip


def alb_access_logs_sse_s3():
    bucket = stack().resource("LogBucket")["Properties"]["BucketEncryption"]
    (rule,) = bucket["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


# --- Partitions and names ----------------------------------------------------------------------
#: Service principals keep amazonaws.com in every partition; they are names, not endpoints.
PRINCIPAL = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)?\.amazonaws\.com")


def _partition_strings(region: str, partition: str) -> list[str]:
    """Every string of the resources and outputs of two broad parameter sets in ``region``,
    the launcher's ARNs written for ``partition`` as they would be."""
    strings = []
    for sidecar, params in (
        (None, {**COGNITO, **SIDECAR, "SidecarSecretKmsKeyArn": KEY, "ScalingMetric": "requests",
                "DatabaseEngine": "aurora-mysql"}),
        ("datadog", {**HTTPS, **OIDC, **DATADOG, "DatadogApiKeyKmsKeyArn": KEY,
                     "ArtifactBucketName": "team-ml", "ArtifactBucketKmsKeyArn": KEY,
                     "ArtifactReadOnlyBucketArns": "arn:aws:s3:::datasets"}),
    ):  # fmt: skip
        given = {**REQUIRED_PARAMETERS, **params}
        given = {k: v.replace("arn:aws:", f"arn:{partition}:") for k, v in given.items()}
        s = evaluate(template(sidecar), given, region=region)
        strings += _strings(s.resources) + _strings(s.outputs)
    return strings


def partition_arns():
    for region, partition in (("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")):
        for text in _partition_strings(region, partition):
            assert "arn:aws:" not in text, (region, text[:300])
            if partition == "aws-cn":
                for host in re.findall(r"[a-z0-9.*-]*amazonaws\.com(?!\.cn)", text):
                    assert PRINCIPAL.fullmatch(text), (region, host, text[:300])
    machine = evaluate(template(), REQUIRED_PARAMETERS, region="us-gov-west-1").resource(
        "RotationRedeployStateMachine"
    )["Properties"]
    task = json.loads(machine["DefinitionString"])["States"]["ForceNewDeployment"]
    assert task["Resource"] == "arn:aws-us-gov:states:::aws-sdk:ecs:updateService"


def cognito_hosted_domain():
    for region, host in (
        ("eu-west-1", ".auth.eu-west-1.amazoncognito.com/"),
        ("us-gov-west-1", ".auth-fips.us-gov-west-1.amazoncognito.com/"),
        ("cn-north-1", ".auth.cn-north-1.amazoncognito.com.cn/"),
    ):
        s = evaluate(template(), {**REQUIRED_PARAMETERS, **COGNITO}, region=region)
        assert host in s.outputs["CognitoTokenUrl"], (region, s.outputs["CognitoTokenUrl"])


def cognito_issuer():
    s = stack(**COGNITO)
    assert s.resource("CognitoUserPool")["Properties"]["IssuerConfiguration"] == {
        "Type": "ORIGINAL"
    }
    jwt = s.resource("BearerTokenListenerRule")["Properties"]["Actions"][0]["JwtValidationConfig"]
    assert jwt["Issuer"] == "<CognitoUserPool.ProviderURL>"
    assert jwt["JwksEndpoint"] == "<CognitoUserPool.ProviderURL>/.well-known/jwks.json"
    # Where the load balancer has no Cognito integration, plan refuses before anything is made.
    for region in ("cn-north-1", "us-gov-west-1"):
        errors = region_problems({"AuthMode": "cognito"}, region)
        assert errors and "AuthMode=cognito is not available" in errors[0], region
    assert region_problems({"AuthMode": "cognito"}, "eu-west-1") == []
    assert region_problems({"AuthMode": "oidc"}, "us-gov-west-1") == []


def cognito_domain_prefix():
    for name in ("aws", "Amazon-Cognito-Prod", "SC-123456789012-pp-abcdefghijklm", "m" * 128):
        s = evaluate(template(), {**REQUIRED_PARAMETERS, **COGNITO}, stack_name=name)
        domain = s.resource("CognitoUserPoolDomainResource")["Properties"]["Domain"]
        assert re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", domain), domain
        assert not any(word in domain for word in ("aws", "amazon", "cognito")), domain


def names_fit_any_stack_name():
    for name in ("m" * 128, "SC-123456789012-pp-abcdefghijklm"):
        params = {**REQUIRED_PARAMETERS, **COGNITO, "ScalingMetric": "cpu"}
        rendered = render_template(template(), params, region="eu-west-1", stack_name=name)
        assert lint(rendered) == [], name
        pool = rendered["Resources"]["CognitoUserPool"]["Properties"]["UserPoolName"]
        assert len(pool) <= 128, pool


def kms_alias_reserved_prefix():
    assert any("alias/aws/" in e for e in refusals(stack_name="aws"))
    assert refusals(stack_name="aws-mlflow") == []


def alb_idle_timeout():
    refused_and_fixed({"LoadBalancerIdleTimeoutSeconds": "4001"},
                      {"LoadBalancerIdleTimeoutSeconds": "4000"},
                      "LoadBalancerIdleTimeoutSeconds")  # fmt: skip
    task = stack().resource("TaskDefinition")["Properties"]
    (mlflow,) = [c for c in task["ContainerDefinitions"] if c["Name"] == "mlflow"]
    opts = {e["Name"]: e["Value"] for e in mlflow["Environment"]}["MLFLOW_UVICORN_OPTS"].split()
    assert opts[0] == "--timeout-keep-alive" and int(opts[1]) > 4000


def s3_signed_part_uploads():
    def denied(value: str) -> list:
        (policy,) = stack(ArtifactDirectMultipartUpload=value).resource("TaskRole")["Properties"][
            "Policies"
        ]
        return [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]

    assert denied("true") == []
    (deny,) = denied("false")
    assert deny["Action"] == ["s3:PutObject"]
    assert deny["Condition"] == {"StringEquals": {"s3:authType": "REST-QUERY-STRING"}}


# --- Alarm delivery and the launch role ---------------------------------------------------
def sns_topic_policy_replaces_default():
    paths = stack_deliveries(template(), {**REQUIRED_PARAMETERS, "ContainerInsights": "enabled"})
    assert len(paths) == 8
    assert [p for p in paths if p.failures] == []


def eventbridge_encrypted_topic_key_policy():
    key = stack().resource("LogsKey")["Properties"]["KeyPolicy"]["Statement"]
    (events,) = [s for s in key if s["Principal"] == {"Service": "events.amazonaws.com"}]
    assert "Condition" not in events


def cloudformation_system_tags():
    assert not cfn_system_tags("AWS::ECS::Service") and not cfn_system_tags("AWS::KMS::Key")
    assert cfn_system_tags("AWS::ECS::Cluster") and cfn_system_tags("AWS::RDS::DBCluster")
    saved = dict(owned_grants.OWNED_ONLY_ACTIONS)
    owned_grants.OWNED_ONLY_ACTIONS["ecs"] = (("ecs:UpdateService",), {
        "service/*": "AWS::ECS::Service"})  # fmt: skip
    try:
        with pytest.raises(ValueError, match="AWS::ECS::Service: CloudFormation does not put"):
            owned_grants.owned_grants((template(),))
    finally:
        owned_grants.OWNED_ONLY_ACTIONS.clear()
        owned_grants.OWNED_ONLY_ACTIONS.update(saved)
    statements = json.dumps(owned_grants.owned_grants((template(),)), default=repr)
    assert "SC-*-EcsCluster-*/SC-*-Service-*" in statements
    assert "alias/SC-*/database" in statements


def cloudformation_generated_names():
    # Every name CloudFormation can give the product's (and the network's) resources of these
    # types, in a Service Catalog stack of any length, matches the launch role's pattern.
    products = (template(), json.loads((ROOT / "templates/network.json").read_text()))
    checked = 0
    for kind, (_, max_length, lower) in NAMED_TYPES.items():
        for product in products:
            for logical_id, resource in product["Resources"].items():
                if resource["Type"] != kind:
                    continue
                pattern = generated_name(logical_id, max_length, lower=lower)
                for length in (3, 24, 32, 64, 128):
                    name = cloudformation_name("SC-" + "x" * (length - 3), logical_id, max_length)
                    name = name.lower() if lower else name
                    assert len(name) <= max_length and fnmatchcase(name, pattern), (name, pattern)
                    checked += 1
    assert checked > 50
    # A role whose name or path the product sets is refused.
    named = template()
    named["Resources"]["TaskRole"]["Properties"]["RoleName"] = "mlflow-task"
    with pytest.raises(ValueError, match="TaskRole: RoleName must stay unset"):
        portfolio.build_portfolio_template(named)


def application_auto_scaling_permission_check():
    alarms = named_changes((template(),))["cloudwatch"]
    assert NO_ALARM in alarms
    resolved = [
        {"Effect": "Allow", "Action": ["cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm"],
         "Resource": [a.replace("${AWS::Partition}", "aws").replace("${AWS::Region}", "eu-west-1")
                      .replace("${AWS::AccountId}", "123456789012") for a in alarms]},
    ]  # fmt: skip
    no_alarm = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:"
    for action in ("cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm"):
        assert allowed(resolved, action, no_alarm)
        assert not allowed(resolved, action, no_alarm + "prod-api-5xx")
        assert not allowed(resolved, action, no_alarm + "TargetTracking-service/a/b-AlarmHigh-1")


def service_principal_partition():
    china = evaluate(template(), REQUIRED_PARAMETERS, region="cn-north-1")
    key = china.resource("LogsKey")["Properties"]["KeyPolicy"]["Statement"]
    assert {"Service": "logs.cn-north-1.amazonaws.com.cn"} in [s["Principal"] for s in key]


def presigned_urls_die_with_credentials():
    import botocore.credentials
    import botocore.signers

    # The figures README states, from the installed SDK: renewal 15 minutes before expiry, and
    # MLflow's call leaves generate_presigned_url's default of an hour.
    assert botocore.credentials._DEFAULT_ADVISORY_REFRESH_TIMEOUT == 15 * 60
    expires = inspect.signature(botocore.signers.generate_presigned_url).parameters["ExpiresIn"]
    assert expires.default == 3600
    repo = (Path(mlflow.__file__).parent / "store/artifact/s3_artifact_repo.py").read_text()
    (call,) = re.findall(r"generate_presigned_url\(\s*\"upload_part\",[^)]*\)", repo)
    assert "ExpiresIn" not in call
    readme = (ROOT / "README.md").read_text()
    assert "a part URL\n  lasts between 15 and 60 minutes" in readme
    assert "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=false` and stream through" in readme


# --- The network template ----------------------------------------------------------------------
def network_refusals(**parameters: str) -> list[str]:
    """Every refusal of the network template's checks for this parameter set ([] if none)."""
    try:
        evaluate(network_template(), parameters, region="eu-west-1")
    except EvaluationError as exc:
        return exc.errors
    return []


def ecr_pull_through_cache_credential_arn():
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/ghcr-AbCdEf"

    def of_length(total: int) -> str:
        return arn.replace("ghcr-", "g" * (total - len(arn) + 4) + "-")

    for refused in (
        arn.replace("arn:aws:", "arn:awsx:"),
        arn.replace("ghcr-", "gh!cr-"),
        of_length(613),
    ):
        errors = network_refusals(**{IMAGE_CACHE_CREDENTIALS_ARN: refused})
        assert any(IMAGE_CACHE_CREDENTIALS_ARN in e for e in errors), (refused, errors)
    for accepted in (arn, arn.replace("arn:aws:", "arn:aws-cn:"), of_length(612)):
        assert network_refusals(**{IMAGE_CACHE_CREDENTIALS_ARN: accepted}) == [], accepted


#: A VPC endpoint's default policy (AWS PrivateLink Guide, "Control access to VPC endpoints using
#: endpoint policies", Default endpoint policy; the provider schema says what it allows).
DEFAULT_ENDPOINT_POLICY = {
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]
}


def s3_gateway_endpoint_carries_the_regions_s3():
    nat = evaluate(network_template(), {}, region="eu-west-1")
    endpoint = nat.resource("S3GatewayEndpoint")["Properties"]
    to_nat = {
        route["Properties"]["RouteTableId"].strip("<>")
        for route in nat.of_type("AWS::EC2::Route").values()
        if "NatGatewayId" in route["Properties"]
    }
    assert to_nat and {f"<{t}>" for t in to_nat} <= set(endpoint["RouteTableIds"])
    assert endpoint["PolicyDocument"] == DEFAULT_ENDPOINT_POLICY  # as if the NAT carried it
    schema = resource_schema("AWS::EC2::VPCEndpoint")["properties"]["PolicyDocument"]
    assert "The default endpoint policy allows full access to the service." in schema["description"]
    closed = evaluate(network_template(), {"NetworkEgress": "endpoints"}, region="eu-west-1")
    policy = closed.resource("S3GatewayEndpoint")["Properties"]["PolicyDocument"]
    (buckets,) = [s for s in policy["Statement"] if "Condition" in s]
    assert buckets["Condition"]["StringEquals"]["aws:ResourceAccount"] == "123456789012"
    given = {
        "MlflowImage": CACHED_IMAGE,
        "ArtifactBucketName": "team-ml-artifacts",
        "ArtifactReadOnlyBucketArns": "arn:aws:s3:::datasets,arn:aws:s3:::models",
    }
    for egress, warned in (("endpoints", True), ("nat", False)):
        network = NetworkStack("net", "CREATE_COMPLETE", {**OUTPUTS, "MlflowImage": CACHED_IMAGE},
                               egress, region="eu-west-1", account="123456789012")  # fmt: skip
        warnings = [w for w in apply_network_stack(network, given).warnings if "S3" in w]
        for name in ("ArtifactBucketName team-ml-artifacts", "ArtifactReadOnlyBucketArns"):
            assert any(w.startswith(name) for w in warnings) is warned, (egress, warnings)


def getazs_lists_zones_with_a_default_subnet():
    def zones(**parameters: str) -> dict[str, str]:
        evaluated = evaluate(network_template(), parameters, region="us-west-1")
        subnets = evaluated.of_type("AWS::EC2::Subnet")
        return {k: r["Properties"]["AvailabilityZone"] for k, r in subnets.items()}

    assert set(zones().values()) == {"us-west-1a", "us-west-1b"}  # Fn::GetAZs, by index
    named = {"AvailabilityZone1": "us-west-1c", "AvailabilityZone2": "us-west-1a"}
    assert set(zones(**named).values()) == {"us-west-1c", "us-west-1a"}
    assert zones(**named)["PrivateSubnet1"] == "us-west-1c"
    three = {"AvailabilityZoneCount": "3"}
    same = {"AvailabilityZone1": "us-west-1a", "AvailabilityZone2": "us-west-1a"}
    one = {"AvailabilityZone1": "us-west-1c"}
    for refused in (one, {**named, **three}, {**named, "AvailabilityZone3": "us-west-1b"}, same):
        assert any("AvailabilityZoneNamesMatchTheCount" in e for e in network_refusals(**refused))
    assert network_refusals(**named, **three, AvailabilityZone3="us-west-1b") == []


def fargate_zone_ids():
    ec2 = boto3.client("ec2", region_name="us-west-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")  # fmt: skip
    network = NetworkStack("net", "CREATE_COMPLETE", dict(OUTPUTS), "nat", region="us-west-1")
    subnets = OUTPUTS["ServiceSubnetIds"].split(",")
    with Stubber(ec2) as stubber:
        for zone_ids, refused in (
            (["usw1-az1", "usw1-az2"], True),
            (["usw1-az3", "usw1-az1"], False),
        ):
            response = described_subnets("us-west-1", zone_ids)
            stubber.add_response("describe_subnets", response, {"SubnetIds": subnets})
            errors, _ = online_problems(network, OUTPUTS, lambda service: ec2)
            assert bool(errors) is refused, (zone_ids, errors)
        stubber.assert_no_pending_responses()
    elsewhere = NetworkStack("net", "CREATE_COMPLETE", dict(OUTPUTS), "nat", region="eu-west-1")
    assert online_problems(elsewhere, OUTPUTS, lambda service: None) == ([], [])  # no call


def ecr_pull_through_cache_imports_on_pull():
    role = stack().resource("TaskExecutionRole")["Properties"]["Policies"][0]["PolicyDocument"]
    actions = {a for st in role["Statement"] if "Action" in st for a in st["Action"]}
    assert "ecr:BatchGetImage" in actions  # it pulls, and may not import
    assert not actions & {"ecr:BatchImportUpstreamImage", "ecr:CreateRepository", "ecr:*"}
    ecr = boto3.client("ecr", region_name="eu-west-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")  # fmt: skip
    network = NetworkStack("net", "CREATE_COMPLETE", {**OUTPUTS, "MlflowImage": CACHED_IMAGE},
                           "endpoints", region="eu-west-1",
                           parameters={"ImageCachePrefix": "ghcr"})  # fmt: skip
    asked = {"registryId": "123456789012", "repositoryName": "ghcr/mlflow/mlflow",
             "imageIds": [{"imageTag": CACHED_IMAGE.rsplit(":", 1)[1]}]}  # fmt: skip
    detail = {"imageDigest": "sha256:" + "a" * 64, "imageTags": [asked["imageIds"][0]["imageTag"]]}
    with Stubber(ecr) as stubber:
        stubber.add_client_error("describe_images", "ImageNotFoundException", "not cached",
                                 expected_params=asked)  # fmt: skip
        stubber.add_response("describe_images", {"imageDetails": [detail]}, asked)
        for cached in (False, True):
            _, warnings = online_problems(network, {"MlflowImage": CACHED_IMAGE}, lambda s: ecr)
            assert any(f"docker pull {CACHED_IMAGE}" in w for w in warnings) is not cached


# --- What a portfolio's launchers share (mlflow_cfn.stack.constraints.sharing) ----------------
def stack_id_ends_in_a_uuid():
    from tests.publish.test_launcher_shares import ON_THE_SHARED_BUCKET, uuid_of
    from tests.publish.test_launcher_vectors import ADMIN_ALLOWS, evaluated_portfolio, launch

    shared = {**ON_THE_SHARED_BUCKET, "ArtifactPrefix": "team"}
    for name in ("SC-123456789012-pp-aaaaaaaaaaaaa", "SC-123456789012-pp-bbbbbbbbbbbbb"):
        created = evaluate(template(), {**REQUIRED_PARAMETERS, **shared}, stack_name=name)
        assert created.outputs["ArtifactRoot"] == f"s3://team-artifacts/{uuid_of(name)}/team"
    violating = {**shared, "ArtifactPrefixPerStack": "false"}
    admin = evaluated_portfolio(ADMIN_ALLOWS)
    assert any("ArtifactPrefixPerStack=true" in e for e in launch(admin, violating))
    assert launch(admin, shared) == []


def rds_managed_secret_cluster_tag():
    from tests.publish.test_launcher_vectors import (
        ADMIN_ALLOWS,
        SECRETS,
        boundary,
        evaluated_portfolio,
        launch,
        refused_with,
    )  # fmt: skip

    admin = evaluated_portfolio(ADMIN_ALLOWS)
    other = f"{SECRETS}rds!cluster-0123abcd-AbCdEf"
    errors = launch(admin, {"SidecarImage": "x:1", "SidecarSecretArn": other,
                            "SidecarSecretVariable": "PASSWORD"})  # fmt: skip
    assert any("SidecarSecretArn" in e for e in errors), errors
    own = "arn:aws:rds:us-east-1:123456789012:cluster:sc-123-pp-x-databasecluster-abc"
    someone_elses = "arn:aws:rds:us-east-1:123456789012:cluster:production"
    read = "secretsmanager:GetSecretValue"
    tag = "aws:ResourceTag/aws:rds:primaryDBClusterArn"
    assert allowed(boundary(admin), read, other, {tag: own})
    assert not allowed(boundary(admin), read, other, {tag: someone_elses})
    assert not refused_with(launch(admin, {}), "SidecarSecretArn")


def ecs_image_reference_forms():
    import botocore.session

    from mlflow_cfn.catalog.allow_lists import AllowLists
    from mlflow_cfn.catalog.portfolio_inputs import allow_list_specs

    model = botocore.session.get_session().get_service_model("ecs")
    documented = model.shape_for("ContainerDefinition").members["image"].documentation
    assert "The only supported hash function is sha256" in documented
    assert "must be exactly 64 characters" in documented
    (images,) = [s for s in allow_list_specs() if s.name == "AllowedImages"]
    digest = "sha256:" + "0123456789abcdef" * 4
    for violating in (f"r@sha256:{'a' * 63}", "r@sha512:" + "a" * 128, "r"):
        with pytest.raises(ValueError, match="images"):
            AllowLists(images=(violating,))
        assert not re.fullmatch(images.allowed_pattern, violating)
    for fixed in (f"r@{digest}", "r:1"):
        assert AllowLists(images=(fixed,)).images == (fixed,)
        assert re.fullmatch(images.allowed_pattern, fixed)


def create_rollback_deletes():
    from mlflow_cfn.stack.components.retention import KEEP, KEEP_EXCEPT_ON_CREATE

    deletable = {"AWS::KMS::Key", "AWS::Logs::LogGroup", "AWS::S3::Bucket"}
    cannot_be_deleted = {"LogBucket", "CognitoUserPool"}  # log files from the start; protection
    created = stack(**COGNITO).resources
    assert cannot_be_deleted <= set(created)
    assert created["CognitoUserPool"]["Properties"]["DeletionProtection"] == "ACTIVE"
    for logical_id, resource in created.items():
        if resource["Type"] in deletable | {"AWS::Cognito::UserPool"}:
            kept = logical_id in cannot_be_deleted or resource["Type"] not in deletable
            policy = KEEP if kept else KEEP_EXCEPT_ON_CREATE
            assert resource["DeletionPolicy"] == policy, logical_id
            assert resource["UpdateReplacePolicy"] == KEEP, logical_id


CASES: dict[str, Callable[[], None]] = {
    name.replace("_", "-"): case
    for name, case in list(globals().items())
    if callable(case) and name.replace("_", "-") in {c.key for c in CATALOGUE}
}


def test_the_catalogue_has_at_least_twenty_distinct_entries():
    keys = [c.key for c in CATALOGUE]
    assert len(keys) == len(set(keys)) >= 20
    for c in CATALOGUE:
        assert c.refuses and c.enforced and c.source, c.key


def test_every_entry_has_a_case():
    assert set(CASES) == {c.key for c in CATALOGUE}


@pytest.mark.parametrize("key", [c.key for c in CATALOGUE])
def test_constraint_is_enforced(key):
    CASES[key]()


def test_readme_lists_the_catalogue():
    readme = (ROOT / "README.md").read_text()
    assert constraints_table() in readme, "regenerate with stack.constraints.constraints_table()"


@pytest.mark.parametrize(
    ("image", "registry", "route"),
    [
        ("ghcr.io/mlflow/mlflow:v3.17.2-full", "ghcr.io", "on the internet (a NAT gateway"),
        ("mlflow:3", "docker.io", "on the internet"),
        ("library/mlflow@sha256:" + "a" * 64, "docker.io", "on the internet"),
        ("localhost/mlflow:1", "localhost", "on the internet"),
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlflow:3",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "(the ecr.api and ecr.dkr endpoints, or a NAT gateway)",
        ),
        (
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/ghcr/mlflow:3",
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
            "(the ecr.api and ecr.dkr endpoints, or a NAT gateway)",
        ),
    ],
)
def test_every_mode_says_what_a_task_needs_to_start(image, registry, route):
    """Issue 25: a task without a route to its registry, S3, Secrets Manager and Logs is the
    first-deploy failure; `plan` says so in every mode, naming the image's registry."""
    from mlflow_cfn.stack.checks import registry_of, service_route_note

    assert registry_of(image) == registry
    note = service_route_note({"MlflowImage": image})
    assert f"{image}" in note and route in note
    for service in ("S3", "Secrets Manager", "CloudWatch Logs"):
        assert service in note
    both = service_route_note({"MlflowImage": image, "SidecarImage": "datadog/agent:7"})
    assert "docker.io for datadog/agent:7" in both
