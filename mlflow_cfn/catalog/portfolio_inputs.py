"""The portfolio template's Parameters (with their console form), among them the allow-lists (what
launchers may point the product at), their Conditions, and the two ways the portfolio uses them:
as the text of the template constraint's Rules (`TemplateRuleValues`) and as the ARNs of the
launch role's and the boundary's statements (`AllowListInputs.arns`).

Each list is one comma-separated String Parameter whose AllowedPattern admits no quote, backslash
or IAM wildcard, so an entry can neither break the Rules' JSON nor widen an ARN. Fn::Join takes only
a literal delimiter, so where an ARN must be built around each entry the delimiter is an ARN prefix
without pseudo parameters: ``arn:*:`` for the partition of global ARNs (a request only ever names
its own partition), and secrets are listed as whole ARN prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from troposphere import Equals, If, Join, Not, Ref, Split, Template

from mlflow_cfn.catalog.allow_lists import (
    ENTRY_PATTERNS,
    EXPOSURES,
    AllowLists,
    Guard,
    RuleValues,
)
from mlflow_cfn.stack.parameters import ParameterSpec
from mlflow_cfn.versions import DEFAULT_MLFLOW_IMAGE, __version__

# --- Parameter names: public API (never renamed once released) -------------------------------
PORTFOLIO_NAME = "PortfolioName"
PORTFOLIO_PROVIDER_NAME = "PortfolioProviderName"
PRINCIPAL_ARN = "PrincipalArn"
PRODUCT_NAME = "ProductName"
PRODUCT_OWNER = "ProductOwner"
PRODUCT_VERSION_NAME = "ProductVersionName"
PRODUCT_TEMPLATE_URL = "ProductTemplateUrl"

#: An https URL of an S3 object, virtual-hosted or path style.
PRODUCT_TEMPLATE_URL_PATTERN = (
    r"^https://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\.)?s3([.-][a-z0-9-]+)*\.amazonaws\.com(\.cn)?/\S+$"
)

GROUP_PORTFOLIO = "Portfolio"
GROUP_PRODUCT = "Product"
GROUP_ALLOWED = "Allowed to launchers"

#: AllowLists field -> (Parameter, console label, what an entry is, an example).
ALLOW_LIST_PARAMETERS: dict[str, tuple[str, str, str, str]] = {
    "secret_prefixes": (
        "AllowedSecretArnPrefixes",
        "Secret ARN prefixes",
        "Secrets Manager ARN prefixes (into the secret name, ending with / or -; never ecr-) whose "
        "secrets launchers may use as OidcClientSecretArn, SidecarSecretArn or "
        "DatadogApiKeySecretArn: the launch role and the product's roles may read only those",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlflow/",
    ),
    "image_cache_secret_prefixes": (
        "AllowedImageCacheSecretArnPrefixes",
        "Image cache credentials",
        "Secrets Manager ARN prefixes (starting with secret:ecr-pullthroughcache/) whose secrets "
        "launchers of the network product may give as ImageCacheCredentialsSecretArn: its launch "
        "role reads only those, and the MLflow product none of them",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/",
    ),
    "buckets": (
        "AllowedBucketNames",
        "S3 buckets",
        "Existing S3 buckets launchers may store artifacts in (ArtifactBucketName), each stack "
        "under its own UUID (ArtifactPrefixPerStack=true), never read whole",
        "team-ml-artifacts",
    ),
    "read_only_buckets": (
        "AllowedReadOnlyBucketNames",
        "Read-only S3 buckets",
        "Existing S3 buckets launchers may name (one of them) as ArtifactReadOnlyBucketArns: the "
        "product's roles may read them and never write; not in AllowedBucketNames too",
        "team-datasets",
    ),
    "kms_keys": (
        "AllowedKmsKeyArns",
        "KMS keys",
        "KMS key ARNs launchers may name as ArtifactBucketKmsKeyArn, SidecarSecretKmsKeyArn or "
        "DatadogApiKeyKmsKeyArn",
        "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ),
    "hosted_zones": (
        "AllowedHostedZoneIds",
        "Hosted zones",
        "Route 53 hosted zones launchers may add the server's DNS record to (HostedZoneId)",
        "Z0123456789ABCDEFGHIJ",
    ),
    "images": (
        "AllowedImages",
        "Container images",
        "Container images launchers may run as MlflowImage or SidecarImage, exact references "
        "with a tag (whoever may push to the repository can move it) or, better, a sha256 digest "
        "(one image for good)",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlflow@sha256:<64 hex digits>",
    ),
}

#: The most characters of each allow-list: once resolved, its ARNs must still fit the permissions
#: boundary (one managed policy, 6,144 characters) and the launch role's policies (each
#: allow-listed statement reserves ALLOW_LISTED_STATEMENT_RESERVE); tests/publish checks both with
#: the shortest entries at these lengths. About 8 secret prefixes, 4 buckets and 3 read-only
#: buckets of 20 characters: a short bucket name costs the boundary two ARNs (objects, listing).
ALLOW_LIST_MAX_LENGTH: dict[str, int] = {
    "secret_prefixes": 512,
    "image_cache_secret_prefixes": 512,
    "buckets": 96,
    "read_only_buckets": 64,
    "kms_keys": 512,
    "hosted_zones": 128,
    "images": 1024,
}
#: What an allow-listed statement of the launch role may grow by once its ARNs are resolved.
ALLOW_LISTED_STATEMENT_RESERVE = 1_500

#: The partitions an S3 ARN in a launcher's Parameter may name (Rules cannot read the partition
#: inside Fn::Join's literal delimiter, so each is listed).
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


#: The allow-lists only the network product reads: the portfolio declares them only with it.
NETWORK_ALLOW_LISTS = ("image_cache_secret_prefixes",)


def allow_list_specs(network: bool = True) -> list[ParameterSpec]:
    """The allow-list Parameters: empty by default (nothing allowed); the network's only with
    ``network``."""
    return [
        ParameterSpec(
            name, "String",
            f"{what}. Comma-separated, empty for none, e.g. {example}.",
            label, GROUP_ALLOWED, default="",
            allowed_pattern=f"^$|^({pattern})(,({pattern}))*$",
            constraint_description=f"{name}: empty or comma-separated entries like {example}.",
            max_length=ALLOW_LIST_MAX_LENGTH[list_name],
        )
        for list_name, (name, label, what, example) in ALLOW_LIST_PARAMETERS.items()
        if network or list_name not in NETWORK_ALLOW_LISTS
        for pattern in [ENTRY_PATTERNS[list_name]]
    ]  # fmt: skip


def condition_name(list_name: str) -> str:
    """The Condition that the admin allows at least one entry of ``list_name``."""
    return "Has" + ALLOW_LIST_PARAMETERS[list_name][0]


@dataclass(frozen=True)
class AllowListInputs:
    """The portfolio's allow-list Parameters as its statements use them; `only_if_allowed` adds
    the Condition a list needs to ``template`` when first used."""

    template: Template

    def arns(self, list_name: str, prefix: str = "", suffix: str = "") -> Any:
        """The ARNs ``prefix + entry + suffix`` of every entry (a list), for a statement that
        exists only under `condition_name` (``prefix`` may use no pseudo parameter)."""
        entries = Split(",", Ref(ALLOW_LIST_PARAMETERS[list_name][0]))
        if not prefix and not suffix:
            return entries
        return Split(",", Join("", [prefix, Join(f"{suffix},{prefix}", entries), suffix]))

    def only_if_allowed(self, list_name: str, statement: Any) -> If:
        """``statement`` only when the admin allows at least one entry of ``list_name``."""
        name = condition_name(list_name)
        if name not in self.template.conditions:
            parameter = ALLOW_LIST_PARAMETERS[list_name][0]
            self.template.add_condition(name, Not(Equals(Ref(parameter), "")))
        return If(name, statement, Ref("AWS::NoValue"))


#: The portfolio's Parameter for where launchers may expose the server.
ALLOWED_EXPOSURE = "AllowedExposure"
#: The portfolio's Parameter for whether launchers may run the default MLflow image (a tag), and
#: the Condition that they may.
ALLOW_DEFAULT_MLFLOW_IMAGE = "AllowDefaultMlflowImage"
DEFAULT_MLFLOW_IMAGE_ALLOWED = "DefaultMlflowImageAllowed"


def default_image_spec() -> ParameterSpec:
    """Whether launchers may run the default MLflow image besides AllowedImages."""
    return ParameterSpec(
        ALLOW_DEFAULT_MLFLOW_IMAGE, "String",
        f"true: launchers may run the default MLflow image, {DEFAULT_MLFLOW_IMAGE} (a tag its "
        "publisher could move) besides AllowedImages. false: only AllowedImages, e.g. pinned by "
        "digest.",
        "Default MLflow image allowed", GROUP_ALLOWED, default="true",
        allowed_values=("true", "false"),
        constraint_description=f"{ALLOW_DEFAULT_MLFLOW_IMAGE} must be true or false.",
    )  # fmt: skip


def declare_default_image_condition(template: Template) -> None:
    """The Condition the template constraint's Rules use for the default image."""
    template.add_condition(
        DEFAULT_MLFLOW_IMAGE_ALLOWED, Equals(Ref(ALLOW_DEFAULT_MLFLOW_IMAGE), "true")
    )


