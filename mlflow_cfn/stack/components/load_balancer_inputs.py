"""How clients reach MLflow: the load balancer's Parameters (who may connect, scheme, certificate,
domain name, deletion protection, DNS zone), its Conditions and Rules."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import And, Equals, Not, Parameter

from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.interface import GROUP_LOAD_BALANCER
from mlflow_cfn.stack.logic import assertion, condition, given, is_value, list_item
from mlflow_cfn.stack.parameters import (
    IPV4_CIDR_PATTERN,
    PARTITION,
    ParameterSpec,
    boolean,
    optional,
)

# Parameters
LOAD_BALANCER_INGRESS_CIDRS = "LoadBalancerIngressCidrs"
LOAD_BALANCER_SCHEME = "LoadBalancerScheme"
CERTIFICATE_ARN = "CertificateArn"
DOMAIN_NAME = "DomainName"
LOAD_BALANCER_DELETION_PROTECTION = "LoadBalancerDeletionProtection"
HOSTED_ZONE_ID = "HostedZoneId"
LOAD_BALANCER_IDLE_TIMEOUT_SECONDS = "LoadBalancerIdleTimeoutSeconds"
# Conditions and Rules
HAS_CERTIFICATE = "HasCertificate"
HAS_DOMAIN_NAME = "HasDomainName"
CREATE_DNS_RECORD = "CreateDnsRecord"
RULE_INTERNET_FACING_NEEDS_CERTIFICATE = "InternetFacingNeedsCertificate"
RULE_HOSTED_ZONE_NEEDS_DOMAIN = "HostedZoneNeedsDomainName"

#: The load balancer's idle timeout: 1 to 4000 s, 60 s when not set (ELB API reference,
#: LoadBalancerAttribute idle_timeout.timeout_seconds,
#: https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerAttribute.html).
#: Below 60 s it would cut ordinary slow requests, hence the floor.
IDLE_TIMEOUT_RANGE = (60, 4000)
#: A proxied transfer is silent towards the client while the server moves the whole file between
#: its disk and S3: after the last byte of an upload (boto3 puts it, 8 MiB parts, 10 at a time)
#: and before the first byte of a download. AWS's S3 performance guide counts 85-90 MB/s per
#: request (https://docs.aws.amazon.com/whitepapers/latest/s3-optimizing-performance-best-practices/
#: horizontal-scaling-and-request-parallelization-for-high-throughput.html); at that single-request
#: rate (the floor, should the task's network allow no more) 300 s of silence is about 25 GB, more
#: than MLflow's own client waits for an answer by default (MLFLOW_HTTP_REQUEST_TIMEOUT, 120 s).
DEFAULT_IDLE_TIMEOUT_SECONDS = 300


def has_ingress_cidr(slot: int) -> str:
    """Condition: the ingress CIDR list has an entry at ``slot`` (0-based)."""
    return f"HasLoadBalancerIngressCidr{slot + 1}"


def has_https_ingress_cidr(slot: int) -> str:
    """Condition: a certificate is set and the ingress CIDR list has an entry at ``slot``."""
    return f"HasHttpsLoadBalancerIngressCidr{slot + 1}"


@dataclass(frozen=True)
class LoadBalancerInputs:
    """The load balancer's Parameters."""

    ingress_cidrs: Parameter
    scheme: Parameter
    certificate_arn: Parameter
    domain_name: Parameter
    deletion_protection: Parameter
    hosted_zone_id: Parameter
    idle_timeout: Parameter


def _ingress_spec(slots: int) -> ParameterSpec:
    return ParameterSpec(
        LOAD_BALANCER_INGRESS_CIDRS,
        "String",
        f"Comma-separated IPv4 CIDRs (up to {slots}, no spaces) allowed to reach the load "
        "balancer, e.g. 10.0.0.0/8,192.168.0.0/16.",
        "Allowed client CIDRs",
        GROUP_LOAD_BALANCER,
        allowed_pattern=rf"^{IPV4_CIDR_PATTERN}(,{IPV4_CIDR_PATTERN}){{0,{slots - 1}}}$",
        constraint_description=(
            f"{LOAD_BALANCER_INGRESS_CIDRS} must be 1 to {slots} IPv4 CIDRs such as "
            "10.0.0.0/8, separated by commas without spaces."
        ),
    )


