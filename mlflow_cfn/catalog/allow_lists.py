"""What launchers may point the product at: the allow-lists an admin sets when publishing, and the
template constraint Rules that refuse any other value before anything is created.

Template constraint Rules compare whole values (Fn::Contains, Fn::Equals: no prefix matching), so
what a Rule checks is allowed as exact values: bucket names, KMS key ARNs, hosted zone ids and
image references (repository with tag or digest). Secrets are allowed by ARN prefix (through
``:secret:`` into the name, ending at a ``/`` or ``-``), which only IAM matches, each product from
its own list (the network's image cache credentials apart from the MLflow product's secrets): the
launch role reads only those (the OIDC client secret CloudFormation resolves with it) and the
portfolio's permissions boundary lets the product's roles read only those (the sidecar and Datadog
secrets the task execution role reads), never a secret another service manages but the product's
own database's (`mlflow_cfn.catalog.boundary`).
Rules refuse every secret when no prefix is allowed. The default MLflow image is allowed unless the
admin turns it off (to allow images only by digest). An empty optional Parameter means "not used"
and is always accepted.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, fields
from typing import Any

from mlflow_cfn.stack.parameters import BUCKET, KMS_KEY_ARN, PARTITION
from mlflow_cfn.versions import DEFAULT_MLFLOW_IMAGE

#: The two forms of an image reference ECS takes (botocore's ECS model, ContainerDefinition.image:
#: "repository-url/image:tag or repository-url/image@digest ... The only supported hash function is
#: sha256, and the hash value after sha256: must be exactly 64 characters"), within what the
#: product's MlflowImage and SidecarImage accept (IMAGE: lower-case, 255 characters). Never a
#: reference without either (Docker reads it as :latest). A tag can be moved to another image by
#: whoever may push to the repository; a digest names one image for good.
TAGGED_IMAGE = r"[a-z0-9][a-z0-9._/:-]{0,126}:[a-z0-9_][a-z0-9_.-]{0,127}"
DIGEST_IMAGE = r"[a-z0-9][a-z0-9._/:-]{0,182}@sha256:[0-9a-f]{64}"

#: What one allow-list entry may look like, by AllowLists field: never a quote, comma, backslash
#: or IAM wildcard (``*``, ``?``), so an entry can neither widen an ARN pattern nor break the
#: Rules' JSON.
ENTRY_PATTERNS: dict[str, str] = {
    # Into the name up to a "/" or "-" (mlflow/ allows mlflow/oidc-AbCdEf, not mlflowx-...), never
    # into "ecr-": the image cache's registry credentials (ecr-pullthroughcache/...) are the
    # network product's, allowed apart (image_cache_secret_prefixes), never a launcher's OIDC client
    # secret, which the load balancer would send to the launcher's token endpoint.
    "secret_prefixes": (
        rf"arn:{PARTITION}:secretsmanager:[a-z0-9-]+:[0-9]{{12}}:secret:"
        r"(?!ecr-)[A-Za-z0-9/_+=.@-]{0,255}[/-]"
    ),
    # ECR takes only secrets whose name starts with ecr-pullthroughcache/ for a pull-through cache
    # rule (`mlflow_cfn.network.inputs`, botocore's ECR model).
    "image_cache_secret_prefixes": (
        rf"arn:{PARTITION}:secretsmanager:[a-z0-9-]+:[0-9]{{12}}:secret:"
        r"ecr-pullthroughcache/[A-Za-z0-9/_+=.@-]{0,235}"
    ),
    "buckets": BUCKET,
    "read_only_buckets": BUCKET,
    "kms_keys": KMS_KEY_ARN,
    "hosted_zones": r"Z[A-Z0-9]{1,32}",
    "images": rf"{TAGGED_IMAGE}|{DIGEST_IMAGE}",
}

#: The products' Parameters that name a secret (checked by IAM against the allowed prefixes), by
#: the allow-list that holds their prefixes: the MLflow product's, and the network's pull-through
#: cache credentials, which its launch role reads when it creates the rule.
SECRET_PARAMETERS: dict[str, str] = {
    "OidcClientSecretArn": "secret_prefixes",
    "SidecarSecretArn": "secret_prefixes",
    "DatadogApiKeySecretArn": "secret_prefixes",
    "ImageCacheCredentialsSecretArn": "image_cache_secret_prefixes",
}

#: The product's Parameter the portfolio forces to its permissions boundary.
BOUNDARY_PARAMETER = "PermissionsBoundaryArn"

#: Where launchers may expose the server, the admin's choice (the launcher's own
#: AllowPublicAccessWithoutLogin is not enough): internal load balancers only (the default),
#: internet-facing only with login (AuthMode), or internet-facing with or without login (the
#: product's own Rules then ask the launcher for AllowPublicAccessWithoutLogin=true without it).
EXPOSURES = ("internal", "internet-facing-with-login", "internet-facing")
SCHEME_PARAMETER = "LoadBalancerScheme"
LOGIN_PARAMETER = "AuthMode"


@dataclass(frozen=True)
class AllowLists:
    """What launchers may name besides what the product creates itself (default: nothing)."""

    secret_prefixes: tuple[str, ...] = ()
    image_cache_secret_prefixes: tuple[str, ...] = ()
    buckets: tuple[str, ...] = ()
    #: Buckets launchers may only read (ArtifactReadOnlyBucketArns), never store artifacts in.
    read_only_buckets: tuple[str, ...] = ()
    kms_keys: tuple[str, ...] = ()
    hosted_zones: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    #: Where launchers may expose the server (EXPOSURES).
    exposure: str = EXPOSURES[0]
    #: Whether launchers may run the default MLflow image (a tag, DEFAULT_MLFLOW_IMAGE) besides
    #: ``images``; an admin who allows images only by digest turns it off.
    default_image: bool = True

    def __post_init__(self) -> None:
        """ValueError naming every entry that does not look like what its list holds."""
        bad = [
            f"{f.name}: {entry!r} must match {ENTRY_PATTERNS[f.name]}"
            for f in fields(self)
            if f.name in ENTRY_PATTERNS
            for entry in getattr(self, f.name)
            if not re.fullmatch(ENTRY_PATTERNS[f.name], entry)
        ]
        if self.exposure not in EXPOSURES:
            bad.append(f"exposure: {self.exposure!r} must be one of {', '.join(EXPOSURES)}")
        bad += [
            f"buckets: {name!r} is also in read_only_buckets: every launcher could read all "
            "of it, every other stack's artifacts included; allow it in one list"
            for name in sorted(set(self.buckets) & set(self.read_only_buckets))
        ]
        if bad:
            raise ValueError("; ".join(bad))

    def warnings(self) -> list[str]:
        """What the admin allows by tag, which whoever may push to the repository can move."""
        return [
            f"images: {image!r} is a tag: whoever may push to its repository decides what "
            f"launchers run; allow {image.rsplit(':', 1)[0]}@sha256:<digest> instead"
            for image in self.images
            if re.fullmatch(TAGGED_IMAGE, image)
        ]


@dataclass(frozen=True)
class Guard:
    """A product Parameter whose value a Rule checks against an allow-list (exact values)."""

    parameter: str
    allow_list: str
    what: str
    #: The values always allowed besides the list ("" = the Parameter left empty, not used).
    always: tuple[str, ...] = ("",)
    #: How a list entry appears in the Parameter (``{}`` is the entry).
    form: str = "{}"


#: The product's Parameters that Rules check, in rule order.
GUARDS = (
    Guard("ArtifactBucketName", "buckets", "an artifact bucket"),
    # Only the read-only list: a bucket stacks store artifacts in is never read whole.
    Guard("ArtifactReadOnlyBucketArns", "read_only_buckets", "the ARN of one read-only bucket",
          form="arn:{partition}:s3:::{}"),
    Guard("ArtifactBucketKmsKeyArn", "kms_keys", "a KMS key"),
    Guard("SidecarSecretKmsKeyArn", "kms_keys", "a KMS key"),
    Guard("DatadogApiKeyKmsKeyArn", "kms_keys", "a KMS key"),
    Guard("HostedZoneId", "hosted_zones", "a Route 53 hosted zone"),
    Guard("MlflowImage", "images", "an image", always=(DEFAULT_MLFLOW_IMAGE,)),
    Guard("SidecarImage", "images", "an image"),
)  # fmt: skip

#: With a bucket of the admin's (shared by every launcher's stacks), each stack stores its
#: artifacts under its own UUID: no stack reaches another's, whatever ArtifactPrefix each gives.
SHARED_BUCKET_PARAMETER = "ArtifactBucketName"
PREFIX_PER_STACK_PARAMETER = "ArtifactPrefixPerStack"


class RuleValues:
    """The allow-lists as the Rules' text shows them: literal entries (``publish`` writes them into
    the constraint); `mlflow_cfn.catalog.portfolio_inputs` overrides them with Fn::Sub
    placeholders that its Parameters fill in."""

    def __init__(self, lists: AllowLists, partition: str, boundary_arn: str | None) -> None:
        self.lists = lists
        self.partition = partition
        self.boundary_arn = boundary_arn

    def listed(self, allow_list: str, form: str) -> list[str]:
        """The entries of ``allow_list`` in the Parameter's ``form``."""
        return [form.format(e, partition=self.partition) for e in getattr(self.lists, allow_list)]

    def shown(self, allow_list: str) -> str:
        """How an AssertDescription names the entries of ``allow_list``."""
        return ", ".join(getattr(self.lists, allow_list))

    def secrets_allowed(self, allow_list: str = "secret_prefixes") -> str:
        """Empty when ``allow_list`` allows no secret name prefix."""
        return ",".join(getattr(self.lists, allow_list))

    def exposure(self) -> str:
        """Where launchers may expose the server (one of EXPOSURES)."""
        return self.lists.exposure

    def always(self, guard: Guard) -> list[str]:
        """The values ``guard`` always allows: the default image only if the admin allows it."""
        return [v for v in guard.always if v != DEFAULT_MLFLOW_IMAGE or self.lists.default_image]


