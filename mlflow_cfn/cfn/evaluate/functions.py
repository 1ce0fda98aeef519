"""The intrinsic functions of Resources, Outputs and Metadata (Ref, Fn::GetAtt, Fn::Sub...),
each a handler of (evaluator, argument, context). Where render_template keeps resource
references, a function of a kept value stays an intrinsic around it."""

from __future__ import annotations

import base64
import copy
import ipaddress
import itertools
import re
from typing import TYPE_CHECKING, Any

from mlflow_cfn.cfn.evaluate.errors import fail
from mlflow_cfn.cfn.evaluate.values import (
    Kept,
    arguments,
    as_int,
    as_list,
    as_str,
    describe,
    literal_name,
    unwrap,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from mlflow_cfn.cfn.evaluate.evaluator import Ctx, Evaluator

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def fn_ref(ev: Evaluator, arg: Any, ctx: Ctx) -> Any:
    """Ref: a parameter, pseudo parameter or resource."""
    return ev.ref(literal_name(arg, "Ref"), ctx, "Ref")


def fn_get_att(ev: Evaluator, arg: Any, ctx: Ctx) -> Any:
    """Fn::GetAtt in its ["Res", "Attr"] and "Res.Attr" forms (attributes may be dotted)."""
    if isinstance(arg, str):
        logical_id, _, attribute = arg.partition(".")
        return ev.get_att(logical_id, attribute, ctx)
    logical_id, attribute = arguments(arg, "Fn::GetAtt", 2)
    name = as_str(ev.resolve(attribute, ctx), "Fn::GetAtt attribute name")
    return ev.get_att(literal_name(logical_id, "Fn::GetAtt"), name, ctx)


def fn_sub(ev: Evaluator, arg: Any, ctx: Ctx) -> Any:
    """Fn::Sub in its string and [string, variables] forms, ${!Literal} escapes included."""
    if isinstance(arg, str):
        text, variables = arg, {}
    else:
        text, given = arguments(arg, "Fn::Sub", 2)
        if not isinstance(text, str) or not isinstance(given, dict):
            fail(f"Fn::Sub takes [string, {{variables}}], got {describe(arg)}")
        variables = {name: ev.resolve(value, ctx) for name, value in given.items()}
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
        value = variables[name] if name in variables else _sub_variable(ev, name, ctx)
        if isinstance(value, Kept):
            keeps_resource = True
            kept.append("${" + name + "}")
            if name in variables:
                kept_variables[name] = value.node
            continue
        resolved = as_str(value, f"Fn::Sub variable ${{{name}}}")
        plain.append(resolved)
        kept.append(resolved.replace("${", "${!"))
    plain.append(text[position:])
    kept.append(text[position:])
    if not keeps_resource:
        return "".join(plain)
    rendered = "".join(kept)
    return Kept({"Fn::Sub": [rendered, kept_variables] if kept_variables else rendered})


def _sub_variable(ev: Evaluator, name: str, ctx: Ctx) -> Any:
    """A ${Name} of Fn::Sub that is no given variable: an attribute if dotted, else a Ref."""
    if "." in name:
        logical_id, _, attribute = name.partition(".")
        return ev.get_att(logical_id, attribute, ctx)
    return ev.ref(name, ctx, "Fn::Sub")


def _head_and_list(
    ev: Evaluator, arg: Any, ctx: Ctx, function: str, head: Callable[[Any, str], Any], what: str
) -> tuple[Any, list[Any] | Kept]:
    """The [head, list] arguments of Fn::Join and Fn::Select resolved, the head checked by `head`
    (`what` names it); the list may be a kept resource reference."""
    head_node, items = arguments(arg, function, 2)
    first = head(ev.resolve(head_node, ctx), what)
    values = ev.resolve(items, ctx)
    return first, values if isinstance(values, Kept) else as_list(values, function)


def fn_join(ev: Evaluator, arg: Any, ctx: Ctx) -> Any:
    """Fn::Join; kept as a Fn::Join of resolved parts when a part points at a resource."""
    delimiter, parts = _head_and_list(ev, arg, ctx, "Fn::Join", as_str, "Fn::Join delimiter")
    if isinstance(parts, Kept):
        return Kept({"Fn::Join": [delimiter, parts.node]})
    if any(isinstance(part, Kept) for part in parts):
        nodes = [
            part.node if isinstance(part, Kept) else as_str(part, "Fn::Join item") for part in parts
        ]
        return Kept({"Fn::Join": [delimiter, nodes]})
    return delimiter.join(as_str(part, "Fn::Join item") for part in parts)


def fn_select(ev: Evaluator, arg: Any, ctx: Ctx) -> Any:
    """Fn::Select with an index given as a number, a digit string or an intrinsic."""
    index, values = _head_and_list(ev, arg, ctx, "Fn::Select", as_int, "Fn::Select index")
    if isinstance(values, Kept):
        return Kept({"Fn::Select": [index, values.node]})
    if index >= len(values):
        fail(
            f"Fn::Select index {index} is out of range for a list of {len(values)} items: "
            f"{describe(unwrap(values))}"
        )
    return values[index]


def fn_split(ev: Evaluator, arg: Any, ctx: Ctx) -> Any:
    """Fn::Split of a string on a non-empty delimiter."""
    delimiter, source = arguments(arg, "Fn::Split", 2)
    delimiter = as_str(ev.resolve(delimiter, ctx), "Fn::Split delimiter")
    if not delimiter:
        fail("Fn::Split delimiter must not be empty")
    value = ev.resolve(source, ctx)
    if isinstance(value, Kept):
        return Kept({"Fn::Split": [delimiter, value.node]})
    return as_str(value, "Fn::Split source").split(delimiter)


def fn_find_in_map(ev: Evaluator, arg: Any, ctx: Ctx) -> Any:
    """Fn::FindInMap [map, top-level key, second-level key]."""
    map_name, top, second = (
        as_str(ev.resolve(node, ctx), "Fn::FindInMap key")
        for node in arguments(arg, "Fn::FindInMap", 3)
    )
    if map_name not in ev.mappings:
        known = ", ".join(ev.mappings) or "none"
        fail(f"Fn::FindInMap: no mapping '{map_name}' in Mappings (mappings: {known})")
    mapping = ev.mappings[map_name]
    if not isinstance(mapping, dict) or top not in mapping:
        fail(f"Fn::FindInMap: mapping '{map_name}' has no key '{top}'")
    if not isinstance(mapping[top], dict) or second not in mapping[top]:
        fail(f"Fn::FindInMap: mapping '{map_name}' key '{top}' has no key '{second}'")
    return copy.deepcopy(mapping[top][second])


def fn_if(ev: Evaluator, arg: Any, ctx: Ctx) -> Any:
    """Fn::If, evaluating only the branch its condition chooses."""
    name, when_true, when_false = arguments(arg, "Fn::If", 3)
    chosen = when_true if ev.condition(literal_name(name, "Fn::If")) else when_false
    return ev.resolve(chosen, ctx)


def fn_base64(ev: Evaluator, arg: Any, ctx: Ctx) -> Any:
    """Fn::Base64 of the UTF-8 bytes of a string."""
    value = ev.resolve(arg, ctx)
    if isinstance(value, Kept):
        return Kept({"Fn::Base64": value.node})
    return base64.b64encode(as_str(value, "Fn::Base64").encode()).decode("ascii")


def fn_get_azs(ev: Evaluator, arg: Any, ctx: Ctx) -> list[str]:
    """Fn::GetAZs: three deterministic zones of the region ("" is the stack's region)."""
    region = as_str(ev.resolve(arg, ctx), "Fn::GetAZs region") or ev.pseudo["AWS::Region"]
    return [f"{region}{letter}" for letter in "abc"]


def fn_import_value(ev: Evaluator, arg: Any, ctx: Ctx) -> Any:
    """Fn::ImportValue: a placeholder (kept as an intrinsic by render_template)."""
    value = ev.resolve(arg, ctx)
    if ev.keep:
        return Kept({"Fn::ImportValue": unwrap(value)})
    return f"<ImportValue:{as_str(value, 'Fn::ImportValue')}>"


def fn_cidr(ev: Evaluator, arg: Any, ctx: Ctx) -> Any:
    """Fn::Cidr [ipBlock, count, cidrBits]: the first count subnets with cidrBits host bits."""
    block_node, count_node, bits_node = arguments(arg, "Fn::Cidr", 3)
    block = ev.resolve(block_node, ctx)
    count = as_int(ev.resolve(count_node, ctx), "Fn::Cidr count")
    bits = as_int(ev.resolve(bits_node, ctx), "Fn::Cidr cidrBits")
    if not 1 <= count <= 256:
        fail(f"Fn::Cidr count must be between 1 and 256, got {count}")
    if isinstance(block, Kept):
        return Kept({"Fn::Cidr": [block.node, count, bits]})
    text = as_str(block, "Fn::Cidr ipBlock")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        hint = " (pass its value in attributes=)" if text.startswith("<") else ""
        fail(f"Fn::Cidr ipBlock '{text}' is not a CIDR block{hint}")
    prefix = network.max_prefixlen - bits
    if bits < 1 or prefix < network.prefixlen:
        fail(f"Fn::Cidr cannot make blocks with {bits} host bits inside {network}")
    blocks = list(itertools.islice(network.subnets(new_prefix=prefix), count))
    if len(blocks) < count:
        fail(f"Fn::Cidr: {network} holds only {len(blocks)} blocks of /{prefix}, not {count}")
    return [str(b) for b in blocks]


HANDLERS: dict[str, Callable[[Evaluator, Any, Ctx], Any]] = {
    "Ref": fn_ref,
    "Fn::GetAtt": fn_get_att,
    "Fn::Sub": fn_sub,
    "Fn::Join": fn_join,
    "Fn::Select": fn_select,
    "Fn::Split": fn_split,
    "Fn::FindInMap": fn_find_in_map,
    "Fn::If": fn_if,
    "Fn::Base64": fn_base64,
    "Fn::GetAZs": fn_get_azs,
    "Fn::ImportValue": fn_import_value,
    "Fn::Cidr": fn_cidr,
}
"""The functions allowed in Resources, Outputs and Metadata, by name."""
