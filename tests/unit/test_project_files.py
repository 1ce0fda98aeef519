"""The project's basics hold together: ``--version`` prints the package version, the changelog
names that version as a release in Keep a Changelog's form, and LICENSE is the Apache-2.0 text
pyproject.toml declares (the wheel test checks the wheel ships it)."""

import hashlib
import re
import tomllib

import pytest

from mlflow_cfn.cli import main
from mlflow_cfn.versions import __version__
from tests.conftest import ROOT

#: sha256 of https://www.apache.org/licenses/LICENSE-2.0.txt, the license's canonical text.
APACHE_2_0_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
#: The kinds of change Keep a Changelog 1.1.0 names.
CHANGE_KINDS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}

CHANGELOG = (ROOT / "CHANGELOG.md").read_text()


def test_version_flag_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"mlflow-cfn {__version__}"


def test_the_changelog_names_this_version_as_a_release():
    releases = dict(re.findall(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d\d-\d\d)$", CHANGELOG, re.M))
    assert __version__ in releases


def test_the_changelog_keeps_its_form():
    """Unreleased first, then releases newest first, each with only Keep a Changelog's kinds."""
    headings = re.findall(r"^## \[([^\]]+)\]", CHANGELOG, re.M)
    assert headings[0] == "Unreleased"
    versions = [tuple(int(part) for part in v.split(".")) for v in headings[1:]]
    assert versions and versions == sorted(versions, reverse=True)
    assert set(re.findall(r"^### (.+)$", CHANGELOG, re.M)) <= CHANGE_KINDS


def test_the_license_is_the_apache_2_0_text_pyproject_declares():
    assert hashlib.sha256((ROOT / "LICENSE").read_bytes()).hexdigest() == APACHE_2_0_SHA256
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
