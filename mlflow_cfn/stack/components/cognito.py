"""The Cognito user pool the stack creates for AuthMode=cognito (unless the launcher gives
theirs): admin-created users, a strong password policy, optional TOTP MFA, retained and
deletion-protected; a domain, a browser client for the load balancer, and a client-credentials
client with the ``mlflow/api`` scope for CI. With the launcher's pool, which other stacks may
share, bearer tokens must carry the scope the launcher names for this stack
(CognitoTokenScope)."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import FindInMap, GetAtt, If, Output, Ref, Select, Split, Sub
from troposphere.cognito import (
    AccountRecoverySetting,
    AdminCreateUserConfig,
    IssuerConfiguration,
    PasswordPolicy,
    Policies,
    RecoveryOption,
    ResourceServerScopeType,
    UserPool,
    UserPoolClient,
    UserPoolDomain,
    UserPoolResourceServer,
)

from mlflow_cfn.stack.components.load_balancer_inputs import DOMAIN_NAME
from mlflow_cfn.stack.components.login_inputs import (
    CREATE_COGNITO_USER_POOL,
    USE_COGNITO_AUTH,
    LoginInputs,
)
from mlflow_cfn.stack.components.retention import KEEP
from mlflow_cfn.stack.context import Context

COGNITO_USER_POOL = "CognitoUserPool"
COGNITO_USER_POOL_DOMAIN_RESOURCE = "CognitoUserPoolDomainResource"
COGNITO_BROWSER_CLIENT = "CognitoBrowserClient"
COGNITO_RESOURCE_SERVER = "CognitoResourceServer"
COGNITO_MACHINE_CLIENT = "CognitoMachineClient"
OUT_COGNITO_USER_POOL_ID = "CognitoUserPoolId"
OUT_COGNITO_TOKEN_URL = "CognitoTokenUrl"
OUT_COGNITO_MACHINE_CLIENT_ID = "CognitoMachineClientId"
OUT_TOKEN_SCOPE = "TokenScope"
MAP_COGNITO_HOSTED_DOMAINS = "CognitoHostedDomains"

#: Where a prefix domain is hosted, by partition: ``<prefix>.<Auth>.<region>.<Suffix>``.
#: GovCloud serves only FIPS endpoints (auth-fips); China's root domain is amazoncognito.com.cn.
COGNITO_HOSTED_DOMAINS = {
    "aws": {"Auth": "auth", "Suffix": "amazoncognito.com"},
    "aws-cn": {"Auth": "auth", "Suffix": "amazoncognito.com.cn"},
    "aws-us-gov": {"Auth": "auth-fips", "Suffix": "amazoncognito.com"},
}

#: The stack's UUID: unique, lower-case and 36 characters whatever the stack name (which may be
#: 128 characters long, or have capitals), so names built from it always fit.
STACK_UUID = Select(2, Split("/", Ref("AWS::StackId")))

#: The OAuth scope machine clients ask for; tokens without it are refused at the load balancer.
RESOURCE_SERVER = "mlflow"
API_SCOPE = "api"
TOKEN_SCOPE = f"{RESOURCE_SERVER}/{API_SCOPE}"


#: The issuer type the stack's pool keeps, whatever Cognito's default for new pools becomes:
#: ``ORIGINAL`` issues tokens from ``https://cognito-idp.<region>.amazonaws.com/<pool id>``,
#: ``UPDATED`` from ``https://issuer-cognito-idp.<region>...`` (botocore's cognito-idp model,
#: IssuerType; the updated issuer serves multi-Region replication, Amazon Cognito Developer Guide,
#: "Multi-Region replication for user pools"). The load balancer's login and its bearer-token
#: rule are configured for one issuer: a change must be a deliberate new template version.
ISSUER_TYPE = "ORIGINAL"


@dataclass(frozen=True)
class CognitoPool:
    """The pool the login uses: the stack's or the launcher's (each value an Fn::If), the issuer
    its tokens carry, and the scope this stack's bearer tokens must carry."""

    arn: If
    browser_client_id: If
    domain: If
    pool_id: If
    issuer: If
    token_scope: If


def _user_pool(ctx: Context) -> UserPool:
    return ctx.template.add_resource(
        UserPool(
            COGNITO_USER_POOL,
            Condition=CREATE_COGNITO_USER_POOL,
            # Not the stack name: a pool name has at most 128 characters, a stack name as many.
            UserPoolName=Sub("mlflow-${Id}", Id=STACK_UUID),
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
            IssuerConfiguration=IssuerConfiguration(Type=ISSUER_TYPE),
            # The users are the customer's: never lost with the stack. Retain even after a failed
            # first create: DeletionProtection makes the rollback's delete fail (retention.py).
            DeletionPolicy=KEEP,
            UpdateReplacePolicy="Retain",
        )
    )


