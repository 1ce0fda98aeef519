"""Commands pay only for what they use (issue 25, item 6): cfn-lint costs about 0.6 s of CPU to
import and boto3 about 0.1 s, so ``--help`` and ``synth`` import neither
(``python -m benchmarks.cli_startup`` measures the CPU time)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from mlflow_cfn.cli import COMMANDS, parser
from tests.conftest import ROOT

HEAVY = ("cfnlint", "boto3")

#: Runs the CLI in a fresh interpreter, then prints which of HEAVY it imported.
PROBE = """
import json, sys
from mlflow_cfn.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps([code, sorted(m for m in sys.modules if m.split(".")[0] in {heavy})]))
"""


def imported(args: list[str], cwd) -> tuple[int, list[str]]:
    """Exit code of ``mlflow-cfn ARGS`` in a fresh interpreter, and the HEAVY modules it loaded."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=set(HEAVY)), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    code, modules = json.loads(done.stdout.splitlines()[-1])
    return code, sorted({m.split(".")[0] for m in modules})


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["synth", "--help"],
        ["synth", "--output", "mlflow.json"],
        ["synth", "--network", "--output", "network.json"],
        ["bogus"],
    ],
)
def test_help_and_synth_import_neither_cfn_lint_nor_boto3(args, tmp_path):
    code, modules = imported(args, tmp_path)
    assert code in (0, 2)
    assert modules == []


def test_the_portfolio_template_still_reads_cfn_lint_schemas(tmp_path):
    """The probe sees cfn-lint where it is needed (so the test above can fail)."""
    assert imported(["synth", "--portfolio", "--output", "p.json"], tmp_path) == (0, ["cfnlint"])


def _help_lines(root: argparse.ArgumentParser) -> dict[str, str]:
    (commands,) = [a for a in root._actions if isinstance(a, argparse._SubParsersAction)]
    return {action.dest: action.help for action in commands._choices_actions}


def test_the_help_lines_listed_without_importing_are_the_commands_own():
    assert _help_lines(parser()) == COMMANDS
    assert _help_lines(parser(load=())) == COMMANDS
    assert list(_help_lines(parser(load=()))) == list(COMMANDS)
