# Start-up of the mlflow container, embedded in the task definition as `python -c <this file>`
# (the official image is used unchanged). It runs with the image's own Python and MLflow.
#
# 1. Builds the backend store URI from the database secret (user name and password URL-encoded:
#    RDS-generated passwords contain characters such as % # ? : & = + /) and puts it in the
#    environment, never in a process argument.
#    Each of the server's connections closes itself after MLFLOW_CFN_DB_IDLE_SECONDS idle (a
#    session setting: PostgreSQL idle_session_timeout, MySQL wait_timeout), so that Aurora can
#    pause while a task runs; the pool replaces a closed connection unseen (pool_pre_ping).
# 2. Lets through the Host names the server is reached by (the load balancer's DNS name is
#    mixed-case; browsers and clients send it lower-case; a port may follow).
# 3. Creates or upgrades the database schema under a database lock, so that tasks starting
#    together, or a new image version rolling out, never race on the schema.
# 4. Runs `mlflow server` (which reads its whole configuration from MLFLOW_*) and supervises
#    it: signals are forwarded, its output passes through, and when the database refuses the
#    credentials (the password changed: rotation or a person) it stops the server and exits 3,
#    so that ECS starts a task that reads the current secret. No probe runs while nothing
#    happens, so an idle task never wakes Aurora: the server's error output is watched for the
#    text of a refusal, and that text only makes the supervisor try one fresh connection of its
#    own (at most one a minute). The text alone decides nothing: uvicorn logs each request line
#    with its query string, and error messages may quote a request, so any client could write
#    it. The access log (the server's standard output) goes to the container's output unread.
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

SCHEMA_LOCK_NAME = "mlflow_cfn_schema"
SCHEMA_LOCK_KEY = 7_215_032_661_405_117  # pg_advisory_lock takes a bigint
CONNECT_TIMEOUT_SECONDS = 300  # a paused Aurora Serverless v2 cluster takes ~15 s to resume
#: What PostgreSQL (psycopg2) and MySQL/MariaDB (PyMySQL, error 1045) say when they refuse a
#: user's password. Retrying cannot help: the task's secret was read when it started. Decisive
#: only on a connection of this script's own; in the server's output, a reason to try one.
AUTH_FAILURE = re.compile(r"password authentication failed for user|Access denied for user|\(1045,")
AUTH_FAILURE_IN_OUTPUT = re.compile(AUTH_FAILURE.pattern.encode())
EXIT_CREDENTIALS_REFUSED = 3
CONFIRM_INTERVAL_SECONDS = 60  # at most one confirming connection a minute, whatever is logged
#: (MySQL, PostgreSQL): no idle timeout for one session (MySQL's default is 8 hours).
KEEP_SESSION = (
    "SET SESSION wait_timeout = 28800, SESSION interactive_timeout = 28800",
    "SET idle_session_timeout = 0",
)
STOP_GRACE_SECONDS = 25  # ECS's default stop timeout is 30 s
SUPERVISING = "MLFLOW_CFN_SUPERVISING"  # "1": supervise; "confirm": try the credentials once


def log(message):
    print(f"mlflow-cfn: {message}", file=sys.stderr, flush=True)


def backend_store_uri(env, idle=True):
    """The SQLAlchemy URI of the database; with ``idle``, the option that makes the database
    close a session idle for MLFLOW_CFN_DB_IDLE_SECONDS. The credentials leave ``env``."""
    user = urllib.parse.quote(env.pop("MLFLOW_CFN_DB_USERNAME"), safe="")
    password = urllib.parse.quote(env.pop("MLFLOW_CFN_DB_PASSWORD"), safe="")
    host, port, name = (
        env["MLFLOW_CFN_DB_HOST"],
        env["MLFLOW_CFN_DB_PORT"],
        env["MLFLOW_CFN_DB_NAME"],
    )
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal
    dialect = env["MLFLOW_CFN_DB_DIALECT"]
    idle_query = idle_option(dialect, env) if idle else ""
    query = "&".join(filter(None, [env.get("MLFLOW_CFN_DB_QUERY", ""), idle_query]))
    uri = f"{dialect}://{user}:{password}@{host}:{port}/{name}"
    return f"{uri}?{query}" if query else uri


