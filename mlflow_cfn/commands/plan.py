"""``mlflow-cfn plan``."""

from __future__ import annotations

from mlflow_cfn.stack.plan import add_plan_parser as register

__all__ = ["register"]