def exposure_spec() -> ParameterSpec:
    """Where launchers may expose the server: internal only unless the admin says otherwise."""
    return ParameterSpec(
        ALLOWED_EXPOSURE, "String",
        "Where launchers may expose MLflow: internal (internal load balancers only), "
        "internet-facing-with-login (internet-facing only with AuthMode cognito or oidc), or "
        "internet-facing (also without login, when the launcher sets "
        "AllowPublicAccessWithoutLogin=true). A launcher's own yes is never enough.",
        "Exposure launchers may choose", GROUP_ALLOWED, default=EXPOSURES[0],
        allowed_values=EXPOSURES,
        constraint_description=f"{ALLOWED_EXPOSURE} must be one of {', '.join(EXPOSURES)}.",
    )  # fmt: skip


@dataclass
class TemplateRuleValues(RuleValues):
    """RuleValues as Fn::Sub placeholders filled by the allow-list Parameters: `variables` holds
    the Fn::Sub variables the Rules' text needs."""

    boundary: str
    variables: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(AllowLists(), "${AWS::Partition}", f"${{{self.boundary}}}")

    def listed(self, allow_list: str, form: str) -> list[str]:
        """One placeholder per partition ``form`` names, standing for every entry in it."""
        name = ALLOW_LIST_PARAMETERS[allow_list][0]
        entries = Split(",", Ref(name))
        placeholders = []
        for partition in PARTITIONS if "{partition}" in form else ("",):
            prefix, suffix = form.format("\0", partition=partition).split("\0")
            variable = f"{name}{len(self.variables)}"
            self.variables[variable] = Join(f'{suffix}","{prefix}', entries)
            placeholders.append(f"{prefix}${{{variable}}}{suffix}")
        return placeholders

    def shown(self, allow_list: str) -> str:
        return f"${{{ALLOW_LIST_PARAMETERS[allow_list][0]}}}"

    def secrets_allowed(self, allow_list: str = "secret_prefixes") -> str:
        return self.shown(allow_list)

    def exposure(self) -> str:
        return f"${{{ALLOWED_EXPOSURE}}}"

    def always(self, guard: Guard) -> list[str]:
        """The default image as a placeholder, empty unless the admin allows it."""
        if DEFAULT_MLFLOW_IMAGE not in guard.always:
            return list(guard.always)
        self.variables["DefaultMlflowImage"] = If(
            DEFAULT_MLFLOW_IMAGE_ALLOWED, DEFAULT_MLFLOW_IMAGE, ""
        )
        return [v if v != DEFAULT_MLFLOW_IMAGE else "${DefaultMlflowImage}" for v in guard.always]


