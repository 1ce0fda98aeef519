"""build_template(): the one place that decides the order of components and wires them together."""

from __future__ import annotations

from troposphere import Template

from mlflow_cfn.stack.checks import check_ranges
from mlflow_cfn.stack.components.auth import add_login
from mlflow_cfn.stack.components.database import add_database
from mlflow_cfn.stack.components.keys import add_keys
from mlflow_cfn.stack.components.load_balancer import add_listeners, add_load_balancer
from mlflow_cfn.stack.components.network import add_security_groups
from mlflow_cfn.stack.components.rotation import add_rotation_redeploy
from mlflow_cfn.stack.components.scaling import add_scaling
from mlflow_cfn.stack.components.service import add_service
from mlflow_cfn.stack.components.storage import add_storage
from mlflow_cfn.stack.conditions import add_conditions
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.options import OptionsError, StackOptions
from mlflow_cfn.stack.parameters import add_parameters, parameter_specs
from mlflow_cfn.stack.rules import add_mode_rules, add_rules
from mlflow_cfn.versions import MLFLOW_VERSION, __version__


def build_template(options: StackOptions | None = None) -> Template:
    """Assemble the MLflow stack for ``options`` (defaults when None).

    Raises OptionsError listing every problem with the options.
    """
    options = options or StackOptions()
    options.check()
    template = Template(
        Description=(
            f"MLflow {MLFLOW_VERSION} tracking server and UI on ECS Fargate behind an Application "
            f"Load Balancer, Aurora Serverless v2 backend store, S3 artifact store "
            f"(mlflow-cfn {__version__})"
        )
    )
    template.set_version("2010-09-09")
    specs = parameter_specs(options)
    defaults = {spec.name: spec.default for spec in specs if spec.default is not None}
    if errors := check_ranges(defaults):  # a table edit that would make the defaults unusable
        raise OptionsError([f"parameter defaults: {e}" for e in errors])
    ctx = Context(template=template, options=options, parameters=add_parameters(template, specs))
    add_conditions(ctx)
    add_rules(ctx)
    add_mode_rules(ctx)
    keys = add_keys(ctx)
    storage = add_storage(ctx, keys=keys)
    security_groups = add_security_groups(ctx)
    database = add_database(ctx, keys=keys, security_groups=security_groups)
    load_balancing = add_load_balancer(ctx, storage=storage, security_groups=security_groups)
    login = add_login(ctx, security_groups=security_groups)
    listeners = add_listeners(ctx, load_balancing=load_balancing, login=login)
    service = add_service(
        ctx,
        keys=keys,
        storage=storage,
        database=database,
        security_groups=security_groups,
        load_balancing=load_balancing,
        listeners=listeners,
    )
    add_scaling(
        ctx, cluster=service.cluster, service=service.service, load_balancing=load_balancing
    )
    add_rotation_redeploy(ctx, database=database, service=service)
    return template
