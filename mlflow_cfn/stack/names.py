"""Every logical ID, Parameter, Condition, Rule, Mapping and Output name: the template's public API.

Once released a name is never renamed or removed (a renamed resource is replaced; for the database
that means a new, empty cluster). ``tests/template/test_replacement_safety.py`` keeps the
released set (``tests/template/released.json``).
"""

# --- Parameters -------------------------------------------------------------------------------
VPC_ID = "VpcId"
LOAD_BALANCER_SUBNET_IDS = "LoadBalancerSubnetIds"
SERVICE_SUBNET_IDS = "ServiceSubnetIds"
DATABASE_SUBNET_IDS = "DatabaseSubnetIds"
LOAD_BALANCER_INGRESS_CIDRS = "LoadBalancerIngressCidrs"
LOAD_BALANCER_SCHEME = "LoadBalancerScheme"
LOAD_BALANCER_DELETION_PROTECTION = "LoadBalancerDeletionProtection"
CERTIFICATE_ARN = "CertificateArn"
DOMAIN_NAME = "DomainName"
MLFLOW_IMAGE = "MlflowImage"
TASK_CPU = "TaskCpu"
TASK_MEMORY = "TaskMemory"
DESIRED_COUNT = "DesiredCount"
DATABASE_MIN_CAPACITY = "DatabaseMinCapacity"
DATABASE_MAX_CAPACITY = "DatabaseMaxCapacity"
DATABASE_AUTO_PAUSE_SECONDS = "DatabaseAutoPauseSeconds"
DATABASE_BACKUP_RETENTION_DAYS = "DatabaseBackupRetentionDays"
DATABASE_DELETION_PROTECTION = "DatabaseDeletionProtection"
ARTIFACT_PREFIX = "ArtifactPrefix"
ARTIFACT_NONCURRENT_VERSION_DAYS = "ArtifactNoncurrentVersionDays"
LOG_RETENTION_DAYS = "LogRetentionDays"
# Own artifact root
ARTIFACT_BUCKET_NAME = "ArtifactBucketName"
ARTIFACT_BUCKET_KMS_KEY_ARN = "ArtifactBucketKmsKeyArn"
ARTIFACT_READ_ONLY_BUCKET_ARNS = "ArtifactReadOnlyBucketArns"
# Login on the load balancer
AUTH_MODE = "AuthMode"
COGNITO_USER_POOL_ARN = "CognitoUserPoolArn"
COGNITO_USER_POOL_CLIENT_ID = "CognitoUserPoolClientId"
COGNITO_USER_POOL_DOMAIN = "CognitoUserPoolDomain"
OIDC_ISSUER = "OidcIssuer"
OIDC_AUTHORIZATION_ENDPOINT = "OidcAuthorizationEndpoint"
OIDC_TOKEN_ENDPOINT = "OidcTokenEndpoint"
OIDC_USER_INFO_ENDPOINT = "OidcUserInfoEndpoint"
OIDC_JWKS_ENDPOINT = "OidcJwksEndpoint"
OIDC_CLIENT_ID = "OidcClientId"
OIDC_CLIENT_SECRET_ARN = "OidcClientSecretArn"
OIDC_TOKEN_AUDIENCE = "OidcTokenAudience"
# Sidecar
SIDECAR_IMAGE = "SidecarImage"
SIDECAR_NAME = "SidecarName"
SIDECAR_ENVIRONMENT = "SidecarEnvironment"
SIDECAR_SECRET_ARN = "SidecarSecretArn"
SIDECAR_SECRET_VARIABLE = "SidecarSecretVariable"
SIDECAR_CPU = "SidecarCpu"
SIDECAR_MEMORY = "SidecarMemory"
DATADOG_API_KEY_SECRET_ARN = "DatadogApiKeySecretArn"
DATADOG_SITE = "DatadogSite"
# Autoscaling
MIN_TASKS = "MinTasks"
MAX_TASKS = "MaxTasks"
SCALING_METRIC = "ScalingMetric"
SCALING_TARGET = "ScalingTarget"
SCHEDULE_TIMEZONE = "ScheduleTimezone"
SCALE_UP_SCHEDULE = "ScaleUpSchedule"
SCALE_DOWN_SCHEDULE = "ScaleDownSchedule"
SCALE_DOWN_TASKS = "ScaleDownTasks"
# Database engine and availability
DATABASE_ENGINE = "DatabaseEngine"
DATABASE_HIGH_AVAILABILITY = "DatabaseHighAvailability"
# Custom domain
HOSTED_ZONE_ID = "HostedZoneId"

