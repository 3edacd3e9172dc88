"""How far a gradient table is from the exact multiplier's gradient (STE), and whether it looks like noise.

For a gradient estimate with tables ``d_a`` ~ dAM/da and ``d_b`` ~ dAM/db
over the operand axes ``a`` (rows, Na values) and ``b`` (columns, Nb), the
exact multiplier's gradient is ``s_a[i, j] = b_j`` and ``s_b[i, j] = a_i``.
Per derivative x in {a, b}:

``deviation_x``
    relative deviation from STE, ``||d_x - s_x||_F / ||s_x||_F`` (0 for STE
    itself; 1 for an all-zero table);
``sign_flips_x``
    share of the entries where STE is non-zero whose sign the table
    contradicts, ``#{d_x * s_x < 0} / #{s_x != 0}`` (a zero entry is not a flip);
``peak_x``
    the largest ``|d_x|`` over the largest ``|s_x|`` (the largest magnitude
    of the other operand): 1 for STE, 4.75 for a table whose largest entry is
    1211 on an 8-bit unsigned multiplier.

A table *looks like noise* when either derivative's deviation exceeds
:data:`NOISE_DEVIATION`. On the EvoApprox panel no table of deviation up to
0.45 lost accuracy to STE beyond the spread over seeds, and every table from
0.57 up lost on every seed except on two multipliers (mul8u_JQQ, and
mul8u_YX7, where STE itself stays at chance; docs/04-gradients.md). Sign
flips are not the criterion: they are not monotone in h, and a table whose
wrong entries are zeros (mul8u_18DU at h = 4: 0.5 % flips, deviation 1.17)
cost 58 points. Computed block by block over rows, so a 12-bit table is
never expanded whole.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from appmult.core.gradient import Gradient

__all__ = ["DIAGNOSTIC_ATTRS", "NOISE_DEVIATION", "Diagnostics", "diagnose"]

#: A table whose relative deviation from STE exceeds this (either derivative) looks like noise.
NOISE_DEVIATION = 0.5

#: Rows per block (2**20 float64 entries per temporary at 12 bits).
_BLOCK_ENTRIES = 1 << 20


@dataclass(frozen=True)
class Diagnostics:
    """The measures of the module docstring for one gradient group (floats; shares in [0, 1])."""

    deviation_a: float
    deviation_b: float
    sign_flips_a: float
    sign_flips_b: float
    peak_a: float
    peak_b: float

    @property
    def looks_like_noise(self) -> bool:
        """Whether either derivative's deviation from STE exceeds :data:`NOISE_DEVIATION`."""
        return max(self.deviation_a, self.deviation_b) > NOISE_DEVIATION

    @classmethod
    def from_attrs(cls, attrs: dict[str, object]) -> Diagnostics | None:
        """The diagnostics a group's attributes record, or None when they record none."""
        if not all(name in attrs for name in cls.__dataclass_fields__):
            return None
        return cls(**{name: float(attrs[name]) for name in cls.__dataclass_fields__})

    def attrs(self) -> dict[str, object]:
        """The group attributes that record them (``looks_like_noise`` included)."""
        return {**asdict(self), "looks_like_noise": self.looks_like_noise}

    def summary(self) -> str:
        """One line: ``deviation 0.065/0.071, sign flips 0.1 %/0.0 %, peak 1.26/1.31 (a/b)``."""
        return (
            f"deviation {self.deviation_a:.3g}/{self.deviation_b:.3g}, "
            f"sign flips {100 * self.sign_flips_a:.2g} %/{100 * self.sign_flips_b:.2g} %, "
            f"peak {self.peak_a:.3g}/{self.peak_b:.3g} (d_a/d_b)"
        )


#: The group attributes :meth:`Diagnostics.attrs` writes.
DIAGNOSTIC_ATTRS = (*Diagnostics.__dataclass_fields__, "looks_like_noise")


def diagnose(gradient: Gradient, operand_a: np.ndarray, operand_b: np.ndarray) -> Diagnostics:
    """The :class:`Diagnostics` of ``gradient`` on the axes ``operand_a`` [Na] and ``operand_b`` [Nb]."""
    a = np.asarray(operand_a, dtype=np.float64)
    b = np.asarray(operand_b, dtype=np.float64)
    n_a, n_b = a.size, b.size
    step = max(1, _BLOCK_ENTRIES // max(1, n_b))
    diff = {"a": 0.0, "b": 0.0}
    flips = {"a": 0, "b": 0}
    peak = {"a": 0.0, "b": 0.0}
    for start in range(0, n_a, step):
        stop = min(n_a, start + step)
        d_a, d_b = (np.asarray(t, dtype=np.float64) for t in gradient.rows(start, stop))
        exact = {
            "a": np.broadcast_to(b, d_a.shape),
            "b": np.broadcast_to(a[start:stop, np.newaxis], d_b.shape),
        }
        for label, table in (("a", d_a), ("b", d_b)):
            diff[label] += float(np.sum((table - exact[label]) ** 2))
            flips[label] += int(np.count_nonzero(table * exact[label] < 0))
            peak[label] = max(peak[label], float(np.max(np.abs(table))) if table.size else 0.0)
    # STE's own measures, in closed form: ||s_a||^2 = Na * sum(b^2), #{s_a != 0} = Na * #{b != 0}
    norm = {"a": n_a * float(np.sum(b**2)), "b": n_b * float(np.sum(a**2))}
    nonzero = {"a": n_a * int(np.count_nonzero(b)), "b": n_b * int(np.count_nonzero(a))}
    largest = {"a": float(np.max(np.abs(b))), "b": float(np.max(np.abs(a)))}
    return Diagnostics(
        deviation_a=_ratio(np.sqrt(diff["a"]), np.sqrt(norm["a"])),
        deviation_b=_ratio(np.sqrt(diff["b"]), np.sqrt(norm["b"])),
        sign_flips_a=_ratio(flips["a"], nonzero["a"]),
        sign_flips_b=_ratio(flips["b"], nonzero["b"]),
        peak_a=_ratio(peak["a"], largest["a"]),
        peak_b=_ratio(peak["b"], largest["b"]),
    )


def _ratio(value: float, scale: float) -> float:
    return float(value / scale) if scale else 0.0
