"""Small CloudFormation expressions the components share: a Parameter given or not, an assertion
of a Rule, Fn::Or over any number of conditions, the item of a comma-separated list at a slot,
and the Metadata that skips checkov checks with their reasons."""

from __future__ import annotations

from troposphere import Equals, Not, Or, Parameter, Ref, Select, Split, Sub


def given(parameter: Parameter) -> Not:
    """The (String) Parameter is not empty."""
    return Not(Equals(Ref(parameter), ""))


def empty(parameter: Parameter) -> Equals:
    """The (String) Parameter is empty."""
    return Equals(Ref(parameter), "")


def is_value(parameter: Parameter, value: str) -> Equals:
    """The Parameter has ``value``."""
    return Equals(Ref(parameter), value)


def condition(name: str) -> dict:
    """A reference to a Condition inside another Condition."""
    return {"Condition": name}


def assertion(holds: object, description: str) -> dict:
    """One assertion of a Rule, with the message CloudFormation shows when it fails."""
    return {"Assert": holds, "AssertDescription": description}


def any_of(conditions: list) -> object:
    """Fn::Or over any number of conditions (Fn::Or takes 2 to 10)."""
    if len(conditions) == 1:
        return conditions[0]
    chunks = [conditions[i : i + 9] for i in range(0, len(conditions), 9)]
    parts = [Or(*chunk) if len(chunk) > 1 else chunk[0] for chunk in chunks]
    return parts[0] if len(parts) == 1 else Or(*parts)


def list_item(parameter: Parameter, slots: int, slot: int) -> Select:
    """The item at ``slot`` of a comma-separated String Parameter that holds up to ``slots``
    items, or "" past its end (CloudFormation has no loops: the list is padded with commas)."""
    padded = Sub(f"${{{parameter.title}}}{',' * (slots - 1)}")
    return Select(slot, Split(",", padded))


def checkov_skips(reasons: dict[str, str]) -> dict:
    """Resource Metadata that skips each checkov check (id -> the reason a reviewer reads)."""
    return {"checkov": {"skip": [{"id": c, "comment": why} for c, why in reasons.items()]}}
