"""Parameter sets for the optional modes, evaluated as CloudFormation would (shared by tests)."""

from __future__ import annotations

import functools
import itertools

from mlflow_cfn import StackOptions, build_template
from mlflow_cfn.cfn.evaluate import Evaluated, evaluate, render_template
from mlflow_cfn.cfn.render import to_dict
from tests.conftest import REQUIRED_PARAMETERS as REQUIRED

HTTPS = {
    "CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789",
    "DomainName": "mlflow.example.com",
}
OWN_BUCKET = {
    "ArtifactBucketName": "team-ml-artifacts",
    "ArtifactPrefix": "mlflow/prod",
    "ArtifactBucketKmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd",
}
OIDC = {
    "AuthMode": "oidc",
    "OidcIssuer": "https://login.example.com",
    "OidcAuthorizationEndpoint": "https://login.example.com/oauth2/authorize",
    "OidcTokenEndpoint": "https://login.example.com/oauth2/token",
    "OidcUserInfoEndpoint": "https://login.example.com/oauth2/userinfo",
    "OidcJwksEndpoint": "https://login.example.com/oauth2/keys",
    "OidcClientId": "mlflow-web",
    "OidcClientSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:oidc-AbCdEf",
    "OidcTokenAudience": "api://mlflow",
}
SIDECAR = {
    "SidecarImage": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
    "SidecarName": "log-router",
    "SidecarEnvironment": "LOG_LEVEL=info,FLUSH=5",
    "SidecarSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:router-AbCdEf",
    "SidecarSecretVariable": "ROUTER_TOKEN",
    "TaskMemory": "2048",
}
DATADOG = {
    "DatadogApiKeySecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:dd-AbCdEf"
}


@functools.cache
def template(sidecar: str | None = None) -> dict:
    """The emitted template (default, or with a sidecar preset) as JSON data."""
    return to_dict(build_template(StackOptions(sidecar=sidecar)))


def stack(sidecar: str | None = None, **parameters: str) -> Evaluated:
    """The default template evaluated with the required parameters plus ``parameters``."""
    extra = DATADOG if sidecar == "datadog" else {}
    return evaluate(template(sidecar), {**REQUIRED, **extra, **parameters}, region="eu-west-1")


def rendered(sidecar: str | None = None, **parameters: str) -> dict:
    """A concrete template (for linters and scanners) for this parameter set."""
    extra = DATADOG if sidecar == "datadog" else {}
    return render_template(
        template(sidecar), {**REQUIRED, **extra, **parameters}, region="eu-west-1"
    )


def matrix() -> list[tuple[str, dict[str, str], str | None]]:
    """Every combination of login x own bucket x sidecar x engine x scheme, as (id, parameters,
    sidecar preset), each completed with what that combination needs to be valid."""
    cases = []
    for auth, bucket, sidecar, engine, scheme in itertools.product(
        ("none", "cognito", "oidc"),
        ("created", "own"),
        ("none", "generic", "datadog"),
        ("aurora-postgresql", "aurora-mysql"),
        ("internal", "internet-facing"),
    ):
        params = {"DatabaseEngine": engine, "LoadBalancerScheme": scheme}
        if auth != "none" or scheme == "internet-facing":
            params |= HTTPS
        params |= {"cognito": {"AuthMode": "cognito"}, "oidc": OIDC}.get(auth, {})
        params |= OWN_BUCKET if bucket == "own" else {}
        params |= SIDECAR if sidecar == "generic" else {}
        if scheme == "internet-facing" and auth == "none":  # the explicit yes it needs
            params |= {"AllowPublicAccessWithoutLogin": "true"}
        preset = "datadog" if sidecar == "datadog" else None
        cases.append(("-".join((auth, bucket, sidecar, engine, scheme)), params, preset))
    return cases
