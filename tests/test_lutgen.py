"""Gradient estimators (STE, LUT-2D, LUT-1D) and ``appmult lutgen``.

LUT-2D is checked against an independent per-entry loop written here from the
DATE 2025 formulas (Eqs. 4-6), against the exact multiplier's known gradient,
and against a 4-bit truncated multiplier worked out by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from appmult.characterize import characterize
from appmult.cli import cli
from appmult.core.artifact import Artifact
from appmult.core.artifact_file import load, save
from appmult.core.errors import ArtifactError, ParameterError
from appmult.core.gradient import AxesGradient
from appmult.core.manifest import load_manifest
from appmult.core.operands import operand_values
from appmult.lutgen import (
    add_gradients,
    default_hws,
    gradient_tables,
    library_artifacts,
    lut1d,
    lut2d,
)
from appmult.lutgen.diagnostics import DIAGNOSTIC_ATTRS
from appmult.lutgen.half_window import sqrt_med_rule
from appmult.lutgen.methods import GradientParameters

# ---------------------------------------------------------------- helpers

#: Real EvoApprox netlists (MIT licence), in the repository or, before they were copied, beside it.
EVOAPPROX = next(
    (path for path in (Path(__file__).parent / "fixtures" / "evoapprox",
                       Path(__file__).resolve().parents[2] / "shared" / "evoapprox") if path.is_dir()),
    Path(__file__).parent / "fixtures" / "evoapprox",
)  # fmt: skip


def make_artifact(
    product: np.ndarray | None = None,
    *,
    width_a: int = 4,
    width_b: int = 4,
    signed: bool = False,
    name: str = "test_mul",
) -> Artifact:
    """An artifact whose product defaults to the exact multiplier's."""
    a = operand_values(width_a, signed)
    b = operand_values(width_b, signed)
    if product is None:
        product = np.outer(a, b)
    return Artifact(
        name=name,
        top="mul",
        width_a=width_a,
        width_b=width_b,
        width_out=width_a + width_b,
        signed_a=signed,
        signed_b=signed,
        product=product,
    )


def oracle_row(row: list[int], h: int, signed: bool) -> list[float]:
    """dAM/db along one row, entry by entry, straight from Eqs. 4-6."""
    n = len(row)

    def smoothed(k: int) -> float:
        return sum(row[k - h : k + h + 1]) / (2 * h + 1)

    edge = (max(row) - min(row)) / n
    if signed:
        trend = row[-1] - row[0]
        edge = edge if trend > 0 else (-edge if trend < 0 else 0.0)
    grad = []
    for k in range(n):
        if h < k < n - 1 - h:
            grad.append((smoothed(k + 1) - smoothed(k - 1)) / 2)
        else:
            grad.append(edge)
    return grad


def oracle_lut2d(product: np.ndarray, hws_a: int, hws_b: int, signed: bool):
    table = product.tolist()
    d_b = [oracle_row(row, hws_b, signed) for row in table]
    columns = [list(col) for col in zip(*table, strict=True)]
    d_a_t = [oracle_row(col, hws_a, signed) for col in columns]
    d_a = [list(row) for row in zip(*d_a_t, strict=True)]
    return np.array(d_a), np.array(d_b)


def random_table(rng: np.random.Generator, width_a: int, width_b: int, signed: bool):
    """Exact product plus a random error, so rows are neither linear nor monotone."""
    a = operand_values(width_a, signed)
    b = operand_values(width_b, signed)
    return np.outer(a, b) + rng.integers(-20, 21, size=(a.size, b.size))


# ---------------------------------------------------------------- STE


def test_ste_is_the_other_operand():
    a, b = operand_values(3, True), operand_values(2, False)
    ste = AxesGradient(a, b)
    assert ste.d_a.dtype == ste.d_b.dtype == np.float32
    assert ste.d_a.shape == ste.d_b.shape == (8, 4)
    np.testing.assert_array_equal(ste.d_a, np.tile(b, (8, 1)))
    np.testing.assert_array_equal(ste.d_b, np.tile(a[:, None], (1, 4)))


# ---------------------------------------------------------------- LUT-2D


