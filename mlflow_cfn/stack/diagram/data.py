"""The data and observability tiers of a diagram: the database cluster and its instances,
buckets (a bucket receiving access logs is drawn with observability), secrets, KMS keys and log
groups, with what encrypts each one and where access logs go."""

from __future__ import annotations

from mlflow_cfn.stack.diagram.graph import (
    BUCKET,
    CONTROL,
    DATA,
    DATA_FLOW,
    DB_CLUSTER,
    ENCRYPTION,
    KMS_KEY,
    LOAD_BALANCER_TYPE,
    LOG_GROUP,
    OBSERVABILITY,
    SECRET,
    Graph,
)


def managed_secret(graph: Graph, cluster: str) -> str:
    """The node of the secret RDS manages for a database cluster's master user."""
    node_id = f"{cluster}.MasterUserSecret"
    return graph.node(DATA, node_id, f"{cluster} secret", "Secrets Manager, managed by RDS")


def _encrypted_by(graph: Graph, source: str, value: object) -> None:
    """Dotted arrows from a node to the KMS keys of this stack referenced inside ``value``."""
    for key in graph.ids(value, KMS_KEY):
        graph.edge(source, key, "", ENCRYPTION)


def _log_buckets(graph: Graph) -> set[str]:
    """Buckets that receive logs: a load balancer's access logs or S3 server access logs."""
    targets = set()
    for _, props in graph.of_type(LOAD_BALANCER_TYPE):
        targets.update(graph.ids(props.get("LoadBalancerAttributes", []), BUCKET))
    for _, props in graph.of_type(BUCKET):
        targets.update(graph.ids(props.get("LoggingConfiguration", {}), BUCKET))
    return targets


def _database(graph: Graph) -> None:
    """Database clusters (with the secret RDS manages for them) and their instances."""
    for lid, props in graph.of_type(DB_CLUSTER):
        scaling = props.get("ServerlessV2ScalingConfiguration")
        lines = [lid, f"{props.get('Engine', '')} {props.get('EngineVersion', '')}".strip()]
        if scaling:
            lines.append(
                f"Serverless v2, {scaling.get('MinCapacity')} to {scaling.get('MaxCapacity')} ACU"
            )
        graph.node(DATA, lid, *lines)
        _encrypted_by(graph, lid, {k: v for k, v in props.items() if k != "MasterUserSecret"})
        if props.get("ManageMasterUserPassword") is True:
            _encrypted_by(graph, managed_secret(graph, lid), props.get("MasterUserSecret"))
    for lid, props in graph.of_type("AWS::RDS::DBInstance"):
        graph.node(DATA, lid, lid, f"DB instance {props.get('DBInstanceClass', '')}")
        for cluster in graph.ids(props.get("DBClusterIdentifier"), DB_CLUSTER):
            graph.edge(lid, cluster, "instance of", CONTROL)


def _buckets(graph: Graph) -> None:
    """Buckets, and the access logs the buckets and load balancers write to them."""
    log_buckets = _log_buckets(graph)
    for lid, props in graph.of_type(BUCKET):
        tier, use = (OBSERVABILITY, "logs") if lid in log_buckets else (DATA, "data")
        graph.node(tier, lid, lid, f"S3 bucket ({use})")
        _encrypted_by(graph, lid, props.get("BucketEncryption"))
        for target in graph.ids(props.get("LoggingConfiguration"), BUCKET):
            graph.edge(lid, target, "access logs", DATA_FLOW)
    for lid, props in graph.of_type(LOAD_BALANCER_TYPE):
        for target in graph.ids(props.get("LoadBalancerAttributes", []), BUCKET):
            graph.edge(lid, target, "access logs", DATA_FLOW)


def add_data_and_observability(graph: Graph) -> None:
    """Database, buckets, secrets, keys and log groups, with what encrypts them and where the
    load balancer and buckets write their access logs."""
    _database(graph)
    _buckets(graph)
    for lid, props in graph.of_type(SECRET):
        graph.node(DATA, lid, lid, "Secrets Manager secret")
        _encrypted_by(graph, lid, props.get("KmsKeyId"))
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
        _encrypted_by(graph, lid, props.get("KmsKeyId"))
