"""Load benchmark: the server as the emitted template configures it against MLflow's defaults.

Run: ``.venv/bin/python -m benchmarks.load [--seconds 60] [--clients 16] [--searchers 2]``.
Not part of the test suite. Each configuration gets a fresh database on the local PostgreSQL and
the same load from separate client processes: writers that each create a run and log batches of
10 metrics in a loop, and searchers running search_runs. Every request goes to 127.0.0.1 with the
load balancer's Host header; every loop stops at a deadline. The Markdown table is printed and
written to its section of ``benchmarks/results.md``, with the machine description.

``benchmarks.footprint`` reuses the database, artifact store, server and load helpers here.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import multiprocessing
import os
import platform
import statistics
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.sections import RESULTS, write_section
from tests.runtime.conftest import LocalDatabase, s3_client
from tests.runtime.harness import (
    BUCKET,
    HOSTILE_PASSWORD,
    LB_DNS_NAME,
    ROOT,
    SECRET_ARN,
    TEMPLATE,
    ContainerSpec,
    LocalContainer,
    free_port,
    moto_server,
    new_workdir,
    render_container,
)

#: The Host header clients send: the load balancer's DNS name as browsers and clients write it.
HOST = LB_DNS_NAME.lower()
ARTIFACT_PREFIX = "artifacts"
METRICS_PER_BATCH = 10
SEARCH_PAGE = 50
REQUEST_TIMEOUT_SECONDS = 30
SAMPLE_INTERVAL_SECONDS = 0.25
#: Seconds the server sits idle after /health before the load starts.
IDLE_SECONDS = 10
HEALTHY_TIMEOUT_SECONDS = 180


# --- local services ---------------------------------------------------------------------------


def _admin_connection() -> Any:
    """A superuser connection to the local PostgreSQL (trust auth), checked like the tests do."""
    import psycopg2

    try:
        conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    except psycopg2.OperationalError as exc:
        raise SystemExit(
            f"cannot connect to PostgreSQL on 127.0.0.1:5432 as postgres: {exc}"
        ) from None
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SHOW ssl")
        if cur.fetchone()[0] != "on":
            raise SystemExit("the local PostgreSQL has no TLS (run tests/bootstrap.sh)")
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = 'mlflow_cfn_test'")
        if cur.fetchone() is None:
            raise SystemExit("role mlflow_cfn_test is missing (run tests/bootstrap.sh)")
    return conn


@contextmanager
def local_database(label: str) -> Iterator[LocalDatabase]:
    """A fresh database and password-checked user (as in the runtime tests); dropped afterwards."""
    from psycopg2 import sql

    suffix = f"{label}_{os.getpid()}_{time.monotonic_ns() % 10**8}"
    name = f"mlflow_bm_{suffix}"
    db = LocalDatabase("127.0.0.1", 5432, name, name, HOSTILE_PASSWORD)
    admin = _admin_connection()
    try:
        with admin.cursor() as cur:
            cur.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE mlflow_cfn_test").format(
                    sql.Identifier(db.user), sql.Literal(db.password)
                )
            )
            cur.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(db.name), sql.Identifier(db.user)
                )
            )
        yield db
    finally:
        with admin.cursor() as cur:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db.name))
            )
            cur.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(db.user)))
        admin.close()


@contextmanager
def artifact_store() -> Iterator[str]:
    """A moto S3 server holding the artifact bucket; yields its endpoint URL."""
    with moto_server() as endpoint:
        s3_client(endpoint).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield endpoint


# --- servers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerConfig:
    """One way of running the server: from the emitted template, or plain ``mlflow server``."""

    name: str
    parameters: dict[str, str] | None  # template parameters; None: MLflow's own defaults
    overrides: dict[str, str]


def emitted_container(
    db: LocalDatabase,
    s3_endpoint: str,
    parameters: dict[str, str],
    overrides: dict[str, str] | None = None,
) -> LocalContainer:
    """The template's mlflow container for these parameters, on ``db`` and the S3 emulator."""
    spec = render_container(parameters, db_host=db.host, db_port=db.port)
    return LocalContainer(
        spec=spec,
        secret_values={SECRET_ARN: {"username": db.user, "password": db.password}},
        overrides={
            "MLFLOW_CFN_DB_NAME": db.name,
            "MLFLOW_PORT": str(free_port()),
            "MLFLOW_S3_ENDPOINT_URL": s3_endpoint,
            **(overrides or {}),
        },
        workdir=new_workdir(),
    )


