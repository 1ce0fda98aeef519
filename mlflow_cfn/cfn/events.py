"""A stack's events: executing a change set and following the stack until it settles.

The events followed are those after the newest event that existed before execution, printed
oldest first with their times in UTC, each batch followed by a progress line.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from mlflow_cfn.cfn.aws import CloudFormation, one_line
from mlflow_cfn.cfn.changes import ChangeSet
from mlflow_cfn.cfn.stacks import STACK_TYPE

__all__ = ["EventStream", "event_line", "execute"]


class EventStream:
    """The stack's events after a starting point, printed oldest first as they arrive."""

    def __init__(self, cfn: CloudFormation, stack: str, total: int, out: Callable[[str], None]):
        """Start after the stack's newest event now; `total` resources are expected to change."""
        self.cfn, self.stack, self.total, self.out = cfn, stack, total, out
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
        self.last_seen: str | None = events[0]["EventId"] if events else None
        self.events: list[dict] = []
        self.statuses: dict[str, str] = {}

    def _new(self) -> list[dict]:
        """Events newer than the last one seen, oldest first (pages are newest first)."""
        arguments, new = {"StackName": self.stack}, []
        while True:
            page = self.cfn.describe_stack_events(**arguments)
            for event in page["StackEvents"]:
                if event["EventId"] == self.last_seen:
                    return new[::-1]
                new.append(event)
            if not page.get("NextToken"):
                return new[::-1]
            arguments["NextToken"] = page["NextToken"]

    def poll(self) -> None:
        """Print the new events and, if there were any, a progress line."""
        new = self._new()
        for event in new:
            self.out(event_line(event))
            if event["ResourceType"] != STACK_TYPE:
                self.statuses[event["LogicalResourceId"]] = event["ResourceStatus"]
        if new:
            self.last_seen = new[-1]["EventId"]
            self.events += new
            self.out(f"progress: {self.done()}/{self.total} resources done")

    def done(self) -> int:
        """How many resources have finished (their latest status is *_COMPLETE or *_SKIPPED)."""
        return sum(s.endswith(("_COMPLETE", "_SKIPPED")) for s in self.statuses.values())

    def failure(self, stack: dict) -> dict:
        """The earliest event of this run whose status ends in _FAILED and that has a reason;
        else the stack's own status reason, as an event of the stack."""
        return next(
            (
                e
                for e in self.events
                if e["ResourceStatus"].endswith("_FAILED") and e.get("ResourceStatusReason")
            ),
            {
                "LogicalResourceId": stack["StackName"],
                "ResourceType": STACK_TYPE,
                "ResourceStatusReason": stack.get("StackStatusReason", "no reason given"),
            },
        )


def event_line(event: dict) -> str:
    """``HH:MM:SS  STATUS  LogicalId  Type  reason`` (UTC)."""
    clock = event["Timestamp"].astimezone(UTC).strftime("%H:%M:%S")
    fields = [
        clock,
        event["ResourceStatus"],
        event["LogicalResourceId"],
        event["ResourceType"],
        one_line(event.get("ResourceStatusReason", "")),
    ]
    return "  ".join(fields).rstrip()


def execute(
    change_set: ChangeSet,
    total: int,
    poll_seconds: float,
    out: Callable[[str], None],
    sleep: Callable[[float], None],
) -> tuple[dict, EventStream]:
    """Execute the change set and print the stack's events until it settles; the stack's final
    description and the events seen."""
    cfn, stack = change_set.cfn, change_set.stack
    events = EventStream(cfn, stack, total, out)
    change_set.execute()
    out(f"executing change set {change_set.name}")
    while True:
        description = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        events.poll()
        if not description["StackStatus"].endswith("_IN_PROGRESS"):
            return description, events
        sleep(poll_seconds)
