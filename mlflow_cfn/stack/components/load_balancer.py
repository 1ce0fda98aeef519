"""Application Load Balancer: internal by default, HTTP forwarding or HTTPS (TLS 1.3) with port 80
only redirecting, access logs on, invalid headers dropped, health checks on /health."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, If, Output, Ref, Sub
from troposphere.cloudformation import WaitConditionHandle
from troposphere.elasticloadbalancingv2 import (
    Action,
    Certificate,
    HttpHeaderConfig,
    Listener,
    ListenerRule,
    ListenerRuleAction,
    LoadBalancer,
    LoadBalancerAttributes,
    Matcher,
    RedirectConfig,
    TargetGroup,
    TargetGroupAttribute,
)
from troposphere.elasticloadbalancingv2 import Condition as RuleCondition
from troposphere.route53 import AliasTarget, RecordSetType

from mlflow_cfn.stack import names
from mlflow_cfn.stack.components.auth import Login
from mlflow_cfn.stack.components.network import CONTAINER_PORT, SecurityGroups
from mlflow_cfn.stack.components.storage import ALB_LOG_PREFIX, Storage
from mlflow_cfn.stack.conditions import if_certificate
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.policies import NO_VALUE

#: TLS 1.3 and 1.2 only (omitting SslPolicy gives a 2016 policy that still allows TLS 1.0).
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


_PLAIN_HTTP_REASON = (
    "Port 80 forwards only while CertificateArn is empty, which the Rule "
    "InternetFacingNeedsCertificate allows only for an internal load balancer reached from the "
    "allow-listed CIDRs; with a certificate port 80 only redirects to HTTPS (TLS 1.3 policy)."
)


@dataclass(frozen=True)
class LoadBalancing:
    """The load balancer and its target group."""

    load_balancer: LoadBalancer
    target_group: TargetGroup


@dataclass(frozen=True)
class Listeners:
    """The listeners and a handle that exists once the one forwarding to the service does."""

    http: Listener
    https: Listener
    ready: WaitConditionHandle


def add_load_balancer(
    ctx: Context, *, storage: Storage, security_groups: SecurityGroups
) -> LoadBalancing:
    """Add the load balancer, its target group, the DNS record (with HostedZoneId), outputs."""
    t = ctx.template
    lb = t.add_resource(
        LoadBalancer(
            names.LOAD_BALANCER,
            Type="application",
            Scheme=ctx.ref(names.LOAD_BALANCER_SCHEME),
            Subnets=ctx.ref(names.LOAD_BALANCER_SUBNET_IDS),
            SecurityGroups=[GetAtt(security_groups.load_balancer, "GroupId")],
            LoadBalancerAttributes=[
                LoadBalancerAttributes(Key=k, Value=v)
                for k, v in (
                    ("routing.http.drop_invalid_header_fields.enabled", "true"),
                    ("access_logs.s3.enabled", "true"),
                    ("access_logs.s3.bucket", Ref(storage.log_bucket)),
                    ("access_logs.s3.prefix", ALB_LOG_PREFIX.rstrip("/")),
                    (
                        "deletion_protection.enabled",
                        ctx.ref(names.LOAD_BALANCER_DELETION_PROTECTION),
                    ),
                )
            ],
            # The bucket policy must allow log delivery before access logs can be switched on.
            DependsOn=[storage.log_bucket_policy],
        )
    )
    target_group = t.add_resource(
        TargetGroup(
            names.TARGET_GROUP,
            VpcId=ctx.ref(names.VPC_ID),
            TargetType="ip",
            Protocol="HTTP",
            Port=CONTAINER_PORT,
            HealthCheckPath="/health",
            HealthCheckIntervalSeconds=15,
            HealthyThresholdCount=2,
            UnhealthyThresholdCount=3,
            Matcher=Matcher(HttpCode="200"),
            TargetGroupAttributes=[
                # The server stops within 15 s of SIGTERM; don't keep draining longer than that.
                TargetGroupAttribute(Key="deregistration_delay.timeout_seconds", Value="30"),
            ],
        )
    )
    t.add_resource(
        RecordSetType(
            names.DNS_RECORD,
            Condition=names.CREATE_DNS_RECORD,
            HostedZoneId=ctx.ref(names.HOSTED_ZONE_ID),
            Name=ctx.ref(names.DOMAIN_NAME),
            Type="A",
            AliasTarget=AliasTarget(
                DNSName=GetAtt(lb, "DNSName"),
                HostedZoneId=GetAtt(lb, "CanonicalHostedZoneID"),
                EvaluateTargetHealth=True,
            ),
        )
    )
    t.add_output(
        Output(
            names.OUT_LOAD_BALANCER_DNS_NAME,
            Description="DNS name of the load balancer (point your domain's record at it)",
            Value=GetAtt(lb, "DNSName"),
        )
    )
    t.add_output(
        Output(
            names.OUT_TRACKING_URI,
            Description="MLFLOW_TRACKING_URI for clients and the address of the UI",
            Value=Sub(
                "${Scheme}://${Host}",
                Scheme=if_certificate("https", "http"),
                Host=If(names.HAS_DOMAIN_NAME, ctx.ref(names.DOMAIN_NAME), GetAtt(lb, "DNSName")),
            ),
        )
    )
    return LoadBalancing(load_balancer=lb, target_group=target_group)


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
            names.HTTP_LISTENER,
            LoadBalancerArn=Ref(lb),
            Port=80,
            Protocol="HTTP",
            DefaultActions=[if_certificate(redirect, forward)],
            Metadata={
                "checkov": {
                    "skip": [
                        {"id": check, "comment": _PLAIN_HTTP_REASON}
                        for check in ("CKV_AWS_2", "CKV_AWS_103")
                    ]
                }
            },
        )
    )
    https = t.add_resource(
        Listener(
            names.HTTPS_LISTENER,
            Condition=names.HAS_CERTIFICATE,
            LoadBalancerArn=Ref(lb),
            Port=443,
            Protocol="HTTPS",
            SslPolicy=TLS_POLICY,
            Certificates=[Certificate(CertificateArn=ctx.ref(names.CERTIFICATE_ARN))],
            DefaultActions=[If(names.USE_AUTH, login.authenticate, NO_VALUE), forward],
        )
    )
    # Programmatic clients cannot log in in a browser: requests that carry a bearer token are
    # let through only after the load balancer has validated the token (signature, issuer,
    # expiry, and the scope or audience meant for MLflow); a bad token gets 401.
    t.add_resource(
        ListenerRule(
            names.BEARER_TOKEN_RULE,
            Condition=names.USE_AUTH,
            ListenerArn=Ref(https),
            Priority=1,
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
    # ECS refuses a target group that no listener uses yet. The service waits on this handle,
    # which refers to whichever listener forwards to the target group.
    ready = t.add_resource(
        WaitConditionHandle(
            names.LISTENERS_READY,
            Metadata={"ForwardingListener": if_certificate(Ref(https), Ref(http))},
        )
    )
    return Listeners(http=http, https=https, ready=ready)
