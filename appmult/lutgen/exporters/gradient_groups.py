"""Choosing an artifact's gradient group for an export, and shaping it for the target."""

from __future__ import annotations

import warnings

import numpy as np

from appmult.core.artifact import Artifact, GradientTable
from appmult.core.errors import ExportError
from appmult.lutgen.exporters.format import ExportWarning
from appmult.lutgen.exporters.layout import Layout
from appmult.lutgen.exporters.options import ExportOptions

__all__ = ["broadcast_lut1d", "gradient_2d", "gradient_group", "selected_gradients"]


def gradient_group(artifact: Artifact, method: str, fmt: str) -> GradientTable:
    """The artifact's ``/grad/<method>`` tables; raise if absent or not finite."""
    name = artifact.name
    table = artifact.gradients.get(method)
    if table is None:
        have = ", ".join(artifact.gradients) or "none"
        raise ExportError(
            f"{name}: {fmt} needs the {method} gradient tables, but the artifact holds "
            f"{have}; run `appmult lutgen` on it first, or choose --gradient among those it holds"
        )
    for label in ("d_a", "d_b"):
        if not np.all(np.isfinite(getattr(table, label))):
            raise ExportError(
                f"{name}: /grad/{method}/{label} contains NaN or infinity; "
                "re-run `appmult lutgen` on the artifact"
            )
    return table


def selected_gradients(artifact: Artifact, options: ExportOptions, fmt: str) -> dict[str, GradientTable]:
    """The ``--gradient`` group alone, or every group the artifact holds when not given."""
    methods = [options.gradient] if options.gradient else list(artifact.gradients)
    return {method: gradient_group(artifact, method, fmt) for method in methods}


def broadcast_lut1d(table: GradientTable, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """LUT-1D vectors as [Na, Nb] tables: ``d_a[i, j] = d_a(b_j)``, ``d_b[i, j] = d_b(a_i)``."""
    d_a = np.broadcast_to(np.asarray(table.d_a)[None, :], shape)
    d_b = np.broadcast_to(np.asarray(table.d_b)[:, None], shape)
    return d_a, d_b


def gradient_2d(artifact: Artifact, method: str, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    """``(d_a, d_b)`` of ``method`` as [Na, Nb] float32 tables, value order.

    A ``lut1d`` group is broadcast with :func:`broadcast_lut1d`, and an
    :class:`ExportWarning` says so.
    """
    table = gradient_group(artifact, method, fmt)
    if method != "lut1d":
        return table.d_a, table.d_b
    layout = Layout.of(artifact)
    warnings.warn(
        ExportWarning(
            f"{layout.name}: {fmt} stores 2-D gradient tables; the lut1d vectors are broadcast "
            "(d_a[a][b] = d_a(b), d_b[a][b] = d_b(a))"
        ),
        stacklevel=3,
    )
    return broadcast_lut1d(table, layout.shape)
