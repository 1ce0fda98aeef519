"""The graph a diagram is drawn from: tiers (the clusters), kinds of arrows and how each is drawn,
the resource types drawn as boxes, and `Graph`, which collects nodes and edges for one evaluated
stack and finds the references between its resources.

A stack evaluated without physical ids or attributes reads a reference as ``<LogicalId>`` or
``<LogicalId.Attribute>``: `Graph.refs` finds those placeholders inside any property value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mlflow_cfn.cfn.evaluate import Evaluated

# Tiers, left to right: cluster name, caption (the clients' one depends on the scheme), fill.
CLIENTS, LOAD_BALANCER, SERVICE, DATA, OBSERVABILITY = (
    "clients",
    "load_balancer",
    "service",
    "data",
    "observability",
)
TIERS: dict[str, tuple[str, str]] = {
    CLIENTS: ("Clients", "#f4f4f4"),
    LOAD_BALANCER: ("Load balancer tier", "#e8f0fb"),
    SERVICE: ("Service tier: ECS on Fargate", "#e9f6ec"),
    DATA: ("Data tier", "#fdf3e1"),
    OBSERVABILITY: ("Observability", "#f3ecf8"),
}

# Edge kinds: how they are drawn; the caption explains the colours.
TRAFFIC, AUTH, DATA_FLOW, ENCRYPTION, CONTROL = "traffic", "auth", "data", "encryption", "control"
LAYOUT = "layout"  # invisible: keeps the clients above the load balancer
EDGE_STYLES: dict[str, str] = {
    TRAFFIC: 'color="#1f5fa8", fontcolor="#1f5fa8", penwidth=1.8',
    AUTH: 'color="#7b3fa0", fontcolor="#7b3fa0"',
    DATA_FLOW: 'color="#2e7d32", fontcolor="#2e7d32"',
    ENCRYPTION: 'color="#a07000", fontcolor="#a07000", style=dotted',
    CONTROL: 'color="#888888", fontcolor="#666666", style=dashed',
    LAYOUT: "style=invis",
}
LEGEND = (
    "Blue: requests. Purple: sign-in and token checks. Green: data. "
    "Dotted: encrypted with. Grey dashed: configuration and control."
)

PLACEHOLDER = re.compile(r"<([A-Za-z0-9]+)((?:\.[A-Za-z0-9]+)*)>")

LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
LISTENER_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
LOAD_BALANCER_TYPE = "AWS::ElasticLoadBalancingV2::LoadBalancer"
BUCKET = "AWS::S3::Bucket"
KMS_KEY = "AWS::KMS::Key"
DB_CLUSTER = "AWS::RDS::DBCluster"
SECRET = "AWS::SecretsManager::Secret"
LOG_GROUP = "AWS::Logs::LogGroup"
ECS_CLUSTER = "AWS::ECS::Cluster"
ECS_SERVICE = "AWS::ECS::Service"
TASK_DEFINITION = "AWS::ECS::TaskDefinition"
SCALABLE_TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"
COGNITO_USER_POOL = "AWS::Cognito::UserPool"
#: Resource types drawn as nodes; the others are counted in the caption.
DRAWN_TYPES = frozenset(
    {
        "AWS::Route53::RecordSet",
        LOAD_BALANCER_TYPE,
        LISTENER,
        LISTENER_RULE,
        TARGET_GROUP,
        COGNITO_USER_POOL,
        "AWS::Cognito::UserPoolClient",
        "AWS::Cognito::UserPoolDomain",
        "AWS::Cognito::UserPoolResourceServer",
        ECS_CLUSTER,
        ECS_SERVICE,
        TASK_DEFINITION,
        SCALABLE_TARGET,
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        DB_CLUSTER,
        "AWS::RDS::DBInstance",
        BUCKET,
        SECRET,
        KMS_KEY,
        LOG_GROUP,
    }
)


@dataclass(frozen=True, order=True)
class Node:
    """One box: its tier, id, text lines; external means not created by this stack."""

    tier: str
    id: str
    lines: tuple[str, ...]
    external: bool = False


@dataclass(frozen=True, order=True)
class Edge:
    """One arrow between two node ids, of a kind in EDGE_STYLES."""

    source: str
    target: str
    label: str
    kind: str


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def short_type(type_name: str) -> str:
    """``AWS::S3::Bucket`` -> ``S3 Bucket``."""
    return " ".join(type_name.split("::")[1:])


@dataclass
class Graph:
    """Nodes and edges being collected for one stack."""

    stack: Evaluated
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: set[Edge] = field(default_factory=set)

    def node(self, tier: str, node_id: str, *lines: str, external: bool = False) -> str:
        """Add a node (the first one added under an id wins); return its id."""
        self.nodes.setdefault(node_id, Node(tier, node_id, tuple(lines), external))
        return node_id

    def edge(self, source: str, target: str, label: str, kind: str) -> None:
        """Add an arrow."""
        self.edges.add(Edge(source, target, label, kind))

    def of_type(self, type_name: str) -> list[tuple[str, dict]]:
        """(logical id, Properties) of the created resources of one type, sorted by id."""
        return [
            (lid, res.get("Properties", {}))
            for lid, res in sorted(self.stack.resources.items())
            if res["Type"] == type_name
        ]

    def type_of(self, logical_id: str) -> str:
        """The type of a created resource ("" if it is not in the stack)."""
        return self.stack.resources.get(logical_id, {}).get("Type", "")

    def refs(self, value: Any, type_name: str | None = None) -> list[tuple[str, str]]:
        """The (logical id, attribute) references to created resources inside ``value``, sorted;
        only those to resources of ``type_name`` if given."""
        found = {
            (match[1], match[2].lstrip("."))
            for text in _strings(value)
            for match in PLACEHOLDER.finditer(text)
            if match[1] in self.stack.resources
        }
        return sorted(r for r in found if type_name is None or self.type_of(r[0]) == type_name)

    def ids(self, value: Any, type_name: str) -> list[str]:
        """The logical ids of created resources of one type referenced inside ``value``."""
        return sorted({lid for lid, _ in self.refs(value, type_name)})
