"""What AWS publishes machine-readably about a value, read where it is published, and the regular
expression semantics each side uses.

Sources:

* botocore's service models: an API input shape's ``pattern``, ``min`` and ``max`` (the models are
  generated from the services' Smithy models, whose ``pattern`` is an ECMA-262 expression);
* CloudFormation's resource provider schemas as bundled with cfn-lint
  (`mlflow_cfn.cfn.schemas.resource_schema`): a property's ``pattern``, ``minLength`` and
  ``maxLength`` (JSON Schema: ECMA-262, "regular expressions are not implicitly anchored").

An API pattern such as ``[\\u0020-\\uD7FF...]*`` is written for the whole value (unanchored, it
would match every string), so values are checked against the whole value: the stricter reading,
which a value that passes also passes under the other. ``\\w``, ``\\d`` and ``\\s`` are ASCII in
ECMA-262 and in Java (CloudFormation parses AllowedPattern with java.util.regex.Pattern:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cfn-regexes.html), so both sides
compile with re.ASCII. "When applied on a parameter of type String, the pattern must match the
entire parameter value provided" (CloudFormation User Guide, "Parameters", AllowedPattern,
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html),
i.e. Python's fullmatch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from re import _constants, _parser  # re's own parser: the shortest and longest match of a pattern

import botocore.session

from mlflow_cfn.cfn.schemas import resource_schema

#: UTF-16 surrogate pairs as Java and ECMA-262 write "any character above U+FFFF" in a class.
_SUPPLEMENTARY = (r"\uD800\uDC00-\uDBFF\uDFFF", r"\U00010000-\U0010FFFF")
#: The longest width re's parser reports: a pattern with an unbounded repeat.
UNBOUNDED = _parser.MAXWIDTH


def compiled(pattern: str) -> re.Pattern:
    """``pattern`` (Java or ECMA-262) as a Python expression with the same meaning."""
    if r"\uD8" in pattern or r"\uDB" in pattern:
        if _SUPPLEMENTARY[0] not in pattern:
            raise ValueError(f"surrogates other than the supplementary range in {pattern!r}")
        pattern = pattern.replace(*_SUPPLEMENTARY)
    return re.compile(pattern, re.ASCII)


def widths(pattern: str) -> tuple[int, int]:
    """The shortest and longest value ``pattern`` matches as a whole (UNBOUNDED for no limit),
    with a leading lookahead to the end, ``(?=.{1,253}$)``, bounding the whole value."""
    parsed = _parser.parse(compiled(pattern).pattern, re.ASCII)
    low, high = parsed.getwidth()
    for op, argument in parsed:
        if op is _constants.AT:
            continue  # ^
        if op is not _constants.ASSERT or argument[0] != 1:
            break
        ahead = argument[1]
        if ahead and ahead[-1] in ((_constants.AT, _constants.AT_END),
                                   (_constants.AT, _constants.AT_END_STRING)):  # fmt: skip
            high = min(high, ahead.getwidth()[1])
    return low, min(high, UNBOUNDED)


@dataclass(frozen=True)
class Limits:
    """What one source accepts: a pattern (matched against the whole value) and lengths."""

    source: str
    pattern: str | None = None
    min: int | None = None
    max: int | None = None

    def refusal(self, value: str) -> str | None:
        """Why this source refuses ``value``, or None."""
        if self.min is not None and len(value) < self.min:
            return f"{self.source}: shorter than {self.min}"
        if self.max is not None and len(value) > self.max:
            return f"{self.source}: longer than {self.max}"
        if self.pattern is not None and not compiled(self.pattern).fullmatch(value):
            return f"{self.source}: does not match {self.pattern}"
        return None


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


def api_limits(service: str, operation: str, path: tuple[str, ...]) -> Limits:
    """The limits of an API input member (``path`` through structures; lists are entered; ``*``
    is a map's value)."""
    shape = _session().get_service_model(service).operation_model(operation).input_shape
    for name in path:
        while shape.type_name == "list":
            shape = shape.member
        shape = shape.value if name == "*" and shape.type_name == "map" else shape.members[name]
    while shape.type_name == "list":
        shape = shape.member
    meta = shape.metadata
    source = f"botocore {service} {operation} {'.'.join(path)} ({shape.name})"
    return Limits(source, meta.get("pattern"), meta.get("min"), meta.get("max"))


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["definitions"][node["$ref"].rsplit("/", 1)[1]]
    return node


def schema_limits(resource_type: str, path: tuple[str, ...]) -> Limits:
    """The limits of a resource property in its provider schema (``*``: every item of a list; a
    name no property has: the object's patternProperties that matches it)."""
    schema = resource_schema(resource_type)
    node = _resolve(schema, {"properties": schema["properties"], "type": "object"})
    for name in path:
        if name == "*":
            node = _resolve(schema, node["items"])
        elif name in node.get("properties", {}):
            node = _resolve(schema, node["properties"][name])
        else:
            (node,) = [_resolve(schema, n) for pattern, n in node["patternProperties"].items()
                       if re.fullmatch(pattern, name)]  # fmt: skip
    if node.get("type") == "array":
        node = _resolve(schema, node["items"])
    source = f"provider schema {resource_type} {'/'.join(path)}"
    return Limits(source, node.get("pattern"), node.get("minLength"), node.get("maxLength"))
