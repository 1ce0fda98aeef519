"""Checks CloudFormation cannot express but AWS enforces later: `plan`, `deploy` and
build_template (for defaults) run them before anything is created."""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Iterable
from decimal import Decimal

from mlflow_cfn.cfn.partitions import partition_of, service_regions
from mlflow_cfn.stack.components.database_inputs import (
    DATABASE_MAX_CAPACITY,
    DATABASE_MIN_CAPACITY,
)
from mlflow_cfn.stack.components.load_balancer_inputs import (
    CERTIFICATE_ARN,
    LOAD_BALANCER_INGRESS_CIDRS,
    LOAD_BALANCER_SCHEME,
)
from mlflow_cfn.stack.components.login_inputs import AUTH_MODE
from mlflow_cfn.stack.components.network import (
    DATABASE_SUBNET_IDS,
    LOAD_BALANCER_SUBNET_IDS,
    SERVICE_SUBNET_IDS,
    TWO_ZONE_SUBNET_PARAMETERS,
)
from mlflow_cfn.stack.components.scaling_inputs import MAX_TASKS, MIN_TASKS, SCALE_DOWN_TASKS
from mlflow_cfn.stack.components.service_inputs import MLFLOW_IMAGE
from mlflow_cfn.stack.components.sidecar_inputs import SIDECAR_IMAGE
from mlflow_cfn.stack.parameters import ParameterSpec
from mlflow_cfn.versions import DEFAULT_MLFLOW_IMAGE

#: The official image's repositories (GitHub Container Registry; Docker Hub's mirror).
OFFICIAL_IMAGES = ("ghcr.io/mlflow/mlflow", "docker.io/mlflow/mlflow", "mlflow/mlflow")

#: (minimum, maximum) Number Parameters: the minimum must not exceed the maximum. Template Rules
#: cannot compare two numbers, so `plan`, `deploy` and build_template (for defaults) check these.
RANGE_PAIRS: tuple[tuple[str, str], ...] = (
    (DATABASE_MIN_CAPACITY, DATABASE_MAX_CAPACITY),
    (MIN_TASKS, MAX_TASKS),
    (SCALE_DOWN_TASKS, MAX_TASKS),
)


def offline_checks(values: dict[str, object], specs: Iterable[ParameterSpec]) -> list[str]:
    """What CloudFormation's own checks cannot see but AWS refuses later: a minimum above its
    maximum, a fraction for a count (a Number of ``specs``, the product's Parameters, without
    allowed values), fewer than two subnets where two zones are needed."""
    errors = []
    for spec in specs:
        value = values.get(spec.name)
        if spec.type == "Number" and not spec.allowed_values and value not in (None, ""):
            try:
                whole = Decimal(str(value)) == Decimal(str(value)).to_integral_value()
            except ArithmeticError:
                continue  # not a number at all: its Type check says so
            if not whole:
                errors.append(f"{spec.name} must be a whole number, got {value}")
    for name in TWO_ZONE_SUBNET_PARAMETERS:
        subnets = values.get(name)
        if isinstance(subnets, str):
            subnets = [s for s in subnets.split(",") if s.strip()]
        if isinstance(subnets, list) and 0 < len([s for s in subnets if s]) < 2:
            errors.append(
                f"{name} needs subnets in at least two Availability Zones, got {len(subnets)}"
            )
    cidrs = str(values.get(LOAD_BALANCER_INGRESS_CIDRS) or "").split(",")
    if (
        values.get(LOAD_BALANCER_SCHEME) == "internet-facing"
        and values.get(AUTH_MODE, "none") == "none"
        and "0.0.0.0/0" in cidrs
        and len(cidrs) > 1  # the whole list being 0.0.0.0/0 is the template Rule's to refuse
    ):
        errors.append(
            f"{LOAD_BALANCER_INGRESS_CIDRS} contains 0.0.0.0/0 on an internet-facing load "
            f"balancer without {AUTH_MODE}: MLflow has no login of its own"
        )
    with contextlib.suppress(ArithmeticError):  # a non-number is reported by its Type check
        errors += check_ranges(values)
    return errors + _subnet_repeats(values) + _image_problems(values) + _cidr_problems(values)


