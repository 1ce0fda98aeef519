"""The listeners: port 80 (forward, or only redirect to HTTPS with a certificate), port 443 with a
TLS 1.3 policy (login first when AuthMode is set, then forward), and the rule that lets validated
bearer tokens through."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import If, Ref
from troposphere.cloudformation import WaitConditionHandle
from troposphere.elasticloadbalancingv2 import (
    Action,
    Certificate,
    HttpHeaderConfig,
    Listener,
    ListenerRule,
    ListenerRuleAction,
    RedirectConfig,
)
from troposphere.elasticloadbalancingv2 import Condition as RuleCondition

from mlflow_cfn.stack.components.auth import Login
from mlflow_cfn.stack.components.load_balancer import LoadBalancing, if_certificate
from mlflow_cfn.stack.components.load_balancer_inputs import HAS_CERTIFICATE
from mlflow_cfn.stack.components.login_inputs import USE_AUTH
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.logic import checkov_skips
from mlflow_cfn.stack.policies import NO_VALUE

HTTP_LISTENER = "HttpListener"
HTTPS_LISTENER = "HttpsListener"
BEARER_TOKEN_RULE = "BearerTokenListenerRule"
LISTENERS_READY = "ListenersReady"
BEARER_TOKEN_RULE_PRIORITY = 2

#: TLS 1.3 and 1.2 only (omitting SslPolicy gives a 2016 policy that still allows TLS 1.0).
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


_PLAIN_HTTP_REASON = (
    "Port 80 forwards only while CertificateArn is empty, which the Rule "
    "InternetFacingNeedsCertificate allows only for an internal load balancer reached from the "
    "allow-listed CIDRs; with a certificate port 80 only redirects to HTTPS (TLS 1.3 policy)."
)


@dataclass(frozen=True)
class Listeners:
    """The listeners and a handle that exists once the one forwarding to the service does."""

    http: Listener
    https: Listener
    ready: WaitConditionHandle


def add_listeners(ctx: Context, *, load_balancing: LoadBalancing, login: Login) -> Listeners:
    """Add port 80 (forward, or only redirect with a certificate), port 443 (login first when
    AuthMode is set, then forward) and the rule that lets validated bearer tokens through."""
    t = ctx.template
    lb = load_balancing.load_balancer
    forward = Action(Type="forward", TargetGroupArn=Ref(load_balancing.target_group), Order=2)
    redirect = Action(
        Type="redirect",
        RedirectConfig=RedirectConfig(Protocol="HTTPS", Port="443", StatusCode="HTTP_301"),
    )
    http = t.add_resource(
        Listener(
            HTTP_LISTENER,
            LoadBalancerArn=Ref(lb),
            Port=80,
            Protocol="HTTP",
            DefaultActions=[if_certificate(redirect, forward)],
            Metadata=checkov_skips(dict.fromkeys(("CKV_AWS_2", "CKV_AWS_103"), _PLAIN_HTTP_REASON)),
        )
    )
    https = t.add_resource(
        Listener(
            HTTPS_LISTENER,
            Condition=HAS_CERTIFICATE,
            LoadBalancerArn=Ref(lb),
            Port=443,
            Protocol="HTTPS",
            SslPolicy=TLS_POLICY,
            Certificates=[Certificate(CertificateArn=Ref(load_balancing.inputs.certificate_arn))],
            DefaultActions=[If(USE_AUTH, login.authenticate, NO_VALUE), forward],
        )
    )
    _bearer_token_rule(ctx, https, load_balancing, login)
    # ECS refuses a target group that no listener uses yet. The service waits on this handle,
    # which refers to whichever listener forwards to the target group.
    ready = t.add_resource(
        WaitConditionHandle(
            LISTENERS_READY,
            Metadata={"ForwardingListener": if_certificate(Ref(https), Ref(http))},
        )
    )
    return Listeners(http=http, https=https, ready=ready)


def _bearer_token_rule(
    ctx: Context, https: Listener, load_balancing: LoadBalancing, login: Login
) -> None:
    """Programmatic clients cannot log in in a browser: requests that carry a bearer token are
    let through only after the load balancer has validated the token (signature, issuer,
    expiry, and the scope or audience meant for MLflow); a bad token gets 401."""
    ctx.template.add_resource(
        ListenerRule(
            BEARER_TOKEN_RULE,
            Condition=USE_AUTH,
            ListenerArn=Ref(https),
            # 1 belongs to WakeBearerTokenListenerRule, which sends tokens to the wake path
            # while the service sleeps.
            Priority=BEARER_TOKEN_RULE_PRIORITY,
            Conditions=[
                RuleCondition(
                    Field="http-header",
                    HttpHeaderConfig=HttpHeaderConfig(
                        HttpHeaderName="Authorization", Values=["Bearer *"]
                    ),
                )
            ],
            Actions=[
                login.validate_token,
                ListenerRuleAction(
                    Type="forward", TargetGroupArn=Ref(load_balancing.target_group), Order=2
                ),
            ],
        )
    )
