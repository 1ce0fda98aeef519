"""The run's preparations: the template bucket, this machine's range, the zone and the
certificate the internet-facing stacks need."""

from __future__ import annotations

import pytest

from tests.aws.acceptance import exposure
from tests.aws.acceptance.names import RUN_TAG
from tests.aws.stubs import ACCOUNT, Stubs

pytestmark = pytest.mark.usefixtures("no_real_aws")

CERTIFICATE = f"arn:aws:acm:eu-west-1:{ACCOUNT}:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


@pytest.fixture
def aws():
    stubs = Stubs()
    yield stubs
    stubs.done()


def test_this_machine_is_one_address():
    assert exposure.client_cidr(lambda url: "203.0.113.7\n") == "203.0.113.7/32"
    with pytest.raises(ValueError):
        exposure.client_cidr(lambda url: "<html>captive portal</html>")


def test_the_zone_must_be_public(aws):
    public = {"Id": "/hostedzone/Z1", "Name": "acceptance.example.com.", "CallerReference": "x"}
    aws.expect(
        "route53",
        "get_hosted_zone",
        {"Id": "Z1"},
        {"HostedZone": public, "DelegationSet": {"NameServers": ["ns"]}},
    )
    private = {**public, "Config": {"PrivateZone": True}}
    aws.expect("route53", "get_hosted_zone", {"Id": "Z2"}, {"HostedZone": private})
    assert exposure.zone_name(aws("route53"), "Z1") == "acceptance.example.com"
    with pytest.raises(RuntimeError, match="private"):
        exposure.zone_name(aws("route53"), "Z2")


def test_the_certificate_must_be_issued_for_the_zones_names(aws):
    call = {"CertificateArn": CERTIFICATE}
    issued = {"CertificateArn": CERTIFICATE, "Status": "ISSUED"}
    aws.expect(
        "acm",
        "describe_certificate",
        call,
        {"Certificate": {**issued, "SubjectAlternativeNames": ["*.acceptance.example.com"]}},
    )
    aws.expect(
        "acm",
        "describe_certificate",
        call,
        {"Certificate": {**issued, "SubjectAlternativeNames": ["acceptance.example.com"]}},
    )
    exposure.check_certificate(aws("acm"), CERTIFICATE, "acceptance.example.com")
    with pytest.raises(RuntimeError, match=r"\*\.acceptance\.example\.com"):
        exposure.check_certificate(aws("acm"), CERTIFICATE, "acceptance.example.com")


@pytest.mark.parametrize("region", ["eu-west-1", "us-east-1"])
def test_the_template_bucket_is_private_and_tagged(region):
    aws = Stubs(region)
    where = (
        {}
        if region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    )
    aws.expect("s3", "create_bucket", {"Bucket": "b-123", **where})
    aws.expect(
        "s3",
        "put_public_access_block",
        {
            "Bucket": "b-123",
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        },
    )
    aws.expect(
        "s3",
        "put_bucket_tagging",
        {"Bucket": "b-123", "Tagging": {"TagSet": [{"Key": RUN_TAG, "Value": "mfa"}]}},
    )
    exposure.create_template_bucket(aws("s3"), "b-123", region, "mfa")
    aws.done()
