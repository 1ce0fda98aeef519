"""``mlflow-cfn permissions``: the IAM policy a person needs for deploy and publish covers every
AWS call those commands make, is valid IAM JSON that fits managed policies, is the same on every
run, and, for a deploy without a service role, grants what the launch role's machinery derives
for the template, retargeted to the named stack (checked by evaluating requests)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from mlflow_cfn.catalog import operator_policy as op
from mlflow_cfn.catalog.launch_actions import REFUSED_ACTIONS, stack_actions
from mlflow_cfn.catalog.launch_policy import MANAGED_POLICY_MAX_CHARS, policy_chars
from mlflow_cfn.catalog.network_grants import NETWORK_REFUSED_ACTIONS
from mlflow_cfn.catalog.schema_actions import action_table
from mlflow_cfn.cfn.schemas import iam_action
from mlflow_cfn.cli import main
from mlflow_cfn.stack.plan import read_template
from tests.conftest import ROOT
from tests.publish.iam import allowed
from tests.publish.stack_resources import stack_resources

ACCOUNT = "123456789012"
REGION = "eu-west-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/cfn-service-role"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/mlflow-boundary"
SECRETS = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:mlflow/"

#: The modules whose AWS calls each command makes, and the client variables they call.
DEPLOY_MODULES = ("cfn/stacks.py", "cfn/changes.py", "cfn/events.py", "cfn/upload.py")
DEPLOY_MODULES += ("commands/deploy.py", "commands/deploy_inputs.py", "network/stack_outputs.py")
DEPLOY_MODULES += ("network/lookups.py",)
PUBLISH_MODULES = ("catalog/publish.py", "catalog/existing.py", "catalog/product_versions.py")
PUBLISH_MODULES += ("catalog/template_constraint.py", "cfn/upload.py", "commands/publish.py")
PUBLISH_MODULES += ("catalog/launch_role_check.py", "commands/portfolio_stack.py", "cfn/stacks.py")
RECEIVERS = {"cfn": "cloudformation", "cloudformation": "cloudformation", "s3": "s3"}
RECEIVERS["sc"], RECEIVERS["iam"] = "servicecatalog", "iam"
RECEIVERS["ec2"], RECEIVERS["ecr"] = "ec2", "ecr"


def _api_names() -> dict[str, dict[str, str]]:
    """Service -> boto3 method name -> API operation name, from botocore's models (offline)."""
    session = boto3.session.Session(region_name="us-east-1")
    return {
        service: session.client(service).meta.method_to_api_mapping
        for service in sorted(set(RECEIVERS.values()))
    }


