"""The ``mlflow-cfn`` console script: registers the commands of ``mlflow_cfn.commands``."""

from __future__ import annotations

import argparse
import os
import sys

from mlflow_cfn.commands import (
    CliError,
    cost,
    deploy,
    diagram,
    permissions,
    plan,
    publish,
    smoke,
    synth,
)
from mlflow_cfn.stack.options import OptionsError
from mlflow_cfn.versions import __version__

#: The commands in the order ``--help`` lists them.
COMMANDS = (synth, plan, deploy, publish, permissions, cost, diagram, smoke)


def parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    root = argparse.ArgumentParser(
        prog="mlflow-cfn",
        description="Emit, check and publish the CloudFormation template of a production "
        "MLflow server on AWS.",
    )
    root.add_argument("--version", action="version", version=f"mlflow-cfn {__version__}")
    subparsers = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return root


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except OptionsError as exc:
        for error in exc.errors:
            print(f"mlflow-cfn {args.command}: {error}", file=sys.stderr)
        return 2
    except CliError as exc:
        print(f"mlflow-cfn {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`mlflow-cfn synth | head`): stop quietly, as Unix tools do, and
        # keep Python from failing again when it flushes standard output at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by it


if __name__ == "__main__":
    sys.exit(main())
