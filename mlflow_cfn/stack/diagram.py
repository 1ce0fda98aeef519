"""``mlflow-cfn diagram``: the evaluated stack as a Graphviz diagram (DOT source or SVG).

Everything drawn is derived from the resources an evaluation creates, never from parameters: an
optional part (the HTTPS listener, Cognito or OIDC sign-in, bearer-token rules, sidecars,
autoscaling, a DNS record) appears exactly when its resources do. Connections come from the
references between resources, so evaluate without physical ids or attributes (as `run_diagram`
and `mlflow_cfn.stack.plan.evaluate_file` do): a reference then reads ``<LogicalId>`` or
``<LogicalId.Attribute>``. Resources with no place in the picture (security groups and their
rules, IAM roles, policies, aliases...) are counted in the caption. The output is sorted, so the
same stack always gives the same DOT and, with the same Graphviz, the same SVG.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlflow_cfn.cfn.evaluate import Evaluated, EvaluationError, evaluate
from mlflow_cfn.stack.plan import DEFAULT_TEMPLATE, evaluate_file

DEFAULT_OUTPUT = "docs/architecture.svg"

#: Values for the parameters without a default, when no --parameters file is given.
PLACEHOLDER_PARAMETERS = {
    "VpcId": "vpc-0123456789abcdef0",
    "LoadBalancerSubnetIds": "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
    "ServiceSubnetIds": "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
    "DatabaseSubnetIds": "subnet-0cccccccccccccccc,subnet-0dddddddddddddddd",
    "LoadBalancerIngressCidrs": "10.0.0.0/8",
}

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

_PLACEHOLDER = re.compile(r"<([A-Za-z0-9]+)((?:\.[A-Za-z0-9]+)*)>")
_S3_URI = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/|$)")

LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
LISTENER_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
LOAD_BALANCER_TYPE = "AWS::ElasticLoadBalancingV2::LoadBalancer"
BUCKET = "AWS::S3::Bucket"
KMS_KEY = "AWS::KMS::Key"
DB_CLUSTER = "AWS::RDS::DBCluster"
SECRET = "AWS::SecretsManager::Secret"
LOG_GROUP = "AWS::Logs::LogGroup"
TASK_DEFINITION = "AWS::ECS::TaskDefinition"
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
        "AWS::ECS::Cluster",
        "AWS::ECS::Service",
        TASK_DEFINITION,
        "AWS::ApplicationAutoScaling::ScalableTarget",
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


@dataclass
class _Graph:
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


def _refs(graph: _Graph, value: Any, type_name: str | None = None) -> list[tuple[str, str]]:
    """The (logical id, attribute) references to created resources inside ``value``, sorted;
    only those to resources of ``type_name`` if given."""
    found = {
        (match[1], match[2].lstrip("."))
        for text in _strings(value)
        for match in _PLACEHOLDER.finditer(text)
        if match[1] in graph.stack.resources
    }
    return sorted(r for r in found if type_name is None or graph.type_of(r[0]) == type_name)


def _ids(graph: _Graph, value: Any, type_name: str) -> list[str]:
    """The logical ids of created resources of one type referenced inside ``value``."""
    return sorted({lid for lid, _ in _refs(graph, value, type_name)})


def _short_type(type_name: str) -> str:
    """``AWS::S3::Bucket`` -> ``S3 Bucket``."""
    return " ".join(type_name.split("::")[1:])


# --- the tiers --------------------------------------------------------------------------------


def _log_buckets(graph: _Graph) -> set[str]:
    """Buckets that receive logs: a load balancer's access logs or S3 server access logs."""
    targets = set()
    for _, props in graph.of_type(LOAD_BALANCER_TYPE):
        targets.update(_ids(graph, props.get("LoadBalancerAttributes", []), BUCKET))
    for _, props in graph.of_type(BUCKET):
        targets.update(_ids(graph, props.get("LoggingConfiguration", {}), BUCKET))
    return targets


