"""Login on the load balancer: Cognito (a user pool the stack creates, or the user's) or any
OIDC provider for browsers, and bearer-token validation for SDK and CI clients."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, If, Output, Ref, Select, Split, Sub
from troposphere.cognito import (
    AccountRecoverySetting,
    AdminCreateUserConfig,
    PasswordPolicy,
    Policies,
    RecoveryOption,
    ResourceServerScopeType,
    UserPool,
    UserPoolClient,
    UserPoolDomain,
    UserPoolResourceServer,
)
from troposphere.ec2 import SecurityGroupEgress
from troposphere.elasticloadbalancingv2 import (
    Action,
    AuthenticateCognitoConfig,
    AuthenticateOidcConfig,
    JwtValidationActionAdditionalClaim,
    JwtValidationConfig,
    ListenerRuleAction,
)

from mlflow_cfn.stack import names
from mlflow_cfn.stack.components.network import SecurityGroups
from mlflow_cfn.stack.context import Context

#: The OAuth scope machine clients ask for; tokens without it are refused at the load balancer.
RESOURCE_SERVER = "mlflow"
API_SCOPE = "api"
TOKEN_SCOPE = f"{RESOURCE_SERVER}/{API_SCOPE}"
SESSION_SECONDS = 8 * 3600  # a working day


@dataclass(frozen=True)
class Login:
    """The listener actions that authenticate browsers and validate bearer tokens."""

    authenticate: If
    validate_token: ListenerRuleAction


def _cognito_pool(ctx: Context) -> tuple[If, If, If, If]:
    """Create the user pool, its domain and clients unless the user gave theirs; return the
    pool ARN, browser client ID, domain and pool ID to use."""
    t = ctx.template
    create = names.CREATE_COGNITO_USER_POOL
    pool = t.add_resource(
        UserPool(
            names.COGNITO_USER_POOL,
            Condition=create,
            UserPoolName=Sub("${AWS::StackName}-mlflow"),
            AdminCreateUserConfig=AdminCreateUserConfig(AllowAdminCreateUserOnly=True),
            UsernameAttributes=["email"],
            AutoVerifiedAttributes=["email"],
            Policies=Policies(
                PasswordPolicy=PasswordPolicy(
                    MinimumLength=14,
                    RequireLowercase=True,
                    RequireUppercase=True,
                    RequireNumbers=True,
                    RequireSymbols=True,
                    TemporaryPasswordValidityDays=3,
                )
            ),
            MfaConfiguration="OPTIONAL",
            EnabledMfas=["SOFTWARE_TOKEN_MFA"],
            AccountRecoverySetting=AccountRecoverySetting(
                RecoveryMechanisms=[RecoveryOption(Name="verified_email", Priority=1)]
            ),
            DeletionProtection="ACTIVE",
            # The users are the customer's: never lost with the stack.
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
        )
    )
    # A globally unique, lower-case prefix: the stack's UUID (stack names may have capitals).
    domain = t.add_resource(
        UserPoolDomain(
            names.COGNITO_USER_POOL_DOMAIN_RESOURCE,
            Condition=create,
            UserPoolId=Ref(pool),
            Domain=Sub("mlflow-${Id}", Id=Select(2, Split("/", Ref("AWS::StackId")))),
        )
    )
    browser = t.add_resource(
        UserPoolClient(
            names.COGNITO_BROWSER_CLIENT,
            Condition=create,
            UserPoolId=Ref(pool),
            GenerateSecret=True,  # the load balancer is a confidential client
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email"],
            SupportedIdentityProviders=["COGNITO"],
            # Login needs DomainName (Rule AuthNeedsCertificate): the certificate is
            # for it, and browsers send it lower-case as Cognito compares it.
            CallbackURLs=[Sub(f"https://${{{names.DOMAIN_NAME}}}/oauth2/idpresponse")],
            PreventUserExistenceErrors="ENABLED",
        )
    )
    server = t.add_resource(
        UserPoolResourceServer(
            names.COGNITO_RESOURCE_SERVER,
            Condition=create,
            UserPoolId=Ref(pool),
            Identifier=RESOURCE_SERVER,
            Name="MLflow tracking API",
            Scopes=[ResourceServerScopeType(ScopeName=API_SCOPE, ScopeDescription="Use MLflow")],
        )
    )
    machine = t.add_resource(
        UserPoolClient(
            names.COGNITO_MACHINE_CLIENT,
            Condition=create,
            UserPoolId=Ref(pool),
            GenerateSecret=True,
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthScopes=[TOKEN_SCOPE],
            DependsOn=[server],
        )
    )
    pool_id = If(create, Ref(pool), Select(1, Split("/", ctx.ref(names.COGNITO_USER_POOL_ARN))))
    t.add_output(
        Output(
            names.OUT_COGNITO_USER_POOL_ID,
            Condition=names.USE_COGNITO_AUTH,
            Description="Cognito user pool (add users with admin-create-user)",
            Value=pool_id,
        )
    )
    t.add_output(
        Output(
            names.OUT_COGNITO_TOKEN_URL,
            Condition=create,
            Description="Where CI clients get a bearer token (client_credentials grant)",
            Value=Sub(
                "https://${Domain}.auth.${AWS::Region}.amazoncognito.com/oauth2/token",
                Domain=Ref(domain),
            ),
        )
    )
    t.add_output(
        Output(
            names.OUT_COGNITO_MACHINE_CLIENT_ID,
            Condition=create,
            Description="App client for CI (its secret: aws cognito-idp describe-user-pool-client)",
            Value=Ref(machine),
        )
    )
    t.add_output(
        Output(
            names.OUT_TOKEN_SCOPE,
            Condition=names.USE_COGNITO_AUTH,
            Description="OAuth scope a CI client's token must carry",
            Value=TOKEN_SCOPE,
        )
    )
    return (
        If(create, GetAtt(pool, "Arn"), ctx.ref(names.COGNITO_USER_POOL_ARN)),
        If(create, Ref(browser), ctx.ref(names.COGNITO_USER_POOL_CLIENT_ID)),
        If(create, Ref(domain), ctx.ref(names.COGNITO_USER_POOL_DOMAIN)),
        pool_id,
    )


def add_login(ctx: Context, *, security_groups: SecurityGroups) -> Login:
    """Add the Cognito resources (when created) and return the login actions."""
    t = ctx.template
    pool_arn, client_id, domain, pool_id = _cognito_pool(ctx)
    # The load balancer itself talks to the identity provider (token and JWKS endpoints).
    t.add_resource(
        SecurityGroupEgress(
            names.LOAD_BALANCER_TO_IDENTITY_PROVIDER_EGRESS,
            Condition=names.USE_AUTH,
            GroupId=GetAtt(security_groups.load_balancer, "GroupId"),
            IpProtocol="tcp",
            FromPort=443,
            ToPort=443,
            CidrIp="0.0.0.0/0",
            Description="HTTPS to the identity provider's token, user info and key endpoints",
        )
    )
    cognito = Action(
        Type="authenticate-cognito",
        Order=1,
        AuthenticateCognitoConfig=AuthenticateCognitoConfig(
            UserPoolArn=pool_arn,
            UserPoolClientId=client_id,
            UserPoolDomain=domain,
            OnUnauthenticatedRequest="authenticate",
            SessionTimeout=SESSION_SECONDS,
        ),
    )
    oidc = Action(
        Type="authenticate-oidc",
        Order=1,
        AuthenticateOidcConfig=AuthenticateOidcConfig(
            Issuer=ctx.ref(names.OIDC_ISSUER),
            AuthorizationEndpoint=ctx.ref(names.OIDC_AUTHORIZATION_ENDPOINT),
            TokenEndpoint=ctx.ref(names.OIDC_TOKEN_ENDPOINT),
            UserInfoEndpoint=ctx.ref(names.OIDC_USER_INFO_ENDPOINT),
            ClientId=ctx.ref(names.OIDC_CLIENT_ID),
            # A dynamic reference: the secret never appears in the template or its parameters.
            ClientSecret=Sub(f"{{{{resolve:secretsmanager:${{{names.OIDC_CLIENT_SECRET_ARN}}}}}}}"),
            OnUnauthenticatedRequest="authenticate",
            Scope="openid email",
            SessionTimeout=str(SESSION_SECONDS),
        ),
    )
    cognito_issuer = Sub(
        "https://cognito-idp.${AWS::Region}.amazonaws.com/${PoolId}", PoolId=pool_id
    )
    validate = ListenerRuleAction(
        Type="jwt-validation",
        Order=1,
        JwtValidationConfig=JwtValidationConfig(
            Issuer=If(names.USE_COGNITO_AUTH, cognito_issuer, ctx.ref(names.OIDC_ISSUER)),
            JwksEndpoint=If(
                names.USE_COGNITO_AUTH,
                Sub("${Issuer}/.well-known/jwks.json", Issuer=cognito_issuer),
                ctx.ref(names.OIDC_JWKS_ENDPOINT),
            ),
            AdditionalClaims=[
                If(
                    names.USE_COGNITO_AUTH,
                    JwtValidationActionAdditionalClaim(
                        Name="scope", Format="space-separated-values", Values=[TOKEN_SCOPE]
                    ),
                    JwtValidationActionAdditionalClaim(
                        Name="aud",
                        Format="single-string",
                        Values=[ctx.ref(names.OIDC_TOKEN_AUDIENCE)],
                    ),
                )
            ],
        ),
    )
    return Login(authenticate=If(names.USE_COGNITO_AUTH, cognito, oidc), validate_token=validate)
