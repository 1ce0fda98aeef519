"""Parameters as CloudFormation resolves them: the declared types, the values given (overrides
over defaults, lists split on commas) and the pseudo parameters of the stack."""

import re
import uuid
from collections.abc import Mapping
from typing import Any

from mlflow_cfn.cfn.evaluate.constraints import constraint_errors
from mlflow_cfn.cfn.evaluate.errors import TemplateError, fail
from mlflow_cfn.cfn.evaluate.values import NO_VALUE, describe, scalar_text
from mlflow_cfn.cfn.partitions import dns_suffix, partition_of

_AWS_TYPE = r"AWS::[A-Za-z0-9]+(?:::[A-Za-z0-9]+)+"
_PLAIN_TYPES = rf"String|Number|List<Number>|CommaDelimitedList|{_AWS_TYPE}|List<{_AWS_TYPE}>"
_SSM_VALUE_TYPES = rf"String|List<String>|CommaDelimitedList|{_AWS_TYPE}|List<{_AWS_TYPE}>"
_PARAMETER_TYPE = re.compile(
    rf"(?:{_PLAIN_TYPES})|AWS::SSM::Parameter::Value<(?:{_SSM_VALUE_TYPES})>"
)


def _is_list_type(parameter_type: str) -> bool:
    """Whether a parameter type resolves to a list of strings."""
    return parameter_type == "CommaDelimitedList" or "List<" in parameter_type


def coerce_value(value: Any) -> str | None:
    """A parameter value as CloudFormation receives it: lists comma-joined, numbers as text,
    booleans (YAML's unquoted ``true``) as CloudFormation's ``true`` and ``false``.

    None for anything else (null, objects, nested lists)."""
    items = value if isinstance(value, list) else [value]
    texts = [scalar_text(item) for item in items]
    if any(text is None for text in texts):
        return None
    return ",".join(text for text in texts if text is not None)


def pseudo_parameters(
    region: str, account_id: str, stack_name: str, partition: str | None
) -> dict[str, Any]:
    """The pseudo parameters of a stack in a region and account; the partition (unless given)
    and the URL suffix as botocore's partition data gives them (`mlflow_cfn.cfn.partitions`)."""
    if partition is None:
        partition = partition_of(region)["id"]
    stack_uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"{partition}/{region}/{account_id}/{stack_name}")
    return {
        "AWS::AccountId": account_id,
        "AWS::NotificationARNs": [],
        "AWS::NoValue": NO_VALUE,
        "AWS::Partition": partition,
        "AWS::Region": region,
        "AWS::StackId": (
            f"arn:{partition}:cloudformation:{region}:{account_id}:stack/{stack_name}/{stack_uuid}"
        ),
        "AWS::StackName": stack_name,
        "AWS::URLSuffix": dns_suffix(partition),
    }


def parameter_definitions(template: dict) -> dict[str, dict]:
    """The Parameters section, checked for shape and known types."""
    definitions = template.get("Parameters") or {}
    if not isinstance(definitions, dict):
        fail("Parameters must be an object")
    errors = []
    for name, spec in definitions.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("Type"), str):
            errors.append(f"Parameter '{name}' must be an object with a Type")
        elif not _PARAMETER_TYPE.fullmatch(spec["Type"]):
            errors.append(f"Parameter '{name}' has an unrecognized Type '{spec['Type']}'")
    if errors:
        raise TemplateError(errors)
    return definitions


def resolve_parameters(
    definitions: dict[str, dict], given: Mapping[str, Any]
) -> tuple[dict[str, str | list[str]], list[str]]:
    """Every parameter's value (overrides over defaults) and every problem with them."""
    errors: list[str] = []
    unknown = [str(key) for key in given if key not in definitions]
    if unknown:
        errors.append(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    values: dict[str, str | list[str]] = {}
    missing: list[str] = []
    violations: list[str] = []
    for name, spec in definitions.items():
        source = given[name] if name in given else spec.get("Default")
        if source is None:
            missing.append(name)
            continue
        raw = coerce_value(source)
        if raw is None:
            origin = "value" if name in given else "Default"
            errors.append(f"Parameter '{name}' {origin} must be a string, got {describe(source)}")
            continue
        value: str | list[str] = raw
        if _is_list_type(spec["Type"]):
            value = [item.strip() for item in raw.split(",")]
        values[name] = value
        violations.extend(constraint_errors(name, spec, raw, value))
    if missing:
        errors.append(f"Parameters: [{', '.join(missing)}] must have values")
    return values, errors + violations


def given_value_problems(template: dict, given: Mapping[str, Any]) -> list[str]:
    """What `resolve_parameters` finds wrong with the values given alone: names the template
    does not declare, values its constraints refuse; nothing about parameters left out (an
    update keeps their deployed values, unknown here)."""
    definitions = parameter_definitions(template)
    _, errors = resolve_parameters({k: v for k, v in definitions.items() if k in given}, given)
    return errors
