"""Benchmark: LUT-2D + LUT-1D for an 8-bit table, vectorized versus per-entry loops.

Run with ``pytest bench -s -o python_files='bench_*.py'``. Every version runs
in this process on the same table (an 8x8-bit unsigned multiplier with the
two low product bits cleared, h = 4) and must agree with the others. Two loop
baselines are timed: the per-entry loop (each entry sums its own two windows,
as Eqs. 4-5 read) and a faster loop that smooths each row once. The printed
table gives the best of several repeats (``time.perf_counter``) and each
loop's time as a multiple of the vectorized one. Nothing here asserts a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeAlias

import numpy as np

from appmult.core.operands import operand_values
from appmult.lutgen import lut1d, lut2d

WIDTH = 8
HWS = 4
RowRule: TypeAlias = Callable[[list[int], int], list[float]]


def _per_entry_row(row: list[int], h: int) -> list[float]:
    """Eqs. 4-6 along one row, each entry summing its own two windows."""
    n = len(row)
    width = 2 * h + 1
    edge = (max(row) - min(row)) / n
    grad = []
    for k in range(n):
        if h < k < n - 1 - h:
            above = sum(row[k + 1 - h : k + h + 2]) / width
            below = sum(row[k - 1 - h : k + h]) / width
            grad.append((above - below) / 2)
        else:
            grad.append(edge)
    return grad


def _hoisted_row(row: list[int], h: int) -> list[float]:
    """The same with the moving average computed once per row (a faster loop)."""
    n = len(row)
    width = 2 * h + 1
    smoothed = [0.0] * n
    for k in range(h, n - h):
        smoothed[k] = sum(row[k - h : k + h + 1]) / width
    edge = (max(row) - min(row)) / n
    return [(smoothed[k + 1] - smoothed[k - 1]) / 2 if h < k < n - 1 - h else edge for k in range(n)]


def _loop_lut2d_lut1d(product: np.ndarray, h: int, row_rule: RowRule) -> tuple:
    """LUT-2D both ways and the LUT-1D means, in plain Python loops."""
    rows = product.tolist()
    columns = [list(col) for col in zip(*rows, strict=True)]
    d_b = [row_rule(row, h) for row in rows]
    d_a_t = [row_rule(col, h) for col in columns]
    g_b = [sum(row) / len(row) for row in d_b]
    g_a = [sum(col) / len(col) for col in d_a_t]
    return d_a_t, d_b, g_a, g_b


def _vectorized(product: np.ndarray, a: np.ndarray, b: np.ndarray, h: int) -> tuple:
    d_a, d_b = lut2d(product, h, h)
    _, g_a, g_b, _ = lut1d(product, a, b, "mean", hws_a=h, hws_b=h)
    return d_a, d_b, g_a[0], g_b[0]


def _best_of(repeats: int, function: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def _check(fast: tuple, loop: tuple) -> None:
    d_a, d_b, g_a, g_b = fast
    ref_a_t, ref_b, ref_ga, ref_gb = loop
    np.testing.assert_allclose(d_a, np.array(ref_a_t).T, rtol=1e-6)
    np.testing.assert_allclose(d_b, ref_b, rtol=1e-6)
    np.testing.assert_allclose(g_a, ref_ga, rtol=1e-6)
    np.testing.assert_allclose(g_b, ref_gb, rtol=1e-6)


def test_bench_lutgen():
    a = b = operand_values(WIDTH, False)
    product = np.outer(a, b) & ~3
    fast_s, fast = _best_of(20, lambda: _vectorized(product, a, b, HWS))
    print(f"\nlutgen: LUT-2D + LUT-1D (mean), {WIDTH}x{WIDTH}-bit, h={HWS}, best of repeats")
    print(f"  {'method':<34} {'ms':>9} {'x slower':>9}")
    print(f"  {'vectorized (lutgen)':<34} {fast_s * 1e3:9.2f} {1:9.0f}")
    for label, rule in (
        ("per-entry loop", _per_entry_row),
        ("loop, moving average per row", _hoisted_row),
    ):
        loop_s, loop = _best_of(3, lambda rule=rule: _loop_lut2d_lut1d(product, HWS, rule))
        _check(fast, loop)
        print(f"  {label:<34} {loop_s * 1e3:9.2f} {loop_s / fast_s:9.0f}")


def test_bench_separable_lut1d():
    """The separable LUT-1D (truncated SVD of the LUT-2D tables) at 8 and 12 bits, against LUT-2D alone."""
    print("\nlutgen: separable LUT-1D (LUT-2D + truncated SVD), best of repeats")
    print(f"  {'table':<10} {'rank':>4} {'LUT-2D s':>9} {'LUT-1D s':>9} {'x LUT-2D':>9}")
    for width, h, repeats in ((8, 4, 5), (12, 64, 1)):
        a = operand_values(width, False)
        product = np.outer(a, a) & ~((1 << width) - 1)
        base_s, _ = _best_of(repeats, lambda product=product, h=h: lut2d(product, h, h))
        for rank in (1, 2, 8):
            call = lambda product=product, a=a, h=h, rank=rank: lut1d(  # noqa: E731
                product, a, a, "separable", rank=rank, hws_a=h, hws_b=h
            )
            seconds, _ = _best_of(repeats, call)
            print(f"  {width}x{width:<8} {rank:>4} {base_s:9.3f} {seconds:9.3f} {seconds / base_s:9.1f}")
