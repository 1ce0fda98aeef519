"""upload_template against moto S3 (and botocore's Stubber for errors moto does not produce)."""

from __future__ import annotations

import hashlib

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from mlflow_cfn.cfn.upload import KEY_PREFIX, TemplateUploadError, upload_template

BUCKET = "mlflow-cfn-uploads"
BODY = b'{"Resources":{"Topic":{"Type":"AWS::SNS::Topic"}}}'
SHA256 = hashlib.sha256(BODY).hexdigest()
KEY = f"mlflow-cfn/templates/{SHA256}.json"


@pytest.fixture(autouse=True)
def _no_real_aws(no_real_aws):
    """Every test here runs without reaching AWS."""


@pytest.fixture
def s3():
    """A moto S3 client in us-east-1 with a bucket in eu-west-1."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield client


def keys(s3) -> list[str]:
    """The keys of the objects in the bucket."""
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_uploads_under_the_sha256_key_encrypted_and_returns_the_url_in_the_buckets_region(s3):
    lines: list[str] = []

    url = upload_template(s3, BUCKET, BODY, out=lines.append)

    assert KEY.startswith(KEY_PREFIX)
    assert url == f"https://{BUCKET}.s3.eu-west-1.amazonaws.com/{KEY}"
    assert lines == [f"uploaded s3://{BUCKET}/{KEY}"]
    stored = s3.get_object(Bucket=BUCKET, Key=KEY)
    assert stored["Body"].read() == BODY
    assert stored["ServerSideEncryption"] == "AES256"
    assert stored["ContentType"] == "application/json"
    assert stored["Metadata"] == {"sha256": SHA256}


def test_an_object_without_the_sha256_metadata_is_uploaded_again(s3):
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"x" * len(BODY))
    lines: list[str] = []

    upload_template(s3, BUCKET, BODY, out=lines.append)

    assert lines == [f"uploaded s3://{BUCKET}/{KEY}"]
    assert s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == BODY


def test_a_dry_run_says_what_it_would_upload_and_uploads_nothing(s3):
    lines: list[str] = []

    url = upload_template(s3, BUCKET, BODY, out=lines.append, dry_run=True)

    assert url == f"https://{BUCKET}.s3.eu-west-1.amazonaws.com/{KEY}"
    assert lines == [f"would upload s3://{BUCKET}/{KEY}"]
    assert keys(s3) == []


def test_a_missing_bucket_is_a_one_line_error(s3):
    with pytest.raises(TemplateUploadError) as caught:
        upload_template(s3, "no-such-bucket", BODY, out=lambda line: None)
    assert str(caught.value) == "bucket 'no-such-bucket' does not exist (HeadBucket)"


@pytest.fixture
def stubbed():
    """An S3 client (no moto) and its active Stubber."""
    client = boto3.client("s3", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_access_denied_to_the_bucket_is_a_one_line_error(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("head_bucket", "403", "Forbidden", http_status_code=403)

    with pytest.raises(TemplateUploadError) as caught:
        upload_template(client, BUCKET, BODY, out=lambda line: None)
    assert str(caught.value) == f"access denied to bucket '{BUCKET}' (HeadBucket)"


def test_other_errors_propagate_and_nothing_is_uploaded(stubbed):
    client, stubber = stubbed
    stubber.add_response("head_bucket", {}, {"Bucket": BUCKET})
    stubber.add_client_error("head_object", "403", "Forbidden", http_status_code=403)

    with pytest.raises(ClientError, match="HeadObject"):
        upload_template(client, BUCKET, BODY, out=lambda line: None)


def test_the_same_content_is_not_uploaded_again(stubbed):
    client, stubber = stubbed  # no put_object queued: an upload would fail the test
    stubber.add_response("head_bucket", {"BucketRegion": "eu-west-1"}, {"Bucket": BUCKET})
    stubber.add_response(
        "head_object",
        {"ContentLength": len(BODY), "Metadata": {"sha256": SHA256}},
        {"Bucket": BUCKET, "Key": KEY},
    )
    lines: list[str] = []

    url = upload_template(client, BUCKET, BODY, out=lines.append)

    assert url == f"https://{BUCKET}.s3.eu-west-1.amazonaws.com/{KEY}"
    assert lines == []


def test_without_a_bucket_region_in_the_answer_the_clients_region_is_used(stubbed):
    client, stubber = stubbed
    stubber.add_response("head_bucket", {}, {"Bucket": BUCKET})
    stubber.add_response(
        "head_object",
        {"ContentLength": len(BODY), "Metadata": {"sha256": SHA256}},
        {"Bucket": BUCKET, "Key": KEY},
    )

    url = upload_template(client, BUCKET, BODY, out=lambda line: None)

    assert url == f"https://{BUCKET}.s3.us-east-1.amazonaws.com/{KEY}"


def test_a_bucket_in_china_gets_the_url_of_its_partition(stubbed):
    # The S3 endpoint takes the partition's DNS suffix (botocore's partition data): a template
    # URL ending in amazonaws.com would not name a bucket in cn-north-1.
    client, stubber = stubbed
    stubber.add_response("head_bucket", {"BucketRegion": "cn-north-1"}, {"Bucket": BUCKET})
    stubber.add_response(
        "head_object",
        {"ContentLength": len(BODY), "Metadata": {"sha256": SHA256}},
        {"Bucket": BUCKET, "Key": KEY},
    )

    url = upload_template(client, BUCKET, BODY, out=lambda line: None)

    assert url == f"https://{BUCKET}.s3.cn-north-1.amazonaws.com.cn/{KEY}"
