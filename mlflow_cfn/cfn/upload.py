"""Upload a CloudFormation template to S3 under a content-addressed key, for a ``TemplateURL``.

The key is ``mlflow-cfn/templates/<sha256 of the bytes>.json``: the same bytes always get the same
key, so an object already there with the same size and ``sha256`` metadata is not uploaded again,
and the key of a URL tells which template it holds. Objects are encrypted at rest (SSE-S3). The
URL names the bucket's own region, which may differ from the client's. Used by ``mlflow-cfn
publish`` (Service Catalog reads the template from the URL) and ``mlflow-cfn deploy --s3-bucket``
(a template over CloudFormation's 51,200-byte ``TemplateBody`` limit).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from mlflow_cfn.cfn.partitions import dns_suffix, partition_of

__all__ = ["KEY_PREFIX", "TEMPLATE_BODY_LIMIT", "TemplateUploadError", "upload_template"]

KEY_PREFIX = "mlflow-cfn/templates/"
TEMPLATE_BODY_LIMIT = 51_200
"""The most bytes CloudFormation takes as ``TemplateBody``; a larger template needs a URL."""


class TemplateUploadError(Exception):
    """A bucket that cannot be used (missing, access denied), with a one-line cause."""


def upload_template(
    s3: BaseClient,
    bucket: str,
    body: bytes,
    *,
    out: Callable[[str], None] = print,
    dry_run: bool = False,
) -> str:
    """Upload ``body`` to ``bucket`` under ``KEY_PREFIX<sha256>.json`` unless the same content is
    there already; returns its HTTPS URL.

    Prints ``uploaded s3://<bucket>/<key>`` (``would upload ...`` in a dry run, which uploads
    nothing), and nothing when the upload is skipped. TemplateUploadError if the bucket does not
    exist or access to it is denied; other AWS errors (ClientError) propagate."""
    region = _bucket_region(s3, bucket)
    sha256 = hashlib.sha256(body).hexdigest()
    key = f"{KEY_PREFIX}{sha256}.json"
    if not _is_uploaded(s3, bucket, key, body, sha256):
        if not dry_run:
            s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                ServerSideEncryption="AES256",
                Metadata={"sha256": sha256},
            )
        out(f"{'would upload' if dry_run else 'uploaded'} s3://{bucket}/{key}")
    return f"https://{bucket}.s3.{region}.{dns_suffix(partition_of(region)['id'])}/{key}"


def _bucket_region(s3: BaseClient, bucket: str) -> str:
    """The bucket's region (for the URL); TemplateUploadError if it is missing or forbidden."""
    try:
        response = s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code in ("404", "NoSuchBucket"):
            raise TemplateUploadError(f"bucket {bucket!r} does not exist (HeadBucket)") from None
        if code in ("403", "AccessDenied"):
            raise TemplateUploadError(f"access denied to bucket {bucket!r} (HeadBucket)") from None
        raise
    return response.get("BucketRegion") or s3.meta.region_name


def _is_uploaded(s3: BaseClient, bucket: str, key: str, body: bytes, sha256: str) -> bool:
    """Whether the object ``key`` exists with the same size and ``sha256`` metadata."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
            return False
        raise
    same_size = head.get("ContentLength") == len(body)
    return same_size and head.get("Metadata", {}).get("sha256") == sha256
