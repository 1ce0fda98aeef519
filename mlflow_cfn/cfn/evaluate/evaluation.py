"""The entry points: `evaluate` (what a stack with one parameter set would contain) and
`render_template` (a concrete template for static scanners), and the steps they share: checking
the template's shape, resolving parameters and rules, evaluating every condition."""

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

from mlflow_cfn.cfn.evaluate.errors import ParameterError, TemplateError, fail
from mlflow_cfn.cfn.evaluate.evaluator import Evaluator
from mlflow_cfn.cfn.evaluate.parameters import (
    parameter_definitions,
    pseudo_parameters,
    resolve_parameters,
)
from mlflow_cfn.cfn.evaluate.rendering import collected, render
from mlflow_cfn.cfn.evaluate.rules import check_rules
from mlflow_cfn.cfn.evaluate.values import as_str, describe


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


class StackSetting(TypedDict, total=False):
    """The keyword options of `evaluate` and `render_template`: what the stack is told offline.

    attributes: {"LogicalId.Attr": value} for Fn::GetAtt and Fn::ValueOf; physical_ids:
    {LogicalId: name} for Ref to resources; region (default us-east-1), account_id (default
    123456789012), stack_name (default mlflow), partition (default: the region's)."""

    attributes: dict[str, object] | None
    physical_ids: dict[str, str] | None
    region: str
    account_id: str
    stack_name: str
    partition: str | None


def evaluate(
    template: dict, parameters: dict[str, str] | None = None, **setting: Unpack[StackSetting]
) -> Evaluated:
    """What a stack created from `template` with `parameters` would contain.

    Raises ParameterError for refused parameters or failed rules, TemplateError for a template
    CloudFormation would refuse with these parameters."""
    evaluator, resources, outputs = _evaluated(template, parameters, False, **setting)
    exports = {
        as_str(output["Export"].get("Name"), f"Outputs.{name}.Export.Name"): output["Value"]
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
    template: dict, parameters: dict[str, str] | None = None, **setting: Unpack[StackSetting]
) -> dict:
    """A concrete template for static scanners: everything resolved except resource references.

    Parameters, Rules, Conditions and Mappings are removed (no Parameters section at all);
    Ref/Fn::GetAtt to resources stay intrinsics, as do the Fn::Sub/Fn::Join (and other functions)
    around them, with every other part resolved."""
    _, resources, outputs = _evaluated(template, parameters, True, **setting)
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


def _evaluated(
    template: dict,
    parameters: Mapping[str, Any] | None,
    keep_resource_refs: bool,
    *,
    attributes: Mapping[str, object] | None = None,
    physical_ids: Mapping[str, str] | None = None,
    region: str = "us-east-1",
    account_id: str = "123456789012",
    stack_name: str = "mlflow",
    partition: str | None = None,
) -> tuple[Evaluator, dict[str, dict], dict[str, dict]]:
    """The evaluator of a template for a parameter set, its created resources and kept outputs."""
    _check_shape(template)
    attributes = attributes or {}
    physical_ids = physical_ids or {}
    _check_lookup_keys(template, attributes, physical_ids)
    definitions = parameter_definitions(template)
    values, errors = resolve_parameters(definitions, dict(parameters or {}))
    pseudo = pseudo_parameters(region, account_id, stack_name, partition)
    evaluator = Evaluator(
        template, definitions, values, pseudo, attributes, physical_ids, keep_resource_refs
    )
    rules = template.get("Rules") or {}
    if not isinstance(rules, dict):
        fail("Rules must be an object")
    errors.extend(check_rules(evaluator, rules))
    if errors:
        raise ParameterError(errors)
    condition_errors: list[str] = []
    for name in evaluator.condition_definitions:
        with collected(condition_errors, f"Conditions.{name}"):
            evaluator.condition(name)
    if condition_errors:
        raise TemplateError(condition_errors)
    resources, outputs = render(evaluator, template)
    return evaluator, resources, outputs


def _check_shape(template: dict) -> None:
    """Refuse what is no template, or one that cannot be evaluated offline (a Transform)."""
    if not isinstance(template, dict):
        fail(f"a template must be a JSON object, got {type(template).__name__}")
    if "Transform" in template:
        fail(f"Transform {describe(template['Transform'])} cannot be evaluated offline")
    resources = template.get("Resources")
    if not isinstance(resources, dict) or not all(
        isinstance(res, dict) and isinstance(res.get("Type"), str) for res in resources.values()
    ):
        fail("Resources must be an object of resources, each an object with a Type")


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
