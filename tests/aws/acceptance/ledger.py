"""What a run has created, written to disk as it goes (``state.json`` in the run's directory), so
that the teardown, even a later one after a crash, finds everything: ``python -m
tests.aws.acceptance.teardown <run dir>/state.json``.

An entry is registered *before* the call that creates it (a stack, a role, a queue), so a call
that fails half way still leaves its name here; deleting what does not exist counts as done.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Leftover:
    """Something to delete: `kind` (a resource type such as ``AWS::S3::Bucket``, or one of the
    suite's own kinds, see `tests.aws.acceptance.teardown.KIND_ORDER`), its `name` (physical id,
    name or ARN), where it came from, and for stacks the wave they are deleted in (products
    before the network they run in)."""

    kind: str
    name: str
    origin: str = ""
    wave: int = 0


class Ledger:
    """The entries of one run, in the order found, each pending until the teardown did it."""

    def __init__(self, path: Path | None = None, region: str = "", run: str = "") -> None:
        self.path = path
        self.region = region
        self.run = run
        self._entries: list[Leftover] = []
        self._done: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def add(self, *entries: Leftover) -> None:
        """Register entries (an entry already there, by kind and name, is kept once)."""
        with self._lock:
            known = {(e.kind, e.name) for e in self._entries}
            for entry in entries:
                if (entry.kind, entry.name) not in known:
                    self._entries.append(entry)
                    known.add((entry.kind, entry.name))
            self._save()

    def done(self, entry: Leftover) -> None:
        with self._lock:
            self._done.add((entry.kind, entry.name))
            self._save()

    def pending(self, kind: str | None = None) -> list[Leftover]:
        """The entries not done yet (of one kind), in the order registered."""
        with self._lock:
            return [
                e
                for e in self._entries
                if (e.kind, e.name) not in self._done and kind in (None, e.kind)
            ]

    def entries(self) -> list[Leftover]:
        with self._lock:
            return list(self._entries)

    def _save(self) -> None:
        if self.path is None:
            return
        data = {
            "run": self.run,
            "region": self.region,
            "entries": [
                {**asdict(e), "done": (e.kind, e.name) in self._done} for e in self._entries
            ],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=1) + "\n")
        temporary.replace(self.path)

    @classmethod
    def load(cls, path: Path) -> Ledger:
        """A ledger written by a run (its done entries stay done)."""
        data = json.loads(path.read_text())
        ledger = cls(path, data.get("region", ""), data.get("run", ""))
        for item in data["entries"]:
            entry = Leftover(
                item["kind"], item["name"], item.get("origin", ""), item.get("wave", 0)
            )
            ledger._entries.append(entry)
            if item.get("done"):
                ledger._done.add((entry.kind, entry.name))
        return ledger
