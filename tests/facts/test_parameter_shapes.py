"""No Parameter accepts a value the API it reaches refuses.

CloudFormation checks a Parameter's AllowedPattern and lengths before anything is created; the
API checks its own shape only when CloudFormation calls it, in the middle of a stack operation.
A Parameter wider than its API lets a launcher start a create or an update that fails half-way
(and rolls back). `REACHES` maps each Parameter of the two templates that has an AllowedPattern and
reaches an API property to the resource property it sets (checked against the template) and the
botocore input member CloudFormation's handler sends it as; the property's provider schema is
read too. Every value the Parameter accepts must be accepted by both: lengths are compared
exactly (the Parameter's shortest and longest accepted value, from its pattern and
MinLength/MaxLength), patterns on values generated from the Parameter's own pattern
(hypothesis), plus the counterexamples the Parameter once let through.

The table lives here, in a package of its own, because it spans both templates (tests/template is
the product's, tests/network the network's) and because it is about AWS's published facts, which
the other modules of tests/facts read too.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlflow_cfn.cfn.evaluate import ParameterError, evaluate
from mlflow_cfn.network import network_template
from tests.conftest import REQUIRED_PARAMETERS
from tests.facts.limits import UNBOUNDED, Limits, api_limits, compiled, schema_limits, widths
from tests.template.modes import template as product_template

NETWORK, PRODUCT = "network", "product"
TEMPLATES = {NETWORK: network_template, PRODUCT: product_template}
#: Parameters each template needs to evaluate at all.
REQUIRED = {NETWORK: {}, PRODUCT: REQUIRED_PARAMETERS}
#: An optional Parameter's AllowedPattern: empty (the feature is off) or a value.
OPTIONAL_PREFIX = "^$|"


@dataclass(frozen=True)
class Reach:
    """A Parameter, the resource property it sets and the API member that property is sent as."""

    template: str
    parameter: str
    resource_type: str
    path: tuple[str, ...]  # below Properties; "*" is every item of a list
    service: str
    operation: str
    member: tuple[str, ...]  # through the input structure; lists are entered

    @property
    def id(self) -> str:
        return f"{self.template}-{self.parameter}-{self.operation}"

    def limits(self) -> tuple[Limits, Limits]:
        return (
            api_limits(self.service, self.operation, self.member),
            schema_limits(self.resource_type, self.path),
        )


def _reach(template, parameter, resource, path, api) -> Reach:
    service, operation, member = api.split(" ", 2)
    return Reach(template, parameter, resource, tuple(path.split("/")), service, operation,
                 tuple(member.split(".")))  # fmt: skip


_LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"
_COGNITO = "DefaultActions/*/AuthenticateCognitoConfig"
_OIDC = "DefaultActions/*/AuthenticateOidcConfig"
_TASK, _CONTAINERS = "AWS::ECS::TaskDefinition", "ContainerDefinitions/*"
_SCHEDULES = "AWS::ApplicationAutoScaling::ScalableTarget"

#: Every Parameter with an AllowedPattern whose value reaches an API property.
REACHES: tuple[Reach, ...] = (
    _reach(NETWORK, "ImageCacheCredentialsSecretArn", "AWS::ECR::PullThroughCacheRule",
           "CredentialArn", "ecr CreatePullThroughCacheRule credentialArn"),
    _reach(NETWORK, "ImageCachePrefix", "AWS::ECR::PullThroughCacheRule", "EcrRepositoryPrefix",
           "ecr CreatePullThroughCacheRule ecrRepositoryPrefix"),
    _reach(NETWORK, "VpcCidr", "AWS::EC2::VPC", "CidrBlock", "ec2 CreateVpc CidrBlock"),
    *(_reach(NETWORK, f"AvailabilityZone{n}", "AWS::EC2::Subnet", "AvailabilityZone",
             "ec2 CreateSubnet AvailabilityZone") for n in (1, 2, 3)),
    _reach(NETWORK, "PermissionsBoundaryArn", "AWS::IAM::Role", "PermissionsBoundary",
           "iam CreateRole PermissionsBoundary"),
    _reach(PRODUCT, "PermissionsBoundaryArn", "AWS::IAM::Role", "PermissionsBoundary",
           "iam CreateRole PermissionsBoundary"),
    _reach(PRODUCT, "AlarmEmail", "AWS::SNS::Subscription", "Endpoint", "sns Subscribe Endpoint"),
    _reach(PRODUCT, "CertificateArn", _LISTENER, "Certificates/*/CertificateArn",
           "elbv2 CreateListener Certificates.CertificateArn"),
    _reach(PRODUCT, "CognitoUserPoolArn", _LISTENER, f"{_COGNITO}/UserPoolArn",
           "elbv2 CreateListener DefaultActions.AuthenticateCognitoConfig.UserPoolArn"),
    _reach(PRODUCT, "CognitoUserPoolClientId", _LISTENER, f"{_COGNITO}/UserPoolClientId",
           "elbv2 CreateListener DefaultActions.AuthenticateCognitoConfig.UserPoolClientId"),
    _reach(PRODUCT, "CognitoUserPoolDomain", _LISTENER, f"{_COGNITO}/UserPoolDomain",
           "elbv2 CreateListener DefaultActions.AuthenticateCognitoConfig.UserPoolDomain"),
    _reach(PRODUCT, "OidcAuthorizationEndpoint", _LISTENER, f"{_OIDC}/AuthorizationEndpoint",
           "elbv2 CreateListener DefaultActions.AuthenticateOidcConfig.AuthorizationEndpoint"),
    _reach(PRODUCT, "OidcClientId", _LISTENER, f"{_OIDC}/ClientId",
           "elbv2 CreateListener DefaultActions.AuthenticateOidcConfig.ClientId"),
    _reach(PRODUCT, "OidcIssuer", _LISTENER, f"{_OIDC}/Issuer",
           "elbv2 CreateListener DefaultActions.AuthenticateOidcConfig.Issuer"),
    _reach(PRODUCT, "OidcIssuer", _RULE, "Actions/*/JwtValidationConfig/Issuer",
           "elbv2 CreateRule Actions.JwtValidationConfig.Issuer"),
    _reach(PRODUCT, "OidcJwksEndpoint", _RULE, "Actions/*/JwtValidationConfig/JwksEndpoint",
           "elbv2 CreateRule Actions.JwtValidationConfig.JwksEndpoint"),
    _reach(PRODUCT, "CognitoTokenScope", _RULE,
           "Actions/*/JwtValidationConfig/AdditionalClaims/*/Values/*",
           "elbv2 CreateRule Actions.JwtValidationConfig.AdditionalClaims.Values"),
    _reach(PRODUCT, "OidcTokenAudience", _RULE,
           "Actions/*/JwtValidationConfig/AdditionalClaims/*/Values/*",
           "elbv2 CreateRule Actions.JwtValidationConfig.AdditionalClaims.Values"),
    _reach(PRODUCT, "OidcTokenEndpoint", _LISTENER, f"{_OIDC}/TokenEndpoint",
           "elbv2 CreateListener DefaultActions.AuthenticateOidcConfig.TokenEndpoint"),
    _reach(PRODUCT, "OidcUserInfoEndpoint", _LISTENER, f"{_OIDC}/UserInfoEndpoint",
           "elbv2 CreateListener DefaultActions.AuthenticateOidcConfig.UserInfoEndpoint"),
    _reach(PRODUCT, "DomainName", "AWS::Route53::RecordSet", "Name",
           "route53 ChangeResourceRecordSets ChangeBatch.Changes.ResourceRecordSet.Name"),
    _reach(PRODUCT, "HostedZoneId", "AWS::Route53::RecordSet", "HostedZoneId",
           "route53 ChangeResourceRecordSets HostedZoneId"),
    _reach(PRODUCT, "MlflowImage", _TASK, f"{_CONTAINERS}/Image",
           "ecs RegisterTaskDefinition containerDefinitions.image"),
    _reach(PRODUCT, "SidecarImage", _TASK, f"{_CONTAINERS}/Image",
           "ecs RegisterTaskDefinition containerDefinitions.image"),
    _reach(PRODUCT, "SidecarName", _TASK, f"{_CONTAINERS}/Name",
           "ecs RegisterTaskDefinition containerDefinitions.name"),
    _reach(PRODUCT, "SidecarUser", _TASK, f"{_CONTAINERS}/User",
           "ecs RegisterTaskDefinition containerDefinitions.user"),
    _reach(PRODUCT, "SidecarSecretArn", _TASK, f"{_CONTAINERS}/Secrets/*/ValueFrom",
           "ecs RegisterTaskDefinition containerDefinitions.secrets.valueFrom"),
    _reach(PRODUCT, "SidecarSecretVariable", _TASK, f"{_CONTAINERS}/Secrets/*/Name",
           "ecs RegisterTaskDefinition containerDefinitions.secrets.name"),
    *(_reach(PRODUCT, parameter, _RULE, f"Actions/*/{config}/{name}",
             f"elbv2 CreateRule Actions.{config}.{name}")
      for parameter, config, name in (
          ("CognitoUserPoolArn", "AuthenticateCognitoConfig", "UserPoolArn"),
          ("CognitoUserPoolClientId", "AuthenticateCognitoConfig", "UserPoolClientId"),
          ("CognitoUserPoolDomain", "AuthenticateCognitoConfig", "UserPoolDomain"),
          ("OidcAuthorizationEndpoint", "AuthenticateOidcConfig", "AuthorizationEndpoint"),
          ("OidcClientId", "AuthenticateOidcConfig", "ClientId"),
          ("OidcIssuer", "AuthenticateOidcConfig", "Issuer"),
          ("OidcTokenEndpoint", "AuthenticateOidcConfig", "TokenEndpoint"),
          ("OidcUserInfoEndpoint", "AuthenticateOidcConfig", "UserInfoEndpoint"),
      )),  # the wake rule logs browsers in as the listener does (idle shutdown)
    *(_reach(PRODUCT, parameter, "AWS::Lambda::Function", f"Environment/Variables/{variable}",
             "lambda CreateFunction Environment.Variables.*")
      for parameter, variable in (("ArtifactBucketName", "BUCKET"), ("ArtifactPrefix", "PREFIX"))),
    _reach(PRODUCT, "ScaleUpSchedule", _SCHEDULES, "ScheduledActions/*/Schedule",
           "application-autoscaling PutScheduledAction Schedule"),
    _reach(PRODUCT, "ScaleDownSchedule", _SCHEDULES, "ScheduledActions/*/Schedule",
           "application-autoscaling PutScheduledAction Schedule"),
    _reach(PRODUCT, "ScheduleTimezone", _SCHEDULES, "ScheduledActions/*/Timezone",
           "application-autoscaling PutScheduledAction Timezone"),
)  # fmt: skip

#: Values a Parameter accepted although its API refuses them: it must refuse them now.
COUNTEREXAMPLES: dict[str, tuple[str, ...]] = {
    # Before issue 22 these product Parameters were wider too: HostedZoneId took 33 characters,
    # PermissionsBoundaryArn and ScheduleTimezone had no upper bound, the schedules took control
    # characters (the ARNs' partition: test_the_partition_pattern_takes_every_partition_...).
    "HostedZoneId": ("Z" + "A" * 32,),
    "ScaleUpSchedule": ("cron(0 7 ? * MON-FRI *\x07)",),
    "PermissionsBoundaryArn": ("arn:aws:iam::123456789012:policy/" + "p" * 2100,),
    "ImageCacheCredentialsSecretArn": (
        # A partition the API's arn:aws(-\w+)* does not take.
        "arn:awsx:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/ghcr-AbCdEf",
        "arn:aws-:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/ghcr-AbCdEf",
        # "!" (a character of RDS-managed secrets' names) is not in the API's name class.
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/gh!cr-AbCdEf",
        # Longer than the API's 612 characters.
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/"
        + "g" * 540 + "-AbCdEf",
    ),
}  # fmt: skip


REACH_PARAMS = [pytest.param(reach, id=reach.id) for reach in REACHES]


def spec(reach: Reach) -> dict:
    return TEMPLATES[reach.template]()["Parameters"][reach.parameter]


def value_pattern(reach: Reach) -> str:
    """The Parameter's pattern for a given value (an optional Parameter's empty value sends
    nothing: `test_an_empty_optional_parameter_sends_nothing`)."""
    return spec(reach)["AllowedPattern"].removeprefix(OPTIONAL_PREFIX)


def accepted_lengths(reach: Reach) -> tuple[int, int]:
    """The shortest and longest given value the Parameter accepts."""
    low, high = widths(value_pattern(reach))
    parameter = spec(reach)
    return max(low, int(parameter.get("MinLength", 0)), 1), min(
        high, int(parameter.get("MaxLength", UNBOUNDED))
    )


def _walk(node, path: tuple[str, ...]):
    """(property path, Ref target) of every Ref in ``node`` that sets a value directly (or as
    a branch of Fn::If)."""
    if isinstance(node, dict):
        if node.keys() == {"Ref"}:
            yield path, node["Ref"]
            return
        for key, value in node.items():
            if key == "Fn::If":
                yield from _walk(value[1], path)
                yield from _walk(value[2], path)
            elif not key.startswith("Fn::"):
                yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, (*path, "*"))


@functools.cache
def direct_references(template: str) -> frozenset[tuple[str, str, tuple[str, ...]]]:
    """(Parameter, resource type, property path) of every Parameter value a resource sets."""
    data = TEMPLATES[template]()
    return frozenset(
        (target, resource["Type"], path)
        for resource in data["Resources"].values()
        for path, target in _walk(resource.get("Properties", {}), ())
        if target in data["Parameters"]
    )


def test_every_patterned_parameter_that_reaches_a_property_is_in_the_table():
    listed = {(r.template, r.parameter, r.resource_type, r.path) for r in REACHES}
    missing = sorted(
        (template, parameter, kind, "/".join(path))
        for template in TEMPLATES
        for parameter, kind, path in direct_references(template)
        if "AllowedPattern" in TEMPLATES[template]()["Parameters"][parameter]
        and "PolicyDocument" not in path  # an IAM policy's text: no API shape
        and (template, parameter, kind, path) not in listed
    )
    assert missing == [], "add these to REACHES with the API member they are sent as"


@pytest.mark.parametrize("reach", REACHES, ids=lambda r: r.id)
def test_the_table_says_where_each_parameter_goes(reach):
    assert (reach.parameter, reach.resource_type, reach.path) in direct_references(reach.template)
    assert "AllowedPattern" in spec(reach)


@pytest.mark.parametrize("reach", REACH_PARAMS)
def test_accepted_lengths_are_within_the_apis(reach):
    shortest, longest = accepted_lengths(reach)
    for limits in reach.limits():
        if limits.min is not None:
            assert shortest >= limits.min, (limits.source, shortest)
        if limits.max is not None:
            assert longest <= limits.max, (limits.source, longest)


@pytest.mark.parametrize("reach", REACH_PARAMS)
@settings(
    max_examples=300, derandomize=True, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
@given(data=st.data())
def test_every_value_the_parameter_accepts_the_api_accepts(reach, data):
    pattern = compiled(value_pattern(reach))
    shortest, longest = accepted_lengths(reach)
    value = data.draw(
        st.from_regex(pattern, fullmatch=True).filter(lambda v: shortest <= len(v) <= longest)
    )
    for limits in reach.limits():
        if limits.pattern is not None:  # lengths: test_accepted_lengths_are_within_the_apis
            assert compiled(limits.pattern).fullmatch(value), (limits.source, value)


def refusals(reach: Reach, value: str) -> list[str]:
    """CloudFormation's refusals of ``value`` for the Parameter ([] if it is accepted)."""
    given_values = {**REQUIRED[reach.template], reach.parameter: value}
    try:
        evaluate(TEMPLATES[reach.template](), given_values, region="eu-west-1")
    except ParameterError as exc:
        return [e for e in exc.errors if reach.parameter in e]
    return []


