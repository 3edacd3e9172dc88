"""Export and import options, and the check that a format takes the options given."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from appmult.core.errors import ParameterError
from appmult.lutgen.methods import NAMES

__all__ = ["APPROXTORCH_GRADS", "ExportOptions", "GRADIENT_CHOICES", "QTYPES", "check_options"]

#: The gradient groups a format may carry: every method of the registry.
GRADIENT_CHOICES = NAMES


QTYPES = ("int8", "uint8")


APPROXTORCH_GRADS = ("custom", "lre", "none")


@dataclass(frozen=True)
class ExportOptions:
    """Options of one export or import; ``None``/``False`` means "not given".

    Attributes
    ----------
    gradient : str or None
        A gradient method's name (:data:`GRADIENT_CHOICES`).
        Gradient group for formats that carry gradients (amr, approxtorch,
        npz, csv); None means the format's default.
    transpose : bool
        Write ``AM(b, a)`` at ``lut[u8(a)][u8(b)]``, i.e. ``lut[u8(w)][u8(act)] =
        AM(act, w)``, for the Conv2d layers of TransAxx, AdaPT and TorchApprox.
    sign_magnitude : bool
        Put an unsigned multiplier into a signed int8 target as
        ``sign(x) * sign(y) * AM(|x|, |y|)`` (TorchApprox's convention, sign(0) = +1).
    qtype : {"int8", "uint8"} or None
        ApproxTorch mode; None picks int8 when either operand is signed, else uint8.
    approxtorch_grad : {"custom", "lre", "none"} or None
        ApproxTorch gradient files; None means custom.
    corner : bool
        For a table wider than a 256-entry target (a 12-bit multiplier into an
        8-bit framework): write only the operand values the target indexes,
        and say so in the file's header (where it has one) and as a warning.
        Without it such a table is refused.
    """

    gradient: str | None = None
    transpose: bool = False
    sign_magnitude: bool = False
    qtype: str | None = None
    approxtorch_grad: str | None = None
    corner: bool = False

    def __post_init__(self) -> None:
        for name, choices in (
            ("gradient", GRADIENT_CHOICES),
            ("qtype", QTYPES),
            ("approxtorch_grad", APPROXTORCH_GRADS),
        ):
            value = getattr(self, name)
            if value is not None and value not in choices:
                raise ParameterError(f"--{_flag(name)} {value!r} is not one of: {', '.join(choices)}")


def _flag(field_name: str) -> str:
    return field_name.replace("_", "-")


def check_options(options: ExportOptions, fmt: str, accepted: frozenset[str]) -> None:
    """Raise :class:`ParameterError` when ``options`` sets a field ``fmt`` does not take."""
    for item in dataclasses.fields(options):
        if getattr(options, item.name) not in (None, False) and item.name not in accepted:
            takes = ", ".join(f"--{_flag(n)}" for n in sorted(accepted)) or "no options"
            raise ParameterError(
                f"{fmt} does not take --{_flag(item.name)} (it takes {takes}); drop the option"
            )
