"""The architecture diagram comes from the evaluated stack; docs/architecture.svg is current."""

import argparse
import json
import re

import pytest

from mlflow_cfn.cfn.evaluate import Evaluated, evaluate
from mlflow_cfn.commands.diagram import register as add_diagram_parser
from mlflow_cfn.stack.diagram import PLACEHOLDER_PARAMETERS, diagram, evaluate_stack
from mlflow_cfn.stack.diagram import dot as diagram_dot
from tests.conftest import ROOT, TEMPLATES, require_dot

TEMPLATE = TEMPLATES / "mlflow.json"
COMMITTED_SVG = ROOT / "docs" / "architecture.svg"
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f"
_EDGE = re.compile(r'^\s*"([^"]+)" -> "([^"]+)" \[(?:label="([^"]*)", )?')
_NODE = re.compile(r'^\s*"([^"]+)" \[label=')


def edges(dot: str) -> set[tuple[str, str, str]]:
    """(source, target, label) of every arrow in DOT source written by `diagram`."""
    return {(m[1], m[2], m[3] or "") for line in dot.splitlines() if (m := _EDGE.match(line))}


def nodes(dot: str) -> set[str]:
    """The node ids of DOT source written by `diagram`."""
    return {m[1] for line in dot.splitlines() if (m := _NODE.match(line))}


def cluster_of(dot: str) -> dict[str, str]:
    """Node id -> the cluster it is drawn in."""
    placed, current = {}, ""
    for line in dot.splitlines():
        if line.strip().startswith("subgraph cluster_"):
            current = line.split()[1].removeprefix("cluster_")
        elif m := _NODE.match(line):
            placed[m[1]] = current
    return placed


def run(*argv: str) -> int:
    """Parse ``diagram`` arguments as the CLI does (on the committed template) and run it."""
    root = argparse.ArgumentParser()
    add_diagram_parser(root.add_subparsers())
    args = root.parse_args(["diagram", "--template", str(TEMPLATE), *argv])
    return args.func(args)


@pytest.fixture(scope="module")
def default_dot() -> str:
    return diagram(evaluate_stack(TEMPLATE, None))


def test_default_stack_has_its_tiers_nodes_and_arrows(default_dot):
    placed = cluster_of(default_dot)
    assert placed["clients"] == "clients"
    for node in ("LoadBalancer", "HttpListener", "TargetGroup"):
        assert placed[node] == "load_balancer", node
    for node in ("EcsCluster", "Service", "TaskDefinition", "TaskDefinition/mlflow"):
        assert placed[node] == "service", node
    for node in ("DatabaseCluster", "ArtifactBucket", "DatabaseCluster.MasterUserSecret"):
        assert placed[node] == "data", node
    for key in ("ArtifactKey", "DatabaseKey", "LogsKey"):
        assert placed[key] == "data", key
    assert placed["LogGroup"] == placed["LogBucket"] == "observability"

    arrows = {(source, target) for source, target, _ in edges(default_dot)}
    assert {
        ("clients", "HttpListener"),  # traffic
        ("HttpListener", "TargetGroup"),
        ("TargetGroup", "TaskDefinition/mlflow"),
        ("TaskDefinition/mlflow", "DatabaseCluster"),  # data
        ("TaskDefinition/mlflow", "ArtifactBucket"),
        ("TaskDefinition/mlflow", "LogGroup"),
        ("TaskDefinition", "DatabaseCluster.MasterUserSecret"),
        ("ArtifactBucket", "ArtifactKey"),  # encryption
        ("DatabaseCluster", "DatabaseKey"),
        ("LogGroup", "LogsKey"),
        ("LoadBalancer", "LogBucket"),  # access logs
    } <= arrows
    assert "10.0.0.0/8 to port 80" in default_dot
    assert "corporate network" in default_dot


def test_default_stack_has_no_optional_parts(default_dot):
    drawn = nodes(default_dot)
    assert "HttpsListener" not in drawn
    assert not {n for n in drawn if n.startswith(("Cognito", "idp:", "Scal", "Dns"))}
    # The server and the init container that opens its /tmp (it starts after it).
    assert sorted(n for n in drawn if n.startswith("TaskDefinition/")) == [
        "TaskDefinition/mlflow",
        "TaskDefinition/prepare-volumes",
    ]
    assert "starts after (SUCCESS)" in default_dot


def test_a_certificate_adds_the_https_listener_and_the_redirect():
    stack = evaluate(
        json.loads(TEMPLATE.read_text()), {**PLACEHOLDER_PARAMETERS, "CertificateArn": CERTIFICATE}
    )
    dot = diagram(stack)
    assert cluster_of(dot)["HttpsListener"] == "load_balancer"
    assert ("clients", "HttpsListener", "HTTPS :443") in edges(dot)
    assert ("HttpListener", "HttpsListener", "redirect 301") in edges(dot)
    assert ("HttpsListener", "TargetGroup", "forward") in edges(dot)


