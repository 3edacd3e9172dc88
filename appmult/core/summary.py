"""What a wide (streamed) artifact holds instead of its product table.

A multiplier with an operand of 13..16 bits is characterized by streaming:
no table, exact metrics (:mod:`appmult.core.metrics`) and the summaries a
report needs, all in value order (operand ``a`` = rows, ``b`` = columns,
``e = AM(a, b) - a*b``):

``histogram`` int64 [:data:`HISTOGRAM_BINS`]
    pairs per error bin on a signed power-of-two scale: bin
    ``ZERO_BIN + sign(e) * k`` counts the pairs with ``k`` = bit length of
    ``|e|``, i.e. ``2**(k-1) <= |e| < 2**k`` (bin ``ZERO_BIN`` is ``e = 0``);
    ``|e| < 2**33`` for outputs of up to 32 bits, so ``k <= 33`` (:func:`histogram_edges`).
``row_mean_abs`` float64 [Na], ``row_max_abs`` int64 [Na]
    mean and max ``|e|`` over b for each value of a;
``col_mean_abs`` float64 [Nb], ``col_max_abs`` int64 [Nb]
    the same over a for each value of b;
``map_mean`` float64 [Ma, Mb], ``map_max_abs`` int64 [Ma, Mb]
    the mean ``e`` and the max ``|e|`` over blocks of ``Na/Ma x Nb/Mb``
    pairs, ``Ma = min(Na, MAP_BINS)``, ``Mb = min(Nb, MAP_BINS)``; block
    ``(p, q)`` covers the a values ``a[p*Na/Ma : (p+1)*Na/Ma]`` and likewise for b;
``product_min``, ``product_max``
    the range of AM over all pairs;
``metrics_by``
    how the metrics were computed (backend, pairs, slices);
``cross_check``
    the sampled comparison with the reference simulator, if one was run (:class:`SampledCheck`).

:class:`SummarySums` are the exact partial sums a slice of rows reduces to;
like :class:`~appmult.core.metrics.ErrorSums` they merge with ``+`` in any
order to the same bits, and :meth:`SummarySums.summary` turns the total into
an :class:`ErrorSummary`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from appmult.core.errors import ArtifactError
from appmult.core.metrics import ErrorBlock

__all__ = [
    "HISTOGRAM_BINS",
    "MAP_BINS",
    "ZERO_BIN",
    "ErrorSummary",
    "SampledCheck",
    "SummarySums",
    "histogram_edges",
    "map_shape",
]

#: Largest bit length of ``|e|`` (outputs of up to 32 bits, products of up to 32 bits).
_ERROR_BITS = 33
#: Index of the ``e = 0`` bin of the histogram.
ZERO_BIN = _ERROR_BITS
#: Bins of the error histogram.
HISTOGRAM_BINS = 2 * _ERROR_BITS + 1
#: Most blocks per axis of the binned error map.
MAP_BINS = 256


def histogram_edges() -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` int64 [HISTOGRAM_BINS]: the smallest and largest error of each bin."""
    k = np.arange(1, _ERROR_BITS + 1, dtype=np.int64)
    low_positive, high_positive = 1 << (k - 1), (1 << k) - 1
    low = np.concatenate([-high_positive[::-1], [0], low_positive])
    high = np.concatenate([-low_positive[::-1], [0], high_positive])
    return low, high


def map_shape(shape: tuple[int, int]) -> tuple[int, int]:
    """``(Ma, Mb)``: the binned error map's shape for a table of ``shape`` = (Na, Nb)."""
    return min(shape[0], MAP_BINS), min(shape[1], MAP_BINS)


@dataclass(frozen=True)
class SampledCheck:
    """A sampled comparison of the bit-parallel result with the reference simulator.

    ``reference`` names the simulator (``icarus ... + cocotb ...``); the
    sample was every corner operand against every other (``corner_pairs``)
    plus ``random_pairs`` pairs drawn uniformly with numpy's PCG64 from
    ``seed``; ``mismatches`` pairs differed; it took ``seconds`` of wall time.
    """

    reference: str
    corner_pairs: int
    random_pairs: int
    seed: int
    mismatches: int
    seconds: float = 0.0

    @property
    def pairs(self) -> int:
        return self.corner_pairs + self.random_pairs


