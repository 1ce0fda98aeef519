"""What every component receives: the template under construction and the build options, and how
a component declares its inputs (Parameters with their console label and group, Conditions,
Rules) beside the resources that use them."""

from __future__ import annotations

from dataclasses import dataclass, field

from troposphere import Parameter, Template

from mlflow_cfn.stack.options import StackOptions
from mlflow_cfn.stack.parameters import ParameterSpec


@dataclass(frozen=True)
class Context:
    """The template being built, its build options (StackOptions for the product; None for a
    template without build options, such as the network's), and the Parameters declared so far
    (in declaration order, which is their order inside a console group)."""

    template: Template
    options: StackOptions | None
    specs: list[ParameterSpec] = field(default_factory=list)

    def parameter(self, spec: ParameterSpec) -> Parameter:
        """Declare one Parameter; return it (wire to it with ``Ref``)."""
        self.specs.append(spec)
        return self.template.add_parameter(spec.to_parameter())

    def parameters(self, *specs: ParameterSpec) -> tuple[Parameter, ...]:
        """Declare several Parameters, in console order; return them in the same order."""
        return tuple(self.parameter(spec) for spec in specs)

    def condition(self, name: str, expression: object) -> str:
        """Declare a Condition; return its name (what ``Condition=`` and ``Fn::If`` take)."""
        self.template.add_condition(name, expression)
        return name

    def rule(self, name: str, assertions: list[dict], when: object = None) -> None:
        """Declare a template Rule: ``assertions`` must hold (whenever ``when`` holds, if given)."""
        rule: dict = {"Assertions": assertions}
        if when is not None:
            rule = {"RuleCondition": when, **rule}
        self.template.add_rule(name, rule)
