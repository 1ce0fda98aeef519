"""Each optional mode, evaluated on and off, creates exactly its resources and wiring."""

from __future__ import annotations

import json

import pytest

from mlflow_cfn.cfn.evaluate import ParameterError
from tests.template.modes import DATADOG, HTTPS, OIDC, OWN_BUCKET, SIDECAR, stack


def container(evaluated, name: str = "mlflow") -> dict:
    task = evaluated.resource("TaskDefinition")["Properties"]
    return next(c for c in task["ContainerDefinitions"] if c["Name"] == name)


def env(c: dict) -> dict[str, str]:
    return {e["Name"]: e["Value"] for e in c.get("Environment", [])}


def statements(evaluated, role: str) -> dict[str, dict]:
    (policy,) = evaluated.resource(role)["Properties"]["Policies"]
    return {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}


def refused(**parameters) -> list[str]:
    with pytest.raises(ParameterError) as caught:
        stack(**parameters)
    return caught.value.errors


# --- 1. Own artifact root ----------------------------------------------------------------------
def test_created_bucket_by_default():
    s = stack()
    assert {"ArtifactBucket", "ArtifactBucketPolicy", "ArtifactKey", "LogBucket"} <= set(
        s.resources
    )
    assert env(container(s))["MLFLOW_ARTIFACTS_DESTINATION"] == "s3://<ArtifactBucket>/artifacts"


def test_own_bucket_creates_no_bucket_and_scopes_the_role_to_its_prefix_and_key():
    s = stack(**OWN_BUCKET)
    assert not {"ArtifactBucket", "ArtifactBucketPolicy", "ArtifactKey", "ArtifactKeyAlias"} & set(
        s.resources
    )
    assert "LogBucket" in s.resources  # still there for the load balancer's access logs
    assert env(container(s))["MLFLOW_ARTIFACTS_DESTINATION"] == "s3://team-ml-artifacts/mlflow/prod"
    by_sid = statements(s, "TaskRole")
    assert by_sid["ReadWriteArtifactsUnderThePrefix"]["Resource"] == [
        "arn:aws:s3:::team-ml-artifacts/mlflow/prod/*"
    ]
    assert by_sid["ListOnlyThePrefix"]["Resource"] == ["arn:aws:s3:::team-ml-artifacts"]
    assert by_sid["ListOnlyThePrefix"]["Condition"] == {
        "StringLike": {"s3:prefix": ["mlflow/prod", "mlflow/prod/*"]}
    }
    assert by_sid["EncryptArtifactsWithTheBucketsKey"]["Resource"] == [
        OWN_BUCKET["ArtifactBucketKmsKeyArn"]
    ]
    assert "EncryptArtifactsWithTheStacksKey" not in by_sid
    # The access-log permission names the created bucket only.
    log_policy = s.resource("LogBucketPolicy")["Properties"]["PolicyDocument"]
    assert "S3ServerAccessLogDelivery" not in {st.get("Sid") for st in log_policy["Statement"]}
    assert s.outputs["ArtifactRoot"] == "s3://team-ml-artifacts/mlflow/prod"


def test_own_bucket_without_key_grants_no_kms():
    s = stack(ArtifactBucketName="team-ml-artifacts")
    assert not any("Encrypt" in sid for sid in statements(s, "TaskRole"))


