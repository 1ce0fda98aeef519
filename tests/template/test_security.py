"""SECURITY.md as tests: every line that applies, asserted by property on the template as
CloudFormation would render it (Conditions, Fn::If and Parameters resolved; references between
resources kept), in every mode where the line applies. A golden-file update cannot weaken these.

Each test names its SECURITY.md line and the public check it comes from.
"""

from __future__ import annotations

import json
import re

import pytest

from mlflow_cfn.stack.components.listeners import TLS_POLICY
from tests.template.modes import DATADOG, HTTPS, OIDC, OWN_BUCKET, SIDECAR, rendered, template

MODES = {
    "default": (None, {}),
    "https": (None, HTTPS),
    "cognito": (None, {**HTTPS, "AuthMode": "cognito", "IdleShutdownMinutes": "30"}),
    "oidc-own-bucket": (None, {**HTTPS, **OIDC, **OWN_BUCKET}),
    "mysql-ha-sidecar-scaling": (
        None,
        {
            **SIDECAR,
            "DatabaseEngine": "aurora-mysql",
            "DatabaseHighAvailability": "true",
            "ScalingMetric": "requests",
            "ScaleUpSchedule": "cron(0 7 ? * MON-FRI *)",
            "ScaleDownSchedule": "cron(0 20 ? * MON-FRI *)",
        },
    ),
    "internet-facing": (
        None,
        {**HTTPS, "LoadBalancerScheme": "internet-facing", "AllowPublicAccessWithoutLogin": "true"},
    ),
    "datadog": ("datadog", {}),
}
assert DATADOG  # the preset's required parameter is filled in by rendered()


