"""Error metrics on tables small enough to work out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from appmult.core.metrics import METRIC_NAMES, error_metrics


def test_exact_table_has_zero_error():
    a = np.arange(4)
    m = error_metrics(np.outer(a, a), a, a)
    assert all(m[name] == 0.0 for name in METRIC_NAMES)


def test_two_bit_table_with_two_wrong_entries():
    # 2x2-bit unsigned: exact a*b except AM(3,3) = 8 (e = -1) and AM(1,2) = 5 (e = +3).
    a = np.arange(4)
    product = np.outer(a, a)
    product[3, 3] = 8
    product[1, 2] = 5
    m = error_metrics(product, a, a)
    assert m["er"] == 2 / 16
    assert m["med"] == 4 / 16  # |-1| + |3|
    assert m["nmed"] == 4 / 16 / 16  # 2**(2+2) = 16
    assert m["wce"] == 3
    assert m["wce_norm"] == 3 / 16
    # |e|/|ab| over the 9 pairs with ab != 0: 1/9 at (3,3), 3/2 at (1,2)
    assert m["mred"] == pytest.approx((1 / 9 + 3 / 2) / 9)
    assert m["wcre"] == pytest.approx(1.5)
    assert m["mse"] == (1 + 9) / 16
    assert m["bias"] == (3 - 1) / 16


def test_signed_error_at_zero_product_counts_in_med_not_mred():
    a = np.array([-2, -1, 0, 1])
    product = np.outer(a, a)
    product[2, 0] = 1  # a=0, b=-2: e = 1 where a*b = 0
    product[0, 0] = 3  # a=-2, b=-2: exact 4, e = -1
    m = error_metrics(product, a, a)
    assert m["er"] == 2 / 16
    assert m["med"] == 2 / 16
    assert m["bias"] == 0.0
    assert m["mred"] == pytest.approx((1 / 4) / 9)  # nine pairs with a*b != 0
    assert m["wcre"] == pytest.approx(0.25)


def test_signed_table_with_errors_at_negative_positive_and_zero_products():
    # 2x2-bit signed operands a, b in (-2, -1, 0, 1); exact table, rows a, columns b:
    #   a=-2:  4  2  0 -2
    #   a=-1:  2  1  0 -1
    #   a= 0:  0  0  0  0
    #   a= 1: -2 -1  0  1
    a = np.array([-2, -1, 0, 1])
    product = np.outer(a, a)
    product[0, 3] = 1  # a=-2, b=1:  a*b = -2, e = +3, |e|/|ab| = 3/2
    product[3, 1] = -3  # a=1, b=-1:  a*b = -1, e = -2, |e|/|ab| = 2
    product[1, 1] = 0  # a=-1, b=-1: a*b = 1,  e = -1, |e|/|ab| = 1
    product[0, 0] = 5  # a=-2, b=-2: a*b = 4,  e = +1, |e|/|ab| = 1/4
    product[2, 3] = 2  # a=0, b=1:   a*b = 0,  e = +2 (no relative error: a*b = 0)
    m = error_metrics(product, a, a)
    assert m["er"] == 5 / 16
    assert m["med"] == (3 + 2 + 1 + 1 + 2) / 16
    assert m["nmed"] == 9 / 16 / 16
    assert m["wce"] == 3  # at a negative exact product
    assert m["wce_norm"] == 3 / 16
    # a*b != 0 for a, b in (-2, -1, 1): 9 pairs; sum of |e|/|ab| = 3/2 + 2 + 1 + 1/4 = 19/4.
    # (Dividing by the signed a*b instead would give (-3/2 - 2 + 1 + 1/4) / 9 = -1/4.)
    assert m["mred"] == pytest.approx(19 / 4 / 9)
    assert m["wcre"] == pytest.approx(2.0)  # at a*b = -1
    assert m["mse"] == (9 + 4 + 1 + 1 + 4) / 16
    assert m["bias"] == (3 - 2 - 1 + 1 + 2) / 16


def test_signed_errors_in_different_row_blocks_are_all_counted():
    # 11x11-bit signed: 2048 x 2048 pairs = 2**22, processed in blocks of 512 rows, so the
    # three planted errors below fall in the first, third and last block.
    a = np.arange(-1024, 1024)
    product = np.outer(a, a)
    product[0, 2047] += 5  # a=-1024, b=1023: a*b = -1047552, e = +5
    product[2047, 1023] -= 1023  # a=1023, b=-1: a*b = -1023, e = -1023, |e|/|ab| = 1
    product[1024, 1031] = 7  # a=0, b=7: a*b = 0, e = +7
    m = error_metrics(product, a, a)
    pairs = 2**22
    assert m["er"] == 3 / pairs
    assert m["med"] == (5 + 1023 + 7) / pairs
    assert m["nmed"] == 1035 / pairs / pairs
    assert m["wce"] == 1023
    assert m["wce_norm"] == 1023 / pairs
    # 2047 * 2047 pairs with a*b != 0 (a, b != 0)
    assert m["mred"] == pytest.approx((5 / 1047552 + 1) / (2047 * 2047), rel=1e-12)
    assert m["wcre"] == pytest.approx(1.0)
    assert m["mse"] == (25 + 1023**2 + 49) / pairs
    assert m["bias"] == (5 - 1023 + 7) / pairs