def template_rules(parameters: Collection[str], values: RuleValues) -> dict[str, Any]:
    """The template constraint Rules for a product with ``parameters``: each guarded Parameter
    it declares must be empty (not used) or allowed; secrets are refused when no prefix is
    allowed; ``PermissionsBoundaryArn`` must be the portfolio's boundary (if one is given)."""
    rules: dict[str, Any] = {}
    for guard in GUARDS:
        if guard.parameter in parameters:
            rules[f"{guard.parameter}IsAllowed"] = _guard_rule(guard, values)
    for name, allow_list in SECRET_PARAMETERS.items():
        if name in parameters:
            rules[f"{name}IsAllowed"] = {
                "RuleCondition": {"Fn::Equals": [values.secrets_allowed(allow_list), ""]},
                "Assertions": [_assertion(
                    {"Fn::Equals": [{"Ref": name}, ""]},
                    f"{name} must be empty: the portfolio's admin allows no secrets (allowed "
                    "secret ARN prefixes: none).",
                )],
            }  # fmt: skip
    if {SCHEME_PARAMETER, LOGIN_PARAMETER} <= set(parameters):
        rules.update(_exposure_rules(values))
    if {SHARED_BUCKET_PARAMETER, PREFIX_PER_STACK_PARAMETER} <= set(parameters):
        rules["SharedBucketNeedsAPrefixPerStack"] = {
            "RuleCondition": {"Fn::Not": [{"Fn::Equals": [{"Ref": SHARED_BUCKET_PARAMETER}, ""]}]},
            "Assertions": [_assertion(
                {"Fn::Equals": [{"Ref": PREFIX_PER_STACK_PARAMETER}, "true"]},
                f"{SHARED_BUCKET_PARAMETER} needs {PREFIX_PER_STACK_PARAMETER}=true: the "
                "portfolio's buckets are shared, so each stack stores its artifacts under its "
                "own UUID.",
            )],
        }  # fmt: skip
    if values.boundary_arn is not None and BOUNDARY_PARAMETER in parameters:
        rules[f"{BOUNDARY_PARAMETER}IsThePortfolios"] = {
            "Assertions": [_assertion(
                {"Fn::Equals": [{"Ref": BOUNDARY_PARAMETER}, values.boundary_arn]},
                f"{BOUNDARY_PARAMETER} must be {values.boundary_arn}, the portfolio's permissions "
                "boundary: every role the product creates carries it.",
            )]
        }  # fmt: skip
    return rules


