"""checkov finds nothing on the committed network template and on every mode rendered concretely
(checkov takes Parameter defaults and does not evaluate Fn::If); every skip has a reason."""

from __future__ import annotations

import json

import pytest

from tests.checkov import checkov_by_file
from tests.conftest import TEMPLATES
from tests.network.modes import MODES, rendered

FILES = ["committed-network.json", *(f"mode-{m}.json" for m in sorted(MODES))]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, dict]:
    """checkov's passed, failed and skipped checks per file."""
    folder = tmp_path_factory.mktemp("checkov-network")
    (folder / FILES[0]).write_text((TEMPLATES / "network.json").read_text())
    for mode, parameters in MODES.items():
        (folder / f"mode-{mode}.json").write_text(json.dumps(rendered(**parameters)))
    return checkov_by_file(folder)


def test_checkov_scanned_every_mode(results):
    assert sorted(results) == sorted(FILES)
    for entry in results.values():
        assert len(entry["passed"]) > 10


@pytest.mark.parametrize("name", FILES)
def test_no_failed_checks(results, name):
    assert [(c, r) for c, r, _ in results[name]["failed"]] == []


@pytest.mark.parametrize("name", FILES)
def test_checkov_checks_the_keys_and_log_groups(results, name):
    passed = {(c, r.split(".")[-1]) for c, r, _ in results[name]["passed"]}
    assert {("CKV_AWS_7", "LogsKey"), ("CKV_AWS_158", "FlowLogGroup"),
            ("CKV_AWS_66", "FlowLogGroup")} <= passed  # fmt: skip


@pytest.mark.parametrize("name", FILES)
def test_skips_are_the_functions_with_reasons(results, name):
    skipped = results[name]["skipped"]
    assert {r.split(".")[-1] for _, r, _ in skipped} == {"DefaultSecurityGroupRestrictionFunction"}
    for check, resource, result in skipped:
        assert len(result.get("suppress_comment", "")) > 40, (check, resource)