def idle_option(dialect, env):
    """The connection option that makes the database close the session after
    MLFLOW_CFN_DB_IDLE_SECONDS without a statement ("" when unset or 0)."""
    seconds = int(env.get("MLFLOW_CFN_DB_IDLE_SECONDS") or 0)
    if seconds <= 0:
        return ""
    if dialect.startswith("postgresql"):
        option = f"-c idle_session_timeout={seconds * 1000}"  # libpq startup option
        return "options=" + urllib.parse.quote(option, safe="")
    # PyMySQL runs init_command on connect; Aurora MySQL honours both session values.
    command = f"SET SESSION wait_timeout={seconds}, SESSION interactive_timeout={seconds}"
    return "init_command=" + urllib.parse.quote(command, safe="")


def allowed_hosts(raw):
    hosts = []
    for name in (h.strip() for h in raw.split(",")):
        if name:
            for variant in (name, name.lower()):
                hosts += [variant, f"{variant}:*"]
    return ",".join(dict.fromkeys(hosts))


def refuse_credentials():
    log(
        "the database refused the credentials (its password changed); exiting so that ECS "
        "starts a task with the current secret"
    )
    raise SystemExit(EXIT_CREDENTIALS_REFUSED)


def connect_with_retry(engine):
    deadline = time.monotonic() + CONNECT_TIMEOUT_SECONDS
    while True:
        try:
            return engine.connect()
        except Exception as exc:  # the database may be resuming or its DNS name not yet resolvable
            if AUTH_FAILURE.search(str(exc)):
                refuse_credentials()
            if time.monotonic() > deadline:
                raise
            log(f"database not reachable yet ({type(exc).__name__}); retrying")
            time.sleep(5)


def prepare_schema(uri):
    import sqlalchemy
    from mlflow.store.db import utils

    engine = sqlalchemy.create_engine(uri, poolclass=sqlalchemy.pool.NullPool)
    with connect_with_retry(engine) as conn:
        lock = conn.execution_options(isolation_level="AUTOCOMMIT")
        # The lock's connection waits idle while the migration runs on others: it must outlast
        # any session timeout (the URI carries none; a cluster's parameters may), or the
        # database closes it and so releases the lock.
        lock.execute(sqlalchemy.text(KEEP_SESSION[engine.dialect.name == "postgresql"]))
        if engine.dialect.name == "postgresql":
            lock.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": SCHEMA_LOCK_KEY})
            unlock = ("SELECT pg_advisory_unlock(:k)", {"k": SCHEMA_LOCK_KEY})
        else:
            got = lock.execute(
                sqlalchemy.text("SELECT GET_LOCK(:n, 600)"), {"n": SCHEMA_LOCK_NAME}
            ).scalar()
            if got != 1:
                raise SystemExit("mlflow-cfn: timed out waiting for the schema lock")
            unlock = ("SELECT RELEASE_LOCK(:n)", {"n": SCHEMA_LOCK_NAME})
        try:
            # Only helpers every MLflow 2 and 3 release has (a newer image may drop others).
            current = utils._get_schema_version(engine)
            head = utils._get_latest_schema_revision()
            tables = sqlalchemy.inspect(engine).get_table_names()
            if not [t for t in tables if not t.startswith("alembic_")]:
                log("empty database: creating the MLflow schema")
                utils._initialize_tables(engine)
            elif current != head:
                log(f"upgrading the MLflow schema from {current} to {head}")
                utils._upgrade_db(engine)
            log(f"database schema is current ({head})")
        finally:
            lock.execute(sqlalchemy.text(unlock[0]), unlock[1])
    engine.dispose()


