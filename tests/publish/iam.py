"""A small IAM policy evaluator for the tests: does a set of resolved statements allow one request?

What it models (IAM User Guide, "Policy evaluation logic" and "IAM JSON policy elements"): an
explicit Deny wins, then any Allow; Action/NotAction are matched case-insensitively, Resource/
NotResource case-sensitively, both with the wildcards ``*`` (any run of characters, ``:`` and
``/`` included) and ``?`` (one character); every condition operator of a statement must hold, and
within an operator every key; a key with several values holds if any value matches. A key missing
from the request makes a positive operator false and a negated one (StringNotEquals, StringNotLike,
ArnNotEquals, ArnNotLike) true; ``ForAnyValue:`` compares each request value (false when missing);
``...IfExists`` is true when the key is missing. Not modelled: policy variables, NotPrincipal,
resource-based policies, session policies, SCPs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

Context = Mapping[str, str | list[str]]


@cache
def _pattern(text: str, ignore_case: bool) -> re.Pattern[str]:
    """``text`` with IAM's wildcards as a regular expression."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Whether ``value`` matches the IAM wildcard ``pattern`` as a whole."""
    return _pattern(pattern, ignore_case).fullmatch(value) is not None


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _compare(operator: str, expected: str, actual: str) -> bool:
    """One positive comparison of a request value with a policy value."""
    if operator in ("StringEquals", "ArnEquals"):
        return actual == expected
    if operator in ("StringLike", "ArnLike"):
        return matches(expected, actual)
    if operator == "Bool":
        return str(actual).lower() == str(expected).lower()
    raise ValueError(f"condition operator {operator} is not modelled")


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _holds(operator: str, key: str, expected: Any, context: Context) -> bool:
    """Whether one key of one condition operator holds for the request ``context``."""
    qualifier, _, operator = operator.rpartition(":")
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    if key not in context:
        return if_exists or (operator in _NEGATED and qualifier != "ForAnyValue")
    actual = [str(v) for v in _listed(context[key])]
    wanted = [str(v) for v in _listed(expected)]
    positive = _NEGATED.get(operator, operator)
    if qualifier == "ForAnyValue":
        found = any(_compare(positive, w, a) for a in actual for w in wanted)
    elif qualifier == "ForAllValues":
        found = all(any(_compare(positive, w, a) for w in wanted) for a in actual)
    else:
        found = any(_compare(positive, w, a) for a in actual for w in wanted)
    return not found if operator in _NEGATED else found


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Context) -> bool:
    """Whether ``statement`` covers the request (action, resource, conditions)."""
    if "Action" in statement:
        hit = any(matches(a, action, ignore_case=True) for a in _listed(statement["Action"]))
    else:
        hit = not any(matches(a, action, ignore_case=True) for a in _listed(statement["NotAction"]))
    if not hit:
        return False
    if "Resource" in statement:
        hit = any(matches(r, resource) for r in _listed(statement["Resource"]))
    else:
        hit = not any(matches(r, resource) for r in _listed(statement["NotResource"]))
    if not hit:
        return False
    return all(
        _holds(operator, key, expected, context)
        for operator, keys in statement.get("Condition", {}).items()
        for key, expected in keys.items()
    )


def allowed(
    statements: Iterable[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Context | None = None,
) -> bool:
    """Whether the identity ``statements`` allow ``action`` on ``resource`` (no explicit Deny
    applies and some Allow does)."""
    applying = [s for s in statements if _applies(s, action, resource, context or {})]
    if any(s["Effect"] == "Deny" for s in applying):
        return False
    return any(s["Effect"] == "Allow" for s in applying)


def allowed_within(
    policy: Iterable[Mapping[str, Any]],
    boundary: Iterable[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Context | None = None,
) -> bool:
    """Whether a role with identity ``policy`` and permissions ``boundary`` may do the request:
    both must allow it (IAM User Guide, "Permissions boundaries for IAM entities")."""
    return allowed(policy, action, resource, context) and allowed(
        boundary, action, resource, context
    )
