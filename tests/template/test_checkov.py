"""checkov finds nothing on every committed template and on every mode rendered concretely
(checkov does not evaluate Fn::If and takes Parameter defaults, so rendered forms are what it can
judge). Every skip sits in the resource's Metadata with a written reason."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, TEMPLATES
from tests.template.modes import rendered
from tests.template.test_security import MODES

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


@pytest.fixture(scope="module")
def checkov_results(tmp_path_factory) -> dict[str, dict]:
    """checkov's summary per file, for the committed templates and each rendered mode."""
    if not CHECKOV.exists():
        message = f"{CHECKOV} is missing: run tests/bootstrap.sh"
        if os.environ.get("MLFLOW_CFN_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("checkov")
    for template in TEMPLATES.glob("*.json"):
        (folder / f"committed-{template.name}").write_text(template.read_text())
    for mode, (preset, parameters) in MODES.items():
        (folder / f"mode-{mode}.json").write_text(json.dumps(rendered(preset, **parameters)))
    result = subprocess.run(
        [str(CHECKOV), "-d", str(folder), "--framework", "cloudformation", "--skip-download",
         "--output", "json"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    by_file: dict[str, dict] = {}
    for report in reports:
        for kind in ("passed_checks", "failed_checks", "skipped_checks"):
            for check in report["results"].get(kind, []):
                name = Path(check["file_path"]).name
                entry = by_file.setdefault(name, {"passed": 0, "failed": [], "skipped": []})
                if kind == "passed_checks":
                    entry["passed"] += 1
                else:
                    entry[kind.split("_")[0]].append(
                        (check["check_id"], check["resource"], check.get("check_result", {}))
                    )
    return by_file


def expected_files() -> list[str]:
    return sorted(
        [f"committed-{t.name}" for t in TEMPLATES.glob("*.json")]
        + [f"mode-{m}.json" for m in MODES]
    )


def test_checkov_scanned_every_template_and_mode(checkov_results):
    assert sorted(checkov_results) == expected_files()
    for name, entry in sorted(checkov_results.items()):
        print(f"{name}: passed {entry['passed']}, failed {len(entry['failed'])}, "
              f"skipped {len(entry['skipped'])}")  # fmt: skip
        assert entry["passed"] > 10, name


@pytest.mark.parametrize("name", expected_files())
def test_no_failed_checks(checkov_results, name):
    failed = [(check, resource) for check, resource, _ in checkov_results[name]["failed"]]
    assert failed == []


@pytest.mark.parametrize("name", expected_files())
def test_every_skip_has_a_reason_a_reviewer_can_read(checkov_results, name):
    for check, resource, result in checkov_results[name]["skipped"]:
        reason = result.get("suppress_comment", "")
        assert len(reason) > 40, (check, resource, reason)
