"""Build-time choices (structural, made when the template is emitted), as opposed to CloudFormation
Parameters (made by whoever launches the stack)."""

from __future__ import annotations

from dataclasses import dataclass

#: How many CIDRs ``LoadBalancerIngressCidrs`` may hold: one security-group rule pair per slot.
MAX_INGRESS_CIDR_SLOTS = 20
#: How many NAME=value pairs ``SidecarEnvironment`` may hold.
MAX_SIDECAR_ENVIRONMENT_SLOTS = 20
#: Sidecar presets chosen at build time (each adds its container and its Parameters).
SIDECAR_PRESETS = ("datadog",)


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
    sidecar: a sidecar preset ("datadog") added to every task, or None.
    sidecar_environment_slots: how many NAME=value pairs ``SidecarEnvironment`` accepts.
    """

    ingress_cidr_slots: int = 5
    sidecar: str | None = None
    sidecar_environment_slots: int = 5

    def validate(self) -> list[str]:
        """Return every problem with these options (empty when they are usable)."""
        errors = [
            error
            for error in (
                _slot_error("ingress_cidr_slots", self.ingress_cidr_slots, MAX_INGRESS_CIDR_SLOTS),
                _slot_error(
                    "sidecar_environment_slots",
                    self.sidecar_environment_slots,
                    MAX_SIDECAR_ENVIRONMENT_SLOTS,
                ),
            )
            if error
        ]
        if self.sidecar is not None and self.sidecar not in SIDECAR_PRESETS:
            errors.append(
                f"sidecar must be one of {', '.join(SIDECAR_PRESETS)} or None, got {self.sidecar!r}"
            )
        return errors

    def check(self) -> None:
        """Raise :class:`OptionsError` listing every problem, if there is any."""
        if errors := self.validate():
            raise OptionsError(errors)


def _slot_error(name: str, value: object, maximum: int) -> str | None:
    """The problem with a slot count, if any."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{name} must be a whole number from 1 to {maximum}, got {value!r}"
    if not 1 <= value <= maximum:
        return f"{name} must be from 1 to {maximum}, got {value}"
    return None