def confirm_refusal(uri):
    """One fresh connection with the task's credentials: exits 3 if the database refuses them,
    0 if it accepts them, 1 on any other failure (unreachable, resuming: nothing is decided)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(uri, poolclass=sqlalchemy.pool.NullPool)
    try:
        engine.connect().close()
    except Exception as exc:
        if AUTH_FAILURE.search(str(exc)):
            raise SystemExit(EXIT_CREDENTIALS_REFUSED) from None
        log(f"the confirming connection failed ({type(exc).__name__}); nothing decided")
        raise SystemExit(1) from None
    log("the database accepts the credentials: the refusal text in the output was not its own")
    raise SystemExit(0)


def confirmation():
    """Start this script again (as `python -c`, like the supervisor) to try the credentials."""
    return subprocess.Popen(
        [sys.executable, *sys.orig_argv[1:]], env={**os.environ, SUPERVISING: "confirm"}
    )


def relay(source, sink, suspect):
    """Copy the server's error output as it comes (blocks of bytes, not lines); note when it
    holds the text of a refused password (a reason to confirm, never a decision)."""
    tail = b""
    while block := os.read(source, 65536):
        written = 0
        while written < len(block):  # a signal may interrupt a write part-way
            written += os.write(sink, block[written:])
        if AUTH_FAILURE_IN_OUTPUT.search(tail + block):
            suspect.set()
        tail = block[-64:]  # a match across two blocks


def supervise(argv, confirm=confirmation):
    """Run the server; forward SIGTERM/SIGINT; stop it when a fresh connection of its own
    (``confirm``) finds the credentials refused. Returns the exit status of the container."""
    server = subprocess.Popen(argv, stderr=subprocess.PIPE)
    suspect = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, _frame: server.send_signal(signum))
    source = server.stderr.fileno()
    relaying = threading.Thread(target=relay, args=(source, 2, suspect), daemon=True)
    relaying.start()
    checking, pending, next_check, refused = None, False, 0.0, False
    while server.poll() is None and not refused:
        if suspect.wait(0.5):
            suspect.clear()
            pending = True
        if checking is not None and checking.poll() is not None:
            refused = checking.returncode == EXIT_CREDENTIALS_REFUSED
            checking = None
        elif pending and checking is None and time.monotonic() >= next_check:
            pending, next_check = False, time.monotonic() + CONFIRM_INTERVAL_SECONDS
            checking = confirm()
    if checking is not None:
        checking.kill()
        checking.wait()
    if server.poll() is None:  # refused: stop serving errors
        server.terminate()
        try:
            server.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    relaying.join(5)
    if refused:
        refuse_credentials()
    return server.returncode if server.returncode >= 0 else 128 - server.returncode


def main():
    env = os.environ
    mode = env.pop(SUPERVISING, None)
    if mode == "1":  # the second start: only supervise
        sys.exit(supervise(["mlflow", "server"]))
    if mode == "confirm":  # started by the supervisor: the backend store URI is in env
        confirm_refusal(env["MLFLOW_BACKEND_STORE_URI"])
    # Only the serving pool closes idle sessions: a migration step may leave its connection
    # idle longer than that (a long backfill), and losing it mid-migration fails the start.
    schema_uri = backend_store_uri(dict(env), idle=False)
    env["MLFLOW_BACKEND_STORE_URI"] = backend_store_uri(env)
    env["MLFLOW_SERVER_ALLOWED_HOSTS"] = allowed_hosts(env.get("MLFLOW_CFN_ALLOWED_HOSTS", ""))
    prepare_schema(schema_uri)
    log(f"starting mlflow server for {env['MLFLOW_SERVER_ALLOWED_HOSTS']}")
    # Start this script again in a fresh process (same pid, same command): preparing the schema
    # imported MLflow and SQLAlchemy (about 200 MiB) that the supervisor does not need.
    env[SUPERVISING] = "1"
    os.execv(sys.executable, sys.orig_argv)


if __name__ == "__main__":  # `python -c` runs it as __main__; tests import it
    main()
