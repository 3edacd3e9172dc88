"""One pass over a block of output words for every metric and summary sum, compiled when numba is there.

A streamed slice reduces each chunk of rows to :class:`~appmult.core.metrics.ErrorSums`
and :class:`~appmult.core.summary.SummarySums`. Their numpy definitions
(``of_block``) take some twenty passes over the chunk; :func:`reduce_words`
does the same work in one compiled loop when numba is installed (``pip
install appmult[fast]``), and falls back to those definitions otherwise.
The two agree bit for bit (tests/test_fused.py): every sum is an integer
(exact in either), each ``|e| / |a*b|`` is one IEEE division of the same
two doubles, and the per-row sums of those ratios are left to the same numpy
call on an array in the same (value) order.
"""

from __future__ import annotations

import numpy as np

from appmult.core.metrics import ErrorBlock, ErrorSums
from appmult.core.summary import HISTOGRAM_BINS, ZERO_BIN, SummarySums, map_shape

__all__ = ["COMPILED", "reduce_words"]

try:  # the optional compiled kernel
    import numba
except ImportError:  # pragma: no cover - depends on the installation
    numba = None

#: Whether the compiled kernel is in use.
COMPILED = numba is not None


def _kernel(words, a_rows, b_values, columns, output_signed, width_out, first_row, rows_per_bin,
            column_shift, map_first, row_abs, row_max, row_error, row_squares, row_nonzero, col_abs, col_max,
            map_sum, map_max, histograms, relative, extremes):  # fmt: skip  # noqa: ANN001, ANN202
    """The loop of :func:`reduce_words` (compiled by numba; also runs, slowly, as Python).

    Per-row sums stay in local variables (stores to arrays, which might
    alias, would pin every one of them to memory); ``bits`` is the bit length
    of ``|e|`` (below 2**34) by a branch-free binary search; the histogram is
    kept in four copies [4, bins] by column, so consecutive pairs in one bin
    do not wait on each other's increments; a column's map block is
    ``column >> column_shift`` (blocks are powers of two wide).
    """
    k, n_b = words.shape
    half, full = 1 << (width_out - 1), 1 << width_out
    low_product, high_product = extremes[0], extremes[1]
    for i in range(k):
        a = a_rows[i]
        bin_row = (first_row + i) // rows_per_bin - map_first
        total, signed_total, worst, nonzero = 0, 0, 0, 0
        squares_hh, squares_hl, squares_ll = 0, 0, 0
        for j in range(n_b):
            product = np.int64(words[i, j])
            if output_signed and product >= half:
                product -= full
            low_product = min(low_product, product)
            high_product = max(high_product, product)
            column = columns[j]
            exact = a * b_values[j]
            error = product - exact
            magnitude = abs(error)
            total += magnitude
            signed_total += error
            worst = max(worst, magnitude)
            high, low = magnitude >> 16, magnitude & 0xFFFF
            squares_hh += high * high
            squares_hl += high * low
            squares_ll += low * low
            col_abs[column] += magnitude
            col_max[column] = max(col_max[column], magnitude)
            bin_column = column >> column_shift
            map_sum[bin_row, bin_column] += error
            map_max[bin_row, bin_column] = max(map_max[bin_row, bin_column], magnitude)
            if error == 0:
                histograms[j & 3, ZERO_BIN] += 1
                relative[i, column] = 0.0
                continue
            nonzero += 1
            bits, rest = 1, magnitude
            for shift in (32, 16, 8, 4, 2, 1):
                step = shift * ((rest >> shift) != 0)
                rest >>= step
                bits += step
            histograms[j & 3, ZERO_BIN - bits if error < 0 else ZERO_BIN + bits] += 1
            relative[i, column] = magnitude / abs(exact) if exact != 0 else 0.0
        row_abs[i], row_error[i], row_max[i], row_nonzero[i] = total, signed_total, worst, nonzero
        row_squares[i, 0], row_squares[i, 1], row_squares[i, 2] = squares_hh, squares_hl, squares_ll
    extremes[0], extremes[1] = low_product, high_product


_compiled = numba.njit(cache=True, nogil=True)(_kernel) if COMPILED else None


