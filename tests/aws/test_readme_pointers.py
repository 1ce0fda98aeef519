"""The README and the suite say the same: every check the README points at exists, every check and
unverifiable question is named in its section, every setting is listed as the gate describes it,
no "needs a real account" is left without its check, and every check of the catalogue is
recorded by the real-account module (else it could only ever read "not run")."""

from __future__ import annotations

import re

from tests.aws.acceptance import gate
from tests.aws.acceptance.report import CHECKS, UNCHECKABLE
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
HEADING = "### Acceptance in a real account (maintainers)"
KNOWN = set(CHECKS) | set(UNCHECKABLE)


def section() -> str:
    start = README.index(HEADING)
    following = README.find("\n## ", start)
    return README[start : following if following != -1 else len(README)]


def test_every_check_the_readme_points_at_exists():
    pointed = set(re.findall(r"checks? `([a-z0-9-]+)`", README))
    pointed |= set(re.findall(r"`([a-z][a-z0-9]*(?:-[a-z0-9]+)+)`", section())) - {"mlflow-cfn"}
    assert pointed, "the README points at no check"
    assert pointed <= KNOWN, pointed - KNOWN


def test_the_section_names_every_check_and_every_question():
    named = set(re.findall(r"`([a-z0-9-]+)`", section()))
    assert KNOWN - named == set()


def test_the_section_lists_every_setting_as_the_gate_describes_it():
    for name, text in gate.SETTINGS.items():
        assert f"| `{name}` | {text} |" in section(), name


def test_no_real_account_question_is_left_without_its_check():
    assert not re.search(r"needs\s+a\s+real\s+account", README, re.IGNORECASE)
    assert "not measured here" not in README


def test_every_check_is_recorded_by_the_real_account_module():
    source = (ROOT / "tests/aws/test_real_account.py").read_text()
    unrecorded = [check for check in CHECKS if f'"{check}"' not in source and check != "teardown"]
    assert unrecorded == []
    run = (ROOT / "tests/aws/acceptance/run.py").read_text()
    assert '"teardown"' in run
