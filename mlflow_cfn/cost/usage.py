"""What a parameter set runs, week by week: tasks in and outside working hours, idle shutdown,
and when the database is awake.

* No schedule: DesiredCount tasks all week, or MinTasks with target tracking (ScalingMetric cpu
  or requests; the tasks it adds under load are not priced).
* A schedule (ScaleUpSchedule, ScaleDownSchedule): MinTasks during the working hours the two
  cron expressions give (`schedule.working_week`), ScaleDownTasks outside. MLflow is used inside
  working hours first; use outside them is served only if ScaleDownTasks is above 0.
* Idle shutdown (IdleShutdownMinutes > 0): inside working hours (all week without a schedule) a
  task runs only while MLflow is used plus IdleShutdownMinutes after each period of use
  (`sessions_per_week`); the request that wakes the service starts one task. The working-hours
  start then starts no task, and outside working hours ScaleDownTasks stays the limit.
* The database (Aurora Serverless v2) with DatabaseMinCapacity 0 is awake while MLflow is used
  and, after each period of use and each task start (the server opens a connection to check the
  schema), for DATABASE_IDLE_SECONDS (the database closes the server's idle connections) plus
  DatabaseAutoPauseSeconds; it is paused otherwise, even with a task running. With a minimum
  capacity above 0 it never pauses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlflow_cfn.cost import CostError
from mlflow_cfn.cost.records import HOURS_PER_MONTH, HOURS_PER_WEEK, Usage, monthly
from mlflow_cfn.cost.schedule import working_week
from mlflow_cfn.stack.components.database_inputs import (
    DATABASE_AUTO_PAUSE_SECONDS,
    DATABASE_BACKUP_RETENTION_DAYS,
    DATABASE_MAX_CAPACITY,
    DATABASE_MIN_CAPACITY,
)
from mlflow_cfn.stack.components.mlflow_container import DATABASE_IDLE_SECONDS
from mlflow_cfn.stack.components.scaling_inputs import (
    IDLE_SHUTDOWN_MINUTES,
    MIN_TASKS,
    SCALE_DOWN_SCHEDULE,
    SCALE_DOWN_TASKS,
    SCALE_UP_SCHEDULE,
    SCALING_METRIC,
    SCHEDULE_TIMEZONE,
)
from mlflow_cfn.stack.components.service_inputs import DESIRED_COUNT

#: The lowest capacity of an awake Aurora Serverless v2 instance whose minimum is 0.
AWAKE_ACU = 0.5


def setting(parameters: Mapping[str, Any], name: str, default: str | None = None) -> str:
    """A resolved parameter as text; `default` when the template does not declare it."""
    if name in parameters:
        return str(parameters[name])
    if default is None:
        raise CostError(f"parameter {name} is missing from the resolved parameters")
    return default


def number(parameters: Mapping[str, Any], name: str, default: str | None = None) -> float:
    """A numeric resolved parameter (see `setting`)."""
    text = setting(parameters, name, default)
    try:
        return float(text)
    except ValueError:
        raise CostError(f"parameter {name} must be a number, got {text!r}") from None


@dataclass(frozen=True)
class Window:
    """A part of the week with one task count: `tasks` (0: none, and use there is not served),
    and the task starts a week at its beginning."""

    hours: float
    tasks: int
    starts: int = 0


@dataclass(frozen=True)
class TaskPlan:
    """The tasks a parameter set runs: in working hours (all week without a schedule), outside
    them, and after how many idle minutes the tasks in working hours stop (0: never)."""

    working: Window
    outside: Window
    idle_minutes: float
    description: str

    def week(self, hours_per_week: float, sessions_per_week: float) -> Usage:
        """A week in which MLflow is used `hours_per_week` (inside working hours first) in
        `sessions_per_week` periods of use, all in the hours a task serves (none when no use is
        served)."""
        inside = min(hours_per_week, self.working.hours)
        windows = [
            (w, use)
            for w, use in ((self.working, inside), (self.outside, hours_per_week - inside))
            if w.tasks
        ]
        served = sum(use for _, use in windows)
        task_hours = running = sessions = starts = 0.0
        for window, use in windows:
            used_sessions = sessions_per_week * use / served if served else 0.0
            hours = window.hours
            if self.idle_minutes and window is self.working:
                hours = min(hours, use + used_sessions * self.idle_minutes / 60)
            running += hours
            task_hours += window.tasks * hours
            sessions += used_sessions
            starts += window.starts
        return Usage(hours_per_week, served, task_hours, running, sessions, starts)


def _scheduled(parameters: Mapping[str, Any], working_tasks: int, idle: float) -> TaskPlan:
    """MinTasks (or one woken task) in the schedule's working hours, ScaleDownTasks outside."""
    up = setting(parameters, SCALE_UP_SCHEDULE)
    down = setting(parameters, SCALE_DOWN_SCHEDULE)
    week = working_week(SCALE_UP_SCHEDULE, up, SCALE_DOWN_SCHEDULE, down)
    low = int(number(parameters, SCALE_DOWN_TASKS, "0"))
    starts = week.starts if working_tasks > low and not idle else 0
    zone = setting(parameters, SCHEDULE_TIMEZONE, "UTC")
    return TaskPlan(
        Window(week.hours, working_tasks, starts),
        Window(HOURS_PER_WEEK - week.hours, low),
        idle,
        f"working hours {week.hours:g} h/week ({up} to {down}, {zone}): {working_tasks} "
        f"task(s){' when woken' if idle else ''}; outside: {low} (ScaleDownTasks)",
    )


