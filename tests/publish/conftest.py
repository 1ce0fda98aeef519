"""The publishing tests' fixtures (dummy AWS credentials, moto's S3, the stubbed Service Catalog),
shared with the allow-list tests."""

from tests.publish.test_publish import aws_env, s3, sc  # noqa: F401
