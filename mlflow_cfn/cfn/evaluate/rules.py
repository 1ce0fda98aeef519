"""The Rules section: which assertions of which applicable rules fail, and the functions only
rules may use (Fn::Contains, Fn::EachMemberEquals, Fn::EachMemberIn, Fn::RefAll, Fn::ValueOf,
Fn::ValueOfAll). An assertion referring to a parameter without a value is skipped."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from mlflow_cfn.cfn.evaluate.errors import MissingValue, fail
from mlflow_cfn.cfn.evaluate.values import arguments, as_list, canonical, literal_name

if TYPE_CHECKING:
    from collections.abc import Callable

    from mlflow_cfn.cfn.evaluate.evaluator import Ctx, Evaluator


def check_rules(ev: Evaluator, rules: dict) -> list[str]:
    """The AssertDescription of every failed assertion of every applicable rule."""
    errors: list[str] = []
    for name, rule in rules.items():
        assertions = rule.get("Assertions") if isinstance(rule, dict) else None
        if not isinstance(assertions, list):
            fail(f"Rule {name} must be an object with a list of Assertions")
        if "RuleCondition" in rule and not _holds(ev, rule["RuleCondition"], default=False):
            continue
        for number, assertion in enumerate(assertions, start=1):
            if not isinstance(assertion, dict) or "Assert" not in assertion:
                fail(f"Rule {name}: assertion {number} must be an object with an Assert")
            if _holds(ev, assertion["Assert"], default=True):
                continue
            description = assertion.get("AssertDescription") or f"assertion {number} failed"
            errors.append(f"Rule {name}: {description}")
    return errors


def _holds(ev: Evaluator, node: Any, *, default: bool) -> bool:
    """A rule condition or assertion; `default` where it refers to a parameter without a value."""
    try:
        return ev.boolean(node, "rule")
    except MissingValue:
        return default


def _strings(ev: Evaluator, node: Any, ctx: Ctx, what: str) -> list[Any]:
    """A node that must resolve to a list, in comparison form."""
    return canonical(as_list(ev.resolve(node, ctx), what))


def fn_contains(ev: Evaluator, arg: Any, ctx: Ctx) -> bool:
    """Fn::Contains [list, string]: the string is one of the list's values."""
    values, item = arguments(arg, "Fn::Contains", 2)
    return canonical(ev.resolve(item, ctx)) in _strings(ev, values, ctx, "Fn::Contains")


def fn_each_member_equals(ev: Evaluator, arg: Any, ctx: Ctx) -> bool:
    """Fn::EachMemberEquals [list, string]: every value of the list is the string."""
    values, item = arguments(arg, "Fn::EachMemberEquals", 2)
    expected = canonical(ev.resolve(item, ctx))
    return all(v == expected for v in _strings(ev, values, ctx, "Fn::EachMemberEquals"))


def fn_each_member_in(ev: Evaluator, arg: Any, ctx: Ctx) -> bool:
    """Fn::EachMemberIn [list, list]: every value of the first is in the second."""
    checked, allowed = arguments(arg, "Fn::EachMemberIn", 2)
    allowed_values = _strings(ev, allowed, ctx, "Fn::EachMemberIn")
    return all(v in allowed_values for v in _strings(ev, checked, ctx, "Fn::EachMemberIn"))


def _parameters_of_type(ev: Evaluator, arg: Any, function: str) -> list[str]:
    """The template's parameters of the type a rule function names."""
    parameter_type = literal_name(arg, function)
    return [n for n, spec in ev.definitions.items() if spec["Type"] == parameter_type]


def fn_ref_all(ev: Evaluator, arg: Any, ctx: Ctx) -> list[str]:
    """Fn::RefAll: the given values of the template's parameters of one type."""
    values: list[str] = []
    for name in _parameters_of_type(ev, arg, "Fn::RefAll"):
        value = ev.ref(name, ctx, "Fn::RefAll")
        values.extend(value if isinstance(value, list) else [value])
    return values


def fn_value_of(ev: Evaluator, arg: Any, ctx: Ctx) -> Any:
    """Fn::ValueOf [parameter, attribute]: attributes["Param.Attr"] or a placeholder."""
    name, attribute = (literal_name(a, "Fn::ValueOf") for a in arguments(arg, "Fn::ValueOf", 2))
    if name not in ev.definitions:
        fail(f"Fn::ValueOf to {name}, which is not a parameter of the template")
    if name not in ev.values:
        raise MissingValue(name)
    key = f"{name}.{attribute}"
    return copy.deepcopy(ev.attributes.get(key, f"<{key}>"))


def fn_value_of_all(ev: Evaluator, arg: Any, ctx: Ctx) -> list[Any]:
    """Fn::ValueOfAll [type, attribute]: Fn::ValueOf of every parameter of the type."""
    parameter_type, attribute = arguments(arg, "Fn::ValueOfAll", 2)
    values: list[Any] = []
    for name in _parameters_of_type(ev, parameter_type, "Fn::ValueOfAll"):
        value = fn_value_of(ev, [name, attribute], ctx)
        values.extend(value if isinstance(value, list) else [value])
    return values


HANDLERS: dict[str, Callable[[Evaluator, Any, Ctx], Any]] = {
    "Fn::Contains": fn_contains,
    "Fn::EachMemberEquals": fn_each_member_equals,
    "Fn::EachMemberIn": fn_each_member_in,
    "Fn::RefAll": fn_ref_all,
    "Fn::ValueOf": fn_value_of,
    "Fn::ValueOfAll": fn_value_of_all,
}
"""The functions only Rules may use, by name."""
