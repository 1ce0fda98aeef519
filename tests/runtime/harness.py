"""Run the emitted mlflow container definition as a real local process.

The task definition is evaluated as CloudFormation would render it; the container's entry point,
command, environment and secrets are used exactly as rendered. Only what cannot exist locally is
replaced: the database endpoint (the local server, through the evaluator's attribute map), the
database name (one fresh database per test), the secret (a real local user with a hostile
password), the S3 endpoint (a moto server) and the listening port (a free one). The process gets
no other environment than the container would (plus PATH to the pinned MLflow and fake AWS keys
that stand in for the task role).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mlflow_cfn.cfn.evaluate import evaluate
from tests.conftest import REQUIRED_PARAMETERS

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "templates" / "mlflow.json"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-0a1b2c3d-AbCdEf"
#: ALB DNS names carry the load balancer's mixed-case name; browsers send it lower-cased.
LB_DNS_NAME = "internal-mlflow-LoadB-1X2Y3Z4W5V6U-1234567890.eu-west-1.elb.amazonaws.com"
DOMAIN = "mlflow.example.com"
BUCKET = "mlflow-runtime-artifacts"
#: Every character that breaks a URI if not encoded, plus both quotes.
HOSTILE_PASSWORD = "p@ss:w/rd%#?&=+ 'q\"Z[]{}!$*,;~"


#: Run the container's command as ECS would with ReadonlyRootFilesystem and the task volume at
#: /tmp: in a private mount namespace every mount (but /proc, /sys, /dev) is read-only and /tmp
#: is a fresh, empty file system owned by root with mode 0755, as Fargate creates a bind mount.
#: The prepare-volumes init container's command (JSON argv) runs first, as root without any
#: capability (an empty bounding set), as its task definition says; then the server as its User.
READ_ONLY_ROOT = r"""
keep="$MLFLOW_CFN_KEEP"  # a directory under /tmp the command needs (this checkout's venv)
[ -z "$keep" ] || mount --bind /tmp /mnt
for m in $(findmnt -rn -o TARGET | grep -Ev '^/(proc|sys|dev)(/|$)'); do
  mount -o remount,bind,ro "$m" 2>/dev/null || true
done
mount -t tmpfs -o mode=0755 tmpfs /tmp
if [ -n "$keep" ]; then
  mkdir -p "$keep" && mount --bind "/mnt${keep#/tmp}" "$keep" && mount -o remount,bind,ro "$keep"
fi
if [ -n "$MLFLOW_CFN_PREPARE" ]; then  # the init container: root, no capability at all
  setpriv --bounding-set=-all --inh-caps=-all --no-new-privs python -c "$PREPARE_RUNNER" \
    || { echo "prepare-volumes failed" >&2; exit 97; }
fi
if [ -n "$MLFLOW_CFN_USER" ]; then  # the container's User (uid:gid), as ECS runs it
  uid="${MLFLOW_CFN_USER%%:*}" gid="${MLFLOW_CFN_USER#*:}"
  set -- setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"
