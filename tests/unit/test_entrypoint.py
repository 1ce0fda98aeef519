"""The container start-up script: URI encoding and allowed hosts (run for real in tests/runtime)."""

from __future__ import annotations

import runpy
import urllib.parse
from importlib import resources

import pytest
import sqlalchemy

from mlflow_cfn.stack.components.mlflow_container import entrypoint_source

script = runpy.run_path(
    str(resources.files("mlflow_cfn.stack.container") / "entrypoint.py"),
    run_name="entrypoint_under_test",
)


def env(password: str, **extra) -> dict:
    return {
        "MLFLOW_CFN_DB_USERNAME": "mlflow_admin",
        "MLFLOW_CFN_DB_PASSWORD": password,
        "MLFLOW_CFN_DB_DIALECT": "postgresql+psycopg2",
        "MLFLOW_CFN_DB_HOST": "db.cluster-abc.eu-west-1.rds.amazonaws.com",
        "MLFLOW_CFN_DB_PORT": "5432",
        "MLFLOW_CFN_DB_NAME": "mlflow",
        "MLFLOW_CFN_DB_QUERY": "sslmode=require",
        **extra,
    }


@pytest.mark.parametrize(
    "password", ["p@ss:w/rd%#?&=+", "a'b\"c", "plain", "ünï©ødé ", "%25%", "[]{}!$*,;"]
)
def test_passwords_round_trip_through_the_uri(password):
    e = env(password)
    uri = script["backend_store_uri"](e)
    url = sqlalchemy.make_url(uri)
    assert url.password == password
    assert url.username == "mlflow_admin"
    assert url.host == "db.cluster-abc.eu-west-1.rds.amazonaws.com"
    assert url.port == 5432 and url.database == "mlflow"
    assert url.query == {"sslmode": "require"}
    assert "MLFLOW_CFN_DB_PASSWORD" not in e and "MLFLOW_CFN_DB_USERNAME" not in e
    assert urllib.parse.quote(password, safe="") in uri


def test_the_schema_is_prepared_without_the_idle_timeout_and_served_with_it(monkeypatch):
    """Issue 24: the idle-session timeout lets Aurora pause while the server's pool idles; a
    migration step that leaves its connection idle longer would lose it mid-migration. main
    prepares the schema with a URI without it and gives the server the URI with it."""
    import os

    main = script["main"]
    prepared = []
    monkeypatch.setitem(main.__globals__, "prepare_schema", prepared.append)

    def execv(*_args):
        raise SystemExit("execv")

    monkeypatch.setattr(os, "execv", execv)
    variables = env("p@ss", MLFLOW_CFN_DB_IDLE_SECONDS="60", MLFLOW_CFN_ALLOWED_HOSTS="h")
    main_sets = ["MLFLOW_BACKEND_STORE_URI", "MLFLOW_SERVER_ALLOWED_HOSTS"]
    main_sets.append("MLFLOW_CFN_SUPERVISING")
    for name in main_sets:
        monkeypatch.setenv(name, "")  # restored after the test, whatever main sets
    monkeypatch.delenv("MLFLOW_CFN_SUPERVISING")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit, match="execv"):
        main()
    (schema,) = prepared
    serving = os.environ["MLFLOW_BACKEND_STORE_URI"]
    assert sqlalchemy.make_url(schema).query == {"sslmode": "require"}
    assert sqlalchemy.make_url(serving).query == {
        "sslmode": "require",
        "options": "-c idle_session_timeout=60000",
    }
    assert sqlalchemy.make_url(schema).password == sqlalchemy.make_url(serving).password == "p@ss"
    assert "MLFLOW_CFN_DB_PASSWORD" not in os.environ  # the credentials left the environment


def test_allowed_hosts_cover_case_and_ports():
    hosts = script["allowed_hosts"](
        "internal-MLflow-Load-1AB.eu-west-1.elb.amazonaws.com,ml.example.com"
    )
    assert hosts.split(",") == [
        "internal-MLflow-Load-1AB.eu-west-1.elb.amazonaws.com",
        "internal-MLflow-Load-1AB.eu-west-1.elb.amazonaws.com:*",
        "internal-mlflow-load-1ab.eu-west-1.elb.amazonaws.com",
        "internal-mlflow-load-1ab.eu-west-1.elb.amazonaws.com:*",
        "ml.example.com",
        "ml.example.com:*",
    ]


def test_the_template_embeds_exactly_this_script(default_template):
    containers = default_template["Resources"]["TaskDefinition"]["Properties"][
        "ContainerDefinitions"
    ]
    (container,) = [c for c in containers if c.get("Name") == "mlflow"]
    assert container["EntryPoint"] == ["python", "-c"]
    assert container["Command"] == [entrypoint_source()]
    compile(entrypoint_source(), "entrypoint.py", "exec")


# --- Supervision: a refused password ends the task; signals reach the server --------------------
REFUSALS = [
    'connection to server at "10.0.1.5", port 5432 failed: FATAL:  password authentication '
    'failed for user "mlflow_admin"',
    "(pymysql.err.OperationalError) (1045, \"Access denied for user 'mlflow_admin'@'10.0.1.9' "
    '(using password: YES)")',
]


