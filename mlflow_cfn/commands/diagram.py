"""``mlflow-cfn diagram``."""

from __future__ import annotations

from mlflow_cfn.stack.diagram import add_diagram_parser as register

__all__ = ["register"]
