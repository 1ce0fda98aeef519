"""Login on the load balancer: Cognito (a user pool the stack creates, or the user's) or any
OIDC provider for browsers, and bearer-token validation for SDK and CI clients."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, If, Ref, Sub
from troposphere.ec2 import SecurityGroupEgress
from troposphere.elasticloadbalancingv2 import (
    Action,
    AuthenticateCognitoConfig,
    AuthenticateOidcConfig,
    JwtValidationActionAdditionalClaim,
    JwtValidationConfig,
    ListenerRuleAction,
)

from mlflow_cfn.stack.components.cognito import CognitoPool, add_cognito_pool
from mlflow_cfn.stack.components.load_balancer import LoadBalancing
from mlflow_cfn.stack.components.login_inputs import (
    OIDC_AUTHORIZATION_ENDPOINT,
    OIDC_CLIENT_ID,
    OIDC_CLIENT_SECRET_ARN,
    OIDC_ISSUER,
    OIDC_JWKS_ENDPOINT,
    OIDC_TOKEN_AUDIENCE,
    OIDC_TOKEN_AUDIENCE_FORMAT,
    OIDC_TOKEN_ENDPOINT,
    OIDC_USER_INFO_ENDPOINT,
    USE_AUTH,
    USE_COGNITO_AUTH,
    LoginInputs,
    declare_login_inputs,
)
from mlflow_cfn.stack.components.network import Network
from mlflow_cfn.stack.context import Context

LOAD_BALANCER_TO_IDENTITY_PROVIDER_EGRESS = "LoadBalancerToIdentityProviderEgress"
SESSION_SECONDS = 8 * 3600  # a working day


@dataclass(frozen=True)
class Login:
    """The listener actions that authenticate browsers and validate bearer tokens."""

    authenticate: If
    validate_token: ListenerRuleAction


def _authenticate(inputs: LoginInputs, pool: CognitoPool) -> If:
    """Browsers: log in with Cognito or the OIDC provider, then continue."""
    oidc = inputs.oidc
    cognito = Action(
        Type="authenticate-cognito",
        Order=1,
        AuthenticateCognitoConfig=AuthenticateCognitoConfig(
            UserPoolArn=pool.arn,
            UserPoolClientId=pool.browser_client_id,
            UserPoolDomain=pool.domain,
            OnUnauthenticatedRequest="authenticate",
            SessionTimeout=SESSION_SECONDS,
        ),
    )
    provider = Action(
        Type="authenticate-oidc",
        Order=1,
        AuthenticateOidcConfig=AuthenticateOidcConfig(
            Issuer=Ref(oidc[OIDC_ISSUER]),
            AuthorizationEndpoint=Ref(oidc[OIDC_AUTHORIZATION_ENDPOINT]),
            TokenEndpoint=Ref(oidc[OIDC_TOKEN_ENDPOINT]),
            UserInfoEndpoint=Ref(oidc[OIDC_USER_INFO_ENDPOINT]),
            ClientId=Ref(oidc[OIDC_CLIENT_ID]),
            # A dynamic reference: the secret never appears in the template or its parameters.
            ClientSecret=Sub(f"{{{{resolve:secretsmanager:${{{OIDC_CLIENT_SECRET_ARN}}}}}}}"),
            OnUnauthenticatedRequest="authenticate",
            Scope="openid email",
            SessionTimeout=str(SESSION_SECONDS),
        ),
    )
    return If(USE_COGNITO_AUTH, cognito, provider)


def _validate_token(inputs: LoginInputs, pool: CognitoPool) -> ListenerRuleAction:
    """SDK and CI clients: a bearer token checked against the provider's keys, issuer and the
    scope (Cognito: this stack's) or audience (OIDC) meant for MLflow."""
    oidc = inputs.oidc
    return ListenerRuleAction(
        Type="jwt-validation",
        Order=1,
        JwtValidationConfig=JwtValidationConfig(
            Issuer=If(USE_COGNITO_AUTH, pool.issuer, Ref(oidc[OIDC_ISSUER])),
            JwksEndpoint=If(
                USE_COGNITO_AUTH,
                Sub("${Issuer}/.well-known/jwks.json", Issuer=pool.issuer),
                Ref(oidc[OIDC_JWKS_ENDPOINT]),
            ),
            AdditionalClaims=[
                If(
                    USE_COGNITO_AUTH,
                    JwtValidationActionAdditionalClaim(
                        Name="scope", Format="space-separated-values", Values=[pool.token_scope]
                    ),
                    JwtValidationActionAdditionalClaim(
                        Name="aud",
                        Format=Ref(oidc[OIDC_TOKEN_AUDIENCE_FORMAT]),
                        Values=[Ref(oidc[OIDC_TOKEN_AUDIENCE])],
                    ),
                )
            ],
        ),
    )


def add_login(ctx: Context, *, network: Network, load_balancing: LoadBalancing) -> Login:
    """Declare the login Parameters; add the Cognito resources (when created) and the load
    balancer's route to the identity provider; return the login actions."""
    inputs = declare_login_inputs(ctx, load_balancing.inputs)
    pool = add_cognito_pool(ctx, inputs)
    # The load balancer itself talks to the identity provider (token and JWKS endpoints).
    ctx.template.add_resource(
        SecurityGroupEgress(
            LOAD_BALANCER_TO_IDENTITY_PROVIDER_EGRESS,
            Condition=USE_AUTH,
            GroupId=GetAtt(network.load_balancer, "GroupId"),
            IpProtocol="tcp",
            FromPort=443,
            ToPort=443,
            CidrIp="0.0.0.0/0",
            Description="HTTPS to the identity provider's token, user info and key endpoints",
        )
    )
    return Login(
        authenticate=_authenticate(inputs, pool), validate_token=_validate_token(inputs, pool)
    )
