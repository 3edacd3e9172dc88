"""Choosing an artifact's gradient group for an export, and shaping it for the target."""

from __future__ import annotations

import numpy as np

from appmult.core.artifact import Artifact
from appmult.core.artifact_file import SEPARABLE_FACTORS
from appmult.core.errors import ArtifactError, ExportError
from appmult.core.gradient import Gradient, SeparableGradient
from appmult.lutgen.exporters.options import ExportOptions
from appmult.lutgen.methods import gradient_of

__all__ = ["gradient_2d", "gradient_group", "other_operand_vectors", "selected_gradients"]


def gradient_group(artifact: Artifact, method: str, fmt: str) -> Gradient:
    """The ``/grad/<method>`` group of ``artifact`` (the exact one always exists); raise if absent or NaN."""
    try:
        gradient = gradient_of(artifact, method)
    except ArtifactError:
        have = ", ".join(artifact.gradients) or "none"
        raise ExportError(
            f"{artifact.name}: {fmt} needs the {method} gradient tables, but the artifact holds "
            f"{have}; run `appmult lutgen` on it first, or choose --gradient among those it holds"
        ) from None
    stored = SEPARABLE_FACTORS if isinstance(gradient, SeparableGradient) else ("d_a", "d_b")
    for label in stored:
        if not np.all(np.isfinite(getattr(gradient, label))):
            raise ExportError(
                f"{artifact.name}: /grad/{method}/{label} contains NaN or infinity; "
                "re-run `appmult lutgen` on the artifact"
            )
    return gradient


def selected_gradients(artifact: Artifact, options: ExportOptions, fmt: str) -> dict[str, Gradient]:
    """The ``--gradient`` group alone, or every group the artifact holds when not given."""
    methods = [options.gradient] if options.gradient else list(artifact.gradients)
    return {method: gradient_group(artifact, method, fmt) for method in methods}


def gradient_2d(artifact: Artifact, method: str, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    """``(d_a, d_b)`` of ``method`` as [Na, Nb] float32 tables, value order.

    A separable group (``lut1d``, ``ste``) is expanded to the full tables it
    stands for, ``d_a[i, j] = sum_r u_a[r, i] v_a[r, j]``.
    """
    gradient = gradient_group(artifact, method, fmt)
    return gradient.d_a, gradient.d_b


def other_operand_vectors(
    artifact: Artifact, method: str, fmt: str, remedy: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(g_a, g_b)`` for a target that stores dAM/da as a function of b and dAM/db of a.

    Only a separable group of rank 1 whose ``u_a`` and ``v_b`` are constant
    has that form (the LUT-1D forms ``mean``, ``lsq`` and ``range``):
    ``g_a[j] = u_a[0, 0] * v_a[0, j]`` [Nb], ``g_b[i] = u_b[0, i] * v_b[0, 0]``
    [Na]. Anything else is refused with ``remedy``.
    """
    gradient = gradient_group(artifact, method, fmt)
    if not isinstance(gradient, SeparableGradient) or gradient.rank != 1:
        form = gradient.attrs.get("form", method)
        rank = getattr(gradient, "rank", "full")
        raise ExportError(
            f"{artifact.name}: {fmt} stores dAM/da as a function of b alone and dAM/db of a alone, "
            f"but /grad/{method} (form {form}, rank {rank}) depends on both operands; {remedy}"
        )
    u_a, v_b = gradient.u_a[0], gradient.v_b[0]
    if not (np.all(u_a == u_a[0]) and np.all(v_b == v_b[0])):
        raise ExportError(
            f"{artifact.name}: {fmt} stores dAM/da as a function of b alone and dAM/db of a alone, "
            f"but /grad/{method} (form {gradient.attrs.get('form', method)}) varies with both; {remedy}"
        )
    return (u_a[0] * gradient.v_a[0]).astype(np.float32), (gradient.u_b[0] * v_b[0]).astype(np.float32)
