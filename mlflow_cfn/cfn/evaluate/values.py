"""The values the evaluator passes around (AWS::NoValue, intrinsics kept for render_template) and
the checks and conversions that intrinsic functions apply to their arguments."""

import copy
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mlflow_cfn.cfn.evaluate.errors import fail

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


class NoValueType:
    """The value of AWS::NoValue: the property or list item holding it is removed."""


NO_VALUE = NoValueType()


@dataclass(frozen=True)
class Kept:
    """An intrinsic that render_template keeps because it points at a resource."""

    node: dict[str, Any]


def describe(value: Any) -> str:
    """A short JSON-ish rendering of a value for error messages."""
    if isinstance(value, NoValueType):
        return "AWS::NoValue"
    if isinstance(value, Kept):
        return json.dumps(value.node)
    return json.dumps(value, default=repr)


def scalar_text(value: Any) -> str | None:
    """The CloudFormation string form of a JSON scalar, None for anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return None


def canonical(value: Any) -> Any:
    """The form in which Fn::Equals and the rule functions compare values."""
    if isinstance(value, list):
        return [canonical(item) for item in value]
    text = scalar_text(value)
    return value if text is None else text


def unwrap(value: Any) -> Any:
    """A plain JSON copy of a rendered value, kept intrinsics turned back into dicts."""
    if isinstance(value, Kept):
        return copy.deepcopy(value.node)
    if isinstance(value, dict):
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


def number(text: str) -> Decimal | None:
    """The number a parameter value spells, None if it is not one."""
    return Decimal(text) if _NUMBER.fullmatch(text) else None


def as_str(value: Any, what: str) -> str:
    """A value that must be a string (numbers and booleans are stringified as CFN does)."""
    text = scalar_text(value)
    if text is None:
        fail(f"{what} must be a string, got {describe(value)}")
    return text


def as_int(value: Any, what: str) -> int:
    """A value that must be a non-negative integer, given as a number or a digit string."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    fail(f"{what} must be an integer, got {describe(value)}")


def as_list(value: Any, what: str) -> list[Any]:
    """A value that must be a list."""
    if not isinstance(value, list):
        fail(f"{what} needs a list, got {describe(value)}")
    return value


def arguments(arg: Any, function: str, low: int, high: int | None = None) -> list[Any]:
    """The argument list of an intrinsic, checked for its length (low..high, default exactly)."""
    high = low if high is None else high
    if not isinstance(arg, list) or not low <= len(arg) <= high:
        count = str(low) if low == high else f"{low} to {high}"
        fail(f"{function} takes a list of {count} arguments, got {describe(arg)}")
    return arg


def literal_name(arg: Any, function: str) -> str:
    """An argument that must be a literal logical name."""
    if not isinstance(arg, str):
        fail(f"{function} needs a logical name string, got {describe(arg)}")
    return arg
