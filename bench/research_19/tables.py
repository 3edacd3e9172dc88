"""Gradient tables and their diagnostics for the issue-19 measurements.

Diagnostics of a LUT-2D table ``(d_a, d_b)`` [Na, Nb] against STE
(``d_a = b``, ``d_b = a``), per derivative:

``dev``
    relative deviation ``||d - d_ste||_F / ||d_ste||_F``;
``flip``
    share of entries with opposite sign, ``d * d_ste < 0``, among the
    entries where ``d_ste != 0``;
``zero``
    share of entries where ``d == 0`` and ``d_ste != 0``;
``peak``
    ``max |d| / max |operand|`` (the largest |entry| of STE's table);
``norm``
    ``||d||_F / ||d_ste||_F`` (the table's overall scale against STE).

Estimators: ``lut2d`` is the shipped one (:func:`appmult.lutgen.estimators.lut2d`);
``box2d``, ``lsq``, ``box2d_lsq`` and ``adaptive`` are the candidate changes
of the root-cause study (:func:`lut2d_box2d`, :func:`lut2d_lsq`,
:func:`lut2d_box2d_lsq`, :func:`lut2d_adaptive`).
"""

from __future__ import annotations

import numpy as np

from appmult.core.artifact import Artifact, GradientTable
from appmult.lutgen.estimators import _range_slope, lut2d


def ste_tables(artifact: Artifact) -> tuple[np.ndarray, np.ndarray]:
    """STE as full float64 tables: ``d_a[i, j] = b_j``, ``d_b[i, j] = a_i``."""
    a = artifact.operand_a.astype(np.float64)
    b = artifact.operand_b.astype(np.float64)
    shape = (a.size, b.size)
    return np.broadcast_to(b[np.newaxis], shape), np.broadcast_to(a[:, np.newaxis], shape)


def diagnostics(d: np.ndarray, ste: np.ndarray) -> dict[str, float]:
    """The diagnostics of one derivative table ``d`` against STE's ``ste`` (module docstring)."""
    d = np.asarray(d, dtype=np.float64)
    nonzero = ste != 0
    return {
        "dev": float(np.linalg.norm(d - ste) / np.linalg.norm(ste)),
        "flip": float(((d * ste) < 0)[nonzero].mean()),
        "zero": float((d == 0)[nonzero].mean()),
        "peak": float(np.abs(d).max() / np.abs(ste).max()),
        "norm": float(np.linalg.norm(d) / np.linalg.norm(ste)),
    }


def _box_along_rows(table: np.ndarray, h: int) -> np.ndarray:
    """Centred moving average down each column (axis 0) with the window shrunk symmetrically at the ends.

    Row ``i`` averages rows ``i - r .. i + r`` with ``r = min(h, i, N - 1 - i)``,
    so a function linear in the row index is left unchanged everywhere.
    """
    n = table.shape[0]
    cumulative = np.concatenate([np.zeros((1, table.shape[1])), np.cumsum(table, axis=0)])
    index = np.arange(n)
    radius = np.minimum(h, np.minimum(index, n - 1 - index))
    sums = cumulative[index + radius + 1] - cumulative[index - radius]
    return sums / (2 * radius + 1)[:, np.newaxis]


def lut2d_box2d(product: np.ndarray, hws: int, signed: bool) -> tuple[np.ndarray, np.ndarray]:
    """LUT-2D with the moving average taken along both operands before the central difference.

    ``d_b`` is the shipped LUT-2D ``d_b`` of the table first averaged along a
    (window ``2 hws + 1``, shrunk at the ends so a linear function is kept), and
    ``d_a`` likewise with the table first averaged along b; the differencing
    axis keeps the shipped rule (interior difference of moving averages, edge
    bands at the row's average slope). For an exact multiplier this is the
    shipped table.
    """
    table = np.asarray(product, dtype=np.float64)
    smooth_along_a = _box_along_rows(table, hws)
    smooth_along_b = _box_along_rows(table.T, hws).T
    d_a, _ = lut2d(smooth_along_b, hws, hws, signed=signed)
    _, d_b = lut2d(smooth_along_a, hws, hws, signed=signed)
    return d_a, d_b


