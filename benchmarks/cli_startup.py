"""CPU time of ``mlflow-cfn`` commands that run offline, start-up included.

Run: ``.venv/bin/python -m benchmarks.cli_startup [--runs 7]``. Each command runs ``--runs``
times as a child process of the console script, with the AWS configuration files pointed at
nothing (so no profile changes the work) and its output thrown away; the CPU time (user +
system) of each run is read from ``getrusage(RUSAGE_CHILDREN)``. The median, fastest and
slowest runs are printed and written to their section of ``benchmarks/results.md``. Issue 25's
goal: ``--help`` and ``synth`` under 0.5 s of CPU (cfn-lint is imported only by what needs it).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.sections import RESULTS, write_section

ROOT = Path(__file__).resolve().parent.parent
TITLE = "CLI start-up: CPU time per command"

#: Required Parameters of the product template (placeholders; plan checks them offline).
PLAN_PARAMETERS = {
    "VpcId": "vpc-0123456789abcdef0",
    "LoadBalancerSubnetIds": "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
    "ServiceSubnetIds": "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
    "DatabaseSubnetIds": "subnet-0cccccccccccccccc,subnet-0dddddddddddddddd",
    "LoadBalancerIngressCidrs": "10.0.0.0/8",
}


def commands(parameters: Path) -> list[list[str]]:
    """The measured commands (arguments after ``mlflow-cfn``): all run without AWS."""
    return [
        ["--help"],
        ["synth"],
        ["synth", "--network"],
        ["plan", "--parameters", str(parameters), "--region", "us-east-1"],
        ["cost"],
        ["synth", "--portfolio"],
    ]


def console_script() -> list[str]:
    """The installed ``mlflow-cfn`` beside this interpreter, else the module run as a script."""
    script = Path(sys.executable).with_name("mlflow-cfn")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mlflow_cfn.cli"]


def cpu_seconds(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run ``argv`` once; its CPU seconds (user + system) and wall seconds. It must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def quiet_environment(workdir: Path) -> dict[str, str]:
    """This environment with no AWS profile, region or configuration files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = str(workdir / "absent")
    return env


def measure(runs: int) -> list[tuple[str, list[float], list[float]]]:
    """Each command's CPU and wall seconds over ``runs`` runs (Python alone first)."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        parameters = workdir / "parameters.json"
        parameters.write_text(json.dumps(PLAN_PARAMETERS))
        env = quiet_environment(workdir)
        rows = [("python -c pass (the floor)", [sys.executable, "-c", "pass"])]
        rows += [
            (
                " ".join(["mlflow-cfn", *c]).replace(str(parameters), "parameters.json"),
                console_script() + c,
            )
            for c in commands(parameters)
        ]
        results = []
        for label, argv in rows:
            times = [cpu_seconds(argv, env) for _ in range(runs)]
            results.append((label, [c for c, _ in times], [w for _, w in times]))
            print(f"{label}: {statistics.median(c for c, _ in times):.2f} s CPU", file=sys.stderr)
    return results


def report(results: list[tuple[str, list[float], list[float]]], runs: int) -> str:
    """The results section: where and what was measured, and one row per command."""
    cpuinfo = (
        Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    )
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "?")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Machine: `nproc` = {os.cpu_count()}, CPU {model}, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; commit {commit or '?'}; "
        f"{date}.",
        "",
        f"`.venv/bin/python -m benchmarks.cli_startup --runs {runs}`: each command run {runs} "
        "times as a child process, output discarded, no AWS configuration; CPU is user + system "
        "time of the process. Goal (issue 25): `--help` and `synth` under 0.5 s of CPU.",
        "",
        "| command | CPU s, median | CPU s, fastest | CPU s, slowest | wall s, median |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, cpu, wall in results:
        lines.append(
            f"| `{label}` | {statistics.median(cpu):.2f} | {min(cpu):.2f} | {max(cpu):.2f} "
            f"| {statistics.median(wall):.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cli_startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="runs per command (default: 7)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="Markdown file to update")
    args = parser.parse_args(argv)
    body = report(measure(args.runs), args.runs)
    print(body)
    write_section(TITLE, body, args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