@dataclass(eq=False)
class ErrorSummary:
    """The summaries of a wide artifact (module docstring), checked against its shape by :meth:`check`."""

    histogram: np.ndarray
    row_mean_abs: np.ndarray
    row_max_abs: np.ndarray
    col_mean_abs: np.ndarray
    col_max_abs: np.ndarray
    map_mean: np.ndarray
    map_max_abs: np.ndarray
    product_min: int
    product_max: int
    metrics_by: str = ""
    cross_check: SampledCheck | None = None

    #: The array fields, with their dtype kind and their shape for a table of shape (Na, Nb).
    ARRAYS = {
        "histogram": ("i", lambda shape: (HISTOGRAM_BINS,)),
        "row_mean_abs": ("f", lambda shape: (shape[0],)),
        "row_max_abs": ("i", lambda shape: (shape[0],)),
        "col_mean_abs": ("f", lambda shape: (shape[1],)),
        "col_max_abs": ("i", lambda shape: (shape[1],)),
        "map_mean": ("f", map_shape),
        "map_max_abs": ("i", map_shape),
    }

    def __post_init__(self) -> None:
        for name, (kind, _) in self.ARRAYS.items():
            setattr(
                self, name, np.asarray(getattr(self, name), dtype=np.int64 if kind == "i" else np.float64)
            )
        self.product_min, self.product_max = int(self.product_min), int(self.product_max)

    def check(self, shape: tuple[int, int], where: str) -> None:
        """Raise :class:`ArtifactError` unless every array has its shape for a table of ``shape``."""
        for name, (_, expected) in self.ARRAYS.items():
            actual = getattr(self, name).shape
            if actual != expected(shape):
                raise ArtifactError(f"{where}/summary/{name} has shape {actual}, expected {expected(shape)}")
        if int(self.histogram.sum()) != shape[0] * shape[1]:
            raise ArtifactError(
                f"{where}/summary/histogram counts {int(self.histogram.sum())} pairs, "
                f"expected {shape[0] * shape[1]}"
            )


