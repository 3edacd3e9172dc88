"""The rules of the gradient estimators that the formula tests in test_lutgen.py leave open.

From the README ("Gradient tables") and design.md ("Gradient estimators"): the half-window
``h`` of an axis of N values must satisfy ``h >= 1`` and ``2h + 2 < N``; an unsigned table's
edge bands hold ``(max - min) / N`` whatever the row's trend; the separable LUT-1D form is
the best rank-R approximation of the LUT-2D table, R at most 8 and at most the smaller
table side, each term signed so that ``sum(v_r) >= 0`` and the terms in decreasing order of
their singular value; the decomposition is reproducible.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from appmult.core.errors import ParameterError
from appmult.core.operands import operand_values
from appmult.lutgen import estimators, lut1d, lut2d
from appmult.lutgen.estimators import check_form, check_hws, check_rank


def noisy_product(width_a: int, width_b: int, seed: int) -> np.ndarray:
    """An unsigned exact product plus a random error: rows neither linear nor monotone."""
    rng = np.random.default_rng(seed)
    a, b = operand_values(width_a, False), operand_values(width_b, False)
    return np.outer(a, b) + rng.integers(-20, 21, size=(a.size, b.size))


# ---------------------------------------------------------------- half-windows


@pytest.mark.parametrize(("n", "largest"), [(5, 1), (6, 1), (8, 2), (16, 6), (17, 7), (256, 126)])
def test_the_largest_half_window_is_the_largest_h_with_2h_plus_2_below_n(n, largest):
    assert check_hws(1, n, "a") == 1
    assert check_hws(largest, n, "b") == largest
    with pytest.raises(ParameterError) as info:
        check_hws(largest + 1, n, "b")
    assert str(info.value) == (
        f"hws_b={largest + 1} is out of range for operand b with N={n} values: LUT-2D needs "
        f"1 <= h and 2*h + 2 < N, i.e. 1 <= hws_b <= {largest}; choose a half-window in that range"
    )


@pytest.mark.parametrize("n", [2, 3, 4])
def test_an_axis_of_four_or_fewer_values_has_no_half_window(n):
    with pytest.raises(
        ParameterError, match=rf"^operand a has only N={n} values; LUT-2D needs 2\*h \+ 2 < N"
    ):
        check_hws(1, n, "a")


def test_lut2d_takes_the_largest_half_window_of_an_odd_axis():
    # N = 5: h = 1 leaves k = 2 for the central difference, (S(3) - S(1)) / 2.
    row = np.array([0, 1, 4, 9, 16])
    product = np.tile(row, (5, 1))
    _, d_b = lut2d(product, 1, 1)
    s1, s3 = (0 + 1 + 4) / 3, (4 + 9 + 16) / 3
    edge = 16 / 5
    np.testing.assert_allclose(d_b[0], [edge, edge, (s3 - s1) / 2, edge, edge], rtol=1e-6)


# ---------------------------------------------------------------- edge bands


def test_unsigned_edges_are_the_unsigned_slope_by_default():
    # A falling unsigned row: (max - min) / N stays positive unless signed=True is asked for.
    a = operand_values(3, False)
    product = np.outer(a, 7 - a)  # AM(a, b) = a * (7 - b): every row with a > 0 falls
    _, d_b = lut2d(product, 1, 1)
    np.testing.assert_allclose(d_b[:, 0], a * 7 / 8)
    np.testing.assert_allclose(d_b[:, -1], a * 7 / 8)
    _, signed_b = lut2d(product, 1, 1, signed=True)
    np.testing.assert_allclose(signed_b[:, 0], -a * 7 / 8)


def test_lut2d_returns_contiguous_float32_tables():
    d_a, d_b = lut2d(noisy_product(4, 5, 0), 2, 3)
    for table in (d_a, d_b):
        assert table.dtype == np.float32
        assert table.shape == (16, 32)
        assert table.flags["C_CONTIGUOUS"]


def test_a_table_that_is_not_2d_is_refused():
    with pytest.raises(
        ParameterError, match=re.escape("product table must be 2-D [Na, Nb], got shape (16,)")
    ):
        lut2d(np.arange(16), 1, 1)


# ---------------------------------------------------------------- LUT-1D form and rank


def test_the_unknown_form_message_lists_every_form():
    with pytest.raises(ParameterError) as info:
        check_form("median")
    assert str(info.value) == "unknown LUT-1D form 'median'; choose one of separable, mean, lsq, range"


def test_separable_checks_its_half_windows():
    a = operand_values(4, False)
    product = np.outer(a, a)
    with pytest.raises(
        ParameterError, match="LUT-1D form 'separable' needs both half-windows hws_a and hws_b"
    ):
        lut1d(product, a, a, "separable", hws_b=1)
    with pytest.raises(ParameterError, match=r"hws_a=7 is out of range for operand a with N=16 values"):
        lut1d(product, a, a, "separable", hws_a=7, hws_b=1)
    with pytest.raises(ParameterError, match=r"hws_b=0 is out of range"):
        lut1d(product, a, a, "separable", hws_a=1, hws_b=0)


@pytest.mark.parametrize(("n_a", "n_b"), [(4, 16), (16, 4)])
def test_the_rank_is_at_most_the_smaller_table_side(n_a, n_b):
    assert check_rank(4, n_a, n_b) == 4
    with pytest.raises(ParameterError) as info:
        check_rank(5, n_a, n_b)
    assert str(info.value) == (
        "LUT-1D rank 5 is out of range: it must be an integer 1..4 "
        "(at most 8, and at most the smaller table side, here 4)"
    )


@pytest.mark.parametrize("rank", [2.0, 2.5, True, "2"])
def test_a_rank_that_is_not_an_integer_is_refused(rank):
    with pytest.raises(ParameterError, match=re.escape(f"LUT-1D rank {rank!r} is out of range")):
        check_rank(rank, 16, 16)


def test_a_numpy_integer_rank_is_accepted():
    assert check_rank(np.int64(3), 16, 16) == 3
    assert type(check_rank(np.int64(3), 16, 16)) is int


# ---------------------------------------------------------------- the separable decomposition


def expand(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u.astype(np.float64).T @ v.astype(np.float64)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_separable_term_has_a_non_negative_v_sum(seed):
    a = operand_values(4, False)
    u_a, v_a, u_b, v_b = lut1d(noisy_product(4, 4, seed), a, a, "separable", rank=4, hws_a=2, hws_b=2)
    for v in (v_a, v_b):
        assert np.all(v.astype(np.float64).sum(axis=1) >= -1e-4)
    # The sign convention moves no value: the terms still sum to the best rank-4 approximation.
    d_a, _ = lut2d(noisy_product(4, 4, seed), 2, 2)
    left, values, right = np.linalg.svd(d_a.astype(np.float64))
    best = (left[:, :4] * values[:4]) @ right[:4]
    np.testing.assert_allclose(expand(u_a, v_a), best, atol=1e-4)


def test_separable_terms_come_in_decreasing_order_of_their_singular_value(monkeypatch):
    # Through the iterative partial SVD (what tables above 2**20 entries use), forced here.
    a = operand_values(5, False)
    product = noisy_product(5, 5, 7)
    d_a, _ = lut2d(product, 2, 2)
    singular = np.linalg.svd(d_a.astype(np.float64), compute_uv=False)[:3]
    monkeypatch.setattr(estimators, "_FULL_SVD_ENTRIES", 0)
    u_a, v_a, _, _ = lut1d(product, a, a, "separable", rank=3, hws_a=2, hws_b=2)
    # u_r = sqrt(s_r) U[:, r] and v_r = sqrt(s_r) V[r, :] with unit U, V: |u_r| |v_r| = s_r.
    norms = np.linalg.norm(u_a.astype(np.float64), axis=1) * np.linalg.norm(v_a.astype(np.float64), axis=1)
    np.testing.assert_allclose(norms, singular, rtol=1e-5)


def test_a_rank_equal_to_the_smaller_side_reproduces_lut2d_exactly_at_any_size(monkeypatch):
    # Full rank is the table itself, whichever SVD a table of its size would use.
    a = operand_values(3, False)
    product = noisy_product(3, 3, 4)
    want_a, want_b = lut2d(product, 2, 2)
    monkeypatch.setattr(estimators, "_FULL_SVD_ENTRIES", 0)
    u_a, v_a, u_b, v_b = lut1d(product, a, a, "separable", rank=8, hws_a=2, hws_b=2)
    np.testing.assert_allclose(expand(u_a, v_a), want_a, atol=1e-4)
    np.testing.assert_allclose(expand(u_b, v_b), want_b, atol=1e-4)


def test_tables_up_to_the_full_svd_size_never_use_the_iterative_solver(monkeypatch):
    # "A full SVD up to 1024 x 1024 entries": the limit is inclusive; checked at a 16 x 16 limit.
    import scipy.sparse.linalg

    def refuse(*args, **kwargs):
        raise AssertionError("the iterative partial SVD was used")

    monkeypatch.setattr(scipy.sparse.linalg, "svds", refuse)
    a = operand_values(4, False)
    product = noisy_product(4, 4, 3)
    lut1d(product, a, a, "separable", rank=2, hws_a=2, hws_b=2)
    monkeypatch.setattr(estimators, "_FULL_SVD_ENTRIES", 16 * 16)
    lut1d(product, a, a, "separable", rank=2, hws_a=2, hws_b=2)
    monkeypatch.setattr(estimators, "_FULL_SVD_ENTRIES", 16 * 16 - 1)
    with pytest.raises(AssertionError, match="iterative partial SVD"):
        lut1d(product, a, a, "separable", rank=2, hws_a=2, hws_b=2)


def test_the_iterative_decomposition_is_reproducible(monkeypatch):
    # It starts from a fixed vector: the same table gives the same factors, bit for bit.
    monkeypatch.setattr(estimators, "_FULL_SVD_ENTRIES", 0)
    table = np.random.default_rng(9).normal(size=(48, 64))
    first = estimators._low_rank(table, 2)
    for _ in range(4):
        again = estimators._low_rank(table, 2)
        for got, want in zip(again, first, strict=True):
            np.testing.assert_array_equal(got, want)
