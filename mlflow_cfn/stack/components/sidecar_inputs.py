"""The sidecar's Parameters (a generic container switched on by SidecarImage, and the Datadog
preset's when built with it), its Conditions and Rules."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import And, Equals, Not, Parameter

from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.interface import GROUP_SIDECAR
from mlflow_cfn.stack.logic import assertion, condition, given, list_item
from mlflow_cfn.stack.parameters import (
    ENV_NAME,
    IMAGE,
    KMS_KEY_ARN,
    SECRET_FULL_ARN,
    ParameterSpec,
    choice,
    count,
    optional,
)

SIDECAR_IMAGE = "SidecarImage"
SIDECAR_NAME = "SidecarName"
SIDECAR_ENVIRONMENT = "SidecarEnvironment"
SIDECAR_SECRET_ARN = "SidecarSecretArn"
SIDECAR_SECRET_VARIABLE = "SidecarSecretVariable"
SIDECAR_CPU = "SidecarCpu"
SIDECAR_MEMORY = "SidecarMemory"
SIDECAR_USER = "SidecarUser"
#: A uid or gid other than 0 (root's) and written without leading zeros (``00`` is 0 too).
#: botocore's ecs model, ContainerDefinition ``user``: "If specifying a UID or GID, you must
#: specify it as a positive integer."
NON_ROOT_ID = r"[1-9][0-9]{0,9}"
#: uid or uid:gid, neither of them 0: numeric, so no name (root) and no image's user of that name.
NON_ROOT_USER = rf"{NON_ROOT_ID}(:{NON_ROOT_ID})?"
SIDECAR_SECRET_KMS_KEY_ARN = "SidecarSecretKmsKeyArn"
DATADOG_API_KEY_SECRET_ARN = "DatadogApiKeySecretArn"
DATADOG_API_KEY_KMS_KEY_ARN = "DatadogApiKeyKmsKeyArn"
DATADOG_SITE = "DatadogSite"
HAS_SIDECAR = "HasSidecar"
HAS_SIDECAR_SECRET = "HasSidecarSecret"
HAS_SIDECAR_SECRET_KMS_KEY = "HasSidecarSecretKmsKey"
HAS_DATADOG_API_KEY_KMS_KEY = "HasDatadogApiKeyKmsKey"
RULE_SIDECAR_SECRET_NEEDS_VARIABLE = "SidecarSecretNeedsVariable"
RULE_SIDECAR_SECRET_KEY_NEEDS_SECRET = "SidecarSecretKmsKeyNeedsSecret"

_KEY_EXAMPLE = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def secret_key_spec(name: str, secret: str, label: str) -> ParameterSpec:
    """The customer-managed KMS key a launcher's secret is encrypted with (empty: the AWS
    managed key aws/secretsmanager, which needs no grant). ECS cannot read the secret without
    it; the execution role may decrypt with it only through Secrets Manager, for that secret."""
    return optional(
        name,
        f"The KMS key {secret} is encrypted with, if it is a customer-managed key (empty for "
        "the AWS managed key aws/secretsmanager). The task's execution role may decrypt with "
        "it only through Secrets Manager and only for that secret.",
        label,
        GROUP_SIDECAR,
        KMS_KEY_ARN,
        _KEY_EXAMPLE,
    )


DATADOG_SITES = (
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "ddog-gov.com",
)


def has_sidecar_variable(slot: int) -> str:
    """Condition: the sidecar environment list has an entry at ``slot`` (0-based)."""
    return f"HasSidecarEnvironment{slot + 1}"


@dataclass(frozen=True)
class SidecarInputs:
    """The sidecar Parameters by name."""

    parameters: dict[str, Parameter]

    def __getitem__(self, name: str) -> Parameter:
        return self.parameters[name]


def _container_specs(slots: int) -> list[ParameterSpec]:
    return [
        optional(
            SIDECAR_IMAGE,
            "Image of an extra container in every task (log shipper, proxy, agent). Empty: "
            "none. It never receives the database secret.",
            "Sidecar image",
            GROUP_SIDECAR,
            IMAGE,
            "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
        ),
        ParameterSpec(
            SIDECAR_NAME,
            "String",
            "Container name of the sidecar.",
            "Sidecar name",
            GROUP_SIDECAR,
            default="sidecar",
            allowed_pattern=r"^(?!mlflow$)(?!datadog-agent$)[a-z][a-z0-9-]{0,62}$",
            constraint_description=(
                f"{SIDECAR_NAME} must be lower-case letters, digits and '-', start with a "
                "letter, and not be mlflow or datadog-agent."
            ),
        ),
        ParameterSpec(
            SIDECAR_ENVIRONMENT,
            "String",
            f"Environment of the sidecar: up to {slots} NAME=value pairs separated by commas "
            "(values without commas or '=').",
            "Sidecar environment",
            GROUP_SIDECAR,
            default="",
            allowed_pattern=rf"^$|^{ENV_NAME}=[^,=]*(,{ENV_NAME}=[^,=]*){{0,{slots - 1}}}$",
            constraint_description=(
                f"{SIDECAR_ENVIRONMENT} must be empty or 1 to {slots} NAME=value pairs "
                "separated by commas, e.g. LOG_LEVEL=info,REGION=eu-west-1."
            ),
        ),
    ]


def _secret_and_size_specs() -> list[ParameterSpec]:
    return [
        optional(
            SIDECAR_SECRET_ARN,
            "A Secrets Manager secret given to the sidecar only (for example an API key): its "
            "complete ARN. It may be encrypted with any KMS key whose policy lets this account "
            "use it.",
            "Sidecar secret ARN",
            GROUP_SIDECAR,
            SECRET_FULL_ARN,
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:agent-key-AbCdEf",
        ),
        optional(
            SIDECAR_SECRET_VARIABLE,
            "Environment variable name under which the sidecar receives the secret.",
            "Sidecar secret variable",
            GROUP_SIDECAR,
            ENV_NAME,
            "API_KEY",
        ),
        secret_key_spec(SIDECAR_SECRET_KMS_KEY_ARN, SIDECAR_SECRET_ARN, "Sidecar secret KMS key"),
        ParameterSpec(
            SIDECAR_USER,
            "String",
            "User the sidecar runs as: numeric uid or uid:gid, never root's (0) as user or "
            "group. It writes only to its /tmp volume (its root file system is read-only).",
            "Sidecar user (uid:gid)",
            GROUP_SIDECAR,
            default="1000:1000",
            allowed_pattern=f"^{NON_ROOT_USER}$",
            constraint_description=(
                f"{SIDECAR_USER} must be a numeric uid or uid:gid, neither of them 0 (root), "
                "e.g. 1000:1000."
            ),
        ),
        count(
            SIDECAR_CPU,
            "CPU units reserved for the sidecar out of TaskCpu.",
            "Sidecar CPU units",
            GROUP_SIDECAR,
            128,
            0,
            2048,
        ),
        count(
            SIDECAR_MEMORY,
            "Memory (MiB) reserved for the sidecar out of TaskMemory.",
            "Sidecar memory (MiB)",
            GROUP_SIDECAR,
            256,
            64,
            4096,
        ),
    ]


def _datadog_specs() -> list[ParameterSpec]:
    return [
        ParameterSpec(
            DATADOG_API_KEY_SECRET_ARN,
            "String",
            "Secrets Manager secret holding the Datadog API key (plain text).",
            "Datadog API key secret ARN",
            GROUP_SIDECAR,
            allowed_pattern=f"^{SECRET_FULL_ARN}$",
            constraint_description=(
                f"{DATADOG_API_KEY_SECRET_ARN} must be the complete ARN of a Secrets Manager "
                "secret, with the 6 characters Secrets Manager appends to its name "
                "(arn:aws:secretsmanager:eu-west-1:123456789012:secret:datadog-AbCdEf)."
            ),
        ),
        secret_key_spec(
            DATADOG_API_KEY_KMS_KEY_ARN, DATADOG_API_KEY_SECRET_ARN, "Datadog API key KMS key"
        ),
        choice(
            DATADOG_SITE,
            "Datadog site the agent reports to.",
            "Datadog site",
            GROUP_SIDECAR,
            "datadoghq.com",
            DATADOG_SITES,
        ),
    ]


def sidecar_variable(ctx: Context, inputs: SidecarInputs, slot: int) -> object:
    """The NAME=value pair at ``slot`` of SidecarEnvironment, or "" past its end."""
    return list_item(inputs[SIDECAR_ENVIRONMENT], ctx.options.sidecar_environment_slots, slot)


def declare_sidecar_inputs(ctx: Context) -> SidecarInputs:
    """Declare the sidecar Parameters, Conditions and Rules."""
    specs = _container_specs(ctx.options.sidecar_environment_slots) + _secret_and_size_specs()
    if ctx.options.sidecar == "datadog":
        specs += _datadog_specs()
    inputs = SidecarInputs({spec.name: ctx.parameter(spec) for spec in specs})
    image, secret = inputs[SIDECAR_IMAGE], inputs[SIDECAR_SECRET_ARN]
    ctx.condition(HAS_SIDECAR, given(image))
    ctx.condition(HAS_SIDECAR_SECRET, And(condition(HAS_SIDECAR), given(secret)))
    secret_key = inputs[SIDECAR_SECRET_KMS_KEY_ARN]
    ctx.condition(HAS_SIDECAR_SECRET_KMS_KEY, And(condition(HAS_SIDECAR_SECRET), given(secret_key)))
    if ctx.options.sidecar == "datadog":
        ctx.condition(HAS_DATADOG_API_KEY_KMS_KEY, given(inputs[DATADOG_API_KEY_KMS_KEY_ARN]))
    ctx.rule(
        RULE_SIDECAR_SECRET_KEY_NEEDS_SECRET,
        [
            assertion(
                given(secret),
                f"{SIDECAR_SECRET_KMS_KEY_ARN} needs {SIDECAR_SECRET_ARN}: the key is for "
                "decrypting that secret.",
            )
        ],
        when=given(secret_key),
    )
    for slot in range(ctx.options.sidecar_environment_slots):
        ctx.condition(
            has_sidecar_variable(slot), Not(Equals(sidecar_variable(ctx, inputs, slot), ""))
        )
    ctx.rule(
        RULE_SIDECAR_SECRET_NEEDS_VARIABLE,
        [
            assertion(
                given(inputs[SIDECAR_SECRET_VARIABLE]),
                f"{SIDECAR_SECRET_ARN} needs {SIDECAR_SECRET_VARIABLE}: the name the sidecar "
                "reads the secret from.",
            ),
            assertion(
                given(image),
                f"{SIDECAR_SECRET_ARN} needs {SIDECAR_IMAGE}: there is no sidecar to give it to.",
            ),
        ],
        when=given(secret),
    )
    return inputs
