"""Evaluate a CloudFormation template offline, the way CloudFormation would for a parameter set.

`evaluate` resolves parameters (defaults, overrides, every constraint), checks the ``Rules``
section, evaluates ``Conditions`` and renders every created resource and output with all
intrinsic functions applied. `render_template` produces a concrete template for static scanners
that keeps only the intrinsics pointing at resources. `load_parameters` reads the parameter files
that ``aws cloudformation create-stack`` and ``deploy`` accept.

Choices where CloudFormation cannot be reproduced offline or its behaviour is not documented:

* A ``Ref`` to a resource gives ``physical_ids[logical_id]``, else the placeholder
  ``"<LogicalId>"``; ``Fn::GetAtt`` gives ``attributes["LogicalId.Attr"]``, else
  ``"<LogicalId.Attr>"``; ``Fn::ImportValue`` gives ``"<ImportValue:Name>"``;
  ``Fn::GetAZs`` gives ``[region + "a", region + "b", region + "c"]``.
* List parameters (``CommaDelimitedList``, ``List<...>``) are split on commas with the spaces
  around each item stripped (as cfn-lint models it); an empty string gives ``[""]``.
* ``AllowedValues`` and ``AllowedPattern`` apply to each element of a list parameter,
  ``MinLength``/``MaxLength`` to the whole string, ``MinValue``/``MaxValue`` to ``Number`` and to
  each element of ``List<Number>``. AWS-specific types (``AWS::EC2::VPC::Id``...) are not looked up
  in an account; ``AWS::SSM::Parameter::Value<...>`` takes the given value as the resolved value.
  Values of ``NoEcho`` parameters are shown as ``****`` in error messages.
* ``Fn::Equals`` (and the rule functions) compare the string forms of scalars, so ``5`` equals
  ``"5"`` and ``true`` equals ``"true"``.
* Rules: ``Fn::RefAll`` returns the values given to this template's parameters of that type;
  ``Fn::ValueOf``/``Fn::ValueOfAll`` read ``attributes["Param.Attr"]`` (logical ids of parameters
  and resources share one namespace) and fall back to the placeholder ``"<Param.Attr>"``.
  An assertion that refers to a parameter without a value is skipped: that parameter is already
  reported as missing.
* Templates with a ``Transform`` are refused: macros cannot be expanded offline.
* `render_template` drops the ``Parameters`` section entirely (and the
  ``AWS::CloudFormation::Interface`` metadata that names them); ``Fn::ImportValue`` stays an
  intrinsic there, since its value is unknown, and ``Fn::GetAtt`` is always written in its list
  form.
* Problems with the template itself raise TemplateError (also an EvaluationError/ValueError),
  with every resource's and output's problem collected at once.
"""

import base64
import copy
import ipaddress
import itertools
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NoReturn

__all__ = [
    "Evaluated",
    "EvaluationError",
    "ParameterError",
    "TemplateError",
    "evaluate",
    "load_parameters",
    "render_template",
]


class EvaluationError(ValueError):
    """Base of the evaluator's errors: .errors lists every problem found, the message joins them."""

    def __init__(self, errors: list[str]) -> None:
        self.errors: list[str] = list(errors)
        super().__init__("\n".join(self.errors))


class ParameterError(EvaluationError):
    """Raised when parameters/rules are refused as CloudFormation would refuse them.

    .errors: list[str], every problem at once."""


class TemplateError(EvaluationError):
    """Raised when the template itself would be refused (bad intrinsic, missing map key...)."""


@dataclass(frozen=True)
class Evaluated:
    """What a stack created from the template with one parameter set would contain."""

    parameters: dict[str, object]
    conditions: dict[str, bool]
    resources: dict[str, dict]
    outputs: dict[str, object]
    exports: dict[str, object] = field(default_factory=dict)

    def of_type(self, type_name: str) -> dict[str, dict]:
        """The created resources of one type, by logical id."""
        return {lid: res for lid, res in self.resources.items() if res["Type"] == type_name}

    def resource(self, logical_id: str) -> dict:
        """One created resource; KeyError naming the resources that do exist otherwise."""
        if logical_id not in self.resources:
            known = ", ".join(sorted(self.resources)) or "none"
            raise KeyError(
                f"no resource {logical_id!r} in the evaluated stack (absent from the template or "
                f"its Condition is false); resources: {known}"
            )
        return self.resources[logical_id]


_Ctx = Literal["template", "condition", "rule"]
_CTX_NAMES: dict[_Ctx, str] = {
    "template": "Resources, Outputs or Metadata",
    "condition": "Conditions",
    "rule": "Rules",
}
_FUNCTIONS: dict[_Ctx, frozenset[str]] = {
    "template": frozenset(
        [
            "Ref",
            "Fn::GetAtt",
            "Fn::Sub",
            "Fn::Join",
            "Fn::Select",
            "Fn::Split",
            "Fn::FindInMap",
            "Fn::If",
            "Fn::Base64",
            "Fn::GetAZs",
            "Fn::ImportValue",
            "Fn::Cidr",
        ]
    ),
    "condition": frozenset(
        [
            "Ref",
            "Fn::FindInMap",
            "Fn::Join",
            "Fn::Select",
            "Fn::Split",
            "Fn::Sub",
            "Fn::Equals",
            "Fn::And",
            "Fn::Or",
            "Fn::Not",
            "Condition",
        ]
    ),
    "rule": frozenset(
        [
            "Ref",
            "Fn::Equals",
            "Fn::And",
            "Fn::Or",
            "Fn::Not",
            "Fn::Contains",
            "Fn::EachMemberEquals",
            "Fn::EachMemberIn",
            "Fn::RefAll",
            "Fn::ValueOf",
            "Fn::ValueOfAll",
        ]
    ),
}
_KNOWN_FUNCTIONS = frozenset().union(*_FUNCTIONS.values())

