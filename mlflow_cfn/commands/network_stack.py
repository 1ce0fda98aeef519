"""``--network-stack NAME`` for ``plan`` and ``deploy``: the product's network Parameters read
from a network stack's Outputs (`mlflow_cfn.network.stack_outputs`), checked against what the
user gives and what that network can carry (`mlflow_cfn.network.checks`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mlflow_cfn.cfn.aws import aws_cause, aws_client
from mlflow_cfn.cfn.evaluate import EvaluationError
from mlflow_cfn.network.checks import apply_network_stack
from mlflow_cfn.network.lookups import MakeClient, online_problems
from mlflow_cfn.network.stack_outputs import NetworkStackError, read_network_stack

__all__ = ["add_network_stack_option", "with_network_stack"]


def add_network_stack_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--network-stack``."""
    parser.add_argument(
        "--network-stack",
        metavar="NAME",
        help="a stack of the network template (templates/network.json) in the same region: its "
        "Outputs fill VpcId, LoadBalancerSubnetIds, ServiceSubnetIds, DatabaseSubnetIds (and "
        "LoadBalancerIngressCidrs, MlflowImage when not given); reads it with DescribeStacks, its "
        "service subnets' zones with DescribeSubnets where Fargate runs in some zones only, and "
        "whether the image is in its cache with DescribeImages",
    )


def with_network_stack(
    cloudformation: Any,
    name: str,
    given: dict[str, str],
    warn: Callable[[str], None],
    make_client: MakeClient | None = None,
) -> dict[str, str]:
    """``given`` with the network stack's values filled in; EvaluationError lists what conflicts
    with the network or cannot work in it; each warning goes to `warn`. The checks only AWS can
    answer (`mlflow_cfn.network.lookups`) use ``make_client(service)`` (default: boto3's default
    session, in `cloudformation`'s region)."""
    try:
        network = read_network_stack(cloudformation, name)
    except NetworkStackError as exc:
        raise EvaluationError([f"--network-stack {name}: {exc}"]) from None
    except (BotoCoreError, ClientError) as exc:
        raise EvaluationError([f"--network-stack {name}: {aws_cause(exc)}"]) from None
    check = apply_network_stack(network, given)
    if make_client is None:
        make_client = partial(aws_client, region=cloudformation.meta.region_name)
    errors, warnings = online_problems(network, check.parameters, make_client)
    if check.errors + errors:
        raise EvaluationError(check.errors + errors)
    for warning in check.warnings + warnings:
        warn(warning)
    return check.parameters