@pytest.mark.parametrize(
    ("width_a", "width_b", "signed", "hws_a", "hws_b"),
    [
        pytest.param(4, 4, False, 1, 1, id="u4x4-h1"),
        pytest.param(4, 4, False, 2, 3, id="u4x4-h2-3"),
        pytest.param(5, 5, False, 6, 4, id="u5x5-h6-4"),
        pytest.param(4, 4, True, 1, 2, id="s4x4-h1-2"),
        pytest.param(5, 5, True, 3, 3, id="s5x5-h3"),
        pytest.param(4, 3, False, 2, 1, id="u4x3"),
        pytest.param(3, 5, True, 1, 4, id="s3x5"),
    ],
)
def test_lut2d_matches_per_entry_oracle(width_a, width_b, signed, hws_a, hws_b):
    rng = np.random.default_rng(width_a * 100 + width_b * 10 + hws_a + hws_b)
    product = random_table(rng, width_a, width_b, signed)
    d_a, d_b = lut2d(product, hws_a, hws_b, signed=signed)
    want_a, want_b = oracle_lut2d(product, hws_a, hws_b, signed)
    assert d_a.dtype == d_b.dtype == np.float32
    assert d_a.shape == d_b.shape == product.shape
    np.testing.assert_allclose(d_a, want_a, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(d_b, want_b, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("h", [1, 2, 5])
def test_lut2d_exact_unsigned_interior_and_edges(h):
    a = operand_values(4, False)
    n = a.size
    _, d_b = lut2d(np.outer(a, a), h, h)
    interior = np.arange(n)
    interior = (interior > h) & (interior < n - 1 - h)
    expected = np.where(interior[None, :], a[:, None], a[:, None] * (n - 1) / n)
    np.testing.assert_allclose(d_b, expected, rtol=1e-7)


def test_lut2d_exact_signed_has_the_operand_sign_everywhere():
    a = operand_values(4, True)
    d_a, d_b = lut2d(np.outer(a, a), 2, 2, signed=True)
    np.testing.assert_array_equal(np.sign(d_b), np.sign(np.tile(a[:, None], (1, 16))))
    np.testing.assert_array_equal(np.sign(d_a), np.sign(np.tile(a[None, :], (16, 1))))
    # edge band: |a| * (max b - min b) / N = |a| * 15 / 16, with the sign of a
    np.testing.assert_allclose(d_b[:, [0, 1, 2, 13, 14, 15]], (a * 15 / 16)[:, None] * np.ones(6))
    np.testing.assert_allclose(d_b[:, 3:13], np.tile(a[:, None], (1, 10)))


def test_lut2d_truncated_4bit_by_hand():
    # AM(a, b) = a*b with the two low product bits cleared; row a = 3, h = 1:
    # AM(3, b) = 0 0 4 8 12 12 16 20 24 24 28 32 36 36 40 44  for b = 0..15
    # S(b_k), k = 1..14 (mean of three) = 4/3 4 8 32/3 40/3 16 20 68/3 ...
    # d(2) = (8 - 4/3)/2 = 10/3, d(3) = (32/3 - 4)/2 = 10/3, d(4) = (40/3 - 8)/2 = 8/3,
    # d(5) = (16 - 32/3)/2 = 8/3, d(6) = (20 - 40/3)/2 = 10/3, d(7) = (68/3 - 16)/2 = 10/3;
    # edge bands k in {0, 1, 14, 15}: (44 - 0) / 16 = 2.75.
    a = operand_values(4, False)
    product = np.outer(a, a) & ~3
    np.testing.assert_array_equal(product[3], [0, 0, 4, 8, 12, 12, 16, 20, 24, 24, 28, 32, 36, 36, 40, 44])
    d_a, d_b = lut2d(product, 1, 1)
    np.testing.assert_allclose(d_b[3, [0, 1, 14, 15]], 2.75)
    np.testing.assert_allclose(d_b[3, 2:8], [10 / 3, 10 / 3, 8 / 3, 8 / 3, 10 / 3, 10 / 3])
    # commutative multiplier: dAM/da is the transpose of dAM/db
    np.testing.assert_array_equal(d_a, d_b.T)


@pytest.mark.parametrize("signed", [False, True])
def test_lut2d_commutative_transpose(signed):
    a = operand_values(5, signed)
    rng = np.random.default_rng(7)
    noise = rng.integers(-30, 31, size=(32, 32))
    product = np.outer(a, a) + noise + noise.T
    d_a, d_b = lut2d(product, 3, 3, signed=signed)
    np.testing.assert_array_equal(d_a, d_b.T)


def test_lut2d_non_square_8x4():
    a, b = operand_values(8, False), operand_values(4, False)
    d_a, d_b = lut2d(np.outer(a, b), 8, 2)
    assert d_a.shape == d_b.shape == (256, 16)
    assert d_a.flags.c_contiguous and d_b.flags.c_contiguous
    np.testing.assert_allclose(d_a[9:246], np.tile(b, (237, 1)))
    np.testing.assert_allclose(d_b[:, 3:12], np.tile(a[:, None], (1, 9)))


@pytest.mark.parametrize(
    ("hws_a", "hws_b", "message"),
    [
        (0, 1, "hws_a=0 is out of range for operand a with N=16 values"),
        (1, 7, re.escape("hws_b=7 is out of range for operand b with N=8 values: LUT-2D needs")),
        (1, 3, re.escape("2*h + 2 < N, i.e. 1 <= hws_b <= 2")),
        (1.5, 1, "hws_a must be an integer >= 1, got 1.5"),
    ],
)
def test_lut2d_bad_half_window(hws_a, hws_b, message):
    product = np.zeros((16, 8), dtype=np.int32)
    with pytest.raises(ParameterError, match=message):
        lut2d(product, hws_a, hws_b)


def test_lut2d_two_bit_operand_has_no_valid_half_window():
    with pytest.raises(ParameterError, match="operand b has only N=4 values.*use STE, or LUT-1D"):
        lut2d(np.zeros((16, 4), dtype=np.int32), 1, 1)


# ---------------------------------------------------------------- the adaptive LUT-2D window


def oracle_adaptive_row(row: list[int], slope: float, h: int, scale: float) -> list[float]:
    """One line of the adaptive window, from its definition: the first of h, 2h, 4h, ... (to
    min(64, (N - 3) // 2)) whose line is within 0.3 * scale of the exact slope, else the last."""
    largest = max(h, min(64, (len(row) - 3) // 2))
    while True:
        line = oracle_row(row, h, signed=False)
        distance = sum((value - slope) ** 2 for value in line) ** 0.5
        if distance <= 0.3 * scale or 2 * h > largest:
            return line
        h *= 2


def test_adaptive_window_matches_per_line_oracle():
    """6x6 bits, every third column noisy: those columns of d_a widen, the others keep h."""
    rng = np.random.default_rng(7)
    a = b = operand_values(6, False)
    noisy = np.arange(64) % 3 == 0
    amplitude = np.where(noisy, (np.arange(64) + 3) * 40, 0)  # louder to the right
    product = np.outer(a, b) + np.round(rng.uniform(-1, 1, size=(64, 64)) * amplitude).astype(int)
    d_a, d_b = lut2d(product, 1, 2, window="adaptive", operand_a=a, operand_b=b)
    columns = product.T.tolist()
    scale_a = (64 * np.mean(b.astype(float) ** 2)) ** 0.5
    want_a = np.array([oracle_adaptive_row(columns[j], float(b[j]), 1, scale_a) for j in range(64)]).T
    scale_b = (64 * np.mean(a.astype(float) ** 2)) ** 0.5
    want_b = np.array([oracle_adaptive_row(product[i].tolist(), float(a[i]), 2, scale_b) for i in range(64)])
    np.testing.assert_allclose(d_a, want_a, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(d_b, want_b, rtol=1e-6, atol=1e-4)
    fixed_a, _ = lut2d(product, 1, 2)
    widened = ~np.all(d_a == fixed_a, axis=0)
    assert widened[noisy].all() and not widened[~noisy].any()  # the test is not vacuous
    edge_band = [int(np.argmax(column != column[0])) for column in d_a.T]  # h + 1 where the line settled
    assert len({edge_band[j] for j in np.flatnonzero(noisy)}) >= 3  # lines settled at different h


@pytest.mark.parametrize(("width", "signed", "h"), [(4, False, 1), (6, True, 2), (8, False, 4), (8, True, 1)])
def test_adaptive_window_keeps_the_fixed_tables_of_an_exact_multiplier(width, signed, h):
    a = b = operand_values(width, signed)
    product = np.outer(a, b)
    adaptive = lut2d(product, h, h, signed=signed, window="adaptive", operand_a=a, operand_b=b)
    for got, want in zip(adaptive, lut2d(product, h, h, signed=signed), strict=True):
        np.testing.assert_array_equal(got, want)


def test_adaptive_window_takes_the_noise_out_of_a_real_evoapprox_table():
    """mul8u_L40 at h = 4: the fixed window's tables look like noise, the adaptive window's do not."""
    netlist = EVOAPPROX / "mul8u_L40.v"
    if not netlist.is_file():
        pytest.skip(f"{netlist} is not here")
    art = characterize([netlist], backend="bitsim")
    fixed = gradient_tables(art, "lut2d,lut1d", GradientParameters(hws_a=4, hws_b=4))
    adaptive = gradient_tables(art, "lut2d,lut1d", GradientParameters(hws_a=4, hws_b=4, window="adaptive"))
    for name in ("lut2d", "lut1d"):
        assert fixed[name].attrs["looks_like_noise"] and "window" not in fixed[name].attrs
        assert not adaptive[name].attrs["looks_like_noise"] and adaptive[name].attrs["window"] == "adaptive"
        assert adaptive[name].attrs["hws_a"] == 4  # the requested h, which smooth lines keep
        assert max(adaptive[name].attrs["deviation_a"], adaptive[name].attrs["deviation_b"]) < 0.3


def test_adaptive_window_mean_form_is_the_mean_of_the_adaptive_table():
    rng = np.random.default_rng(3)
    a = b = operand_values(6, True)
    product = random_table(rng, 6, 6, True) * 1 + rng.integers(-900, 901, size=(64, 64)) * (
        np.arange(64) % 4 == 0
    )
    d_a, d_b = lut2d(product, 2, 2, signed=True, window="adaptive", operand_a=a, operand_b=b)
    u_a, v_a, u_b, v_b = lut1d(product, a, b, "mean", hws_a=2, hws_b=2, signed=True, window="adaptive")
    np.testing.assert_allclose(v_a[0], d_a.mean(axis=0), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(u_b[0], d_b.mean(axis=1), rtol=1e-5, atol=1e-4)
    assert not np.allclose(v_a[0], lut1d(product, a, b, "mean", hws_a=2, hws_b=2, signed=True)[1][0])


def test_adaptive_window_bad_parameters():
    product = np.zeros((16, 16), dtype=np.int32)
    with pytest.raises(ParameterError, match="unknown LUT-2D window 'wide'; choose one of fixed, adaptive"):
        lut2d(product, 1, 1, window="wide")
    with pytest.raises(ParameterError, match="the adaptive LUT-2D window needs the operand values"):
        lut2d(product, 1, 1, window="adaptive")
    with pytest.raises(ParameterError, match="operand values of lengths 8, 16 do not fit"):
        lut2d(product, 1, 1, window="adaptive", operand_a=np.arange(8), operand_b=np.arange(16))


# ---------------------------------------------------------------- LUT-1D


def expand(factors):
    """The [Na, Nb] tables a separable form stands for: sum_r u[r, i] * v[r, j]."""
    u_a, v_a, u_b, v_b = (np.asarray(f, dtype=np.float64) for f in factors)
    return np.einsum("ri,rj->ij", u_a, v_a), np.einsum("ri,rj->ij", u_b, v_b)


def best_rank(table, rank):
    """The best rank-R approximation of ``table``, from numpy's full SVD, written here."""
    left, values, right = np.linalg.svd(np.asarray(table, dtype=np.float64))
    return (left[:, :rank] * values[:rank]) @ right[:rank]


@pytest.mark.parametrize(
    ("width_a", "width_b", "signed", "rank"),
    [
        pytest.param(5, 5, False, 1, id="u5x5-r1"),
        pytest.param(5, 5, False, 3, id="u5x5-r3"),
        pytest.param(4, 5, True, 2, id="s4x5-r2"),
        pytest.param(6, 3, False, 2, id="u6x3-r2"),
        pytest.param(3, 6, True, 3, id="s3x6-r3"),
    ],
)
def test_lut1d_separable_is_the_truncated_svd_of_lut2d(width_a, width_b, signed, rank):
    rng = np.random.default_rng(width_a * 10 + width_b + rank)
    a, b = operand_values(width_a, signed), operand_values(width_b, signed)
    product = random_table(rng, width_a, width_b, signed)
    want_a, want_b = oracle_lut2d(product, 1, 1, signed)
    factors = lut1d(product, a, b, "separable", rank=rank, hws_a=1, hws_b=1, signed=signed)
    assert [f.shape for f in factors] == [(rank, a.size), (rank, b.size), (rank, a.size), (rank, b.size)]
    assert all(f.dtype == np.float32 for f in factors)
    d_a, d_b = expand(factors)
    scale = np.abs(want_b).max()
    np.testing.assert_allclose(d_a, best_rank(want_a, rank), atol=1e-5 * scale)
    np.testing.assert_allclose(d_b, best_rank(want_b, rank), atol=1e-5 * scale)


@pytest.mark.parametrize("signed", [False, True])
def test_lut1d_separable_rank1_reproduces_lut2d_of_an_exact_multiplier(signed):
    a, b = operand_values(6, signed), operand_values(5, signed)
    product = np.outer(a, b)
    want_a, want_b = lut2d(product, 2, 3, signed=signed)
    d_a, d_b = expand(lut1d(product, a, b, "separable", rank=1, hws_a=2, hws_b=3, signed=signed))
    np.testing.assert_allclose(d_a, want_a, atol=1e-4)
    np.testing.assert_allclose(d_b, want_b, atol=1e-4)


def test_lut1d_separable_error_falls_with_rank():
    rng = np.random.default_rng(11)
    a = operand_values(6, False)
    product = random_table(rng, 6, 6, False)
    _, want_b = lut2d(product, 2, 2)
    errors = []
    for rank in range(1, 9):
        _, d_b = expand(lut1d(product, a, a, "separable", rank=rank, hws_a=2, hws_b=2))
        errors.append(np.linalg.norm(d_b - want_b))
    assert all(later < earlier for earlier, later in zip(errors, errors[1:], strict=False))


def test_lut1d_separable_partial_svd_agrees_with_the_full_one(monkeypatch):
    """Tables above 1024 x 1024 use ARPACK's partial SVD; forced here on a 7-bit table."""
    from appmult.lutgen import estimators

    rng = np.random.default_rng(5)
    a = operand_values(7, False)
    product = random_table(rng, 7, 7, False)
    full = expand(lut1d(product, a, a, "separable", rank=3, hws_a=2, hws_b=2))
    monkeypatch.setattr(estimators, "_FULL_SVD_ENTRIES", 1)
    partial = expand(lut1d(product, a, a, "separable", rank=3, hws_a=2, hws_b=2))
    for got, want in zip(partial, full, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-3)


@pytest.mark.parametrize("signed", [False, True])
def test_lut1d_lsq_is_the_other_operand_for_the_exact_multiplier(signed):
    a, b = operand_values(5, signed), operand_values(3, signed)
    u_a, v_a, u_b, v_b = lut1d(np.outer(a, b), a, b, "lsq")
    assert v_a.shape == (1, 8) and u_b.shape == (1, 32)
    assert v_a.dtype == u_b.dtype == np.float32
    np.testing.assert_array_equal(u_a, np.ones((1, 32)))
    np.testing.assert_array_equal(v_b, np.ones((1, 8)))
    np.testing.assert_array_equal(v_a[0], b)
    np.testing.assert_array_equal(u_b[0], a)


def test_lut1d_mean_is_the_lut2d_mean():
    rng = np.random.default_rng(3)
    a, b = operand_values(4, True), operand_values(5, True)
    product = random_table(rng, 4, 5, True)
    want_a, want_b = oracle_lut2d(product, 2, 3, True)
    d_a, d_b = expand(lut1d(product, a, b, "mean", hws_a=2, hws_b=3, signed=True))
    np.testing.assert_allclose(d_a, np.tile(want_a.mean(axis=0), (16, 1)), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(d_b, np.tile(want_b.mean(axis=1)[:, None], (1, 32)), rtol=1e-6, atol=1e-6)


def test_lut1d_range_is_the_edge_formula_of_the_whole_row():
    a = operand_values(4, True)
    product = np.outer(a, a)
    _, v_a, u_b, _ = lut1d(product, a, a, "range", signed=True)
    np.testing.assert_allclose(u_b[0], a * 15 / 16)
    np.testing.assert_allclose(v_a[0], a * 15 / 16)
    _, _, u_b_unsigned, _ = lut1d(product, a, a, "range")
    np.testing.assert_allclose(u_b_unsigned[0], np.abs(a) * 15 / 16)


def test_lut1d_bad_parameters():
    a = operand_values(4, False)
    product = np.outer(a, a)
    with pytest.raises(ParameterError, match="unknown LUT-1D form 'median'; choose one of"):
        lut1d(product, a, a, "median")
    with pytest.raises(ParameterError, match="'mean' needs both half-windows"):
        lut1d(product, a, a, "mean", hws_a=1)
    with pytest.raises(
        ParameterError, match=re.escape("LUT-1D rank 9 is out of range: it must be an integer 1..8")
    ):
        lut1d(product, a, a, "separable", rank=9, hws_a=1, hws_b=1)
    with pytest.raises(ParameterError, match=re.escape("rank 0 is out of range")):
        lut1d(product, a, a, "separable", rank=0, hws_a=1, hws_b=1)


# ---------------------------------------------------------------- gradient_tables


def parameters_of(group) -> dict:  # noqa: ANN001
    """A group's attributes without its diagnostics (tested on their own below)."""
    return {key: value for key, value in group.attrs.items() if key not in DIAGNOSTIC_ATTRS}


def test_gradient_tables_shapes_and_attrs():
    art = make_artifact(width_a=8, width_b=4)
    tables = gradient_tables(art, parameters=GradientParameters(hws_a=3, hws_b=2, form="lsq"))
    assert list(tables) == ["ste", "lut2d", "lut1d"]
    assert parameters_of(tables["lut2d"]) == {
        "hws_a": 3,
        "hws_b": 2,
        "hws_rule": "given",
        "edge": "(max-min)/N",
    }
    assert parameters_of(tables["lut1d"]) == {"form": "lsq", "rank": 1, "hws_a": 0, "hws_b": 0}
    assert tables["lut1d"].v_a.shape == (1, 16) and tables["lut1d"].u_b.shape == (1, 256)
    assert tables["lut1d"].d_a.shape == (256, 16)
    separable = gradient_tables(art, "lut1d", parameters=GradientParameters(hws_a=3, hws_b=2))["lut1d"]
    assert parameters_of(separable) == {
        "form": "separable",
        "rank": 2,
        "hws_a": 3,
        "hws_b": 2,
        "hws_rule": "given",
    }
    art.gradients.update(tables)
    art.validate()


def test_gradient_tables_signed_edge_and_mean_attrs():
    tables = gradient_tables(
        make_artifact(signed=True), "lut2d, lut1d", parameters=GradientParameters(hws_a=1, hws_b=2)
    )
    assert tables["lut2d"].attrs["edge"] == "sign(last-first)*(max-min)/N"
    assert parameters_of(tables["lut1d"]) == {
        "form": "separable",
        "rank": 2,
        "hws_a": 1,
        "hws_b": 2,
        "hws_rule": "given",
    }


MANIFEST_ENTRY = (
    '[[design]]\nname = "{name}"\nfiles = ["m.v"]\ntop = "mul"\nwidth_a = 8\n'
    'width_b = 4\nsigned = false\nfamily = "exact"\nmodel = "exact"\ncitation = "-"\n'
    "hws_a = 6\nhws_b = 2\n"
)


def test_default_half_window_rule(tmp_path):
    missing = tmp_path / "no_manifest.toml"
    # an exact multiplier (MED 0): the rule's smallest h, 2, within each axis's valid range
    assert default_hws(make_artifact(width_a=8, width_b=4), missing).pair == (2, 2)
    assert default_hws(make_artifact(width_a=12, width_b=7), missing).pair == (2, 2)
    assert default_hws(make_artifact(width_a=3, width_b=2), missing).pair == (2, 1)  # 2h + 2 < N
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(MANIFEST_ENTRY.format(name="test_mul"))
    chosen = default_hws(make_artifact(width_a=8, width_b=4), manifest)
    assert chosen.pair == (6, 2) and chosen.rule == "built-in manifest (test_mul)"
    # same name, other widths: not that design
    assert default_hws(make_artifact(width_a=8, width_b=8), manifest).rule.startswith("power of two nearest")
    tables = gradient_tables(make_artifact(width_a=8, width_b=4), "lut2d", manifest=manifest)
    assert (tables["lut2d"].attrs["hws_a"], tables["lut2d"].attrs["hws_b"]) == (6, 2)


@pytest.mark.parametrize(
    ("med", "n", "expected"),
    [
        # the manifest's documented values (rtl/manifest.toml): 8-bit axes
        (78, 256, 8),
        (80, 256, 8),
        (128, 256, 16),
        (448, 256, 16),
        (606, 256, 32),
        (903, 256, 32),
        (926, 256, 32),
        (0.9, 256, 2),
        (5000, 256, 32),  # bounds: at least 2, at most N / 8
        (5000, 16, 2),
        (1e6, 4096, 512),
        (100, 8, 2),  # N / 8 at 4 and 12 bits, 2h + 2 < N at 3 bits
        (100, 4, 1),
    ],
)
def test_sqrt_med_rule(med, n, expected):
    assert sqrt_med_rule(med, n) == expected


def test_default_half_window_of_a_real_evoapprox_netlist():
    """mul8u_L40 (published MAE 1011): sqrt(1011) = 31.8, so h = 32 where N // 64 gave the noisy 4."""
    netlist = EVOAPPROX / "mul8u_L40.v"
    if not netlist.is_file():
        pytest.skip(f"{netlist} is not here")
    art = characterize([netlist], backend="bitsim")
    assert art.metrics["med"] == pytest.approx(1011, abs=0.5)  # the header's MAE, to its printed precision
    chosen = default_hws(art)
    assert (
        chosen.pair == (32, 32)
        and chosen.rule == f"power of two nearest sqrt(MED), MED {art.metrics['med']:.4g}"
    )
    group = gradient_tables(art, "lut2d")["lut2d"]
    assert group.attrs["hws_rule"] == chosen.rule and not group.attrs["looks_like_noise"]
    noisy = gradient_tables(art, "lut2d", GradientParameters(hws_a=4, hws_b=4))["lut2d"]
    assert noisy.attrs["looks_like_noise"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"methods": "ste,lut3d"}, "unknown gradient method\\(s\\) lut3d; choose from ste, lut2d"),
        ({"methods": ""}, "no gradient method given"),
        ({"form": "max"}, "unknown LUT-1D form 'max'"),
        ({"rank": 17}, "LUT-1D rank 17 is out of range"),
        ({"hws_b": 7}, "hws_b=7 is out of range for operand b with N=16 values"),
    ],
)
def test_gradient_tables_bad_parameters(kwargs, message):
    methods = kwargs.pop("methods", "ste,lut2d,lut1d")
    with pytest.raises(ParameterError, match=message):
        gradient_tables(make_artifact(), methods, GradientParameters(**kwargs))


def test_half_window_is_not_needed_without_smoothing():
    art = make_artifact(width_a=4, width_b=2)
    tables = gradient_tables(art, "ste, lut1d", parameters=GradientParameters(form="range"))
    assert tables["lut1d"].v_a.shape == (1, 4)
    with pytest.raises(ParameterError, match="operand b has only N=4 values"):
        gradient_tables(art, "lut1d")


# ---------------------------------------------------------------- files and CLI


def test_add_gradients_replaces_only_the_chosen_groups(tmp_path):
    path = save(make_artifact(width_a=8, width_b=4), tmp_path / "m.h5")
    add_gradients(path, parameters=GradientParameters(hws_a=2, hws_b=2))
    add_gradients(path, "lut2d", parameters=GradientParameters(hws_a=5, hws_b=3))
    art = load(path)
    assert sorted(art.gradients) == ["lut1d", "lut2d", "ste"]
    assert art.gradients["lut2d"].attrs["hws_a"] == 5
    assert art.gradients["lut1d"].attrs["hws_a"] == 2
    np.testing.assert_array_equal(art.gradients["ste"].d_b[:, 0], art.operand_a)


def test_failed_run_leaves_the_file_byte_identical(tmp_path):
    path = save(make_artifact(), tmp_path / "m.h5")
    add_gradients(path, parameters=GradientParameters(hws_a=1, hws_b=1))
    before = path.read_bytes()
    with pytest.raises(ParameterError, match=re.escape(f"{path}: hws_a=9 is out of range")):
        add_gradients(path, parameters=GradientParameters(hws_a=9, hws_b=1))
    result = CliRunner().invoke(cli, ["lutgen", str(path), "--methods", "ste,bogus"])
    assert isinstance(result.exception, ParameterError)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5"]


def test_artifact_without_product_table(tmp_path):
    path = save(make_artifact(), tmp_path / "m.h5")
    with h5py.File(path, "a") as h5:
        del h5["product"]
    before = path.read_bytes()
    with pytest.raises(ArtifactError, match="corrupt artifact, missing .*product"):
        add_gradients(path)
    assert path.read_bytes() == before


def test_cli_lutgen_and_info(tmp_path):
    paths = [save(make_artifact(width_a=w), tmp_path / f"m{w}.h5") for w in (4, 8)]
    runner = CliRunner()
    result = runner.invoke(cli, ["lutgen", *map(str, paths), "--hws-b", "2", "--lut1d-form", "lsq"])
    assert result.exit_code == 0, result.output
    assert f"lutgen {paths[1]}: ste; lut2d (hws_a=2, hws_b=2, hws_rule=power of two nearest sqrt(MED)," in (
        result.stderr
    )
    assert "lut1d (form=lsq, rank=1, hws_a=0, hws_b=0)" in result.stderr
    art = load(paths[1])
    assert parameters_of(art.gradients["lut2d"]) == {
        "hws_a": 2,
        "hws_b": 2,
        "hws_rule": "power of two nearest sqrt(MED), MED 0",
        "edge": "(max-min)/N",
    }
    info = runner.invoke(cli, ["info", str(paths[1])])
    assert info.exit_code == 0, info.output
    assert (
        "grad/lut2d    tables d_a, d_b [256, 16]; edge=(max-min)/N, hws_a=2, hws_b=2, hws_rule="
        in info.output
    )
    assert "  vs STE      deviation " in info.output
    assert "grad/lut1d    separable, rank 1: u [1, 256], v [1, 16]; form=lsq, hws_a=0, hws_b=0, rank=1" in (
        info.output
    )


def test_library_artifacts(tmp_path):
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(MANIFEST_ENTRY.format(name="one") + MANIFEST_ENTRY.format(name="two"))
    assert library_artifacts(tmp_path / "out", manifest) == [
        tmp_path / "out" / "one.h5",
        tmp_path / "out" / "two.h5",
    ]


def test_cli_lutgen_library(tmp_path):
    first = load_manifest()[0].name
    runner = CliRunner()
    result = runner.invoke(cli, ["lutgen", "--library", str(tmp_path)])
    assert result.exit_code == 1
    designs = len(load_manifest())
    assert f"{designs} of {designs} artifacts failed:" in result.stderr
    assert f"  {tmp_path / first}.h5: no such artifact file" in result.stderr.splitlines()
    two = runner.invoke(cli, ["lutgen", "--library", str(tmp_path), str(tmp_path)])
    assert two.exit_code == 2 and "--library takes at most one directory" in two.stderr
    none = runner.invoke(cli, ["lutgen"])
    assert none.exit_code == 2 and "give artifact files, or --library [DIR]" in none.stderr


def test_cli_lutgen_options(tmp_path):
    path = save(make_artifact(), tmp_path / "m.h5")
    runner = CliRunner()
    quiet = runner.invoke(cli, ["lutgen", str(path), "--hws", "2", "--methods", "lut2d", "-q"])
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert load(path).gradients["lut2d"].attrs["hws_b"] == 2
    both = runner.invoke(cli, ["lutgen", str(path), "--hws", "2", "--hws-a", "1"])
    assert both.exit_code == 2 and "give either --hws or --hws-a/--hws-b" in both.stderr
    bad = runner.invoke(cli, ["lutgen", str(path), "--lut1d-form", "median"])
    assert bad.exit_code == 2 and "'median' is not one of" in bad.stderr
    adaptive = runner.invoke(cli, ["lutgen", str(path), "--hws", "1", "--lut2d-window", "adaptive"])
    assert adaptive.exit_code == 0, adaptive.output
    groups = load(path).gradients
    assert groups["lut2d"].attrs["window"] == groups["lut1d"].attrs["window"] == "adaptive"
    assert "window=adaptive" in adaptive.stderr
    bad_window = runner.invoke(cli, ["lutgen", str(path), "--lut2d-window", "wide"])
    assert bad_window.exit_code == 2 and "'wide' is not one of 'fixed', 'adaptive'" in bad_window.stderr
