"""Parameter constraints refuse bad values with a message naming the parameter."""

from __future__ import annotations

import re

import pytest

from mlflow_cfn import StackOptions
from mlflow_cfn.stack.interface import GROUPS
from mlflow_cfn.stack.template import parameter_specs


def spec(name: str, slots: int = 5):
    return next(
        s for s in parameter_specs(StackOptions(ingress_cidr_slots=slots)) if s.name == name
    )


def accepts(name: str, value: str, slots: int = 5) -> bool:
    return re.fullmatch(spec(name, slots).allowed_pattern, value) is not None


@pytest.mark.parametrize(
    "value", ["10.0.0.0/8", "10.0.0.0/8,192.168.0.0/16", "0.0.0.0/0", "1.2.3.4/32,5.6.7.8/32"]
)
def test_ingress_cidrs_accept_comma_separated_ipv4_cidrs(value):
    assert accepts("LoadBalancerIngressCidrs", value)


@pytest.mark.parametrize(
    "value",
    [
        "",  # required: an empty list would lock everyone out silently
        "10.0.0.0/8, 192.168.0.0/16",  # a space would end up inside the CIDR
        "10.0.0.0",  # no prefix length
        "256.0.0.0/8",
        "10.0.0.0/33",
        "10.0.0.0/8,",
        "1.0.0.0/8,2.0.0.0/8,3.0.0.0/8,4.0.0.0/8,5.0.0.0/8,6.0.0.0/8",  # six > five slots
        "fd00::/8",  # IPv6 is not supported by the CidrIp rules
    ],
)
def test_ingress_cidrs_refuse_bad_lists(value):
    assert not accepts("LoadBalancerIngressCidrs", value)


def test_ingress_cidr_count_follows_the_build_option():
    two = "10.0.0.0/8,11.0.0.0/8"
    assert accepts("LoadBalancerIngressCidrs", two, slots=2)
    assert not accepts("LoadBalancerIngressCidrs", two + ",12.0.0.0/8", slots=2)
    assert "up to 2" in spec("LoadBalancerIngressCidrs", 2).description


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("CertificateArn", "arn:aws:acm:eu-west-1:123456789012:certificate/ab-12", "my-cert"),
        ("DomainName", "mlflow.example.com", "MLflow.Example.com"),
        ("ArtifactPrefix", "teams/ml/artifacts", "/artifacts/"),
        ("ArtifactPrefix", "artifacts", "a//b"),
        ("MlflowImage", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlflow:v3", "bad image"),
    ],
)
def test_string_patterns(name, good, bad):
    assert accepts(name, good)
    assert not accepts(name, bad)
    assert name in spec(name).constraint_description


def test_every_parameter_is_documented_grouped_and_constrained_where_limited():
    for s in parameter_specs(StackOptions()):
        assert s.description and s.label and s.group in GROUPS, s.name
        if s.allowed_values or s.allowed_pattern or s.min_value is not None:
            assert s.constraint_description and s.name in s.constraint_description, s.name


def test_console_interface_lists_every_parameter_once(default_template):
    interface = default_template["Metadata"]["AWS::CloudFormation::Interface"]
    grouped = [p for g in interface["ParameterGroups"] for p in g["Parameters"]]
    assert sorted(grouped) == sorted(default_template["Parameters"])
    assert set(interface["ParameterLabels"]) == set(default_template["Parameters"])