@dataclass(eq=False)
class SummarySums:
    """Exact partial sums of an :class:`ErrorSummary` over some whole rows (value indices).

    Rows ``first_row .. first_row + len(row_abs_sum) - 1`` have their sums of
    ``|e|`` and maxima here; ``col_*`` cover every column; the map rows
    ``map_first ..`` hold sums of ``e`` and maxima of ``|e|`` per block. All
    sums are int64 and exact (``|e| < 2**33``, at most 2**16 pairs per row,
    column or block). ``a + b`` merges sums over disjoint rows.
    """

    shape: tuple[int, int]
    first_row: int = 0
    row_abs_sum: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    row_max_abs: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    col_abs_sum: np.ndarray | None = None
    col_max_abs: np.ndarray | None = None
    map_first: int = 0
    map_sum: np.ndarray | None = None
    map_max_abs: np.ndarray | None = None
    histogram: np.ndarray = field(default_factory=lambda: np.zeros(HISTOGRAM_BINS, np.int64))
    product_min: int | None = None
    product_max: int | None = None

    def __post_init__(self) -> None:
        n_b = self.shape[1]
        m_b = map_shape(self.shape)[1]
        if self.col_abs_sum is None:
            self.col_abs_sum, self.col_max_abs = np.zeros(n_b, np.int64), np.zeros(n_b, np.int64)
        if self.map_sum is None:
            self.map_sum, self.map_max_abs = np.zeros((0, m_b), np.int64), np.zeros((0, m_b), np.int64)

    @classmethod
    def of_block(
        cls, block: ErrorBlock, product_rows: np.ndarray, first_row: int, shape: tuple[int, int]
    ) -> SummarySums:
        """The sums over one block of rows ``first_row ..`` (value indices) of a table of ``shape``."""
        n_a, n_b = shape
        m_a, m_b = map_shape(shape)
        rows_per_bin, cols_per_bin = n_a // m_a, n_b // m_b
        error, abs_error = block.error, block.abs_error
        k = error.shape[0]
        bins = (first_row + np.arange(k)) // rows_per_bin
        starts = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
        by_column_bin = error.reshape(k, m_b, cols_per_bin).sum(axis=2)
        worst_by_column_bin = abs_error.reshape(k, m_b, cols_per_bin).max(axis=2)
        magnitude = np.frexp(abs_error.astype(np.float64))[1]  # bit length of |e| (exact below 2**53)
        index = np.where(error < 0, ZERO_BIN - magnitude, ZERO_BIN + magnitude).ravel()
        return cls(
            shape=shape,
            first_row=first_row,
            row_abs_sum=abs_error.sum(axis=1),
            row_max_abs=abs_error.max(axis=1),
            col_abs_sum=abs_error.sum(axis=0),
            col_max_abs=abs_error.max(axis=0),
            map_first=int(bins[0]),
            map_sum=np.add.reduceat(by_column_bin, starts, axis=0),
            map_max_abs=np.maximum.reduceat(worst_by_column_bin, starts, axis=0),
            histogram=np.bincount(index, minlength=HISTOGRAM_BINS).astype(np.int64),
            product_min=int(np.min(product_rows)),
            product_max=int(np.max(product_rows)),
        )

    def __add__(self, other: SummarySums) -> SummarySums:
        if not len(self.row_abs_sum):
            return other
        if not len(other.row_abs_sum):
            return self
        first = min(self.first_row, other.first_row)
        stop = max(self.first_row + len(self.row_abs_sum), other.first_row + len(other.row_abs_sum))
        map_first = min(self.map_first, other.map_first)
        map_stop = max(self.map_first + len(self.map_sum), other.map_first + len(other.map_sum))
        row_abs_sum, row_max_abs = np.zeros(stop - first, np.int64), np.zeros(stop - first, np.int64)
        m_b = self.map_sum.shape[1]
        map_sum = np.zeros((map_stop - map_first, m_b), np.int64)
        map_max_abs = np.zeros_like(map_sum)
        for part in (self, other):
            rows = slice(part.first_row - first, part.first_row - first + len(part.row_abs_sum))
            row_abs_sum[rows] += part.row_abs_sum
            np.maximum(row_max_abs[rows], part.row_max_abs, out=row_max_abs[rows])
            bins = slice(part.map_first - map_first, part.map_first - map_first + len(part.map_sum))
            map_sum[bins] += part.map_sum
            np.maximum(map_max_abs[bins], part.map_max_abs, out=map_max_abs[bins])
        return SummarySums(
            shape=self.shape,
            first_row=first,
            row_abs_sum=row_abs_sum,
            row_max_abs=row_max_abs,
            col_abs_sum=self.col_abs_sum + other.col_abs_sum,
            col_max_abs=np.maximum(self.col_max_abs, other.col_max_abs),
            map_first=map_first,
            map_sum=map_sum,
            map_max_abs=map_max_abs,
            histogram=self.histogram + other.histogram,
            product_min=min(self.product_min, other.product_min),
            product_max=max(self.product_max, other.product_max),
        )

    def summary(self, metrics_by: str = "", cross_check: SampledCheck | None = None) -> ErrorSummary:
        """The :class:`ErrorSummary`, once the sums cover every row of the table."""
        n_a, n_b = self.shape
        m_a, m_b = map_shape(self.shape)
        if self.first_row != 0 or len(self.row_abs_sum) != n_a or len(self.map_sum) != m_a:
            raise ArtifactError(
                f"the summary sums cover rows {self.first_row}..{self.first_row + len(self.row_abs_sum) - 1} "
                f"of {n_a}; every row is needed"
            )
        return ErrorSummary(
            histogram=self.histogram,
            row_mean_abs=self.row_abs_sum / n_b,
            row_max_abs=self.row_max_abs,
            col_mean_abs=self.col_abs_sum / n_a,
            col_max_abs=self.col_max_abs,
            map_mean=self.map_sum / ((n_a // m_a) * (n_b // m_b)),
            map_max_abs=self.map_max_abs,
            product_min=self.product_min,
            product_max=self.product_max,
            metrics_by=metrics_by,
            cross_check=cross_check,
        )