def parameter_specs() -> list[ParameterSpec]:
    """The portfolio template's Parameters, in console order."""
    return [
        ParameterSpec(PORTFOLIO_NAME, "String", "Display name of the Service Catalog portfolio.",
                      "Portfolio name", GROUP_PORTFOLIO, default="MLflow", **_display_name(100)),
        ParameterSpec(PORTFOLIO_PROVIDER_NAME, "String",
                      "Who provides the portfolio, e.g. the platform team's name.",
                      "Portfolio provider", GROUP_PORTFOLIO, **_display_name(50)),
        ParameterSpec(
            PRINCIPAL_ARN, "String",
            "ARN of the IAM role, group or user that may launch the product, e.g. "
            "arn:aws:iam::123456789012:role/DataScientist.",
            "Principal with access", GROUP_PORTFOLIO,
            allowed_pattern=(
                r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|group|user)/([\w+=,.@-]+/)*[\w+=,.@-]+$"
            ),
            constraint_description="An IAM role, group or user ARN of this partition.",
        ),
        ParameterSpec(PRODUCT_NAME, "String", "Name of the MLflow product in the portfolio.",
                      "Product name", GROUP_PRODUCT, default="MLflow tracking server",
                      **_display_name(100)),
        ParameterSpec(PRODUCT_OWNER, "String",
                      "Owner of the product shown to users, e.g. a team name.",
                      "Product owner", GROUP_PRODUCT, **_display_name(100)),
        ParameterSpec(
            PRODUCT_VERSION_NAME, "String",
            "Version name of the provisioning artifact, the mlflow-cfn release it was built by.",
            "Product version", GROUP_PRODUCT, default=f"v{__version__}",
            allowed_pattern=r"^v[0-9]+\.[0-9]+\.[0-9]+$",
            constraint_description="v followed by a semantic version, e.g. v0.1.0.",
        ),
        ParameterSpec(
            PRODUCT_TEMPLATE_URL, "String",
            "HTTPS URL of the uploaded product template (templates/mlflow.json) in S3, e.g. "
            "https://my-bucket.s3.eu-west-1.amazonaws.com/mlflow/v0.1.0/mlflow.json.",
            "Product template URL", GROUP_PRODUCT,
            allowed_pattern=PRODUCT_TEMPLATE_URL_PATTERN,
            constraint_description="An https URL of an S3 object (virtual-hosted or path style).",
        ),
        *allow_list_specs(network=False),
        exposure_spec(),
        default_image_spec(),
    ]  # fmt: skip


def _display_name(max_length: int) -> dict[str, Any]:
    """The constraint of a display-name Parameter: 1 to ``max_length`` characters, no leading or
    trailing space."""
    return {
        "allowed_pattern": r"^\S(.*\S)?$",
        "max_length": max_length,
        "constraint_description": f"1 to {max_length} characters, no leading or trailing space.",
    }


def add_parameters(template: Template, specs: list[ParameterSpec]) -> dict[str, Ref]:
    """Add the Parameters with their console groups and labels; return Refs by name."""
    refs = {spec.name: Ref(template.add_parameter(spec.to_parameter())) for spec in specs}
    groups = list(dict.fromkeys(spec.group for spec in specs))
    template.set_metadata(
        {
            "AWS::CloudFormation::Interface": {
                "ParameterGroups": [
                    {"Label": {"default": g}, "Parameters": [s.name for s in specs if s.group == g]}
                    for g in groups
                ],
                "ParameterLabels": {s.name: {"default": s.label} for s in specs},
            }
        }
    )
    return refs
