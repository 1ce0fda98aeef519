"""One module per ``mlflow-cfn`` command: its arguments and its output, thin over the packages
that do the work. Each module has ``register(subparsers)``; ``mlflow_cfn.cli`` calls them in
order."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def seconds_argument(description: str, accepts: Callable[[float], bool]) -> Callable[[str], float]:
    """An argparse type for a number of seconds that ``accepts`` takes; otherwise the error
    "must be <description>, got '<text>'"."""

    def parse(text: str) -> float:
        try:
            seconds = float(text)
        except ValueError:
            seconds = math.nan  # accepted by no comparison
        if not accepts(seconds):
            raise argparse.ArgumentTypeError(f"must be {description}, got {text!r}")
        return seconds

    return parse


class CliError(Exception):
    """A usage or input error reported as one line and exit code 2."""
