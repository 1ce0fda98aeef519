"""Every parameter set of the real-account suite passes the checks it meets in AWS, offline: the
product's and the network's through `evaluate_checked` (what `mlflow-cfn deploy` runs first), the
product's deployed with ``--network-stack`` also through `apply_network_stack` against the network
set's own outputs, and the end user's launches also through the portfolio's template constraint
Rules, as Service Catalog applies them."""

from __future__ import annotations

import json

import pytest

from mlflow_cfn.catalog.portfolio import PERMISSIONS_BOUNDARY
from mlflow_cfn.cfn.evaluate import Evaluated, ParameterError, evaluate
from mlflow_cfn.network.checks import apply_network_stack
from mlflow_cfn.network.stack_outputs import NetworkStack
from mlflow_cfn.stack.plan import evaluate_checked
from tests.aws.acceptance import parameter_sets as sets
from tests.aws.acceptance.names import Names, run_id
from tests.conftest import TEMPLATES

REGION = "eu-west-1"
ACCOUNT = "123456789012"
NAMES = Names(run_id("mfa", 1_800_000_000), ACCOUNT)
EXPOSURE = sets.Exposure(
    client_cidr="203.0.113.7/32",
    domain=NAMES.domain("open", "acceptance.example.com"),
    certificate_arn=f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
    hosted_zone_id="Z0123456789ABCDEFGHIJ",
)
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/{NAMES.stack('portfolio')}-PermissionsBoundary-ABC"
DATADOG_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:datadog-api-key-AbCdEf"


def template(name: str) -> dict:
    return json.loads((TEMPLATES / name).read_text())


def checked(name: str, parameters: dict[str, str], role: str) -> Evaluated:
    """`name` evaluated as `mlflow-cfn deploy` checks it for the run's stack of `role`."""
    return evaluate_checked(template(name), parameters, region=REGION, stack_name=NAMES.stack(role))


@pytest.fixture(scope="module")
def network() -> NetworkStack:
    """The run's network stack as `--network-stack` reads it: the network set's own outputs
    (resource ids made up, everything else evaluated)."""
    resources = template("network.json")["Resources"]
    ids = {logical_id: f"id-{logical_id.lower()}" for logical_id in resources}
    ids.update(Vpc="vpc-0123456789abcdef0")
    ids.update({k: f"subnet-{n:017x}" for n, k in enumerate(sorted(resources)) if "Subnet" in k})
    evaluated = evaluate(
        template("network.json"),
        sets.network(),
        physical_ids=ids,
        attributes={"Vpc.CidrBlock": "10.0.0.0/16"},
        region=REGION,
        stack_name=NAMES.stack("network"),
    )
    return NetworkStack(
        name=NAMES.stack("network"),
        status="CREATE_COMPLETE",
        values={k: str(v) for k, v in evaluated.outputs.items()},
        egress=str(evaluated.parameters["NetworkEgress"]),
        load_balancer_tier=str(evaluated.parameters["LoadBalancerSubnetTier"]),
        region=REGION,
    )


def through_network(network: NetworkStack, parameters: dict[str, str]) -> dict[str, str]:
    """What `deploy --network-stack` sends: errors refuse the set; warnings are allowed."""
    check = apply_network_stack(network, parameters)
    assert check.errors == [], check.errors
    return check.parameters


def test_the_network_set_deploys_with_public_load_balancer_subnets():
    stack = checked("network.json", sets.network(), "network")
    assert stack.of_type("AWS::EC2::NatGateway")
    assert stack.conditions["LoadBalancerInPublicSubnets"]


@pytest.mark.parametrize("exposure", [EXPOSURE, None], ids=["reachable", "internal"])
def test_the_open_set_and_its_updates(network, exposure):
    opened = sets.open_product(exposure)
    for parameters in (opened, sets.direct_uploads(opened), sets.idle_shutdown(opened)):
        stack = checked("mlflow.json", through_network(network, parameters), "open")
        assert stack.parameters["DatabaseDeletionProtection"] == "false"
    stack = checked("mlflow.json", through_network(network, opened), "open")
    assert stack.of_type("AWS::CloudWatch::Alarm").keys() >= {
        "AlarmNoHealthyTarget",
        "AlarmTasksNotRunning",
    }
    assert "RefuseUploadsThroughSignedUrls" in json.dumps(stack.resource("TaskRole"))
    public = stack.resource("LoadBalancer")["Properties"]["Scheme"] == "internet-facing"
    assert public is (exposure is not None)
    idle = checked("mlflow.json", through_network(network, sets.idle_shutdown(opened)), "open")
    assert {"IdleShutdownAlarm", "WakeFunction", "WakeTargetGroup"} <= idle.resources.keys()


