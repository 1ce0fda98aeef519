"""build_network_template(): the network template, the one place that orders its components.

Like the product (`mlflow_cfn.stack.template`), each component declares what it needs and returns
a record of what it made; the console form is generated last from the declared Parameters.
"""

from __future__ import annotations

import json
from functools import cache

from troposphere import Template

from mlflow_cfn.cfn.render import render
from mlflow_cfn.network.default_security_group import add_default_security_group_restriction
from mlflow_cfn.network.endpoints import add_endpoints
from mlflow_cfn.network.flow_logs import add_flow_logs
from mlflow_cfn.network.image_cache import add_image_cache
from mlflow_cfn.network.inputs import GROUPS, declare_network_inputs
from mlflow_cfn.network.layout import add_layout
from mlflow_cfn.stack.components.permissions_boundary import declare_permissions_boundary
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.docs import specs_table
from mlflow_cfn.stack.interface import interface_metadata
from mlflow_cfn.versions import __version__

DESCRIPTION = (
    "Network for the MLflow product: a VPC in two or three Availability Zones with public, "
    "private and isolated subnets, egress through NAT gateways or VPC endpoints only, flow "
    f"logs (mlflow-cfn {__version__})"
)


def assemble_network() -> Context:
    """Run every component of the network template in order; return the context."""
    template = Template(Description=DESCRIPTION)
    template.set_version("2010-09-09")
    ctx = Context(template=template, options=None)
    inputs = declare_network_inputs(ctx)
    declare_permissions_boundary(ctx)
    layout = add_layout(ctx, inputs=inputs)
    add_endpoints(ctx, layout=layout)
    logs = add_flow_logs(ctx, inputs=inputs, layout=layout)
    add_default_security_group_restriction(ctx, inputs=inputs, layout=layout, logs=logs)
    add_image_cache(ctx, inputs=inputs)
    template.set_metadata(interface_metadata(ctx.specs, GROUPS))
    return ctx


def build_network_template() -> Template:
    """The network template (it has no build options: every choice is a Parameter)."""
    return assemble_network().template


@cache
def network_template_text() -> str:
    """The network template as `mlflow-cfn synth --network` writes it (templates/network.json)."""
    return render(build_network_template())


def network_template() -> dict:
    """The network template as JSON data (a fresh copy)."""
    return json.loads(network_template_text())


def network_parameters_table() -> str:
    """The README's table of the network template's Parameters, in console order."""
    return specs_table(assemble_network().specs, GROUPS)