@pytest.fixture(params=sorted(MODES), scope="module")
def mode(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def t(mode) -> dict:
    preset, parameters = MODES[mode]
    return rendered(preset, **parameters)


def resources(t: dict, type_name: str) -> dict[str, dict]:
    return {k: v for k, v in t["Resources"].items() if v["Type"] == type_name}


def props(t: dict, logical_id: str) -> dict:
    return t["Resources"][logical_id]["Properties"]


def statements(document: dict) -> list[dict]:
    return document["Statement"]


def containers(t: dict) -> list[dict]:
    return props(t, "TaskDefinition")["ContainerDefinitions"]


def buckets(t: dict) -> list[str]:
    return sorted(resources(t, "AWS::S3::Bucket"))


# --- Storage -----------------------------------------------------------------------------------
def test_buckets_block_public_access_and_acls(t):  # SH S3.1/2/3/8/12; CKV_AWS_53-56
    for bucket in buckets(t):
        p = props(t, bucket)
        assert p["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, bucket
        assert p["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        assert p["VersioningConfiguration"] == {"Status": "Enabled"}, bucket
        assert "AccessControl" not in p


def test_artifact_bucket_uses_its_kms_key_with_bucket_key(t, mode):  # SH S3.17
    if "ArtifactBucket" not in t["Resources"]:
        assert mode == "oidc-own-bucket"  # the user's bucket: IAM scoping is tested below
        return
    (rule,) = props(t, "ArtifactBucket")["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["BucketKeyEnabled"] is True
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": ["ArtifactKey", "Arn"]},
    }


def test_every_bucket_has_a_policy_denying_requests_without_tls(t):  # SH S3.5
    policies = {
        p["Properties"]["Bucket"]["Ref"]: p for p in resources(t, "AWS::S3::BucketPolicy").values()
    }
    assert sorted(policies) == buckets(t)
    for bucket, policy in policies.items():
        deny = [
            s for s in statements(policy["Properties"]["PolicyDocument"]) if s["Effect"] == "Deny"
        ]
        assert len(deny) == 1, bucket
        # The JSON boolean (AWS Guard rules reject the string "false").
        assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": False}}
        assert (deny[0]["Principal"], deny[0]["Action"]) == ("*", ["s3:*"])
        assert {"Fn::GetAtt": [bucket, "Arn"]} in deny[0]["Resource"]


def test_lifecycle_expires_noncurrent_versions_and_aborts_uploads(t):  # SH S3.10/13; CKV_AWS_21
    for bucket in buckets(t):
        rules = props(t, bucket)["LifecycleConfiguration"]["Rules"]
        assert all(r["Status"] == "Enabled" for r in rules)
        assert any(r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") for r in rules)
        assert any(
            r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation") for r in rules
        )


def test_artifact_bucket_logs_to_the_log_bucket_which_says_why_it_does_not(t):  # SH S3.9
    if "ArtifactBucket" in t["Resources"]:
        logging = props(t, "ArtifactBucket")["LoggingConfiguration"]
        assert logging["DestinationBucketName"] == {"Ref": "LogBucket"}
    log_bucket = t["Resources"]["LogBucket"]
    skips = {s["id"]: s["comment"] for s in log_bucket["Metadata"]["checkov"]["skip"]}
    assert set(skips) == {"CKV_AWS_18", "CKV_AWS_145"} and all(len(c) > 40 for c in skips.values())
    (sse,) = log_bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}  # ALB logs need it


def test_own_bucket_gets_no_resources_but_scoped_iam(t, mode):  # SECURITY.md "user-supplied"
    if mode != "oidc-own-bucket":
        return
    assert not {"ArtifactBucket", "ArtifactBucketPolicy", "ArtifactKey"} & set(t["Resources"])
    (policy,) = props(t, "TaskRole")["Policies"]
    by_sid = {s["Sid"]: s for s in statements(policy["PolicyDocument"])}
    assert by_sid["ReadWriteArtifactsUnderThePrefix"]["Resource"] == [
        "arn:aws:s3:::team-ml-artifacts/mlflow/prod/*"
    ]
    assert by_sid["EncryptArtifactsWithTheBucketsKey"]["Resource"] == [
        OWN_BUCKET["ArtifactBucketKmsKeyArn"]
    ]


# --- Keys --------------------------------------------------------------------------------------
#: Key policy statements that name a service principal without a condition, each because the
#: service cannot meet one (SECURITY.md asks for conditions on every service principal).
UNCONDITIONED_SERVICE_STATEMENTS = {
    "EventBridgePublishesToTheEncryptedTopic": (
        "Amazon SNS Developer Guide, 'Enable compatibility between event sources from AWS services "
        "and encrypted topics': 'Adding the aws:SourceAccount, aws:SourceArn, and aws:SourceOrgID "
        "to a AWS KMS policy is not supported for EventBridge-to-encrypted topics.' The topic's "
        "own policy admits only this stack's rule."
    ),
}


def test_keys_rotate_are_retained_and_name_no_wildcard_principal(t):  # SH KMS.3/4/5; CKV_AWS_7/33
    keys = resources(t, "AWS::KMS::Key")
    assert {"DatabaseKey", "LogsKey"} <= set(keys)
    for logical_id, key in keys.items():
        p = key["Properties"]
        assert p["EnableKeyRotation"] is True, logical_id
        assert p["PendingWindowInDays"] == 30, logical_id
        assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == (
            "RetainExceptOnCreate",
            "Retain",
        )
        for statement in statements(p["KeyPolicy"]):
            principal = statement["Principal"]
            assert principal not in ("*", {"AWS": "*"}), logical_id
            if "Service" in principal and statement["Sid"] not in UNCONDITIONED_SERVICE_STATEMENTS:
                assert statement.get("Condition"), f"{logical_id}: service principal unconditioned"


def test_iam_uses_keys_only_by_their_arns(t):  # SH KMS.1/2
    for role, statement in _role_statements(t):
        if any(a.startswith("kms:") for a in statement["Action"]):
            assert "*" not in json.dumps(statement["Resource"]), role


# --- Database ----------------------------------------------------------------------------------
def test_database_cluster_settings(t, mode):  # SH RDS.7/11/16/24/27/37; CKV_AWS_96/162
    cluster = t["Resources"]["DatabaseCluster"]
    p = cluster["Properties"]
    assert p["StorageEncrypted"] is True
    assert p["KmsKeyId"] == {"Ref": "DatabaseKey"}
    assert p["DeletionProtection"] == "true"
    assert int(p["BackupRetentionPeriod"]) >= 7
    assert p["CopyTagsToSnapshot"] is True
    assert p["EnableCloudwatchLogsExports"]
    assert p["EnableIAMDatabaseAuthentication"] is True
    assert p["MasterUsername"] not in ("postgres", "admin", "root", "mysql")
    assert (cluster["DeletionPolicy"], cluster["UpdateReplacePolicy"]) == ("Snapshot", "Snapshot")


def test_no_plaintext_password_anywhere(t):  # cfn_nag F34; cfn-lint W2501
    p = props(t, "DatabaseCluster")
    assert p["ManageMasterUserPassword"] is True
    assert p["MasterUserSecret"] == {"KmsKeyId": {"Ref": "DatabaseKey"}}
    text = json.dumps(t)
    assert '"MasterUserPassword"' not in text
    for listener in resources(t, "AWS::ElasticLoadBalancingV2::Listener").values():
        for action in listener["Properties"]["DefaultActions"]:
            secret = action.get("AuthenticateOidcConfig", {}).get("ClientSecret")
            if secret is not None:
                assert secret.startswith("{{resolve:secretsmanager:"), secret


def test_database_enforces_tls(t, mode):
    group = props(t, "DatabaseClusterParameterGroup")["Parameters"]
    if "mysql" in mode:
        assert group["require_secure_transport"] == "ON"
    else:
        assert group["rds.force_ssl"] == "1"
    assert props(t, "DatabaseCluster")["DBClusterParameterGroupName"] == {
        "Ref": "DatabaseClusterParameterGroup"
    }
    (mlflow,) = [c for c in containers(t) if c["Name"] == "mlflow"]
    query = {e["Name"]: e["Value"] for e in mlflow["Environment"]}["MLFLOW_CFN_DB_QUERY"]
    assert ("ssl_" in query) if "mysql" in mode else query == "sslmode=require"


def test_database_instances_are_private_and_upgrade_minor_versions(t, mode):  # SH RDS.2/13
    instances = resources(t, "AWS::RDS::DBInstance")
    assert len(instances) == (2 if "ha" in mode else 1)  # SH RDS.15: a reader when asked
    for instance in instances.values():
        p = instance["Properties"]
        assert p["PubliclyAccessible"] is False
        assert p["AutoMinorVersionUpgrade"] is True
        assert p["DBInstanceClass"] == "db.serverless"


def test_database_scales_to_zero_by_default(t):
    scaling = props(t, "DatabaseCluster")["ServerlessV2ScalingConfiguration"]
    assert str(scaling["MinCapacity"]) == "0"


# --- Secrets -----------------------------------------------------------------------------------
def test_credentials_reach_containers_only_as_secrets(t):  # SH ECS.8; CKV_AWS_149
    for c in containers(t):
        names = {e["Name"] for e in c.get("Environment", [])}
        assert not any("PASSWORD" in n or n.endswith(("SECRET", "API_KEY")) for n in names), c
    (mlflow,) = [c for c in containers(t) if c["Name"] == "mlflow"]
    secrets = {s["Name"]: s["ValueFrom"] for s in mlflow["Secrets"]}
    arn = {"Fn::GetAtt": ["DatabaseCluster", "MasterUserSecret.SecretArn"]}
    assert secrets == {
        "MLFLOW_CFN_DB_USERNAME": {"Fn::Sub": ["${Arn}:username::", {"Arn": arn}]},
        "MLFLOW_CFN_DB_PASSWORD": {"Fn::Sub": ["${Arn}:password::", {"Arn": arn}]},
    }
    for c in containers(t):
        if c["Name"] != "mlflow":
            assert "MasterUserSecret" not in json.dumps(c), c["Name"]


# --- ECS ---------------------------------------------------------------------------------------
def test_the_mlflow_container_runs_as_a_user_that_is_not_root(t):  # CT.ECS.PR.3
    (mlflow,) = [c for c in containers(t) if c["Name"] == "mlflow"]
    uid = mlflow["User"].split(":")[0]
    assert uid.isdigit() and int(uid) > 0


#: Control Tower CT.ECS.PR.3's guard rule: every container has a User, none of these.
CT_ECS_PR_3_ROOT = re.compile(r"^(0|root)(:.*)?$")
INIT_CONTAINERS = {"prepare-volumes", "datadog-init"}


def test_only_init_containers_run_as_root_and_they_can_do_nothing_else(t):  # CT.ECS.PR.3
    """Long-running containers never run as root. The init containers (root: only a directory's
    owner may chmod it, and Fargate creates task volumes root-owned 0755) are not essential,
    hold no Linux capability and no secret, write nothing but their volumes, and exit."""
    for c in containers(t):
        if c["Name"] in INIT_CONTAINERS:
            assert c["User"] == "0" and c["Essential"] is False and "Secrets" not in c
            assert c["ReadonlyRootFilesystem"] is True and c["Privileged"] is False
            assert c["LinuxParameters"]["Capabilities"] == {"Drop": ["ALL"]}
            assert "PortMappings" not in c and "HealthCheck" not in c
        else:
            assert not CT_ECS_PR_3_ROOT.match(str(c["User"])), c["Name"]
    names = {c["Name"] for c in containers(t)}
    assert "prepare-volumes" in names  # the default: the server needs its /tmp
    for c in containers(t):  # every writer of a task volume starts after the init container
        if c["Name"] not in INIT_CONTAINERS and c.get("MountPoints"):
            assert {d["Condition"] for d in c["DependsOn"]} == {"SUCCESS"}
            assert {d["ContainerName"] for d in c["DependsOn"]} <= INIT_CONTAINERS


@pytest.mark.parametrize("preset", [None, "sidecar"])
def test_without_volume_preparation_the_task_definition_passes_ct_ecs_pr_3(preset):
    """VolumePreparation=none, for accounts that enforce Control Tower CT.ECS.PR.3 (a proactive
    control: CloudFormation refuses the task definition if any container is root or has no
    User)."""
    parameters = {"VolumePreparation": "none", **(SIDECAR if preset else {})}
    t = rendered(None, **parameters)
    assert containers(t) and all(
        "User" in c and not CT_ECS_PR_3_ROOT.match(str(c["User"])) for c in containers(t)
    )
    assert all("DependsOn" not in c for c in containers(t))


def test_ecs_cluster_has_container_insights_as_a_documented_choice(t):  # SH ECS.12; CKV_AWS_65
    """SECURITY.md: a cost/visibility trade-off, on or off by a Parameter, with the checkov skip
    and its reason where it is off (the default: $11.40 a month while a task runs)."""
    assert props(t, "EcsCluster")["ClusterSettings"][0]["Value"] in ("enabled", "disabled")
    t = template()
    cluster = t["Resources"]["EcsCluster"]
    assert cluster["Properties"]["ClusterSettings"] == [
        {"Name": "containerInsights", "Value": {"Ref": "ContainerInsights"}}
    ]
    assert t["Parameters"]["ContainerInsights"]["AllowedValues"] == ["enabled", "disabled"]
    (skip,) = cluster["Metadata"]["checkov"]["skip"]
    assert skip["id"] == "CKV_AWS_65" and "ContainerInsights" in skip["comment"]


def test_service_is_private_latest_platform_with_circuit_breaker(t):  # SH ECS.2/10
    p = props(t, "Service")
    assert p["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    assert p["PlatformVersion"] == "LATEST"
    breaker = p["DeploymentConfiguration"]["DeploymentCircuitBreaker"]
    assert breaker == {"Enable": True, "Rollback": True}
    # MLFLOW-RUNTIME.md: /health answers ~10 s after start; a paused database adds ~15 s.
    assert p["HealthCheckGracePeriodSeconds"] >= 60


def test_every_container_is_hardened(t):  # SH ECS.4/5/9
    task = props(t, "TaskDefinition")
    volumes = {v["Name"] for v in task["Volumes"]}
    for c in containers(t):
        assert c["Privileged"] is False, c["Name"]
        assert c["ReadonlyRootFilesystem"] is True, c["Name"]
        assert c["LinuxParameters"]["Capabilities"] == {"Drop": ["ALL"]}, c["Name"]
        assert c["LogConfiguration"]["LogDriver"] == "awslogs", c["Name"]
        assert {m["SourceVolume"] for m in c.get("MountPoints", [])} <= volumes
    (mlflow,) = [c for c in containers(t) if c["Name"] == "mlflow"]
    assert mlflow["HealthCheck"]["Command"][-1].endswith("/health', timeout=4)")
    assert {m["ContainerPath"] for m in mlflow["MountPoints"]} == {"/tmp"}
    assert mlflow["WorkingDirectory"] == "/tmp"
    env = {e["Name"]: e["Value"] for e in mlflow["Environment"]}
    assert env["HOME"] == env["TMPDIR"] == "/tmp"  # all it writes lands on the task volume
    assert mlflow["StopTimeout"] >= 15  # SIGTERM takes 5-14 s (MLFLOW-RUNTIME.md)


# --- Load balancer -----------------------------------------------------------------------------
def test_load_balancer_logs_and_drops_invalid_headers(t, mode):  # SH ELB.4/5/13; CKV_AWS_91/131
    p = props(t, "LoadBalancer")
    assert p["Scheme"] == ("internet-facing" if mode == "internet-facing" else "internal")
    attributes = {a["Key"]: a["Value"] for a in p["LoadBalancerAttributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["access_logs.s3.bucket"] == {"Ref": "LogBucket"}
    assert attributes["deletion_protection.enabled"] in ("true", "false")  # a parameter


def test_https_uses_tls13_and_port_80_only_redirects(t, mode):  # SH ELB.1; CKV_AWS_2/103
    (http,) = props(t, "HttpListener")["DefaultActions"]
    if "HttpsListener" not in t["Resources"]:
        assert mode in ("default", "mysql-ha-sidecar-scaling", "datadog")  # no certificate
        assert http["Type"] == "forward"
        assert props(t, "LoadBalancer")["Scheme"] == "internal"
        return
    assert TLS_POLICY == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert props(t, "HttpsListener")["SslPolicy"] == TLS_POLICY
    assert http["Type"] == "redirect" and http["RedirectConfig"]["Protocol"] == "HTTPS"


def test_login_comes_before_forwarding_and_nothing_unauthenticated_passes(t, mode):
    if "HttpsListener" not in t["Resources"]:
        return
    actions = props(t, "HttpsListener")["DefaultActions"]
    rules = resources(t, "AWS::ElasticLoadBalancingV2::ListenerRule")
    if mode in ("cognito", "oidc-own-bucket"):
        assert [a["Type"] for a in sorted(actions, key=lambda a: a["Order"])] == [
            "authenticate-cognito" if mode == "cognito" else "authenticate-oidc",
            "forward",
        ]
        login = [a["Type"] for a in actions if a["Type"].startswith("authenticate")]
        for rule in rules.values():  # every rule validates a token or logs in before it forwards
            ordered = sorted(rule["Properties"]["Actions"], key=lambda a: a["Order"])
            assert [a["Type"] for a in ordered] in (["jwt-validation", "forward"],
                                                    [*login, "forward"])  # fmt: skip
    else:
        assert [a["Type"] for a in actions] == ["forward"] and not rules


def test_alb_logs_go_to_the_regions_log_delivery_principal(t):
    document = props(t, "LogBucketPolicy")["PolicyDocument"]
    delivery = [s for s in statements(document) if s.get("Sid") == "LoadBalancerAccessLogDelivery"]
    # eu-west-1 (the rendering region) predates August 2022: the ELB account of the region.
    assert delivery[0]["Principal"] == {"AWS": {"Fn::Sub": "arn:aws:iam::156460612806:root"}} or (
        delivery[0]["Principal"] == {"AWS": "arn:aws:iam::156460612806:root"}
    )


# --- Network and IAM ---------------------------------------------------------------------------
def test_every_security_group_rule_has_a_description_and_explicit_egress(t):  # CKV_AWS_23
    for logical_id, resource in t["Resources"].items():
        if resource["Type"] in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
            assert resource["Properties"]["Description"], logical_id
        if resource["Type"] == "AWS::EC2::SecurityGroup":
            assert resource["Properties"]["SecurityGroupEgress"], logical_id  # never allow-all
            for rule in resource["Properties"]["SecurityGroupEgress"]:
                assert rule["Description"], logical_id
            assert "SecurityGroupIngress" not in resource["Properties"], logical_id


def test_database_accepts_only_the_service_and_the_service_only_the_load_balancer(t, mode):
    port = 3306 if "mysql" in mode else 5432
    ingress = resources(t, "AWS::EC2::SecurityGroupIngress")
    by_group: dict[str, list[dict]] = {}
    for rule in ingress.values():
        by_group.setdefault(rule["Properties"]["GroupId"]["Fn::GetAtt"][0], []).append(
            rule["Properties"]
        )
    (db,) = by_group["DatabaseSecurityGroup"]
    assert db["SourceSecurityGroupId"] == {"Fn::GetAtt": ["ServiceSecurityGroup", "GroupId"]}
    assert (int(db["FromPort"]), int(db["ToPort"])) == (port, port)
    (service,) = by_group["ServiceSecurityGroup"]
    assert service["SourceSecurityGroupId"] == {
        "Fn::GetAtt": ["LoadBalancerSecurityGroup", "GroupId"]
    }
    assert (service["FromPort"], service["ToPort"]) == (5000, 5000)
    for rule in by_group["LoadBalancerSecurityGroup"]:
        assert rule["CidrIp"] == "10.0.0.0/8" or mode == "internet-facing"
        assert rule["FromPort"] in (80, 443)


def _role_statements(t: dict):
    for logical_id, resource in resources(t, "AWS::IAM::Role").items():
        for policy in resource["Properties"].get("Policies", []):
            for statement in statements(policy["PolicyDocument"]):
                yield logical_id, statement


def test_iam_names_explicit_actions_on_explicit_resources(t):  # SH IAM.1/21; CKV_AWS_60-63,107-111
    from mlflow_cfn.cfn.schemas import iam_action

    for role, statement in _role_statements(t):
        assert all("*" not in action for action in statement["Action"]), (role, statement)
        resource = statement["Resource"]
        if resource == ["*"] or resource == "*":
            # Only actions IAM defines on no resource type (cfn-lint's copy of the Service
            # Authorization Reference): ecr:GetAuthorizationToken, the wake function's reads.
            for action in statement["Action"]:
                assert iam_action(action) == {}, (role, action)


def test_roles_trust_only_their_service_for_this_account(t):
    for logical_id, role in resources(t, "AWS::IAM::Role").items():
        for statement in statements(role["Properties"]["AssumeRolePolicyDocument"]):
            assert set(statement["Principal"]) == {"Service"}, logical_id
            if statement["Principal"]["Service"] == "lambda.amazonaws.com":
                # The Lambda Developer Guide's execution role trust names no condition key that
                # Lambda sends when it assumes the role; one it does not send locks it out.
                assert "Condition" not in statement, logical_id
                continue
            assert statement["Condition"] == {
                "StringEquals": {"aws:SourceAccount": {"Fn::Sub": "${AWS::AccountId}"}}
            } or statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_task_role_reaches_only_the_artifact_prefix(t, mode):
    (policy,) = props(t, "TaskRole")["Policies"]
    by_sid = {s["Sid"]: s for s in statements(policy["PolicyDocument"])}
    writes = [s for s in by_sid.values() if "s3:PutObject" in s["Action"]]
    assert [s["Sid"] for s in writes] == ["ReadWriteArtifactsUnderThePrefix"]
    assert "StringLike" in by_sid["ListOnlyThePrefix"]["Condition"]


def test_execution_role_reads_exactly_its_secrets_with_exactly_its_key(t):
    (policy,) = props(t, "TaskExecutionRole")["Policies"]
    by_sid = {s["Sid"]: s for s in statements(policy["PolicyDocument"])}
    assert by_sid["ReadTheDatabaseSecret"]["Resource"] == [
        {"Fn::GetAtt": ["DatabaseCluster", "MasterUserSecret.SecretArn"]}
    ]
    assert by_sid["DecryptTheDatabaseSecret"]["Resource"] == [
        {"Fn::GetAtt": ["DatabaseKey", "Arn"]}
    ]
    for statement in by_sid.values():
        if "secretsmanager:GetSecretValue" in statement["Action"]:
            assert "*" not in json.dumps(statement["Resource"])


def test_log_group_is_encrypted_and_expires(t):  # CKV_AWS_158/66
    p = props(t, "LogGroup")
    assert p["KmsKeyId"] == {"Fn::GetAtt": ["LogsKey", "Arn"]}
    assert int(p["RetentionInDays"]) >= 1


#: Kept when a stack is deleted or they leave it; removed only by the rollback of the create that
#: made them (RetainExceptOnCreate), except where that delete would fail the rollback
#: (mlflow_cfn/stack/components/retention.py says why for each).
KEPT_EXCEPT_ON_CREATE = {"AWS::KMS::Key", "AWS::Logs::LogGroup", "AWS::S3::Bucket"}
ALWAYS_KEPT = {"LogBucket", "CognitoUserPool"}  # non-empty from the start; DeletionProtection


def test_stateful_resources_are_never_deleted_with_the_stack(t):
    for logical_id, resource in t["Resources"].items():
        if resource["Type"] in (
            "AWS::S3::Bucket",
            "AWS::KMS::Key",
            "AWS::Logs::LogGroup",
            "AWS::Cognito::UserPool",
        ):
            kept = resource["Type"] in KEPT_EXCEPT_ON_CREATE and logical_id not in ALWAYS_KEPT
            deletion = "RetainExceptOnCreate" if kept else "Retain"
            assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == (
                deletion,
                "Retain",
            ), logical_id
        if resource["Type"] == "AWS::RDS::DBCluster":
            assert resource["DeletionPolicy"] == "Snapshot", logical_id
