"""Any troposphere template as stable text: JSON with sorted keys (diffable, golden-file friendly)
or YAML."""

from __future__ import annotations

import json

import yaml
from troposphere import Template


def to_dict(template: Template) -> dict:
    """The template as plain JSON data."""
    return json.loads(template.to_json())


def render(template: Template, fmt: str = "json") -> str:
    """The template as stable text: JSON with sorted keys, or YAML; ends with a newline."""
    data = to_dict(template)
    if fmt == "json":
        return json.dumps(data, indent=2, sort_keys=True) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(data, sort_keys=True, width=100)
    raise ValueError(f"format must be json or yaml, got {fmt!r}")
