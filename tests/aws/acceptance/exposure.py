"""What the run needs before its first stack: the template bucket, and how this machine reaches the
load balancers (its address range, the hosted zone's name, a certificate that covers the names
the run gives its stacks in that zone)."""

from __future__ import annotations

import ipaddress
import urllib.request
from collections.abc import Callable
from typing import Any

from tests.aws.acceptance.names import RUN_TAG

CHECKIP = "https://checkip.amazonaws.com"


def client_cidr(fetch: Callable[[str], str] | None = None) -> str:
    """This machine's public IPv4 address as the internet sees it, as a /32."""

    def read(url: str) -> str:
        with urllib.request.urlopen(url, timeout=15) as answer:
            return answer.read().decode().strip()

    text = (fetch or read)(CHECKIP).strip()
    address = ipaddress.IPv4Address(text)  # ValueError for anything else
    return f"{address}/32"


def zone_name(route53: Any, zone_id: str) -> str:
    """The public hosted zone's name (no trailing dot); RuntimeError for a private zone."""
    zone = route53.get_hosted_zone(Id=zone_id)["HostedZone"]
    if zone.get("Config", {}).get("PrivateZone"):
        raise RuntimeError(f"hosted zone {zone_id} is private: the run needs a public one")
    return str(zone["Name"]).rstrip(".")


def check_certificate(acm: Any, certificate_arn: str, zone: str) -> None:
    """RuntimeError unless the certificate is issued and covers ``*.<zone>``."""
    certificate = acm.describe_certificate(CertificateArn=certificate_arn)["Certificate"]
    names = certificate.get("SubjectAlternativeNames", [])
    if certificate["Status"] != "ISSUED" or f"*.{zone}" not in names:
        raise RuntimeError(
            f"certificate {certificate_arn} is {certificate['Status']} for {names}: the run needs "
            f"an issued certificate for *.{zone}"
        )


def create_template_bucket(s3: Any, name: str, region: str, run: str) -> None:
    """The bucket the run's templates go through: in the run's region, public access blocked,
    tagged with the run."""
    where = (
        {}
        if region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    )
    s3.create_bucket(Bucket=name, **where)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": RUN_TAG, "Value": run}]})
