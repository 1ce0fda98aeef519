"""The network template: a VPC the MLflow product can run in, published beside it. Its outputs are
the product's network Parameters; `stack_outputs` reads them from a deployed network stack and
`checks` says what in a product parameter set cannot work in that network."""

from mlflow_cfn.network.template import (
    build_network_template,
    network_template,
    network_template_text,
)

__all__ = ["build_network_template", "network_template", "network_template_text"]
