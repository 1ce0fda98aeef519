"""One entry of the catalogue of AWS-side rules: what AWS refuses, where that is documented, and
where the template or `plan` enforces it."""

from __future__ import annotations

from dataclasses import dataclass

DOCS = "https://docs.aws.amazon.com"


@dataclass(frozen=True)
class Constraint:
    """One AWS-side rule: ``key`` names its test case."""

    key: str
    refuses: str  # what AWS refuses, or what breaks without a refusal
    source: str  # documentation, API reference or resource provider schema
    enforced: str  # Parameter constraint, Rule, Condition, template, build, or plan/deploy
