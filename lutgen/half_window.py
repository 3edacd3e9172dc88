"""The LUT-2D half-window: the value asked for, the tuned one, or the default, and which rule chose it.

Per operand, in this order:

1. a value given (``--hws N``): used as it is;
2. ``auto`` (:data:`TUNED`): the one ``appmult tune-hws`` recorded in the artifact;
3. otherwise the default: the built-in manifest's ``hws_a``/``hws_b``
   (``rtl/manifest.toml``) when the artifact's ``name`` is a built-in design
   of the same operand widths (a missing manifest counts as no match), and
   for every other artifact the rule of :func:`sqrt_med_rule`, read off the
   artifact's own error: the power of two nearest to sqrt(MED), the rule the
   manifest's values for approximate designs follow and that reproduces the
   DATE 2025 authors' own choices (evidence in docs/04-gradients.md).

Every choice is checked against the operand's axis (``2h + 2 < N``) and
comes back as :class:`HalfWindows`, whose ``rule`` the gradient groups
record (``hws_rule``) and ``appmult info`` shows.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from appmult.core.artifact import Artifact
from appmult.core.errors import ParameterError
from appmult.core.manifest import RTL_DIR, load_manifest
from appmult.lutgen.estimators import check_hws

__all__ = ["TUNED", "HalfWindows", "chosen_hws", "default_hws", "sqrt_med_rule"]

#: The half-window value meaning "the one ``appmult tune-hws`` recorded in the artifact".
TUNED = "auto"

#: The rule's bounds, as fractions of the axis: at least 2, at most N / 8 (32 at 8 bits).
_SMALLEST, _LARGEST_FRACTION = 2, 8

RULE_GIVEN = "given"
RULE_TUNED = "tune-hws record"
RULE_MANIFEST = "built-in manifest"
RULE_SQRT_MED = "power of two nearest sqrt(MED)"


@dataclass(frozen=True)
class HalfWindows:
    """LUT-2D half-windows along a and b (operand steps), and how they were chosen."""

    hws_a: int
    hws_b: int
    rule: str

    @property
    def pair(self) -> tuple[int, int]:
        """``(hws_a, hws_b)``."""
        return self.hws_a, self.hws_b


def sqrt_med_rule(med: float, n: int) -> int:
    """The default half-window for an axis of ``n`` values of a multiplier with mean |error| ``med``.

    The power of two nearest to ``sqrt(med)`` (nearest in log2), limited to
    ``2 .. n // 8`` and to the valid range ``2h + 2 < n``; 2 for an exact
    multiplier (``med == 0``). At 8 bits: MED 78 -> 8, 128 -> 16, 448 -> 16,
    606 -> 32, 1011 -> 32.
    """
    largest_valid = (n - 3) // 2
    upper = max(_SMALLEST, n // _LARGEST_FRACTION)
    h = 2 ** round(math.log2(math.sqrt(med))) if med >= 1 else _SMALLEST
    return max(1, min(max(h, _SMALLEST), upper, largest_valid))


def default_hws(artifact: Artifact, manifest: str | os.PathLike | None = None) -> HalfWindows:
    """The default half-windows of ``artifact`` (module docstring), by default from ``rtl/manifest.toml``."""
    path = Path(manifest) if manifest is not None else RTL_DIR / "manifest.toml"
    if path.is_file():
        for design in load_manifest(path):
            if (design.name, design.width_a, design.width_b) == (
                artifact.name,
                artifact.width_a,
                artifact.width_b,
            ):
                return HalfWindows(design.hws_a, design.hws_b, f"{RULE_MANIFEST} ({design.name})")
    n_a, n_b = artifact.shape
    med = float(artifact.metrics["med"])
    return HalfWindows(sqrt_med_rule(med, n_a), sqrt_med_rule(med, n_b), f"{RULE_SQRT_MED}, MED {med:.4g}")


def chosen_hws(
    artifact: Artifact,
    hws_a: int | str | None = None,
    hws_b: int | str | None = None,
    manifest: str | os.PathLike | None = None,
) -> HalfWindows:
    """The half-windows for these arguments (module docstring), checked against the operand widths.

    None takes :func:`default_hws`, :data:`TUNED` the artifact's tuning
    record. Raises ParameterError for a value out of range or ``auto``
    without a record.
    """
    rules = []
    if TUNED in (hws_a, hws_b):
        if artifact.tuning is None:
            raise ParameterError(
                f"{artifact.name}: --hws auto uses the half-window chosen by `appmult tune-hws`, and this "
                "artifact has no tuning record; run appmult tune-hws on it first, or give --hws N"
            )
        hws_a = artifact.tuning.hws_a if hws_a == TUNED else hws_a
        hws_b = artifact.tuning.hws_b if hws_b == TUNED else hws_b
        rules.append(RULE_TUNED)
    if None in (hws_a, hws_b):
        default = default_hws(artifact, manifest)
        hws_a = default.hws_a if hws_a is None else hws_a
        hws_b = default.hws_b if hws_b is None else hws_b
        rules.append(default.rule)
    n_a, n_b = artifact.shape
    return HalfWindows(check_hws(hws_a, n_a, "a"), check_hws(hws_b, n_b, "b"), "; ".join(rules) or RULE_GIVEN)