def _stack(*, optional: bool) -> Evaluated:
    """A small evaluated stack; with ``optional``: OIDC sign-in, a bearer-token rule, a sidecar,
    autoscaling and an existing artifact bucket (parameters play no part)."""
    mlflow = {
        "Name": "mlflow",
        "Image": "mlflow:1",
        "PortMappings": [{"ContainerPort": 5000}],
        "Environment": [{"Name": "MLFLOW_ARTIFACTS_DESTINATION", "Value": "s3://team-bucket/a"}]
        if optional
        else [],
    }
    sidecar = {
        "Name": "agent",
        "Image": "agent:7",
        "Secrets": [{"Name": "KEY", "ValueFrom": "arn:aws:secretsmanager:eu-west-1:1:secret:k-Ab"}],
    }
    forward = {"Type": "forward", "TargetGroupArn": "<TargetGroup>", "Order": 2}
    oidc = {
        "Type": "authenticate-oidc",
        "Order": 1,
        "AuthenticateOidcConfig": {"Issuer": "https://idp.example.com"},
    }
    resources = {
        "LoadBalancer": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {}},
        "TargetGroup": {
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Properties": {"Port": 5000, "Protocol": "HTTP"},
        },
        "Listener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": "<LoadBalancer>",
                "Port": 443,
                "Protocol": "HTTPS",
                "DefaultActions": [forward, oidc] if optional else [forward],
            },
        },
        "Service": {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "TaskDefinition": "<Task>",
                "LoadBalancers": [
                    {
                        "ContainerName": "mlflow",
                        "ContainerPort": 5000,
                        "TargetGroupArn": "<TargetGroup>",
                    }
                ],
            },
        },
        "Task": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {"ContainerDefinitions": [mlflow, sidecar] if optional else [mlflow]},
        },
    }
    if optional:
        resources["Rule"] = {
            "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
            "Properties": {
                "ListenerArn": "<Listener>",
                "Priority": 1,
                "Conditions": [
                    {
                        "Field": "http-header",
                        "HttpHeaderConfig": {
                            "HttpHeaderName": "Authorization",
                            "Values": ["Bearer *"],
                        },
                    }
                ],
                "Actions": [
                    {
                        "Type": "jwt-validation",
                        "Order": 1,
                        "JwtValidationConfig": {"Issuer": "https://idp.example.com"},
                    },
                    forward,
                ],
            },
        }
        resources["Scaling"] = {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "Properties": {
                "ResourceId": "service/c/<Service.Name>",
                "MinCapacity": 1,
                "MaxCapacity": 3,
            },
        }
    return Evaluated(parameters={}, conditions={}, resources=resources, outputs={})


def test_optional_parts_appear_exactly_when_their_resources_do():
    bare, full = diagram(_stack(optional=False)), diagram(_stack(optional=True))
    added = nodes(full) - nodes(bare)
    assert added == {
        "Rule",
        "Scaling",
        "Task/agent",
        "idp:https://idp.example.com",
        "s3:team-bucket",
        "arn:aws:secretsmanager:eu-west-1:1:secret:k-Ab",
    }
    assert {
        ("Listener", "idp:https://idp.example.com", "sign-in (browsers)"),
        ("Listener", "Rule", "rule"),
        ("Rule", "idp:https://idp.example.com", "validate bearer token"),
        ("Rule", "TargetGroup", "forward"),
        ("Scaling", "Service", "sets desired count"),
        ("Task/mlflow", "s3:team-bucket", "artifacts (S3 API)"),
        ("Task", "arn:aws:secretsmanager:eu-west-1:1:secret:k-Ab", "injected into agent"),
    } <= edges(full)
    assert "if Authorization: Bearer *" in full


def test_output_is_sorted_whatever_the_resource_order():
    stack = evaluate_stack(TEMPLATE, None)
    shuffled = Evaluated(
        parameters=stack.parameters,
        conditions=stack.conditions,
        resources=dict(reversed(stack.resources.items())),
        outputs=stack.outputs,
    )
    assert diagram(shuffled) == diagram(stack)


def test_dot_output_is_the_dot_source(tmp_path, default_dot):
    assert run("--output", str(tmp_path / "stack.dot")) == 0
    assert (tmp_path / "stack.dot").read_text() == default_dot


def test_committed_svg_is_what_dot_renders_from_the_current_template(tmp_path):
    require_dot()
    first, second = tmp_path / "first.svg", tmp_path / "second.svg"
    assert run("--output", str(first)) == 0
    assert run("--output", str(second)) == 0
    assert first.read_bytes() == second.read_bytes(), "the SVG is not reproducible"
    assert COMMITTED_SVG.exists(), "docs/architecture.svg is missing"
    assert COMMITTED_SVG.read_bytes() == first.read_bytes(), (
        "docs/architecture.svg is stale: run `mlflow-cfn diagram --output docs/architecture.svg`"
    )


def test_bad_parameters_exit_2_with_the_reason(tmp_path, capsys):
    parameters = tmp_path / "params.json"
    parameters.write_text(json.dumps({**PLACEHOLDER_PARAMETERS, "TaskCpu": "3"}))
    assert run("--parameters", str(parameters), "--output", str(tmp_path / "d.dot")) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlflow-cfn diagram: ")
    assert "TaskCpu" in err and "'3'" in err
    assert not (tmp_path / "d.dot").exists()

    missing = tmp_path / "missing.json"
    assert run("--parameters", str(missing), "--output", str(tmp_path / "d.dot")) == 2
    assert f"mlflow-cfn diagram: --parameters {missing}: no such file" in capsys.readouterr().err


def test_missing_dot_is_one_clear_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(diagram_dot.shutil, "which", lambda _: None)
    assert run("--output", str(tmp_path / "d.svg")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Graphviz `dot` is not installed" in err
    assert not (tmp_path / "d.svg").exists()


def test_output_must_be_svg_or_dot(tmp_path, capsys):
    assert run("--output", str(tmp_path / "d.png")) == 2
    assert "must end in .svg or .dot" in capsys.readouterr().err