def task_plan(parameters: Mapping[str, Any]) -> TaskPlan:
    """The tasks the resolved parameters run (see the module's description)."""
    idle = number(parameters, IDLE_SHUTDOWN_MINUTES, "0")
    tracking = setting(parameters, SCALING_METRIC, "none") != "none"
    scheduled = bool(setting(parameters, SCALE_UP_SCHEDULE, ""))
    source = MIN_TASKS if tracking or scheduled else DESIRED_COUNT
    # With idle shutdown the request that wakes the service starts one task.
    tasks = 1 if idle else int(number(parameters, source, "1"))
    if scheduled:
        plan = _scheduled(parameters, tasks, idle)
    else:
        plan = TaskPlan(
            Window(HOURS_PER_WEEK, tasks),
            Window(0.0, 0),
            idle,
            f"{tasks} task(s) {'when woken' if idle else f'({source})'}, all week",
        )
    notes = [plan.description]
    if idle:
        notes.append(f"idle shutdown {idle:g} min after the last request")
    if tracking:
        notes.append("tasks target tracking adds under load are not priced")
    return TaskPlan(plan.working, plan.outside, idle, "; ".join(notes))


@dataclass(frozen=True)
class DatabaseMonth:
    """How an Aurora Serverless v2 database spends a month: hours in use at `used_acu`, other
    hours awake at `idle_acu` (0 ACU the rest of the month: paused), backup retention."""

    used_hours: float
    awake_idle_hours: float
    used_acu: float
    idle_acu: float
    backup_days: float


def database_month(parameters: Mapping[str, Any], usage: Usage, acu_in_use: float) -> DatabaseMonth:
    """The stack's database in a month of `usage` (see the module's description); `acu_in_use`
    is raised to the floor and capped at DatabaseMaxCapacity."""
    min_acu = number(parameters, DATABASE_MIN_CAPACITY)
    floor = max(min_acu, AWAKE_ACU)
    used = usage.used_hours
    if min_acu:
        awake = HOURS_PER_MONTH - used
    else:
        tail = number(parameters, DATABASE_AUTO_PAUSE_SECONDS) + DATABASE_IDLE_SECONDS
        awake = min(HOURS_PER_MONTH - used, monthly((usage.sessions + usage.starts) * tail / 3600))
    return DatabaseMonth(
        used_hours=used,
        awake_idle_hours=awake,
        used_acu=min(max(acu_in_use, floor), max(number(parameters, DATABASE_MAX_CAPACITY), floor)),
        idle_acu=floor,
        backup_days=number(parameters, DATABASE_BACKUP_RETENTION_DAYS),
    )
