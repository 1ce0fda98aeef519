"""The CloudFormation Parameters: one ordered table with type, default, constraint, label and group.

The console/Service Catalog interface metadata is generated from this table, never hand-kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Parameter, Template

from mlflow_cfn import names
from mlflow_cfn.options import StackOptions
from mlflow_cfn.versions import DEFAULT_MLFLOW_IMAGE

GROUP_NETWORK = "Network"
GROUP_LOAD_BALANCER = "Load balancer"
GROUP_SERVICE = "MLflow service"
GROUP_DATABASE = "Database (Aurora Serverless v2)"
GROUP_ARTIFACTS = "Artifact store (S3)"
GROUP_LOGGING = "Logging"
GROUPS = (
    GROUP_NETWORK,
    GROUP_LOAD_BALANCER,
    GROUP_SERVICE,
    GROUP_DATABASE,
    GROUP_ARTIFACTS,
    GROUP_LOGGING,
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
            "Memory per task in MiB; Fargate allows only some sizes per CPU value.",
            "Task memory (MiB)",
            GROUP_SERVICE,
            default="1024",
            allowed_values=TASK_MEMORY_VALUES,
            constraint_description=(
                f"{names.TASK_MEMORY} must be one of {', '.join(TASK_MEMORY_VALUES)}."
            ),
        ),
        ParameterSpec(
            names.DESIRED_COUNT,
            "Number",
            "How many MLflow tasks run. 0 stops the service (and lets the database pause).",
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
