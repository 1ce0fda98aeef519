"""checkov finds nothing on every committed template and on every mode rendered concretely
(checkov does not evaluate Fn::If and takes Parameter defaults, so rendered forms are what it can
judge). Every skip sits in the resource's Metadata with a written reason."""

from __future__ import annotations

import json

import pytest

from tests.checkov import checkov_by_file
from tests.conftest import TEMPLATES
from tests.template.modes import rendered
from tests.template.test_security import MODES


@pytest.fixture(scope="module")
def checkov_results(tmp_path_factory) -> dict[str, dict]:
    """checkov's summary per file, for the committed templates and each rendered mode."""
    folder = tmp_path_factory.mktemp("checkov")
    for template in TEMPLATES.glob("*.json"):
        (folder / f"committed-{template.name}").write_text(template.read_text())
    for mode, (preset, parameters) in MODES.items():
        (folder / f"mode-{mode}.json").write_text(json.dumps(rendered(preset, **parameters)))
    return checkov_by_file(folder)


def expected_files() -> list[str]:
    return sorted(
        [f"committed-{t.name}" for t in TEMPLATES.glob("*.json")]
        + [f"mode-{m}.json" for m in MODES]
    )


def test_checkov_scanned_every_template_and_mode(checkov_results):
    assert sorted(checkov_results) == expected_files()
    for name, entry in sorted(checkov_results.items()):
        print(f"{name}: passed {len(entry['passed'])}, failed {len(entry['failed'])}, "
              f"skipped {len(entry['skipped'])}")  # fmt: skip
        assert len(entry["passed"]) > 10, name


@pytest.mark.parametrize("name", expected_files())
def test_no_failed_checks(checkov_results, name):
    failed = [(check, resource) for check, resource, _ in checkov_results[name]["failed"]]
    assert failed == []


@pytest.mark.parametrize("name", expected_files())
def test_every_skip_has_a_reason_a_reviewer_can_read(checkov_results, name):
    for check, resource, result in checkov_results[name]["skipped"]:
        reason = result.get("suppress_comment", "")
        assert len(reason) > 40, (check, resource, reason)
