"""``publish --portfolio-stack NAME``: the launch role and the permissions boundary a stack of the
portfolio template made, read from its Outputs (DescribeStacks), so that ``publish`` names roles
that exist instead of names typed by hand.

Decisions:

* The role's name is the last segment of the ``LaunchRoleArn`` output (``NetworkLaunchRoleArn``
  with ``--network``): a LAUNCH constraint names a role by ``LocalRoleName``, and the portfolio
  template's roles have no path.
* ``--portfolio-stack`` replaces ``--launch-role-name`` and ``--permissions-boundary-arn``;
  giving both is refused before anything is sent, since the two could disagree.
* The stack made the portfolio, the product and their launch and template constraints, which
  hold every version of the product: publish then adds versions to that product only (its
  ``PortfolioId`` and ``ProductId`` or ``NetworkProductId`` outputs must be what ``--portfolio``
  and ``--product`` name) and adds no constraint of its own, so the stack's allow-lists stay the
  only ones (a second template constraint from publish's flags would also apply).
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from mlflow_cfn.catalog.publish import PublishError, PublishRequest
from mlflow_cfn.cfn.stacks import describe_stack, stack_outputs

__all__ = ["add_portfolio_stack_option", "check_portfolio_stack_flags", "with_portfolio_stack"]

#: The portfolio template's Outputs this reads (mlflow_cfn/catalog: Outputs of the portfolio).
ROLE_OUTPUTS = {False: "LaunchRoleArn", True: "NetworkLaunchRoleArn"}
PRODUCT_OUTPUTS = {False: "ProductId", True: "NetworkProductId"}
BOUNDARY_OUTPUT = "PermissionsBoundaryArn"
PORTFOLIO_OUTPUT = "PortfolioId"


def add_portfolio_stack_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--portfolio-stack``."""
    parser.add_argument(
        "--portfolio-stack",
        metavar="NAME",
        help="a stack of the portfolio template (mlflow-cfn synth --portfolio) in the same "
        "region: its Outputs LaunchRoleArn (NetworkLaunchRoleArn with --network) and "
        "PermissionsBoundaryArn give the launch role and the boundary (instead of "
        "--launch-role-name and --permissions-boundary-arn)",
    )


def check_portfolio_stack_flags(args: argparse.Namespace, allow_flags: list[str]) -> None:
    """PublishError when ``--portfolio-stack`` comes with the flags it replaces: the launch
    role, the boundary, and the allow-lists (`allow_flags` given), which are the stack's."""
    if not args.portfolio_stack:
        return
    if args.launch_role_name or args.permissions_boundary_arn:
        raise PublishError(
            "--portfolio-stack reads the launch role and the permissions boundary from the "
            "portfolio stack's Outputs: leave out --launch-role-name and "
            "--permissions-boundary-arn"
        )
    if allow_flags:
        raise PublishError(
            f"--portfolio-stack with {', '.join(allow_flags)}: the allow-lists of the portfolio "
            "stack's product are that stack's parameters (Allowed*); update the stack instead"
        )


def with_portfolio_stack(
    request: PublishRequest, cloudformation: Any, name: str, network: bool
) -> PublishRequest:
    """`request` with the launch role and boundary of the portfolio stack `name`; PublishError
    when the stack or an output is missing."""
    stack = describe_stack(cloudformation, name)
    if stack is None:
        raise PublishError(f"--portfolio-stack {name}: no such stack in this region")
    outputs = stack_outputs(stack)
    wanted = (ROLE_OUTPUTS[network], BOUNDARY_OUTPUT, PRODUCT_OUTPUTS[network], PORTFOLIO_OUTPUT)
    missing = [key for key in wanted if not outputs.get(key)]
    if missing:
        why = " (it offers no network product: OfferNetworkProduct)" if network else ""
        raise PublishError(
            f"--portfolio-stack {name}: no output {', '.join(missing)}{why}; is it a stack of "
            "the portfolio template (mlflow-cfn synth --portfolio), created and not deleted?"
        )
    role_name = outputs[ROLE_OUTPUTS[network]].rsplit("/", 1)[-1]
    return dataclasses.replace(
        request,
        launch_role_name=role_name,
        permissions_boundary_arn=outputs[BOUNDARY_OUTPUT],
        stack_portfolio_id=outputs[PORTFOLIO_OUTPUT],
        stack_product_id=outputs[PRODUCT_OUTPUTS[network]],
    )
