"""Create-only properties: the values a stack update must not change on a stateful resource.

A change to a create-only property makes CloudFormation replace the resource: a new, empty
database or bucket, the old one deleted or left behind. The properties come from the resource
provider schemas bundled with cfn-lint (``createOnlyProperties`` and
``conditionalCreateOnlyProperties``, read offline, stable for a given cfn-lint version), plus
`IMMUTABLE_NOT_IN_SCHEMA`. Paths are schema pointers without ``/properties``: ``("DatabaseName",)``,
``("Tags", "*", "Key")`` where ``*`` is every item of a list.

Guarded resources are the stateful ones (`mlflow_cfn.cfn.changes.STATEFUL_TYPES`) and, transitively,
every resource their create-only values refer to: ``DatabaseCluster.DBSubnetGroupName`` is
``Ref DatabaseSubnetGroup``, so replacing the subnet group replaces the cluster.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from mlflow_cfn.cfn.changes import STATEFUL_TYPES
from mlflow_cfn.cfn.schemas import resource_schema

__all__ = [
    "IMMUTABLE_NOT_IN_SCHEMA",
    "PropertyPath",
    "create_only_changes",
    "create_only_properties",
    "create_only_snapshot",
    "create_only_values",
    "free_form_parameters_feeding_create_only",
    "guarded_resources",
    "stateful_resources",
]

PropertyPath = tuple[str, ...]
"""A property path below ``Properties``; ``*`` stands for every item of a list."""

REPLACES = "CloudFormation would replace the resource"
MAY_REPLACE = "CloudFormation may replace the resource (conditionally create-only)"
KMS_FAILS = "the stack update would fail: KMS cannot change it on an existing key"

IMMUTABLE_NOT_IN_SCHEMA: dict[str, dict[str, str]] = {
    "AWS::KMS::Key": {
        "KeySpec": KMS_FAILS,
        "KeyUsage": KMS_FAILS,
        "MultiRegion": KMS_FAILS,
        "Origin": KMS_FAILS,
    },
}
"""Properties a schema leaves updatable that cannot change in place, with what a change does.

