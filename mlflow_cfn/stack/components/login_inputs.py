"""Login on the load balancer, as a launcher chooses it: AuthMode, an existing Cognito pool or an
OIDC provider, with the Conditions and Rules that keep the choice complete and safe."""

from __future__ import annotations

from dataclasses import dataclass, replace

from troposphere import And, Equals, Not, Parameter

from mlflow_cfn.stack.components.load_balancer_inputs import (
    CERTIFICATE_ARN,
    DOMAIN_NAME,
    LOAD_BALANCER_INGRESS_CIDRS,
    LOAD_BALANCER_SCHEME,
    LoadBalancerInputs,
)
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.interface import GROUP_LOAD_BALANCER, GROUP_LOGIN
from mlflow_cfn.stack.logic import assertion, condition, empty, given, is_value
from mlflow_cfn.stack.parameters import (
    HTTPS_URL,
    PARTITION,
    SECRET_ARN,
    ParameterSpec,
    boolean,
    choice,
    optional,
)

# Parameters
AUTH_MODE = "AuthMode"
COGNITO_USER_POOL_ARN = "CognitoUserPoolArn"
COGNITO_USER_POOL_CLIENT_ID = "CognitoUserPoolClientId"
COGNITO_USER_POOL_DOMAIN = "CognitoUserPoolDomain"
COGNITO_TOKEN_SCOPE = "CognitoTokenScope"
OIDC_ISSUER = "OidcIssuer"
OIDC_AUTHORIZATION_ENDPOINT = "OidcAuthorizationEndpoint"
OIDC_TOKEN_ENDPOINT = "OidcTokenEndpoint"
OIDC_USER_INFO_ENDPOINT = "OidcUserInfoEndpoint"
OIDC_JWKS_ENDPOINT = "OidcJwksEndpoint"
OIDC_CLIENT_ID = "OidcClientId"
OIDC_CLIENT_SECRET_ARN = "OidcClientSecretArn"
OIDC_TOKEN_AUDIENCE_FORMAT = "OidcTokenAudienceFormat"
OIDC_TOKEN_AUDIENCE = "OidcTokenAudience"
# Conditions and Rules
USE_AUTH = "UseAuth"
USE_COGNITO_AUTH = "UseCognitoAuth"
CREATE_COGNITO_USER_POOL = "CreateCognitoUserPool"
RULE_AUTH_NEEDS_CERTIFICATE = "AuthNeedsCertificate"
RULE_OIDC_NEEDS_ENDPOINTS = "OidcNeedsEndpoints"
RULE_EXISTING_COGNITO_POOL_IS_COMPLETE = "ExistingCognitoUserPoolIsComplete"
RULE_INTERNET_FACING_NEEDS_ALLOW_LIST = "InternetFacingNeedsAllowList"
RULE_PUBLIC_WITHOUT_LOGIN_NEEDS_CONSENT = "InternetFacingWithoutLoginNeedsConsent"
ALLOW_PUBLIC_ACCESS_WITHOUT_LOGIN = "AllowPublicAccessWithoutLogin"

#: A Cognito custom scope, ``<resource server identifier>/<scope name>``: botocore's cognito-idp
#: model, ResourceServerIdentifierType ``[\x21\x23-\x5B\x5D-\x7E]+`` and
#: ResourceServerScopeNameType ``[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]+`` (no "/"), the whole
#: (ScopeType) at most 256 characters; the load balancer compares claim values of at most 256
#: characters without spaces (the constraints catalogue's jwt-claim-values).
COGNITO_SCOPE = r"[\x21\x23-\x5B\x5D-\x7E]+/[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]+"
COGNITO_SCOPE_MAX_LENGTH = 256

#: (name, description, label, pattern, example) of each OIDC Parameter, in console order.
_OIDC = (
    (OIDC_ISSUER, "OIDC issuer (the iss claim of its tokens).", "OIDC issuer", HTTPS_URL,
     "https://login.example.com"),
    (OIDC_AUTHORIZATION_ENDPOINT, "OIDC authorization endpoint.", "OIDC authorization endpoint",
     HTTPS_URL, "https://login.example.com/oauth2/authorize"),
    (OIDC_TOKEN_ENDPOINT, "OIDC token endpoint.", "OIDC token endpoint", HTTPS_URL,
     "https://login.example.com/oauth2/token"),
    (OIDC_USER_INFO_ENDPOINT, "OIDC user info endpoint.", "OIDC user info endpoint", HTTPS_URL,
     "https://login.example.com/oauth2/userinfo"),
    (OIDC_JWKS_ENDPOINT, "JWKS endpoint of the provider: the load balancer checks bearer tokens "
     "of programmatic clients against it.", "OIDC JWKS endpoint", HTTPS_URL,
     "https://login.example.com/oauth2/keys"),
    (OIDC_CLIENT_ID, "Client ID registered with the provider for MLflow.", "OIDC client ID",
     r"[^\s]{1,256}", "mlflow-web"),
    (OIDC_CLIENT_SECRET_ARN, "Secrets Manager secret holding the OIDC client secret as plain "
     "text (never a Parameter value): the template reads it through a dynamic reference.",
     "OIDC client secret (Secrets Manager ARN)", SECRET_ARN,
     "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlflow-oidc-AbCdEf"),
    (OIDC_TOKEN_AUDIENCE, "The aud claim bearer tokens must carry (the audience your provider "
     "puts in tokens issued to CI clients for MLflow), so tokens for other applications are "
     "refused.", "OIDC bearer token audience", r"[^\s]{1,256}", "api://mlflow"),
)  # fmt: skip