fi
unset MLFLOW_CFN_KEEP MLFLOW_CFN_USER MLFLOW_CFN_PREPARE PREPARE_RUNNER
cd "$MLFLOW_CFN_WORKDIR" && unset MLFLOW_CFN_WORKDIR && exec "$@"
"""
#: Runs the init container's argv (JSON in MLFLOW_CFN_PREPARE); its exit status is the runner's.
PREPARE_RUNNER = (
    "import json, os, subprocess, sys; "
    "sys.exit(subprocess.call(json.loads(os.environ['MLFLOW_CFN_PREPARE'])))"
)


def read_only_root_available() -> bool:
    """Whether this machine lets the tests make a read-only root in a mount namespace."""
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         "mount -o remount,bind,ro / && ! touch /.mlflow-cfn-probe 2>/dev/null"],
        capture_output=True,
    )  # fmt: skip
    return probe.returncode == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


@dataclass(frozen=True)
class ContainerSpec:
    """The mlflow container as CloudFormation would render it."""

    entry_point: list[str]
    command: list[str]
    environment: dict[str, str]
    secrets: dict[str, str]  # variable name -> ValueFrom
    health_check: list[str]
    working_directory: str
    user: str = ""  # uid:gid, "" for root
    #: The prepare-volumes init container's argv, if the task has one (it runs as root).
    prepare: tuple[str, ...] = ()


def render_container(
    parameters: dict[str, str], *, db_host: str, db_port: int, template: Path = TEMPLATE
) -> ContainerSpec:
    """Evaluate the template and return its mlflow container definition."""
    evaluated = evaluate(
        json.loads(template.read_text()),
        {**REQUIRED_PARAMETERS, **parameters},
        region="eu-west-1",
        attributes={
            "DatabaseCluster.Endpoint.Address": db_host,
            "DatabaseCluster.Endpoint.Port": str(db_port),
            "DatabaseCluster.MasterUserSecret.SecretArn": SECRET_ARN,
            "LoadBalancer.DNSName": LB_DNS_NAME,
        },
        physical_ids={"ArtifactBucket": BUCKET},
    )
    task = evaluated.resource("TaskDefinition")["Properties"]
    (container,) = [c for c in task["ContainerDefinitions"] if c["Name"] == "mlflow"]
    prepare = [c for c in task["ContainerDefinitions"] if c["Name"] == "prepare-volumes"]
    if prepare:  # it must run first, as root, and open exactly the volume the server writes to
        assert container["DependsOn"] == [
            {"ContainerName": "prepare-volumes", "Condition": "SUCCESS"}
        ]
        assert prepare[0]["User"] == "0" and prepare[0]["MountPoints"] == container["MountPoints"]
    return ContainerSpec(
        entry_point=container["EntryPoint"],
        command=container["Command"],
        environment={e["Name"]: e["Value"] for e in container["Environment"]},
        secrets={s["Name"]: s["ValueFrom"] for s in container["Secrets"]},
        health_check=container["HealthCheck"]["Command"],
        working_directory=container["WorkingDirectory"],
        user=container.get("User", ""),
        prepare=tuple(prepare[0]["EntryPoint"] + prepare[0]["Command"]) if prepare else (),
    )


def resolve_secret(value_from: str, secrets: dict[str, dict[str, str]]) -> str:
    """What ECS injects for ``arn:...:secret:name:json-key:version-stage:version-id``."""
    parts = value_from.split(":")
    arn, json_key = ":".join(parts[:7]), parts[7]
    return secrets[arn][json_key]


@dataclass
class LocalContainer:
    """One mlflow container started as a local process tree."""

    spec: ContainerSpec
    secret_values: dict[str, dict[str, str]]
    overrides: dict[str, str]
    workdir: Path
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    started_at: float = 0.0
    peak_rss_bytes: int = 0
    pids_seen: set[int] = field(default_factory=set)

    @property
    def port(self) -> int:
        return int(self.environment()["MLFLOW_PORT"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            # Stand-ins for the task role's credentials (the S3 endpoint is the emulator).
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            **self.spec.environment,
            **{k: resolve_secret(v, self.secret_values) for k, v in self.spec.secrets.items()},
        }
        env.update(self.overrides)
        return env

    def start(self, read_only_root: bool = True) -> None:
        """Start the container's command; with ``read_only_root`` as ECS runs it (read-only
        root file system, an empty writable /tmp, the rendered working directory)."""
        self.log_path = self.workdir / f"mlflow-{self.port}.log"
        self.started_at = time.monotonic()
        argv = [*self.spec.entry_point, *self.spec.command]
        env = self.environment()
        if read_only_root:
            argv = ["unshare", "-m", "--propagation", "private", "sh", "-c", READ_ONLY_ROOT,
                    "sh", *argv]  # fmt: skip
            env["MLFLOW_CFN_WORKDIR"] = self.spec.working_directory
            env["MLFLOW_CFN_USER"] = self.spec.user
            env["MLFLOW_CFN_PREPARE"] = json.dumps(self.spec.prepare) if self.spec.prepare else ""
            env["PREPARE_RUNNER"] = PREPARE_RUNNER
            venv = Path(sys.prefix)
            if venv.is_relative_to("/tmp"):  # a checkout under /tmp, as CI's may be
                env["MLFLOW_CFN_KEEP"] = str(venv)
        self.process = subprocess.Popen(
            argv,
            env=env,
            cwd=self.workdir,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def wait_healthy(self, timeout: float = 120) -> float:
        """Seconds from start until /health answered 200."""
        deadline = self.started_at + timeout
        while time.monotonic() < deadline:
            self.sample()
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    if response.status == 200:
                        return time.monotonic() - self.started_at
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"/health did not answer within {timeout}s:\n{self.log()[-5000:]}")

    def process_tree(self) -> list[int]:
        """The pids of the container's processes (its session)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getsid(int(entry.name)) == self.process.pid:
                        pids.append(int(entry.name))
                except (ProcessLookupError, PermissionError):
                    continue
        return pids

    def sample(self) -> int:
        """Record the total resident memory of the process tree now; return it."""
        total = 0
        for pid in self.process_tree():
            self.pids_seen.add(pid)
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except (FileNotFoundError, ProcessLookupError):
                continue
        self.peak_rss_bytes = max(self.peak_rss_bytes, total)
        return total

    def root_mount_options(self) -> set[str]:
        """The mount options of / and /tmp as the server process sees them."""
        options = {}
        for line in Path(f"/proc/{self.process.pid}/mounts").read_text().splitlines():
            _, target, fstype, opts, *_ = line.split()
            if target in ("/", "/tmp"):
                options[target] = f"{fstype}:{opts.split(',')[0]}"
        return set(options.items())

    def command_lines(self) -> list[str]:
        """Every argument of every process of the container, as text."""
        lines = []
        for pid in self.process_tree():
            try:
                raw = Path(f"/proc/{pid}/cmdline").read_bytes()
            except (FileNotFoundError, ProcessLookupError):
                continue
            lines.append(raw.replace(b"\0", b" ").decode(errors="replace"))
        return lines

    def stop(self, timeout: float = 30) -> float:
        """SIGTERM like ECS does; SIGKILL after ``timeout``. Returns seconds to exit."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        began = time.monotonic()
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        for pid in self.process_tree():  # stragglers of the session
            os.kill(pid, signal.SIGKILL)
        return time.monotonic() - began


@contextmanager
def moto_server(module: str | None = None) -> Iterator[str]:
    """A moto S3 server on a free port (``python -m <module>`` when given, a tuned one such as
    `tests.runtime.moto_in_memory`); yields its endpoint URL."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "moto_server")]
    if module:
        command = [sys.executable, "-m", module]
    process = subprocess.Popen(
        [*command, "-H", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_open(port):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("moto_server did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def new_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="mlflow-cfn-runtime-"))


@contextmanager
def through_load_balancer(url: str, host: str) -> Iterator[None]:
    """Talk to the server at ``url`` as a client behind the ALB: MLFLOW_TRACKING_URI set (the
    proxied mlflow-artifacts:/ URIs resolve against it) and ``Host: host`` on every request.

    The load balancer passes the client's Host header on; a client reaching the task directly
    by IP would be refused by MLflow's host check, which is what we want in production.
    """
    import mlflow
    import requests

    previous_uri = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = url
    mlflow.set_tracking_uri(url)

    original = requests.Session.request

    # requests.put(...) and friends call Session.request(method=..., url=...) by keyword.
    def request(self, *args, **kwargs):
        target = kwargs.get("url", args[1] if len(args) > 1 else "")
        if str(target).startswith(url):  # not the presigned S3 URLs the server hands out
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "Host": host}
        return original(self, *args, **kwargs)

    requests.Session.request = request
    try:
        yield
    finally:
        requests.Session.request = original
        mlflow.set_tracking_uri(None)
        if previous_uri is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = previous_uri
