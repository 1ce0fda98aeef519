"""What every component receives: the template under construction, the build options and the
Parameters, so components wire to Parameters by name without hand-typed strings."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Parameter, Ref, Template

from mlflow_cfn.stack.options import StackOptions


@dataclass(frozen=True)
class Context:
    """The template being built and its inputs."""

    template: Template
    options: StackOptions
    parameters: dict[str, Parameter]

    def ref(self, name: str) -> Ref:
        """``Ref`` to a Parameter of this template (KeyError for an unknown name)."""
        return Ref(self.parameters[name])
