"""The compiled reduction against its numpy definition, bit for bit.

:func:`appmult.core.fused.reduce_words` runs a numba kernel when numba is
installed (the ``fast`` extra) and the numpy definitions
(``ErrorSums.of_block``, ``SummarySums.of_block``) otherwise; both must give
the same bits on any block: unsigned and signed readings, errors of either
sign up to 2**33, exact pairs, and rows that straddle map blocks.
"""

from __future__ import annotations

import numpy as np
import pytest

from appmult.core import fused
from appmult.core.metrics import ErrorSums
from appmult.core.operands import operand_values
from appmult.core.summary import SummarySums

pytestmark = pytest.mark.skipif(not fused.COMPILED, reason="numba is not installed (the fast extra)")


def _block(width: int, signed: bool, rows: range, width_out: int, seed: int) -> tuple:
    """Random output words for rows ``rows`` of a width x width multiplier, mostly near the exact product."""
    generator = np.random.default_rng(seed)
    n = 1 << width
    columns = (np.arange(n) + (n // 2 if signed else 0)) % n
    values = operand_values(width, signed).astype(np.int64)
    b_by_pattern = values[columns]
    a_rows = values[rows.start : rows.stop]
    exact = np.multiply.outer(a_rows, b_by_pattern)
    noise = generator.integers(-(2**12), 2**12, size=exact.shape) * (generator.random(exact.shape) < 0.7)
    words = (exact + noise) % (1 << width_out)
    words[0, :5] = [0, (1 << width_out) - 1, 1 << (width_out - 1), (1 << (width_out - 1)) - 1, 12345]
    return words.astype(np.uint32), a_rows, b_by_pattern, columns


def _same(left: object, right: object) -> None:
    for name in vars(left):
        mine, theirs = getattr(left, name), getattr(right, name)
        if isinstance(mine, np.ndarray):
            assert mine.dtype == theirs.dtype and np.array_equal(mine, theirs), name
        else:
            assert mine == theirs, name


@pytest.mark.parametrize(
    ("width", "signed", "rows", "width_out"),
    [
        pytest.param(8, False, range(0, 256), 16, id="8u-all"),
        pytest.param(8, True, range(3, 9), 16, id="8s-rows"),
        pytest.param(12, True, range(1000, 1040), 24, id="12s-straddles-map-blocks"),
        pytest.param(16, False, range(65532, 65536), 32, id="16u-errors-to-2**32"),
        pytest.param(16, True, range(100, 104), 32, id="16s"),
    ],
)
def test_compiled_kernel_equals_the_numpy_definition(width, signed, rows, width_out):
    words, a_rows, b_by_pattern, columns = _block(width, signed, rows, width_out, seed=width + rows.start)
    shape = (1 << width, 1 << width)
    arguments = (words, a_rows, b_by_pattern, columns, signed, width_out, rows.start, shape)
    compiled = fused.reduce_words(*arguments)
    reference = fused._reduce_with_numpy(*arguments)
    assert isinstance(compiled[0], ErrorSums) and isinstance(compiled[1], SummarySums)
    _same(compiled[0], reference[0])
    _same(compiled[1], reference[1])
    assert compiled[0].metrics() == reference[0].metrics()
