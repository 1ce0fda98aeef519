"""The evaluator's core: where each intrinsic function may be used, resolution of a template
fragment, named conditions (memoized, cycles refused) and references to parameters, pseudo
parameters and resources. The functions themselves live in `functions`, `conditions`, `rules`."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, Literal

from mlflow_cfn.cfn.evaluate import conditions, functions, rules
from mlflow_cfn.cfn.evaluate.errors import MissingValue, fail
from mlflow_cfn.cfn.evaluate.values import NO_VALUE, Kept, describe, literal_name

Ctx = Literal["template", "condition", "rule"]
"""The template section being resolved: it decides which functions are allowed."""

CTX_NAMES: dict[Ctx, str] = {
    "template": "Resources, Outputs or Metadata",
    "condition": "Conditions",
    "rule": "Rules",
}
_ALLOWED: dict[Ctx, frozenset[str]] = {
    "template": frozenset(functions.HANDLERS),
    "condition": frozenset(
        ["Ref", "Fn::FindInMap", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::Sub"]
    ).union(conditions.HANDLERS),
    "rule": frozenset(["Ref"]).union(conditions.BOOLEAN_HANDLERS, rules.HANDLERS),
}
_HANDLERS: dict[str, Callable[[Evaluator, Any, Ctx], Any]] = {
    **functions.HANDLERS,
    **conditions.HANDLERS,
    **rules.HANDLERS,
}


class Evaluator:
    """Resolves intrinsic functions against one parameter set, conditions evaluated on demand."""

    def __init__(
        self,
        template: dict,
        definitions: dict[str, dict],
        values: dict[str, str | list[str]],
        pseudo: dict[str, Any],
        attributes: Mapping[str, object],
        physical_ids: Mapping[str, str],
        keep_resource_refs: bool,
    ) -> None:
        self.definitions = definitions
        self.values = values
        self.pseudo = pseudo
        self.attributes = attributes
        self.physical_ids = physical_ids
        self.keep = keep_resource_refs
        self.resources: dict[str, dict] = template.get("Resources") or {}
        self.mappings: dict[str, Any] = template.get("Mappings") or {}
        self.condition_definitions: dict[str, Any] = template.get("Conditions") or {}
        self._conditions: dict[str, bool] = {}
        self._condition_stack: list[str] = []

    def resolve(self, node: Any, ctx: Ctx = "template") -> Any:
        """A template fragment with every intrinsic applied and AWS::NoValue entries removed."""
        if isinstance(node, dict):
            if len(node) == 1:
                name = next(iter(node))
                if name in _ALLOWED[ctx]:
                    return _HANDLERS[name](self, node[name], ctx)
                if name.startswith("Fn::"):
                    if name in _HANDLERS:
                        fail(f"{name} cannot be used in {CTX_NAMES[ctx]}")
                    fail(f"unknown intrinsic function {name}")
            resolved = {key: self.resolve(value, ctx) for key, value in node.items()}
            return {key: value for key, value in resolved.items() if value is not NO_VALUE}
        if isinstance(node, list):
            items = [self.resolve(item, ctx) for item in node]
            return [item for item in items if item is not NO_VALUE]
        return node

    def boolean(self, node: Any, ctx: Ctx) -> bool:
        """A node that must evaluate to a condition value."""
        value = self.resolve(node, ctx)
        if not isinstance(value, bool):
            fail(f"expected a condition function in {CTX_NAMES[ctx]}, got {describe(node)}")
        return value

    def condition(self, name: str) -> bool:
        """The value of a named condition (memoized; cycles between conditions are refused)."""
        if name in self._conditions:
            return self._conditions[name]
        if name not in self.condition_definitions:
            fail(f"Condition '{name}' is not defined in Conditions")
        if name in self._condition_stack:
            cycle = [*self._condition_stack[self._condition_stack.index(name) :], name]
            fail(f"Conditions form a cycle: {' -> '.join(cycle)}")
        self._condition_stack.append(name)
        try:
            value = self.boolean(self.condition_definitions[name], "condition")
        finally:
            self._condition_stack.pop()
        self._conditions[name] = value
        return value

    def created(self, logical_id: str) -> bool:
        """Whether a resource of the template is created (no Condition, or a true one)."""
        name = self.resources[logical_id].get("Condition")
        return name is None or self.condition(literal_name(name, "Condition"))

    def ref(self, name: str, ctx: Ctx, how: str) -> Any:
        """The value of a parameter, pseudo parameter or resource reference."""
        if name in self.definitions:
            if name not in self.values:
                raise MissingValue(name)
            return copy.deepcopy(self.values[name])
        if name in self.pseudo:
            value = self.pseudo[name]
            return list(value) if isinstance(value, list) else value
        if name in self.resources:
            self._check_target(name, ctx, how)
            if self.keep:
                return Kept({"Ref": name})
            return self.physical_ids.get(name, f"<{name}>")
        fail(f"{how} to {name}, which is no parameter, resource or pseudo parameter")

    def get_att(self, logical_id: str, attribute: str, ctx: Ctx) -> Any:
        """The value of a resource attribute."""
        if logical_id not in self.resources:
            fail(f"Fn::GetAtt to {logical_id}, which is not a resource of the template")
        if not attribute:
            fail(f"Fn::GetAtt to {logical_id} names no attribute")
        self._check_target(logical_id, ctx, "Fn::GetAtt")
        if self.keep:
            return Kept({"Fn::GetAtt": [logical_id, attribute]})
        key = f"{logical_id}.{attribute}"
        return copy.deepcopy(self.attributes.get(key, f"<{key}>"))

    def _check_target(self, logical_id: str, ctx: Ctx, how: str) -> None:
        """Refuse references to resources from Conditions/Rules and to resources not created."""
        if ctx != "template":
            fail(f"{CTX_NAMES[ctx]} cannot refer to resource {logical_id} ({how})")
        if not self.created(logical_id):
            condition = self.resources[logical_id]["Condition"]
            fail(
                f"{how} to resource {logical_id}, which is not created "
                f"(its Condition {condition} is false)"
            )