_AWS_TYPE = r"AWS::[A-Za-z0-9]+(?:::[A-Za-z0-9]+)+"
_PLAIN_TYPES = rf"String|Number|List<Number>|CommaDelimitedList|{_AWS_TYPE}|List<{_AWS_TYPE}>"
_SSM_VALUE_TYPES = rf"String|List<String>|CommaDelimitedList|{_AWS_TYPE}|List<{_AWS_TYPE}>"
_PARAMETER_TYPE = re.compile(
    rf"(?:{_PLAIN_TYPES})|AWS::SSM::Parameter::Value<(?:{_SSM_VALUE_TYPES})>"
)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_PARAMETER_FILE_FIELDS = frozenset(
    {"ParameterKey", "ParameterValue", "UsePreviousValue", "ResolvedValue"}
)


class _NoValueType:
    """The value of AWS::NoValue: the property or list item holding it is removed."""


_NO_VALUE = _NoValueType()


@dataclass(frozen=True)
class _Kept:
    """An intrinsic that render_template keeps because it points at a resource."""

    node: dict[str, Any]


class _MissingValue(Exception):
    """A rule refers to a parameter that has no value (already reported as missing)."""


def _fail(message: str) -> NoReturn:
    """Raise a TemplateError with one message."""
    raise TemplateError([message])


def _describe(value: Any) -> str:
    """A short JSON-ish rendering of a value for error messages."""
    if isinstance(value, _NoValueType):
        return "AWS::NoValue"
    if isinstance(value, _Kept):
        return json.dumps(value.node)
    return json.dumps(value, default=repr)


def _scalar_text(value: Any) -> str | None:
    """The CloudFormation string form of a JSON scalar, None for anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return None


def _canonical(value: Any) -> Any:
    """The form in which Fn::Equals and the rule functions compare values."""
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    text = _scalar_text(value)
    return value if text is None else text


def _unwrap(value: Any) -> Any:
    """A plain JSON copy of a rendered value, kept intrinsics turned back into dicts."""
    if isinstance(value, _Kept):
        return copy.deepcopy(value.node)
    if isinstance(value, dict):
        return {key: _unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unwrap(item) for item in value]
    return value


def _as_str(value: Any, what: str) -> str:
    """A value that must be a string (numbers and booleans are stringified as CFN does)."""
    text = _scalar_text(value)
    if text is None:
        _fail(f"{what} must be a string, got {_describe(value)}")
    return text


def _as_int(value: Any, what: str) -> int:
    """A value that must be a non-negative integer, given as a number or a digit string."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    _fail(f"{what} must be an integer, got {_describe(value)}")


def _as_list(value: Any, what: str) -> list[Any]:
    """A value that must be a list."""
    if not isinstance(value, list):
        _fail(f"{what} needs a list, got {_describe(value)}")
    return value


def _arguments(arg: Any, function: str, low: int, high: int | None = None) -> list[Any]:
    """The argument list of an intrinsic, checked for its length (low..high, default exactly)."""
    high = low if high is None else high
    if not isinstance(arg, list) or not low <= len(arg) <= high:
        count = str(low) if low == high else f"{low} to {high}"
        _fail(f"{function} takes a list of {count} arguments, got {_describe(arg)}")
    return arg


def _literal_name(arg: Any, function: str) -> str:
    """An argument that must be a literal logical name."""
    if not isinstance(arg, str):
        _fail(f"{function} needs a logical name string, got {_describe(arg)}")
    return arg


def _is_list_type(parameter_type: str) -> bool:
    """Whether a parameter type resolves to a list of strings."""
    return parameter_type == "CommaDelimitedList" or "List<" in parameter_type


def _is_number_type(parameter_type: str) -> bool:
    """Whether the values of a parameter type must be numbers."""
    return parameter_type in ("Number", "List<Number>")


def _number(text: str) -> Decimal | None:
    """The number a parameter value spells, None if it is not one."""
    return Decimal(text) if _NUMBER.fullmatch(text) else None


def _coerce_value(value: Any) -> str | None:
    """A parameter value as CloudFormation receives it: lists comma-joined, numbers as text.

    None for anything else (booleans, null, objects, nested lists)."""
    items = value if isinstance(value, list) else [value]
    texts = [None if isinstance(item, bool) else _scalar_text(item) for item in items]
    if any(text is None for text in texts):
        return None
    return ",".join(text for text in texts if text is not None)


def _pseudo_parameters(
    region: str, account_id: str, stack_name: str, partition: str | None
) -> dict[str, Any]:
    """The pseudo parameters of a stack in a region and account."""
    if partition is None:
        if region.startswith("cn-"):
            partition = "aws-cn"
        elif region.startswith("us-gov-"):
            partition = "aws-us-gov"
        else:
            partition = "aws"
    stack_uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"{partition}/{region}/{account_id}/{stack_name}")
    return {
        "AWS::AccountId": account_id,
        "AWS::NotificationARNs": [],
        "AWS::NoValue": _NO_VALUE,
        "AWS::Partition": partition,
        "AWS::Region": region,
        "AWS::StackId": (
            f"arn:{partition}:cloudformation:{region}:{account_id}:stack/{stack_name}/{stack_uuid}"
        ),
        "AWS::StackName": stack_name,
        "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
    }


