"""Working hours a week from the two schedules (`ScaleUpSchedule`, `ScaleDownSchedule`).

Only the cron forms people write for working hours are read: a fixed minute and hour, every
month and year, and days of the week as ``*``, a day, a range or a list (``MON-FRI``,
``MON,WED,FRI``, ``1-7`` with 1 = SUN as AWS numbers them), with ``?`` as the day of the month;
or ``*`` as the day of the month with ``?`` as the day of the week (every day). Anything else
(``rate()``, ``at()``, steps, days of the month, months) is refused with one error naming the
parameter, rather than guessed. The time zone moves the hours, not their number (a
daylight-saving change is ignored).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlflow_cfn.cost import CostError

DAY_NAMES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
SUPPORTED = (
    "cron(M H ? * DAYS *) with a fixed minute M (0-59) and hour H (0-23) and DAYS * or days of "
    "the week as a day, range or list (MON, MON-FRI, MON,WED,FRI; 1-7 with 1 = SUN), or "
    "cron(M H * * ? *) for every day"
)
_CRON = re.compile(r"^cron\((.*)\)$")
_DAY = r"(?:[A-Z]{3}|[1-7])"
_DAYS = re.compile(rf"^{_DAY}(?:-{_DAY})?(?:,{_DAY}(?:-{_DAY})?)*$")


@dataclass(frozen=True)
class WorkingWeek:
    """Hours a week between a scale-up and the next scale-down, and how often tasks start."""

    hours: float
    starts: int


def _day(text: str) -> int:
    """A day of the week as 0 (MON) to 6 (SUN), from its name or AWS number (1 = SUN)."""
    if text.isdigit():
        return (int(text) - 2) % 7
    if text not in DAY_NAMES:
        raise ValueError(text)
    return DAY_NAMES.index(text)


def _days(field: str) -> list[int]:
    """The days of a day-of-week field: ``*``, a day, a range or a list of them."""
    if field == "*":
        return list(range(7))
    if not _DAYS.match(field):
        raise ValueError(field)
    days: set[int] = set()
    for part in field.split(","):
        first, _, last = part.partition("-")
        start, end = _day(first), _day(last or first)
        days.update((start + i) % 7 for i in range((end - start) % 7 + 1))
    return sorted(days)


def schedule_minutes(name: str, expression: str) -> list[int]:
    """The minutes of the week (0 = Monday 00:00) at which a schedule fires; CostError naming
    the parameter and the supported forms for any other expression."""
    match = _CRON.match(expression.strip())
    fields = match.group(1).split() if match else []
    try:
        if len(fields) != 6:
            raise ValueError(expression)
        minute, hour, day_of_month, month, day_of_week, year = fields
        if not (minute.isdigit() and hour.isdigit()) or int(minute) > 59 or int(hour) > 23:
            raise ValueError(expression)
        if (month, year) != ("*", "*"):
            raise ValueError(expression)
        if (day_of_month, day_of_week) == ("*", "?"):
            days = list(range(7))
        elif day_of_month == "?":
            days = _days(day_of_week.upper())
        else:
            raise ValueError(expression)
    except ValueError:
        raise CostError(f"{name} {expression!r}: the estimate reads only {SUPPORTED}") from None
    return [day * MINUTES_PER_DAY + int(hour) * 60 + int(minute) for day in days]


def working_week(up_name: str, up: str, down_name: str, down: str) -> WorkingWeek:
    """Hours a week from each scale-up to the next scale-down (the week wraps around), and the
    number of scale-ups that start tasks (those that come while scaled down)."""
    events = sorted(
        [(m, 0) for m in schedule_minutes(down_name, down)]
        + [(m, 1) for m in schedule_minutes(up_name, up)]
    )
    working = bool(events[-1][1])  # the state the last event of the week leaves
    start = 0
    minutes = starts = 0
    for at, is_up in events:
        if is_up and not working:
            working, start, starts = True, at, starts + 1
        elif not is_up and working:
            working, minutes = False, minutes + at - start
    if working:  # working over the week's end: the part before minute 0 was counted above
        minutes += MINUTES_PER_WEEK - start
    return WorkingWeek(minutes / 60, starts)
