"""README fragments generated from the code, so the documentation cannot drift from the template
(tests/unit/test_readme.py checks the README holds them verbatim)."""

from __future__ import annotations

from mlflow_cfn.stack.interface import GROUPS
from mlflow_cfn.stack.options import StackOptions
from mlflow_cfn.stack.parameters import ParameterSpec, parameter_specs


def _default(spec: ParameterSpec) -> str:
    if spec.default is None:
        return "(required)"
    return "(empty)" if spec.default == "" else f"`{spec.default}`"


def _allowed(spec: ParameterSpec) -> str:
    if spec.type.startswith(("List<", "AWS::")):
        return f"`{spec.type}`"
    if spec.allowed_values:
        return ", ".join(map(str, spec.allowed_values))
    if spec.min_value is not None:
        return f"{spec.min_value} to {spec.max_value}"
    return "see description" if spec.allowed_pattern else spec.type


def parameters_table(options: StackOptions | None = None) -> str:
    """A Markdown table of every Parameter, in console order: name, default, allowed values,
    description."""
    rows = ["| Parameter | Default | Allowed | What it does |", "|---|---|---|---|"]
    specs = parameter_specs(options or StackOptions())
    for spec in sorted(specs, key=lambda s: GROUPS.index(s.group)):  # stable inside a group
        rows.append(f"| `{spec.name}` | {_default(spec)} | {_allowed(spec)} | {spec.description} |")
    return "\n".join(rows) + "\n"
