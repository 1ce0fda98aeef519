"""The CloudFormation Parameters: one ordered table with type, default, constraint, label and group.

The console/Service Catalog interface metadata is generated from this table, never hand-kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Parameter, Template

from mlflow_cfn.stack import names
from mlflow_cfn.stack.engines import DEFAULT_ENGINE, ENGINES
from mlflow_cfn.stack.options import StackOptions
from mlflow_cfn.versions import DEFAULT_MLFLOW_IMAGE

GROUP_NETWORK = "Network"
GROUP_LOAD_BALANCER = "Load balancer"
GROUP_SERVICE = "MLflow service"
GROUP_DATABASE = "Database (Aurora Serverless v2)"
GROUP_ARTIFACTS = "Artifact store (S3)"
GROUP_LOGIN = "Login (Cognito or OIDC on the load balancer)"
GROUP_SIDECAR = "Sidecar container"
GROUP_SCALING = "Autoscaling and working-hours schedule"
GROUP_LOGGING = "Logging"
GROUPS = (
    GROUP_NETWORK,
    GROUP_LOAD_BALANCER,
    GROUP_LOGIN,
    GROUP_SERVICE,
    GROUP_SCALING,
    GROUP_SIDECAR,
    GROUP_DATABASE,
    GROUP_ARTIFACTS,
    GROUP_LOGGING,
)

_BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
_BUCKET_ARN = rf"arn:aws[a-z-]*:s3:::{_BUCKET}"
_SECRET_ARN = r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@!-]+"
_HTTPS_URL = r"https://[^\s]{1,248}"
_IMAGE = r"[a-z0-9][a-z0-9._/:@-]{0,254}"
_CRON = r"cron\([^)]{1,120}\)"
_ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,127}"
DATADOG_SITES = (
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "ddog-gov.com",
)
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4_CIDR_PATTERN = rf"{_OCTET}(\.{_OCTET}){{3}}/(3[0-2]|[12]?[0-9])"

#: Fargate's CPU units -> the task memory sizes (MiB) it allows, restricted to sizes where the
#: server has room (the smallest, 512 MiB, does not leave enough beside one worker).
FARGATE_MEMORY_BY_CPU: dict[str, tuple[str, ...]] = {
    "256": ("1024", "2048"),
    "512": ("1024", "2048", "3072", "4096"),
    "1024": ("2048", "3072", "4096", "5120", "6144", "7168", "8192"),
    "2048": ("4096", "5120", "6144", "7168", "8192", "16384"),
    "4096": ("8192", "16384", "30720"),
}
TASK_MEMORY_VALUES = tuple(
    sorted({m for sizes in FARGATE_MEMORY_BY_CPU.values() for m in sizes}, key=int)
)
LOG_RETENTION_VALUES = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
DATABASE_MIN_CAPACITY_VALUES = (0, 0.5, 1, 2, 4, 8, 16, 32, 64)
DATABASE_MAX_CAPACITY_VALUES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


@dataclass(frozen=True)
class ParameterSpec:
    """One CloudFormation Parameter with its console label and group."""

    name: str
    type: str
    description: str
    label: str
    group: str
    default: str | int | float | None = None
    allowed_values: tuple = ()
    allowed_pattern: str | None = None
    constraint_description: str | None = None
    min_value: int | None = None
    max_value: int | None = None
    max_length: int | None = None

    def to_parameter(self) -> Parameter:
        """The troposphere Parameter for this spec."""
        kwargs: dict = {"Type": self.type, "Description": self.description}
        optional = {
            "Default": self.default,
            "AllowedValues": list(self.allowed_values) or None,
            "AllowedPattern": self.allowed_pattern,
            "ConstraintDescription": self.constraint_description,
            "MinValue": self.min_value,
            "MaxValue": self.max_value,
            "MaxLength": self.max_length,
        }
        kwargs.update({k: v for k, v in optional.items() if v is not None})
        return Parameter(self.name, **kwargs)


def _bool(name: str, description: str, label: str, group: str, default: str) -> ParameterSpec:
    return ParameterSpec(
        name,
        "String",
        description,
        label,
        group,
        default=default,
        allowed_values=("true", "false"),
        constraint_description=f"{name} must be true or false.",
    )


def _optional(
    name: str, description: str, label: str, group: str, pattern: str, example: str
) -> ParameterSpec:
    """A String Parameter that is empty (feature off) or matches ``pattern``."""
    return ParameterSpec(
        name,
        "String",
        description,
        label,
        group,
        default="",
        allowed_pattern=f"^$|^{pattern}$",
        constraint_description=f"{name} must be empty or look like {example}.",
    )


def _count(
    name: str, description: str, label: str, group: str, default: int, low: int, high: int
) -> ParameterSpec:
    """A whole-number Parameter from ``low`` to ``high``."""
    return ParameterSpec(
        name,
        "Number",
        description,
        label,
        group,
        default=default,
        min_value=low,
        max_value=high,
        constraint_description=f"{name} must be a whole number from {low} to {high}.",
    )


def _choice(
    name: str, description: str, label: str, group: str, default: str, values: tuple[str, ...]
) -> ParameterSpec:
    """A String Parameter limited to ``values``."""
    return ParameterSpec(
        name,
        "String",
        description,
        label,
        group,
        default=default,
        allowed_values=values,
        constraint_description=f"{name} must be one of {', '.join(values)}.",
    )


def parameter_specs(options: StackOptions) -> list[ParameterSpec]:
    """Every Parameter of the template, in console order."""
    slots = options.ingress_cidr_slots
    return [
        ParameterSpec(
            names.VPC_ID,
            "AWS::EC2::VPC::Id",
            "The VPC the load balancer, the service and the database run in.",
            "VPC",
            GROUP_NETWORK,
        ),
        ParameterSpec(
            names.LOAD_BALANCER_SUBNET_IDS,
            "List<AWS::EC2::Subnet::Id>",
            "Subnets for the load balancer, in at least two Availability Zones: private subnets "
            "for an internal load balancer, public ones for an internet-facing one.",
            "Load balancer subnets",
            GROUP_NETWORK,
        ),
        ParameterSpec(
            names.SERVICE_SUBNET_IDS,
            "List<AWS::EC2::Subnet::Id>",
            "Private subnets for the MLflow tasks (no public IP is assigned). They need a route to "
            "S3, Secrets Manager, CloudWatch Logs and the image registry (NAT or VPC endpoints).",
            "Service subnets",
            GROUP_NETWORK,
        ),
        ParameterSpec(
            names.DATABASE_SUBNET_IDS,
            "List<AWS::EC2::Subnet::Id>",
            "Private subnets for the database, in at least two Availability Zones.",
            "Database subnets",
            GROUP_NETWORK,
        ),
        ParameterSpec(
            names.LOAD_BALANCER_INGRESS_CIDRS,
            "String",
            f"Comma-separated IPv4 CIDRs (up to {slots}, no spaces) allowed to reach the load "
            "balancer, e.g. 10.0.0.0/8,192.168.0.0/16.",
            "Allowed client CIDRs",
            GROUP_LOAD_BALANCER,
            allowed_pattern=rf"^{IPV4_CIDR_PATTERN}(,{IPV4_CIDR_PATTERN}){{0,{slots - 1}}}$",
            constraint_description=(
                f"{names.LOAD_BALANCER_INGRESS_CIDRS} must be 1 to {slots} IPv4 CIDRs such as "
                "10.0.0.0/8, separated by commas without spaces."
            ),
        ),
        ParameterSpec(
            names.LOAD_BALANCER_SCHEME,
            "String",
            "internal (reachable only inside your network, the default) or internet-facing "
            "(needs CertificateArn and public subnets).",
            "Load balancer scheme",
            GROUP_LOAD_BALANCER,
            default="internal",
            allowed_values=("internal", "internet-facing"),
            constraint_description=(
                f"{names.LOAD_BALANCER_SCHEME} must be internal or internet-facing."
            ),
        ),
        ParameterSpec(
            names.CERTIFICATE_ARN,
            "String",
            "ACM certificate ARN for HTTPS. Empty serves plain HTTP on port 80; when set, port "
            "443 serves HTTPS (TLS 1.3 policy) and port 80 only redirects to it.",
            "ACM certificate ARN",
            GROUP_LOAD_BALANCER,
            default="",
            allowed_pattern=r"^$|^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$",
            constraint_description=(
                f"{names.CERTIFICATE_ARN} must be empty or an ACM certificate ARN such as "
                "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-..."
            ),
        ),
        ParameterSpec(
            names.DOMAIN_NAME,
            "String",
            "The host name users reach MLflow by (e.g. mlflow.example.com), empty for none. "
            "MLflow only answers requests whose Host is this name or the load balancer's.",
            "Custom domain name",
            GROUP_LOAD_BALANCER,
            default="",
            allowed_pattern=(
                r"^$|^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$"
            ),
            constraint_description=(
                f"{names.DOMAIN_NAME} must be empty or a lower-case host name such as "
                "mlflow.example.com."
            ),
        ),
        _bool(
            names.LOAD_BALANCER_DELETION_PROTECTION,
            "Protect the load balancer from deletion (turn off before deleting the stack).",
            "Load balancer deletion protection",
            GROUP_LOAD_BALANCER,
            "false",
        ),
        ParameterSpec(
            names.MLFLOW_IMAGE,
            "String",
            "Container image of the MLflow server: an MLflow 3 '-full' image (it has the database "
            "drivers and boto3). The default is the version this template is tested with.",
            "MLflow image",
            GROUP_SERVICE,
            default=DEFAULT_MLFLOW_IMAGE,
            allowed_pattern=r"^[a-z0-9][a-z0-9._/:@-]{0,254}$",
            constraint_description=(
                f"{names.MLFLOW_IMAGE} must be an image reference such as "
                f"{DEFAULT_MLFLOW_IMAGE} (lower-case, no spaces)."
            ),
        ),
        ParameterSpec(
            names.TASK_CPU,
            "String",
            "CPU units per task (1024 = 1 vCPU). The number of server workers follows it.",
            "Task CPU units",
            GROUP_SERVICE,
            default="512",
            allowed_values=tuple(FARGATE_MEMORY_BY_CPU),
            constraint_description=(
                f"{names.TASK_CPU} must be one of {', '.join(FARGATE_MEMORY_BY_CPU)}."
            ),
        ),
        ParameterSpec(
            names.TASK_MEMORY,
            "String",
            "Memory per task in MiB; Fargate allows only some sizes per CPU value. With a "
            "sidecar, at least 2048.",
            "Task memory (MiB)",
            GROUP_SERVICE,
            default="2048" if options.sidecar else "1024",
            allowed_values=TASK_MEMORY_VALUES,
            constraint_description=(
                f"{names.TASK_MEMORY} must be one of {', '.join(TASK_MEMORY_VALUES)}."
            ),
        ),
        ParameterSpec(
            names.DESIRED_COUNT,
            "Number",
            "How many MLflow tasks run without autoscaling or a schedule (which then take over). "
            "0 stops the service (and lets the database pause).",
            "Task count",
            GROUP_SERVICE,
            default=1,
            min_value=0,
            max_value=20,
            constraint_description=f"{names.DESIRED_COUNT} must be a whole number from 0 to 20.",
        ),
        ParameterSpec(
            names.DATABASE_MIN_CAPACITY,
            "Number",
            "Minimum Aurora capacity units. 0 lets the database pause when idle (no compute cost; "
            "the first request after a pause waits about 15 seconds).",
            "Database minimum ACUs",
            GROUP_DATABASE,
            default=0,
            allowed_values=DATABASE_MIN_CAPACITY_VALUES,
            constraint_description=(
                f"{names.DATABASE_MIN_CAPACITY} must be one of "
                f"{', '.join(map(str, DATABASE_MIN_CAPACITY_VALUES))}."
            ),
        ),
        ParameterSpec(
            names.DATABASE_MAX_CAPACITY,
            "Number",
            "Maximum Aurora capacity units (at least the minimum).",
            "Database maximum ACUs",
            GROUP_DATABASE,
            default=4,
            allowed_values=DATABASE_MAX_CAPACITY_VALUES,
            constraint_description=(
                f"{names.DATABASE_MAX_CAPACITY} must be one of "
                f"{', '.join(map(str, DATABASE_MAX_CAPACITY_VALUES))}."
            ),
        ),
        ParameterSpec(
            names.DATABASE_AUTO_PAUSE_SECONDS,
            "Number",
            "Idle seconds before the database pauses when its minimum capacity is 0.",
            "Database auto-pause after (seconds)",
            GROUP_DATABASE,
            default=300,
            min_value=300,
            max_value=86400,
            constraint_description=(
                f"{names.DATABASE_AUTO_PAUSE_SECONDS} must be from 300 to 86400 seconds."
            ),
        ),
        ParameterSpec(
            names.DATABASE_BACKUP_RETENTION_DAYS,
            "Number",
            "Days automated database backups are kept.",
            "Database backup retention (days)",
            GROUP_DATABASE,
            default=7,
            min_value=7,
            max_value=35,
            constraint_description=(
                f"{names.DATABASE_BACKUP_RETENTION_DAYS} must be from 7 to 35 days."
            ),
        ),
        _bool(
            names.DATABASE_DELETION_PROTECTION,
            "Protect the database cluster from deletion. Leave on; turn off only to tear the "
            "stack down (a final snapshot is taken either way).",
            "Database deletion protection",
            GROUP_DATABASE,
            "true",
        ),
        ParameterSpec(
            names.ARTIFACT_PREFIX,
            "String",
            "Key prefix in the artifact bucket under which the server stores artifacts.",
            "Artifact prefix",
            GROUP_ARTIFACTS,
            default="artifacts",
            allowed_pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$",
            max_length=200,
            constraint_description=(
                f"{names.ARTIFACT_PREFIX} must be path segments of letters, digits, '.', '_' or "
                "'-' separated by single '/', without a leading or trailing '/' (e.g. "
                "teams/ml/artifacts)."
            ),
        ),
        ParameterSpec(
            names.ARTIFACT_NONCURRENT_VERSION_DAYS,
            "Number",
            "Days an overwritten or deleted artifact stays recoverable as a noncurrent version.",
            "Keep noncurrent artifact versions (days)",
            GROUP_ARTIFACTS,
            default=30,
            min_value=1,
            max_value=3650,
            constraint_description=(
                f"{names.ARTIFACT_NONCURRENT_VERSION_DAYS} must be from 1 to 3650 days."
            ),
        ),
        ParameterSpec(
            names.LOG_RETENTION_DAYS,
            "Number",
            "Days the server logs (CloudWatch) and access logs (S3) are kept.",
            "Log retention (days)",
            GROUP_LOGGING,
            default=365,
            allowed_values=LOG_RETENTION_VALUES,
            constraint_description=(
                f"{names.LOG_RETENTION_DAYS} must be one of CloudWatch's retention periods: "
                f"{', '.join(map(str, LOG_RETENTION_VALUES))}."
            ),
        ),
        *_own_artifact_root_specs(),
        *_login_specs(),
        *_scaling_specs(),
        *_sidecar_specs(options),
        *_database_mode_specs(),
        _optional(
            names.HOSTED_ZONE_ID,
            "Route 53 hosted zone of DomainName: when set, the stack creates an alias record "
            "for the domain pointing at the load balancer. Empty: manage DNS yourself.",
            "Route 53 hosted zone ID",
            GROUP_LOAD_BALANCER,
            r"Z[A-Z0-9]{1,32}",
            "Z0123456789ABCDEFGHIJ",
        ),
    ]


def _own_artifact_root_specs() -> list[ParameterSpec]:
    return [
        _optional(
            names.ARTIFACT_BUCKET_NAME,
            "Your own S3 bucket for artifacts (under ArtifactPrefix). Empty: the stack creates "
            "an encrypted, versioned bucket. With your bucket the task may read and write only "
            "under the prefix.",
            "Own artifact bucket name",
            GROUP_ARTIFACTS,
            _BUCKET,
            "my-team-mlflow-artifacts",
        ),
        _optional(
            names.ARTIFACT_BUCKET_KMS_KEY_ARN,
            "KMS key ARN your bucket encrypts with (SSE-KMS); empty for SSE-S3. The task may use "
            "only this key, and only through S3.",
            "Own artifact bucket KMS key ARN",
            GROUP_ARTIFACTS,
            r"arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+",
            "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        ),
        _optional(
            names.ARTIFACT_READ_ONLY_BUCKET_ARNS,
            "Comma-separated ARNs of more buckets the server may read (never write), e.g. "
            "datasets referenced by runs. Their objects must use SSE-S3, or their KMS key "
            "policy must allow the task role.",
            "Read-only bucket ARNs",
            GROUP_ARTIFACTS,
            f"{_BUCKET_ARN}(,{_BUCKET_ARN}){{0,9}}",
            "arn:aws:s3:::datasets,arn:aws:s3:::models (up to 10, no spaces)",
        ),
    ]


def _login_specs() -> list[ParameterSpec]:
    return [
        _choice(
            names.AUTH_MODE,
            "Login in front of MLflow: none, cognito (a user pool the stack creates, or yours) "
            "or oidc (your identity provider). Needs CertificateArn. Programmatic clients send "
            "a bearer token (MLFLOW_TRACKING_TOKEN) that the load balancer validates.",
            "Login mode",
            GROUP_LOGIN,
            "none",
            ("none", "cognito", "oidc"),
        ),
        _optional(
            names.COGNITO_USER_POOL_ARN,
            "An existing Cognito user pool; empty creates one (with CognitoUserPoolClientId and "
            "CognitoUserPoolDomain also empty).",
            "Existing Cognito user pool ARN",
            GROUP_LOGIN,
            r"arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:[0-9]{12}:userpool/[a-z0-9-]+_[0-9A-Za-z]+",
            "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEf123",
        ),
        _optional(
            names.COGNITO_USER_POOL_CLIENT_ID,
            "App client (with a secret, authorization code flow) of the existing user pool.",
            "Existing Cognito app client ID",
            GROUP_LOGIN,
            r"[A-Za-z0-9]{1,128}",
            "1example23456789",
        ),
        _optional(
            names.COGNITO_USER_POOL_DOMAIN,
            "Domain prefix (or full custom domain) of the existing user pool.",
            "Existing Cognito user pool domain",
            GROUP_LOGIN,
            r"[a-z0-9][a-z0-9.-]{0,252}",
            "my-team-login",
        ),
        _optional(
            names.OIDC_ISSUER,
            "OIDC issuer (the iss claim of its tokens).",
            "OIDC issuer",
            GROUP_LOGIN,
            _HTTPS_URL,
            "https://login.example.com",
        ),
        _optional(
            names.OIDC_AUTHORIZATION_ENDPOINT,
            "OIDC authorization endpoint.",
            "OIDC authorization endpoint",
            GROUP_LOGIN,
            _HTTPS_URL,
            "https://login.example.com/oauth2/authorize",
        ),
        _optional(
            names.OIDC_TOKEN_ENDPOINT,
            "OIDC token endpoint.",
            "OIDC token endpoint",
            GROUP_LOGIN,
            _HTTPS_URL,
            "https://login.example.com/oauth2/token",
        ),
        _optional(
            names.OIDC_USER_INFO_ENDPOINT,
            "OIDC user info endpoint.",
            "OIDC user info endpoint",
            GROUP_LOGIN,
            _HTTPS_URL,
            "https://login.example.com/oauth2/userinfo",
        ),
        _optional(
            names.OIDC_JWKS_ENDPOINT,
            "JWKS endpoint of the provider: the load balancer checks bearer tokens of "
            "programmatic clients against it.",
            "OIDC JWKS endpoint",
            GROUP_LOGIN,
            _HTTPS_URL,
            "https://login.example.com/oauth2/keys",
        ),
        _optional(
            names.OIDC_CLIENT_ID,
            "Client ID registered with the provider for MLflow.",
            "OIDC client ID",
            GROUP_LOGIN,
            r"[^\s]{1,256}",
            "mlflow-web",
        ),
        _optional(
            names.OIDC_CLIENT_SECRET_ARN,
            "Secrets Manager secret holding the OIDC client secret as plain text (never a "
            "Parameter value): the template reads it through a dynamic reference.",
            "OIDC client secret (Secrets Manager ARN)",
            GROUP_LOGIN,
            _SECRET_ARN,
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlflow-oidc-AbCdEf",
        ),
        _optional(
            names.OIDC_TOKEN_AUDIENCE,
            "The aud claim bearer tokens must carry (the audience your provider puts in tokens "
            "issued to CI clients for MLflow), so tokens for other applications are refused.",
            "OIDC bearer token audience",
            GROUP_LOGIN,
            r"[^\s]{1,256}",
            "api://mlflow",
        ),
    ]


def _scaling_specs() -> list[ParameterSpec]:
    return [
        _count(
            names.MIN_TASKS,
            "Fewest tasks autoscaling keeps during working hours (with ScalingMetric or a "
            "schedule). 2 or more spreads tasks across Availability Zones.",
            "Minimum tasks",
            GROUP_SCALING,
            1,
            0,
            20,
        ),
        _count(
            names.MAX_TASKS,
            "Most tasks autoscaling may run.",
            "Maximum tasks",
            GROUP_SCALING,
            2,
            1,
            20,
        ),
        _choice(
            names.SCALING_METRIC,
            "Target tracking: none, cpu (average CPU % of the tasks) or requests (requests per "
            "task per minute through the load balancer).",
            "Scale on",
            GROUP_SCALING,
            "none",
            ("none", "cpu", "requests"),
        ),
        _count(
            names.SCALING_TARGET,
            "Target value: CPU percent for cpu, requests per task per minute for requests.",
            "Scaling target value",
            GROUP_SCALING,
            60,
            1,
            100000,
        ),
        ParameterSpec(
            names.SCHEDULE_TIMEZONE,
            "String",
            "IANA time zone of the schedules, e.g. Europe/Berlin.",
            "Schedule time zone",
            GROUP_SCALING,
            default="UTC",
            allowed_pattern=r"^[A-Za-z]+(/[A-Za-z0-9_+-]+){0,2}$",
            constraint_description=(
                f"{names.SCHEDULE_TIMEZONE} must be an IANA time zone such as UTC or Europe/Berlin."
            ),
        ),
        _optional(
            names.SCALE_UP_SCHEDULE,
            "When working hours start: scale to MinTasks..MaxTasks. Empty: no schedule.",
            "Scale-up schedule",
            GROUP_SCALING,
            _CRON,
            "cron(0 7 ? * MON-FRI *)",
        ),
        _optional(
            names.SCALE_DOWN_SCHEDULE,
            "When working hours end: scale to ScaleDownTasks.",
            "Scale-down schedule",
            GROUP_SCALING,
            _CRON,
            "cron(0 20 ? * MON-FRI *)",
        ),
        _count(
            names.SCALE_DOWN_TASKS,
            "Tasks outside working hours. 0 stops the server at night and on weekends (and lets "
            "the database pause).",
            "Tasks outside working hours",
            GROUP_SCALING,
            0,
            0,
            20,
        ),
    ]


def _sidecar_specs(options: StackOptions) -> list[ParameterSpec]:
    slots = options.sidecar_environment_slots
    specs = [
        _optional(
            names.SIDECAR_IMAGE,
            "Image of an extra container in every task (log shipper, proxy, agent). Empty: "
            "none. It never receives the database secret.",
            "Sidecar image",
            GROUP_SIDECAR,
            _IMAGE,
            "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
        ),
        ParameterSpec(
            names.SIDECAR_NAME,
            "String",
            "Container name of the sidecar.",
            "Sidecar name",
            GROUP_SIDECAR,
            default="sidecar",
            allowed_pattern=r"^(?!mlflow$)(?!datadog-agent$)[a-z][a-z0-9-]{0,62}$",
            constraint_description=(
                f"{names.SIDECAR_NAME} must be lower-case letters, digits and '-', start with a "
                "letter, and not be mlflow or datadog-agent."
            ),
        ),
        ParameterSpec(
            names.SIDECAR_ENVIRONMENT,
            "String",
            f"Environment of the sidecar: up to {slots} NAME=value pairs separated by commas "
            "(values without commas or '=').",
            "Sidecar environment",
            GROUP_SIDECAR,
            default="",
            allowed_pattern=rf"^$|^{_ENV_NAME}=[^,=]*(,{_ENV_NAME}=[^,=]*){{0,{slots - 1}}}$",
            constraint_description=(
                f"{names.SIDECAR_ENVIRONMENT} must be empty or 1 to {slots} NAME=value pairs "
                "separated by commas, e.g. LOG_LEVEL=info,REGION=eu-west-1."
            ),
        ),
        _optional(
            names.SIDECAR_SECRET_ARN,
            "A Secrets Manager secret given to the sidecar only (for example an API key).",
            "Sidecar secret ARN",
            GROUP_SIDECAR,
            _SECRET_ARN,
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:agent-key-AbCdEf",
        ),
        _optional(
            names.SIDECAR_SECRET_VARIABLE,
            "Environment variable name under which the sidecar receives the secret.",
            "Sidecar secret variable",
            GROUP_SIDECAR,
            _ENV_NAME,
            "API_KEY",
        ),
        _count(
            names.SIDECAR_CPU,
            "CPU units reserved for the sidecar out of TaskCpu.",
            "Sidecar CPU units",
            GROUP_SIDECAR,
            128,
            0,
            2048,
        ),
        _count(
            names.SIDECAR_MEMORY,
            "Memory (MiB) reserved for the sidecar out of TaskMemory.",
            "Sidecar memory (MiB)",
            GROUP_SIDECAR,
            256,
            64,
            4096,
        ),
    ]
    if options.sidecar == "datadog":
        specs += [
            ParameterSpec(
                names.DATADOG_API_KEY_SECRET_ARN,
                "String",
                "Secrets Manager secret holding the Datadog API key (plain text).",
                "Datadog API key secret ARN",
                GROUP_SIDECAR,
                allowed_pattern=f"^{_SECRET_ARN}$",
                constraint_description=(
                    f"{names.DATADOG_API_KEY_SECRET_ARN} must be a Secrets Manager secret ARN."
                ),
            ),
            _choice(
                names.DATADOG_SITE,
                "Datadog site the agent reports to.",
                "Datadog site",
                GROUP_SIDECAR,
                "datadoghq.com",
                DATADOG_SITES,
            ),
        ]
    return specs


def _database_mode_specs() -> list[ParameterSpec]:
    return [
        _choice(
            names.DATABASE_ENGINE,
            "aurora-postgresql or aurora-mysql. Chosen once: changing it on a running stack "
            "replaces the database (a snapshot is kept, the new database is empty).",
            "Database engine",
            GROUP_DATABASE,
            DEFAULT_ENGINE.name,
            tuple(engine.name for engine in ENGINES),
        ),
        _bool(
            names.DATABASE_HIGH_AVAILABILITY,
            "Add a reader instance that takes over if the writer's Availability Zone fails.",
            "Database high availability",
            GROUP_DATABASE,
            "false",
        ),
    ]


def add_parameters(template: Template, specs: list[ParameterSpec]) -> dict[str, Parameter]:
    """Add the Parameters and their console interface metadata; return them by name."""
    params = {spec.name: template.add_parameter(spec.to_parameter()) for spec in specs}
    template.set_metadata(
        {
            "AWS::CloudFormation::Interface": {
                "ParameterGroups": [
                    {
                        "Label": {"default": group},
                        "Parameters": [s.name for s in specs if s.group == group],
                    }
                    for group in GROUPS
                    if any(s.group == group for s in specs)
                ],
                "ParameterLabels": {s.name: {"default": s.label} for s in specs},
            }
        }
    )
    return params
