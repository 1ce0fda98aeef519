"""The stack a diagram is drawn from: a template file evaluated with a parameter file (checked as
`plan` checks it), or with the template's defaults and placeholders for the network parameters
that have none. Evaluated without physical ids or attributes, so references stay readable as
``<LogicalId>`` placeholders."""

from __future__ import annotations

from pathlib import Path

from mlflow_cfn.cfn.evaluate import Evaluated, evaluate
from mlflow_cfn.stack.plan import evaluate_file, read_template

#: Values for the parameters without a default, when no --parameters file is given.
PLACEHOLDER_PARAMETERS = {
    "VpcId": "vpc-0123456789abcdef0",
    "LoadBalancerSubnetIds": "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
    "ServiceSubnetIds": "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
    "DatabaseSubnetIds": "subnet-0cccccccccccccccc,subnet-0dddddddddddddddd",
    "LoadBalancerIngressCidrs": "10.0.0.0/8",
}


def evaluate_stack(
    template_path: str | Path | None, parameters_path: str | Path | None
) -> Evaluated:
    """The stack to draw: a parameter file's, or the template's defaults with placeholders for
    the parameters that have none. EvaluationError lists every problem."""
    if parameters_path is not None:
        return evaluate_file(template_path, parameters_path)
    template = read_template(template_path)
    declared = template.get("Parameters", {})
    placeholders = {
        name: value
        for name, value in PLACEHOLDER_PARAMETERS.items()
        if name in declared and "Default" not in declared[name]
    }
    return evaluate(template, placeholders)
