"""checkov run offline (``--skip-download``) on a folder of templates, its findings per file:
what the template tests and the network tests share."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import ROOT, unavailable

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def checkov_by_file(folder: Path) -> dict[str, dict[str, list]]:
    """{file name: {"passed"|"failed"|"skipped": [(check id, resource, result)]}} for every
    template in `folder`; the test fails (CI) or is skipped (elsewhere) without checkov."""
    if not CHECKOV.exists():
        unavailable(f"{CHECKOV} is missing")
    result = subprocess.run(
        [str(CHECKOV), "-d", str(folder), "--framework", "cloudformation", "--skip-download",
         "--output", "json"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    reports = json.loads(result.stdout)
    by_file: dict[str, dict[str, list]] = {}
    for report in reports if isinstance(reports, list) else [reports]:
        for kind in ("passed_checks", "failed_checks", "skipped_checks"):
            for check in report["results"].get(kind, []):
                entry = by_file.setdefault(
                    Path(check["file_path"]).name, {"passed": [], "failed": [], "skipped": []}
                )
                entry[kind.split("_")[0]].append(
                    (check["check_id"], check["resource"], check.get("check_result", {}))
                )
    return by_file
