"""Where a command's results go: the file named by ``--output``, and error lines on standard
error. Shared by the commands, so they refuse a bad path and report bad input the same way."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from mlflow_cfn.commands import CliError


def write_file(output: str, content: str | bytes) -> None:
    """Write `content` to the file `output`, creating its folder; CliError naming ``--output`` if
    it is a directory or cannot be written."""
    path = Path(output)
    if path.is_dir():
        raise CliError(f"--output {output} is a directory; give a file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        else:
            path.write_bytes(content)
    except OSError as exc:
        raise CliError(f"--output {output}: cannot write it: {exc.strerror or exc}") from None


def report_errors(command: str, errors: Iterable[str]) -> int:
    """Print each error as one ``mlflow-cfn COMMAND: error`` line on standard error; return the
    exit code of bad input, 2."""
    for error in errors:
        print(f"mlflow-cfn {command}: {error}", file=sys.stderr)
    return 2
