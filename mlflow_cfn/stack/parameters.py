"""How a Parameter is declared: ``ParameterSpec`` (type, default, constraint, console label and
group) and constructors for the usual kinds (true/false, optional pattern, whole number, choice),
plus the patterns several components share. Components declare their own Parameters with these
(``ctx.parameter(...)``); `mlflow_cfn.stack.template.parameter_specs` lists them all in
declaration order."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Parameter

#: An ARN's partition: ``aws`` and ``aws-<word>[-<word>]`` (aws-cn, aws-us-gov, aws-iso-b...; the
#: ids of botocore's partitions.json, tests/facts checks every one), never ``awsx`` or ``aws-``.
PARTITION = r"aws(-[a-z]{1,10}){0,2}"
BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
BUCKET_ARN = rf"arn:{PARTITION}:s3:::{BUCKET}"
#: A secret's ARN. Its name takes only what Secrets Manager lets a person name a secret with
#: (botocore's secretsmanager model, CreateSecret Name: "ASCII letters, numbers, and the following
#: characters: /_+=.@-"): never ``!``, which only secrets other services manage carry
#: (``rds!cluster-<id>``, the master password of a database), so a launcher cannot name one.
SECRET_ARN = rf"arn:{PARTITION}:secretsmanager:[a-z0-9-]+:[0-9]{{12}}:secret:[A-Za-z0-9/_+=.@-]+"
#: A complete secret ARN: the name and the 6 characters Secrets Manager appends. An IAM policy
#: naming a partial ARN (without them) matches no secret, so ECS could not read it.
SECRET_FULL_ARN = SECRET_ARN + r"-[A-Za-z0-9]{6}"
KMS_KEY_ARN = rf"arn:{PARTITION}:kms:[a-z0-9-]+:[0-9]{{12}}:key/[A-Za-z0-9-]+"
HTTPS_URL = r"https://[^\s]{1,248}"
IMAGE = r"[a-z0-9][a-z0-9._/:@-]{0,254}"
#: A cron expression as Application Auto Scaling takes it: printable characters only (its
#: ResourceIdMaxLen1600 shape refuses control characters), no parenthesis inside.
CRON = r"cron\([ -'*-~]{1,120}\)"
ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,127}"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4_CIDR_PATTERN = rf"{_OCTET}(\.{_OCTET}){{3}}/(3[0-2]|[12]?[0-9])"


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


def _string(
    name: str, description: str, label: str, group: str, constraint: str, **settings
) -> ParameterSpec:
    return ParameterSpec(
        name, "String", description, label, group, constraint_description=constraint, **settings
    )


def boolean(name: str, description: str, label: str, group: str, default: str) -> ParameterSpec:
    """A String Parameter that is true or false."""
    return _string(
        name, description, label, group, f"{name} must be true or false.",
        default=default, allowed_values=("true", "false"),
    )  # fmt: skip


def optional(
    name: str, description: str, label: str, group: str, pattern: str, example: str
) -> ParameterSpec:
    """A String Parameter that is empty (feature off) or matches ``pattern``."""
    return _string(
        name, description, label, group, f"{name} must be empty or look like {example}.",
        default="", allowed_pattern=f"^$|^{pattern}$",
    )  # fmt: skip


def choice(
    name: str, description: str, label: str, group: str, default: str, values: tuple[str, ...]
) -> ParameterSpec:
    """A String Parameter limited to ``values``."""
    return _string(
        name, description, label, group, f"{name} must be one of {', '.join(values)}.",
        default=default, allowed_values=values,
    )  # fmt: skip


def count(
    name: str, description: str, label: str, group: str, default: int, low: int, high: int
) -> ParameterSpec:
    """A whole-number Parameter from ``low`` to ``high``."""
    return ParameterSpec(
        name, "Number", description, label, group, default=default, min_value=low,
        max_value=high,
        constraint_description=f"{name} must be a whole number from {low} to {high}.",
    )  # fmt: skip
