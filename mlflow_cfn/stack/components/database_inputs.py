"""The database's Parameters (capacity, pause, backups, protection, engine, high availability),
its Conditions and the engine Mapping: what a launcher chooses about the database."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Parameter

from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.engines import (
    DEFAULT_ENGINE,
    ENGINES,
    MAP_DATABASE_ENGINES,
    USE_MYSQL,
    engine_mapping,
)
from mlflow_cfn.stack.interface import GROUP_DATABASE
from mlflow_cfn.stack.logic import is_value
from mlflow_cfn.stack.parameters import ParameterSpec, boolean, choice

DATABASE_MIN_CAPACITY = "DatabaseMinCapacity"
DATABASE_MAX_CAPACITY = "DatabaseMaxCapacity"
DATABASE_AUTO_PAUSE_SECONDS = "DatabaseAutoPauseSeconds"
DATABASE_BACKUP_RETENTION_DAYS = "DatabaseBackupRetentionDays"
DATABASE_DELETION_PROTECTION = "DatabaseDeletionProtection"
DATABASE_ENGINE = "DatabaseEngine"
DATABASE_HIGH_AVAILABILITY = "DatabaseHighAvailability"
ENABLE_DATABASE_HIGH_AVAILABILITY = "EnableDatabaseHighAvailability"
#: RDS refuses SecondsUntilAutoPause unless the minimum capacity is 0 ("InvalidParameterValue:
#: SecondsUntilAutoPause can only be specified when minimum capacity is 0"), on create and update.
DATABASE_CAN_PAUSE = "DatabaseCanPause"

DATABASE_MIN_CAPACITY_VALUES = (0, 0.5, 1, 2, 4, 8, 16, 32, 64)
DATABASE_MAX_CAPACITY_VALUES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


@dataclass(frozen=True)
class DatabaseInputs:
    """The database Parameters, and the Condition under which a reader exists."""

    min_capacity: Parameter
    max_capacity: Parameter
    auto_pause_seconds: Parameter
    backup_retention_days: Parameter
    deletion_protection: Parameter
    engine: Parameter
    high_availability_parameter: Parameter
    high_availability: str
    can_pause: str


def _capacity_specs() -> list[ParameterSpec]:
    return [
        ParameterSpec(
            DATABASE_MIN_CAPACITY,
            "Number",
            "Minimum Aurora capacity units. 0 lets the database pause when idle (no compute cost; "
            "the first request after a pause waits about 15 seconds).",
            "Database minimum ACUs",
            GROUP_DATABASE,
            default=0,
            allowed_values=DATABASE_MIN_CAPACITY_VALUES,
            constraint_description=(
                f"{DATABASE_MIN_CAPACITY} must be one of "
                f"{', '.join(map(str, DATABASE_MIN_CAPACITY_VALUES))}."
            ),
        ),
        ParameterSpec(
            DATABASE_MAX_CAPACITY,
            "Number",
            "Maximum Aurora capacity units (at least the minimum).",
            "Database maximum ACUs",
            GROUP_DATABASE,
            default=4,
            allowed_values=DATABASE_MAX_CAPACITY_VALUES,
            constraint_description=(
                f"{DATABASE_MAX_CAPACITY} must be one of "
                f"{', '.join(map(str, DATABASE_MAX_CAPACITY_VALUES))}."
            ),
        ),
        ParameterSpec(
            DATABASE_AUTO_PAUSE_SECONDS,
            "Number",
            "Idle seconds before the database pauses when its minimum capacity is 0 (ignored "
            "otherwise: RDS pauses only at 0 ACU).",
            "Database auto-pause after (seconds)",
            GROUP_DATABASE,
            default=300,
            min_value=300,
            max_value=86400,
            constraint_description=(
                f"{DATABASE_AUTO_PAUSE_SECONDS} must be from 300 to 86400 seconds."
            ),
        ),
    ]


def _safety_specs() -> list[ParameterSpec]:
    return [
        ParameterSpec(
            DATABASE_BACKUP_RETENTION_DAYS,
            "Number",
            "Days automated database backups are kept.",
            "Database backup retention (days)",
            GROUP_DATABASE,
            default=7,
            min_value=7,
            max_value=35,
            constraint_description=(f"{DATABASE_BACKUP_RETENTION_DAYS} must be from 7 to 35 days."),
        ),
        boolean(
            DATABASE_DELETION_PROTECTION,
            "Protect the database cluster from deletion. Leave on; turn off only to tear the "
            "stack down (a final snapshot is taken either way).",
            "Database deletion protection",
            GROUP_DATABASE,
            "true",
        ),
        choice(
            DATABASE_ENGINE,
            "aurora-postgresql or aurora-mysql. Chosen once: changing it on a running stack "
            "replaces the database (a snapshot is kept, the new database is empty).",
            "Database engine",
            GROUP_DATABASE,
            DEFAULT_ENGINE.name,
            tuple(engine.name for engine in ENGINES),
        ),
        boolean(
            DATABASE_HIGH_AVAILABILITY,
            "Add a reader instance that takes over if the writer's Availability Zone fails.",
            "Database high availability",
            GROUP_DATABASE,
            "false",
        ),
    ]


def declare_database_inputs(ctx: Context) -> DatabaseInputs:
    """Declare the database Parameters, the engine Mapping and Conditions."""
    params = ctx.parameters(*_capacity_specs(), *_safety_specs())
    engine, high_availability = params[5], params[6]
    ctx.condition(USE_MYSQL, is_value(engine, "aurora-mysql"))
    ctx.template.add_mapping(MAP_DATABASE_ENGINES, engine_mapping())
    return DatabaseInputs(
        *params,
        high_availability=ctx.condition(
            ENABLE_DATABASE_HIGH_AVAILABILITY, is_value(high_availability, "true")
        ),
        can_pause=ctx.condition(DATABASE_CAN_PAUSE, is_value(params[0], "0")),
    )
