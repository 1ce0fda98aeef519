"""The ``mlflow-cfn`` console script: registers the commands of ``mlflow_cfn.commands``.

Only the module of the command being run is imported: each imports what it works with (cfn-lint's
schemas, boto3, troposphere), and ``mlflow-cfn --help`` or ``synth`` should not pay for the
others' (issue 25: 0.9 s of CPU before anything was done). The other commands are registered by
name and one-line help, which is all ``--help`` and argparse's "invalid choice" need."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Iterable
from types import ModuleType

from mlflow_cfn.commands import CliError
from mlflow_cfn.stack.options import OptionsError
from mlflow_cfn.versions import __version__

#: The commands in the order ``--help`` lists them, with the help line each module registers
#: (tests/unit/test_cli_startup.py keeps the two equal).
COMMANDS = {
    "synth": "write the CloudFormation template",
    "plan": "show what a stack with these parameters would create (offline)",
    "deploy": "create or update the stack through a reviewed change set",
    "publish": "publish the template as a Service Catalog product version",
    "permissions": "print the IAM policy a person needs to run deploy or publish",
    "cost": "estimate the monthly AWS cost of a stack",
    "diagram": "draw the stack a template creates (Graphviz DOT or SVG)",
    "smoke": "prove a deployed stack works end to end with the MLflow client",
}


def command_module(name: str) -> ModuleType:
    """The module of the command ``name`` (imported now)."""
    return importlib.import_module(f"mlflow_cfn.commands.{name}")


def parser(load: Iterable[str] = COMMANDS) -> argparse.ArgumentParser:
    """The argument parser with every sub-command; those in ``load`` with all their arguments
    (their modules imported), the others by name and help line only."""
    load = set(load)
    root = argparse.ArgumentParser(
        prog="mlflow-cfn",
        description="Emit, check and publish the CloudFormation template of a production "
        "MLflow server on AWS.",
    )
    root.add_argument("--version", action="version", version=f"mlflow-cfn {__version__}")
    subparsers = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary in COMMANDS.items():
        if name in load:
            command_module(name).register(subparsers)
        else:
            subparsers.add_parser(name, help=summary)
    return root


def _command(argv: list[str]) -> str | None:
    """The command named in ``argv``: its first word not an option (the root has no option that
    takes a value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser(load={_command(argv)} & COMMANDS.keys()).parse_args(argv)
    try:
        return args.func(args)
    except OptionsError as exc:
        for error in exc.errors:
            print(f"mlflow-cfn {args.command}: {error}", file=sys.stderr)
        return 2
    except CliError as exc:
        print(f"mlflow-cfn {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: a line, not a traceback; 130 as a shell reports SIGINT
        print(f"mlflow-cfn {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`mlflow-cfn synth | head`): stop quietly, as Unix tools do, and
        # keep Python from failing again when it flushes standard output at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by it


if __name__ == "__main__":
    sys.exit(main())
