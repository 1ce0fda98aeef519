"""What ``mlflow-cfn smoke`` checks: the request (the command's flags) and the deployed stack's
outputs and login settings, read with CloudFormation DescribeStacks."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mlflow_cfn.cfn.aws import aws_cause, error_code
from mlflow_cfn.cfn.stacks import stack_outputs, stack_parameters
from mlflow_cfn.smoke.steps import SmokeInputError, StepFailed

__all__ = [
    "CLIENT_SECRET_VARIABLE",
    "LOGIN_OUTPUTS",
    "TOKEN_VARIABLE",
    "SmokeRequest",
    "Stack",
    "read_stack",
    "tracking_uri_problem",
]

#: Where the command reads a ready bearer token (the variable the MLflow client reads too).
TOKEN_VARIABLE = "MLFLOW_TRACKING_TOKEN"
#: Where the command reads the client secret for ``--token-url`` / ``--client-id``.
CLIENT_SECRET_VARIABLE = "MLFLOW_CFN_CLIENT_SECRET"
#: The stack outputs that describe the login (Cognito), in the order they are printed.
LOGIN_OUTPUTS = ("CognitoTokenUrl", "CognitoMachineClientId", "CognitoUserPoolId", "TokenScope")
TRACKING_URI = "TrackingUri"


@dataclass(frozen=True)
class SmokeRequest:
    """The command's inputs, less the AWS session (region and profile)."""

    stack_name: str | None = None
    tracking_uri: str | None = None
    token: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    scope: str | None = None
    audience: str | None = None
    client_auth: str = "basic"
    wake_seconds: float = 180.0
    artifact_bytes: int = 4 * 1024 * 1024
    environ: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Stack:
    """The parts of a stack's description the checks use."""

    name: str
    region: str
    status: str
    outputs: dict[str, str]
    parameters: dict[str, str]

    @property
    def auth_mode(self) -> str:
        """The stack's AuthMode Parameter (``none`` when it has none)."""
        return self.parameters.get("AuthMode", "none") or "none"

    def found_outputs(self) -> str:
        """The names of the outputs the checks use, as printed."""
        names = [n for n in (TRACKING_URI, *LOGIN_OUTPUTS) if self.outputs.get(n)]
        return ", ".join(names) or "none"


def tracking_uri_problem(text: str) -> str | None:
    """Why `text` is no usable tracking URI (http or https with a host); None when it is."""
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return f"{text!r} is not an http:// or https:// URL with a host name"
    if parsed.query or parsed.fragment:
        return f"{text!r} has a query or fragment; give the server's base URL"
    return None


def read_stack(cfn: Any, name: str) -> Stack:
    """The stack `name` in `cfn`'s region; SmokeInputError when there is no such stack there
    (naming the region), StepFailed when AWS refuses or the stack has no TrackingUri yet."""
    region = cfn.meta.region_name
    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", "")
        if error_code(exc) == "ValidationError" and "does not exist" in message:
            raise SmokeInputError(
                f"stack {name} not found in region {region}: pass --region (or set AWS_REGION, "
                "or the profile's region) to the region it was deployed in"
            ) from exc
        raise StepFailed(f"{aws_cause(exc)} (region {region})") from exc
    except BotoCoreError as exc:
        raise StepFailed(f"{aws_cause(exc)} (region {region})") from exc
    result = Stack(
        name=name,
        region=region,
        status=stack["StackStatus"],
        outputs=stack_outputs(stack),
        parameters=stack_parameters(stack),
    )
    if not result.outputs.get(TRACKING_URI):
        raise StepFailed(
            f"stack {name} ({result.status}, region {region}) has no {TRACKING_URI} output: "
            "it is not an mlflow-cfn stack, or it is not deployed yet"
        )
    return result
