"""``mlflow-cfn deploy``."""

from __future__ import annotations

from mlflow_cfn.cfn.deploy import add_deploy_parser as register

__all__ = ["register"]
