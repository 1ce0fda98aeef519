"""docs/ARCHITECTURE.md stays true: every path it names exists, every component module and
every package is described, imports run one way, and the code keeps the sizes the layout
promises."""

import ast
import graphlib
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


#: The packages of mlflow_cfn from the bottom up: a module imports only from its own package or
#: from a package of a lower layer (docs/ARCHITECTURE.md, "Imports run one way"). ``mlflow_cfn``
#: is the package's __init__.py, the public API.
LAYERS = (
    {"versions"},
    {"cfn"},
    {"stack"},
    {"network"},
    {"cost", "catalog", "smoke"},
    {"commands"},
    {"cli"},
    {"mlflow_cfn"},
)


def _module_name(path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:``: annotations only, never executed."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for child in node.body for n in ast.walk(child)}
    return skipped


def _resolve(name: str) -> str:
    """The mlflow_cfn module ``name`` is, or is in (``a.b.NAME`` -> ``a.b``)."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def package_imports(path) -> set[str]:
    """The mlflow_cfn modules ``path`` imports anywhere in it: at the top, in a function or a
    class (what a lazy import ties together is tied as much), except under TYPE_CHECKING."""
    tree = ast.parse(path.read_text())
    skipped, here = _type_checking_only(tree), _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, one level up per extra dot
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".rstrip(".")
            found |= {
                f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names
            }
    return {_resolve(n) for n in found if n.split(".")[0] == "mlflow_cfn"} - {here}


def test_lazy_imports_count():
    """The function-level import of the whole template in `stack/docs.py` is an import too."""
    assert "mlflow_cfn.stack.template" in package_imports(PACKAGE / "stack" / "docs.py")


def test_imports_run_one_way():
    """No import circle inside mlflow_cfn, counting imports inside functions: one lazy import
    from a low module up to `stack/template.py` tied all of `stack/` into one (issue 25)."""
    graph = {name: package_imports(path) for name, path in MODULES.items()}
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        raise AssertionError(f"import circle: {' -> '.join(reversed(exc.args[1]))}") from None


def _package(module: str) -> str:
    """``mlflow_cfn.stack.checks`` -> ``stack``; ``mlflow_cfn`` (the __init__.py) -> itself."""
    return module.split(".")[1] if "." in module else module


def test_packages_import_only_from_layers_below():
    layer = {package: n for n, packages in enumerate(LAYERS) for package in packages}
    assert set(layer) == {_package(m) for m in MODULES}, "place every package in LAYERS"
    upward = sorted(
        f"{name} imports {imported}"
        for name, path in MODULES.items()
        for imported in package_imports(path)
        if _package(imported) != _package(name)
        and layer[_package(imported)] >= layer[_package(name)]
    )
    assert upward == []