def _template_number(spec: dict, key: str, name: str) -> Decimal:
    """A numeric constraint of a parameter definition."""
    value = _number(_scalar_text(spec[key]) or "")
    if value is None:
        _fail(f"Parameter '{name}': {key} must be a number, got {_describe(spec[key])}")
    return value


def _constraint_errors(name: str, spec: dict, raw: str, value: str | list[str]) -> list[str]:
    """Every violated constraint of one parameter value, as messages naming the parameter."""
    parameter_type = spec["Type"]
    items = value if isinstance(value, list) else [value]
    secret = str(spec.get("NoEcho", "")).lower() == "true"

    def shown(text: str) -> str:
        return "****" if secret else text

    errors: list[str] = []
    problems: list[str] = []
    numeric = _is_number_type(parameter_type)
    if numeric:
        for item in items:
            if _number(item) is None:
                errors.append(f"Parameter '{name}' must be a number, got '{shown(item)}'")
    if "AllowedValues" in spec:
        allowed = [_as_str(a, f"Parameter '{name}' AllowedValues") for a in spec["AllowedValues"]]
        numbers = {n for a in allowed if (n := _number(a)) is not None} if numeric else set()
        for item in items:
            if item not in allowed and _number(item) not in numbers:
                problems.append(
                    f"value '{shown(item)}' is not one of AllowedValues [{', '.join(allowed)}]"
                )
    if "AllowedPattern" in spec:
        pattern = _as_str(spec["AllowedPattern"], f"Parameter '{name}' AllowedPattern")
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            _fail(f"Parameter '{name}': AllowedPattern {pattern!r} is not a valid regex: {exc}")
        problems.extend(
            f"value '{shown(item)}' does not match AllowedPattern '{pattern}'"
            for item in items
            if not compiled.fullmatch(item)
        )
    if not numeric:
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
    else:
        for item in items:
            number = _number(item)
            if number is None:
                continue
            if "MinValue" in spec and number < _template_number(spec, "MinValue", name):
                problems.append(f"value '{shown(item)}' is less than MinValue {spec['MinValue']}")
            if "MaxValue" in spec and number > _template_number(spec, "MaxValue", name):
                problems.append(
                    f"value '{shown(item)}' is greater than MaxValue {spec['MaxValue']}"
                )
    description = spec.get("ConstraintDescription")
    for problem in problems:
        if description:
            errors.append(
                f"Parameter '{name}' failed to satisfy constraint: {description} ({problem})"
            )
        else:
            errors.append(f"Parameter '{name}' {problem}")
    return errors


def _parameter_definitions(template: dict) -> dict[str, dict]:
    """The Parameters section, checked for shape and known types."""
    definitions = template.get("Parameters") or {}
    if not isinstance(definitions, dict):
        _fail("Parameters must be an object")
    errors = []
    for name, spec in definitions.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("Type"), str):
            errors.append(f"Parameter '{name}' must be an object with a Type")
        elif not _PARAMETER_TYPE.fullmatch(spec["Type"]):
            errors.append(f"Parameter '{name}' has an unrecognized Type '{spec['Type']}'")
    if errors:
        raise TemplateError(errors)
    return definitions


