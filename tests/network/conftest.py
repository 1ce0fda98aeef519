"""The publishing fixtures of tests/publish (dummy AWS credentials for every test here, moto's S3,
the stubbed Service Catalog and IAM), for publishing the network template."""

from tests.publish.test_publish import aws_env, iam, s3, sc  # noqa: F401
