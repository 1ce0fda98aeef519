"""The publishing tests' fixtures (dummy AWS credentials, moto's S3, the stubbed Service Catalog
and IAM), shared with the allow-list and launch role tests."""

from tests.publish.test_publish import aws_env, iam, s3, sc  # noqa: F401