def _client_lines(graph: _Graph) -> tuple[str, ...]:
    """The clients' box: which CIDRs may reach the load balancer on which ports."""
    groups = {
        lid
        for _, props in graph.of_type(LOAD_BALANCER_TYPE)
        for lid in _ids(graph, props.get("SecurityGroups", []), "AWS::EC2::SecurityGroup")
    }
    rules = [
        props
        for _, props in graph.of_type("AWS::EC2::SecurityGroupIngress")
        if set(_ids(graph, props.get("GroupId"), "AWS::EC2::SecurityGroup")) & groups
    ]
    rules += [
        rule
        for lid, props in graph.of_type("AWS::EC2::SecurityGroup")
        if lid in groups
        for rule in props.get("SecurityGroupIngress", [])
    ]
    ports: dict[str, set[int]] = {}
    for rule in rules:
        source = rule.get("CidrIp") or rule.get("CidrIpv6") or rule.get("SourcePrefixListId")
        if source:
            ports.setdefault(str(source), set()).add(int(rule.get("FromPort", 0)))
    allowed = [
        f"{cidr} to port {', '.join(str(p) for p in sorted(ports[cidr]))}" for cidr in sorted(ports)
    ]
    return ("browsers and MLflow clients", *allowed)


def _clients_caption(graph: _Graph) -> str:
    """Who the clients are: the corporate network behind an internal load balancer, or anyone."""
    schemes = {
        props.get("Scheme", "internet-facing") for _, props in graph.of_type(LOAD_BALANCER_TYPE)
    }
    if schemes == {"internal"}:
        return "Clients: corporate network (internal load balancer)"
    if schemes:
        return "Clients: internet (internet-facing load balancer)"
    return TIERS[CLIENTS][0]


def _identity_provider(graph: _Graph, issuer: str) -> str:
    """The node signing users in for ``issuer``: a Cognito user pool of this stack or outside."""
    pools = _ids(graph, issuer, COGNITO_USER_POOL)
    if pools:
        return pools[0]
    return graph.node(CLIENTS, f"idp:{issuer}", "OIDC identity provider", issuer, external=True)


def _user_pool(graph: _Graph, arn: str) -> str:
    """The node of the Cognito user pool ``arn`` names: of this stack, or an existing one."""
    pools = _ids(graph, arn, COGNITO_USER_POOL)
    if pools:
        return pools[0]
    return graph.node(CLIENTS, f"cognito:{arn}", "existing Cognito user pool", arn, external=True)


def _actions(graph: _Graph, source: str, actions: list[dict], listeners: dict[int, str]) -> None:
    """Arrows for a listener's or rule's actions: forward, redirect, authenticate, validate."""
    for action in sorted(actions, key=lambda a: int(a.get("Order", 0))):
        kind = action["Type"]
        if kind == "forward":
            targets = _ids(
                graph, [action.get("TargetGroupArn"), action.get("ForwardConfig")], TARGET_GROUP
            )
            for target in targets:
                graph.edge(source, target, "forward", TRAFFIC)
        elif kind == "redirect":
            config = action.get("RedirectConfig", {})
            target = listeners.get(int(config.get("Port", 0) or 0))
            if target:
                status = str(config.get("StatusCode", "")).removeprefix("HTTP_")
                graph.edge(source, target, f"redirect {status}".strip(), TRAFFIC)
        elif kind == "authenticate-cognito":
            arn = str(action.get("AuthenticateCognitoConfig", {}).get("UserPoolArn"))
            graph.edge(source, _user_pool(graph, arn), "sign-in (browsers)", AUTH)
        elif kind == "authenticate-oidc":
            issuer = str(action.get("AuthenticateOidcConfig", {}).get("Issuer"))
            graph.edge(source, _identity_provider(graph, issuer), "sign-in (browsers)", AUTH)
        elif kind == "jwt-validation":
            issuer = str(action.get("JwtValidationConfig", {}).get("Issuer"))
            graph.edge(source, _identity_provider(graph, issuer), "validate bearer token", AUTH)


def _condition_text(conditions: list[dict]) -> str:
    """A listener rule's conditions as one short line."""
    parts = []
    for condition in conditions:
        if "HttpHeaderConfig" in condition:
            config = condition["HttpHeaderConfig"]
            parts.append(f"{config['HttpHeaderName']}: {' | '.join(config['Values'])}")
        else:
            values = condition.get("Values") or next(
                (v.get("Values") for k, v in condition.items() if k.endswith("Config")), []
            )
            parts.append(f"{condition['Field']} {' | '.join(map(str, values))}")
    return "if " + " and ".join(parts) if parts else "always"


