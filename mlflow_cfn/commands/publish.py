"""``mlflow-cfn publish``."""

from __future__ import annotations

from mlflow_cfn.catalog.publish import add_publish_parser as register

__all__ = ["register"]