def test_read_only_buckets_are_read_never_written():
    s = stack(ArtifactReadOnlyBucketArns="arn:aws:s3:::datasets,arn:aws:s3:::models")
    by_sid = statements(s, "TaskRole")
    assert by_sid["ReadObjectsOfReadOnlyBuckets"] == {
        "Sid": "ReadObjectsOfReadOnlyBuckets",
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": ["arn:aws:s3:::datasets/*", "arn:aws:s3:::models/*"],
    }
    assert by_sid["ListReadOnlyBuckets"]["Resource"] == [
        "arn:aws:s3:::datasets",
        "arn:aws:s3:::models",
    ]
    for statement in by_sid.values():
        if any("datasets" in r for r in statement["Resource"]):
            assert set(statement["Action"]) <= {"s3:GetObject", "s3:ListBucket"}


def test_a_bucket_key_without_an_own_bucket_is_refused():
    errors = refused(ArtifactBucketKmsKeyArn=OWN_BUCKET["ArtifactBucketKmsKeyArn"])
    assert any("ArtifactKmsKeyNeedsOwnBucket" in e and "ArtifactBucketName" in e for e in errors)


# --- 2. Login --------------------------------------------------------------------------------
def https_actions(s) -> list[dict]:
    return s.resource("HttpsListener")["Properties"]["DefaultActions"]


def test_no_login_by_default():
    s = stack(**HTTPS)
    assert [a["Type"] for a in https_actions(s)] == ["forward"]
    assert "BearerTokenListenerRule" not in s.resources
    assert "LoadBalancerToIdentityProviderEgress" not in s.resources


def test_cognito_creates_a_locked_down_pool_and_logs_in_before_forwarding():
    s = stack(AuthMode="cognito", **HTTPS)
    pool = s.resource("CognitoUserPool")
    assert pool["DeletionPolicy"] == "Retain"
    p = pool["Properties"]
    assert p["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}  # no self sign-up
    assert p["DeletionProtection"] == "ACTIVE"
    assert p["MfaConfiguration"] == "OPTIONAL"
    policy = p["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12 and all(
        policy[k]
        for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
    )
    browser = s.resource("CognitoBrowserClient")["Properties"]
    assert browser["CallbackURLs"] == ["https://mlflow.example.com/oauth2/idpresponse"]
    assert browser["AllowedOAuthFlows"] == ["code"]
    authenticate, forward = https_actions(s)
    assert (authenticate["Type"], authenticate["Order"]) == ("authenticate-cognito", 1)
    assert (forward["Type"], forward["Order"]) == ("forward", 2)
    config = authenticate["AuthenticateCognitoConfig"]
    assert config["UserPoolArn"] == "<CognitoUserPool.Arn>"
    assert config["UserPoolClientId"] == "<CognitoBrowserClient>"


def test_cognito_bearer_tokens_are_validated_before_they_reach_mlflow():
    s = stack(AuthMode="cognito", **HTTPS)
    rule = s.resource("BearerTokenListenerRule")["Properties"]
    assert rule["Priority"] == 2  # 1: the wake path's token rule, with idle shutdown
    assert rule["Conditions"] == [
        {
            "Field": "http-header",
            "HttpHeaderConfig": {"HttpHeaderName": "Authorization", "Values": ["Bearer *"]},
        }
    ]
    validate, forward = rule["Actions"]
    assert (validate["Type"], validate["Order"], forward["Type"]) == (
        "jwt-validation",
        1,
        "forward",
    )
    # The issuer the stack's pool reports (GetAtt ProviderURL), its type pinned.
    issuer = "<CognitoUserPool.ProviderURL>"
    pool = s.resource("CognitoUserPool")["Properties"]
    assert pool["IssuerConfiguration"] == {"Type": "ORIGINAL"}
    assert validate["JwtValidationConfig"] == {
        "Issuer": issuer,
        "JwksEndpoint": f"{issuer}/.well-known/jwks.json",
        "AdditionalClaims": [
            {"Name": "scope", "Format": "space-separated-values", "Values": ["mlflow/api"]}
        ],
    }
    machine = s.resource("CognitoMachineClient")["Properties"]
    assert machine["AllowedOAuthFlows"] == ["client_credentials"]
    assert machine["AllowedOAuthScopes"] == ["mlflow/api"]
    assert s.outputs["TokenScope"] == "mlflow/api"
    assert s.outputs["CognitoTokenUrl"].endswith(".auth.eu-west-1.amazoncognito.com/oauth2/token")
    assert "LoadBalancerToIdentityProviderEgress" in s.resources


SHARED_POOL = {
    "AuthMode": "cognito",
    "CognitoUserPoolArn": "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC123",
    "CognitoUserPoolClientId": "1example23456789",
    "CognitoUserPoolDomain": "team-login",
    **HTTPS,
}


def bearer_token_check(s) -> dict:
    return s.resource("BearerTokenListenerRule")["Properties"]["Actions"][0]["JwtValidationConfig"]


def test_existing_cognito_pool_is_used_not_created():
    pool = SHARED_POOL["CognitoUserPoolArn"]
    s = stack(**SHARED_POOL, CognitoTokenScope="mlflow-team-a/api")
    assert not any(r.startswith("Cognito") for r in s.resources)
    config = https_actions(s)[0]["AuthenticateCognitoConfig"]
    assert (config["UserPoolArn"], config["UserPoolDomain"]) == (pool, "team-login")
    issuer = bearer_token_check(s)["Issuer"]
    assert issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"


def test_stacks_sharing_a_pool_accept_only_their_own_scope():
    """Issue 23, item 8: every stack on a shared pool checked the pool's issuer and mlflow/api,
    so a token any of them could get opened all of them. Each checks its own scope now."""
    checks = {}
    for team in ("team-a", "team-b"):
        s = stack(**SHARED_POOL, CognitoTokenScope=f"mlflow-{team}/api")
        checks[team] = bearer_token_check(s)
        assert checks[team]["AdditionalClaims"] == [
            {"Name": "scope", "Format": "space-separated-values", "Values": [f"mlflow-{team}/api"]}
        ]
        assert s.outputs["TokenScope"] == f"mlflow-{team}/api"
    assert checks["team-a"]["Issuer"] == checks["team-b"]["Issuer"]  # one pool, one issuer
    errors = refused(**SHARED_POOL)
    assert any("needs CognitoTokenScope too" in e for e in errors), errors
    # The pool a stack creates is its own (its own issuer): its scope stays mlflow/api.
    own = stack(AuthMode="cognito", **HTTPS, CognitoTokenScope="ignored/scope")
    assert bearer_token_check(own)["AdditionalClaims"][0]["Values"] == ["mlflow/api"]
    assert own.outputs["TokenScope"] == "mlflow/api"


def test_an_incomplete_existing_pool_is_refused():
    errors = refused(
        AuthMode="cognito",
        CognitoUserPoolArn="arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC123",
        **HTTPS,
    )
    assert any("CognitoUserPoolClientId" in e for e in errors)
    assert any("CognitoUserPoolDomain" in e for e in errors)
    assert any("CognitoTokenScope" in e for e in errors)


def test_oidc_logs_in_with_a_secret_reference_and_validates_the_audience():
    s = stack(**OIDC, **HTTPS)
    authenticate, _ = https_actions(s)
    config = authenticate["AuthenticateOidcConfig"]
    assert authenticate["Type"] == "authenticate-oidc"
    assert config["ClientSecret"] == (
        "{{resolve:secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:oidc-AbCdEf}}"
    )
    assert config["Issuer"] == OIDC["OidcIssuer"]
    jwt = s.resource("BearerTokenListenerRule")["Properties"]["Actions"][0]["JwtValidationConfig"]
    assert jwt == {
        "Issuer": OIDC["OidcIssuer"],
        "JwksEndpoint": OIDC["OidcJwksEndpoint"],
        "AdditionalClaims": [
            {"Name": "aud", "Format": "single-string", "Values": ["api://mlflow"]}
        ],
    }
    assert not any(r.startswith("Cognito") for r in s.resources)
    # Providers that send "aud" as an array: the load balancer compares it in that format.
    arrays = stack(**HTTPS, **OIDC, OidcTokenAudienceFormat="string-array")
    (claim,) = arrays.resource("BearerTokenListenerRule")["Properties"]["Actions"][0][
        "JwtValidationConfig"
    ]["AdditionalClaims"]
    assert claim == {"Name": "aud", "Format": "string-array", "Values": ["api://mlflow"]}
    # The secret itself is never a Parameter: only the ARN of where it is kept.
    secret_like = [
        p for p in s.parameters if "Secret" in p and not p.endswith(("SecretArn", "KeyArn"))
    ]
    assert secret_like == ["SidecarSecretVariable"]  # a variable name, not a secret


def test_login_without_a_certificate_or_domain_is_refused():
    errors = refused(AuthMode="cognito")
    assert any("AuthNeedsCertificate" in e and "CertificateArn" in e for e in errors)
    assert any("AuthNeedsCertificate" in e and "DomainName" in e for e in errors)


def test_oidc_with_missing_endpoints_is_refused_naming_each():
    errors = refused(AuthMode="oidc", **HTTPS)
    for name in ("OidcIssuer", "OidcTokenEndpoint", "OidcJwksEndpoint", "OidcClientSecretArn"):
        assert any(f"AuthMode=oidc needs {name}." in e for e in errors), name


def test_internet_facing_allows_everyone_only_behind_a_login():
    wide_open = {"LoadBalancerScheme": "internet-facing", "LoadBalancerIngressCidrs": "0.0.0.0/0"}
    assert any("InternetFacingNeedsAllowList" in e for e in refused(**wide_open, **HTTPS))
    assert "LoadBalancer" in stack(**wide_open, **HTTPS, AuthMode="cognito").resources


@pytest.mark.parametrize(
    "cidrs",
    ["10.0.0.0/8", "10.0.0.0/8,0.0.0.0/0", "0.0.0.0/1,128.0.0.0/1"],
)
def test_internet_facing_without_login_needs_an_explicit_yes_whatever_the_cidrs(cidrs):
    """Issue 14, vector 6: a CIDR list is never taken as consent (two halves are the whole
    internet too); AllowPublicAccessWithoutLogin=true is."""
    public = {"LoadBalancerScheme": "internet-facing", "LoadBalancerIngressCidrs": cidrs, **HTTPS}
    assert any("InternetFacingWithoutLoginNeedsConsent" in e for e in refused(**public))
    accepted = stack(**public, AllowPublicAccessWithoutLogin="true")
    assert accepted.resource("LoadBalancer")["Properties"]["Scheme"] == "internet-facing"
    assert "LoadBalancer" in stack(**public, AuthMode="cognito").resources  # a login needs no yes


def test_every_role_carries_the_permissions_boundary_when_one_is_given():
    """Issue 14: no parameter value can produce a role beyond the portfolio's boundary."""
    boundary = "arn:aws:iam::123456789012:policy/mlflow-cfn-boundary"
    for sidecar, params in ((None, {**SIDECAR, "IdleShutdownMinutes": "30", **HTTPS,
                                    "AuthMode": "cognito", "DatabaseHighAvailability": "true"}),
                            ("datadog", {})):  # fmt: skip
        bounded = stack(sidecar, PermissionsBoundaryArn=boundary, **params)
        roles = bounded.of_type("AWS::IAM::Role")
        assert roles and all(
            r["Properties"]["PermissionsBoundary"] == boundary for r in roles.values()
        ), sorted(roles)
        free = stack(sidecar, **params).of_type("AWS::IAM::Role")
        assert all("PermissionsBoundary" not in r["Properties"] for r in free.values())
    assert any("PermissionsBoundaryArn" in e for e in refused(PermissionsBoundaryArn="admin"))


# --- 3. Sidecars -----------------------------------------------------------------------------
def test_no_sidecar_by_default():
    s = stack()
    names = [c["Name"] for c in s.resource("TaskDefinition")["Properties"]["ContainerDefinitions"]]
    assert names == ["prepare-volumes", "mlflow"]


@pytest.mark.parametrize("user", ["0", "0:0", "root", "00"])
def test_the_generic_sidecar_never_runs_as_root(user):
    """Issue 14, item 7: the sidecar's user is a Parameter that refuses root."""
    assert container(stack(**SIDECAR), "log-router")["User"] == "1000:1000"
    assert container(stack(**SIDECAR, SidecarUser="101:65534"), "log-router")["User"] == "101:65534"
    assert any("SidecarUser" in e for e in refused(**SIDECAR, SidecarUser=user))


def test_generic_sidecar_gets_its_environment_and_secret_never_the_database_secret():
    s = stack(**SIDECAR)
    sidecar = container(s, "log-router")
    assert sidecar["Essential"] is False
    assert env(sidecar) == {"LOG_LEVEL": "info", "FLUSH": "5"}
    assert sidecar["Secrets"] == [
        {"Name": "ROUTER_TOKEN", "ValueFrom": SIDECAR["SidecarSecretArn"]}
    ]
    assert sidecar["Cpu"] == "128" or sidecar["Cpu"] == 128
    assert "MemoryReservation" in sidecar
    assert sidecar["ReadonlyRootFilesystem"] is True
    mlflow = container(s)  # it waits for the init container only, never for a sidecar
    assert mlflow["DependsOn"] == [{"ContainerName": "prepare-volumes", "Condition": "SUCCESS"}]
    assert sidecar["DependsOn"] == mlflow["DependsOn"] and sidecar["User"] == "1000:1000"
    reads = statements(s, "TaskExecutionRole")
    assert reads["ReadTheSidecarSecret"]["Resource"] == [SIDECAR["SidecarSecretArn"]]


def test_sidecar_needs_room_in_the_task():
    errors = refused(**{**SIDECAR, "TaskMemory": "1024"})
    assert any("SidecarNeedsTaskMemory" in e and "2048" in e for e in errors)


def test_sidecar_secret_needs_a_variable_name():
    errors = refused(**{**SIDECAR, "SidecarSecretVariable": ""})
    assert any("SidecarSecretVariable" in e for e in errors)


def test_datadog_preset_adds_the_agent_with_its_key():
    s = stack("datadog")
    agent = container(s, "datadog-agent")
    assert agent["Secrets"] == [
        {"Name": "DD_API_KEY", "ValueFrom": DATADOG["DatadogApiKeySecretArn"]}
    ]
    assert env(agent)["ECS_FARGATE"] == "true"
    assert agent["Essential"] is False
    assert s.resource("TaskDefinition")["Properties"]["Memory"] == "2048"
    assert statements(s, "TaskExecutionRole")["ReadTheDatadogApiKey"]["Resource"] == [
        DATADOG["DatadogApiKeySecretArn"]
    ]


@pytest.mark.parametrize("preset", [None, "datadog"])
def test_no_sidecar_ever_sees_the_database_secret(preset):
    s = stack(preset, **SIDECAR)
    for c in s.resource("TaskDefinition")["Properties"]["ContainerDefinitions"]:
        if c["Name"] != "mlflow":
            assert "MasterUserSecret" not in json.dumps(c), c["Name"]


# --- 4. Autoscaling --------------------------------------------------------------------------
def test_no_autoscaling_by_default():
    s = stack()
    assert not {"ScalableTarget", "ScalingPolicy"} & set(s.resources)
    assert s.resource("Service")["Properties"]["DesiredCount"] == "1"


@pytest.mark.parametrize(
    ("metric", "metric_type"),
    [("cpu", "ECSServiceAverageCPUUtilization"), ("requests", "ALBRequestCountPerTarget")],
)
def test_target_tracking(metric, metric_type):
    s = stack(ScalingMetric=metric, MinTasks="2", MaxTasks="6", ScalingTarget="50")
    target = s.resource("ScalableTarget")["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == ("2", "6")
    assert "ScheduledActions" not in target or target["ScheduledActions"] == []
    spec = s.resource("ScalingPolicy")["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    assert spec["PredefinedMetricSpecification"]["PredefinedMetricType"] == metric_type
    assert ("ResourceLabel" in spec["PredefinedMetricSpecification"]) == (metric == "requests")
    assert "DesiredCount" not in s.resource("Service")["Properties"]  # autoscaling owns it


def test_working_hours_schedule_scales_to_zero_outside_them():
    s = stack(
        ScaleUpSchedule="cron(0 7 ? * MON-FRI *)",
        ScaleDownSchedule="cron(0 20 ? * MON-FRI *)",
        ScheduleTimezone="Europe/Berlin",
    )
    assert "ScalingPolicy" not in s.resources
    up, down = s.resource("ScalableTarget")["Properties"]["ScheduledActions"]
    assert up["Schedule"] == "cron(0 7 ? * MON-FRI *)" and up["Timezone"] == "Europe/Berlin"
    assert up["ScalableTargetAction"] == {"MinCapacity": "1", "MaxCapacity": "2"}
    assert down["ScalableTargetAction"] == {"MinCapacity": "0", "MaxCapacity": "0"}


def test_half_a_schedule_is_refused():
    errors = refused(ScaleUpSchedule="cron(0 7 ? * MON-FRI *)")
    assert any("ScaleUpSchedule needs ScaleDownSchedule" in e for e in errors)


# --- 5. MySQL --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("engine", "port", "family", "tls", "dialect", "logs"),
    [
        ("aurora-postgresql", "5432", "aurora-postgresql17", {"rds.force_ssl": "1"},
         "postgresql+psycopg2", ["postgresql"]),
        ("aurora-mysql", "3306", "aurora-mysql8.0",
         {"require_secure_transport": "ON", "slow_query_log": "1", "long_query_time": "2",
          "log_output": "FILE"},
         "mysql+pymysql", ["error", "slowquery"]),
    ],
)  # fmt: skip
def test_engine_wiring(engine, port, family, tls, dialect, logs):
    s = stack(DatabaseEngine=engine)
    cluster = s.resource("DatabaseCluster")["Properties"]
    assert cluster["Engine"] == engine and str(cluster["Port"]) == port
    assert cluster["EnableCloudwatchLogsExports"] == logs
    group = s.resource("DatabaseClusterParameterGroup")["Properties"]
    assert (group["Family"], group["Parameters"]) == (family, tls)
    rule = s.resource("DatabaseFromServiceIngress")["Properties"]
    assert (str(rule["FromPort"]), str(rule["ToPort"])) == (port, port)
    egress = s.resource("ServiceToDatabaseEgress")["Properties"]
    assert str(egress["FromPort"]) == port
    assert env(container(s))["MLFLOW_CFN_DB_DIALECT"] == dialect
    assert s.resource("DatabaseWriter")["Properties"]["Engine"] == engine


# --- 6. High availability --------------------------------------------------------------------
def test_high_availability_adds_a_reader():
    assert "DatabaseReader" not in stack().resources
    reader = stack(DatabaseHighAvailability="true").resource("DatabaseReader")["Properties"]
    assert reader["DBClusterIdentifier"] == "<DatabaseCluster>"
    assert reader["PromotionTier"] == 1
    assert reader["PubliclyAccessible"] is False


# --- 7. Custom domain ------------------------------------------------------------------------
def test_custom_domain_record_and_tracking_uri():
    s = stack(HostedZoneId="Z0123456789ABCDEFGHIJ", **HTTPS)
    record = s.resource("DnsRecord")["Properties"]
    assert (record["Name"], record["Type"]) == ("mlflow.example.com", "A")
    assert record["AliasTarget"]["DNSName"] == "<LoadBalancer.DNSName>"
    assert s.outputs["TrackingUri"] == "https://mlflow.example.com"
    assert "DnsRecord" not in stack(**HTTPS).resources
    assert any("HostedZoneNeedsDomainName" in e for e in refused(HostedZoneId="Z0123456789AB"))


# --- Aurora auto-pause: RDS accepts SecondsUntilAutoPause only with a minimum of 0 ACU ---------
def _scaling_configuration(evaluated) -> dict:
    return evaluated.resource("DatabaseCluster")["Properties"]["ServerlessV2ScalingConfiguration"]


def test_auto_pause_is_set_when_the_database_may_pause():
    assert _scaling_configuration(stack()) == {
        "MinCapacity": "0",
        "MaxCapacity": "4",
        "SecondsUntilAutoPause": "300",
    }


@pytest.mark.parametrize("minimum", ["0.5", "1", "8"])
def test_auto_pause_is_left_out_with_a_minimum_above_zero(minimum):
    configuration = _scaling_configuration(
        stack(DatabaseMinCapacity=minimum, DatabaseMaxCapacity="16")
    )
    assert configuration["MinCapacity"] == minimum
    assert "SecondsUntilAutoPause" not in configuration
