"""Build-time choices (structural, made when the template is emitted), as opposed to CloudFormation
Parameters (made by whoever launches the stack)."""

from __future__ import annotations

from dataclasses import dataclass

#: How many CIDRs ``LoadBalancerIngressCidrs`` may hold: one security-group rule pair per slot.
MAX_INGRESS_CIDR_SLOTS = 20


class OptionsError(ValueError):
    """Every problem with a set of build options, reported at once."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("invalid build options:\n" + "\n".join(f"  - {e}" for e in errors))


@dataclass(frozen=True)
class StackOptions:
    """Structural choices for :func:`mlflow_cfn.build_template`.

    ingress_cidr_slots: how many comma-separated CIDRs the ``LoadBalancerIngressCidrs`` parameter
        accepts (CloudFormation has no loops, so each slot is a pair of conditional ingress rules).
    """

    ingress_cidr_slots: int = 5

    def validate(self) -> list[str]:
        """Return every problem with these options (empty when they are usable)."""
        errors = []
        slots = self.ingress_cidr_slots
        if isinstance(slots, bool) or not isinstance(slots, int):
            errors.append(
                f"ingress_cidr_slots must be a whole number from 1 to {MAX_INGRESS_CIDR_SLOTS}, "
                f"got {slots!r}"
            )
        elif not 1 <= slots <= MAX_INGRESS_CIDR_SLOTS:
            errors.append(
                f"ingress_cidr_slots must be from 1 to {MAX_INGRESS_CIDR_SLOTS}, got {slots}"
            )
        return errors

    def check(self) -> None:
        """Raise :class:`OptionsError` listing every problem, if there is any."""
        if errors := self.validate():
            raise OptionsError(errors)
