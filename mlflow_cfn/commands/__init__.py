"""One module per ``mlflow-cfn`` command: its arguments and its output, thin over the packages
that do the work. Each module has ``register(subparsers)``; ``mlflow_cfn.cli`` calls them in
order."""

from __future__ import annotations


class CliError(Exception):
    """A usage or input error reported as one line and exit code 2."""
