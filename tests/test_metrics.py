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
