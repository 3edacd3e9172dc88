"""Error metrics of a product table against the exact product.

Conventions follow the EvoApprox library so figures are comparable with
published ones. Inputs are uniform over all ``Na * Nb`` operand pairs and the
error is ``e = AM(a, b) - a * b``:

========== ==================================================================
``er``       fraction of pairs with ``e != 0``
``med``      mean ``|e|``
``nmed``     ``med / 2**(width_a + width_b)``
``wce``      max ``|e|``
``wce_norm`` ``wce / 2**(width_a + width_b)``
``mred``     mean of ``|e| / |a*b|`` over pairs with ``a*b != 0``
``wcre``     max of the same ratio
``mse``      mean ``e**2``
``bias``     mean ``e``
========== ==================================================================

One definition serves both ways of computing them: :func:`error_metrics`
over a table in memory, and the streamed characterization of wide operands,
which reduces blocks of rows where they are simulated. Both go through
:class:`ErrorSums`, exact partial sums over whole rows of the value-ordered
table that merge with ``+`` in any order to the same bits: integer sums are
Python integers, maxima are maxima, and the one float sum (of ``|e|/|a*b|``)
is kept as one float64 sum per row, each computed by the same call on the
same row whatever block it came in, and added at the end with
:func:`math.fsum` (correctly rounded, so independent of order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

__all__ = ["METRIC_NAMES", "ErrorBlock", "ErrorSums", "error_metrics"]

METRIC_NAMES = ("er", "med", "nmed", "wce", "wce_norm", "mred", "wcre", "mse", "bias")

#: Rows of at most about this many entries are reduced at a time.
_BLOCK_ENTRIES = 1 << 18


class ErrorBlock:
    """The errors of a block of whole rows of a product table.

    ``product_rows`` int [k, Nb] holds ``AM(a_rows[i], b[j])`` (value order);
    ``exact`` is ``a*b`` and ``error`` is ``e = AM - a*b``, both int64
    [k, Nb], and ``abs_error`` is ``|e|`` (below 2**33 for outputs of up to
    32 bits, so every int64 operation below is exact).
    """

    def __init__(self, product_rows: np.ndarray, a_rows: np.ndarray, b: np.ndarray) -> None:
        self.a_rows = np.asarray(a_rows, dtype=np.int64)
        self.b = np.asarray(b, dtype=np.int64)
        self.exact = np.multiply.outer(self.a_rows, self.b)
        self.error = np.subtract(product_rows, self.exact, dtype=np.int64)

    @cached_property
    def abs_error(self) -> np.ndarray:
        return np.abs(self.error)


@dataclass(eq=False)
class ErrorSums:
    """Exact partial sums of the metrics over some whole rows of the table.

    ``pairs`` counted pairs; ``errors`` pairs with ``e != 0``; ``abs_sum``,
    ``square_sum``, ``error_sum`` the sums of ``|e|``, ``e**2``, ``e``
    (Python integers); ``worst`` max ``|e|``; ``relative_rows`` float64 [k]
    the sum of ``|e| / |a*b|`` over each row's pairs with ``a*b != 0`` (0
    elsewhere), ``relative_count`` how many such pairs, ``relative_worst``
    the largest ratio. ``a + b`` merges two disjoint sets of rows.
    """

    pairs: int = 0
    errors: int = 0
    abs_sum: int = 0
    square_sum: int = 0
    error_sum: int = 0
    worst: int = 0
    relative_rows: np.ndarray = field(default_factory=lambda: np.zeros(0))
    relative_count: int = 0
    relative_worst: float = 0.0

    @classmethod
    def of_block(cls, block: ErrorBlock) -> ErrorSums:
        """The sums over one :class:`ErrorBlock`.

        ``e**2`` can pass 2**63 (|e| reaches 2**32 at 16x16 bits), so unless
        the block's worst case rules that out it is summed through the 16-bit
        halves of ``|e| = h*2**16 + l``: ``e**2 = h*h*2**32 + h*l*2**17 + l*l``,
        each part in int64 and combined as Python integers.
        """
        error, abs_error, exact = block.error, block.abs_error, block.exact
        worst = int(abs_error.max()) if abs_error.size else 0
        if worst * worst * max(1, abs_error.size) < 1 << 63:
            square_sum = int(np.multiply(abs_error, abs_error).sum())
        else:
            high, low = abs_error >> 16, abs_error & 0xFFFF
            square_sum = (int((high * high).sum()) << 32) + (int((high * low).sum()) << 17)
            square_sum += int((low * low).sum())
        denominator = np.abs(exact)
        relative = np.divide(
            abs_error, denominator, out=np.zeros(error.shape), where=denominator != 0, dtype=np.float64
        )
        return cls(
            pairs=int(error.size),
            errors=int(np.count_nonzero(error)),
            abs_sum=int(abs_error.sum()),
            square_sum=square_sum,
            error_sum=int(error.sum()),
            worst=worst,
            relative_rows=np.ascontiguousarray(relative).sum(axis=1),
            relative_count=int(np.count_nonzero(block.a_rows)) * int(np.count_nonzero(block.b)),
            relative_worst=float(relative.max()) if relative.size else 0.0,
        )

    def __add__(self, other: ErrorSums) -> ErrorSums:
        return ErrorSums(
            pairs=self.pairs + other.pairs,
            errors=self.errors + other.errors,
            abs_sum=self.abs_sum + other.abs_sum,
            square_sum=self.square_sum + other.square_sum,
            error_sum=self.error_sum + other.error_sum,
            worst=max(self.worst, other.worst),
            relative_rows=np.concatenate([self.relative_rows, other.relative_rows]),
            relative_count=self.relative_count + other.relative_count,
            relative_worst=max(self.relative_worst, other.relative_worst),
        )

    def metrics(self) -> dict[str, float]:
        """The metrics of the module docstring, once the sums cover every pair (``pairs = Na * Nb``)."""
        pairs = max(self.pairs, 1)  # = 2**(width_a + width_b)
        count = self.relative_count
        return {
            "er": self.errors / pairs,
            "med": self.abs_sum / pairs,
            "nmed": self.abs_sum / pairs / pairs,
            "wce": float(self.worst),
            "wce_norm": self.worst / pairs,
            "mred": math.fsum(self.relative_rows.tolist()) / count if count else 0.0,
            "wcre": self.relative_worst,
            "mse": self.square_sum / pairs,
            "bias": self.error_sum / pairs,
        }


def error_metrics(product: np.ndarray, operand_a: np.ndarray, operand_b: np.ndarray) -> dict[str, float]:
    """Compute the metrics above.

    Parameters
    ----------
    product : int array [Na, Nb]
        ``product[i, j] = AM(operand_a[i], operand_b[j])``.
    operand_a, operand_b : int arrays [Na], [Nb]
        Operand values (value order); their bit widths are ``log2(Na)``, ``log2(Nb)``.

    Returns
    -------
    dict of float
        One entry per name in :data:`METRIC_NAMES`.

    Rows are reduced in blocks of about 2**18 entries (:class:`ErrorSums`),
    so a 12x12 table needs tens of MB of scratch space, not the table size
    several times over; the result does not depend on the block size.
    """
    a = np.asarray(operand_a, dtype=np.int64)
    b = np.asarray(operand_b, dtype=np.int64)
    product = np.asarray(product)
    rows = max(1, _BLOCK_ENTRIES // max(b.size, 1))
    sums = ErrorSums()
    for start in range(0, a.size, rows):
        sums = sums + ErrorSums.of_block(
            ErrorBlock(product[start : start + rows], a[start : start + rows], b)
        )
    return sums.metrics()
