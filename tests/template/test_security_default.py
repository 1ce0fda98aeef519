"""SECURITY.md, asserted by property on the default template so a golden update cannot weaken it.

Each test names the SECURITY.md line (and the public check) it keeps.
"""

from __future__ import annotations

import pytest

from mlflow_cfn.components.load_balancer import TLS_POLICY


def resources(template: dict, type_name: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_name}


def props(template: dict, logical_id: str) -> dict:
    return template["Resources"][logical_id]["Properties"]


def statements(document: dict) -> list[dict]:
    return document["Statement"]


def unwrap_if(value):
    """Both branches of an Fn::If (or the value itself)."""
    if isinstance(value, dict) and "Fn::If" in value:
        return value["Fn::If"][1:]
    return [value]


# --- Storage ------------------------------------------------------------------------------------
@pytest.mark.parametrize("bucket", ["ArtifactBucket", "LogBucket"])
def test_buckets_block_public_access_and_acls(default_template, bucket):  # S3.1/2/3/8/12
    p = props(default_template, bucket)
    assert p["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert p["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert p["VersioningConfiguration"] == {"Status": "Enabled"}


def test_artifact_bucket_uses_its_kms_key_with_bucket_key(default_template):  # S3.17
    (rule,) = props(default_template, "ArtifactBucket")["BucketEncryption"][
        "ServerSideEncryptionConfiguration"
    ]
    assert rule["BucketKeyEnabled"] is True
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": ["ArtifactKey", "Arn"]},
    }


@pytest.mark.parametrize(
    ("policy", "bucket"),
    [("ArtifactBucketPolicy", "ArtifactBucket"), ("LogBucketPolicy", "LogBucket")],
)
def test_every_bucket_denies_requests_without_tls(default_template, policy, bucket):  # S3.5
    p = props(default_template, policy)
    assert p["Bucket"] == {"Ref": bucket}
    deny = [s for s in statements(p["PolicyDocument"]) if s.get("Effect") == "Deny"]
    assert len(deny) == 1
    assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": False}}  # JSON false
    assert deny[0]["Principal"] == "*"
    assert deny[0]["Action"] == ["s3:*"]
    assert {"Fn::GetAtt": [bucket, "Arn"]} in deny[0]["Resource"]


def test_artifact_lifecycle_expires_noncurrent_and_aborts_uploads(default_template):  # S3.10/13
    rules = props(default_template, "ArtifactBucket")["LifecycleConfiguration"]["Rules"]
    noncurrent = [r for r in rules if "NoncurrentVersionExpiration" in r]
    assert noncurrent[0]["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": {"Ref": "ArtifactNoncurrentVersionDays"}
    }
    assert any(
        r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation") for r in rules
    )
    assert all(r["Status"] == "Enabled" for r in rules)


def test_artifact_bucket_logs_to_the_log_bucket(default_template):  # S3.9, CKV_AWS_18
    logging = props(default_template, "ArtifactBucket")["LoggingConfiguration"]
    assert logging["DestinationBucketName"] == {"Ref": "LogBucket"}
    skips = default_template["Resources"]["LogBucket"]["Metadata"]["checkov"]["skip"]
    assert {s["id"] for s in skips} >= {"CKV_AWS_18"} and all(len(s["comment"]) > 40 for s in skips)


# --- Keys ---------------------------------------------------------------------------------------
def test_keys_rotate_are_retained_and_name_no_wildcard_principal(default_template):  # KMS.3/4/5
    keys = resources(default_template, "AWS::KMS::Key")
    assert set(keys) == {"ArtifactKey", "DatabaseKey", "LogsKey"}
    for key in keys.values():
        assert key["Properties"]["EnableKeyRotation"] is True
        assert key["Properties"]["PendingWindowInDays"] == 30
        assert key["DeletionPolicy"] == "Retain" and key["UpdateReplacePolicy"] == "Retain"
        for statement in statements(key["Properties"]["KeyPolicy"]):
            assert statement["Principal"] != "*" and statement["Principal"] != {"AWS": "*"}
            if "Service" in statement["Principal"]:
                assert statement.get("Condition"), "service principals need a condition"


