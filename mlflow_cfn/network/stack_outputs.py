"""A deployed network stack as the product sees it: its Outputs are the product's network
Parameters (and, with the image cache, ``MlflowImage``), its ``NetworkEgress`` and
``LoadBalancerSubnetTier`` Parameters say what the network allows. One DescribeStacks call.

``plan`` and ``deploy --network-stack NAME`` call `read_network_stack`, then
`mlflow_cfn.network.checks.apply_network_stack` with the launcher's parameter values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from mlflow_cfn.cfn.stacks import stack_location, stack_outputs, stack_parameters
from mlflow_cfn.network.image_cache import MLFLOW_IMAGE
from mlflow_cfn.network.inputs import (
    EGRESS_ENDPOINTS,
    EGRESS_NAT,
    LOAD_BALANCER_SUBNET_TIER,
    NETWORK_EGRESS,
    TIER_PRIVATE,
)
from mlflow_cfn.stack.components.load_balancer_inputs import LOAD_BALANCER_INGRESS_CIDRS
from mlflow_cfn.stack.components.network import (
    DATABASE_SUBNET_IDS,
    LOAD_BALANCER_SUBNET_IDS,
    SERVICE_SUBNET_IDS,
    VPC_ID,
)

#: The outputs every network stack has: the product's network Parameters, by the same names.
REQUIRED_OUTPUTS = (
    VPC_ID,
    LOAD_BALANCER_SUBNET_IDS,
    SERVICE_SUBNET_IDS,
    DATABASE_SUBNET_IDS,
    LOAD_BALANCER_INGRESS_CIDRS,
)
#: Outputs a network stack has in some modes only (the image cache).
OPTIONAL_OUTPUTS = (MLFLOW_IMAGE,)

#: Stack states whose outputs describe resources that exist. ROLLBACK_COMPLETE (a failed
#: creation) and DELETE_COMPLETE have none; *_IN_PROGRESS and *_FAILED states may change.
USABLE_STATES = frozenset({
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
})  # fmt: skip


class NetworkStackError(Exception):
    """The network stack cannot be used; the message is one line, for the user."""


@dataclass(frozen=True)
class NetworkStack:
    """What the product needs from a network stack.

    values: product Parameter -> value, from the stack's Outputs (REQUIRED_OUTPUTS, plus
        OPTIONAL_OUTPUTS the stack has).
    egress: its NetworkEgress (``nat`` or ``endpoints``).
    load_balancer_tier: its LoadBalancerSubnetTier (``private`` or ``public``).
    region: the region the stack was read in.
    parameters: its Parameters.
    account: the account it is in (from its StackId).
    """

    name: str
    status: str
    values: dict[str, str]
    egress: str
    load_balancer_tier: str = TIER_PRIVATE
    region: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    account: str | None = None


def read_network_stack(cloudformation: Any, stack_name: str) -> NetworkStack:
    """The network stack ``stack_name`` (DescribeStacks with ``cloudformation``, a boto3
    CloudFormation client).

    Raises NetworkStackError when the stack does not exist in the client's region, is not in a
    usable *_COMPLETE state, or lacks an output or Parameter a network stack has. Other AWS errors
    (no credentials, access denied, throttling after retries) propagate as botocore errors.
    """
    region = getattr(getattr(cloudformation, "meta", None), "region_name", None)
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", "")
        if error.response.get("Error", {}).get("Code") == "ValidationError" and (
            "does not exist" in message
        ):
            where = f" in region {region}" if region else ""
            raise NetworkStackError(f"network stack {stack_name!r} not found{where}") from None
        raise
    stack = stacks[0]
    return _network_stack(stack_name, stack, region)


def _network_stack(stack_name: str, stack: dict[str, Any], region: str | None) -> NetworkStack:
    """Check and read one DescribeStacks entry."""
    status = stack.get("StackStatus", "")
    if status not in USABLE_STATES:
        raise NetworkStackError(
            f"network stack {stack_name!r} is {status}: its outputs can be used only in "
            f"{', '.join(sorted(USABLE_STATES))} (wait for it to finish, or fix and update it)"
        )
    outputs, parameters = stack_outputs(stack), stack_parameters(stack)
    missing = [name for name in REQUIRED_OUTPUTS if not outputs.get(name)]
    if NETWORK_EGRESS not in parameters:
        missing.append(f"Parameter {NETWORK_EGRESS}")
    if missing:
        raise NetworkStackError(
            f"network stack {stack_name!r} has no {', '.join(missing)}: is it a stack of "
            "templates/network.json (mlflow-cfn synth --network)?"
        )
    egress = parameters[NETWORK_EGRESS]
    if egress not in (EGRESS_NAT, EGRESS_ENDPOINTS):
        raise NetworkStackError(
            f"network stack {stack_name!r}: {NETWORK_EGRESS} is {egress!r}, expected "
            f"{EGRESS_NAT} or {EGRESS_ENDPOINTS}"
        )
    wanted = (*REQUIRED_OUTPUTS, *OPTIONAL_OUTPUTS)
    return NetworkStack(
        name=stack_name,
        status=status,
        values={name: outputs[name] for name in wanted if outputs.get(name)},
        egress=egress,
        load_balancer_tier=parameters.get(LOAD_BALANCER_SUBNET_TIER, TIER_PRIVATE),
        region=region,
        parameters=parameters,
        account=_account(stack.get("StackId", "")),
    )


def _account(stack_id: str) -> str | None:
    """The account of a StackId (None when it names none)."""
    location = stack_location(stack_id)
    return location[1] if location and location[1].isdigit() else None
