"""Shared fixtures: the default template, built once, and cfn-lint in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlflow_cfn import StackOptions, build_template
from mlflow_cfn.template import to_dict

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


@pytest.fixture(scope="session")
def default_template() -> dict:
    """The default template as JSON data."""
    return to_dict(build_template(StackOptions()))


def lint(template: dict, *, informational: bool = False) -> list[str]:
    """cfn-lint findings (errors and warnings, plus informational ones on request)."""
    from cfnlint.api import ManualArgs
    from cfnlint.api import lint as cfn_lint

    config = ManualArgs(include_checks=["I"]) if informational else None
    return [str(m) for m in cfn_lint(json.dumps(template), config=config)]
