"""The service tier of a diagram: the ECS cluster, services, task definitions and their
containers (sidecars included), autoscaling; and what each container uses in the data and
observability tiers (the database, buckets by reference or ``s3://`` URI, log groups, secrets)."""

from __future__ import annotations

import re

from mlflow_cfn.stack.diagram.data import managed_secret
from mlflow_cfn.stack.diagram.graph import (
    BUCKET,
    CONTROL,
    DATA,
    DATA_FLOW,
    DB_CLUSTER,
    ECS_CLUSTER,
    ECS_SERVICE,
    LOG_GROUP,
    PLACEHOLDER,
    SCALABLE_TARGET,
    SECRET,
    SERVICE,
    TARGET_GROUP,
    TASK_DEFINITION,
    TRAFFIC,
    Graph,
)

_S3_URI = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/|$)")


def _container_id(task: str, name: str) -> str:
    """Node id of one container of a task definition."""
    return f"{task}/{name}"


def _secret_node(graph: Graph, value_from: str) -> str | None:
    """The node of a secret a container receives: managed by RDS, in this stack, or outside."""
    for lid, attribute in graph.refs(value_from):
        if attribute.startswith("MasterUserSecret"):
            return managed_secret(graph, lid)
        if graph.type_of(lid) == SECRET:
            return lid
    if value_from.startswith("arn:"):
        parts = value_from.split(":")
        arn = ":".join(parts[:7])
        return graph.node(DATA, arn, f"existing {parts[2]} secret", parts[6], external=True)
    return None


def _bucket_edges(graph: Graph, container: str, variable: dict) -> None:
    """Arrows from a container to the buckets one of its environment variables names: buckets of
    this stack (by reference) or existing ones (``s3://name/...``)."""
    value = str(variable.get("Value", ""))
    buckets = graph.ids(value, BUCKET)
    literal = _S3_URI.match(value)
    if literal and not PLACEHOLDER.search(literal[1]):
        name = literal[1]
        buckets.append(graph.node(DATA, f"s3:{name}", "existing S3 bucket", name, external=True))
    label = "artifacts (S3 API)" if "ARTIFACT" in str(variable.get("Name", "")) else "S3 API"
    for bucket in buckets:
        graph.edge(container, bucket, label, DATA_FLOW)


def _containers(graph: Graph, task: str, definitions: list[dict]) -> None:
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
        for cluster in graph.ids(environment, DB_CLUSTER):
            graph.edge(node, cluster, "SQL", DATA_FLOW)
        for variable in environment:
            _bucket_edges(graph, node, variable)
        for group in graph.ids(container.get("LogConfiguration", {}), LOG_GROUP):
            graph.edge(node, group, "logs", DATA_FLOW)
        for secret in container.get("Secrets", []):
            secret_node = _secret_node(graph, str(secret.get("ValueFrom", "")))
            if secret_node:
                injected.setdefault(secret_node, set()).add(container["Name"])
    for secret_node, names in sorted(injected.items()):
        graph.edge(task, secret_node, f"injected into {', '.join(sorted(names))}", DATA_FLOW)


def _services(graph: Graph) -> None:
    """ECS clusters and services: which cluster runs them, their task definition, and the
    target groups that send them requests."""
    for lid, _ in graph.of_type(ECS_CLUSTER):
        graph.node(SERVICE, lid, lid, "ECS cluster")
    for lid, props in graph.of_type(ECS_SERVICE):
        launch = props.get("LaunchType") or "capacity providers"
        graph.node(
            SERVICE,
            lid,
            lid,
            f"ECS service, {launch}",
            f"desired count {props.get('DesiredCount', 1)}",
        )
        for cluster in graph.ids(props.get("Cluster"), ECS_CLUSTER):
            graph.edge(cluster, lid, "runs", CONTROL)
        tasks = graph.ids(props.get("TaskDefinition"), TASK_DEFINITION)
        for task in tasks:
            graph.edge(lid, task, "tasks of", CONTROL)
        for target in props.get("LoadBalancers", []):
            for group in graph.ids(target.get("TargetGroupArn"), TARGET_GROUP):
                for task in tasks:
                    graph.edge(
                        group,
                        _container_id(task, target["ContainerName"]),
                        f"HTTP :{target.get('ContainerPort', '')}",
                        TRAFFIC,
                    )


def _autoscaling(graph: Graph) -> None:
    """Scalable targets (with their schedules) and scaling policies."""
    for lid, props in graph.of_type(SCALABLE_TARGET):
        lines = [
            lid,
            "autoscaling",
            f"{props.get('MinCapacity')} to {props.get('MaxCapacity')} tasks",
        ]
        lines += [f"schedule {a.get('Schedule')}" for a in props.get("ScheduledActions", [])]
        graph.node(SERVICE, lid, *lines)
        for service in graph.ids(props.get("ResourceId"), ECS_SERVICE):
            graph.edge(lid, service, "sets desired count", CONTROL)
    for lid, props in graph.of_type("AWS::ApplicationAutoScaling::ScalingPolicy"):
        config = props.get("TargetTrackingScalingPolicyConfiguration", {})
        metric = config.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType", "")
        lines = [lid, f"scaling policy, {props.get('PolicyType', '')}"]
        if metric:
            lines.append(f"{metric} target {config.get('TargetValue')}")
        graph.node(SERVICE, lid, *lines)
        for target in graph.ids(props.get("ScalingTargetId"), SCALABLE_TARGET):
            graph.edge(lid, target, "policy of", CONTROL)


def add_service(graph: Graph) -> None:
    """ECS cluster, services, task definitions, containers, autoscaling; the containers' use of
    the data and observability tiers."""
    _services(graph)
    for lid, props in graph.of_type(TASK_DEFINITION):
        graph.node(
            SERVICE,
            lid,
            lid,
            "task definition",
            f"{props.get('Cpu', '?')} CPU units, {props.get('Memory', '?')} MiB",
        )
        _containers(graph, lid, props.get("ContainerDefinitions", []))
    _autoscaling(graph)