def aws_calls(modules: tuple[str, ...]) -> set[str]:
    """``service:Operation`` of every client method the modules call on ``cfn``/``s3``/``sc``
    (or ``self.cfn``...), and of every operation named by a string (paginated calls pass it)."""
    names, found = _api_names(), set()
    for module in modules:
        tree = ast.parse((ROOT / "mlflow_cfn" / module).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                services = [s for s, methods in names.items() if node.value in methods]
                assert len(services) <= 1, node.value
                found |= {f"{s}:{names[s][node.value]}" for s in services}
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            receiver = node.func.value
            if isinstance(receiver, ast.Attribute):  # self.cfn
                receiver = ast.Name(receiver.attr)
            service = RECEIVERS.get(getattr(receiver, "id", ""))
            if service and node.func.attr != "get_paginator":
                found.add(f"{service}:{names[service][node.func.attr]}")
    return found


@pytest.fixture(scope="module")
def template() -> dict:
    return read_template(None)


def operator(**overrides: Any) -> op.Operator:
    values: dict[str, Any] = {"region": REGION, "account": ACCOUNT, "bucket": "my-templates"}
    return op.Operator(**{**values, **overrides})


def policy(purpose: str, template: dict | None = None, **overrides: Any) -> dict:
    if purpose == "deploy-with-service-role":
        overrides.setdefault("role_arn", ROLE)
    if purpose == "publish":
        overrides.setdefault("launch_role_name", "MlflowLaunchRole")
    return op.operator_policy(purpose, operator(**overrides), template)


def granted(document: dict) -> set[str]:
    return {a.lower() for s in document["Statement"] if s["Effect"] == "Allow" for a in s["Action"]}


def test_the_call_tables_are_the_calls_the_code_makes():
    """A call added to deploy or publish without its action fails here, and so does a stale one."""
    assert aws_calls(DEPLOY_MODULES) == set(op.DEPLOY_CALLS)
    assert aws_calls(PUBLISH_MODULES) == set(op.PUBLISH_CALLS)
    assert len(op.DEPLOY_CALLS) == 11 and len(op.PUBLISH_CALLS) == 24


@pytest.mark.parametrize(
    ("purpose", "calls"),
    [
        ("deploy", op.DEPLOY_CALLS),
        ("deploy-with-service-role", op.DEPLOY_CALLS),
        ("publish", op.PUBLISH_CALLS),
    ],
)
def test_every_call_is_granted(template, purpose, calls):
    """With --network-stack for deploy: its calls are among the command's."""
    network = {"network_stack": "mlflow-network"}
    if purpose == "publish":  # with --portfolio-stack: its calls are among the command's
        network = {"portfolio_stack": "mlflow-portfolio"}
    document = policy(purpose, template, **network)
    missing = {a for a in calls.values() if a.lower() not in granted(document)}
    assert missing == set()


def iam_problems(document: dict) -> list[str]:
    """What IAM would refuse in a policy document, or a value left unresolved."""
    problems = []
    if set(document) != {"Version", "Statement"} or document["Version"] != "2012-10-17":
        problems.append(f"top level: {sorted(document)} {document.get('Version')}")
    sids = [s.get("Sid", "") for s in document["Statement"]]
    if len(set(sids)) != len(sids) or not all(re.fullmatch(r"[A-Za-z0-9]+", s) for s in sids):
        problems.append(f"statement ids not unique and alphanumeric: {sids}")
    for s in document["Statement"]:
        if not set(s) <= {"Sid", "Effect", "Action", "Resource", "Condition"}:
            problems.append(f"{s['Sid']}: keys {sorted(s)}")
        if s["Effect"] not in ("Allow", "Deny") or not s["Action"] or not s["Resource"]:
            problems.append(f"{s['Sid']}: effect, action or resource")
        problems += [
            f"{s['Sid']}: {a} is no IAM action" for a in s["Action"] if iam_action(a) is None
        ]
        problems += [
            f"{s['Sid']}: resource {r}"
            for r in s["Resource"]
            if r != "*" and not re.fullmatch(r"arn:(aws|\*)(-[a-z]+)*:[a-z0-9-]+:[a-z0-9-]*:.+", r)
        ]
    text = json.dumps(document)
    problems += [f"unresolved {m}" for m in re.findall(r'"(?:Fn::\w+|Ref)"|\$\{[^}]*\}', text)]
    return problems


@pytest.mark.parametrize("purpose", op.PURPOSES)
@pytest.mark.parametrize(
    "overrides",
    [{}, {"boundary_arn": BOUNDARY, "hosted_zones": ("Z0123456789ABCDEFGHIJ",)}],
    ids=["plain", "boundary-and-zone"],
)
def test_policies_are_valid_iam_and_fit_managed_policies(template, purpose, overrides):
    document = policy(purpose, template, **overrides)
    assert iam_problems(document) == []
    parts = op.policy_parts(document)
    assert [s for p in parts for s in p["Statement"]] == document["Statement"]
    assert all(policy_chars(p) < MANAGED_POLICY_MAX_CHARS for p in parts)
    assert all(iam_problems(p) == [] for p in parts)
    if purpose == "deploy":  # CloudFormation acts as the person: several managed policies
        assert 1 < len(parts) <= 10
    else:
        assert len(parts) == 1


def test_policies_are_the_same_on_every_run(template):
    for purpose in op.PURPOSES:
        first = json.dumps(policy(purpose, template))
        assert json.dumps(policy(purpose, read_template(None))) == first


def test_deploy_grants_what_cloudformation_does_for_the_stack(template):
    """The same derivation as the launch role (less the actions it refuses): deploy without a
    service role gets all of it, with one none of it."""
    refused = {a.lower() for a in (*REFUSED_ACTIONS, *NETWORK_REFUSED_ACTIONS)}
    needed = {a.lower() for a in stack_actions((template,), action_table(template))} - refused
    assert len(needed) > 300
    named = {"hosted_zones": ("Z0123456789ABCDEFGHIJ",), "secret_prefixes": (SECRETS,)}
    assert needed - granted(policy("deploy", template, **named)) == set()
    with_role = granted(policy("deploy-with-service-role", template))
    assert {a.split(":")[0] for a in with_role} == {"cloudformation", "s3", "iam"}
    assert {a for a in with_role if a.startswith("iam:")} == {"iam:passrole"}


def test_the_named_stack_replaces_service_catalogs(template):
    text = json.dumps(policy("deploy", template, stack_name="team-a-mlflow"))
    assert "SC-" not in text and "sc-*" not in text
    assert "role/team-a-mlflow*" in text and "s3:::team-a-mlflow*" in text
    long_name = "a" * 40
    text = json.dumps(policy("deploy", template, stack_name=long_name))
    assert f"role/{'a' * op.STACK_NAME_KEPT}*" in text and f'"{long_name}"' in text


def request_allowed(document: dict, action: str, resource: str, **context: Any) -> bool:
    return allowed(document["Statement"], action, resource, context)


def test_deploy_reaches_this_stack_only(template):
    document = policy("deploy", template, network_stack="mlflow-network")
    stack = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack"
    assert request_allowed(document, "cloudformation:CreateChangeSet", f"{stack}/mlflow/1-2-3")
    assert not request_allowed(document, "cloudformation:CreateChangeSet", f"{stack}/other/1-2")
    network = f"{stack}/mlflow-network/4-5"
    assert request_allowed(document, "cloudformation:DescribeStacks", network)
    assert not request_allowed(document, "cloudformation:CreateChangeSet", network)
    assert request_allowed(document, "ec2:DescribeSubnets", "*")  # no resource type in IAM
    cache = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/ghcr/mlflow/mlflow"
    assert request_allowed(document, "ecr:DescribeImages", cache)
    assert not request_allowed(document, "ecr:DescribeImages", cache.replace(ACCOUNT, "1" * 12))
    with_role = policy("deploy-with-service-role", template, network_stack="mlflow-network")
    assert request_allowed(with_role, "ec2:DescribeSubnets", "*")
    assert request_allowed(with_role, "ecr:DescribeImages", cache)
    without = policy("deploy-with-service-role", template)
    assert not request_allowed(without, "ec2:DescribeSubnets", "*")
    bucket = "arn:aws:s3:::my-templates"
    assert request_allowed(document, "s3:PutObject", f"{bucket}/mlflow-cfn/templates/ab.json")
    assert not request_allowed(document, "s3:PutObject", f"{bucket}/elsewhere.json")
    role = f"arn:aws:iam::{ACCOUNT}:role"
    assert request_allowed(document, "iam:CreateRole", f"{role}/mlflow-TaskRole-AbC123")
    assert not request_allowed(document, "iam:CreateRole", f"{role}/other-TaskRole-AbC123")
    cluster = f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:mlflow-databasecluster-abc"
    tag = "aws:ResourceTag/aws:cloudformation:stack-name"
    logical_id = {"aws:ResourceTag/aws:cloudformation:logical-id": "DatabaseCluster"}
    assert request_allowed(
        document, "rds:DeleteDBCluster", cluster, **{tag: "mlflow"}, **logical_id
    )
    assert not request_allowed(document, "rds:DeleteDBCluster", cluster, **{tag: "other"})
    other = cluster.replace("mlflow-databasecluster", "other-databasecluster")
    assert not request_allowed(document, "rds:ModifyDBCluster", other)


#: What CloudFormation changes in the stack's own roles, databases and alarms when it updates or
#: deletes them (their handlers' update and delete permissions, tests/publish).
OWN_CHANGES = {
    "AWS::IAM::Role": ("iam:UpdateAssumeRolePolicy", "iam:DeleteRole", "iam:TagRole"),
    "AWS::RDS::DBCluster": ("rds:ModifyDBCluster", "rds:DeleteDBCluster"),
    "AWS::RDS::DBInstance": ("rds:ModifyDBInstance", "rds:DeleteDBInstance"),
    "AWS::CloudWatch::Alarm": ("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"),
}


@pytest.mark.parametrize("stack_name", ["mlflow", "team-a-mlflow-production-eu-west-1-x" * 3])
def test_deploy_changes_the_stacks_own_roles_databases_and_alarms(template, stack_name):
    # The same names as the launch role's, retargeted to the stack: its generated names keep at
    # least STACK_NAME_KEPT characters of any stack name (here up to 108), cut as CloudFormation
    # cuts them (tests/publish/stack_resources.py).
    document = policy("deploy", template, stack_name=stack_name)
    own = stack_resources(template, stack_name, region=REGION, account=ACCOUNT)
    other = stack_resources(template, "other-stack", region=REGION, account=ACCOUNT)
    checked = 0
    for mine, theirs in zip(own, other, strict=True):
        for action in OWN_CHANGES.get(mine.resource_type, ()):
            checked += 1
            assert request_allowed(document, action, mine.arn, **mine.context), mine
            assert not request_allowed(document, action, theirs.arn, **theirs.context), theirs
    assert checked > 20


def test_a_boundary_is_kept_on_every_role_and_none_means_no_condition(template):
    role = f"arn:aws:iam::{ACCOUNT}:role/mlflow-TaskRole-AbC123"
    plain = policy("deploy", template)
    assert not any(s["Effect"] == "Deny" for s in plain["Statement"])
    assert "iam:PermissionsBoundary" not in json.dumps(plain)
    assert request_allowed(plain, "iam:CreateRole", role)
    bounded = policy("deploy", template, boundary_arn=BOUNDARY)
    key = "iam:PermissionsBoundary"
    assert request_allowed(bounded, "iam:CreateRole", role, **{key: BOUNDARY})
    assert not request_allowed(bounded, "iam:CreateRole", role)
    assert not request_allowed(bounded, "iam:DeleteRolePermissionsBoundary", role)


def test_secrets_and_hosted_zones_only_when_named(template):
    zone = "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:mlflow/oidc-AbCdEf"
    plain = policy("deploy", template)
    assert not request_allowed(plain, "route53:ChangeResourceRecordSets", zone)
    assert not request_allowed(plain, "secretsmanager:GetSecretValue", secret)
    named = policy(
        "deploy",
        template,
        hosted_zones=("Z0123456789ABCDEFGHIJ",),
        secret_prefixes=(SECRETS,),
    )
    assert request_allowed(named, "route53:ChangeResourceRecordSets", zone)
    assert request_allowed(named, "secretsmanager:GetSecretValue", secret)


def test_the_service_role_goes_to_cloudformation_only(template):
    document = policy("deploy-with-service-role", template)
    service = "iam:PassedToService"
    assert request_allowed(
        document, "iam:PassRole", ROLE, **{service: "cloudformation.amazonaws.com"}
    )
    assert not request_allowed(document, "iam:PassRole", ROLE, **{service: "ecs.amazonaws.com"})
    assert not request_allowed(document, "iam:PassRole", ROLE.replace("cfn-", "other-"))


def test_publish_passes_only_the_launch_role():
    document = policy("publish")
    role = f"arn:aws:iam::{ACCOUNT}:role/MlflowLaunchRole"
    for action in ("iam:PassRole", "iam:GetRole", "iam:SimulatePrincipalPolicy"):
        assert request_allowed(document, action, role)
        assert not request_allowed(document, action, role.replace("Mlflow", "Other"))
    product = f"arn:aws:catalog:{REGION}:{ACCOUNT}:product/prod-abc"
    assert request_allowed(document, "servicecatalog:CreateProvisioningArtifact", product)
    assert "iam:passrole" not in granted(op.operator_policy("publish", operator()))


def test_command_prints_the_policy(no_real_aws, capsys):
    assert main(["permissions", "--for", "publish", "--bucket", "b", "--region", REGION]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == op.operator_policy("publish", operator(account="*", bucket="b"))


def test_command_writes_managed_policy_parts(no_real_aws, tmp_path: Path, capsys):
    flags = ["--for", "deploy", "--s3-bucket", "b", "--region", REGION, "--output-dir"]
    assert main(["permissions", *flags, str(tmp_path)]) == 0
    files = sorted(tmp_path.glob("mlflow-cfn-deploy-*.json"))
    assert len(files) > 1 and len(capsys.readouterr().out.splitlines()) == len(files)
    statements = [s for f in files for s in json.loads(f.read_text())["Statement"]]
    whole = op.operator_policy("deploy", operator(account="*", bucket="b"), read_template(None))
    assert statements == whole["Statement"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--for", "deploy-with-service-role"], "needs --role-arn"),
        (["--for", "publish"], "needs --bucket"),
        (["--for", "deploy", "--hosted-zone", "nope"], "hosted_zones: 'nope'"),
    ],
)
def test_command_refuses_missing_or_bad_inputs(no_real_aws, capsys, flags, message):
    assert main(["permissions", *flags, "--region", REGION]) == 2
    assert message in capsys.readouterr().err


def test_command_needs_a_region(no_real_aws, monkeypatch, capsys):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    assert main(["permissions", "--for", "deploy"]) == 2
    assert "no AWS region" in capsys.readouterr().err


def test_publish_reads_only_the_named_portfolio_stack():
    document = policy("publish", portfolio_stack="mlflow-portfolio")
    (read,) = [s for s in document["Statement"] if s["Sid"] == "ReadThePortfolioStack"]
    assert read["Action"] == ["cloudformation:DescribeStacks"]
    assert read["Resource"] == [
        "arn:aws:cloudformation:eu-west-1:123456789012:stack/mlflow-portfolio/*"
    ]
    assert "ReadThePortfolioStack" not in {s["Sid"] for s in policy("publish")["Statement"]}
