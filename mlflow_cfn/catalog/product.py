"""The product template(s) the launch role serves, as the other catalog modules read them.

One launch role can serve several variants of the product (e.g. with and without a sidecar): every
table of the launch role is derived from all of them at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: The product template, or several variants of it (e.g. with and without a sidecar) that one
#: launch role serves.
ProductTemplates = dict[str, Any] | Sequence[dict[str, Any]]


def product_variants(product_templates: ProductTemplates) -> tuple[dict[str, Any], ...]:
    """``product_templates`` as a tuple of templates; ValueError when there is none."""
    if isinstance(product_templates, dict):
        return (product_templates,)
    variants = tuple(product_templates)
    if not variants:
        raise ValueError("no product template given")
    return variants


def resources_of(variants: tuple[dict[str, Any], ...], kind: str) -> list[tuple[str, Any]]:
    """The product's resources of type ``kind`` (logical id, properties), of every variant."""
    return [
        (logical_id, resource.get("Properties", {}))
        for variant in variants
        for logical_id, resource in variant["Resources"].items()
        if resource["Type"] == kind
    ]
