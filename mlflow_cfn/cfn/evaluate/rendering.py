"""The created resources and kept outputs of a template, rendered with every intrinsic applied,
each resource's and output's problems collected at once."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mlflow_cfn.cfn.evaluate.errors import TemplateError, fail
from mlflow_cfn.cfn.evaluate.values import NO_VALUE, describe, literal_name, unwrap

if TYPE_CHECKING:
    from mlflow_cfn.cfn.evaluate.evaluator import Evaluator


@contextmanager
def collected(errors: list[str], where: str) -> Iterator[None]:
    """Add the messages of a TemplateError raised inside to `errors`, prefixed with `where`."""
    try:
        yield
    except TemplateError as exc:
        errors.extend(f"{where}: {m}" for m in exc.errors)


def render(ev: Evaluator, template: dict) -> tuple[dict[str, dict], dict[str, dict]]:
    """Every created resource and every kept output, all errors collected at once."""
    errors: list[str] = []
    resources: dict[str, dict] = {}
    for logical_id in ev.resources:
        with collected(errors, f"Resources.{logical_id}"):
            if ev.created(logical_id):
                resources[logical_id] = _render_resource(ev, logical_id)
    outputs: dict[str, dict] = {}
    for name, output in (template.get("Outputs") or {}).items():
        with collected(errors, f"Outputs.{name}"):
            rendered = _render_output(ev, output)
            if rendered is not None:
                outputs[name] = rendered
    if errors:
        raise TemplateError(errors)
    return resources, outputs


def _render_resource(ev: Evaluator, logical_id: str) -> dict:
    """A created resource with intrinsics applied, without its Condition key."""
    rendered: dict[str, Any] = {}
    for key, value in ev.resources[logical_id].items():
        if key == "Condition":
            continue
        if key == "Type":
            rendered[key] = value
        elif key == "DependsOn":
            _check_depends_on(ev, logical_id, value)
            rendered[key] = copy.deepcopy(value)
        else:
            resolved = ev.resolve(value)
            if resolved is not NO_VALUE:
                rendered[key] = unwrap(resolved)
    return rendered


def _check_depends_on(ev: Evaluator, logical_id: str, depends_on: Any) -> None:
    """Refuse DependsOn entries naming unknown or not-created resources."""
    names = [depends_on] if isinstance(depends_on, str) else depends_on
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        fail(f"DependsOn must be a resource name or a list of them, got {describe(names)}")
    errors = []
    for name in names:
        if name not in ev.resources:
            errors.append(f"DependsOn {name}, which is not a resource of the template")
        elif not ev.created(name):
            condition = ev.resources[name]["Condition"]
            errors.append(
                f"{logical_id} DependsOn {name}, which is not created "
                f"(its Condition {condition} is false)"
            )
    if errors:
        raise TemplateError(errors)


def _render_output(ev: Evaluator, output: Any) -> dict | None:
    """An output with intrinsics applied, without its Condition key; None where that is false."""
    if not isinstance(output, dict) or "Value" not in output:
        fail("an output must be an object with a Value")
    condition = output.get("Condition")
    if condition is not None and not ev.condition(literal_name(condition, "Condition")):
        return None
    rendered = unwrap(ev.resolve({k: v for k, v in output.items() if k != "Condition"}))
    if "Value" not in rendered:
        fail("Value resolves to AWS::NoValue")
    return rendered
