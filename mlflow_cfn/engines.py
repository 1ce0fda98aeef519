"""The database engine the template deploys, with everything that depends on it in one record."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Engine:
    """An Aurora engine and how MLflow connects to it."""

    name: str  # RDS Engine
    version: str  # a current version that supports Serverless v2 scaling to 0 ACU (auto-pause)
    parameter_group_family: str
    port: int
    log_exports: tuple[str, ...]
    tls_parameters: dict[str, str]  # cluster parameters that refuse unencrypted connections
    dialect: str  # SQLAlchemy dialect+driver (the -full image has both drivers)
    query: str  # connection options appended to the URI


AURORA_POSTGRESQL = Engine(
    name="aurora-postgresql",
    version="17.7",
    parameter_group_family="aurora-postgresql17",
    port=5432,
    log_exports=("postgresql",),
    tls_parameters={"rds.force_ssl": "1"},
    dialect="postgresql+psycopg2",
    # Encrypted, as the server refuses anything else. verify-full would also need the RDS CA
    # bundle inside the image, which the official image does not carry.
    query="sslmode=require",
)

DEFAULT_ENGINE = AURORA_POSTGRESQL
