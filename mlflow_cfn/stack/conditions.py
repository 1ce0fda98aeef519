"""Conditions (Has*/Use*) and Mappings derived from Parameters, each added once by its name."""

from __future__ import annotations

from troposphere import And, Equals, If, Not, Or, Ref, Select, Split, Sub

from mlflow_cfn.stack import names
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.engines import engine_mapping

#: Regions whose load balancers deliver access logs as an ELB-owned account (regions opened
#: later use the logdelivery.elasticloadbalancing.amazonaws.com service principal instead).
#: Source: Elastic Load Balancing user guide, "Enable access logs", bucket policy section.
ELB_LOG_DELIVERY_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580",
    "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
}

#: Server worker processes per task size: one per vCPU, at least one (requests are also served
#: concurrently by threads inside each worker).
WORKERS_BY_TASK_CPU = {"256": "1", "512": "1", "1024": "2", "2048": "4", "4096": "8"}


def _any_of(conditions: list) -> object:
    """Fn::Or over any number of conditions (Fn::Or takes 2 to 10)."""
    if len(conditions) == 1:
        return conditions[0]
    chunks = [conditions[i : i + 9] for i in range(0, len(conditions), 9)]
    parts = [Or(*chunk) if len(chunk) > 1 else chunk[0] for chunk in chunks]
    return parts[0] if len(parts) == 1 else Or(*parts)


def ingress_cidr(ctx: Context, slot: int) -> Select:
    """The CIDR at ``slot`` of LoadBalancerIngressCidrs, or "" past its end (the list is padded)."""
    padding = "," * (ctx.options.ingress_cidr_slots - 1)
    padded = Sub(f"${{{names.LOAD_BALANCER_INGRESS_CIDRS}}}{padding}")
    return Select(slot, Split(",", padded))


def https_ingress_condition(slot: int) -> str:
    """The condition under which the port-443 ingress rule of ``slot`` exists."""
    return names.HAS_CERTIFICATE if slot == 0 else names.has_https_ingress_cidr(slot)


def ingress_condition(slot: int) -> str | None:
    """The condition under which the port-80 ingress rule of ``slot`` exists (slot 0 always)."""
    return None if slot == 0 else names.has_ingress_cidr(slot)


def sidecar_variable(ctx: Context, slot: int) -> Select:
    """The NAME=value pair at ``slot`` of SidecarEnvironment, or "" past its end."""
    padding = "," * (ctx.options.sidecar_environment_slots - 1)
    padded = Sub(f"${{{names.SIDECAR_ENVIRONMENT}}}{padding}")
    return Select(slot, Split(",", padded))


def _given(ctx: Context, name: str) -> Not:
    """The Parameter ``name`` is not empty."""
    return Not(Equals(ctx.ref(name), ""))


def _condition(name: str) -> dict:
    return {"Condition": name}


def add_conditions(ctx: Context) -> None:
    """Add every Condition and Mapping of the template."""
    t = ctx.template
    t.add_condition(names.HAS_CERTIFICATE, _given(ctx, names.CERTIFICATE_ARN))
    t.add_condition(names.HAS_DOMAIN_NAME, _given(ctx, names.DOMAIN_NAME))
    t.add_condition(names.CREATE_ARTIFACT_BUCKET, Equals(ctx.ref(names.ARTIFACT_BUCKET_NAME), ""))
    t.add_condition(
        names.USE_ARTIFACT_BUCKET_KMS_KEY, _given(ctx, names.ARTIFACT_BUCKET_KMS_KEY_ARN)
    )
    t.add_condition(names.HAS_READ_ONLY_BUCKETS, _given(ctx, names.ARTIFACT_READ_ONLY_BUCKET_ARNS))
    t.add_condition(names.USE_AUTH, Not(Equals(ctx.ref(names.AUTH_MODE), "none")))
    t.add_condition(names.USE_COGNITO_AUTH, Equals(ctx.ref(names.AUTH_MODE), "cognito"))
    t.add_condition(
        names.CREATE_COGNITO_USER_POOL,
        And(
            _condition(names.USE_COGNITO_AUTH),
            Equals(ctx.ref(names.COGNITO_USER_POOL_ARN), ""),
        ),
    )
    t.add_condition(names.HAS_SIDECAR, _given(ctx, names.SIDECAR_IMAGE))
    t.add_condition(
        names.HAS_SIDECAR_SECRET,
        And(_condition(names.HAS_SIDECAR), _given(ctx, names.SIDECAR_SECRET_ARN)),
    )
    for slot in range(ctx.options.sidecar_environment_slots):
        t.add_condition(
            names.has_sidecar_variable(slot), Not(Equals(sidecar_variable(ctx, slot), ""))
        )
    t.add_condition(names.ENABLE_AUTOSCALING, Not(Equals(ctx.ref(names.SCALING_METRIC), "none")))
    t.add_condition(
        names.USE_REQUEST_COUNT_SCALING, Equals(ctx.ref(names.SCALING_METRIC), "requests")
    )
    t.add_condition(names.ENABLE_SCHEDULE, _given(ctx, names.SCALE_UP_SCHEDULE))
    t.add_condition(
        names.USE_SCALABLE_TARGET,
        Or(_condition(names.ENABLE_AUTOSCALING), _condition(names.ENABLE_SCHEDULE)),
    )
    t.add_condition(names.USE_MYSQL, Equals(ctx.ref(names.DATABASE_ENGINE), "aurora-mysql"))
    t.add_condition(
        names.ENABLE_DATABASE_HIGH_AVAILABILITY,
        Equals(ctx.ref(names.DATABASE_HIGH_AVAILABILITY), "true"),
    )
    t.add_condition(
        names.CREATE_DNS_RECORD,
        And(_condition(names.HAS_DOMAIN_NAME), _given(ctx, names.HOSTED_ZONE_ID)),
    )
    t.add_condition(
        names.USE_ELB_LOG_DELIVERY_ACCOUNT,
        _any_of([Equals(Ref("AWS::Region"), r) for r in ELB_LOG_DELIVERY_ACCOUNTS]),
    )
    for slot in range(1, ctx.options.ingress_cidr_slots):
        t.add_condition(names.has_ingress_cidr(slot), Not(Equals(ingress_cidr(ctx, slot), "")))
        t.add_condition(
            names.has_https_ingress_cidr(slot),
            And(_condition(names.HAS_CERTIFICATE), _condition(names.has_ingress_cidr(slot))),
        )
    t.add_mapping(
        names.MAP_ELB_LOG_DELIVERY,
        {region: {"AccountId": acct} for region, acct in ELB_LOG_DELIVERY_ACCOUNTS.items()},
    )
    t.add_mapping(
        names.MAP_WORKERS, {cpu: {"Workers": n} for cpu, n in WORKERS_BY_TASK_CPU.items()}
    )
    t.add_mapping(names.MAP_DATABASE_ENGINES, engine_mapping())


def if_certificate(with_certificate: object, without: object) -> If:
    """Fn::If on HasCertificate."""
    return If(names.HAS_CERTIFICATE, with_certificate, without)
