"""The results file the benchmarks share: each script replaces only its own section."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).with_name("results.md")


def write_section(title: str, body: str, path: Path = RESULTS) -> None:
    """Replace the ``## title`` section of the results file with ``body`` (other sections kept)."""
    header = "# Benchmark results\n\nWritten by the scripts of `benchmarks/` (see its README).\n"
    text = path.read_text() if path.exists() else header
    marker = f"## {title}\n"
    section = f"{marker}\n{body.strip()}\n"
    if marker in text:
        before, rest = text.split(marker, 1)
        after = rest[rest.index("\n## ") + 1 :] if "\n## " in rest else ""
        text = f"{before}{section}\n{after}" if after else f"{before}{section}"
    else:
        text = f"{text.rstrip()}\n\n{section}"
    path.write_text(text)
