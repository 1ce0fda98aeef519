"""Parameter files as ``aws cloudformation create-stack`` and ``deploy`` accept them, read into
the {name: value} form `evaluate` takes, every malformed entry reported at once."""

import json
from pathlib import Path
from typing import Any

from mlflow_cfn.cfn.evaluate.errors import ParameterError
from mlflow_cfn.cfn.evaluate.parameters import coerce_value
from mlflow_cfn.cfn.evaluate.values import describe

_FIELDS = frozenset({"ParameterKey", "ParameterValue", "UsePreviousValue", "ResolvedValue"})


def _parameter_pairs(data: Any, origin: str, errors: list[str]) -> list[tuple[str, Any]]:
    """The (key, value) pairs of a parameter file in any accepted shape, problems to `errors`."""
    if isinstance(data, dict):
        pairs = list(data.items())
        for key, _ in pairs:
            if not isinstance(key, str) or not key:
                errors.append(f"{origin}: parameter name {key!r} must be a non-empty string")
        return [(k, v) for k, v in pairs if isinstance(k, str) and k]
    if not isinstance(data, list):
        errors.append(
            f"{origin}: expected a list of {{ParameterKey, ParameterValue}} objects, a list of "
            f"'Key=Value' strings or a {{Key: Value}} object, got {type(data).__name__}"
        )
        return []
    pairs = []
    for number, item in enumerate(data, start=1):
        pair = _item_pair(item, f"{origin}: item {number}", errors)
        if pair is not None:
            pairs.append(pair)
    return pairs


def _item_pair(item: Any, where: str, errors: list[str]) -> tuple[str, Any] | None:
    """The (key, value) of one list entry ('Key=Value' or a ParameterKey object), or its problem."""
    if isinstance(item, str):
        key, equals, value = item.partition("=")
        if equals and key:
            return key, value
        errors.append(f"{where}: {item!r} is not of the form 'Key=Value'")
        return None
    if not isinstance(item, dict):
        errors.append(f"{where}: expected an object or a 'Key=Value' string, got {item!r}")
        return None
    extra = sorted(set(item) - _FIELDS)
    key = item.get("ParameterKey")
    if extra:
        errors.append(f"{where}: unknown field(s) {', '.join(extra)}")
    elif "ParameterKey" not in item:
        errors.append(f"{where}: missing ParameterKey")
    elif not isinstance(key, str) or not key:
        errors.append(f"{where}: ParameterKey must be a non-empty string, got {key!r}")
    elif item.get("UsePreviousValue") is True:
        errors.append(
            f"{where} ({key}): UsePreviousValue needs the deployed stack's value and cannot "
            "be evaluated offline; give a ParameterValue instead"
        )
    elif "ParameterValue" not in item:
        errors.append(f"{where} ({key}): missing ParameterValue")
    else:
        return key, item["ParameterValue"]
    return None


def load_parameters(source: str | Path | Any, origin: str = "parameters") -> dict[str, str]:
    """Parameter values from a JSON file path or an already-loaded object.

    Accepts the `create-stack --parameters file://` list of {ParameterKey, ParameterValue},
    the `deploy --parameter-overrides` {Key: Value} object and its ["Key=Value"] list. A list value
    is joined with commas, numbers become strings and booleans ``true`` or ``false``; every
    malformed entry is reported at once in a ParameterError, each naming ``origin`` (the file,
    for a path)."""
    data = source
    if isinstance(source, str | Path):
        origin = str(source)
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ParameterError([f"{origin}: cannot read: {exc.strerror or exc}"]) from exc
        except json.JSONDecodeError as exc:
            raise ParameterError([f"{origin}: not valid JSON: {exc}"]) from exc
    return parameters_from_data(data, origin)


def parameters_from_data(data: Any, origin: str) -> dict[str, str]:
    """Parameter values from an already-loaded document (see `load_parameters`); a string is
    not a parameter file (not a path either)."""
    errors: list[str] = []
    values: dict[str, str] = {}
    for key, value in _parameter_pairs(data, origin, errors):
        text = coerce_value(value)
        if key in values:
            errors.append(f"{origin}: parameter {key} is given more than once")
        elif text is None:
            errors.append(f"{origin}: value of {key} must be a string, got {describe(value)}")
        else:
            values[key] = text
    if errors:
        raise ParameterError(errors)
    return values
