"""``python -m service_catalog.publish``: the same as ``mlflow-cfn publish``."""

from __future__ import annotations

import argparse
import sys

from mlflow_cfn.commands.publish import add_arguments as add_publish_arguments
from mlflow_cfn.commands.publish import run as run_publish


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` with the ``publish`` flags and publish; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m service_catalog.publish",
        description="Publish the template as a version of an AWS Service Catalog product.",
    )
    add_publish_arguments(parser)
    return run_publish(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