def defaults_container(db: LocalDatabase, s3_endpoint: str) -> LocalContainer:
    """``mlflow server`` with its own defaults (4 workers, job runner on) on the same stores.

    Only what it needs to serve the same clients is set: the Host they send and the S3 emulator.
    Telemetry is switched off as in the emitted configuration: this machine has no network."""
    port, workdir = str(free_port()), new_workdir()
    user = urllib.parse.quote(db.user, safe="")
    password = urllib.parse.quote(db.password, safe="")
    uri = f"postgresql+psycopg2://{user}:{password}@{db.host}:{db.port}/{db.name}?sslmode=require"
    spec = ContainerSpec(
        entry_point=["mlflow", "server"],
        command=[
            "--backend-store-uri",
            uri,
            "--artifacts-destination",
            f"s3://{BUCKET}/{ARTIFACT_PREFIX}",
            "--host",
            "127.0.0.1",
            "--port",
            port,
        ],
        environment={
            "MLFLOW_PORT": port,
            "MLFLOW_SERVER_ALLOWED_HOSTS": HOST,
            "MLFLOW_S3_ENDPOINT_URL": s3_endpoint,
            "AWS_DEFAULT_REGION": "eu-west-1",
            "MLFLOW_DISABLE_TELEMETRY": "true",
        },
        secrets={},
        health_check=[],
        working_directory=str(workdir),
    )
    return LocalContainer(spec=spec, secret_values={}, overrides={}, workdir=workdir)


def server_for(config: ServerConfig, db: LocalDatabase, s3_endpoint: str) -> LocalContainer:
    """Build the server process for ``config`` (not started yet)."""
    if config.parameters is None:
        return defaults_container(db, s3_endpoint)
    return emitted_container(db, s3_endpoint, config.parameters, config.overrides)