# --- Database -----------------------------------------------------------------------------------
def test_database_cluster_settings(default_template):  # RDS.7/11/16/24/27/37, CKV_AWS_96/162
    cluster = default_template["Resources"]["DatabaseCluster"]
    p = cluster["Properties"]
    assert p["StorageEncrypted"] is True
    assert p["KmsKeyId"] == {"Ref": "DatabaseKey"}
    assert p["DeletionProtection"] == {"Ref": "DatabaseDeletionProtection"}
    assert default_template["Parameters"]["DatabaseDeletionProtection"]["Default"] == "true"
    assert p["BackupRetentionPeriod"] == {"Ref": "DatabaseBackupRetentionDays"}
    assert default_template["Parameters"]["DatabaseBackupRetentionDays"]["MinValue"] >= 7
    assert p["CopyTagsToSnapshot"] is True
    assert p["EnableCloudwatchLogsExports"]
    assert p["EnableIAMDatabaseAuthentication"] is True
    assert p["MasterUsername"] not in ("postgres", "admin", "root")
    assert cluster["DeletionPolicy"] == "Snapshot" and cluster["UpdateReplacePolicy"] == "Snapshot"


def test_database_password_is_managed_by_rds_and_encrypted_with_its_key(default_template):  # F34
    p = props(default_template, "DatabaseCluster")
    assert p["ManageMasterUserPassword"] is True
    assert p["MasterUserSecret"] == {"KmsKeyId": {"Ref": "DatabaseKey"}}
    assert "MasterUserPassword" not in p


def test_database_enforces_tls(default_template):
    group = props(default_template, "DatabaseClusterParameterGroup")
    assert group["Parameters"] == {"rds.force_ssl": "1"}
    assert props(default_template, "DatabaseCluster")["DBClusterParameterGroupName"] == {
        "Ref": "DatabaseClusterParameterGroup"
    }


def test_database_instance_is_private_and_upgrades_minor_versions(default_template):  # RDS.2/13
    p = props(default_template, "DatabaseWriter")
    assert p["PubliclyAccessible"] is False
    assert p["AutoMinorVersionUpgrade"] is True
    assert p["DBInstanceClass"] == "db.serverless"


def test_database_scales_to_zero_by_default(default_template):
    scaling = props(default_template, "DatabaseCluster")["ServerlessV2ScalingConfiguration"]
    assert scaling["MinCapacity"] == {"Ref": "DatabaseMinCapacity"}
    assert default_template["Parameters"]["DatabaseMinCapacity"]["Default"] == 0


# --- Secrets ------------------------------------------------------------------------------------
def test_credentials_reach_the_container_only_as_secrets(default_template):  # ECS.8
    (container,) = props(default_template, "TaskDefinition")["ContainerDefinitions"]
    env_names = {e["Name"] for e in container["Environment"]}
    assert not any("PASSWORD" in n or "SECRET" in n for n in env_names)
    secrets = {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}
    assert set(secrets) == {"MLFLOW_CFN_DB_USERNAME", "MLFLOW_CFN_DB_PASSWORD"}
    arn = {"Fn::GetAtt": ["DatabaseCluster", "MasterUserSecret.SecretArn"]}
    assert secrets["MLFLOW_CFN_DB_PASSWORD"] == {"Fn::Sub": ["${Arn}:password::", {"Arn": arn}]}


# --- ECS ----------------------------------------------------------------------------------------
def test_ecs_cluster_has_container_insights(default_template):  # ECS.12, CKV_AWS_65
    assert props(default_template, "EcsCluster")["ClusterSettings"] == [
        {"Name": "containerInsights", "Value": "enabled"}
    ]


