"""Error metrics on tables large enough to be processed in several row blocks.

Definitions (README "Error metrics", design.md): over all Na*Nb pairs with
e = AM(a, b) - a*b, ``er`` is the fraction with e != 0, ``med`` mean |e|, ``nmed``
med / 2**(width_a + width_b), ``wce`` max |e|, ``wce_norm`` wce / 2**(width_a + width_b),
``mred`` mean |e| / |a*b| over pairs with a*b != 0, ``wcre`` its maximum, ``mse`` mean e**2,
``bias`` mean e. Every expected value below is worked out from those definitions.
"""

from __future__ import annotations

import numpy as np
import pytest

from appmult.core.metrics import error_metrics


def test_errors_in_every_row_block_are_all_counted():
    # 11x10 bits: 2**21 pairs, more than one block of rows; errors at both ends of the table.
    a, b = np.arange(2048), np.arange(1024)
    product = np.multiply.outer(a, b)
    planted = {(3, 5): +2, (0, 9): +4, (1500, 7): -3, (2047, 1023): +1}
    for (x, y), e in planted.items():
        product[x, y] += e
    m = error_metrics(product, a, b)
    pairs = 2**21
    nonzero = 2047 * 1023  # pairs with a*b != 0
    relative = [abs(e) / (x * y) for (x, y), e in planted.items() if x * y != 0]
    assert m["er"] == 4 / pairs
    assert m["med"] == 10 / pairs
    assert m["nmed"] == 10 / pairs / pairs
    assert m["wce"] == 4
    assert m["wce_norm"] == 4 / pairs
    assert m["mred"] == pytest.approx(sum(relative) / nonzero, rel=1e-12)
    assert m["wcre"] == pytest.approx(2 / 15)
    assert m["mse"] == (4 + 16 + 9 + 1) / pairs
    assert m["bias"] == (2 + 4 - 3 + 1) / pairs


def test_a_twelve_bit_multiplier_stuck_at_zero_has_exact_metrics():
    # AM = 0, so e = -a*b: |e| reaches 4095**2 and the sum of e**2 is (sum of a**2)**2,
    # about 5e20, past what one int64 holds.
    a = np.arange(4096)
    m = error_metrics(np.zeros((4096, 4096), dtype=np.int32), a, a)
    pairs = 2**24
    sum_a, sum_a2 = 4095 * 4096 // 2, 4095 * 4096 * 8191 // 6
    assert sum_a2**2 > 2**63
    assert m["mse"] == sum_a2**2 / pairs
    assert m["med"] == sum_a**2 / pairs
    assert m["bias"] == -(sum_a**2) / pairs
    assert m["er"] == 4095**2 / pairs
    assert m["wce"] == 4095**2
    assert m["mred"] == 1.0
    assert m["wcre"] == 1.0


def test_a_signed_twelve_bit_table_with_large_errors_has_the_exact_mean_square():
    # AM = -a*b: e = -2ab, e**2 = 4 a**2 b**2 summed over value-ordered signed axes.
    a = np.arange(-2048, 2048)
    product = -np.multiply.outer(a, a).astype(np.int32)
    m = error_metrics(product, a, a)
    sum_a2 = sum(v * v for v in range(-2048, 2048))
    assert m["mse"] == 4 * sum_a2**2 / 2**24
    assert m["wce"] == 2 * 2048**2
    assert m["bias"] == -2 * (-2048) ** 2 / 2**24  # the sum of e is -2 (sum of a)**2, sum of a = -2048
    assert m["mred"] == 2.0 and m["wcre"] == 2.0


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.uint64])
def test_operand_arrays_of_any_integer_dtype_give_the_same_metrics(dtype):
    a = list(range(16))
    product = np.multiply.outer(a, a)
    product[15, 15] -= 100  # e = -100 at a*b = 225
    product[0, 3] = 2  # e = +2 at a*b = 0
    m = error_metrics(product, np.array(a, dtype=dtype), np.array(a, dtype=dtype))
    assert m["er"] == 2 / 256
    assert m["med"] == 102 / 256
    assert m["wce"] == 100
    assert m["mred"] == pytest.approx(100 / 225 / 225)
    assert m["mse"] == (100**2 + 4) / 256
    assert m["bias"] == -98 / 256


def test_no_pair_with_a_nonzero_product_means_no_relative_error():
    # mred and wcre average over the pairs with a*b != 0; with none there is nothing to report.
    m = error_metrics(np.array([[0, 1, 0, 3]]), np.array([0]), np.array([0, 1, 2, 3]))
    assert m["er"] == 2 / 4
    assert m["med"] == 4 / 4
    assert m["wce"] == 3
    assert m["mse"] == (1 + 9) / 4
    assert m["mred"] == 0.0
    assert m["wcre"] == 0.0
