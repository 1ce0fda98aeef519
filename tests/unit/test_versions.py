"""The MLflow version is pinned in one place and the test dependencies follow it."""

import tomllib

from mlflow_cfn.versions import DEFAULT_MLFLOW_IMAGE, MLFLOW_VERSION
from tests.conftest import ROOT


def test_pyproject_pins_the_same_mlflow_as_the_image():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert f"mlflow=={MLFLOW_VERSION}" in project["optional-dependencies"]["test"]
    # `mlflow-cfn smoke` talks to the server with the same client version the tests run.
    assert project["optional-dependencies"]["smoke"] == [f"mlflow=={MLFLOW_VERSION}"]
    assert f"ghcr.io/mlflow/mlflow:v{MLFLOW_VERSION}-full" == DEFAULT_MLFLOW_IMAGE


def test_installed_mlflow_is_the_pinned_one():
    import mlflow

    assert mlflow.__version__ == MLFLOW_VERSION


def test_template_default_image_is_the_pin(default_template):
    assert default_template["Parameters"]["MlflowImage"]["Default"] == DEFAULT_MLFLOW_IMAGE