def _cidr_problems(values: dict[str, object]) -> list[str]:
    """Each CIDR of LoadBalancerIngressCidrs that is not one, named by its position (the
    Parameter's own constraint can only say the whole list does not match its pattern)."""
    cidrs = values.get(LOAD_BALANCER_INGRESS_CIDRS)
    items = cidrs.split(",") if isinstance(cidrs, str) else cidrs
    problems = []
    for number, item in enumerate(items or [], start=1):
        text = str(item)
        if text and text.strip() == text and "/" not in text:
            problems.append(
                f"{LOAD_BALANCER_INGRESS_CIDRS} item {number} {text!r} has no prefix length: "
                f"write it as {text}/32 for one address, or a network such as 10.0.0.0/8"
            )
            continue
        try:
            ipaddress.IPv4Network(text, strict=False)  # EC2 takes host bits, as its API says
        except ValueError as exc:
            problems.append(f"{LOAD_BALANCER_INGRESS_CIDRS} item {number} {text!r}: {exc}")
    return problems


def _subnet_list(value: object) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    return [str(s).strip() for s in items or [] if str(s).strip()]


def _subnet_repeats(values: dict[str, object]) -> list[str]:
    """A subnet named twice in one list: CloudFormation passes it on, and the load balancer, the
    service or the database subnet group is then refused or left in one zone."""
    errors = []
    for name in (LOAD_BALANCER_SUBNET_IDS, SERVICE_SUBNET_IDS, DATABASE_SUBNET_IDS):
        subnets = _subnet_list(values.get(name))
        if repeated := sorted({s for s in subnets if subnets.count(s) > 1}):
            errors.append(f"{name} names {', '.join(repeated)} more than once")
    return errors


def _image_problems(values: dict[str, object]) -> list[str]:
    """The official MLflow image without ``-full``: it has no PostgreSQL or MySQL driver
    (psycopg2, PyMySQL) and no boto3, so the server cannot reach the database or S3."""
    image = str(values.get(MLFLOW_IMAGE) or "")
    repository, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
    if repository in OFFICIAL_IMAGES and not tag.endswith("-full"):
        return [
            f"{MLFLOW_IMAGE} {image}: the official image without -full has no database drivers "
            f"and no boto3; use a -full tag such as {DEFAULT_MLFLOW_IMAGE}"
        ]
    return []


#: Partitions where an Application Load Balancer can authenticate with Amazon Cognito: the
#: Elastic Load Balancing User Guide ("Authenticate users using an Application Load Balancer",
#: "Prepare to use Amazon Cognito", Available Regions) lists commercial regions only, none in
#: China or AWS GovCloud (US).
ALB_COGNITO_PARTITIONS = ("aws",)


def region_problems(values: dict[str, object], region: str) -> list[str]:
    """What depends on the stack's region: the load balancer takes a certificate from ACM in its
    own region only (ELB: "the certificate must be in the same Region as the load balancer");
    Cognito login needs Cognito user pools in the region (botocore's endpoint data) and the load
    balancer's Cognito integration in the partition (ALB_COGNITO_PARTITIONS)."""
    problems = []
    certificate = str(values.get(CERTIFICATE_ARN) or "")
    parts = certificate.split(":")
    if len(parts) > 3 and parts[2] == "acm" and parts[3] != region:
        problems.append(
            f"{CERTIFICATE_ARN} is in {parts[3]} but the stack is in {region}: the load "
            f"balancer needs a certificate from ACM in {region} (request or import it there)"
        )
    partition = partition_of(region)["id"]
    if values.get(AUTH_MODE) == "cognito" and (
        partition not in ALB_COGNITO_PARTITIONS or region not in service_regions("cognito-idp")
    ):
        problems.append(
            f"{AUTH_MODE}=cognito is not available in {region} ({partition}): the load "
            "balancer authenticates with Amazon Cognito only in commercial regions that have "
            f"Cognito user pools; use {AUTH_MODE}=oidc with your identity provider"
        )
    return problems


