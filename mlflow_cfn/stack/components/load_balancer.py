"""Application Load Balancer: internal by default, reachable from the allow-listed CIDRs only,
access logs on, invalid headers dropped, health checks on /health; the DNS record and the
tracking URI. The listeners are added once the login is known (``listeners.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, If, Output, Parameter, Ref, Sub
from troposphere.ec2 import SecurityGroupIngress
from troposphere.elasticloadbalancingv2 import (
    LoadBalancer,
    LoadBalancerAttributes,
    Matcher,
    TargetGroup,
    TargetGroupAttribute,
)
from troposphere.route53 import AliasTarget, RecordSetType

from mlflow_cfn.stack.components.load_balancer_inputs import (
    CREATE_DNS_RECORD,
    HAS_CERTIFICATE,
    HAS_DOMAIN_NAME,
    LoadBalancerInputs,
    declare_load_balancer_inputs,
    has_https_ingress_cidr,
    has_ingress_cidr,
    ingress_cidr,
)
from mlflow_cfn.stack.components.log_bucket import ALB_LOG_PREFIX
from mlflow_cfn.stack.components.network import CONTAINER_PORT, Network
from mlflow_cfn.stack.components.storage import Storage
from mlflow_cfn.stack.context import Context

LOAD_BALANCER = "LoadBalancer"
TARGET_GROUP = "TargetGroup"
DNS_RECORD = "DnsRecord"
OUT_TRACKING_URI = "TrackingUri"
OUT_LOAD_BALANCER_DNS_NAME = "LoadBalancerDnsName"
HEALTH_CHECK_INTERVAL_SECONDS = 5
HEALTHY_THRESHOLD = 2
#: A task being stopped (idle shutdown, scale-in, a deployment) keeps serving the requests in
#: flight, an upload through the server included, for up to an hour (the most the attribute
#: takes); the load balancer ends the wait as soon as the task has no request in flight and no
#: open connection (Elastic Load Balancing User Guide, "Deregistration delay"), so an idle task
#: stops at once.
DRAIN_SECONDS = 3600


def load_balancer_http_ingress(slot: int) -> str:
    """Logical ID of the port-80 ingress rule for one CIDR slot."""
    return f"LoadBalancerHttpIngress{slot + 1}"


def load_balancer_https_ingress(slot: int) -> str:
    """Logical ID of the port-443 ingress rule for one CIDR slot."""
    return f"LoadBalancerHttpsIngress{slot + 1}"


@dataclass(frozen=True)
class LoadBalancing:
    """The load balancer, its target group and the Parameters the later components wire to."""

    load_balancer: LoadBalancer
    target_group: TargetGroup
    inputs: LoadBalancerInputs


def if_certificate(with_certificate: object, without: object) -> If:
    """Fn::If on HasCertificate."""
    return If(HAS_CERTIFICATE, with_certificate, without)


def _client_ingress(ctx: Context, inputs: LoadBalancerInputs, network: Network) -> None:
    """Ports 80 and 443 (443 with a certificate) from each allow-listed CIDR."""
    for slot in range(ctx.options.ingress_cidr_slots):
        for port, logical_id, only_if in (
            (80, load_balancer_http_ingress(slot), None if slot == 0 else has_ingress_cidr(slot)),
            (
                443,
                load_balancer_https_ingress(slot),
                HAS_CERTIFICATE if slot == 0 else has_https_ingress_cidr(slot),
            ),
        ):
            rule = SecurityGroupIngress(
                logical_id,
                GroupId=GetAtt(network.load_balancer, "GroupId"),
                IpProtocol="tcp",
                FromPort=port,
                ToPort=port,
                CidrIp=ingress_cidr(ctx, inputs, slot),
                Description=f"{'HTTP' if port == 80 else 'HTTPS'} from allowed client CIDR "
                f"{slot + 1}",
            )
            if only_if:
                rule.Condition = only_if
            ctx.template.add_resource(rule)


def _load_balancer(
    ctx: Context, inputs: LoadBalancerInputs, storage: Storage, network: Network
) -> LoadBalancer:
    return ctx.template.add_resource(
        LoadBalancer(
            LOAD_BALANCER,
            Type="application",
            Scheme=Ref(inputs.scheme),
            Subnets=Ref(network.load_balancer_subnets),
            SecurityGroups=[GetAtt(network.load_balancer, "GroupId")],
            LoadBalancerAttributes=[
                LoadBalancerAttributes(Key=k, Value=v)
                for k, v in (
                    ("routing.http.drop_invalid_header_fields.enabled", "true"),
                    ("access_logs.s3.enabled", "true"),
                    ("access_logs.s3.bucket", Ref(storage.log_bucket)),
                    ("access_logs.s3.prefix", ALB_LOG_PREFIX.rstrip("/")),
                    ("deletion_protection.enabled", Ref(inputs.deletion_protection)),
                    ("idle_timeout.timeout_seconds", Ref(inputs.idle_timeout)),
                )
            ],
            # The bucket policy must allow log delivery before access logs can be switched on.
            DependsOn=[storage.log_bucket_policy],
        )
    )


def _target_group(ctx: Context, network: Network) -> TargetGroup:
    return ctx.template.add_resource(
        TargetGroup(
            TARGET_GROUP,
            VpcId=Ref(network.vpc_id),
            TargetType="ip",
            Protocol="HTTP",
            Port=CONTAINER_PORT,
            HealthCheckPath="/health",
            # A starting task is healthy after two checks, 5 s apart (the shortest interval the
            # provider schema allows; the timeout must be shorter than the interval); one is
            # taken out after 9 failures in a row (45 s, as 3 checks 15 s apart were).
            HealthCheckIntervalSeconds=HEALTH_CHECK_INTERVAL_SECONDS,
            HealthCheckTimeoutSeconds=4,
            HealthyThresholdCount=HEALTHY_THRESHOLD,
            UnhealthyThresholdCount=9,
            Matcher=Matcher(HttpCode="200"),
            TargetGroupAttributes=[
                TargetGroupAttribute(
                    Key="deregistration_delay.timeout_seconds", Value=str(DRAIN_SECONDS)
                ),
            ],
        )
    )


def _dns_and_outputs(ctx: Context, inputs: LoadBalancerInputs, lb: LoadBalancer) -> None:
    domain: Parameter = inputs.domain_name
    ctx.template.add_resource(
        RecordSetType(
            DNS_RECORD,
            Condition=CREATE_DNS_RECORD,
            HostedZoneId=Ref(inputs.hosted_zone_id),
            Name=Ref(domain),
            Type="A",
            AliasTarget=AliasTarget(
                DNSName=GetAtt(lb, "DNSName"),
                HostedZoneId=GetAtt(lb, "CanonicalHostedZoneID"),
                EvaluateTargetHealth=True,
            ),
        )
    )
    ctx.template.add_output(
        Output(
            OUT_LOAD_BALANCER_DNS_NAME,
            Description="DNS name of the load balancer (point your domain's record at it)",
            Value=GetAtt(lb, "DNSName"),
        )
    )
    ctx.template.add_output(
        Output(
            OUT_TRACKING_URI,
            Description="MLFLOW_TRACKING_URI for clients and the address of the UI",
            Value=Sub(
                "${Scheme}://${Host}",
                Scheme=if_certificate("https", "http"),
                Host=If(HAS_DOMAIN_NAME, Ref(domain), GetAtt(lb, "DNSName")),
            ),
        )
    )


def add_load_balancer(ctx: Context, *, storage: Storage, network: Network) -> LoadBalancing:
    """Declare the load balancer's Parameters; add the client ingress rules, the load balancer,
    its target group, the DNS record (with HostedZoneId) and the outputs."""
    inputs = declare_load_balancer_inputs(ctx)
    _client_ingress(ctx, inputs, network)
    lb = _load_balancer(ctx, inputs, storage, network)
    target_group = _target_group(ctx, network)
    _dns_and_outputs(ctx, inputs, lb)
    return LoadBalancing(load_balancer=lb, target_group=target_group, inputs=inputs)
