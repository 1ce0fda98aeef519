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
