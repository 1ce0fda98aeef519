"""Footprint of the emitted mlflow container: start time, memory, processes, against the task size.

Run: ``.venv/bin/python -m benchmarks.footprint [--runs 3] [--clients 8] [--seconds 20]``.
Each run starts the container as the default template configures it (through the runtime tests'
harness) on a fresh local database and the S3 emulator, measures the time to /health on the
empty database, the peak total RSS of all its processes idle and under a short metric-logging
load, stops it, and starts it again on the now existing database. The median of the runs is
printed with the task memory from the template and the headroom left, and written to its section
of ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from benchmarks.load import (
    RESULTS,
    artifact_store,
    drive,
    emitted_container,
    idle_peak,
    local_database,
    machine_description,
    mib,
    template_description,
    write_section,
)
from tests.conftest import REQUIRED_PARAMETERS
from tests.runtime.harness import TEMPLATE


@dataclass(frozen=True)
class Run:
    """One run's measurements (seconds, bytes)."""

    healthy_empty: float
    healthy_existing: float
    idle_rss: int
    load_rss: int
    idle_processes: int
    processes: int
    stop_seconds: float
    requests_per_second: float
    errors: int
    other_cores: float
    database_cores: float


def task_memory_mib() -> int:
    """The task memory (MiB) of the default template's task definition."""
    from mlflow_cfn.cfn.evaluate import evaluate

    evaluated = evaluate(json.loads(TEMPLATE.read_text()), REQUIRED_PARAMETERS)
    return int(evaluated.resource("TaskDefinition")["Properties"]["Memory"])


def measure(number: int, clients: int, seconds: float, s3_endpoint: str) -> Run:
    """One run: first start on an empty database, idle, load, stop, restart on it."""
    with local_database(f"fp{number}") as db:
        first = emitted_container(db, s3_endpoint, {})
        first.start()
        try:
            healthy_empty = first.wait_healthy()
            idle_processes = idle_peak(first).processes
            idle_rss = first.peak_rss_bytes  # from start to the end of the idle window
            load = drive(first, writers=clients, searchers=0, seconds=seconds)
        finally:
            stop_seconds = first.stop()
        second = emitted_container(db, s3_endpoint, {})
        second.start()
        try:
            healthy_existing = second.wait_healthy()
        finally:
            second.stop()
    run = Run(
        healthy_empty=healthy_empty,
        healthy_existing=healthy_existing,
        idle_rss=idle_rss,
        load_rss=load.peak_rss_bytes,
        idle_processes=idle_processes,
        processes=load.processes,
        stop_seconds=stop_seconds,
        requests_per_second=load.requests_per_second,
        errors=load.errors,
        other_cores=load.other_cpu / load.seconds,
        database_cores=load.database_cpu / load.seconds,
    )
    print(
        f"run {number}: /health {healthy_empty:.1f}s empty, {healthy_existing:.1f}s existing; "
        f"RSS {mib(run.idle_rss):.0f} MiB idle, {mib(run.load_rss):.0f} MiB under load "
        f"({run.idle_processes} processes idle, {run.processes} under load, "
        f"{load.requests_per_second:.0f} req/s, {load.errors} errors); "
        f"stopped in {stop_seconds:.1f}s",
        flush=True,
    )
    return run


def report(runs: list[Run], clients: int, seconds: float, memory_mib: int) -> str:
    """The median of the runs as a Markdown table, with the task memory and the headroom."""
    median = statistics.median
    peak = max(median([mib(r.idle_rss) for r in runs]), median([mib(r.load_rss) for r in runs]))
    rows = [
        ("time to /health, empty database", f"{median([r.healthy_empty for r in runs]):.1f} s"),
        (
            "time to /health, existing database (restart)",
            f"{median([r.healthy_existing for r in runs]):.1f} s",
        ),
        ("peak RSS, all processes, idle", f"{median([mib(r.idle_rss) for r in runs]):.0f} MiB"),
        (
            f"peak RSS, all processes, {clients} clients logging metrics for {seconds:g} s",
            f"{median([mib(r.load_rss) for r in runs]):.0f} MiB",
        ),
        ("processes, idle", f"{median([r.idle_processes for r in runs]):.0f}"),
        ("processes, under load", f"{median([r.processes for r in runs]):.0f}"),
        ("requests/s during that load", f"{median([r.requests_per_second for r in runs]):.0f}"),
        ("errors during that load", f"{median([r.errors for r in runs]):.0f}"),
        (
            "CPU used by PostgreSQL during that load",
            f"{median([r.database_cores for r in runs]):.2f} cores",
        ),
        (
            "CPU used by other work on the machine during that load",
            f"{median([r.other_cores for r in runs]):.2f} cores",
        ),
        ("time to stop after SIGTERM", f"{median([r.stop_seconds for r in runs]):.1f} s"),
        ("task memory (TaskDefinition.Memory, default template)", f"{memory_mib} MiB"),
        (
            "headroom: task memory less the higher peak, in % of task memory",
            f"{(memory_mib - peak) / memory_mib * 100:.0f} %",
        ),
    ]
    lines = [
        machine_description(),
        "",
        template_description(),
        "",
        f"Default parameters; median of {len(runs)} runs, each on a fresh database. Idle: from "
        "start to 10 s after /health. Clients and server share this machine's cores.",
        "",
        "| measure | median |",
        "|---|---:|",
        *(f"| {name} | {value} |" for name, value in rows),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure ``--runs`` times, print the per-run lines and the median table, write it."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.footprint", description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8, help="metric-logging clients")
    parser.add_argument("--seconds", type=float, default=20, help="length of the load")
    parser.add_argument("--results", type=Path, default=RESULTS, help="Markdown file to update")
    args = parser.parse_args(argv)
    memory = task_memory_mib()
    with artifact_store() as s3_endpoint:
        runs = [
            measure(n, args.clients, args.seconds, s3_endpoint) for n in range(1, args.runs + 1)
        ]
    body = report(runs, args.clients, args.seconds, memory)
    print(body)
    write_section("Footprint of the emitted container", body, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
