"""The database engines the template can deploy, everything that depends on the engine in one
record, and the Mapping that lets one template choose between them by the DatabaseEngine
Parameter."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import FindInMap, If, Parameter, Ref

#: The Mapping of engine settings and the Condition "the engine is MySQL" (public names).
MAP_DATABASE_ENGINES = "DatabaseEngines"
USE_MYSQL = "UseMysql"


@dataclass(frozen=True)
class Engine:
    """An Aurora engine and how MLflow connects to it."""

    name: str  # RDS Engine, also the DatabaseEngine Parameter value
    version: str  # a current version that supports Serverless v2 scaling to 0 ACU (auto-pause)
    parameter_group_family: str
    port: int
    log_exports: tuple[str, ...]
    #: Cluster parameters: refuse unencrypted connections, and write every log that
    #: ``log_exports`` sends to CloudWatch Logs (an exported log that is off stays empty).
    cluster_parameters: dict[str, str]
    dialect: str  # SQLAlchemy dialect+driver (the -full image has both drivers)
    query: str  # connection options appended to the URI: always TLS


AURORA_POSTGRESQL = Engine(
    name="aurora-postgresql",
    version="17.7",
    parameter_group_family="aurora-postgresql17",
    port=5432,
    log_exports=("postgresql",),
    cluster_parameters={"rds.force_ssl": "1"},
    dialect="postgresql+psycopg2",
    # Encrypted, as the server refuses anything else. verify-full would also need the RDS CA
    # bundle inside the image, which the official image does not carry.
    query="sslmode=require",
)

AURORA_MYSQL = Engine(
    name="aurora-mysql",
    version="8.0.mysql_aurora.3.10.3",  # 3.08+ scales to 0 ACU; 3.10 is a long-term release
    parameter_group_family="aurora-mysql8.0",
    port=3306,
    log_exports=("error", "slowquery"),
    cluster_parameters={
        "require_secure_transport": "ON",
        # Aurora MySQL writes the slow query log only when it is on, and exports it to
        # CloudWatch Logs only from a file (log_output FILE, not TABLE).
        "slow_query_log": "1",
        "long_query_time": "2",
        "log_output": "FILE",
    },
    dialect="mysql+pymysql",
    # PyMySQL connects in plain text unless asked; any ssl_* option makes it use TLS (without
    # a CA file it does not verify the server certificate, like sslmode=require).
    query="ssl_check_hostname=false&charset=utf8mb4",
)

ENGINES = (AURORA_POSTGRESQL, AURORA_MYSQL)
DEFAULT_ENGINE = AURORA_POSTGRESQL


def engine_mapping() -> dict[str, dict[str, object]]:
    """The DatabaseEngines Mapping: engine name -> its settings."""
    return {
        e.name: {
            "EngineVersion": e.version,
            "Family": e.parameter_group_family,
            "Port": str(e.port),
            "LogExports": list(e.log_exports),
            "Dialect": e.dialect,
            "Query": e.query,
        }
        for e in ENGINES
    }


def engine_setting(engine: Parameter, key: str) -> FindInMap:
    """One setting of the engine chosen by the ``engine`` (DatabaseEngine) Parameter."""
    return FindInMap(MAP_DATABASE_ENGINES, Ref(engine), key)


def engine_choice(postgresql: object, mysql: object) -> If:
    """A value that depends on the engine where a Mapping cannot hold it (objects, numbers)."""
    return If(USE_MYSQL, mysql, postgresql)