def _load_balancing(graph: _Graph) -> None:
    """Load balancers, listeners, rules, target groups and sign-in; the clients' arrows."""
    clients = graph.node(CLIENTS, "clients", *_client_lines(graph), external=True)
    for lid, props in graph.of_type(LOAD_BALANCER_TYPE):
        graph.edge(clients, lid, "", LAYOUT)
        graph.node(
            LOAD_BALANCER,
            lid,
            lid,
            f"Application Load Balancer, {props.get('Scheme', 'internet-facing')}",
        )
    for lid, props in graph.of_type("AWS::Route53::RecordSet"):
        graph.node(
            CLIENTS,
            lid,
            lid,
            f"Route 53 {props.get('Type', '')} record",
            str(props.get("Name", "")),
        )
        graph.edge(clients, lid, "DNS lookup", CONTROL)
        for target in _ids(graph, props.get("AliasTarget"), LOAD_BALANCER_TYPE):
            graph.edge(lid, target, "alias", CONTROL)
    for lid, props in graph.of_type(TARGET_GROUP):
        graph.node(
            LOAD_BALANCER,
            lid,
            lid,
            f"target group {props.get('Protocol', '')} :{props.get('Port', '')}",
            f"health check {props.get('HealthCheckPath', '/')}",
        )
    listeners = {lid: props for lid, props in graph.of_type(LISTENER)}
    by_port = {int(props["Port"]): lid for lid, props in listeners.items() if "Port" in props}
    for lid, props in listeners.items():
        lines = [lid, f"listener {props.get('Protocol', '')} :{props.get('Port', '')}"]
        if "SslPolicy" in props:
            lines.append(str(props["SslPolicy"]))
        graph.node(LOAD_BALANCER, lid, *lines)
        for balancer in _ids(graph, props.get("LoadBalancerArn"), LOAD_BALANCER_TYPE):
            graph.edge(balancer, lid, "", CONTROL)
        graph.edge(clients, lid, f"{props.get('Protocol', '')} :{props.get('Port', '')}", TRAFFIC)
        _actions(graph, lid, props.get("DefaultActions", []), by_port)
    for lid, props in graph.of_type(LISTENER_RULE):
        graph.node(
            LOAD_BALANCER,
            lid,
            lid,
            f"listener rule, priority {props.get('Priority')}",
            _condition_text(props.get("Conditions", [])),
        )
        for listener in _ids(graph, props.get("ListenerArn"), LISTENER):
            graph.edge(listener, lid, "rule", TRAFFIC)
        _actions(graph, lid, props.get("Actions", []), by_port)
    for type_name in sorted(t for t in DRAWN_TYPES if t.startswith("AWS::Cognito::")):
        for lid, props in graph.of_type(type_name):
            graph.node(LOAD_BALANCER, lid, lid, _short_type(type_name))
            for pool in _ids(graph, props.get("UserPoolId"), COGNITO_USER_POOL):
                graph.edge(lid, pool, "of", CONTROL)


def _container_id(task: str, name: str) -> str:
    """Node id of one container of a task definition."""
    return f"{task}/{name}"


def _secret_node(graph: _Graph, value_from: str) -> str | None:
    """The node of a secret a container receives: managed by RDS, in this stack, or outside."""
    for lid, attribute in _refs(graph, value_from):
        if attribute.startswith("MasterUserSecret"):
            return _managed_secret(graph, lid)
        if graph.type_of(lid) == SECRET:
            return lid
    if value_from.startswith("arn:"):
        parts = value_from.split(":")
        arn = ":".join(parts[:7])
        return graph.node(DATA, arn, f"existing {parts[2]} secret", parts[6], external=True)
    return None


