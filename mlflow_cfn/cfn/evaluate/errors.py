"""The evaluator's errors: refused parameters, refused templates, and the internal signal of a
rule that refers to a parameter without a value."""

from typing import NoReturn


class EvaluationError(ValueError):
    """Base of the evaluator's errors: .errors lists every problem found, the message joins them."""

    def __init__(self, errors: list[str]) -> None:
        self.errors: list[str] = list(errors)
        super().__init__("\n".join(self.errors))


class ParameterError(EvaluationError):
    """Raised when parameters/rules are refused as CloudFormation would refuse them.

    .errors: list[str], every problem at once."""


class TemplateError(EvaluationError):
    """Raised when the template itself would be refused (bad intrinsic, missing map key...)."""


class MissingValue(Exception):
    """A rule refers to a parameter that has no value (already reported as missing)."""


def fail(message: str) -> NoReturn:
    """Raise a TemplateError with one message."""
    raise TemplateError([message])
