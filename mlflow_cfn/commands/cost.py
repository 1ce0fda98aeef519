"""``mlflow-cfn cost``."""

from __future__ import annotations

from mlflow_cfn.cost.estimate import add_cost_parser as register

__all__ = ["register"]
