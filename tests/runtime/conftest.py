"""Local servers for the runtime tests: PostgreSQL (TLS, real password checks) and an S3 emulator.

A missing server skips the test with the reason, or fails it when MLFLOW_CFN_REQUIRE_SERVICES=1
(as in CI), so CI never passes by skipping.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
import pytest

from tests.conftest import unavailable
from tests.runtime.harness import (
    BUCKET,
    HOSTILE_PASSWORD,
    moto_server,
    port_open,
    read_only_root_available,
)

pytestmark = pytest.mark.runtime


@dataclass(frozen=True)
class LocalDatabase:
    """A fresh database on the local server, owned by a user with a hostile password."""

    host: str
    port: int
    name: str
    user: str
    password: str
    engine: str = "aurora-postgresql"  # the DatabaseEngine it stands in for

    @property
    def url(self):
        """A SQLAlchemy URL for this database, as the container builds it (TLS on)."""
        import sqlalchemy

        if self.engine == "aurora-mysql":
            drivername, query = "mysql+pymysql", {"ssl_check_hostname": "false"}
        else:
            drivername, query = "postgresql+psycopg2", {"sslmode": "require"}
        return sqlalchemy.URL.create(
            drivername,
            username=self.user,
            password=self.password,
            host=self.host,
            port=self.port,
            database=self.name,
            query=query,
        )


def _pg_admin():
    import psycopg2

    last = None
    for password in (None, "postgres"):
        try:
            return psycopg2.connect(
                host="127.0.0.1", port=5432, user="postgres", password=password, dbname="postgres"
            )
        except psycopg2.OperationalError as exc:
            last = exc
    unavailable(f"cannot connect to PostgreSQL on 127.0.0.1:5432 as postgres: {last}")


@pytest.fixture(scope="session")
def pg_admin():
    if not port_open(5432):
        unavailable("PostgreSQL is not listening on 127.0.0.1:5432")
    conn = _pg_admin()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SHOW ssl")
        if cur.fetchone()[0] != "on":
            unavailable("the local PostgreSQL has no TLS; the container requires sslmode=require")
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = 'mlflow_cfn_test'")
        if cur.fetchone() is None:
            unavailable("role mlflow_cfn_test (password-checked test users) is missing")
    yield conn
    conn.close()


@contextmanager
def new_pg_database(pg_admin, prefix: str = "mlflow_rt") -> Iterator[LocalDatabase]:
    """A new database and user; the server really checks the user's password."""
    import psycopg2
    from psycopg2 import sql

    suffix = secrets.token_hex(4)
    db = LocalDatabase(
        "127.0.0.1", 5432, f"{prefix}_{suffix}", f"{prefix}_{suffix}", HOSTILE_PASSWORD
    )
    with pg_admin.cursor() as cur:
        cur.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE mlflow_cfn_test").format(
                sql.Identifier(db.user), sql.Literal(db.password)
            )
        )
        cur.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(*map(sql.Identifier, (db.name, db.user)))
        )
    try:
        psycopg2.connect(host=db.host, port=db.port, user=db.user, password="wrong", dbname=db.name)
    except psycopg2.OperationalError:
        pass
    else:
        unavailable(
            "the local PostgreSQL accepts a wrong password: the encoding test would prove nothing"
        )
    try:
        yield db
    finally:
        with pg_admin.cursor() as cur:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db.name))
            )
            cur.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(db.user)))


@pytest.fixture
def pg_database(pg_admin) -> Iterator[LocalDatabase]:
    """A fresh PostgreSQL database and user for one test."""
    with new_pg_database(pg_admin) as db:
        yield db


@pytest.fixture(scope="module")
def module_database(pg_admin) -> Iterator[LocalDatabase]:
    """One PostgreSQL database and user for a module's server (started once per module)."""
    with new_pg_database(pg_admin, "mlflow_mod") as db:
        yield db


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server with the artifact bucket."""
    with moto_server() as endpoint:
        s3_client(endpoint).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield endpoint


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="session")
def mysql_admin():
    import pymysql

    if not port_open(3306):
        unavailable("MySQL/MariaDB is not listening on 127.0.0.1:3306")
    try:
        conn = pymysql.connect(
            host="127.0.0.1", port=3306, user="root", password="", autocommit=True
        )
    except pymysql.MySQLError as exc:
        unavailable(f"cannot connect to MySQL/MariaDB on 127.0.0.1:3306 as root: {exc}")
    with conn.cursor() as cur:
        cur.execute("SHOW VARIABLES LIKE 'have_ssl'")
        row = cur.fetchone()
        if not row or row[1] != "YES":
            unavailable("the local MySQL/MariaDB has no TLS; Aurora MySQL requires it")
    yield conn
    conn.close()


@pytest.fixture
def mysql_database(mysql_admin) -> Iterator[LocalDatabase]:
    """A new database and a user (for localhost and 127.0.0.1: an anonymous ''@'localhost'
    would shadow a '%' user) who must use TLS, like Aurora's require_secure_transport."""
    import pymysql

    suffix = secrets.token_hex(4)
    db = LocalDatabase(
        "127.0.0.1",
        3306,
        f"mlflow_rt_{suffix}",
        f"mlflow_rt_{suffix}",
        HOSTILE_PASSWORD,
        engine="aurora-mysql",
    )
    hosts = ("localhost", "127.0.0.1")
    with mysql_admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{db.name}` CHARACTER SET utf8mb4")
        for host in hosts:
            cur.execute(
                f"CREATE USER '{db.user}'@'{host}' IDENTIFIED BY %s REQUIRE SSL", (db.password,)
            )
            cur.execute(f"GRANT ALL PRIVILEGES ON `{db.name}`.* TO '{db.user}'@'{host}'")
    # A wrong password over TLS, and the right one in plain text, must both be refused.
    for password, tls in (
        ("wrong", {"ssl": {"check_hostname": False}}),
        (db.password, {"ssl_disabled": True}),
    ):
        try:
            pymysql.connect(
                host=db.host, port=db.port, user=db.user, password=password, database=db.name, **tls
            ).close()
        except pymysql.MySQLError:
            continue
        unavailable("the local MariaDB accepts a wrong password or a plain-text connection")
    yield db
    with mysql_admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{db.name}`")
        for host in hosts:
            cur.execute(f"DROP USER IF EXISTS '{db.user}'@'{host}'")


@pytest.fixture(params=["aurora-postgresql", "aurora-mysql"])
def database(request) -> LocalDatabase:
    """A fresh local database for each engine the template supports."""
    fixture = "pg_database" if request.param == "aurora-postgresql" else "mysql_database"
    return request.getfixturevalue(fixture)


@pytest.fixture(scope="session", autouse=True)
def read_only_root():
    """The runtime tests run the container with a read-only root file system, as in ECS."""
    if not read_only_root_available():
        unavailable("cannot make a read-only root in a mount namespace here (unshare -m, as root)")