def _service(graph: _Graph) -> None:
    """ECS cluster, services, task definitions, containers, autoscaling; the containers' use of
    the data and observability tiers."""
    for lid, _ in graph.of_type("AWS::ECS::Cluster"):
        graph.node(SERVICE, lid, lid, "ECS cluster")
    for lid, props in graph.of_type("AWS::ECS::Service"):
        launch = props.get("LaunchType") or "capacity providers"
        graph.node(
            SERVICE,
            lid,
            lid,
            f"ECS service, {launch}",
            f"desired count {props.get('DesiredCount', 1)}",
        )
        for cluster in _ids(graph, props.get("Cluster"), "AWS::ECS::Cluster"):
            graph.edge(cluster, lid, "runs", CONTROL)
        for task in _ids(graph, props.get("TaskDefinition"), TASK_DEFINITION):
            graph.edge(lid, task, "tasks of", CONTROL)
        for target in props.get("LoadBalancers", []):
            for group in _ids(graph, target.get("TargetGroupArn"), TARGET_GROUP):
                for task in _ids(graph, props.get("TaskDefinition"), TASK_DEFINITION):
                    graph.edge(
                        group,
                        _container_id(task, target["ContainerName"]),
                        f"HTTP :{target.get('ContainerPort', '')}",
                        TRAFFIC,
                    )
    for lid, props in graph.of_type(TASK_DEFINITION):
        graph.node(
            SERVICE,
            lid,
            lid,
            "task definition",
            f"{props.get('Cpu', '?')} CPU units, {props.get('Memory', '?')} MiB",
        )
        _containers(graph, lid, props.get("ContainerDefinitions", []))
    for lid, props in graph.of_type("AWS::ApplicationAutoScaling::ScalableTarget"):
        lines = [
            lid,
            "autoscaling",
            f"{props.get('MinCapacity')} to {props.get('MaxCapacity')} tasks",
        ]
        lines += [f"schedule {a.get('Schedule')}" for a in props.get("ScheduledActions", [])]
        graph.node(SERVICE, lid, *lines)
        for service in _ids(graph, props.get("ResourceId"), "AWS::ECS::Service"):
            graph.edge(lid, service, "sets desired count", CONTROL)
    for lid, props in graph.of_type("AWS::ApplicationAutoScaling::ScalingPolicy"):
        config = props.get("TargetTrackingScalingPolicyConfiguration", {})
        metric = config.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType", "")
        lines = [lid, f"scaling policy, {props.get('PolicyType', '')}"]
        if metric:
            lines.append(f"{metric} target {config.get('TargetValue')}")
        graph.node(SERVICE, lid, *lines)
        for target in _ids(
            graph, props.get("ScalingTargetId"), "AWS::ApplicationAutoScaling::ScalableTarget"
        ):
            graph.edge(lid, target, "policy of", CONTROL)


def _bucket_edges(graph: _Graph, container: str, variable: dict) -> None:
    """Arrows from a container to the buckets one of its environment variables names: buckets of
    this stack (by reference) or existing ones (``s3://name/...``)."""
    value = str(variable.get("Value", ""))
    buckets = _ids(graph, value, BUCKET)
    literal = _S3_URI.match(value)
    if literal and not _PLACEHOLDER.search(literal[1]):
        name = literal[1]
        buckets.append(graph.node(DATA, f"s3:{name}", "existing S3 bucket", name, external=True))
    label = "artifacts (S3 API)" if "ARTIFACT" in str(variable.get("Name", "")) else "S3 API"
    for bucket in buckets:
        graph.edge(container, bucket, label, DATA_FLOW)


def _managed_secret(graph: _Graph, cluster: str) -> str:
    """The node of the secret RDS manages for a database cluster's master user."""
    node_id = f"{cluster}.MasterUserSecret"
    return graph.node(DATA, node_id, f"{cluster} secret", "Secrets Manager, managed by RDS")


def _containers(graph: _Graph, task: str, definitions: list[dict]) -> None:
    """One node per container (sidecars included) and the arrows of what each one uses."""
    injected: dict[str, set[str]] = {}
    for container in sorted(definitions, key=lambda c: c["Name"]):
        node = _container_id(task, container["Name"])
        ports = ", ".join(f":{p['ContainerPort']}" for p in container.get("PortMappings", []))
        graph.node(
            SERVICE,
            node,
            f"container {container['Name']}",
            str(container.get("Image", "")),
            *([f"port {ports}"] if ports else []),
        )
        graph.edge(task, node, "", CONTROL)
        for dependency in container.get("DependsOn", []):
            graph.edge(
                node,
                _container_id(task, dependency["ContainerName"]),
                f"starts after ({dependency.get('Condition', 'START')})",
                CONTROL,
            )
        environment = container.get("Environment", [])
        for cluster in _ids(graph, environment, DB_CLUSTER):
            graph.edge(node, cluster, "SQL", DATA_FLOW)
        for variable in environment:
            _bucket_edges(graph, node, variable)
        for group in _ids(graph, container.get("LogConfiguration", {}), LOG_GROUP):
            graph.edge(node, group, "logs", DATA_FLOW)
        for secret in container.get("Secrets", []):
            secret_node = _secret_node(graph, str(secret.get("ValueFrom", "")))
            if secret_node:
                injected.setdefault(secret_node, set()).add(container["Name"])
    for secret_node, names in sorted(injected.items()):
        graph.edge(task, secret_node, f"injected into {', '.join(sorted(names))}", DATA_FLOW)


