"""A grant: actions the launch role may take on some resources, under a condition or none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from awacs.aws import ConditionElement


@dataclass(frozen=True)
class Grant:
    """Actions allowed on ``resources`` under ``condition`` on ``key`` (and under ``also``, more
    conditions); ``values`` empty means not needed, ``condition`` None that the resources alone
    scope the actions."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: type[ConditionElement] | None
    key: str
    values: tuple[Any, ...]
    also: tuple[Grant, ...] = ()
    #: (statement id, actions, resources) allowed without the condition: resource types of the
    #: same request that cannot carry it (the final snapshot a delete creates).
    plain: tuple[str, tuple[str, ...], tuple[str, ...]] | None = None

    def condition_elements(self) -> list[ConditionElement]:
        """The condition on ``key`` (one value as is, several as a list), then ``also``'s."""
        if self.condition is None:
            return []
        values = list(self.values) if len(self.values) > 1 else self.values[0]
        return [
            self.condition(self.key, values),
            *(c for g in self.also for c in g.condition_elements()),
        ]
