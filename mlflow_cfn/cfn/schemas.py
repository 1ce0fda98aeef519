"""CloudFormation resource provider schemas and IAM's action table, as bundled with the installed
cfn-lint (never a newer user cache, so output is stable for a given cfn-lint version).

cfn-lint is imported by the functions that read it, not with this module: importing it costs
about 0.6 s of CPU, which every command would pay (``--help`` included) since the commands'
modules import what they use."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cfnlint.schema.manager import ProviderSchemaManager

#: The schemas of this region: every resource type of the products exists there.
SCHEMA_REGION = "us-east-1"


@cache
def schema_manager() -> ProviderSchemaManager:
    """The schema manager over cfn-lint's bundled provider schemas."""
    import cfnlint
    from cfnlint.schema.manager import ProviderSchemaManager

    data = Path(cfnlint.__file__).parent / "data" / "schemas"
    return ProviderSchemaManager(providers_dir=data / "providers", resources_dir=data / "resources")


def resource_schema(resource_type: str) -> dict[str, Any]:
    """The provider schema of ``resource_type`` (as a plain dict)."""
    return schema_manager().get_resource_schema(SCHEMA_REGION, resource_type).schema


@cache
def iam_actions() -> dict[str, dict[str, Any]]:
    """IAM's service prefixes -> actions -> resource types (cfn-lint's copy of the Service
    Authorization Reference)."""
    from cfnlint.data import AdditionalSpecs
    from cfnlint.helpers import load_resource

    return load_resource(AdditionalSpecs, "Policies.json")


def iam_action(action: str) -> dict[str, Any] | None:
    """IAM's definition of ``action`` (case-insensitive), or None when IAM has no such action."""
    service, _, name = action.lower().partition(":")
    return iam_actions().get(service, {}).get("Actions", {}).get(name)


def cloudformation_system_tags(resource_type: str) -> bool:
    """Whether CloudFormation puts its system tags (``aws:cloudformation:stack-name``,
    ``stack-id``, ``logical-id``) on resources of ``resource_type``: the provider schema's
    ``tagging.cloudFormationSystemTags`` (CloudFormation CLI, resource type schema, "tagging").
    Only an explicit true counts: ``AWS::ECS::Service`` and ``AWS::KMS::Key`` say false, and a
    type whose schema says nothing is not assumed to carry them."""
    tagging = resource_schema(resource_type).get("tagging", {})
    return tagging.get("taggable") is True and tagging.get("cloudFormationSystemTags") is True