def _data_and_observability(graph: _Graph) -> None:
    """Database, buckets, secrets, keys and log groups, with what encrypts them and where the
    load balancer and buckets write their access logs."""
    log_buckets = _log_buckets(graph)
    for lid, props in graph.of_type(DB_CLUSTER):
        scaling = props.get("ServerlessV2ScalingConfiguration")
        lines = [lid, f"{props.get('Engine', '')} {props.get('EngineVersion', '')}".strip()]
        if scaling:
            lines.append(
                f"Serverless v2, {scaling.get('MinCapacity')} to {scaling.get('MaxCapacity')} ACU"
            )
        graph.node(DATA, lid, *lines)
        rest = {k: v for k, v in props.items() if k != "MasterUserSecret"}
        for key in _ids(graph, rest, KMS_KEY):
            graph.edge(lid, key, "", ENCRYPTION)
        if props.get("ManageMasterUserPassword") is True:
            secret = _managed_secret(graph, lid)
            for key in _ids(graph, props.get("MasterUserSecret"), KMS_KEY):
                graph.edge(secret, key, "", ENCRYPTION)
    for lid, props in graph.of_type("AWS::RDS::DBInstance"):
        graph.node(DATA, lid, lid, f"DB instance {props.get('DBInstanceClass', '')}")
        for cluster in _ids(graph, props.get("DBClusterIdentifier"), DB_CLUSTER):
            graph.edge(lid, cluster, "instance of", CONTROL)
    for lid, props in graph.of_type(BUCKET):
        tier, use = (OBSERVABILITY, "logs") if lid in log_buckets else (DATA, "data")
        graph.node(tier, lid, lid, f"S3 bucket ({use})")
        for key in _ids(graph, props.get("BucketEncryption"), KMS_KEY):
            graph.edge(lid, key, "", ENCRYPTION)
        for target in _ids(graph, props.get("LoggingConfiguration"), BUCKET):
            graph.edge(lid, target, "access logs", DATA_FLOW)
    for lid, props in graph.of_type(LOAD_BALANCER_TYPE):
        for target in _ids(graph, props.get("LoadBalancerAttributes", []), BUCKET):
            graph.edge(lid, target, "access logs", DATA_FLOW)
    for lid, props in graph.of_type(SECRET):
        graph.node(DATA, lid, lid, "Secrets Manager secret")
        for key in _ids(graph, props.get("KmsKeyId"), KMS_KEY):
            graph.edge(lid, key, "", ENCRYPTION)
    for lid, props in graph.of_type(KMS_KEY):
        rotation = ", rotation on" if props.get("EnableKeyRotation") is True else ""
        graph.node(DATA, lid, lid, f"KMS key{rotation}")
    for lid, props in graph.of_type(LOG_GROUP):
        graph.node(
            OBSERVABILITY,
            lid,
            lid,
            "CloudWatch log group",
            f"kept {props.get('RetentionInDays', 'forever')} days",
        )
        for key in _ids(graph, props.get("KmsKeyId"), KMS_KEY):
            graph.edge(lid, key, "", ENCRYPTION)


# --- DOT --------------------------------------------------------------------------------------


