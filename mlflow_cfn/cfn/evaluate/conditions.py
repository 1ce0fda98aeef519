"""The condition functions: Fn::Equals, Fn::And, Fn::Or and Fn::Not (shared by Conditions and
Rules) and {"Condition": name} (Conditions only). Values compare in their string forms."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlflow_cfn.cfn.evaluate.values import arguments, canonical, literal_name

if TYPE_CHECKING:
    from collections.abc import Callable

    from mlflow_cfn.cfn.evaluate.evaluator import Ctx, Evaluator


def fn_equals(ev: Evaluator, arg: Any, ctx: Ctx) -> bool:
    """Fn::Equals of two values, compared in their string forms."""
    left, right = arguments(arg, "Fn::Equals", 2)
    return canonical(ev.resolve(left, ctx)) == canonical(ev.resolve(right, ctx))


def fn_and(ev: Evaluator, arg: Any, ctx: Ctx) -> bool:
    """Fn::And of 2 to 10 conditions (every one evaluated, so each is checked)."""
    return all([ev.boolean(item, ctx) for item in arguments(arg, "Fn::And", 2, 10)])


def fn_or(ev: Evaluator, arg: Any, ctx: Ctx) -> bool:
    """Fn::Or of 2 to 10 conditions (every one evaluated, so each is checked)."""
    return any([ev.boolean(item, ctx) for item in arguments(arg, "Fn::Or", 2, 10)])


def fn_not(ev: Evaluator, arg: Any, ctx: Ctx) -> bool:
    """Fn::Not of one condition."""
    (item,) = arguments(arg, "Fn::Not", 1)
    return not ev.boolean(item, ctx)


def fn_condition(ev: Evaluator, arg: Any, ctx: Ctx) -> bool:
    """{"Condition": "Name"} inside Conditions."""
    return ev.condition(literal_name(arg, "Condition"))


BOOLEAN_HANDLERS: dict[str, Callable[[Evaluator, Any, Ctx], Any]] = {
    "Fn::Equals": fn_equals,
    "Fn::And": fn_and,
    "Fn::Or": fn_or,
    "Fn::Not": fn_not,
}
"""The condition functions that Rules may use too, by name."""

HANDLERS: dict[str, Callable[[Evaluator, Any, Ctx], Any]] = {
    **BOOLEAN_HANDLERS,
    "Condition": fn_condition,
}
"""The functions of the Conditions section that are not also functions of Resources, by name."""