# --- Conditions -------------------------------------------------------------------------------
HAS_CERTIFICATE = "HasCertificate"
HAS_DOMAIN_NAME = "HasDomainName"
USE_ELB_LOG_DELIVERY_ACCOUNT = "UseElbLogDeliveryAccount"
CREATE_ARTIFACT_BUCKET = "CreateArtifactBucket"
USE_ARTIFACT_BUCKET_KMS_KEY = "UseArtifactBucketKmsKey"
HAS_READ_ONLY_BUCKETS = "HasReadOnlyArtifactBuckets"
USE_AUTH = "UseAuth"
USE_COGNITO_AUTH = "UseCognitoAuth"
CREATE_COGNITO_USER_POOL = "CreateCognitoUserPool"
HAS_SIDECAR = "HasSidecar"
HAS_SIDECAR_SECRET = "HasSidecarSecret"
ENABLE_AUTOSCALING = "EnableAutoscaling"
USE_REQUEST_COUNT_SCALING = "UseRequestCountScaling"
ENABLE_SCHEDULE = "EnableSchedule"
USE_SCALABLE_TARGET = "UseScalableTarget"
USE_MYSQL = "UseMysql"
ENABLE_DATABASE_HIGH_AVAILABILITY = "EnableDatabaseHighAvailability"
CREATE_DNS_RECORD = "CreateDnsRecord"


def has_sidecar_variable(slot: int) -> str:
    """Condition: the sidecar environment list has an entry at ``slot`` (0-based)."""
    return f"HasSidecarEnvironment{slot + 1}"


def has_ingress_cidr(slot: int) -> str:
    """Condition: the ingress CIDR list has an entry at ``slot`` (0-based)."""
    return f"HasLoadBalancerIngressCidr{slot + 1}"


def has_https_ingress_cidr(slot: int) -> str:
    """Condition: a certificate is set and the ingress CIDR list has an entry at ``slot``."""
    return f"HasHttpsLoadBalancerIngressCidr{slot + 1}"


# --- Rules ------------------------------------------------------------------------------------
RULE_INTERNET_FACING_NEEDS_CERTIFICATE = "InternetFacingNeedsCertificate"
RULE_INTERNET_FACING_NEEDS_ALLOW_LIST = "InternetFacingNeedsAllowList"
RULE_AUTH_NEEDS_CERTIFICATE = "AuthNeedsCertificate"
RULE_OIDC_NEEDS_ENDPOINTS = "OidcNeedsEndpoints"
RULE_EXISTING_COGNITO_POOL_IS_COMPLETE = "ExistingCognitoUserPoolIsComplete"
RULE_ARTIFACT_KEY_NEEDS_OWN_BUCKET = "ArtifactKmsKeyNeedsOwnBucket"
RULE_SCALE_UP_NEEDS_SCALE_DOWN = "ScaleUpScheduleNeedsScaleDown"
RULE_SCALE_DOWN_NEEDS_SCALE_UP = "ScaleDownScheduleNeedsScaleUp"
RULE_HOSTED_ZONE_NEEDS_DOMAIN = "HostedZoneNeedsDomainName"
RULE_SIDECAR_NEEDS_MEMORY = "SidecarNeedsTaskMemory"
RULE_SIDECAR_SECRET_NEEDS_VARIABLE = "SidecarSecretNeedsVariable"


def rule_task_size(cpu: str) -> str:
    """Rule: the memory sizes Fargate allows for one CPU size."""
    return f"TaskMemoryFitsCpu{cpu}"


# --- Mappings ---------------------------------------------------------------------------------
MAP_WORKERS = "WorkersByTaskCpu"
MAP_ELB_LOG_DELIVERY = "ElbLogDeliveryAccounts"
MAP_DATABASE_ENGINES = "DatabaseEngines"

# --- Resources: keys --------------------------------------------------------------------------
ARTIFACT_KEY = "ArtifactKey"
ARTIFACT_KEY_ALIAS = "ArtifactKeyAlias"
DATABASE_KEY = "DatabaseKey"
DATABASE_KEY_ALIAS = "DatabaseKeyAlias"
LOGS_KEY = "LogsKey"
LOGS_KEY_ALIAS = "LogsKeyAlias"

# --- Resources: storage -----------------------------------------------------------------------
LOG_BUCKET = "LogBucket"
LOG_BUCKET_POLICY = "LogBucketPolicy"
ARTIFACT_BUCKET = "ArtifactBucket"
ARTIFACT_BUCKET_POLICY = "ArtifactBucketPolicy"

