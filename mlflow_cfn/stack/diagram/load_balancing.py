"""The clients and the load balancer tier of a diagram: who may connect on which ports, the load
balancers and their DNS records, target groups, listeners and listener rules with their actions
(forward, redirect, Cognito or OIDC sign-in, bearer-token validation), and Cognito resources."""

from __future__ import annotations

from mlflow_cfn.stack.diagram.graph import (
    AUTH,
    CLIENTS,
    COGNITO_USER_POOL,
    CONTROL,
    DRAWN_TYPES,
    LAYOUT,
    LISTENER,
    LISTENER_RULE,
    LOAD_BALANCER,
    LOAD_BALANCER_TYPE,
    TARGET_GROUP,
    TIERS,
    TRAFFIC,
    Graph,
    short_type,
)

SECURITY_GROUP = "AWS::EC2::SecurityGroup"


def _client_lines(graph: Graph) -> tuple[str, ...]:
    """The clients' box: which CIDRs may reach the load balancer on which ports."""
    groups = {
        lid
        for _, props in graph.of_type(LOAD_BALANCER_TYPE)
        for lid in graph.ids(props.get("SecurityGroups", []), SECURITY_GROUP)
    }
    rules = [
        props
        for _, props in graph.of_type("AWS::EC2::SecurityGroupIngress")
        if set(graph.ids(props.get("GroupId"), SECURITY_GROUP)) & groups
    ]
    rules += [
        rule
        for lid, props in graph.of_type(SECURITY_GROUP)
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


def clients_caption(graph: Graph) -> str:
    """Who the clients are: the corporate network behind an internal load balancer, or anyone."""
    schemes = {
        props.get("Scheme", "internet-facing") for _, props in graph.of_type(LOAD_BALANCER_TYPE)
    }
    if schemes == {"internal"}:
        return "Clients: corporate network (internal load balancer)"
    if schemes:
        return "Clients: internet (internet-facing load balancer)"
    return TIERS[CLIENTS][0]


def _identity_provider(graph: Graph, issuer: str) -> str:
    """The node signing users in for ``issuer``: a Cognito user pool of this stack or outside."""
    pools = graph.ids(issuer, COGNITO_USER_POOL)
    if pools:
        return pools[0]
    return graph.node(CLIENTS, f"idp:{issuer}", "OIDC identity provider", issuer, external=True)


def _user_pool(graph: Graph, arn: str) -> str:
    """The node of the Cognito user pool ``arn`` names: of this stack, or an existing one."""
    pools = graph.ids(arn, COGNITO_USER_POOL)
    if pools:
        return pools[0]
    return graph.node(CLIENTS, f"cognito:{arn}", "existing Cognito user pool", arn, external=True)


def _actions(graph: Graph, source: str, actions: list[dict], listeners: dict[int, str]) -> None:
    """Arrows for a listener's or rule's actions: forward, redirect, authenticate, validate."""
    for action in sorted(actions, key=lambda a: int(a.get("Order", 0))):
        kind = action["Type"]
        if kind == "forward":
            targets = graph.ids(
                [action.get("TargetGroupArn"), action.get("ForwardConfig")], TARGET_GROUP
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


def _clients_and_balancers(graph: Graph) -> str:
    """The clients, the load balancers and the DNS records pointing at them; the clients' id."""
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
        for target in graph.ids(props.get("AliasTarget"), LOAD_BALANCER_TYPE):
            graph.edge(lid, target, "alias", CONTROL)
    return clients


def _listeners(graph: Graph, clients: str) -> None:
    """Listeners and their rules: what the clients reach and where each action leads."""
    listeners = {lid: props for lid, props in graph.of_type(LISTENER)}
    by_port = {int(props["Port"]): lid for lid, props in listeners.items() if "Port" in props}
    for lid, props in listeners.items():
        lines = [lid, f"listener {props.get('Protocol', '')} :{props.get('Port', '')}"]
        if "SslPolicy" in props:
            lines.append(str(props["SslPolicy"]))
        graph.node(LOAD_BALANCER, lid, *lines)
        for balancer in graph.ids(props.get("LoadBalancerArn"), LOAD_BALANCER_TYPE):
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
        for listener in graph.ids(props.get("ListenerArn"), LISTENER):
            graph.edge(listener, lid, "rule", TRAFFIC)
        _actions(graph, lid, props.get("Actions", []), by_port)


def add_load_balancing(graph: Graph) -> None:
    """Load balancers, listeners, rules, target groups and sign-in; the clients' arrows."""
    clients = _clients_and_balancers(graph)
    for lid, props in graph.of_type(TARGET_GROUP):
        graph.node(
            LOAD_BALANCER,
            lid,
            lid,
            f"target group {props.get('Protocol', '')} :{props.get('Port', '')}",
            f"health check {props.get('HealthCheckPath', '/')}",
        )
    _listeners(graph, clients)
    for type_name in sorted(t for t in DRAWN_TYPES if t.startswith("AWS::Cognito::")):
        for lid, props in graph.of_type(type_name):
            graph.node(LOAD_BALANCER, lid, lid, short_type(type_name))
            for pool in graph.ids(props.get("UserPoolId"), COGNITO_USER_POOL):
                graph.edge(lid, pool, "of", CONTROL)
