"""build_template(): the one place that decides the order of components and wires them together.

Each component declares its own Parameters, Conditions and Rules beside the resources that use
them and returns a record of what it made; a later component receives the records it needs as
keyword arguments. The console form is generated last from the Parameters in declaration order.
"""

from __future__ import annotations

from functools import cache

from troposphere import Template

from mlflow_cfn.stack.checks import check_ranges
from mlflow_cfn.stack.components.alarms import add_alarms
from mlflow_cfn.stack.components.auth import add_login
from mlflow_cfn.stack.components.database import add_database
from mlflow_cfn.stack.components.idle_shutdown import add_idle_shutdown
from mlflow_cfn.stack.components.keys import add_keys
from mlflow_cfn.stack.components.listeners import add_listeners
from mlflow_cfn.stack.components.load_balancer import add_load_balancer
from mlflow_cfn.stack.components.log_bucket import add_log_bucket
from mlflow_cfn.stack.components.network import add_network
from mlflow_cfn.stack.components.permissions_boundary import declare_permissions_boundary
from mlflow_cfn.stack.components.rotation import add_rotation_redeploy
from mlflow_cfn.stack.components.scaling import add_scaling
from mlflow_cfn.stack.components.service import add_service
from mlflow_cfn.stack.components.sidecars import add_sidecars
from mlflow_cfn.stack.components.storage import add_storage
from mlflow_cfn.stack.components.wake import add_wake
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.interface import interface_metadata
from mlflow_cfn.stack.options import OptionsError, StackOptions
from mlflow_cfn.stack.parameters import ParameterSpec
from mlflow_cfn.versions import MLFLOW_VERSION, __version__

DESCRIPTION = (
    f"MLflow {MLFLOW_VERSION} tracking server and UI on ECS Fargate behind an Application "
    f"Load Balancer, Aurora Serverless v2 backend store, S3 artifact store "
    f"(mlflow-cfn {__version__})"
)


def assemble(options: StackOptions) -> Context:
    """Run every component in order on a new template; return the context (template and the
    declared Parameters)."""
    template = Template(Description=DESCRIPTION)
    template.set_version("2010-09-09")
    ctx = Context(template=template, options=options)
    network = add_network(ctx)
    declare_permissions_boundary(ctx)
    keys = add_keys(ctx)
    storage = add_storage(ctx, logs=add_log_bucket(ctx))
    database = add_database(ctx, keys=keys, network=network)
    load_balancing = add_load_balancer(ctx, storage=storage, network=network)
    login = add_login(ctx, network=network, load_balancing=load_balancing)
    listeners = add_listeners(ctx, load_balancing=load_balancing, login=login)
    service = add_service(
        ctx,
        keys=keys,
        storage=storage,
        database=database,
        network=network,
        load_balancing=load_balancing,
        listeners=listeners,
        sidecars=add_sidecars(ctx),
    )
    scaling = add_scaling(
        ctx, cluster=service.cluster, service=service.service, load_balancing=load_balancing
    )
    wake = add_wake(
        ctx,
        keys=keys,
        storage=storage,
        load_balancing=load_balancing,
        listeners=listeners,
        login=login,
        cluster=service.cluster,
        service=service.service,
        resource_id=scaling.resource_id,
    )
    add_idle_shutdown(ctx, inputs=scaling.inputs, load_balancing=load_balancing, wake=wake)
    add_rotation_redeploy(ctx, database=database, service=service)
    add_alarms(ctx, keys=keys, load_balancing=load_balancing, service=service, database=database)
    template.set_metadata(interface_metadata(ctx.specs))
    return ctx


@cache
def parameter_specs(options: StackOptions) -> tuple[ParameterSpec, ...]:
    """Every Parameter of the template built for ``options``, in declaration order (the
    components declare them, so this assembles the template)."""
    return tuple(assemble(options).specs)


def build_template(options: StackOptions | None = None) -> Template:
    """Assemble the MLflow stack for ``options`` (defaults when None).

    Raises OptionsError listing every problem with the options, or with the Parameter defaults.
    """
    options = options or StackOptions()
    options.check()
    ctx = assemble(options)
    defaults = {spec.name: spec.default for spec in ctx.specs if spec.default is not None}
    if errors := check_ranges(defaults):  # an edit that would make the defaults unusable
        raise OptionsError([f"parameter defaults: {e}" for e in errors])
    return ctx.template