@dataclass(frozen=True)
class LoginInputs:
    """The login Parameters (OIDC ones by name) and the load balancer's they depend on."""

    auth_mode: Parameter
    cognito_pool_arn: Parameter
    cognito_client_id: Parameter
    cognito_domain: Parameter
    cognito_token_scope: Parameter
    oidc: dict[str, Parameter]
    load_balancer: LoadBalancerInputs
    allow_public_access: Parameter


def _cognito_specs() -> list[ParameterSpec]:
    return [
        choice(
            AUTH_MODE,
            "Login in front of MLflow: none, cognito (a user pool the stack creates, or yours) "
            "or oidc (your identity provider). Needs CertificateArn. Programmatic clients send "
            "a bearer token (MLFLOW_TRACKING_TOKEN) that the load balancer validates.",
            "Login mode",
            GROUP_LOGIN,
            "none",
            ("none", "cognito", "oidc"),
        ),
        optional(
            COGNITO_USER_POOL_ARN,
            "An existing Cognito user pool; empty creates one (with CognitoUserPoolClientId and "
            "CognitoUserPoolDomain also empty).",
            "Existing Cognito user pool ARN",
            GROUP_LOGIN,
            rf"arn:{PARTITION}:cognito-idp:[a-z0-9-]+:[0-9]{{12}}:userpool/[a-z0-9-]+_[0-9A-Za-z]+",
            "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEf123",
        ),
        optional(
            COGNITO_USER_POOL_CLIENT_ID,
            "App client (with a secret, authorization code flow) of the existing user pool.",
            "Existing Cognito app client ID",
            GROUP_LOGIN,
            r"[A-Za-z0-9]{1,128}",
            "1example23456789",
        ),
        optional(
            COGNITO_USER_POOL_DOMAIN,
            "Domain prefix (or full custom domain) of the existing user pool.",
            "Existing Cognito user pool domain",
            GROUP_LOGIN,
            r"[a-z0-9][a-z0-9.-]{0,252}",
            "my-team-login",
        ),
        _token_scope_spec(),
    ]


def _token_scope_spec() -> ParameterSpec:
    """The scope bearer tokens must carry with the launcher's pool: one of its own per stack,
    since every token of a pool has the pool's issuer."""
    spec = optional(
        COGNITO_TOKEN_SCOPE,
        "With CognitoUserPoolArn: the OAuth scope bearer tokens must carry for this stack, "
        "<resource server identifier>/<scope name>. Define it in your pool for this stack alone "
        "and give it only to this stack's CI clients: all tokens of a pool carry its issuer, so "
        "the scope is what keeps another stack's tokens out. Not used with the pool the stack "
        "creates (mlflow/api).",
        "Existing Cognito pool: this stack's token scope",
        GROUP_LOGIN,
        COGNITO_SCOPE,
        "mlflow-team-a/api",
    )
    return replace(
        spec,
        max_length=COGNITO_SCOPE_MAX_LENGTH,
        constraint_description=(
            f"{COGNITO_TOKEN_SCOPE} must be empty or a Cognito scope <resource server "
            "identifier>/<scope name> of at most 256 printable ASCII characters without spaces, "
            'quotes (") or backslashes, and no / in the scope name, e.g. mlflow-team-a/api.'
        ),
    )


def _require(name: str, needed: list[tuple[Parameter, str]], when: object, ctx: Context) -> None:
    """A Rule: when ``when`` holds, each needed Parameter is given (else its message)."""
    ctx.rule(name, [assertion(given(p), message) for p, message in needed], when=when)


def _declare_existing_pool_rule(ctx: Context, inputs: LoginInputs) -> None:
    """The launcher's pool needs its app client, its domain and this stack's token scope."""
    _require(
        RULE_EXISTING_COGNITO_POOL_IS_COMPLETE,
        [
            *(
                (p, f"{COGNITO_USER_POOL_ARN} (an existing user pool) needs {p.title} too.")
                for p in (inputs.cognito_client_id, inputs.cognito_domain)
            ),
            (
                inputs.cognito_token_scope,
                f"{COGNITO_USER_POOL_ARN} (an existing user pool) needs {COGNITO_TOKEN_SCOPE} "
                "too: a scope the pool defines for this stack alone, which its bearer tokens must "
                "carry (every stack on the pool would accept the others' tokens otherwise).",
            ),
        ],
        given(inputs.cognito_pool_arn),
        ctx,
    )