def _clients(ctx: Context, pool: UserPool) -> tuple[UserPoolClient, UserPoolClient]:
    """The browser client (authorization code, for the load balancer) and the CI client."""
    t = ctx.template
    browser = t.add_resource(
        UserPoolClient(
            COGNITO_BROWSER_CLIENT,
            Condition=CREATE_COGNITO_USER_POOL,
            UserPoolId=Ref(pool),
            GenerateSecret=True,  # the load balancer is a confidential client
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email"],
            SupportedIdentityProviders=["COGNITO"],
            # Login needs DomainName (Rule AuthNeedsCertificate): the certificate is
            # for it, and browsers send it lower-case as Cognito compares it.
            CallbackURLs=[Sub(f"https://${{{DOMAIN_NAME}}}/oauth2/idpresponse")],
            PreventUserExistenceErrors="ENABLED",
        )
    )
    server = t.add_resource(
        UserPoolResourceServer(
            COGNITO_RESOURCE_SERVER,
            Condition=CREATE_COGNITO_USER_POOL,
            UserPoolId=Ref(pool),
            Identifier=RESOURCE_SERVER,
            Name="MLflow tracking API",
            Scopes=[ResourceServerScopeType(ScopeName=API_SCOPE, ScopeDescription="Use MLflow")],
        )
    )
    machine = t.add_resource(
        UserPoolClient(
            COGNITO_MACHINE_CLIENT,
            Condition=CREATE_COGNITO_USER_POOL,
            UserPoolId=Ref(pool),
            GenerateSecret=True,
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthScopes=[TOKEN_SCOPE],
            DependsOn=[server],
        )
    )
    return browser, machine


def _hosted(key: str) -> FindInMap:
    """One part of the partition's hosted-domain name (`COGNITO_HOSTED_DOMAINS`)."""
    return FindInMap(MAP_COGNITO_HOSTED_DOMAINS, Ref("AWS::Partition"), key)


def _outputs(
    ctx: Context, pool_id: If, domain: UserPoolDomain, machine: UserPoolClient, scope: If
) -> None:
    for name, condition, description, value in (
        (OUT_COGNITO_USER_POOL_ID, USE_COGNITO_AUTH,
         "Cognito user pool (add users with admin-create-user)", pool_id),
        (OUT_COGNITO_TOKEN_URL, CREATE_COGNITO_USER_POOL,
         "Where CI clients get a bearer token (client_credentials grant)",
         Sub("https://${Domain}.${Auth}.${AWS::Region}.${Suffix}/oauth2/token",
             Domain=Ref(domain), Auth=_hosted("Auth"), Suffix=_hosted("Suffix"))),
        (OUT_COGNITO_MACHINE_CLIENT_ID, CREATE_COGNITO_USER_POOL,
         "App client for CI (its secret: aws cognito-idp describe-user-pool-client)",
         Ref(machine)),
        (OUT_TOKEN_SCOPE, USE_COGNITO_AUTH, "OAuth scope a CI client's token must carry",
         scope),
    ):  # fmt: skip
        ctx.template.add_output(
            Output(name, Condition=condition, Description=description, Value=value)
        )


def add_cognito_pool(ctx: Context, inputs: LoginInputs) -> CognitoPool:
    """Create the user pool, its domain and clients unless the launcher gave theirs; return the
    pool to use."""
    create = CREATE_COGNITO_USER_POOL
    pool = _user_pool(ctx)
    # A globally unique, lower-case prefix: the stack's UUID (stack names may have capitals).
    domain = ctx.template.add_resource(
        UserPoolDomain(
            COGNITO_USER_POOL_DOMAIN_RESOURCE,
            Condition=create,
            UserPoolId=Ref(pool),
            Domain=Sub("mlflow-${Id}", Id=STACK_UUID),
        )
    )
    browser, machine = _clients(ctx, pool)
    ctx.template.add_mapping(MAP_COGNITO_HOSTED_DOMAINS, COGNITO_HOSTED_DOMAINS)
    launchers_pool_id = Select(1, Split("/", Ref(inputs.cognito_pool_arn)))
    pool_id = If(create, Ref(pool), launchers_pool_id)
    # The stack's pool is its own (its own issuer); a launcher's may be shared, so its stacks
    # tell their tokens apart by a scope each.
    scope = If(create, TOKEN_SCOPE, Ref(inputs.cognito_token_scope))
    _outputs(ctx, pool_id, domain, machine, scope)
    return CognitoPool(
        arn=If(create, GetAtt(pool, "Arn"), Ref(inputs.cognito_pool_arn)),
        browser_client_id=If(create, Ref(browser), Ref(inputs.cognito_client_id)),
        domain=If(create, Ref(domain), Ref(inputs.cognito_domain)),
        pool_id=pool_id,
        issuer=_issuer(pool, launchers_pool_id),
        token_scope=scope,
    )


def _issuer(pool: UserPool, launchers_pool_id: Select) -> If:
    """The issuer of the pool's tokens. The stack's pool says it itself (``ProviderURL``, the
    issuer URL Cognito reports, e.g. ``https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x``,
    which AWS's own samples use as the base of the JWKS URL: aws-samples/generative-ai-use-cases,
    ``${userPool.userPoolProviderUrl}/.well-known/jwks.json``), so it follows the pool's issuer
    type and endpoint wherever the stack runs. A launcher's pool can only be named: the original
    issuer in this region (README: bring a pool with the original issuer)."""
    return If(
        CREATE_COGNITO_USER_POOL,
        GetAtt(pool, "ProviderURL"),
        Sub(
            "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${PoolId}",
            PoolId=launchers_pool_id,
        ),
    )