def _quote(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(lines: tuple[str, ...] | list[str], *, left: bool = False) -> str:
    """A multi-line DOT label, its lines centred or (``left``) left-aligned."""
    if left:
        return _quote("\n".join(lines) + "\n").replace("\n", "\\l")
    return _quote("\n".join(lines)).replace("\n", "\\n")


def _caption(stack: Evaluated) -> list[str]:
    """The caption: what the colours mean and which created resources are not drawn."""
    skipped = Counter(
        res["Type"] for res in stack.resources.values() if res["Type"] not in DRAWN_TYPES
    )
    lines = [LEGEND, f"{len(stack.resources)} resources; not drawn:"]
    items = [f"{count} {_short_type(name)}" for name, count in sorted(skipped.items())]
    lines += [", ".join(items[i : i + 4]) for i in range(0, len(items), 4)]
    return lines


def diagram(evaluated: Evaluated) -> str:
    """Graphviz DOT source of an evaluated stack: tiers as clusters, traffic and data as arrows."""
    graph = _Graph(evaluated)
    _load_balancing(graph)
    _service(graph)
    _data_and_observability(graph)
    captions = {
        **{tier: caption for tier, (caption, _) in TIERS.items()},
        CLIENTS: _clients_caption(graph),
    }
    caption = _label(_caption(evaluated), left=True)
    out = [
        "digraph mlflow {",
        f'  graph [rankdir=TB, newrank=true, fontname="Helvetica", fontsize=11, nodesep=0.25, '
        f"ranksep=0.8, labelloc=b, labeljust=l, label={caption}];",
        '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica", '
        "fontsize=10];",
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for tier, (_, fill) in TIERS.items():
        members = sorted(n for n in graph.nodes.values() if n.tier == tier)
        if not members:
            continue
        out.append(f"  subgraph cluster_{tier} {{")
        out.append(
            f'    label={_quote(captions[tier])}; style="rounded,filled"; '
            f'fillcolor="{fill}"; color="#999999";'
        )
        for node in members:
            style = ', style="rounded,dashed,filled"' if node.external else ""
            out.append(f"    {_quote(node.id)} [label={_label(node.lines)}{style}];")
        out.append("  }")
    for edge in sorted(graph.edges):
        label = f"label={_quote(edge.label)}, " if edge.label else ""
        out.append(
            f"  {_quote(edge.source)} -> {_quote(edge.target)} [{label}{EDGE_STYLES[edge.kind]}];"
        )
    out.append("}")
    return "\n".join(out) + "\n"


# --- CLI --------------------------------------------------------------------------------------


def evaluate_stack(template_path: str | Path, parameters_path: str | Path | None) -> Evaluated:
    """The stack to draw: a parameter file's, or the template's defaults with placeholders for
    the parameters that have none. EvaluationError lists every problem."""
    if parameters_path is not None:
        return evaluate_file(template_path, parameters_path)
    path = Path(template_path)
    try:
        template = json.loads(path.read_text())
    except FileNotFoundError:
        raise EvaluationError([f"--template {path}: no such file"]) from None
    except json.JSONDecodeError as exc:
        raise EvaluationError([f"--template {path}: not JSON ({exc})"]) from None
    declared = template.get("Parameters", {})
    placeholders = {
        name: value
        for name, value in PLACEHOLDER_PARAMETERS.items()
        if name in declared and "Default" not in declared[name]
    }
    return evaluate(template, placeholders)


def render_svg(dot_source: str) -> bytes:
    """SVG from DOT with the Graphviz ``dot`` binary; RuntimeError if it is missing or fails."""
    binary = shutil.which("dot")
    if binary is None:
        raise RuntimeError(
            "Graphviz `dot` is not installed (Debian: apt-get install graphviz); "
            "or write DOT source with --output FILE.dot"
        )
    result = subprocess.run(
        [binary, "-Tsvg"], input=dot_source.encode(), capture_output=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"dot failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def run_diagram(args: argparse.Namespace) -> int:
    """Write the diagram of the evaluated template as DOT (.dot) or SVG; exit 2 on bad input."""
    output = Path(args.output)
    if output.suffix not in (".svg", ".dot"):
        print(f"mlflow-cfn diagram: --output {output} must end in .svg or .dot", file=sys.stderr)
        return 2
    try:
        source = diagram(evaluate_stack(args.template, args.parameters))
        content = source.encode() if output.suffix == ".dot" else render_svg(source)
    except EvaluationError as exc:
        for error in exc.errors:
            print(f"mlflow-cfn diagram: {error}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"mlflow-cfn diagram: {exc}", file=sys.stderr)
        return 2
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(content)
    return 0


def add_diagram_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``diagram`` sub-command."""
    command = subparsers.add_parser(
        "diagram", help="draw the stack a template creates (Graphviz DOT or SVG)"
    )
    command.add_argument(
        "--parameters",
        metavar="PATH",
        help="parameters as for `plan` (default: the template's defaults, placeholder network)",
    )
    command.add_argument("--template", default=DEFAULT_TEMPLATE, metavar="PATH")
    command.add_argument(
        "--output",
        required=True,
        metavar="PATH",
        help=f"file to write: .svg (rendered with Graphviz `dot`) or .dot, e.g. {DEFAULT_OUTPUT}",
    )
    command.set_defaults(func=run_diagram)
    return command
