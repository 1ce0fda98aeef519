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

Modules: `evaluation` (the entry points and Evaluated), `parameters` and `constraints` (parameter
values and their checks), `parameter_files` (load_parameters), `evaluator` (resolution, conditions,
references), `functions`, `conditions` and `rules` (the intrinsic functions of each section),
`rendering` (resources and outputs), `values` and `errors` (what they all share).
"""

from mlflow_cfn.cfn.evaluate.errors import EvaluationError, ParameterError, TemplateError
from mlflow_cfn.cfn.evaluate.evaluation import Evaluated, StackSetting, evaluate, render_template
from mlflow_cfn.cfn.evaluate.parameter_files import load_parameters, parameters_from_data
from mlflow_cfn.cfn.evaluate.parameters import given_value_problems

__all__ = [
    "Evaluated",
    "EvaluationError",
    "ParameterError",
    "StackSetting",
    "TemplateError",
    "evaluate",
    "given_value_problems",
    "load_parameters",
    "parameters_from_data",
    "render_template",
]