The KMS key schema lists no create-only property, but its descriptions of these four say the value
cannot change after creation and an update that changes it fails."""

_ABSENT = object()
_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


def _pointer_path(pointer: str) -> PropertyPath:
    """``/properties/A/*/B`` -> ``("A", "*", "B")``."""
    return tuple(pointer.split("/")[2:])


@cache
def _create_only(resource_type: str) -> dict[PropertyPath, str]:
    """Create-only paths of ``resource_type`` and what changing each does."""
    from cfnlint.schema import ResourceNotFoundError  # with the schemas (`cfn.schemas`)

    try:
        schema = resource_schema(resource_type)
    except ResourceNotFoundError:
        raise ValueError(f"{resource_type}: no such resource type in cfn-lint's schemas") from None
    paths = {_pointer_path(p): REPLACES for p in schema.get("createOnlyProperties", [])}
    for pointer in schema.get("conditionalCreateOnlyProperties", []):
        paths.setdefault(_pointer_path(pointer), MAY_REPLACE)
    for name, consequence in IMMUTABLE_NOT_IN_SCHEMA.get(resource_type, {}).items():
        paths.setdefault((name,), consequence)
    return dict(sorted(paths.items()))


def create_only_properties(resource_type: str) -> list[PropertyPath]:
    """The create-only property paths of ``resource_type`` (conditional ones included), sorted.

    Raises ValueError for a type cfn-lint's bundled schemas do not know."""
    return list(_create_only(resource_type))


def _is_intrinsic(node: Any) -> bool:
    """True for ``{"Ref": ...}`` or ``{"Fn::...": ...}``."""
    if not isinstance(node, dict) or len(node) != 1:
        return False
    key = next(iter(node))
    return key == "Ref" or key.startswith("Fn::")


def _values_at(node: Any, path: PropertyPath, at: PropertyPath = ()) -> Iterator[tuple[str, Any]]:
    """(concrete path, value) of every value at ``path`` below ``node``; an intrinsic function or
    a scalar met on the way is the value at the path so far (its change is a change)."""
    if not path or _is_intrinsic(node) or not isinstance(node, dict | list):
        yield "/".join(at), node
    elif path[0] == "*" and isinstance(node, list):
        for index, item in enumerate(node):
            yield from _values_at(item, path[1:], (*at, str(index)))
    elif isinstance(node, dict) and path[0] in node:
        yield from _values_at(node[path[0]], path[1:], (*at, path[0]))


def _entries(resource: dict) -> dict[str, tuple[Any, str]]:
    """(value, what changing it does) at each create-only path the resource sets, by concrete
    path."""
    properties = resource.get("Properties", {})
    return {
        where: (value, consequence)
        for path, consequence in _create_only(resource["Type"]).items()
        for where, value in _values_at(properties, path)
    }


def create_only_values(resource: dict) -> dict[str, Any]:
    """The values a resource sets at its create-only paths, by concrete path (``Tags/0/Key``)."""
    return {where: value for where, (value, _) in _entries(resource).items()}


def _show(value: Any) -> str:
    """A value as compact JSON, or ``(not set)``."""
    return "(not set)" if value is _ABSENT else json.dumps(value, sort_keys=True)


def _with_defaults(value: Any, defaults: dict[str, Any]) -> Any:
    """``value`` with each ``{"Ref": P}`` to a parameter in ``defaults`` replaced by its default."""
    if isinstance(value, dict):
        if value.keys() == {"Ref"} and value["Ref"] in defaults:
            return defaults[value["Ref"]]
        return {key: _with_defaults(item, defaults) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_defaults(item, defaults) for item in value]
    return value


def create_only_changes(
    old_template: dict, new_template: dict, logical_ids: Iterable[str]
) -> list[str]:
    """One message per create-only value of ``logical_ids`` that differs from old to new.

    A Parameter the old template does not declare is new: updating a stack gives it its Default,
    so a Ref to it compares as that Default (a literal becoming a new parameter whose Default is
    that literal changes nothing). A resource missing from the new template, or of another type,
    is reported too (it would be deleted or replaced); one missing from the old template is new
    and has nothing to compare."""
    old_resources, new_resources = old_template["Resources"], new_template["Resources"]
    old_parameters = old_template.get("Parameters", {})
    defaults = {
        name: spec["Default"]
        for name, spec in new_template.get("Parameters", {}).items()
        if name not in old_parameters and "Default" in spec
    }
    messages = []
    for logical_id in logical_ids:
        old, new = old_resources.get(logical_id), new_resources.get(logical_id)
        if old is None:
            continue
        if new is None:
            messages.append(
                f"{logical_id} ({old['Type']}): missing from the new template: CloudFormation "
                "would delete the resource"
            )
            continue
        if old["Type"] != new["Type"]:
            messages.append(
                f"{logical_id}: type changed from {old['Type']} to {new['Type']}: {REPLACES}"
            )
            continue
        before, after = _entries(old), _entries(new)
        for where in sorted(before.keys() | after.keys()):
            was, consequence = before.get(where, (_ABSENT, REPLACES))
            now, consequence = after.get(where, (_ABSENT, consequence))
            resolved = _with_defaults(now, defaults)
            if _show(was) != _show(resolved):  # as JSON: true and 1 differ
                shown = _show(now)
                if resolved != now:
                    shown += f" (new parameters at their defaults: {_show(resolved)})"
                messages.append(
                    f"{logical_id} ({new['Type']}): create-only property {where} changed from "
                    f"{_show(was)} to {shown}: {consequence}"
                )
    return messages


def _references(value: Any) -> tuple[set[str], set[str]]:
    """(names, conditions) ``value`` refers to: Ref, GetAtt and Sub targets (parameters,
    resources, pseudo parameters), and the conditions of Fn::If and Condition."""
    names: set[str] = set()
    conditions: set[str] = set()
    pending = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending += node
        if not isinstance(node, dict):
            continue
        for key, arg in node.items():
            if key == "Ref" and isinstance(arg, str):
                names.add(arg)
            elif key == "Fn::GetAtt":
                target = arg[0] if isinstance(arg, list) else str(arg).split(".")[0]
                names.add(target)
            elif key == "Fn::Sub":
                text, local = (arg[0], arg[1]) if isinstance(arg, list) else (arg, {})
                names |= {v.split(".")[0] for v in _SUB_VARIABLE.findall(text)} - set(local)
                pending.append(local)
            elif key == "Fn::If" and isinstance(arg, list):
                conditions.add(arg[0])
                pending += arg[1:]
            elif key == "Condition" and isinstance(arg, str):
                conditions.add(arg)
            else:
                pending.append(arg)
    return names, conditions


def _parameters_behind(template: dict, value: Any) -> set[str]:
    """The Parameters ``value`` follows, directly or through the Conditions it uses."""
    parameters = template.get("Parameters", {})
    definitions = template.get("Conditions", {})
    names, pending = _references(value)
    seen: set[str] = set()
    while pending:
        condition = pending.pop()
        if condition in seen:
            continue
        seen.add(condition)
        more_names, more_conditions = _references(definitions.get(condition))
        names |= more_names
        pending |= more_conditions
    return names & parameters.keys()


def stateful_resources(template: dict) -> list[str]:
    """Logical IDs of the resources that hold data (types in `STATEFUL_TYPES`), sorted."""
    return sorted(
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in STATEFUL_TYPES
    )


def guarded_resources(template: dict) -> list[str]:
    """Stateful resources and, transitively, the resources their create-only values refer to
    (a replaced one changes that value and so replaces the stateful resource), sorted."""
    resources = template["Resources"]
    guarded: set[str] = set()
    pending = stateful_resources(template)
    while pending:
        logical_id = pending.pop()
        if logical_id in guarded:
            continue
        guarded.add(logical_id)
        names, _ = _references(list(create_only_values(resources[logical_id]).values()))
        pending += sorted(names & resources.keys())
    return sorted(guarded)


def free_form_parameters_feeding_create_only(template: dict) -> list[str]:
    """One message per create-only value of a guarded resource that follows a free-form parameter
    (no AllowedValues), directly or through a Condition: a replacement waiting to happen."""
    parameters = template.get("Parameters", {})
    free_form = {name for name, spec in parameters.items() if "AllowedValues" not in spec}
    messages = []
    for logical_id in guarded_resources(template):
        resource = template["Resources"][logical_id]
        for where, (value, consequence) in _entries(resource).items():
            for name in sorted(_parameters_behind(template, value) & free_form):
                messages.append(
                    f"{logical_id} ({resource['Type']}): create-only property {where} follows "
                    f"free-form parameter {name} (no AllowedValues): a new value means "
                    f"{consequence}"
                )
    return messages


def create_only_snapshot(template: dict, logical_ids: Iterable[str]) -> dict[str, dict]:
    """For each resource, its Type and the top-level properties that hold a create-only path: a
    ``Resources`` section that `create_only_changes` can compare a later template with."""
    snapshot = {}
    for logical_id in logical_ids:
        resource = template["Resources"][logical_id]
        tops = {path[0] for path in create_only_properties(resource["Type"])}
        properties = resource.get("Properties", {})
        snapshot[logical_id] = {
            "Type": resource["Type"],
            "Properties": {k: v for k, v in sorted(properties.items()) if k in tops},
        }
    return snapshot