@pytest.mark.parametrize(
    ("reach", "value"),
    [(r, v) for r in REACHES for v in COUNTEREXAMPLES.get(r.parameter, ())],
    ids=lambda x: x.id if isinstance(x, Reach) else f"{x[:40]}...{len(x)}",
)
def test_values_the_api_refuses_are_refused_by_the_parameter(reach, value):
    assert any(limits.refusal(value) for limits in reach.limits()), "not a counterexample"
    assert refusals(reach, value), f"{reach.parameter} accepts {value!r}"


def _values_at(node, path: tuple[str, ...]) -> list:
    if not path:
        return [node]
    if path[0] == "*":
        return [v for item in node or [] for v in _values_at(item, path[1:])]
    return _values_at(node[path[0]], path[1:]) if isinstance(node, dict) and path[0] in node else []


@pytest.mark.parametrize(
    "reach",
    [r for r in REACHES if spec(r)["AllowedPattern"].startswith(OPTIONAL_PREFIX)],
    ids=lambda r: r.id,
)
def test_an_empty_optional_parameter_sends_nothing(reach):
    given_values = {**REQUIRED[reach.template], reach.parameter: ""}
    evaluated = evaluate(TEMPLATES[reach.template](), given_values, region="eu-west-1")
    for resource in evaluated.of_type(reach.resource_type).values():
        assert "" not in _values_at(resource.get("Properties", {}), reach.path), reach.id


def test_the_partition_pattern_takes_every_partition_and_nothing_else():
    # botocore's partitions.json lists every partition an ARN can name.
    from mlflow_cfn.cfn.partitions import partitions
    from mlflow_cfn.stack.parameters import PARTITION

    ids = [p["id"] for p in partitions()]
    assert {"aws", "aws-cn", "aws-us-gov", "aws-iso-b"} <= set(ids)
    for partition_id in ids:
        assert re.fullmatch(PARTITION, partition_id), partition_id
    for wrong in ("awsx", "aws-", "aws--cn", "aw", "aws-CN", "aws-a-b-c"):
        assert not re.fullmatch(PARTITION, wrong), wrong
