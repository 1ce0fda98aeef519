"""Waiting for AWS with a bound: poll until a condition holds or the time is up. The clock and the
sleep are arguments, so the offline tests wait no real time."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


class TimedOut(Exception):
    """The condition did not hold in time; the message names what was awaited and the last
    value seen."""


@dataclass(frozen=True)
class Clock:
    """Time as the suite reads and spends it."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


REAL = Clock()


def poll(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    *,
    what: str,
    timeout: float,
    every: float,
    clock: Clock = REAL,
) -> T:
    """Call `fetch` every `every` seconds until `done` holds for its value, and return that value;
    TimedOut after `timeout` seconds."""
    deadline = clock.now() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if clock.now() >= deadline:
            raise TimedOut(f"{what}: not within {timeout:.0f} s (last seen: {value!r:.300})")
        clock.sleep(every)