def reduce_words(
    words: np.ndarray,
    a_rows: np.ndarray,
    b_by_pattern: np.ndarray,
    columns: np.ndarray,
    output_signed: bool,
    width_out: int,
    first_row: int,
    shape: tuple[int, int],
) -> tuple[ErrorSums, SummarySums]:
    """The sums of a block of whole rows, straight from the simulator's output words.

    ``words`` uint32 [k, Nb] holds the output words of rows ``first_row ..``
    (value indices) with b by bit pattern; ``a_rows`` [k] are those rows' a
    values, ``b_by_pattern`` [Nb] b's value for each pattern and ``columns``
    [Nb] its value index (column of the value-ordered table); words read as
    two's complement of ``width_out`` bits when ``output_signed``. ``shape``
    is the whole table's (Na, Nb).
    """
    if not COMPILED:
        return _reduce_with_numpy(
            words, a_rows, b_by_pattern, columns, output_signed, width_out, first_row, shape
        )
    k, n_b = words.shape
    m_a, m_b = map_shape(shape)
    rows_per_bin, cols_per_bin = shape[0] // m_a, n_b // m_b
    map_first = first_row // rows_per_bin
    map_rows = (first_row + k - 1) // rows_per_bin - map_first + 1
    zeros = lambda *size: np.zeros(size, dtype=np.int64)  # noqa: E731
    row_abs, row_max, row_error, row_nonzero = zeros(k), zeros(k), zeros(k), zeros(k)
    row_squares = zeros(k, 3)
    col_abs, col_max = zeros(n_b), zeros(n_b)
    map_sum, map_max = zeros(map_rows, m_b), zeros(map_rows, m_b)
    histograms = zeros(4, HISTOGRAM_BINS)
    relative = np.empty((k, n_b), dtype=np.float64)
    extremes = np.array([np.iinfo(np.int64).max, np.iinfo(np.int64).min], dtype=np.int64)
    _compiled(
        words, np.asarray(a_rows, np.int64), np.asarray(b_by_pattern, np.int64),
        np.asarray(columns, np.int64), bool(output_signed), int(width_out), int(first_row), rows_per_bin,
        cols_per_bin.bit_length() - 1, map_first, row_abs, row_max, row_error, row_squares, row_nonzero,
        col_abs, col_max, map_sum, map_max, histograms, relative, extremes,
    )  # fmt: skip
    squares = row_squares.sum(axis=0).tolist()  # each below 2**63: at most 2**16 rows of 2**50
    errors = ErrorSums(
        pairs=k * n_b,
        errors=int(row_nonzero.sum()),
        abs_sum=int(row_abs.sum()),
        square_sum=(squares[0] << 32) + (squares[1] << 17) + squares[2],
        error_sum=int(row_error.sum()),
        worst=int(row_max.max()),
        relative_rows=relative.sum(axis=1),
        relative_count=int(np.count_nonzero(a_rows)) * int(np.count_nonzero(b_by_pattern)),
        relative_worst=float(relative.max()),
    )
    summary = SummarySums(
        shape=shape,
        first_row=first_row,
        row_abs_sum=row_abs,
        row_max_abs=row_max,
        col_abs_sum=col_abs,
        col_max_abs=col_max,
        map_first=map_first,
        map_sum=map_sum,
        map_max_abs=map_max,
        histogram=histograms.sum(axis=0),
        product_min=int(extremes[0]),
        product_max=int(extremes[1]),
    )
    return errors, summary


def _reduce_with_numpy(words, a_rows, b_by_pattern, columns, output_signed, width_out, first_row, shape):  # noqa: ANN001, ANN202
    """The definitions: the block in value order, then ``ErrorSums.of_block`` and ``SummarySums.of_block``."""
    product = np.empty(words.shape, dtype=np.int64)
    product[:, columns] = words
    if output_signed:
        product[product >= 1 << (width_out - 1)] -= 1 << width_out
    b = np.empty(len(columns), dtype=np.int64)
    b[columns] = b_by_pattern
    block = ErrorBlock(product, a_rows, b)
    return ErrorSums.of_block(block), SummarySums.of_block(block, product, first_row, shape)