def _exposure_rules(values: RuleValues) -> dict[str, Any]:
    """Internal only, or internet-facing only with login, as the admin's exposure says."""
    exposure, scheme = values.exposure(), {"Ref": SCHEME_PARAMETER}
    return {
        "LoadBalancerSchemeIsAllowed": {
            "RuleCondition": {"Fn::Equals": [exposure, "internal"]},
            "Assertions": [_assertion(
                {"Fn::Equals": [scheme, "internal"]},
                f"{SCHEME_PARAMETER} must be internal: the portfolio's admin allows no "
                "internet-facing load balancer.",
            )],
        },
        "InternetFacingNeedsLoginHere": {
            "RuleCondition": {"Fn::And": [
                {"Fn::Equals": [exposure, "internet-facing-with-login"]},
                {"Fn::Equals": [scheme, "internet-facing"]},
            ]},
            "Assertions": [_assertion(
                {"Fn::Not": [{"Fn::Equals": [{"Ref": LOGIN_PARAMETER}, "none"]}]},
                f"{SCHEME_PARAMETER}=internet-facing needs {LOGIN_PARAMETER} (cognito or oidc): "
                "the portfolio's admin allows the internet only with login.",
            )],
        },
    }  # fmt: skip


def _guard_rule(guard: Guard, values: RuleValues) -> dict[str, Any]:
    """The rule that ``guard.parameter`` is one of its always-allowed values or listed."""
    always = values.always(guard)
    allowed = [*always, *values.listed(guard.allow_list, guard.form)]
    shown = ", ".join(filter(None, [*always, values.shown(guard.allow_list)])) or "none"
    empty = "empty or " if "" in guard.always else ""
    return {
        "Assertions": [
            _assertion(
                {"Fn::Contains": [allowed, {"Ref": guard.parameter}]},
                f"{guard.parameter} must be {empty}{guard.what} the portfolio's admin allows "
                f"(allowed: {shown}).",
            )
        ]
    }


def _assertion(condition: dict[str, Any], description: str) -> dict[str, Any]:
    """One assertion with its description."""
    return {"Assert": condition, "AssertDescription": description}
