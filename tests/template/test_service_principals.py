"""Every service principal in every policy of every template is right in each partition where the
template deploys: aws, aws-cn (China) and aws-us-gov (GovCloud).

A service principal is ``<service>[.<region>].amazonaws.com`` in every partition, except a few
services that take the partition's own DNS suffix. The exceptions are AWS CDK's region-info table
(aws-cdk-lib/region-info/lib/default.ts, ``servicePrincipal``), as Terraform's AWS provider copies
it (internal/service/meta/service_principal_data_source.go, ``servicePrincipalNameForPartition``):
in aws-cn codedeploy, elasticmapreduce and logs; in aws-iso cloudhsm, config, logs and workspaces;
in aws-iso-b dms and logs. The DNS suffixes are botocore's partition data.

Before issue 22 the key policies named CloudWatch Logs as ``logs.<region>.amazonaws.com`` in
every partition: in China a log group encrypted with the stack's key failed to create.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlflow_cfn.cfn.evaluate import evaluate
from mlflow_cfn.cfn.partitions import dns_suffix, partition_of
from tests.conftest import REQUIRED_PARAMETERS, TEMPLATES

#: Services whose principal takes the partition's DNS suffix, by partition (see the docstring).
PARTITION_SUFFIX_SERVICES: dict[str, frozenset[str]] = {
    "aws-cn": frozenset({"codedeploy", "elasticmapreduce", "logs"}),
    "aws-iso": frozenset({"cloudhsm", "config", "logs", "workspaces"}),
    "aws-iso-b": frozenset({"dms", "logs"}),
}
#: A region of each partition the templates deploy in.
REGIONS = {"aws": "eu-west-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}
PORTFOLIO_PARAMETERS = {
    "PortfolioProviderName": "Platform",
    "PrincipalArn": "arn:{partition}:iam::123456789012:role/DataScientist",
    "ProductOwner": "ML",
    "ProductTemplateUrl": "https://my-sc-templates.s3.{suffix}/mlflow.json",
    "NetworkProductTemplateUrl": "https://my-sc-templates.s3.{suffix}/network.json",
}


def expected_principal(service: str, partition: str, region: str | None) -> str:
    """The principal of ``service`` (regional when ``region`` is given) in ``partition``."""
    suffix = (
        dns_suffix(partition)
        if service in PARTITION_SUFFIX_SERVICES.get(partition, ())
        else "amazonaws.com"
    )
    return ".".join(part for part in (service, region, suffix) if part)


def test_the_rule_on_its_documented_examples():
    # Terraform's aws_service_principal documentation: "logs.us-east-1.amazonaws.com in AWS
    # Commercial, logs.cn-north-1.amazonaws.com.cn in AWS China".
    assert expected_principal("logs", "aws", "us-east-1") == "logs.us-east-1.amazonaws.com"
    assert expected_principal("logs", "aws-cn", "cn-north-1") == "logs.cn-north-1.amazonaws.com.cn"
    assert expected_principal("events", "aws-cn", None) == "events.amazonaws.com"
    assert expected_principal("logs", "aws-us-gov", "us-gov-west-1") == (
        "logs.us-gov-west-1.amazonaws.com"
    )
    assert partition_of("cn-northwest-1")["id"] == "aws-cn"


def _principals(node: Any) -> list[str]:
    """Every Principal.Service value under ``node``."""
    found = []
    if isinstance(node, dict):
        principal = node.get("Principal")
        if isinstance(principal, dict) and "Service" in principal:
            services = principal["Service"]
            found += services if isinstance(services, list) else [services]
        for value in node.values():
            found += _principals(value)
    elif isinstance(node, list):
        for value in node:
            found += _principals(value)
    return found


def _rendered(name: str, partition: str) -> dict[str, Any]:
    template = json.loads((TEMPLATES / name).read_text())
    region = REGIONS[partition]
    if name == "portfolio.json":
        parameters = {
            k: v.format(partition=partition, suffix=dns_suffix(partition))
            for k, v in PORTFOLIO_PARAMETERS.items()
        }
    elif name == "network.json":
        parameters = {}
    else:
        parameters = dict(REQUIRED_PARAMETERS)
        if name == "mlflow-datadog.json":
            parameters["DatadogApiKeySecretArn"] = (
                f"arn:{partition}:secretsmanager:{region}:123456789012:secret:datadog-AbCdEf"
            )
    return evaluate(template, parameters, region=region, account_id="123456789012").resources


CASES = [
    (name, partition)
    for name in ("mlflow.json", "mlflow-datadog.json", "network.json", "portfolio.json")
    for partition in REGIONS
]


@pytest.mark.parametrize(("name", "partition"), CASES)
def test_every_service_principal_is_right_for_the_partition(name, partition):
    region = REGIONS[partition]
    principals = _principals(_rendered(name, partition))
    assert principals
    wrong = []
    for principal in principals:
        regional = f".{region}." in principal
        service = principal.split(f".{region}.")[0] if regional else principal
        for suffix in sorted({dns_suffix(partition), "amazonaws.com"}, key=len, reverse=True):
            service = service.removesuffix(f".{suffix}")
        expected = expected_principal(service, partition, region if regional else None)
        if principal != expected:
            wrong.append((principal, expected))
    assert wrong == []


def test_china_gets_the_logs_principal_of_its_partition():
    principals = _principals(_rendered("mlflow.json", "aws-cn"))
    assert "logs.cn-north-1.amazonaws.com.cn" in principals
    assert "logs.cn-north-1.amazonaws.com" not in principals


def _via_services(node: Any) -> list[str]:
    """Every kms:ViaService value under ``node``."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "kms:ViaService":
                found += value if isinstance(value, list) else [value]
            else:
                found += _via_services(value)
    elif isinstance(node, list):
        for value in node:
            found += _via_services(value)
    return found


@pytest.mark.parametrize(("name", "partition"), CASES)
def test_every_via_service_is_the_services_endpoint_in_the_partition(name, partition):
    # AWS KMS Developer Guide, "kms:ViaService": the value is the service's endpoint name in the
    # region ("ec2.us-west-2.amazonaws.com"), so it ends in the partition's DNS suffix
    # (amazonaws.com.cn in China), unlike most service principals. Before issue 22 the launch
    # role wrote amazonaws.com in every partition.
    region = REGIONS[partition]
    values = _via_services(_rendered(name, partition))
    suffix = dns_suffix(partition)
    wrong = [
        v
        for v in values
        if not (v.endswith(f".{region}.{suffix}") or v.endswith(f".*.{suffix}"))
        or (partition == "aws-cn" and not v.endswith(".amazonaws.com.cn"))
    ]
    assert wrong == []
    assert values or name == "network.json"  # the network's policies name no key use
