"""The built wheel works from anywhere: installed into a fresh virtual environment and run from a
directory that is not the repository, every command that needs no AWS access works, with nothing
read from the checkout (templates, prices, the start-up script all come from the wheel).

Choices, to stay fast and offline:

* The wheel is built from a copy of the sources (so no ``build/`` or egg-info lands in the
  checkout) with ``pip wheel --no-deps``: without build isolation when this environment's
  setuptools reads PEP 639 license metadata (77 or later), otherwise isolated, which needs pip's
  configured index or cache to hold setuptools>=77.
* The fresh environment gets the wheel by ``pip --python`` (no pip inside it) and its dependencies
  by a ``.pth`` file naming this environment's site-packages as a plain path line. Python does not
  process ``.pth`` files in a directory added that way, so this environment's editable install of
  mlflow_cfn stays invisible: the test asserts that ``mlflow_cfn`` is imported from the fresh
  environment.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mlflow_cfn.versions import __version__
from tests.conftest import REQUIRED_PARAMETERS, ROOT, require_dot

#: What the wheel is built from: the files pyproject.toml names and the packages.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "mlflow_cfn", "service_catalog")


def _setuptools_reads_license_expressions() -> bool:
    major = importlib.metadata.version("setuptools").split(".")[0]
    return major.isdigit() and int(major) >= 77


def _run(*command: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a copy of its sources."""
    source, dist = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(ROOT / name, source / name)
    isolation = ["--no-build-isolation"] if _setuptools_reads_license_expressions() else []
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-w", dist, source]
    built = _run(*command, cwd=source, env=dict(os.environ))
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = dist.glob("mlflow_cfn-*.whl")
    return found


@pytest.fixture(scope="module")
def fresh(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed; its bin directory."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    bin_dir = venv / "bin"
    install = [sys.executable, "-m", "pip", "--python", bin_dir / "python", "install"]
    installed = _run(*install, "--no-deps", "--no-index", wheel, cwd=venv, env=dict(os.environ))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    purelib = subprocess.run(
        [bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return bin_dir


@pytest.fixture
def elsewhere(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A working directory outside the repository, and an environment that reaches no AWS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return tmp_path, env


def cli(fresh: Path, elsewhere: tuple[Path, dict[str, str]], *args: str) -> str:
    """Run the installed ``mlflow-cfn`` from ``elsewhere``; its standard output (exit 0
    asserted)."""
    cwd, env = elsewhere
    result = _run(fresh / "mlflow-cfn", *args, cwd=cwd, env=env)
    assert result.returncode == 0, f"mlflow-cfn {' '.join(args)}:\n{result.stderr[-3000:]}"
    return result.stdout


def test_the_wheel_is_what_runs(fresh, elsewhere):
    cwd, env = elsewhere
    code = "import mlflow_cfn, sys; print(mlflow_cfn.__file__); print(sys.prefix)"
    result = _run(fresh / "python", "-c", code, cwd=cwd, env=env)
    module, prefix = result.stdout.split()
    assert Path(module).is_relative_to(prefix) and Path(prefix) == fresh.parent
    assert not Path(module).is_relative_to(ROOT)


def test_the_wheel_carries_its_license_and_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    needed = ("mlflow_cfn/cost/prices/us-east-1.json", "mlflow_cfn/stack/container/entrypoint.py")
    assert set(needed) <= set(names)


def test_version(fresh, elsewhere):
    assert cli(fresh, elsewhere, "--version").strip() == f"mlflow-cfn {__version__}"


def test_synth_writes_the_committed_template(fresh, elsewhere):
    committed = json.loads((ROOT / "templates" / "mlflow.json").read_text())
    assert json.loads(cli(fresh, elsewhere, "synth")) == committed


def test_plan_with_the_default_template(fresh, elsewhere):
    cwd, _ = elsewhere
    (cwd / "params.json").write_text(json.dumps(REQUIRED_PARAMETERS))
    plan = ("plan", "--parameters", "params.json", "--region", "eu-west-1")
    assert "Resources (" in cli(fresh, elsewhere, *plan)


def test_cost_with_the_default_template(fresh, elsewhere):
    assert "idle shutdown" in cli(fresh, elsewhere, "cost")


def test_diagram_with_the_default_template(fresh, elsewhere):
    require_dot()
    cwd, _ = elsewhere
    cli(fresh, elsewhere, "diagram", "--output", "x.svg")
    assert "<svg" in (cwd / "x.svg").read_text()


def test_permissions(fresh, elsewhere):
    printed = cli(fresh, elsewhere, "permissions", "--for", "deploy", "--region", "eu-west-1")
    assert json.loads(printed)["Version"] == "2012-10-17"


def test_service_catalog_entry_point(fresh, elsewhere):
    cwd, env = elsewhere
    result = _run(fresh / "python", "-m", "service_catalog.publish", "--help", cwd=cwd, env=env)
    assert result.returncode == 0 and "--portfolio" in result.stdout, result.stderr
