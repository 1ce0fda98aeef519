"""The parameter sets the real-account suite deploys, launches and updates. Each is checked
offline in CI (tests/aws/test_parameter_sets.py) the way `mlflow-cfn deploy` and Service Catalog
would check it, so a template change that refuses one fails there, not an hour into a run.

Every set turns database deletion protection off and keeps logs one day: the run deletes what it
made. The product's values for the network come from the network stack (``--network-stack``) or,
for Service Catalog launches, from its outputs given explicitly (a launcher has no flag).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from tests.aws.acceptance.names import Names

#: Product versions the portfolio offers during a run: the template as committed, then the same
#: with changed key policies (the update that makes the launch role call kms:PutKeyPolicy).
VERSION_1 = "v1.0.0"
VERSION_2 = "v2.0.0"

#: How long the idle service waits before it scales to zero in the wake-time check.
IDLE_MINUTES = 5

#: What every product stack of a run shares: deletable at once, short-lived logs.
DELETABLE = {"DatabaseDeletionProtection": "false", "LogRetentionDays": "1"}


@dataclass(frozen=True)
class Exposure:
    """How this machine reaches a stack's load balancer: internet-facing with HTTPS for its own
    address range only (the template refuses internet-facing without a certificate)."""

    client_cidr: str
    domain: str
    certificate_arn: str
    hosted_zone_id: str

    def parameters(self) -> dict[str, str]:
        return {
            "LoadBalancerScheme": "internet-facing",
            "LoadBalancerIngressCidrs": self.client_cidr,
            "CertificateArn": self.certificate_arn,
            "DomainName": self.domain,
            "HostedZoneId": self.hosted_zone_id,
        }


def network() -> dict[str, str]:
    """The network stack: NAT egress (login needs the internet), public load balancer subnets
    (for the internet-facing stacks), two zones, flow logs kept a day."""
    return {
        "NetworkEgress": "nat",
        "LoadBalancerSubnetTier": "public",
        "AvailabilityZoneCount": "2",
        "FlowLogRetentionDays": "1",
    }


def open_product(exposure: Exposure | None) -> dict[str, str]:
    """The stack most checks run against: no login (only this machine's range may connect),
    Container Insights on (the two task alarms, task disk metrics), and signed-URL writes
    refused (the s3:authType check; `direct_uploads` turns them back on). Without an exposure
    it stays internal (and the checks that need HTTP are skipped)."""
    reach = {**exposure.parameters(), "AllowPublicAccessWithoutLogin": "true"} if exposure else {}
    return {
        **DELETABLE,
        **reach,
        "ContainerInsights": "enabled",
        "ArtifactDirectMultipartUpload": "false",
    }


def direct_uploads(parameters: dict[str, str]) -> dict[str, str]:
    """The same stack with signed-URL part uploads allowed again (the template's default)."""
    return {**parameters, "ArtifactDirectMultipartUpload": "true"}


def idle_shutdown(parameters: dict[str, str], minutes: int = IDLE_MINUTES) -> dict[str, str]:
    """The same stack with idle shutdown (woken by a request)."""
    return {**parameters, "IdleShutdownMinutes": str(minutes)}


def login_product(exposure: Exposure) -> dict[str, str]:
    """Cognito login with the stack's own user pool (needs HTTPS: the exposure's certificate)."""
    return {**DELETABLE, **exposure.parameters(), "AuthMode": "cognito"}


def operator_product() -> dict[str, str]:
    """The stack a principal with only `permissions --for deploy` deploys: internal, defaults."""
    return dict(DELETABLE)


def datadog_product(api_key_secret_arn: str) -> dict[str, str]:
    """templates/mlflow-datadog.json, internal, with the Datadog API key's secret."""
    return {**DELETABLE, "DatadogApiKeySecretArn": api_key_secret_arn}


def portfolio(
    names: Names, principal_arn: str, product_url: str, network_url: str
) -> dict[str, str]:
    """The portfolio stack: the product and the network product, associated with the end user."""
    return {
        "PortfolioName": names.portfolio,
        "PortfolioProviderName": "mlflow-cfn acceptance suite",
        "ProductName": names.product,
        "ProductOwner": "mlflow-cfn maintainers",
        "ProductVersionName": VERSION_1,
        "PrincipalArn": principal_arn,
        "ProductTemplateUrl": product_url,
        "NetworkProductName": names.network_product,
        "NetworkProductTemplateUrl": network_url,
    }


def launched_product(network_values: dict[str, str], boundary_arn: str) -> dict[str, str]:
    """What the end user launches: every value explicit (a launcher has no --network-stack), the
    internal load balancer in the private subnets, the portfolio's boundary."""
    return {
        **DELETABLE,
        "VpcId": network_values["VpcId"],
        "LoadBalancerSubnetIds": network_values["ServiceSubnetIds"],
        "ServiceSubnetIds": network_values["ServiceSubnetIds"],
        "DatabaseSubnetIds": network_values["DatabaseSubnetIds"],
        "LoadBalancerIngressCidrs": network_values["LoadBalancerIngressCidrs"],
        "PermissionsBoundaryArn": boundary_arn,
    }


def service_update(parameters: dict[str, str]) -> dict[str, str]:
    """The end user's first update: a change CloudFormation makes with ecs:UpdateService."""
    return {**parameters, "DesiredCount": "0"}


def launched_network(boundary_arn: str) -> dict[str, str]:
    """The network the end user launches: NAT (an Elastic IP), the S3 gateway endpoint and flow
    logs, in a range apart from the run's own network."""
    return {
        "NetworkEgress": "nat",
        "VpcCidr": "10.1.0.0/16",
        "FlowLogRetentionDays": "1",
        "PermissionsBoundaryArn": boundary_arn,
    }


def key_policy_version(template: dict) -> dict:
    """The product template with every key policy changed harmlessly (its first statement's Sid
    gets ``V2``): updating to it makes CloudFormation call kms:PutKeyPolicy on every key, and
    changes nothing else."""
    changed = copy.deepcopy(template)
    keys = [r for r in changed["Resources"].values() if r["Type"] == "AWS::KMS::Key"]
    if not keys:
        raise ValueError("the template has no AWS::KMS::Key")
    for key in keys:
        first = key["Properties"]["KeyPolicy"]["Statement"][0]
        if not isinstance(first.get("Sid"), str):
            raise ValueError("a key policy's first statement has no Sid to change")
        first["Sid"] += "V2"
    return changed
