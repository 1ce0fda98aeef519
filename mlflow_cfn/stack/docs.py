"""README fragments generated from the code, so the documentation cannot drift from the template
(tests/unit/test_readme.py checks the README holds them verbatim)."""

from __future__ import annotations

from collections.abc import Sequence

from mlflow_cfn.stack.interface import GROUPS
from mlflow_cfn.stack.options import StackOptions
from mlflow_cfn.stack.parameters import ParameterSpec


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
    from mlflow_cfn.stack.template import parameter_specs  # imports every component

    return specs_table(parameter_specs(options or StackOptions()), GROUPS)


def specs_table(specs: Sequence[ParameterSpec], groups: Sequence[str]) -> str:
    """The Markdown table of ``specs`` in the console order of ``groups`` (any template's)."""
    rows = ["| Parameter | Default | Allowed | What it does |", "|---|---|---|---|"]
    for spec in sorted(specs, key=lambda s: groups.index(s.group)):  # stable inside a group
        rows.append(f"| `{spec.name}` | {_default(spec)} | {_allowed(spec)} | {spec.description} |")
    return "\n".join(rows) + "\n"


def outputs_table(template: dict | None = None) -> str:
    """A Markdown table of every Output of ``template`` (default: the product template): its
    name, what it is (its Description) and when a stack has it (its Condition, told in Parameter
    values)."""
    if template is None:
        from mlflow_cfn.stack.template import build_template  # imports every component

        template = build_template(StackOptions()).to_dict()
    conditions = template.get("Conditions", {})
    rows = ["| Output | What it is | When present |", "|---|---|---|"]
    for name, output in sorted(template["Outputs"].items()):
        when = "always"
        if "Condition" in output:
            when = _condition_text(conditions, conditions[output["Condition"]])
        rows.append(f"| `{name}` | {output['Description']} | {when} |")
    return "\n".join(rows) + "\n"


def _condition_text(conditions: dict, node: dict) -> str:
    """A Condition told in Parameter values ("`AuthMode` is `cognito` and `CognitoUserPoolArn`
    is empty"); ValueError for a form this does not tell (extend it, never write it by hand)."""
    if "Condition" in node:
        return _condition_text(conditions, conditions[node["Condition"]])
    for function, word in (("Fn::And", " and "), ("Fn::Or", " or ")):
        if function in node:
            return word.join(_condition_text(conditions, n) for n in node[function])
    negated = "Fn::Not" in node
    equals = (node["Fn::Not"][0] if negated else node).get("Fn::Equals")
    if not equals or not isinstance(equals[0], dict) or set(equals[0]) != {"Ref"}:
        raise ValueError(f"cannot tell {node} in words")
    parameter, value = equals[0]["Ref"], equals[1]
    if value == "":
        return f"`{parameter}` is {'given' if negated else 'empty'}"
    return f"`{parameter}` {'is not' if negated else 'is'} `{value}`"