def _declare_rules(ctx: Context, inputs: LoginInputs) -> None:
    lb = inputs.load_balancer
    auth = Not(Equals(inputs.auth_mode.ref(), "none"))
    _require(
        RULE_AUTH_NEEDS_CERTIFICATE,
        [
            (lb.certificate_arn, f"{AUTH_MODE}=cognito or oidc needs {CERTIFICATE_ARN}: the "
             "load balancer authenticates users only on an HTTPS listener."),
            (lb.domain_name, f"{AUTH_MODE}=cognito or oidc needs {DOMAIN_NAME}: the login "
             "redirects back to it, and the certificate is for it."),
        ],
        auth,
        ctx,
    )  # fmt: skip
    _require(
        RULE_OIDC_NEEDS_ENDPOINTS,
        [(p, f"{AUTH_MODE}=oidc needs {name}.") for name, p in inputs.oidc.items()],
        is_value(inputs.auth_mode, "oidc"),
        ctx,
    )
    _declare_existing_pool_rule(ctx, inputs)
    ctx.rule(
        RULE_INTERNET_FACING_NEEDS_ALLOW_LIST,
        # With a login in front, anyone may reach the login page; without, only a list.
        [
            assertion(
                Not(Equals(lb.ingress_cidrs.ref(), "0.0.0.0/0")),
                f"{LOAD_BALANCER_SCHEME}=internet-facing needs an allow-list in "
                f"{LOAD_BALANCER_INGRESS_CIDRS}, not 0.0.0.0/0: MLflow has no login of its own "
                "(or set AuthMode).",
            )
        ],
        when=And(is_value(lb.scheme, "internet-facing"), is_value(inputs.auth_mode, "none")),
    )
    # An explicit yes, never inferred from a CIDR list (10.0.0.0/8,0.0.0.0/0 or
    # 0.0.0.0/1,128.0.0.0/1 is the whole internet too).
    ctx.rule(
        RULE_PUBLIC_WITHOUT_LOGIN_NEEDS_CONSENT,
        [
            assertion(
                is_value(inputs.allow_public_access, "true"),
                f"{LOAD_BALANCER_SCHEME}=internet-facing with {AUTH_MODE}=none serves MLflow, "
                "which has no login of its own, to whoever the allow-list lets in: set "
                f"{AUTH_MODE}, or {ALLOW_PUBLIC_ACCESS_WITHOUT_LOGIN}=true to accept it.",
            )
        ],
        when=And(is_value(lb.scheme, "internet-facing"), is_value(inputs.auth_mode, "none")),
    )


def declare_login_inputs(ctx: Context, load_balancer: LoadBalancerInputs) -> LoginInputs:
    """Declare the login Parameters, Conditions and Rules."""
    auth_mode, pool_arn, client_id, domain, token_scope = ctx.parameters(*_cognito_specs())
    oidc = {
        name: ctx.parameter(optional(name, description, label, GROUP_LOGIN, pattern, example))
        for name, description, label, pattern, example in _OIDC
    }
    oidc[OIDC_TOKEN_AUDIENCE_FORMAT] = ctx.parameter(
        choice(
            OIDC_TOKEN_AUDIENCE_FORMAT,
            "How your provider writes the aud claim of bearer tokens: single-string "
            '("aud": "api://mlflow") or string-array ("aud": ["api://mlflow", ...], as providers '
            "do for tokens with several audiences). The load balancer compares the claim in "
            "this format; a token whose claim has the other form is refused.",
            "OIDC bearer token audience format",
            GROUP_LOGIN,
            "single-string",
            ("single-string", "string-array"),
        )
    )
    allow_public = ctx.parameter(
        boolean(
            ALLOW_PUBLIC_ACCESS_WITHOUT_LOGIN,
            "With an internet-facing load balancer and AuthMode none, MLflow (which has no "
            "login of its own) is open to every address LoadBalancerIngressCidrs lets in: true "
            "accepts that explicitly; otherwise the stack is refused.",
            "Allow internet-facing access without login",
            GROUP_LOAD_BALANCER,
            "false",
        )
    )
    inputs = LoginInputs(
        auth_mode, pool_arn, client_id, domain, token_scope, oidc, load_balancer, allow_public
    )
    ctx.condition(USE_AUTH, Not(Equals(auth_mode.ref(), "none")))
    ctx.condition(USE_COGNITO_AUTH, is_value(auth_mode, "cognito"))
    ctx.condition(CREATE_COGNITO_USER_POOL, And(condition(USE_COGNITO_AUTH), empty(pool_arn)))
    _declare_rules(ctx, inputs)
    return inputs
