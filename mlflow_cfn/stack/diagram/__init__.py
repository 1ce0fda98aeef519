"""The evaluated stack as a Graphviz diagram (DOT source or SVG), for ``mlflow-cfn diagram``.

Everything drawn is derived from the resources an evaluation creates, never from parameters: an
optional part (the HTTPS listener, Cognito or OIDC sign-in, bearer-token rules, sidecars,
autoscaling, a DNS record) appears exactly when its resources do. Connections come from the
references between resources, so evaluate without physical ids or attributes (as `evaluate_stack`
and `mlflow_cfn.stack.plan.evaluate_file` do): a reference then reads ``<LogicalId>`` or
``<LogicalId.Attribute>``. Resources with no place in the picture (security groups and their
rules, IAM roles, policies, aliases...) are counted in the caption.

Modules: `graph` (tiers, arrow kinds, the graph and its references), `load_balancing`, `service`
and `data` (one per part of the picture), `dot` (DOT source and SVG), `inputs` (the stack to draw).
"""

from __future__ import annotations

from mlflow_cfn.stack.diagram.dot import diagram, render_svg
from mlflow_cfn.stack.diagram.inputs import PLACEHOLDER_PARAMETERS, evaluate_stack

__all__ = ["PLACEHOLDER_PARAMETERS", "diagram", "evaluate_stack", "render_svg"]