# --- Resources: network -----------------------------------------------------------------------
LOAD_BALANCER_SECURITY_GROUP = "LoadBalancerSecurityGroup"
SERVICE_SECURITY_GROUP = "ServiceSecurityGroup"
DATABASE_SECURITY_GROUP = "DatabaseSecurityGroup"
LOAD_BALANCER_TO_SERVICE_EGRESS = "LoadBalancerToServiceEgress"
SERVICE_FROM_LOAD_BALANCER_INGRESS = "ServiceFromLoadBalancerIngress"
SERVICE_TO_DATABASE_EGRESS = "ServiceToDatabaseEgress"
DATABASE_FROM_SERVICE_INGRESS = "DatabaseFromServiceIngress"


def load_balancer_http_ingress(slot: int) -> str:
    """Logical ID of the port-80 ingress rule for one CIDR slot."""
    return f"LoadBalancerHttpIngress{slot + 1}"


def load_balancer_https_ingress(slot: int) -> str:
    """Logical ID of the port-443 ingress rule for one CIDR slot."""
    return f"LoadBalancerHttpsIngress{slot + 1}"


# --- Resources: database ----------------------------------------------------------------------
DATABASE_SUBNET_GROUP = "DatabaseSubnetGroup"
DATABASE_CLUSTER_PARAMETER_GROUP = "DatabaseClusterParameterGroup"
DATABASE_CLUSTER = "DatabaseCluster"
DATABASE_WRITER = "DatabaseWriter"
DATABASE_MONITORING_ROLE = "DatabaseMonitoringRole"
DATABASE_READER = "DatabaseReader"

# --- Resources: load balancer -----------------------------------------------------------------
LOAD_BALANCER = "LoadBalancer"
TARGET_GROUP = "TargetGroup"
HTTP_LISTENER = "HttpListener"
HTTPS_LISTENER = "HttpsListener"
LISTENERS_READY = "ListenersReady"
LOAD_BALANCER_TO_IDENTITY_PROVIDER_EGRESS = "LoadBalancerToIdentityProviderEgress"
BEARER_TOKEN_RULE = "BearerTokenListenerRule"
DNS_RECORD = "DnsRecord"

# --- Resources: login -------------------------------------------------------------------------
COGNITO_USER_POOL = "CognitoUserPool"
COGNITO_USER_POOL_DOMAIN_RESOURCE = "CognitoUserPoolDomainResource"
COGNITO_BROWSER_CLIENT = "CognitoBrowserClient"
COGNITO_RESOURCE_SERVER = "CognitoResourceServer"
COGNITO_MACHINE_CLIENT = "CognitoMachineClient"

# --- Resources: rotation ----------------------------------------------------------------------
ROTATION_RULE = "DatabaseSecretRotationRule"
ROTATION_REDEPLOY = "RotationRedeployStateMachine"
ROTATION_REDEPLOY_ROLE = "RotationRedeployRole"
ROTATION_EVENTS_ROLE = "RotationEventsRole"

# --- Resources: scaling -----------------------------------------------------------------------
SCALABLE_TARGET = "ScalableTarget"
SCALING_POLICY = "ScalingPolicy"

# --- Resources: service -----------------------------------------------------------------------
LOG_GROUP = "LogGroup"
ECS_CLUSTER = "EcsCluster"
TASK_EXECUTION_ROLE = "TaskExecutionRole"
TASK_ROLE = "TaskRole"
TASK_DEFINITION = "TaskDefinition"
SERVICE = "Service"

# --- Outputs ----------------------------------------------------------------------------------
OUT_TRACKING_URI = "TrackingUri"
OUT_LOAD_BALANCER_DNS_NAME = "LoadBalancerDnsName"
OUT_ARTIFACT_BUCKET_NAME = "ArtifactBucketName"
OUT_ARTIFACT_ROOT = "ArtifactRoot"
OUT_DATABASE_ENDPOINT = "DatabaseEndpoint"
OUT_DATABASE_SECRET_ARN = "DatabaseSecretArn"
OUT_CLUSTER_NAME = "ClusterName"
OUT_SERVICE_NAME = "ServiceName"
OUT_TASK_ROLE_ARN = "TaskRoleArn"
OUT_COGNITO_USER_POOL_ID = "CognitoUserPoolId"
OUT_COGNITO_TOKEN_URL = "CognitoTokenUrl"
OUT_COGNITO_MACHINE_CLIENT_ID = "CognitoMachineClientId"
OUT_TOKEN_SCOPE = "TokenScope"

# --- Container --------------------------------------------------------------------------------
MLFLOW_CONTAINER = "mlflow"
DATADOG_CONTAINER = "datadog-agent"
