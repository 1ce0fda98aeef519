"""``mlflow-cfn smoke`` against the emitted container really running MLflow on PostgreSQL, with
the artifacts in a moto S3 server, behind a tiny local "load balancer" (a proxy the test
controls: it passes requests on with the load balancer's Host name, or answers 401 or 503).

The container reaches S3 by a name no client can resolve (``s3.mlflow-smoke.invalid``) through
an HTTP proxy, as a task reaches S3 by a VPC endpoint: the presigned URLs it signs are then
reachable only by a client that uses the same proxy. One server serves the whole module.
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mlflow_cfn.cli import main
from mlflow_cfn.smoke import SmokeRequest, smoke
from tests.runtime.conftest import s3_client
from tests.runtime.harness import (
    BUCKET,
    LB_DNS_NAME,
    SECRET_ARN,
    LocalContainer,
    free_port,
    new_workdir,
    render_container,
)

pytestmark = pytest.mark.runtime

S3_NAME = "s3.mlflow-smoke.invalid"  # .invalid never resolves (RFC 2606)
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade", "proxy-authorization", "content-length"}  # fmt: skip


@dataclass
class Behaviour:
    """What the proxy does: answer `always`, else the next of `answers`, else pass on with
    `host` as Host (None: the upstream's own). `token`: the bearer token it lets through."""

    upstream: str
    host: str | None = None
    always: int | None = None
    retry_after: str | None = None  # sent with every 503 (the wake path's answer)
    answers: list[int] = field(default_factory=list)
    token: str | None = None
    seen: list[str] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def _handle(self):
        b: Behaviour = self.server.behaviour
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        b.seen.append(f"{self.command} {self.path}")
        authorization = self.headers.get("Authorization", "")
        status = b.always or (b.answers.pop(0) if b.answers else None)
        if status is None and b.token and authorization != f"Bearer {b.token}":
            status = 401
        if status is not None:
            return self._answer(status)
        upstream = urllib.parse.urlsplit(b.upstream)
        target = urllib.parse.urlsplit(self.path)  # absolute-form when used as an HTTP proxy
        path = urllib.parse.urlunsplit(("", "", target.path, target.query, ""))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Host"] = b.host or upstream.netloc
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        connection.request(self.command, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        # A HEAD answer has no body but tells the object's length.
        self.send_header("Content-Length", response.getheader("Content-Length", "0")
                         if self.command == "HEAD" else str(len(data)))  # fmt: skip
        self.end_headers()
        self.wfile.write(data)
        connection.close()

    def _answer(self, status: int) -> None:
        body = b"<html><body><h1>%d</h1></body></html>" % status
        self.send_response(status)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
        if status == 503 and self.server.behaviour.retry_after:
            self.send_header("Retry-After", self.server.behaviour.retry_after)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle


class Proxy:
    """A local proxy on a free port, behaving as `behaviour` says (changeable between tests)."""

    def __init__(self, behaviour: Behaviour):
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Handler)
        self.server.daemon_threads = True
        self.server.behaviour = behaviour
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def s3_proxy(s3_endpoint) -> Iterator[Proxy]:
    """The HTTP proxy by which S3 (moto) is reachable as S3_NAME."""
    proxy = Proxy(Behaviour(upstream=s3_endpoint))
    yield proxy
    proxy.close()


@pytest.fixture(scope="module")
def server(module_database, s3_proxy) -> Iterator[LocalContainer]:
    """The emitted container, serving MLflow on PostgreSQL with artifacts in S3."""
    db = module_database
    spec = render_container({"DatabaseEngine": db.engine}, db_host=db.host, db_port=db.port)
    task = LocalContainer(
        spec=spec,
        secret_values={SECRET_ARN: {"username": db.user, "password": db.password}},
        overrides={
            "MLFLOW_CFN_DB_NAME": db.name,
            "MLFLOW_PORT": str(free_port()),
            "MLFLOW_S3_ENDPOINT_URL": f"http://{S3_NAME}",
            "HTTP_PROXY": s3_proxy.url,
            "http_proxy": s3_proxy.url,
        },
        workdir=new_workdir(),
    )
    task.start()
    try:
        seconds = task.wait_healthy()
        print(f"\n/health answered {seconds:.1f}s after start")
        yield task
    finally:
        task.stop()


@pytest.fixture
def load_balancer(server) -> Iterator[Proxy]:
    """A stand-in for the ALB: the client reaches it by address, MLflow sees the ALB's name."""
    proxy = Proxy(Behaviour(upstream=server.url, host=LB_DNS_NAME.lower()))
    yield proxy
    proxy.close()


@pytest.fixture
def s3_route(monkeypatch, s3_proxy):
    """This client reaches S3 like the server does (the proxy); the rest goes direct."""
    monkeypatch.setenv("HTTP_PROXY", s3_proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD"):
        monkeypatch.delenv(name, raising=False)


def smoke_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["smoke", *args])
    captured = capsys.readouterr()
    print(captured.out, captured.err)
    return code, captured.out, captured.err


def artifact_keys(s3_endpoint: str) -> list[str]:
    listed = s3_client(s3_endpoint).list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return [o["Key"] for o in listed if "/smoke/" in o["Key"]]


def smoke_experiments(proxy: Proxy) -> list[str]:
    """Names of the smoke experiments still active on the server (asked through `proxy`)."""
    from mlflow.tracking import MlflowClient

    names = [e.name for e in MlflowClient(proxy.url).search_experiments()]
    return [n for n in names if n.startswith("mlflow-cfn-smoke-")]


def test_a_working_stack_passes_every_step_and_leaves_nothing(
    capsys, load_balancer, s3_route, s3_proxy, s3_endpoint
):
    code, out, err = smoke_cli(capsys, "--tracking-uri", load_balancer.url)
    assert (code, err) == (0, ""), out
    for step in ("reach the server", "create experiment", "log params, metrics and tags",
                 "upload artifact: 4.0 MiB", "download by presigned S3 URL: bytes match",
                 "download through the server: bytes match", "search runs",
                 "delete artifact, run and experiment"):  # fmt: skip
        assert [line for line in out.splitlines() if line.startswith("  ok") and step in line]
    assert "passed: 8 steps" in out
    # The presigned download went to S3 (by the proxy, as the server signed it), the upload
    # and the second download through the server.
    s3_requests = s3_proxy.server.behaviour.seen
    assert [r for r in s3_requests if r.startswith(f"GET http://{S3_NAME}/{BUCKET}/")], s3_requests
    assert artifact_keys(s3_endpoint) == []  # the artifact is deleted from the bucket
    assert smoke_experiments(load_balancer) == []  # the experiment is in MLflow's trash


def test_a_host_mlflow_does_not_know_is_named(capsys, server, s3_route):
    """Straight to the task by its address: MLflow's Host check refuses it, as in AWS."""
    code, out, err = smoke_cli(capsys, "--tracking-uri", server.url)
    assert code == 1
    assert err.startswith(
        "mlflow-cfn smoke: reach the server: Host header refused by MLflow (403 'Invalid Host "
        "header - possible DNS rebinding attack detected'): the server answers only its load "
        f"balancer's DNS name and the stack's DomainName, not 127.0.0.1:{server.port}"
    ), err
    assert len(err.splitlines()) == 1
    assert "create experiment" not in out and "FAILED: reach the server" in out


def test_a_load_balancer_refusing_the_token_is_named(capsys, load_balancer, s3_route):
    load_balancer.server.behaviour.token = "the-right-token"
    code, _, err = smoke_cli(capsys, "--tracking-uri", load_balancer.url)
    assert code == 1
    assert err.startswith(
        'mlflow-cfn smoke: reach the server: 401 from the load balancer (Bearer error="invalid_'
        'token"): no bearer token was sent'
    ), err
    code, _, err = smoke_cli(capsys, "--tracking-uri", load_balancer.url, "--token", "stale")
    assert code == 1 and "the bearer token was refused" in err, err


def test_a_waking_service_is_waited_for_and_said(capsys, load_balancer, s3_route):
    load_balancer.server.behaviour.answers = [503, 503]
    code, out, err = smoke_cli(capsys, "--tracking-uri", load_balancer.url)
    assert (code, err) == (0, ""), out
    assert "  ..            503: the service may be waking up; retrying for up to 180 s" in out


def test_the_wait_for_a_waking_service_is_bounded(capsys, load_balancer, s3_route):
    load_balancer.server.behaviour.always = 503
    code, _, err = smoke_cli(capsys, "--tracking-uri", load_balancer.url, "--wake-seconds", "3")
    assert code == 1
    assert "503 from the load balancer: no healthy MLflow task answered" in err
    assert err.rstrip().endswith("(still 503 after waiting 3 s)"), err


def test_s3_out_of_reach_of_the_client_is_named_and_cleaned_up(
    capsys, load_balancer, s3_endpoint, monkeypatch
):
    """The client has no route to the S3 name the server signs URLs for."""
    for name in ("HTTP_PROXY", "http_proxy", "MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD"):
        monkeypatch.delenv(name, raising=False)
    code, out, err = smoke_cli(capsys, "--tracking-uri", load_balancer.url)
    assert code == 1
    (line,) = err.splitlines()
    assert line.startswith(
        f"mlflow-cfn smoke: download by presigned S3 URL: download by the presigned S3 URL (host "
        f"{S3_NAME}) failed: S3 is not reachable from this client ("
    ), line
    assert line.endswith(
        "clients like this one need a route to S3, or MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD="
        "false to stream artifacts through the server"
    ), line
    # Streaming through the server still works, and everything made is deleted.
    assert "  ok" in _line(out, "download through the server: bytes match")
    assert "  ok" in _line(out, "delete artifact, run and experiment")
    assert "FAILED: download by presigned S3 URL (7 step(s) passed" in out
    assert artifact_keys(s3_endpoint) == []
    assert smoke_experiments(load_balancer) == []


def _line(out: str, text: str) -> str:
    (line,) = [line for line in out.splitlines() if text in line]
    return line


def test_a_cognito_stack_end_to_end(load_balancer, s3_route, monkeypatch):
    """--stack-name: TrackingUri and the Cognito outputs from DescribeStacks, the secret from
    DescribeUserPoolClient, a token from the token endpoint, which the load balancer demands."""
    from tests.unit.test_smoke import (
        CLIENT_ID,
        POOL,
        SECRET,
        TOKEN,
        TokenEndpoint,
        cognito_outputs,
        stack_description,
        stubbed,
    )  # fmt: skip

    endpoint = TokenEndpoint()
    load_balancer.server.behaviour.token = TOKEN
    outputs = {**cognito_outputs(endpoint.url), "TrackingUri": load_balancer.url}
    described = stack_description(outputs, "cognito")
    cfn, cfn_stub = stubbed(
        "cloudformation", ("describe_stacks", described, {"StackName": "mlflow"})
    )
    secret = {"UserPoolClient": {"ClientId": CLIENT_ID, "ClientSecret": SECRET}}
    cognito, cognito_stub = stubbed(
        "cognito-idp",
        ("describe_user_pool_client", secret, {"UserPoolId": POOL, "ClientId": CLIENT_ID}),
    )
    clients = {"cloudformation": cfn, "cognito-idp": cognito}
    out, err = [], []
    try:
        code = smoke(
            SmokeRequest(stack_name="mlflow"),
            aws=clients.__getitem__,
            region="eu-west-1",
            out=out.append,
            err=err.append,
        )
    finally:
        endpoint.close()
    print("\n".join(out))
    assert (code, err) == (0, [])
    cfn_stub.assert_no_pending_responses()
    cognito_stub.assert_no_pending_responses()
    assert "get a bearer token: client credentials from CognitoTokenUrl output" in "\n".join(out)
    assert "AuthMode=cognito" in out[1]