def _endpoint_specs() -> list[ParameterSpec]:
    return [
        ParameterSpec(
            LOAD_BALANCER_SCHEME,
            "String",
            "internal (reachable only inside your network, the default) or internet-facing "
            "(needs CertificateArn and public subnets).",
            "Load balancer scheme",
            GROUP_LOAD_BALANCER,
            default="internal",
            allowed_values=("internal", "internet-facing"),
            constraint_description=f"{LOAD_BALANCER_SCHEME} must be internal or internet-facing.",
        ),
        ParameterSpec(
            CERTIFICATE_ARN,
            "String",
            "ACM certificate ARN for HTTPS. Empty serves plain HTTP on port 80; when set, port "
            "443 serves HTTPS (TLS 1.3 policy) and port 80 only redirects to it.",
            "ACM certificate ARN",
            GROUP_LOAD_BALANCER,
            default="",
            allowed_pattern=rf"^$|^arn:{PARTITION}:acm:[a-z0-9-]+:[0-9]{{12}}:certificate/[A-Za-z0-9-]+$",
            constraint_description=(
                f"{CERTIFICATE_ARN} must be empty or an ACM certificate ARN such as "
                "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-..."
            ),
        ),
        ParameterSpec(
            DOMAIN_NAME,
            "String",
            "The host name users reach MLflow by (e.g. mlflow.example.com), empty for none. "
            "MLflow only answers requests whose Host is this name or the load balancer's.",
            "Custom domain name",
            GROUP_LOAD_BALANCER,
            default="",
            allowed_pattern=(
                r"^$|^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$"
            ),
            constraint_description=(
                f"{DOMAIN_NAME} must be empty or a lower-case host name such as mlflow.example.com."
            ),
        ),
        boolean(
            LOAD_BALANCER_DELETION_PROTECTION,
            "Protect the load balancer from deletion (turn off before deleting the stack).",
            "Load balancer deletion protection",
            GROUP_LOAD_BALANCER,
            "false",
        ),
        optional(
            HOSTED_ZONE_ID,
            "Route 53 hosted zone of DomainName: when set, the stack creates an alias record "
            "for the domain pointing at the load balancer. Empty: manage DNS yourself.",
            "Route 53 hosted zone ID",
            GROUP_LOAD_BALANCER,
            r"Z[A-Z0-9]{1,31}",  # Route 53 ResourceId: at most 32 characters
            "Z0123456789ABCDEFGHIJ",
        ),
    ]


def _idle_timeout_spec() -> ParameterSpec:
    return ParameterSpec(
        LOAD_BALANCER_IDLE_TIMEOUT_SECONDS,
        "Number",
        "Seconds a connection may stay silent before the load balancer closes it (504 to the "
        "client). A large artifact streamed through the server is silent while the server "
        "moves it to or from S3: the default lets about 25 GB through at a single S3 "
        "request's rate. Raise MLFLOW_HTTP_REQUEST_TIMEOUT on the clients to match.",
        "Idle timeout (seconds)",
        GROUP_LOAD_BALANCER,
        default=DEFAULT_IDLE_TIMEOUT_SECONDS,
        min_value=IDLE_TIMEOUT_RANGE[0],
        max_value=IDLE_TIMEOUT_RANGE[1],
        constraint_description=(
            f"{LOAD_BALANCER_IDLE_TIMEOUT_SECONDS} must be a whole number of seconds from "
            f"{IDLE_TIMEOUT_RANGE[0]} to {IDLE_TIMEOUT_RANGE[1]} (the most an Application "
            "Load Balancer allows)."
        ),
    )


def ingress_cidr(ctx: Context, inputs: LoadBalancerInputs, slot: int) -> object:
    """The CIDR at ``slot`` of LoadBalancerIngressCidrs, or "" past its end."""
    return list_item(inputs.ingress_cidrs, ctx.options.ingress_cidr_slots, slot)


def _declare_ingress_conditions(ctx: Context, inputs: LoadBalancerInputs) -> None:
    for slot in range(1, ctx.options.ingress_cidr_slots):
        cidr_given = Not(Equals(ingress_cidr(ctx, inputs, slot), ""))
        ctx.condition(has_ingress_cidr(slot), cidr_given)
        ctx.condition(
            has_https_ingress_cidr(slot),
            And(condition(HAS_CERTIFICATE), condition(has_ingress_cidr(slot))),
        )


def declare_load_balancer_inputs(ctx: Context) -> LoadBalancerInputs:
    """Declare the Parameters, Conditions and Rules of the load balancer."""
    inputs = LoadBalancerInputs(
        *ctx.parameters(
            _ingress_spec(ctx.options.ingress_cidr_slots), *_endpoint_specs(), _idle_timeout_spec()
        )
    )
    ctx.condition(HAS_CERTIFICATE, given(inputs.certificate_arn))
    ctx.condition(HAS_DOMAIN_NAME, given(inputs.domain_name))
    ctx.condition(CREATE_DNS_RECORD, And(condition(HAS_DOMAIN_NAME), given(inputs.hosted_zone_id)))
    _declare_ingress_conditions(ctx, inputs)
    ctx.rule(
        RULE_INTERNET_FACING_NEEDS_CERTIFICATE,
        [
            assertion(
                given(inputs.certificate_arn),
                f"{LOAD_BALANCER_SCHEME}=internet-facing needs {CERTIFICATE_ARN}: an "
                "internet-facing MLflow is served over HTTPS only.",
            )
        ],
        when=is_value(inputs.scheme, "internet-facing"),
    )
    ctx.rule(
        RULE_HOSTED_ZONE_NEEDS_DOMAIN,
        [
            assertion(
                given(inputs.domain_name),
                f"{HOSTED_ZONE_ID} needs {DOMAIN_NAME}: the record is for it.",
            )
        ],
        when=given(inputs.hosted_zone_id),
    )
    return inputs
