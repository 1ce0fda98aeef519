"""The constraints of a parameter definition checked on a value: AllowedValues, AllowedPattern,
MinLength/MaxLength and MinValue/MaxValue, each problem worded as CloudFormation reports it."""

import re
from collections.abc import Callable
from decimal import Decimal

from mlflow_cfn.cfn.evaluate.errors import fail
from mlflow_cfn.cfn.evaluate.values import as_str, describe, number, scalar_text

Shown = Callable[[str], str]
"""How a value appears in a message: itself, or ``****`` for a NoEcho parameter."""


def constraint_errors(name: str, spec: dict, raw: str, value: str | list[str]) -> list[str]:
    """Every violated constraint of one parameter value, as messages naming the parameter."""
    items = value if isinstance(value, list) else [value]
    secret = str(spec.get("NoEcho", "")).lower() == "true"

    def shown(text: str) -> str:
        return "****" if secret else text

    numeric = spec["Type"] in ("Number", "List<Number>")
    errors = [
        f"Parameter '{name}' must be a number, got '{shown(item)}'"
        for item in items
        if numeric and number(item) is None
    ]
    problems = [
        *_allowed_value_problems(name, spec, items, numeric, shown),
        *_pattern_problems(name, spec, items, shown),
        *(
            _range_problems(name, spec, items, shown)
            if numeric
            else _length_problems(name, spec, raw, shown)
        ),
    ]
    description = spec.get("ConstraintDescription")
    for problem in problems:
        if description:
            errors.append(
                f"Parameter '{name}' failed to satisfy constraint: {description} ({problem})"
            )
        else:
            errors.append(f"Parameter '{name}' {problem}")
    return errors


def _template_number(spec: dict, key: str, name: str) -> Decimal:
    """A numeric constraint of a parameter definition."""
    value = number(scalar_text(spec[key]) or "")
    if value is None:
        fail(f"Parameter '{name}': {key} must be a number, got {describe(spec[key])}")
    return value


def _allowed_value_problems(
    name: str, spec: dict, items: list[str], numeric: bool, shown: Shown
) -> list[str]:
    """The items outside AllowedValues (numbers compared by value for numeric types)."""
    if "AllowedValues" not in spec:
        return []
    allowed = [as_str(a, f"Parameter '{name}' AllowedValues") for a in spec["AllowedValues"]]
    numbers = {n for a in allowed if (n := number(a)) is not None} if numeric else set()
    return [
        f"value '{shown(item)}' is not one of AllowedValues [{', '.join(allowed)}]"
        for item in items
        if item not in allowed and number(item) not in numbers
    ]


def _pattern_problems(name: str, spec: dict, items: list[str], shown: Shown) -> list[str]:
    """The items that do not match AllowedPattern as a whole. The pattern is quoted only without
    a ConstraintDescription: that is the sentence a reader needs, and a pattern such as an IPv4
    CIDR list's (240 characters) would bury it."""
    if "AllowedPattern" not in spec:
        return []
    pattern = as_str(spec["AllowedPattern"], f"Parameter '{name}' AllowedPattern")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        fail(f"Parameter '{name}': AllowedPattern {pattern!r} is not a valid regex: {exc}")
    where = (
        "its AllowedPattern" if spec.get("ConstraintDescription") else f"AllowedPattern '{pattern}'"
    )
    return [
        f"value '{shown(item)}' does not match {where}"
        for item in items
        if not compiled.fullmatch(item)
    ]


def _length_problems(name: str, spec: dict, raw: str, shown: Shown) -> list[str]:
    """MinLength/MaxLength of the whole given string (lists included)."""
    problems = []
    if "MinLength" in spec and len(raw) < _template_number(spec, "MinLength", name):
        problems.append(
            f"value '{shown(raw)}' is shorter than MinLength {spec['MinLength']} "
            f"({len(raw)} characters)"
        )
    if "MaxLength" in spec and len(raw) > _template_number(spec, "MaxLength", name):
        problems.append(
            f"value '{shown(raw)}' is longer than MaxLength {spec['MaxLength']} "
            f"({len(raw)} characters)"
        )
    return problems


def _range_problems(name: str, spec: dict, items: list[str], shown: Shown) -> list[str]:
    """MinValue/MaxValue of each numeric item (items that are no number are reported apart)."""
    problems = []
    for item in items:
        value = number(item)
        if value is None:
            continue
        if "MinValue" in spec and value < _template_number(spec, "MinValue", name):
            problems.append(f"value '{shown(item)}' is less than MinValue {spec['MinValue']}")
        if "MaxValue" in spec and value > _template_number(spec, "MaxValue", name):
            problems.append(f"value '{shown(item)}' is greater than MaxValue {spec['MaxValue']}")
    return problems