def test_the_login_set_creates_the_user_pool(network):
    stack = checked("mlflow.json", through_network(network, sets.login_product(EXPOSURE)), "login")
    assert "CognitoUserPool" in stack.resources
    assert stack.outputs["TrackingUri"] == f"https://{EXPOSURE.domain}"


def test_the_operator_and_datadog_sets(network):
    checked("mlflow.json", through_network(network, sets.operator_product()), "operator")
    datadog = through_network(network, sets.datadog_product(DATADOG_SECRET))
    stack = checked("mlflow-datadog.json", datadog, "datadog")
    containers = stack.resource("TaskDefinition")["Properties"]["ContainerDefinitions"]
    assert "datadog-agent" in [c["Name"] for c in containers]


@pytest.fixture(scope="module")
def portfolio() -> Evaluated:
    """The portfolio stack of the run's set, its boundary's ARN as CloudFormation names it."""
    url = f"https://{NAMES.template_bucket}.s3.{REGION}.amazonaws.com/mlflow-cfn/templates/"
    parameters = sets.portfolio(
        NAMES, f"arn:aws:iam::{ACCOUNT}:role/{NAMES.end_user_role}", url + "a.json", url + "b.json"
    )
    evaluate_checked(
        template("portfolio.json"), parameters, region=REGION, stack_name=NAMES.stack("portfolio")
    )
    return evaluate(
        template("portfolio.json"),
        parameters,
        physical_ids={PERMISSIONS_BOUNDARY: BOUNDARY},
        account_id=ACCOUNT,
        region=REGION,
        stack_name=NAMES.stack("portfolio"),
    )


def launched(portfolio: Evaluated, constraint: str, product: dict, parameters: dict) -> Evaluated:
    """`product` launched with `parameters` under the portfolio's template constraint's Rules."""
    rules = json.loads(portfolio.resource(constraint)["Properties"]["Rules"])
    product = {**product, "Rules": {**product.get("Rules", {}), **rules}}
    return evaluate(product, parameters, account_id=ACCOUNT, region=REGION, stack_name="SC-1-pp-x")


def test_the_end_users_product_launch_and_updates(network, portfolio):
    launch = sets.launched_product(network.values, BOUNDARY)
    first = launched(portfolio, "LaunchTemplateConstraint", template("mlflow.json"), launch)
    assert first.resource("Service")["Properties"]["DesiredCount"] == "1"
    update = sets.service_update(launch)
    second = launched(portfolio, "LaunchTemplateConstraint", template("mlflow.json"), update)
    assert second.resource("Service")["Properties"]["DesiredCount"] == "0"
    version_2 = sets.key_policy_version(template("mlflow.json"))
    launched(portfolio, "LaunchTemplateConstraint", version_2, update)


def test_the_end_users_network_launch(portfolio):
    launch = sets.launched_network(BOUNDARY)
    stack = launched(portfolio, "NetworkLaunchTemplateConstraint", template("network.json"), launch)
    for kind in ("AWS::EC2::EIP", "AWS::EC2::VPCEndpoint", "AWS::EC2::FlowLog"):
        assert stack.of_type(kind), kind  # the types whose stack-name tag the run reads


def test_launches_outside_the_constraint_are_refused(network, portfolio):
    # The constraint really is applied above: the same launch without the boundary is refused.
    launch = {**sets.launched_product(network.values, BOUNDARY), "PermissionsBoundaryArn": ""}
    with pytest.raises(ParameterError, match="PermissionsBoundaryArn"):
        launched(portfolio, "LaunchTemplateConstraint", template("mlflow.json"), launch)


def test_version_2_differs_in_key_policies_only():
    before = template("mlflow.json")
    after = sets.key_policy_version(before)
    changed = [k for k in before["Resources"] if before["Resources"][k] != after["Resources"][k]]
    keys = [k for k, r in before["Resources"].items() if r["Type"] == "AWS::KMS::Key"]
    assert changed == keys and len(keys) == 3
    for key in keys:
        old, new = (t["Resources"][key]["Properties"] for t in (before, after))
        assert old["KeyPolicy"] != new["KeyPolicy"]
        assert {**old, "KeyPolicy": None} == {**new, "KeyPolicy": None}
    assert {k: v for k, v in before.items() if k != "Resources"} == {
        k: v for k, v in after.items() if k != "Resources"
    }
