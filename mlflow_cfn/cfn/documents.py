"""Documents the way AWS users hand them over: a path, ``file://path`` (as the AWS CLI takes it) or
``-`` for standard input; JSON or YAML, CloudFormation's short-form tags (``!Ref``, ``!Sub``...)
included. Every problem is one line naming the flag and the source, never a stack trace."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from mlflow_cfn.cfn.evaluate import EvaluationError

__all__ = ["parse_document", "read_document", "read_source", "source_path"]

STDIN = "-"


def source_path(source: str | Path) -> str:
    """The file a source names: ``file://x`` and ``x`` are the same file."""
    text = str(source)
    return text.removeprefix("file://")


def read_source(source: str | Path, flag: str) -> str:
    """The text of a path, ``file://`` path or ``-`` (standard input)."""
    if str(source) == STDIN:
        return sys.stdin.read()
    path = source_path(source)
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EvaluationError([f"{flag} {source}: no such file"]) from None
    except IsADirectoryError:
        raise EvaluationError([f"{flag} {source}: is a directory, not a file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise EvaluationError([f"{flag} {source}: cannot read it: {reason}"]) from None


def parse_document(text: str, origin: str) -> Any:
    """JSON, or else YAML with CloudFormation's tags (cfn-lint's loader, which turns ``!Ref x``
    into ``{"Ref": "x"}``); EvaluationError naming ``origin`` if it is neither, or empty."""
    if not text.strip():
        raise EvaluationError([f"{origin}: empty (expected JSON or YAML)"])
    try:
        return json.loads(text)
    except ValueError as json_error:
        if text.lstrip().startswith(("{", "[")):  # meant as JSON: its error is the useful one
            raise EvaluationError([f"{origin}: not valid JSON ({json_error})"]) from None
    from cfnlint.decode.cfn_yaml import loads  # CloudFormation's YAML dialect

    try:
        return _plain(loads(text))
    except (yaml.YAMLError, ValueError) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise EvaluationError([f"{origin}: neither JSON nor YAML ({problem})"]) from None


def _plain(value: Any) -> Any:
    """cfn-lint's nodes (dict, list and str subclasses that carry line marks) as plain data."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def read_document(source: str | Path, flag: str) -> Any:
    """A JSON or YAML document from a path, ``file://`` path or ``-``."""
    return parse_document(read_source(source, flag), f"{flag} {source}")
