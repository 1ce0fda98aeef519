"""Shared fixtures: the default template, built once, and cfn-lint in-process."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from mlflow_cfn import StackOptions, build_template
from mlflow_cfn.cfn.render import to_dict

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"

#: Values for the Parameters that have no default: enough for any evaluation of the template.
REQUIRED_PARAMETERS = {
    "VpcId": "vpc-0123456789abcdef0",
    "LoadBalancerSubnetIds": "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
    "ServiceSubnetIds": "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
    "DatabaseSubnetIds": "subnet-0cccccccccccccccc,subnet-0dddddddddddddddd",
    "LoadBalancerIngressCidrs": "10.0.0.0/8",
}


def unavailable(reason: str) -> None:
    """A tool or server the test needs is missing: skip, or fail under
    MLFLOW_CFN_REQUIRE_SERVICES=1 (CI), so CI never skips silently."""
    if os.environ.get("MLFLOW_CFN_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (MLFLOW_CFN_REQUIRE_SERVICES=1; run tests/bootstrap.sh)")
    pytest.skip(reason)


def require_dot() -> None:
    """Graphviz's ``dot`` renders the diagrams (tests/bootstrap.sh installs it)."""
    if shutil.which("dot") is None:
        unavailable("Graphviz `dot` is not installed (apt-get install graphviz)")


@pytest.fixture
def no_real_aws(monkeypatch, tmp_path):
    """Dummy credentials and no AWS configuration from the machine: nothing can reach AWS."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)


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
