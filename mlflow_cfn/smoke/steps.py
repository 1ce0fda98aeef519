"""The step runner of ``mlflow-cfn smoke``: runs each check, prints it with its time, stops the
checks at the first failure but always runs the clean-up, and says what failed in one line."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

__all__ = ["SmokeInputError", "StepFailed", "Steps"]

T = TypeVar("T")


class StepFailed(Exception):
    """A check failed; the message is its one-line likely cause."""


class SmokeInputError(Exception):
    """Bad inputs found before anything was checked (exit code 2); the message names the flag."""


@dataclass
class Steps:
    """Runs named steps, printing ``ok``/``FAIL`` lines with their duration to `out` and each
    failure's cause as one ``mlflow-cfn smoke: step: cause`` line to `err`."""

    out: Callable[[str], None]
    err: Callable[[str], None]
    clock: Callable[[], float] = time.monotonic
    failed: list[str] = field(default_factory=list)
    passed: int = 0
    started: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def run(
        self, name: str, action: Callable[[], T], detail: Callable[[T], str] | None = None
    ) -> T:
        """Run `action` as step `name`; StepFailed (or any error, told in one line) is recorded,
        printed and raised again as StepFailed so the caller stops its checks. SmokeInputError
        passes through unrecorded."""
        began = self.clock()
        try:
            result = action()
        except SmokeInputError:
            raise  # bad inputs are no failed check: the command reports them (exit code 2)
        except Exception as exc:  # every failure becomes one line; nothing is swallowed
            cause = str(exc) if isinstance(exc, StepFailed) else unexpected(exc)
            self._line("FAIL", began, name)
            self.err(f"mlflow-cfn smoke: {name}: {cause}")
            self.failed.append(name)
            raise StepFailed(cause) from exc
        self.passed += 1
        self._line("ok", began, f"{name}: {detail(result)}" if detail else name)
        return result

    def note(self, text: str) -> None:
        """Print a line that is no step (what is being waited for, what was skipped)."""
        self.out(f"  ..            {text}")

    def _line(self, status: str, began: float, text: str) -> None:
        self.out(f"  {status:<5}{self.clock() - began:7.2f} s  {text}")

    def summary(self) -> int:
        """Print the last line and return the exit code: 0 when every step passed, else 1."""
        total = self.clock() - self.started
        if self.failed:
            self.out(
                f"FAILED: {', '.join(self.failed)} ({self.passed} step(s) passed, {total:.1f} s)"
            )
            return 1
        self.out(f"passed: {self.passed} steps in {total:.1f} s")
        return 0


def unexpected(exc: BaseException) -> str:
    """An error no check anticipated, in one line with its type."""
    text = " ".join(str(exc).split()) or "(no message)"
    if len(text) > 400:
        text = text[:400] + "..."
    return f"{type(exc).__name__}: {text}"
