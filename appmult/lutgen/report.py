"""Reports: what a multiplier does, as PNG plots and a metrics table.

For one artifact, :func:`write_plots` draws

- ``<name>_error.png``: the error ``AM(a, b) - a*b`` over all operand pairs
  (a on the vertical axis, b on the horizontal one, value order);
- ``<name>_gradients.png`` (when the artifact has ``/grad`` groups): dAM/db
  along three rows a and dAM/da along three columns b, for every gradient
  method present, against the exact multiplier's slope (STE).

Plots use matplotlib's non-interactive Agg backend and are written
atomically; nothing is printed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from appmult.core.artifact import Artifact
from appmult.core.atomic import replacing
from appmult.core.errors import ArtifactError
from appmult.core.metrics import METRIC_NAMES

__all__ = ["metrics_table", "write_plots"]


def metrics_table(artifacts: Iterable[Artifact]) -> list[list[str]]:
    """One row per artifact: name, widths, signedness and every metric (header row first)."""
    rows = [["name", "widths", "sign", *METRIC_NAMES]]
    for art in artifacts:
        sign = "s" if art.output_signed else "u"
        values = [f"{art.metrics[m]:.6g}" for m in METRIC_NAMES]
        rows.append([art.name, f"{art.width_a}x{art.width_b}", sign, *values])
    return rows


def write_plots(artifact: Artifact, out_dir: str | os.PathLike) -> list[Path]:
    """Write the PNG plots of ``artifact`` into ``out_dir``; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise ArtifactError(f"{out_dir}: report directory does not exist; create it or choose another -o")
    written = [_save(_error_figure(artifact), out_dir / f"{artifact.name}_error.png")]
    if artifact.gradients:
        written.append(_save(_gradient_figure(artifact), out_dir / f"{artifact.name}_gradients.png"))
    return written


def _error_figure(art: Artifact):
    import matplotlib.pyplot as plt

    a, b = art.operand_a, art.operand_b
    error = art.product.astype(np.int64) - np.multiply.outer(a.astype(np.int64), b)
    limit = max(float(np.abs(error).max()), 1.0)
    fig, ax = plt.subplots(figsize=(6, 5))
    image = ax.imshow(
        error,
        origin="lower",
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        extent=(b[0] - 0.5, b[-1] + 0.5, a[0] - 0.5, a[-1] + 0.5),
        aspect="auto",
        interpolation="nearest",
    )
    fig.colorbar(image, ax=ax, label="AM(a, b) - a*b")
    ax.set_xlabel("operand b")
    ax.set_ylabel("operand a")
    m = art.metrics
    ax.set_title(f"{art.name}: ER {m['er']:.3f}, NMED {m['nmed']:.2e}, WCE {m['wce']:.0f}")
    return fig


def _gradient_figure(art: Artifact):
    import matplotlib.pyplot as plt

    a, b = art.operand_a, art.operand_b
    fig, axes = plt.subplots(2, 3, figsize=(13, 7), sharex="row")
    for column, i in enumerate((len(a) // 4, len(a) // 2, 3 * len(a) // 4)):
        ax = axes[0, column]
        ax.plot(b, np.full(b.shape, a[i], dtype=float), "k--", lw=1, label="exact (STE)")
        for method, table in art.gradients.items():
            d_b = table.d_b[i] if table.d_b.ndim == 2 else np.full(b.shape, table.d_b[i])
            ax.plot(b, d_b, lw=1, label=method)
        ax.set_title(f"dAM/db at a = {a[i]}")
        ax.set_xlabel("operand b")
    for column, j in enumerate((len(b) // 4, len(b) // 2, 3 * len(b) // 4)):
        ax = axes[1, column]
        ax.plot(a, np.full(a.shape, b[j], dtype=float), "k--", lw=1, label="exact (STE)")
        for method, table in art.gradients.items():
            d_a = table.d_a[:, j] if table.d_a.ndim == 2 else np.full(a.shape, table.d_a[j])
            ax.plot(a, d_a, lw=1, label=method)
        ax.set_title(f"dAM/da at b = {b[j]}")
        ax.set_xlabel("operand a")
    axes[0, 0].legend(fontsize="small")
    fig.suptitle(f"{art.name}: gradient tables")
    fig.tight_layout()
    return fig


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    try:
        with replacing(path, ArtifactError) as tmp:
            fig.savefig(tmp, format="png", dpi=110)
    finally:
        plt.close(fig)
    return path
