"""The MLflow version is pinned in one place and the test dependencies follow it."""

import importlib.metadata
import tomllib

from packaging.requirements import Requirement

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


def test_cfn_lint_is_a_range_for_users_and_a_pin_for_the_tests():
    """Users whose CI installs its own cfn-lint 1.x can install mlflow-cfn beside it (issue 25);
    the tests pin the version the committed templates were derived from, and run it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [r for r in map(Requirement, project["dependencies"]) if r.name == "cfn-lint"]
    pinned = [
        r
        for r in map(Requirement, project["optional-dependencies"]["test"])
        if r.name == "cfn-lint"
    ]
    (version,) = [str(s.version) for r in pinned for s in r.specifier if s.operator == "=="]
    assert [r.specifier.contains(v) for r in runtime for v in (version, "1.99.0", "2.0.0")] == [
        True,
        True,
        False,
    ]
    assert importlib.metadata.version("cfn-lint") == version