def _lsq_columns(columns: np.ndarray, h: int, signed: bool) -> np.ndarray:
    """Least-squares slope over the window ``k - h - 1 .. k + h + 1`` down each column.

    The window has the same span as the shipped central difference of moving
    averages (which reads only its four end values); here every value of it
    counts. Edge bands as the shipped rule.
    """
    n = columns.shape[0]
    width = h + 1
    offsets = np.arange(-width, width + 1, dtype=np.float64)
    weights = offsets / (offsets @ offsets)
    out = np.empty(columns.shape)
    interior = np.zeros((n - 2 * width, columns.shape[1]))
    for j, weight in enumerate(weights):
        interior += weight * columns[j : n - 2 * width + j]
    out[width : n - width] = interior
    edge = _range_slope(columns, signed)
    out[: h + 1] = edge
    out[n - 1 - h :] = edge
    return out


def lut2d_lsq(product: np.ndarray, hws: int, signed: bool) -> tuple[np.ndarray, np.ndarray]:
    """LUT-2D with the local least-squares slope over the same window instead of the difference of means."""
    table = np.asarray(product, dtype=np.float64)
    return _lsq_columns(table, hws, signed), _lsq_columns(table.T, hws, signed).T


def lut2d_box2d_lsq(product: np.ndarray, hws: int, signed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Both changes: average along the other operand, then the least-squares slope."""
    table = np.asarray(product, dtype=np.float64)
    smooth_along_a = _box_along_rows(table, hws)
    smooth_along_b = _box_along_rows(table.T, hws).T
    return _lsq_columns(smooth_along_b, hws, signed), _lsq_columns(smooth_along_a.T, hws, signed).T


#: Largest deviation from STE the adaptive estimator lets a row or column keep.
ADAPTIVE_LIMIT = 0.3


def lut2d_adaptive(
    product: np.ndarray, hws: int, signed: bool, limit: float = ADAPTIVE_LIMIT
) -> tuple[np.ndarray, np.ndarray]:
    """LUT-2D whose half-window grows, per line differenced, until the line is close enough to STE.

    For d_a each column (fixed b) takes the shipped estimate at the smallest h
    of ``hws, 2 hws, 4 hws, ...`` (up to the largest valid h, at most 64) whose
    deviation from STE, ``||d_col - b||`` over the rms column norm of STE,
    is at most ``limit``, else at that largest h; d_b likewise per row. The
    requested ``hws`` is thus a lower bound, and a table whose lines are
    smooth keeps it.
    """
    table = np.asarray(product, dtype=np.float64)
    n_a, n_b = table.shape
    a = np.arange(n_a, dtype=np.float64) - (n_a // 2 if signed else 0)
    b = np.arange(n_b, dtype=np.float64) - (n_b // 2 if signed else 0)
    ste_a = np.broadcast_to(b[np.newaxis], table.shape)
    ste_b = np.broadcast_to(a[:, np.newaxis], table.shape)

    def pick(which: int, ste: np.ndarray, n: int) -> np.ndarray:
        largest = min(64, (n - 3) // 2)
        steps = [hws]
        while steps[-1] * 2 <= largest:
            steps.append(steps[-1] * 2)
        scale = np.linalg.norm(ste) / np.sqrt(ste.shape[1 - which])
        chosen = np.full(ste.shape, np.nan)
        for h in steps:
            d = lut2d(table, h, h, signed=signed)[which]
            deviation = np.linalg.norm(d - ste, axis=which) / scale
            lines = (deviation <= limit) | (h == steps[-1])
            if which == 0:
                open_lines = lines & np.isnan(chosen[0])
                chosen[:, open_lines] = d[:, open_lines]
            else:
                open_lines = lines & np.isnan(chosen[:, 0])
                chosen[open_lines] = d[open_lines]
        return chosen

    return pick(0, ste_a, n_a), pick(1, ste_b, n_b)


ESTIMATORS = {
    "lut2d": lambda product, hws, signed: lut2d(product, hws, hws, signed=signed),
    "box2d": lut2d_box2d,
    "lsq": lut2d_lsq,
    "box2d_lsq": lut2d_box2d_lsq,
    "adaptive": lut2d_adaptive,
}


def estimate(artifact: Artifact, estimator: str, hws: int) -> GradientTable:
    """The LUT-2D-shaped table of ``estimator`` at half-window ``hws`` (both operands)."""
    d_a, d_b = ESTIMATORS[estimator](artifact.product, hws, artifact.output_signed)
    attrs = {"hws_a": hws, "hws_b": hws, "estimator": estimator}
    return GradientTable(np.asarray(d_a, np.float32), np.asarray(d_b, np.float32), attrs=attrs)