def _resolve_parameters(
    definitions: dict[str, dict], given: Mapping[str, Any]
) -> tuple[dict[str, str | list[str]], list[str]]:
    """Every parameter's value (overrides over defaults) and every problem with them."""
    errors: list[str] = []
    unknown = [str(key) for key in given if key not in definitions]
    if unknown:
        errors.append(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    values: dict[str, str | list[str]] = {}
    missing: list[str] = []
    constraint_errors: list[str] = []
    for name, spec in definitions.items():
        source = given[name] if name in given else spec.get("Default")
        if source is None:
            missing.append(name)
            continue
        raw = _coerce_value(source)
        if raw is None:
            origin = "value" if name in given else "Default"
            errors.append(f"Parameter '{name}' {origin} must be a string, got {_describe(source)}")
            continue
        value: str | list[str] = raw
        if _is_list_type(spec["Type"]):
            value = [item.strip() for item in raw.split(",")]
        values[name] = value
        constraint_errors.extend(_constraint_errors(name, spec, raw, value))
    if missing:
        errors.append(f"Parameters: [{', '.join(missing)}] must have values")
    return values, errors + constraint_errors


class _Evaluator:
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
        self._handlers: dict[str, Callable[[Any, _Ctx], Any]] = {
            "Ref": self._fn_ref,
            "Fn::GetAtt": self._fn_get_att,
            "Fn::Sub": self._fn_sub,
            "Fn::Join": self._fn_join,
            "Fn::Select": self._fn_select,
            "Fn::Split": self._fn_split,
            "Fn::FindInMap": self._fn_find_in_map,
            "Fn::If": self._fn_if,
            "Fn::Base64": self._fn_base64,
            "Fn::GetAZs": self._fn_get_azs,
            "Fn::ImportValue": self._fn_import_value,
            "Fn::Cidr": self._fn_cidr,
            "Fn::Equals": self._fn_equals,
            "Fn::And": self._fn_and,
            "Fn::Or": self._fn_or,
            "Fn::Not": self._fn_not,
            "Condition": self._fn_condition,
            "Fn::Contains": self._fn_contains,
            "Fn::EachMemberEquals": self._fn_each_member_equals,
            "Fn::EachMemberIn": self._fn_each_member_in,
            "Fn::RefAll": self._fn_ref_all,
            "Fn::ValueOf": self._fn_value_of,
            "Fn::ValueOfAll": self._fn_value_of_all,
        }

    def resolve(self, node: Any, ctx: _Ctx = "template") -> Any:
        """A template fragment with every intrinsic applied and AWS::NoValue entries removed."""
        if isinstance(node, dict):
            if len(node) == 1:
                name = next(iter(node))
                if name in _FUNCTIONS[ctx]:
                    return self._handlers[name](node[name], ctx)
                if name.startswith("Fn::"):
                    if name in _KNOWN_FUNCTIONS:
                        _fail(f"{name} cannot be used in {_CTX_NAMES[ctx]}")
                    _fail(f"unknown intrinsic function {name}")
            resolved = {key: self.resolve(value, ctx) for key, value in node.items()}
            return {key: value for key, value in resolved.items() if value is not _NO_VALUE}
        if isinstance(node, list):
            items = [self.resolve(item, ctx) for item in node]
            return [item for item in items if item is not _NO_VALUE]
        return node

    def condition(self, name: str) -> bool:
        """The value of a named condition (memoized; cycles between conditions are refused)."""
        if name in self._conditions:
            return self._conditions[name]
        if name not in self.condition_definitions:
            _fail(f"Condition '{name}' is not defined in Conditions")
        if name in self._condition_stack:
            cycle = [*self._condition_stack[self._condition_stack.index(name) :], name]
            _fail(f"Conditions form a cycle: {' -> '.join(cycle)}")
        self._condition_stack.append(name)
        try:
            value = self._bool(self.condition_definitions[name], "condition")
        finally:
            self._condition_stack.pop()
        self._conditions[name] = value
        return value

    def created(self, logical_id: str) -> bool:
        """Whether a resource of the template is created (no Condition, or a true one)."""
        name = self.resources[logical_id].get("Condition")
        return name is None or self.condition(_literal_name(name, "Condition"))

    def render_resource(self, logical_id: str) -> dict:
        """A created resource with intrinsics applied, without its Condition key."""
        rendered: dict[str, Any] = {}
        for key, value in self.resources[logical_id].items():
            if key == "Condition":
                continue
            if key == "Type":
                rendered[key] = value
            elif key == "DependsOn":
                self._check_depends_on(logical_id, value)
                rendered[key] = copy.deepcopy(value)
            else:
                resolved = self.resolve(value)
                if resolved is not _NO_VALUE:
                    rendered[key] = _unwrap(resolved)
        return rendered

    def check_rules(self, rules: dict) -> list[str]:
        """The AssertDescription of every failed assertion of every applicable rule."""
        errors: list[str] = []
        for name, rule in rules.items():
            assertions = rule.get("Assertions") if isinstance(rule, dict) else None
            if not isinstance(assertions, list):
                _fail(f"Rule {name} must be an object with a list of Assertions")
            try:
                if "RuleCondition" in rule and not self._bool(rule["RuleCondition"], "rule"):
                    continue
            except _MissingValue:
                continue
            for number, assertion in enumerate(assertions, start=1):
                if not isinstance(assertion, dict) or "Assert" not in assertion:
                    _fail(f"Rule {name}: assertion {number} must be an object with an Assert")
                try:
                    if self._bool(assertion["Assert"], "rule"):
                        continue
                except _MissingValue:
                    continue
                description = assertion.get("AssertDescription") or f"assertion {number} failed"
                errors.append(f"Rule {name}: {description}")
        return errors

    def _check_depends_on(self, logical_id: str, depends_on: Any) -> None:
        """Refuse DependsOn entries naming unknown or not-created resources."""
        names = [depends_on] if isinstance(depends_on, str) else depends_on
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            _fail(f"DependsOn must be a resource name or a list of them, got {_describe(names)}")
        errors = []
        for name in names:
            if name not in self.resources:
                errors.append(f"DependsOn {name}, which is not a resource of the template")
            elif not self.created(name):
                condition = self.resources[name]["Condition"]
                errors.append(
                    f"{logical_id} DependsOn {name}, which is not created "
                    f"(its Condition {condition} is false)"
                )
        if errors:
            raise TemplateError(errors)

    def _bool(self, node: Any, ctx: _Ctx) -> bool:
        """A node that must evaluate to a condition value."""
        value = self.resolve(node, ctx)
        if not isinstance(value, bool):
            _fail(f"expected a condition function in {_CTX_NAMES[ctx]}, got {_describe(node)}")
        return value

    def _ref(self, name: str, ctx: _Ctx, how: str) -> Any:
        """The value of a parameter, pseudo parameter or resource reference."""
        if name in self.definitions:
            if name not in self.values:
                raise _MissingValue(name)
            return copy.deepcopy(self.values[name])
        if name in self.pseudo:
            value = self.pseudo[name]
            return list(value) if isinstance(value, list) else value
        if name in self.resources:
            self._check_target(name, ctx, how)
            if self.keep:
                return _Kept({"Ref": name})
            return self.physical_ids.get(name, f"<{name}>")
        _fail(f"{how} to {name}, which is no parameter, resource or pseudo parameter")

    def _get_att(self, logical_id: str, attribute: str, ctx: _Ctx) -> Any:
        """The value of a resource attribute."""
        if logical_id not in self.resources:
            _fail(f"Fn::GetAtt to {logical_id}, which is not a resource of the template")
        if not attribute:
            _fail(f"Fn::GetAtt to {logical_id} names no attribute")
        self._check_target(logical_id, ctx, "Fn::GetAtt")
        if self.keep:
            return _Kept({"Fn::GetAtt": [logical_id, attribute]})
        key = f"{logical_id}.{attribute}"
        return copy.deepcopy(self.attributes.get(key, f"<{key}>"))

    def _check_target(self, logical_id: str, ctx: _Ctx, how: str) -> None:
        """Refuse references to resources from Conditions/Rules and to resources not created."""
        if ctx != "template":
            _fail(f"{_CTX_NAMES[ctx]} cannot refer to resource {logical_id} ({how})")
        if not self.created(logical_id):
            condition = self.resources[logical_id]["Condition"]
            _fail(
                f"{how} to resource {logical_id}, which is not created "
                f"(its Condition {condition} is false)"
            )

    def _fn_ref(self, arg: Any, ctx: _Ctx) -> Any:
        """Ref: a parameter, pseudo parameter or resource."""
        return self._ref(_literal_name(arg, "Ref"), ctx, "Ref")

    def _fn_get_att(self, arg: Any, ctx: _Ctx) -> Any:
        """Fn::GetAtt in its ["Res", "Attr"] and "Res.Attr" forms (attributes may be dotted)."""
        if isinstance(arg, str):
            logical_id, _, attribute = arg.partition(".")
            return self._get_att(logical_id, attribute, ctx)
        logical_id, attribute = _arguments(arg, "Fn::GetAtt", 2)
        name = _as_str(self.resolve(attribute, ctx), "Fn::GetAtt attribute name")
        return self._get_att(_literal_name(logical_id, "Fn::GetAtt"), name, ctx)

    def _fn_sub(self, arg: Any, ctx: _Ctx) -> Any:
        """Fn::Sub in its string and [string, variables] forms, ${!Literal} escapes included."""
        if isinstance(arg, str):
            text, variables = arg, {}
        else:
            text, given = _arguments(arg, "Fn::Sub", 2)
            if not isinstance(text, str) or not isinstance(given, dict):
                _fail(f"Fn::Sub takes [string, {{variables}}], got {_describe(arg)}")
            variables = {name: self.resolve(value, ctx) for name, value in given.items()}
        plain: list[str] = []
        kept: list[str] = []
        kept_variables: dict[str, Any] = {}
        keeps_resource = False
        position = 0
        for match in _SUB_VARIABLE.finditer(text):
            plain.append(text[position : match.start()])
            kept.append(text[position : match.start()])
            position = match.end()
            inner = match.group(1)
            if inner.startswith("!"):
                plain.append("${" + inner[1:] + "}")
                kept.append(match.group(0))
                continue
            name = inner.strip()
            if name in variables:
                value = variables[name]
            elif "." in name:
                logical_id, _, attribute = name.partition(".")
                value = self._get_att(logical_id, attribute, ctx)
            else:
                value = self._ref(name, ctx, "Fn::Sub")
            if isinstance(value, _Kept):
                keeps_resource = True
                kept.append("${" + name + "}")
                if name in variables:
                    kept_variables[name] = value.node
                continue
            resolved = _as_str(value, f"Fn::Sub variable ${{{name}}}")
            plain.append(resolved)
            kept.append(resolved.replace("${", "${!"))
        plain.append(text[position:])
        kept.append(text[position:])
        if not keeps_resource:
            return "".join(plain)
        rendered = "".join(kept)
        return _Kept({"Fn::Sub": [rendered, kept_variables] if kept_variables else rendered})

    def _fn_join(self, arg: Any, ctx: _Ctx) -> Any:
        """Fn::Join; kept as a Fn::Join of resolved parts when a part points at a resource."""
        delimiter, items = _arguments(arg, "Fn::Join", 2)
        delimiter = _as_str(self.resolve(delimiter, ctx), "Fn::Join delimiter")
        values = self.resolve(items, ctx)
        if isinstance(values, _Kept):
            return _Kept({"Fn::Join": [delimiter, values.node]})
        parts = _as_list(values, "Fn::Join")
        if any(isinstance(part, _Kept) for part in parts):
            nodes = [
                part.node if isinstance(part, _Kept) else _as_str(part, "Fn::Join item")
                for part in parts
            ]
            return _Kept({"Fn::Join": [delimiter, nodes]})
        return delimiter.join(_as_str(part, "Fn::Join item") for part in parts)

    def _fn_select(self, arg: Any, ctx: _Ctx) -> Any:
        """Fn::Select with an index given as a number, a digit string or an intrinsic."""
        index_node, items = _arguments(arg, "Fn::Select", 2)
        index = _as_int(self.resolve(index_node, ctx), "Fn::Select index")
        values = self.resolve(items, ctx)
        if isinstance(values, _Kept):
            return _Kept({"Fn::Select": [index, values.node]})
        values = _as_list(values, "Fn::Select")
        if index >= len(values):
            _fail(
                f"Fn::Select index {index} is out of range for a list of {len(values)} items: "
                f"{_describe(_unwrap(values))}"
            )
        return values[index]

    def _fn_split(self, arg: Any, ctx: _Ctx) -> Any:
        """Fn::Split of a string on a non-empty delimiter."""
        delimiter, source = _arguments(arg, "Fn::Split", 2)
        delimiter = _as_str(self.resolve(delimiter, ctx), "Fn::Split delimiter")
        if not delimiter:
            _fail("Fn::Split delimiter must not be empty")
        value = self.resolve(source, ctx)
        if isinstance(value, _Kept):
            return _Kept({"Fn::Split": [delimiter, value.node]})
        return _as_str(value, "Fn::Split source").split(delimiter)

    def _fn_find_in_map(self, arg: Any, ctx: _Ctx) -> Any:
        """Fn::FindInMap [map, top-level key, second-level key]."""
        map_name, top, second = (
            _as_str(self.resolve(node, ctx), "Fn::FindInMap key")
            for node in _arguments(arg, "Fn::FindInMap", 3)
        )
        if map_name not in self.mappings:
            known = ", ".join(self.mappings) or "none"
            _fail(f"Fn::FindInMap: no mapping '{map_name}' in Mappings (mappings: {known})")
        mapping = self.mappings[map_name]
        if not isinstance(mapping, dict) or top not in mapping:
            _fail(f"Fn::FindInMap: mapping '{map_name}' has no key '{top}'")
        if not isinstance(mapping[top], dict) or second not in mapping[top]:
            _fail(f"Fn::FindInMap: mapping '{map_name}' key '{top}' has no key '{second}'")
        return copy.deepcopy(mapping[top][second])

    def _fn_if(self, arg: Any, ctx: _Ctx) -> Any:
        """Fn::If, evaluating only the branch its condition chooses."""
        name, when_true, when_false = _arguments(arg, "Fn::If", 3)
        chosen = when_true if self.condition(_literal_name(name, "Fn::If")) else when_false
        return self.resolve(chosen, ctx)

    def _fn_base64(self, arg: Any, ctx: _Ctx) -> Any:
        """Fn::Base64 of the UTF-8 bytes of a string."""
        value = self.resolve(arg, ctx)
        if isinstance(value, _Kept):
            return _Kept({"Fn::Base64": value.node})
        return base64.b64encode(_as_str(value, "Fn::Base64").encode()).decode("ascii")

    def _fn_get_azs(self, arg: Any, ctx: _Ctx) -> list[str]:
        """Fn::GetAZs: three deterministic zones of the region ("" is the stack's region)."""
        region = _as_str(self.resolve(arg, ctx), "Fn::GetAZs region") or self.pseudo["AWS::Region"]
        return [f"{region}{letter}" for letter in "abc"]

    def _fn_import_value(self, arg: Any, ctx: _Ctx) -> Any:
        """Fn::ImportValue: a placeholder (kept as an intrinsic by render_template)."""
        value = self.resolve(arg, ctx)
        if self.keep:
            return _Kept({"Fn::ImportValue": _unwrap(value)})
        return f"<ImportValue:{_as_str(value, 'Fn::ImportValue')}>"

    def _fn_cidr(self, arg: Any, ctx: _Ctx) -> Any:
        """Fn::Cidr [ipBlock, count, cidrBits]: the first count subnets with cidrBits host bits."""
        block_node, count_node, bits_node = _arguments(arg, "Fn::Cidr", 3)
        block = self.resolve(block_node, ctx)
        count = _as_int(self.resolve(count_node, ctx), "Fn::Cidr count")
        bits = _as_int(self.resolve(bits_node, ctx), "Fn::Cidr cidrBits")
        if not 1 <= count <= 256:
            _fail(f"Fn::Cidr count must be between 1 and 256, got {count}")
        if isinstance(block, _Kept):
            return _Kept({"Fn::Cidr": [block.node, count, bits]})
        text = _as_str(block, "Fn::Cidr ipBlock")
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            hint = " (pass its value in attributes=)" if text.startswith("<") else ""
            _fail(f"Fn::Cidr ipBlock '{text}' is not a CIDR block{hint}")
        prefix = network.max_prefixlen - bits
        if bits < 1 or prefix < network.prefixlen:
            _fail(f"Fn::Cidr cannot make blocks with {bits} host bits inside {network}")
        blocks = list(itertools.islice(network.subnets(new_prefix=prefix), count))
        if len(blocks) < count:
            _fail(f"Fn::Cidr: {network} holds only {len(blocks)} blocks of /{prefix}, not {count}")
        return [str(b) for b in blocks]

    def _fn_equals(self, arg: Any, ctx: _Ctx) -> bool:
        """Fn::Equals of two values, compared in their string forms."""
        left, right = _arguments(arg, "Fn::Equals", 2)
        return _canonical(self.resolve(left, ctx)) == _canonical(self.resolve(right, ctx))

    def _fn_and(self, arg: Any, ctx: _Ctx) -> bool:
        """Fn::And of 2 to 10 conditions."""
        return all([self._bool(item, ctx) for item in _arguments(arg, "Fn::And", 2, 10)])

    def _fn_or(self, arg: Any, ctx: _Ctx) -> bool:
        """Fn::Or of 2 to 10 conditions."""
        return any([self._bool(item, ctx) for item in _arguments(arg, "Fn::Or", 2, 10)])

    def _fn_not(self, arg: Any, ctx: _Ctx) -> bool:
        """Fn::Not of one condition."""
        (item,) = _arguments(arg, "Fn::Not", 1)
        return not self._bool(item, ctx)

    def _fn_condition(self, arg: Any, ctx: _Ctx) -> bool:
        """{"Condition": "Name"} inside Conditions."""
        return self.condition(_literal_name(arg, "Condition"))

    def _strings(self, node: Any, ctx: _Ctx, what: str) -> list[Any]:
        """A node that must resolve to a list, in comparison form."""
        return _canonical(_as_list(self.resolve(node, ctx), what))

    def _fn_contains(self, arg: Any, ctx: _Ctx) -> bool:
        """Fn::Contains [list, string]: the string is one of the list's values."""
        values, item = _arguments(arg, "Fn::Contains", 2)
        return _canonical(self.resolve(item, ctx)) in self._strings(values, ctx, "Fn::Contains")

    def _fn_each_member_equals(self, arg: Any, ctx: _Ctx) -> bool:
        """Fn::EachMemberEquals [list, string]: every value of the list is the string."""
        values, item = _arguments(arg, "Fn::EachMemberEquals", 2)
        expected = _canonical(self.resolve(item, ctx))
        return all(v == expected for v in self._strings(values, ctx, "Fn::EachMemberEquals"))

    def _fn_each_member_in(self, arg: Any, ctx: _Ctx) -> bool:
        """Fn::EachMemberIn [list, list]: every value of the first is in the second."""
        checked, allowed = _arguments(arg, "Fn::EachMemberIn", 2)
        allowed_values = self._strings(allowed, ctx, "Fn::EachMemberIn")
        return all(v in allowed_values for v in self._strings(checked, ctx, "Fn::EachMemberIn"))

    def _parameters_of_type(self, arg: Any, function: str) -> list[str]:
        """The template's parameters of the type a rule function names."""
        parameter_type = _literal_name(arg, function)
        return [n for n, spec in self.definitions.items() if spec["Type"] == parameter_type]

    def _fn_ref_all(self, arg: Any, ctx: _Ctx) -> list[str]:
        """Fn::RefAll: the given values of the template's parameters of one type."""
        values: list[str] = []
        for name in self._parameters_of_type(arg, "Fn::RefAll"):
            value = self._ref(name, ctx, "Fn::RefAll")
            values.extend(value if isinstance(value, list) else [value])
        return values

    def _fn_value_of(self, arg: Any, ctx: _Ctx) -> Any:
        """Fn::ValueOf [parameter, attribute]: attributes["Param.Attr"] or a placeholder."""
        name, attribute = (
            _literal_name(a, "Fn::ValueOf") for a in _arguments(arg, "Fn::ValueOf", 2)
        )
        if name not in self.definitions:
            _fail(f"Fn::ValueOf to {name}, which is not a parameter of the template")
        if name not in self.values:
            raise _MissingValue(name)
        key = f"{name}.{attribute}"
        return copy.deepcopy(self.attributes.get(key, f"<{key}>"))

    def _fn_value_of_all(self, arg: Any, ctx: _Ctx) -> list[Any]:
        """Fn::ValueOfAll [type, attribute]: Fn::ValueOf of every parameter of the type."""
        parameter_type, attribute = _arguments(arg, "Fn::ValueOfAll", 2)
        values: list[Any] = []
        for name in self._parameters_of_type(parameter_type, "Fn::ValueOfAll"):
            value = self._fn_value_of([name, attribute], ctx)
            values.extend(value if isinstance(value, list) else [value])
        return values


def _check_lookup_keys(
    template: dict, attributes: Mapping[str, object], physical_ids: Mapping[str, str]
) -> None:
    """Refuse attributes/physical_ids keys that name nothing in the template (likely typos)."""
    resources = template.get("Resources") or {}
    parameters = template.get("Parameters") or {}
    known = set(resources) | set(parameters)
    wrong = [key for key in attributes if "." not in key or key.partition(".")[0] not in known]
    if wrong:
        raise ValueError(f"attributes keys must be 'LogicalId.Attribute' of the template: {wrong}")
    wrong = [key for key in physical_ids if key not in resources]
    if wrong:
        raise ValueError(f"physical_ids keys are not resources of the template: {wrong}")


def _prepare(
    template: dict,
    parameters: Mapping[str, Any] | None,
    attributes: Mapping[str, object] | None,
    physical_ids: Mapping[str, str] | None,
    pseudo: dict[str, Any],
    keep_resource_refs: bool,
) -> _Evaluator:
    """Resolve and check parameters and rules, then evaluate every condition."""
    if not isinstance(template, dict):
        _fail(f"a template must be a JSON object, got {type(template).__name__}")
    if "Transform" in template:
        _fail(f"Transform {_describe(template['Transform'])} cannot be evaluated offline")
    resources = template.get("Resources")
    if not isinstance(resources, dict) or not all(
        isinstance(res, dict) and isinstance(res.get("Type"), str) for res in resources.values()
    ):
        _fail("Resources must be an object of resources, each an object with a Type")
    attributes = attributes or {}
    physical_ids = physical_ids or {}
    _check_lookup_keys(template, attributes, physical_ids)
    definitions = _parameter_definitions(template)
    given = dict(parameters or {})
    values, errors = _resolve_parameters(definitions, given)
    evaluator = _Evaluator(
        template, definitions, values, pseudo, attributes, physical_ids, keep_resource_refs
    )
    rules = template.get("Rules") or {}
    if not isinstance(rules, dict):
        _fail("Rules must be an object")
    errors.extend(evaluator.check_rules(rules))
    if errors:
        raise ParameterError(errors)
    condition_errors: list[str] = []
    for name in evaluator.condition_definitions:
        try:
            evaluator.condition(name)
        except TemplateError as exc:
            condition_errors.extend(f"Conditions.{name}: {m}" for m in exc.errors)
    if condition_errors:
        raise TemplateError(condition_errors)
    return evaluator


def _render(evaluator: _Evaluator, template: dict) -> tuple[dict[str, dict], dict[str, dict]]:
    """Every created resource and every kept output, all errors collected at once."""
    errors: list[str] = []
    resources: dict[str, dict] = {}
    for logical_id in evaluator.resources:
        try:
            if evaluator.created(logical_id):
                resources[logical_id] = evaluator.render_resource(logical_id)
        except TemplateError as exc:
            errors.extend(f"Resources.{logical_id}: {m}" for m in exc.errors)
    outputs: dict[str, dict] = {}
    for name, output in (template.get("Outputs") or {}).items():
        try:
            if not isinstance(output, dict) or "Value" not in output:
                _fail("an output must be an object with a Value")
            condition = output.get("Condition")
            if condition is not None and not evaluator.condition(
                _literal_name(condition, "Condition")
            ):
                continue
            rendered = _unwrap(
                evaluator.resolve({k: v for k, v in output.items() if k != "Condition"})
            )
            if "Value" not in rendered:
                _fail("Value resolves to AWS::NoValue")
            outputs[name] = rendered
        except TemplateError as exc:
            errors.extend(f"Outputs.{name}: {m}" for m in exc.errors)
    if errors:
        raise TemplateError(errors)
    return resources, outputs


def evaluate(
    template: dict,
    parameters: dict[str, str] | None = None,
    *,
    attributes: dict[str, object] | None = None,
    physical_ids: dict[str, str] | None = None,
    region: str = "us-east-1",
    account_id: str = "123456789012",
    stack_name: str = "mlflow",
    partition: str | None = None,
) -> Evaluated:
    """What a stack created from `template` with `parameters` would contain.

    Raises ParameterError for refused parameters or failed rules, TemplateError for a template
    CloudFormation would refuse with these parameters."""
    pseudo = _pseudo_parameters(region, account_id, stack_name, partition)
    evaluator = _prepare(template, parameters, attributes, physical_ids, pseudo, False)
    resources, outputs = _render(evaluator, template)
    exports = {
        _as_str(output["Export"].get("Name"), f"Outputs.{name}.Export.Name"): output["Value"]
        for name, output in outputs.items()
        if isinstance(output.get("Export"), dict)
    }
    return Evaluated(
        parameters={name: copy.deepcopy(value) for name, value in evaluator.values.items()},
        conditions={name: evaluator.condition(name) for name in evaluator.condition_definitions},
        resources=resources,
        outputs={name: output["Value"] for name, output in outputs.items()},
        exports=exports,
    )


def render_template(
    template: dict,
    parameters: dict[str, str] | None = None,
    *,
    attributes: dict[str, object] | None = None,
    physical_ids: dict[str, str] | None = None,
    region: str = "us-east-1",
    account_id: str = "123456789012",
    stack_name: str = "mlflow",
    partition: str | None = None,
) -> dict:
    """A concrete template for static scanners: everything resolved except resource references.

    Parameters, Rules, Conditions and Mappings are removed (no Parameters section at all);
    Ref/Fn::GetAtt to resources stay intrinsics, as do the Fn::Sub/Fn::Join (and other functions)
    around them, with every other part resolved."""
    pseudo = _pseudo_parameters(region, account_id, stack_name, partition)
    evaluator = _prepare(template, parameters, attributes, physical_ids, pseudo, True)
    resources, outputs = _render(evaluator, template)
    rendered: dict[str, Any] = {}
    for key, value in template.items():
        if key in ("Parameters", "Rules", "Conditions", "Mappings"):
            continue
        if key == "Resources":
            rendered[key] = resources
        elif key == "Outputs":
            if outputs:
                rendered[key] = outputs
        elif key == "Metadata" and isinstance(value, dict):
            metadata = {k: v for k, v in value.items() if k != "AWS::CloudFormation::Interface"}
            if metadata:
                rendered[key] = copy.deepcopy(metadata)
        else:
            rendered[key] = copy.deepcopy(value)
    return rendered


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
        where = f"{origin}: item {number}"
        if isinstance(item, str):
            key, equals, value = item.partition("=")
            if not equals or not key:
                errors.append(f"{where}: {item!r} is not of the form 'Key=Value'")
            else:
                pairs.append((key, value))
            continue
        if not isinstance(item, dict):
            errors.append(f"{where}: expected an object or a 'Key=Value' string, got {item!r}")
            continue
        extra = sorted(set(item) - _PARAMETER_FILE_FIELDS)
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
            pairs.append((key, item["ParameterValue"]))
    return pairs


def load_parameters(source: str | Path | Any) -> dict[str, str]:
    """Parameter values from a JSON file path or an already-loaded object.

    Accepts the `create-stack --parameters file://` list of {ParameterKey, ParameterValue},
    the `deploy --parameter-overrides` {Key: Value} object and its ["Key=Value"] list. A list value
    is joined with commas and numbers become strings; every malformed entry is reported at once
    in a ParameterError."""
    origin = "parameters"
    data = source
    if isinstance(source, str | Path):
        origin = str(source)
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ParameterError([f"{origin}: cannot read: {exc.strerror or exc}"]) from exc
        except json.JSONDecodeError as exc:
            raise ParameterError([f"{origin}: not valid JSON: {exc}"]) from exc
    errors: list[str] = []
    values: dict[str, str] = {}
    for key, value in _parameter_pairs(data, origin, errors):
        text = _coerce_value(value)
        if key in values:
            errors.append(f"{origin}: parameter {key} is given more than once")
        elif text is None:
            errors.append(f"{origin}: value of {key} must be a string, got {_describe(value)}")
        else:
            values[key] = text
    if errors:
        raise ParameterError(errors)
    return values