def server_printing(text: str, stream: str = "stderr", then: str = "time.sleep(60)") -> list:
    """A stand-in server that writes ``text`` to ``stream`` every 0.1 s for 3 s, then ``then``."""
    loop = f"for _ in range(30):\n    print({text!r}, file=sys.{stream}, flush=True)\n"
    return ["python3", "-c", f"import sys, time\n{loop}    time.sleep(0.1)\n{then}"]


class Confirmations:
    """Stands in for the confirming connection: each call starts a process exiting ``status``."""

    def __init__(self, status: int) -> None:
        self.status, self.calls = status, 0

    def __call__(self):
        import subprocess

        self.calls += 1
        return subprocess.Popen(["python3", "-c", f"raise SystemExit({self.status})"])


@pytest.mark.parametrize("message", REFUSALS)
def test_a_refusal_its_own_connection_confirms_stops_the_server_and_exits_3(message, capfd):
    confirm = Confirmations(3)
    with pytest.raises(SystemExit) as exited:
        script["supervise"](server_printing(message), confirm)
    assert exited.value.code == 3 and confirm.calls == 1
    err = capfd.readouterr().err
    assert message in err  # the server's output passes through
    assert "the database refused the credentials" in err


@pytest.mark.parametrize("status", [0, 1], ids=["accepted", "not-reached"])
@pytest.mark.parametrize("message", REFUSALS)
def test_the_text_of_a_refusal_alone_stops_nothing(message, status):
    """Issue 23 item 6: a client writes this text into the server's output at will (uvicorn's
    access log carries the query string; an error may quote a request). When the supervisor's
    own connection is accepted (or fails otherwise: nothing decided), the server goes on, and
    the text is tried at most once a minute."""
    confirm = Confirmations(status)
    server = server_printing(message, then="sys.exit(7)")
    assert script["supervise"](server, confirm) == 7
    assert confirm.calls == 1  # thirty lines in three seconds: one confirmation


def test_the_access_log_is_not_read(capfd):
    """The server's standard output (uvicorn's access log, one line per request) goes to the
    container's output unread: no confirmation, however often a client writes the text."""
    confirm = Confirmations(3)
    server = server_printing(REFUSALS[1], stream="stdout", then="sys.exit(0)")
    assert script["supervise"](server, confirm) == 0
    assert confirm.calls == 0
    assert REFUSALS[1] in capfd.readouterr().out


def test_a_refusal_split_across_two_reads_is_noticed():
    import os
    import threading

    read_end, write_end = os.pipe()
    sink_read, sink = os.pipe()
    suspect = threading.Event()
    relaying = threading.Thread(target=script["relay"], args=(read_end, sink, suspect))
    relaying.start()
    os.write(write_end, b"... password authentication fai")
    assert not suspect.wait(0.3)
    os.write(write_end, b"led for user ...\n")
    assert suspect.wait(5)
    os.close(write_end)
    relaying.join(5)
    os.close(sink)
    assert os.read(sink_read, 1000) == b"... password authentication failed for user ...\n"


@pytest.mark.parametrize(
    "message",
    ["GET /health 200", 'FATAL:  database "mlflow" does not exist', "connection refused"],
)
def test_other_errors_and_the_servers_own_exit_status_pass_through(message, capfd):
    confirm = Confirmations(3)
    server = ["python3", "-c", f"import sys; print({message!r}, file=sys.stderr); sys.exit(7)"]
    assert script["supervise"](server, confirm) == 7
    assert message in capfd.readouterr().err and confirm.calls == 0


def test_a_confirmation_is_this_script_started_again_with_its_mode(monkeypatch):
    import subprocess
    import sys

    started = {}
    monkeypatch.setattr(sys, "orig_argv", ["python", "-c", "<the script>"])
    monkeypatch.setattr(subprocess, "Popen", lambda argv, env: started.update(argv=argv, env=env))
    script["confirmation"]()
    assert started["argv"] == [sys.executable, "-c", "<the script>"]
    assert started["env"]["MLFLOW_CFN_SUPERVISING"] == "confirm"


def test_sigterm_is_forwarded_to_the_server(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    marker = tmp_path / "got-sigterm"
    server = (
        "import signal, sys, time; "
        f"signal.signal(signal.SIGTERM, lambda *a: (open({str(marker)!r}, 'w').close(), "
        "sys.exit(0))); print('ready', flush=True); time.sleep(60)"
    )
    path = str(resources.files("mlflow_cfn.stack.container") / "entrypoint.py")
    supervisor = subprocess.Popen(
        [sys.executable, "-c", f"import runpy, sys; s = runpy.run_path({path!r}, run_name='x'); "
         "sys.exit(s['supervise'](['python3', '-c', sys.argv[1]]))", server],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert supervisor.stdout.readline() == b"ready\n"
    began = time.monotonic()
    os.kill(supervisor.pid, signal.SIGTERM)
    assert supervisor.wait(10) == 0 and marker.exists()
    assert time.monotonic() - began < 5