def describe(server: LocalContainer) -> str:
    """Workers and job runner of a server, from its environment and arguments."""
    env = server.environment()
    workers = env.get("MLFLOW_WORKERS", "4")  # `mlflow server --help`: default 4
    jobs = env.get("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "true").lower() != "false"
    pool = env.get("MLFLOW_SQLALCHEMYSTORE_POOLCLASS", "QueuePool")
    return f"{workers} worker(s), job runner {'on' if jobs else 'off'}, {pool}"


# --- load -------------------------------------------------------------------------------------


def _request(conn: http.client.HTTPConnection, path: str, body: dict[str, Any]) -> dict:
    """POST a JSON body with the load balancer's Host header; the decoded reply, or an error."""
    data = json.dumps(body).encode()
    headers = {"Host": HOST, "Content-Type": "application/json"}
    conn.request("POST", path, body=data, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status} on {path}: {payload[:200]!r}")
    return json.loads(payload)


def _client(
    kind: str,
    port: int,
    experiment_id: str,
    seconds: float,
    barrier: Any,
    results: Any,
) -> None:
    """One client process: set up, wait for all others, then loop until the deadline.

    Puts (kind, latencies of the requests completed before the deadline, error count, first
    error, CPU-seconds used from the start signal on)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS)
    if kind == "writer":
        run = _request(conn, "/api/2.0/mlflow/runs/create", {"experiment_id": experiment_id})
        run_id = run["run"]["info"]["run_id"]
    barrier.wait()
    cpu_at_start = time.process_time()
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    errors, first_error, step = 0, "", 0
    while time.monotonic() < deadline:
        if kind == "writer":
            now = int(time.time() * 1000)
            metrics = [
                {"key": f"m{i}", "value": step * 0.001 + i, "timestamp": now, "step": step}
                for i in range(METRICS_PER_BATCH)
            ]
            path, body = "/api/2.0/mlflow/runs/log-batch", {"run_id": run_id, "metrics": metrics}
        else:
            path = "/api/2.0/mlflow/runs/search"
            body = {"experiment_ids": [experiment_id], "max_results": SEARCH_PAGE}
        began = time.monotonic()
        try:
            _request(conn, path, body)
        except (OSError, RuntimeError, http.client.HTTPException, ValueError) as exc:
            errors += 1
            first_error = first_error or f"{type(exc).__name__}: {exc}"
            conn.close()  # reconnect on the next request
        else:
            if time.monotonic() <= deadline:
                latencies.append(time.monotonic() - began)
        step += 1
    conn.close()
    results.put((kind, latencies, errors, first_error, time.process_time() - cpu_at_start))


@dataclass(frozen=True)
class LoadResult:
    """What one load run measured (seconds are wall-clock, CPU in CPU-seconds)."""

    seconds: float
    latencies: list[float]
    errors: int
    first_error: str
    peak_rss_bytes: int
    processes: int
    server_cpu: float
    client_cpu: float
    database_cpu: float  # every PostgreSQL process on the machine
    first_cpu: float  # the container's first process (the emitted start-up script's supervisor)
    other_cpu: float  # everything else the machine ran meanwhile

    @property
    def requests_per_second(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile_ms(self, percent: int) -> float:
        """A latency percentile in milliseconds (nan without at least two requests)."""
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100)[percent - 1] * 1000

    @property
    def server_cpu_ms_per_request(self) -> float:
        return self.server_cpu / max(len(self.latencies), 1) * 1000


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _busy_cpu_seconds() -> float:
    """CPU-seconds the whole machine has spent busy (not idle or waiting) since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / CLOCK_TICKS


def _cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """User + system CPU-seconds of one process so far (0 if it is gone), with those of its
    exited children it has waited for if ``reaped_children``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    fields = [int(v) for v in stat.rsplit(")", 1)[1].split()[11:15]]
    return sum(fields if reaped_children else fields[:2]) / CLOCK_TICKS


def _database_cpu_seconds() -> float:
    """CPU-seconds of the local PostgreSQL so far: its live processes plus the backends that
    have exited (counted in the postmaster's reaped-children time; NullPool makes many)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        try:
            is_postgres = entry.name.isdigit() and (entry / "comm").read_text() == "postgres\n"
        except (FileNotFoundError, ProcessLookupError):
            continue
        if is_postgres:
            total += _cpu_seconds(int(entry.name), reaped_children=True)
    return total


@dataclass
class Window:
    """Peak memory, most processes and CPU of a server over a time window, sampled by a
    background thread; the machine's busy time over the same window."""

    server: LocalContainer
    peak_rss_bytes: int = 0
    processes: int = 0
    began: float = 0.0
    busy_at_start: float = 0.0
    database_at_start: float = 0.0
    cpu_at_start: dict[int, float] = field(default_factory=dict)
    cpu_last: dict[int, float] = field(default_factory=dict)

    def sample(self) -> None:
        """Record the server's memory, process count and per-process CPU now."""
        self.peak_rss_bytes = max(self.peak_rss_bytes, self.server.sample())
        pids = self.server.process_tree()
        self.processes = max(self.processes, len(pids))
        for pid in pids:
            self.cpu_last[pid] = max(self.cpu_last.get(pid, 0.0), _cpu_seconds(pid))

    def server_cpu(self) -> float:
        """CPU-seconds the server's processes used in the window so far."""
        return sum(last - self.cpu_at_start.get(pid, 0.0) for pid, last in self.cpu_last.items())

    def busy_cpu(self) -> float:
        """CPU-seconds the whole machine used in the window so far."""
        return _busy_cpu_seconds() - self.busy_at_start

    def database_cpu(self) -> float:
        """CPU-seconds the local PostgreSQL used in the window so far."""
        return _database_cpu_seconds() - self.database_at_start

    def first_cpu(self) -> float:
        """CPU-seconds the container's first process used in the window so far."""
        pid = self.server.process.pid
        return self.cpu_last.get(pid, 0.0) - self.cpu_at_start.get(pid, 0.0)


@contextmanager
def sampling(server: LocalContainer) -> Iterator[Window]:
    """Sample ``server`` every SAMPLE_INTERVAL_SECONDS in the background while the block runs."""
    window = Window(
        server,
        began=time.monotonic(),
        busy_at_start=_busy_cpu_seconds(),
        database_at_start=_database_cpu_seconds(),
    )
    window.cpu_at_start = {pid: _cpu_seconds(pid) for pid in server.process_tree()}
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            window.sample()
            stop.wait(SAMPLE_INTERVAL_SECONDS)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield window
    finally:
        stop.set()
        thread.join()
        window.sample()


def idle_peak(server: LocalContainer, seconds: float = IDLE_SECONDS) -> Window:
    """The sampled window of a server left alone for ``seconds``."""
    with sampling(server) as window:
        time.sleep(seconds)
    return window


def drive(server: LocalContainer, *, writers: int, searchers: int, seconds: float) -> LoadResult:
    """Run ``writers`` + ``searchers`` client processes against ``server`` for ``seconds``."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=REQUEST_TIMEOUT_SECONDS)
    name = f"load-{time.time_ns()}"
    experiment_id = _request(conn, "/api/2.0/mlflow/experiments/create", {"name": name})
    conn.close()
    # Forked before the sampler thread starts: the clients inherit the imports and re-import
    # nothing (the package may be mid-edit; spawn would re-import it in every client).
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(writers + searchers + 1)
    results = context.Queue()
    kinds = ["writer"] * writers + ["searcher"] * searchers
    clients = [
        context.Process(
            target=_client,
            args=(kind, server.port, experiment_id["experiment_id"], seconds, barrier, results),
        )
        for kind in kinds
    ]
    for client in clients:
        client.start()
    barrier.wait(timeout=120)
    with sampling(server) as window:
        outcomes = [results.get(timeout=seconds + 2 * REQUEST_TIMEOUT_SECONDS) for _ in clients]
    elapsed = time.monotonic() - window.began
    for client in clients:
        client.join()
    client_cpu = sum(outcome[4] for outcome in outcomes)
    server_cpu, database_cpu = window.server_cpu(), window.database_cpu()
    return LoadResult(
        seconds=min(elapsed, seconds),
        latencies=[latency for outcome in outcomes for latency in outcome[1]],
        errors=sum(outcome[2] for outcome in outcomes),
        first_error=next((outcome[3] for outcome in outcomes if outcome[3]), ""),
        peak_rss_bytes=window.peak_rss_bytes,
        processes=window.processes,
        server_cpu=server_cpu,
        client_cpu=client_cpu,
        database_cpu=database_cpu,
        first_cpu=window.first_cpu(),
        other_cpu=max(window.busy_cpu() - server_cpu - client_cpu - database_cpu, 0.0),
    )


# --- report -----------------------------------------------------------------------------------


def machine_description() -> str:
    """nproc, memory, CPU model, OS and date, as one Markdown line."""
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "?")
    import mlflow

    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Machine: `nproc` = {os.cpu_count()}, {total_kib / 2**20:.1f} GiB memory, CPU {model}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"MLflow {mlflow.__version__}, PostgreSQL on 127.0.0.1; {date}."
    )


def template_description() -> str:
    """Which template was measured: its hash, the commit, and whether it differs from it."""
    import hashlib
    import subprocess

    digest = hashlib.sha256(TEMPLATE.read_bytes()).hexdigest()[:12]

    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return result.stdout.strip()

    changed = " with uncommitted changes" if git("status", "--porcelain", str(TEMPLATE)) else ""
    return (
        f"Template: `{TEMPLATE.relative_to(ROOT)}` sha256 {digest}, commit "
        f"{git('rev-parse', '--short', 'HEAD') or '?'}{changed}."
    )


def mib(value: int) -> float:
    """Bytes in MiB."""
    return value / 2**20


@dataclass(frozen=True)
class Row:
    """One configuration's measurements."""

    config: ServerConfig
    setup: str
    load: LoadResult
    peak_rss_bytes: int  # from start to the end of the load

    def metrics(self) -> dict[str, float]:
        """The compared metrics, by column name."""
        gib = self.peak_rss_bytes / 2**30
        return {
            "requests/s": self.load.requests_per_second,
            "p50 ms": self.load.percentile_ms(50),
            "p95 ms": self.load.percentile_ms(95),
            "errors": float(self.load.errors),
            "peak RSS MiB": mib(self.peak_rss_bytes),
            "requests/s per GiB": self.load.requests_per_second / gib,
            "server CPU ms/request": self.load.server_cpu_ms_per_request,
        }

    def context(self) -> list[str]:
        """Columns that explain the metrics: processes and where the CPU went (in cores)."""
        seconds = self.load.seconds
        return [
            str(self.load.processes),
            f"{self.load.server_cpu / seconds:.2f}",
            f"{self.load.first_cpu / max(len(self.load.latencies), 1) * 1000:.3f}",
            f"{self.load.client_cpu / seconds:.2f}",
            f"{self.load.database_cpu / seconds:.2f}",
            f"{self.load.other_cpu / seconds:.2f}",
        ]


def table(rows: list[Row], baseline: Row) -> str:
    """The measurements and, below, each configuration's ratio to ``baseline`` per metric."""
    names = list(baseline.metrics())
    context = ["processes", "server cores", "first process CPU ms/request", "client cores"]
    context += ["PostgreSQL cores", "other cores"]
    lines = [
        f"| configuration | server | {' | '.join(names + context)} |",
        "|---|---|" + "---:|" * (len(names) + len(context)),
    ]
    for row in rows:
        values = row.metrics()
        cells = [f"{values[n]:.0f}" if n == "errors" else f"{values[n]:.1f}" for n in names]
        lines.append(f"| {row.config.name} | {row.setup} | {' | '.join(cells + row.context())} |")
    lines += [
        "",
        f"Ratio to **{baseline.config.name}** (configuration / defaults):",
        "",
        "| configuration | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    base = baseline.metrics()
    for row in rows:
        if row is baseline:
            continue
        values = row.metrics()
        cells = [
            f"{values[n]:.0f} vs {base[n]:.0f}" if n == "errors" else f"{values[n] / base[n]:.2f}"
            for n in names
        ]
        lines.append(f"| {row.config.name} | {' | '.join(cells)} |")
    return "\n".join(lines)


SPREAD_METRICS = ("requests/s", "server CPU ms/request")


def spread(rounds: list[list[Row]]) -> str:
    """Each configuration's ratio to the defaults (the last row) in every round, and their
    median: how far one round's ratios can be trusted on this machine."""
    lines = [
        f"Ratio to the defaults in each of {len(rounds)} rounds (the configurations of a round "
        "measured one after the other), and the median:",
        "",
        "| configuration | " + " | ".join(SPREAD_METRICS) + " |",
        "|---|" + "---|" * len(SPREAD_METRICS),
    ]
    for index, row in enumerate(rounds[0][:-1]):
        cells = []
        for name in SPREAD_METRICS:
            ratios = [r[index].metrics()[name] / r[-1].metrics()[name] for r in rounds]
            each = ", ".join(f"{ratio:.2f}" for ratio in ratios)
            cells.append(f"{each} (median {statistics.median(ratios):.2f})")
        lines.append(f"| {row.config.name} | {' | '.join(cells)} |")
    return "\n".join(lines)


def _compare(value: float, base: float) -> str:
    """``fewer``/``more`` and the ratio of ``value`` to ``base``, with both numbers."""
    word = "fewer" if value < base else "more"
    return f"{word}: {value:.1f} against {base:.1f} ({value / base:.2f}x)"


def verdict(rows: list[Row], baseline: Row) -> str:
    """One plain sentence per configuration: its requests/s per GiB and requests/s against the
    defaults, saying "fewer" where it does fewer."""
    base = baseline.metrics()
    sentences = []
    for row in rows:
        if row is baseline:
            continue
        values = row.metrics()
        sentences.append(
            f"- **{row.config.name}**: requests/s per GiB "
            f"{_compare(values['requests/s per GiB'], base['requests/s per GiB'])}; requests/s "
            f"{_compare(values['requests/s'], base['requests/s'])}; peak RSS "
            f"{values['peak RSS MiB']:.0f} MiB against {base['peak RSS MiB']:.0f} MiB."
        )
    return "\n".join(sentences)


def _time_template(emit: Callable[[], Any]) -> tuple[float, float, int]:
    """Seconds to build one template, seconds to lint it, number of cfn-lint findings."""
    from cfnlint.api import lint

    from mlflow_cfn.cfn.render import to_dict

    began = time.perf_counter()
    text = json.dumps(to_dict(emit()))
    built = time.perf_counter()
    findings = lint(text)
    return built - began, time.perf_counter() - built, len(findings)


def synthesis_times() -> str:
    """Seconds to build and to lint (cfn-lint in-process) every template in templates/, as a
    Markdown table: the first pass (cold caches) and the best of two more. A template that cannot
    be built is reported in its row with the error, not left out."""
    from tests.template.test_golden import EMITTERS

    committed = sorted(p.name for p in (ROOT / "templates").glob("*.json"))
    lines = [
        "| template | build s (first) | lint s (first) | build s (best of 2 more) "
        "| lint s (best of 2 more) | cfn-lint findings |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    total = 0.0
    for name in committed:
        if name not in EMITTERS:
            lines.append(f"| {name} | no emitter in tests/template/test_golden.py | | | | |")
            continue
        try:
            passes = [_time_template(EMITTERS[name][1]) for _ in range(3)]
        except Exception as exc:  # the table says which template failed and why
            error = str(exc).splitlines()[0] if str(exc) else ""
            lines.append(f"| {name} | failed: {type(exc).__name__}: {error[:160]} | | | | |")
            continue
        total += passes[0][0] + passes[0][1]
        lines.append(
            f"| {name} | {passes[0][0]:.2f} | {passes[0][1]:.2f} "
            f"| {min(p[0] for p in passes[1:]):.2f} | {min(p[1] for p in passes[1:]):.2f} "
            f"| {passes[0][2]} |"
        )
    lines.append(f"\nFirst build + lint of every template that builds: {total:.1f} s.")
    return "\n".join(lines)


# --- main -------------------------------------------------------------------------------------


def configurations() -> list[ServerConfig]:
    """The configurations compared; the last one (MLflow's defaults) is the baseline."""
    return [
        ServerConfig("emitted default (TaskCpu=512, TaskMemory=1024)", {}, {}),
        ServerConfig(
            "emitted TaskCpu=1024, TaskMemory=2048", {"TaskCpu": "1024", "TaskMemory": "2048"}, {}
        ),
        ServerConfig(
            "emitted default + NullPool", {}, {"MLFLOW_SQLALCHEMYSTORE_POOLCLASS": "NullPool"}
        ),
        ServerConfig("mlflow server defaults", None, {}),
    ]


def measure(config: ServerConfig, args: argparse.Namespace, s3_endpoint: str) -> Row:
    """Start ``config`` on a fresh database, let it idle, load it, stop it."""
    label = "".join(c for c in config.name.lower() if c.isalnum())[:16]
    with local_database(label) as db:
        server = server_for(config, db, s3_endpoint)
        # The emitted container runs as ECS runs it (read-only root); the defaults as a process.
        server.start(read_only_root=config.parameters is not None)
        try:
            healthy = server.wait_healthy(HEALTHY_TIMEOUT_SECONDS)
            idle_peak(server)
            result = drive(
                server, writers=args.clients, searchers=args.searchers, seconds=args.seconds
            )
            setup = describe(server)
        finally:
            server.stop()
    print(
        f"{config.name}: healthy after {healthy:.1f}s, {result.requests_per_second:.1f} req/s, "
        f"{result.errors} errors {result.first_error}".rstrip(),
        flush=True,
    )
    return Row(config, setup, result, server.peak_rss_bytes)


def main(argv: list[str] | None = None) -> int:
    """Measure every configuration, print the table and write it to the results file."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60, help="load per configuration")
    parser.add_argument("--clients", type=int, default=16, help="metric-logging clients")
    parser.add_argument("--searchers", type=int, default=2, help="search_runs clients")
    parser.add_argument("--results", type=Path, default=RESULTS, help="Markdown file to update")
    parser.add_argument(
        "--rounds", type=int, default=1, help="measure every configuration this many times, "
        "one after the other; the tables show the first round, the spread table every round"
    )  # fmt: skip
    args = parser.parse_args(argv)

    with artifact_store() as s3_endpoint:
        rounds = [
            [measure(config, args, s3_endpoint) for config in configurations()]
            for _ in range(args.rounds)
        ]
    rows = rounds[0]
    baseline = rows[-1]
    body = "\n\n".join(
        [
            machine_description(),
            template_description(),
            f"Load per configuration: {args.clients} clients each creating a run and logging "
            f"batches of {METRICS_PER_BATCH} metrics (log-batch) in a loop, plus "
            f"{args.searchers} clients running search_runs ({SEARCH_PAGE} runs per page), for "
            f"{args.seconds:g} s, after {IDLE_SECONDS} s idle; each configuration on a fresh "
            "database, one after the other. Clients and servers share this machine's "
            f"{os.cpu_count()} cores, and the servers are not limited to their task's CPU "
            "size: the numbers compare configurations with each other, they do not predict "
            "Fargate throughput. Peak RSS is the total of all the server's processes from "
            "start to the end of the load; requests/s counts only successful requests. Server "
            "CPU ms/request is the CPU time of all the server's processes per request, the "
            "measure least disturbed by the shared machine; the first process CPU ms/request is "
            "the part of it spent by the container's first process (the start-up script's "
            "supervisor in the emitted configurations, the `mlflow server` command that started "
            "uvicorn in the defaults); the other columns say where the machine's CPU went during "
            "the load (in cores): the server, the clients, the local PostgreSQL, and everything "
            "else running on this machine at the time.",
            table(rows, baseline),
            verdict(rows, baseline),
            *([spread(rounds)] if len(rounds) > 1 else []),
        ]
    )
    print(body)
    write_section("Load: emitted configuration against MLflow's defaults", body, args.results)
    synthesis = synthesis_times()
    print(synthesis)
    write_section("Synthesis: build and lint every template", synthesis, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
