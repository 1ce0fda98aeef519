"""The bearer token ``mlflow-cfn smoke`` sends when the stack has a login: a ready one (``--token``
or MLFLOW_TRACKING_TOKEN), or one fetched with the OAuth client-credentials grant from the
stack's Cognito outputs (the secret read with DescribeUserPoolClient) or from ``--token-url``
and ``--client-id`` (the secret in MLFLOW_CFN_CLIENT_SECRET), as CI clients do."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mlflow_cfn.cfn.aws import aws_cause
from mlflow_cfn.smoke.steps import SmokeInputError, StepFailed
from mlflow_cfn.smoke.target import CLIENT_SECRET_VARIABLE, TOKEN_VARIABLE, SmokeRequest, Stack

__all__ = ["TokenPlan", "fetch_token", "plan_token"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")
TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class TokenPlan:
    """Where the token comes from: `token` as given, or the client-credentials grant at
    `token_url` (the secret from the environment, or from Cognito when `secret` is None)."""

    source: str
    token: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    secret: str | None = None
    user_pool_id: str | None = None
    scope: str | None = None
    audience: str | None = None
    client_auth: str = "basic"


def _client_credentials(request: SmokeRequest, stack: Stack | None) -> TokenPlan | None:
    """The client-credentials plan from the flags, else from the stack's Cognito outputs."""
    outputs = stack.outputs if stack else {}
    parameters = stack.parameters if stack else {}
    url = request.token_url or outputs.get("CognitoTokenUrl")
    if not url and request.client_id and stack and stack.auth_mode == "oidc":
        url = parameters.get("OidcTokenEndpoint")
    client_id = request.client_id or (outputs.get("CognitoMachineClientId") if url else None)
    if request.token_url and not request.client_id:
        raise SmokeInputError("--token-url needs --client-id (the client registered for CI)")
    if request.client_id and not url:
        raise SmokeInputError(
            "--client-id needs --token-url (the stack has no CognitoTokenUrl output and no "
            "OidcTokenEndpoint parameter)"
        )
    if not url or not client_id:
        return None
    _check_token_url(url)
    secret = request.environ.get(CLIENT_SECRET_VARIABLE) or None
    pool = outputs.get("CognitoUserPoolId")
    if secret is None and not (pool and url == outputs.get("CognitoTokenUrl")):
        raise SmokeInputError(
            f"--client-id {client_id}: set the client secret in the environment variable "
            f"{CLIENT_SECRET_VARIABLE}"
        )
    source = "--token-url" if request.token_url else "CognitoTokenUrl output"
    if url != outputs.get("CognitoTokenUrl") and not request.token_url:
        source = "OidcTokenEndpoint parameter"
    scope = request.scope or (outputs.get("TokenScope") if pool else None)
    return TokenPlan(
        source=f"client credentials from {source}",
        token_url=url,
        client_id=client_id,
        secret=secret,
        user_pool_id=pool,
        scope=scope,
        audience=request.audience,
        client_auth=request.client_auth,
    )


def _check_token_url(url: str) -> None:
    """A token URL must be https (the client secret goes there), or http on this machine."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "https" and parsed.hostname:
        return
    if parsed.scheme == "http" and parsed.hostname in LOOPBACK:
        return
    raise SmokeInputError(
        f"token URL {url!r} must be an https:// URL (plain http only to 127.0.0.1 or localhost): "
        "the client secret is sent to it"
    )


def plan_token(request: SmokeRequest, stack: Stack | None) -> TokenPlan | None:
    """How to get the bearer token, in this order: ``--token``, MLFLOW_TRACKING_TOKEN, client
    credentials (flags, then the stack's Cognito outputs); None when no login is expected.
    SmokeInputError when the stack has a login and nothing gives a token."""
    if request.token:
        return TokenPlan(source="--token", token=request.token)
    if token := request.environ.get(TOKEN_VARIABLE):
        return TokenPlan(source=TOKEN_VARIABLE, token=token)
    if plan := _client_credentials(request, stack):
        return plan
    if stack and stack.auth_mode != "none":
        raise SmokeInputError(
            f"stack {stack.name} has AuthMode={stack.auth_mode}: pass --token, set "
            f"{TOKEN_VARIABLE}, or pass --token-url and --client-id with the client secret in "
            f"{CLIENT_SECRET_VARIABLE}"
        )
    return None


def _cognito_secret(plan: TokenPlan, cognito: Callable[[], Any]) -> str:
    """The app client's secret, read with cognito-idp DescribeUserPoolClient."""
    try:
        described = cognito().describe_user_pool_client(
            UserPoolId=plan.user_pool_id, ClientId=plan.client_id
        )
    except (BotoCoreError, ClientError) as exc:
        raise StepFailed(
            f"cannot read the secret of app client {plan.client_id}: {aws_cause(exc)}; set "
            f"{CLIENT_SECRET_VARIABLE} or pass --token instead"
        ) from exc
    secret = described["UserPoolClient"].get("ClientSecret")
    if not secret:
        raise StepFailed(f"app client {plan.client_id} has no secret: it cannot use this grant")
    return secret


def _form(plan: TokenPlan, secret: str) -> tuple[bytes, dict[str, str]]:
    """The token request's body and headers (client authentication by Basic or in the form)."""
    fields = {"grant_type": "client_credentials"}
    if plan.scope:
        fields["scope"] = plan.scope
    if plan.audience:
        fields["audience"] = plan.audience
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if plan.client_auth == "post":
        fields.update(client_id=plan.client_id or "", client_secret=secret)
    else:
        pair = f"{urllib.parse.quote(plan.client_id or '')}:{urllib.parse.quote(secret)}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    return urllib.parse.urlencode(fields).encode(), headers


def _refusal(url: str, exc: urllib.error.HTTPError) -> StepFailed:
    """The token endpoint's refusal in one line, with the OAuth error it gave."""
    body = exc.read(4096).decode("utf-8", "replace")
    try:
        data = json.loads(body)
        reason = " ".join(str(data.get(k, "")) for k in ("error", "error_description")).strip()
    except (ValueError, AttributeError):
        reason = " ".join(body.split())[:200]
    return StepFailed(
        f"token endpoint {url} refused the client credentials: HTTP {exc.code} {reason} "
        "(wrong client ID or secret, or a scope/audience the client may not ask for)"
    )


def fetch_token(plan: TokenPlan, cognito: Callable[[], Any]) -> str:
    """The bearer token of `plan`; StepFailed with the cause when it cannot be had. `cognito`
    makes a cognito-idp client, only when the secret must be read from Cognito."""
    if plan.token:
        return plan.token
    secret = plan.secret or _cognito_secret(plan, cognito)
    body, headers = _form(plan, secret)
    request = urllib.request.Request(plan.token_url or "", data=body, headers=headers)
    try:
        with urllib.request.build_opener().open(request, timeout=TIMEOUT_SECONDS) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise _refusal(plan.token_url or "", exc) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise StepFailed(f"cannot reach the token endpoint {plan.token_url}: {reason}") from exc
    except ValueError as exc:
        raise StepFailed(f"token endpoint {plan.token_url} answered no JSON") from exc
    token = payload.get("access_token") if isinstance(payload, dict) else None
    if not token:
        raise StepFailed(f"token endpoint {plan.token_url} answered without an access_token")
    return str(token)