def test_service_is_private_latest_platform_with_circuit_breaker(default_template):  # ECS.2/10
    p = props(default_template, "Service")
    assert p["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    assert p["PlatformVersion"] == "LATEST"
    assert p["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
        "Enable": True,
        "Rollback": True,
    }
    # MLFLOW-RUNTIME.md: /health answers ~10 s after start; a paused database adds ~15 s.
    assert p["HealthCheckGracePeriodSeconds"] >= 60


def test_task_is_hardened(default_template):  # ECS.4/5/9
    (container,) = props(default_template, "TaskDefinition")["ContainerDefinitions"]
    assert container["Privileged"] is False
    assert container["ReadonlyRootFilesystem"] is True
    assert container["LinuxParameters"]["Capabilities"] == {"Drop": ["ALL"]}
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"
    assert container["HealthCheck"]["Command"][-1].endswith("/health', timeout=4)")
    assert {m["ContainerPath"] for m in container["MountPoints"]} == {"/tmp"}


# --- Load balancer ------------------------------------------------------------------------------
def test_load_balancer_is_internal_by_default_with_logs_and_header_dropping(default_template):
    assert default_template["Parameters"]["LoadBalancerScheme"]["Default"] == "internal"  # ELB.13
    p = props(default_template, "LoadBalancer")
    attributes = {a["Key"]: a["Value"] for a in p["LoadBalancerAttributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"  # ELB.4
    assert attributes["access_logs.s3.enabled"] == "true"  # ELB.5
    assert attributes["access_logs.s3.bucket"] == {"Ref": "LogBucket"}
    assert attributes["deletion_protection.enabled"] == {"Ref": "LoadBalancerDeletionProtection"}


def test_https_listener_uses_tls13_policy_and_port_80_redirects(default_template):  # ELB.1
    assert TLS_POLICY == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    https = default_template["Resources"]["HttpsListener"]
    assert https["Condition"] == "HasCertificate"
    assert https["Properties"]["SslPolicy"] == TLS_POLICY
    (action,) = props(default_template, "HttpListener")["DefaultActions"]
    condition, with_certificate, without = action["Fn::If"]
    assert condition == "HasCertificate"
    assert with_certificate["Type"] == "redirect"
    assert with_certificate["RedirectConfig"]["Protocol"] == "HTTPS"
    assert without["Type"] == "forward"


def test_alb_logs_go_to_the_regions_log_delivery_principal(default_template):
    document = props(default_template, "LogBucketPolicy")["PolicyDocument"]
    (choice,) = [s for s in statements(document) if "Fn::If" in s]
    condition, account, service = choice["Fn::If"]
    assert condition == "UseElbLogDeliveryAccount"
    assert "FindInMap" in str(account["Principal"]["AWS"])
    assert service["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}


def test_internet_facing_without_certificate_is_refused_by_a_rule(default_template):
    rule = default_template["Rules"]["InternetFacingNeedsCertificate"]
    assert rule["RuleCondition"] == {
        "Fn::Equals": [{"Ref": "LoadBalancerScheme"}, "internet-facing"]
    }
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]}
    assert "CertificateArn" in assertion["AssertDescription"]


# --- Network and IAM ----------------------------------------------------------------------------
def test_every_security_group_rule_has_a_description(default_template):  # CKV_AWS_23
    for logical_id, resource in default_template["Resources"].items():
        if resource["Type"] in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
            assert resource["Properties"]["Description"], logical_id
        if resource["Type"] == "AWS::EC2::SecurityGroup":
            for rule in resource["Properties"].get("SecurityGroupEgress", []):
                assert rule["Description"], logical_id
            assert "SecurityGroupIngress" not in resource["Properties"], logical_id


def test_database_only_accepts_the_service_and_service_only_the_load_balancer(default_template):
    ingress = resources(default_template, "AWS::EC2::SecurityGroupIngress")
    to_database = [
        r["Properties"]
        for r in ingress.values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": ["DatabaseSecurityGroup", "GroupId"]}
    ]
    assert to_database == [
        {
            "GroupId": {"Fn::GetAtt": ["DatabaseSecurityGroup", "GroupId"]},
            "IpProtocol": "tcp",
            "FromPort": 5432,
            "ToPort": 5432,
            "SourceSecurityGroupId": {"Fn::GetAtt": ["ServiceSecurityGroup", "GroupId"]},
            "Description": "From the MLflow tasks",
        }
    ]
    to_service = [
        r["Properties"]
        for r in ingress.values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": ["ServiceSecurityGroup", "GroupId"]}
    ]
    assert len(to_service) == 1
    assert to_service[0]["SourceSecurityGroupId"] == {
        "Fn::GetAtt": ["LoadBalancerSecurityGroup", "GroupId"]
    }
    assert (to_service[0]["FromPort"], to_service[0]["ToPort"]) == (5000, 5000)


def _policy_statements(template: dict):
    for logical_id, resource in resources(template, "AWS::IAM::Role").items():
        for policy in resource["Properties"].get("Policies", []):
            for statement in statements(policy["PolicyDocument"]):
                yield logical_id, statement


def test_iam_names_explicit_actions_on_explicit_resources(default_template):  # IAM.1/21
    allowed_star = {"ecr:GetAuthorizationToken"}  # AWS defines it on no resource
    for logical_id, statement in _policy_statements(default_template):
        assert all("*" not in action for action in statement["Action"]), (logical_id, statement)
        if "*" in statement["Resource"]:
            assert set(statement["Action"]) <= allowed_star, (logical_id, statement)


def test_roles_trust_only_their_service_for_this_account(default_template):
    for logical_id, role in resources(default_template, "AWS::IAM::Role").items():
        for statement in statements(role["Properties"]["AssumeRolePolicyDocument"]):
            assert set(statement["Principal"]) == {"Service"}, logical_id
            assert statement["Condition"] == {
                "StringEquals": {"aws:SourceAccount": {"Fn::Sub": "${AWS::AccountId}"}}
            }, logical_id


def test_task_role_reaches_only_the_artifact_prefix(default_template):
    role = props(default_template, "TaskRole")
    (policy,) = role["Policies"]
    by_sid = {s["Sid"]: s for s in statements(policy["PolicyDocument"])}
    objects = by_sid["ReadWriteArtifactsUnderThePrefix"]["Resource"]
    assert objects == [
        {
            "Fn::Sub": [
                "${Arn}/${Prefix}/*",
                {
                    "Arn": {"Fn::GetAtt": ["ArtifactBucket", "Arn"]},
                    "Prefix": {"Ref": "ArtifactPrefix"},
                },
            ]
        }
    ]
    assert "StringLike" in by_sid["ListOnlyThePrefix"]["Condition"]
    assert by_sid["EncryptArtifactsWithTheirKey"]["Resource"] == [
        {"Fn::GetAtt": ["ArtifactKey", "Arn"]}
    ]


def test_execution_role_reads_exactly_this_secret_with_exactly_its_key(default_template):
    (policy,) = props(default_template, "TaskExecutionRole")["Policies"]
    by_sid = {s["Sid"]: s for s in statements(policy["PolicyDocument"])}
    assert by_sid["ReadTheDatabaseSecret"]["Resource"] == [
        {"Fn::GetAtt": ["DatabaseCluster", "MasterUserSecret.SecretArn"]}
    ]
    assert by_sid["DecryptTheDatabaseSecret"]["Resource"] == [
        {"Fn::GetAtt": ["DatabaseKey", "Arn"]}
    ]


def test_log_group_is_encrypted_and_expires(default_template):  # CKV_AWS_158/66
    p = props(default_template, "LogGroup")
    assert p["KmsKeyId"] == {"Fn::GetAtt": ["LogsKey", "Arn"]}
    assert p["RetentionInDays"] == {"Ref": "LogRetentionDays"}
