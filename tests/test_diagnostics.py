"""Table diagnostics against STE, checked against their definitions written out in numpy here."""

from __future__ import annotations

import numpy as np
import pytest

from appmult.core.artifact import Artifact
from appmult.core.gradient import GradientTable, SeparableGradient
from appmult.core.operands import operand_values
from appmult.lutgen import gradient_tables
from appmult.lutgen.diagnostics import NOISE_DEVIATION, Diagnostics, diagnose
from appmult.lutgen.methods import GradientParameters


def _definitions(d_a: np.ndarray, d_b: np.ndarray, a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """The module docstring's measures, on full float64 tables."""
    s_a = np.tile(b.astype(float), (a.size, 1))
    s_b = np.tile(a.astype(float)[:, None], (1, b.size))
    out = {}
    for label, d, s in (("a", d_a, s_a), ("b", d_b, s_b)):
        out[f"deviation_{label}"] = np.linalg.norm(d - s) / np.linalg.norm(s)
        out[f"sign_flips_{label}"] = np.sum((np.sign(d) != np.sign(s)) & (s != 0) & (d != 0)) / np.sum(s != 0)
        out[f"peak_{label}"] = np.abs(d).max() / np.abs(s).max()
    return out


def _artifact(product: np.ndarray, width_a: int, width_b: int, signed: bool) -> Artifact:
    return Artifact(
        name="m", top="m", width_a=width_a, width_b=width_b, width_out=width_a + width_b,
        signed_a=signed, signed_b=signed, product=product,
    )  # fmt: skip


@pytest.mark.parametrize(("width_a", "width_b", "signed"), [(8, 8, False), (6, 5, True), (11, 10, False)])
def test_diagnostics_follow_their_definitions(width_a: int, width_b: int, signed: bool) -> None:
    """A noisy multiplier (exact product plus large random errors); 11x10 is read in two row blocks."""
    a, b = operand_values(width_a, signed), operand_values(width_b, signed)
    rng = np.random.default_rng(width_a)
    exact = np.outer(a.astype(np.int64), b)
    product = exact + rng.integers(-40, 40, size=exact.shape) * (1 << max(0, width_a + width_b - 10))
    art = _artifact(product, width_a, width_b, signed)
    groups = gradient_tables(art, "lut2d,lut1d", GradientParameters(hws_a=1, hws_b=1))
    for group in groups.values():
        measured = diagnose(group, a, b)
        expected = _definitions(group.d_a.astype(float), group.d_b.astype(float), a, b)
        for name, value in expected.items():
            assert getattr(measured, name) == pytest.approx(value, rel=1e-9, abs=1e-12), name
        assert {k: group.attrs[k] for k in expected} == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_ste_itself_and_a_table_of_zeros() -> None:
    a = b = operand_values(4, True)
    ste = diagnose(SeparableGradient(np.ones((1, 16)), b, a, np.ones((1, 16))), a, b)
    assert ste == Diagnostics(0.0, 0.0, 0.0, 0.0, 1.0, 1.0) and not ste.looks_like_noise
    zeros = diagnose(GradientTable(np.zeros((16, 16)), np.zeros((16, 16))), a, b)
    assert (zeros.deviation_a, zeros.sign_flips_a, zeros.peak_a) == (1.0, 0.0, 0.0)


def test_a_table_that_contradicts_ste_looks_like_noise() -> None:
    """Noise is judged by the deviation (here a quarter of the columns reversed), not by the flips."""
    a = b = operand_values(5, False)
    flipped = np.tile(b.astype(float), (32, 1))
    flipped[:, 1::4] *= -1  # a quarter of the columns point the wrong way
    result = diagnose(GradientTable(flipped, np.tile(a.astype(float)[:, None], (1, 32))), a, b)
    assert result.sign_flips_a == pytest.approx(8 / 31) and result.sign_flips_b == 0.0  # b = 0 has no sign
    # |d - s| = 2b on the flipped columns: deviation sqrt(4 * sum(b^2 over them) / sum(b^2))
    flipped_b = np.arange(32)[1::4].astype(float)
    assert result.deviation_a == pytest.approx(
        np.sqrt(4 * np.sum(flipped_b**2) / np.sum(np.arange(32.0) ** 2))
    )
    assert result.deviation_a > NOISE_DEVIATION and result.looks_like_noise
    assert Diagnostics.from_attrs(result.attrs()) == result
