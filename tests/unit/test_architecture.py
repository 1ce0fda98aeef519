"""docs/ARCHITECTURE.md stays true: every path it names exists, every component module and
every package is described, and the code keeps the sizes the layout promises."""

import ast
import re

from tests.conftest import ROOT

DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
PACKAGE = ROOT / "mlflow_cfn"


def test_every_path_the_architecture_names_exists():
    paths = set(re.findall(r"`((?:mlflow_cfn|tests|service_catalog)/[\w/.]+)`", DOC))
    assert paths, "the document names no path"
    missing = sorted(p for p in paths if not (ROOT / p.rstrip("/")).exists())
    assert not missing, f"named in docs/ARCHITECTURE.md but missing: {missing}"


def test_every_component_and_package_is_described():
    components = sorted((PACKAGE / "stack" / "components").glob("[!_]*.py"))
    undescribed = [
        p.name for p in components if f"`mlflow_cfn/stack/components/{p.name}`" not in DOC
    ]
    assert not undescribed, f"describe these components in docs/ARCHITECTURE.md: {undescribed}"
    packages = [p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()]
    assert sorted(p for p in packages if f"`mlflow_cfn/{p}/`" not in DOC) == []


def _long_functions(path):
    tree = ast.parse(path.read_text())
    return [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > 60
    ]


def test_small_pieces():
    """No function over 60 lines, no module over 400 (issue 10: split by meaning)."""
    modules = sorted(PACKAGE.rglob("*.py"))
    long_modules = [
        f"{p.relative_to(ROOT)} ({n})" for p in modules if (n := p.read_text().count("\n")) > 400
    ]
    long_functions = [f for p in modules for f in _long_functions(p)]
    assert (long_modules, long_functions) == ([], [])