def stack_name_problems(stack_name: str) -> list[str]:
    """Stack names CloudFormation accepts but this template cannot be created under: the key
    aliases are ``alias/<stack>/<purpose>`` and KMS reserves the prefix ``alias/aws/``."""
    if stack_name.lower() == "aws":
        return [
            f"stack name {stack_name!r}: the key aliases would start with alias/aws/, which KMS "
            "reserves for AWS managed keys; choose another name"
        ]
    return []


#: A private ECR registry's host: ``<account>.dkr.ecr.<region>.amazonaws.com`` (``.com.cn`` in
#: China), Amazon ECR User Guide, "Private registry concepts".
ECR_REGISTRY = re.compile(r"[0-9]{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")


def registry_of(image: str) -> str:
    """The registry host an image reference pulls from (Docker Hub when the first part is no
    host: it has no '.' or ':' and is not localhost, as Docker reads a reference)."""
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def _registry_route(image: str) -> str:
    registry = registry_of(image)
    if ECR_REGISTRY.fullmatch(registry):
        return f"ECR for {image} (the ecr.api and ecr.dkr endpoints, or a NAT gateway)"
    return (
        f"{registry} for {image}, on the internet (a NAT gateway: VPC endpoints reach AWS "
        "services only; the network template's image cache serves it from ECR instead)"
    )


def service_route_note(values: dict[str, object]) -> str:
    """What every task needs to start, in any mode: routes from the service subnets to the
    image's registry, S3, Secrets Manager and CloudWatch Logs (what the tasks call is listed
    with its sources in mlflow_cfn/network/endpoints.py)."""
    images = [str(values.get(MLFLOW_IMAGE) or DEFAULT_MLFLOW_IMAGE)]
    if sidecar := str(values.get(SIDECAR_IMAGE) or ""):
        images.append(sidecar)
    registries = "; ".join(_registry_route(image) for image in images)
    return (
        f"{SERVICE_SUBNET_IDS} need routes out, through a NAT gateway or VPC endpoints (the "
        "network template gives either), to: "
        f"{registries}; S3 (the artifacts, and ECR's image layers: a gateway endpoint); "
        "Secrets Manager (ECS injects the database password when a task starts); CloudWatch "
        "Logs (the awslogs log driver). Without them no task starts, and ECS gives the pull, "
        "secret or log failure as the task's stopped reason."
    )


def network_notes(values: dict[str, object]) -> list[str]:
    """What the launcher's network must provide for these values and no template can check:
    routes, not resources. `plan` prints them before the resources."""
    notes = [service_route_note(values)]
    if values.get(AUTH_MODE, "none") != "none":
        route = (
            "a route to the internet through an internet gateway (public subnets)"
            if values.get(LOAD_BALANCER_SCHEME) == "internet-facing"
            else "a route to the internet through a NAT gateway (an internal load balancer "
            "has no other way out)"
        )
        notes.append(
            f"{AUTH_MODE}={values[AUTH_MODE]}: the load balancer itself calls the identity "
            "provider's token, user-info and JWKS endpoints over HTTPS, so "
            f"{LOAD_BALANCER_SUBNET_IDS} need {route}. The template opens port 443 outbound "
            "on the load balancer's security group (LoadBalancerToIdentityProviderEgress); "
            "without the route, every login and every bearer token fails."
        )
    return notes


def check_ranges(parameters: dict[str, object]) -> list[str]:
    """Messages for every `RANGE_PAIRS` minimum above its maximum; pairs not given are skipped."""
    return [
        f"{low} ({parameters[low]}) is greater than {high} ({parameters[high]}): "
        "the minimum must not exceed the maximum"
        for low, high in RANGE_PAIRS
        if low in parameters
        and high in parameters
        and Decimal(str(parameters[low])) > Decimal(str(parameters[high]))
    ]
