"""Reports: what a multiplier does, as PNG plots and a metrics table (with its hardware cost).

For one artifact, :func:`write_plots` draws

``<name>_error.png``
    the error ``e = AM(a, b) - a*b`` over all operand pairs (a up, b across,
    value order), a histogram of e over every pair, and the relative error
    ``|e| / |a*b|``, with the error metrics in the caption. Tables wider than
    :data:`MAP_SIZE` values per axis are shown block by block, each pixel the
    entry of largest magnitude in its block (so the worst case stays visible).
    A wide artifact, which has no table, is drawn from its summaries
    (:mod:`appmult.core.summary`): the binned map of the mean error, the
    histogram of the error on a signed power-of-two scale, and the mean and
    max ``|e|`` for every a and every b.
``<name>_gradients.png`` (when the artifact has gradient groups)
    dAM/db along three rows a and dAM/da along three columns b, for every
    group, against the exact multiplier's slope (STE), each group labelled
    with its parameters (half-windows, LUT-1D form and rank). Colours are
    fixed per method; the y-axis starts at 0 (or at the lowest value) and
    includes the exact slope, so a small dip does not look like a cliff.
    Signed designs skip the rows a = 0 and b = 0, where every slope is 0.
``<name>_tuning.png`` (when the artifact has a tuning record)
    final training loss and test accuracy against the half-window.

Tables are read a block of rows at a time (:meth:`Artifact.product_rows`),
so a 12-bit artifact needs tens of MB, not gigabytes. Plots use matplotlib's
non-interactive Agg backend and are written atomically; nothing is printed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from appmult.core.artifact import Artifact
from appmult.core.atomic import replacing
from appmult.core.errors import ArtifactError
from appmult.core.gradient import AxesGradient, Gradient, GradientTable
from appmult.core.metrics import METRIC_NAMES
from appmult.core.summary import ZERO_BIN
from appmult.lutgen.methods import LUT2D, METHODS, STE, gradient_of

__all__ = ["COST_COLUMNS", "MAP_SIZE", "metrics_table", "write_plots"]

#: Largest number of pixels per axis of an error map; wider tables are shown block by block.
MAP_SIZE = 512
#: Rows of the product table processed at a time.
_ROWS = 256
#: One colour per method, whatever else the artifact holds.


#: The hardware-cost columns of the metrics table (:class:`~appmult.core.artifact.HardwareCost` fields).
COST_COLUMNS = ("cells", "transistors", "depth")


def metrics_table(artifacts: Iterable[Artifact]) -> list[list[str]]:
    """One row per artifact: name, widths, signedness and every metric (header row first).

    When any artifact holds a hardware cost, the columns :data:`COST_COLUMNS`
    follow (``-`` for an artifact without one).
    """
    artifacts = list(artifacts)
    costs = any(art.cost is not None for art in artifacts)
    rows = [["name", "widths", "sign", *METRIC_NAMES, *(COST_COLUMNS if costs else ())]]
    for art in artifacts:
        sign = ("s" if art.signed_a else "u") + ("s" if art.signed_b else "u")
        values = [f"{art.metrics[m]:.6g}" for m in METRIC_NAMES]
        if costs:
            values += [str(getattr(art.cost, c)) if art.cost else "-" for c in COST_COLUMNS]
        rows.append([art.name, f"{art.width_a}x{art.width_b}", sign, *values])
    return rows


def write_plots(artifact: Artifact, out_dir: str | os.PathLike) -> list[Path]:
    """Write the PNG plots of ``artifact`` into ``out_dir``; return their paths (module docstring)."""
    import matplotlib

    matplotlib.use("Agg")
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise ArtifactError(f"{out_dir}: report directory does not exist; create it or choose another -o")
    written = [_save(_error_figure(artifact), out_dir / f"{artifact.name}_error.png")]
    if artifact.gradients:
        written.append(_save(_gradient_figure(artifact), out_dir / f"{artifact.name}_gradients.png"))
    if artifact.tuning is not None:
        written.append(_save(_tuning_figure(artifact), out_dir / f"{artifact.name}_tuning.png"))
    return written


# --------------------------------------------------------------------------- error


def _block_extreme(values: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Each ``rows x cols`` block of ``values`` replaced by its entry of largest magnitude."""
    n, m = values.shape
    blocks = (
        values.reshape(n // rows, rows, m // cols, cols)
        .transpose(0, 2, 1, 3)
        .reshape(n // rows, m // cols, -1)
    )
    picks = np.argmax(np.where(np.isnan(blocks), -1.0, np.abs(blocks)), axis=2)  # NaN only if all are
    return np.take_along_axis(blocks, picks[..., None], axis=2)[..., 0]


def _error_views(art: Artifact) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Downsampled error and relative-error maps, and the error histogram (counts, edges), in row blocks."""
    n_a, n_b = art.shape
    step_a, step_b = max(1, n_a // MAP_SIZE), max(1, n_b // MAP_SIZE)
    worst = max(1.0, art.metrics["wce"])
    edges = np.linspace(-worst - 0.5, worst + 0.5, min(201, 2 * int(worst) + 2))
    counts = np.zeros(edges.size - 1, dtype=np.int64)
    a, b = art.operand_a.astype(np.int64), art.operand_b.astype(np.int64)
    error_rows, relative_rows = [], []
    rows = max(step_a, _ROWS - _ROWS % step_a)
    for start in range(0, n_a, rows):
        exact = np.multiply.outer(a[start : start + rows], b)
        error = art.product_rows(start, start + rows).astype(np.int64) - exact
        counts += np.histogram(error, edges)[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.where(exact != 0, np.abs(error) / np.abs(exact), np.nan)
        error_rows.append(_block_extreme(error.astype(float), step_a, step_b))
        relative_rows.append(_block_extreme(relative, step_a, step_b))
    return np.vstack(error_rows), np.vstack(relative_rows), counts, edges, step_a, step_b


def _caption(art: Artifact) -> str:
    m = art.metrics
    return (
        f"ER {m['er']:.4f}   MED {m['med']:.4g}   NMED {m['nmed']:.3e}   WCE {m['wce']:.0f}   "
        f"MRED {m['mred']:.4f}   bias {m['bias']:+.4g}   "
        f"(e = AM(a, b) - a*b over all {art.shape[0] * art.shape[1]:,} pairs)"
    )


def _error_figure(art: Artifact):  # noqa: ANN202
    from matplotlib.figure import Figure

    if not art.tabulated:
        return _summary_figure(art)
    error, relative, counts, edges, step_a, step_b = _error_views(art)
    a, b = art.operand_a, art.operand_b
    extent = (b[0] - 0.5, b[-1] + 0.5, a[0] - 0.5, a[-1] + 0.5)
    figure = Figure(figsize=(15, 5.2))
    panels = figure.subplots(1, 3)
    limit = max(float(np.abs(error).max()), 1.0)
    image = panels[0].imshow(error, origin="lower", cmap="RdBu_r", vmin=-limit, vmax=limit, extent=extent,
                             aspect="auto", interpolation="nearest")  # fmt: skip
    figure.colorbar(image, ax=panels[0], label="AM(a, b) - a*b")
    blocked = f" (each pixel: largest |value| of {step_a}x{step_b} pairs)" if step_a * step_b > 1 else ""
    panels[0].set_title(f"error{blocked}", fontsize="medium")
    centres = (edges[:-1] + edges[1:]) / 2
    panels[1].bar(centres, counts, width=np.diff(edges), color="tab:gray")
    panels[1].set_yscale("log")
    panels[1].set_xlabel("e = AM(a, b) - a*b")
    panels[1].set_ylabel("operand pairs")
    panels[1].set_title("distribution of the error over all pairs", fontsize="medium")
    shown = np.nan_to_num(relative, nan=0.0)
    image = panels[2].imshow(shown, origin="lower", cmap="magma", vmin=0, vmax=max(float(shown.max()), 1e-12),
                             extent=extent, aspect="auto", interpolation="nearest")  # fmt: skip
    figure.colorbar(image, ax=panels[2], label="|e| / |a*b|  (0 where a*b = 0)")
    panels[2].set_title("relative error", fontsize="medium")
    for panel in (panels[0], panels[2]):
        panel.set_xlabel("operand b")
        panel.set_ylabel("operand a")
        _integer_ticks(panel)
    figure.suptitle(f"{art.name} ({art.width_a}x{art.width_b} bits, {_signs(art)})")
    figure.text(0.5, 0.01, _caption(art), ha="center", fontsize="small")
    figure.tight_layout(rect=(0, 0.04, 1, 0.96))
    return figure


def _summary_figure(art: Artifact):  # noqa: ANN202
    """The error figure of a wide artifact, from its ``/summary`` (module docstring)."""
    from matplotlib.figure import Figure

    summary = art.summary
    a, b = art.operand_a, art.operand_b
    extent = (b[0] - 0.5, b[-1] + 0.5, a[0] - 0.5, a[-1] + 0.5)
    figure = Figure(figsize=(13, 9))
    panels = figure.subplots(2, 2)
    mean = summary.map_mean
    limit = max(float(np.abs(mean).max()), 1e-12)
    image = panels[0, 0].imshow(mean, origin="lower", cmap="RdBu_r", vmin=-limit, vmax=limit, extent=extent,
                                aspect="auto", interpolation="nearest")  # fmt: skip
    figure.colorbar(image, ax=panels[0, 0], label="mean of AM(a, b) - a*b")
    block_a, block_b = art.shape[0] // mean.shape[0], art.shape[1] // mean.shape[1]
    panels[0, 0].set_title(f"mean error over blocks of {block_a}x{block_b} pairs", fontsize="medium")
    panels[0, 0].set_xlabel("operand b")
    panels[0, 0].set_ylabel("operand a")
    counts = summary.histogram
    used = np.flatnonzero(counts)
    shown = np.arange(used.min(), used.max() + 1)
    panels[0, 1].bar(shown - ZERO_BIN, counts[shown], color="tab:gray")
    panels[0, 1].set_yscale("log")
    ticks = shown[:: max(1, len(shown) // 12)]
    panels[0, 1].set_xticks(ticks - ZERO_BIN, [_bin_label(k - ZERO_BIN) for k in ticks], fontsize="small")
    panels[0, 1].set_xlabel("e = AM(a, b) - a*b (bin of |e| in [2^(k-1), 2^k), by sign)")
    panels[0, 1].set_ylabel("operand pairs")
    panels[0, 1].set_title("distribution of the error over all pairs", fontsize="medium")
    for panel, axis, mean_abs, max_abs, label in (
        (panels[1, 0], a, summary.row_mean_abs, summary.row_max_abs, "a"),
        (panels[1, 1], b, summary.col_mean_abs, summary.col_max_abs, "b"),
    ):
        panel.plot(axis, max_abs, lw=0.6, color="tab:red", label="max |e|")
        panel.plot(axis, mean_abs, lw=0.8, color="tab:blue", label="mean |e|")
        panel.set_yscale("symlog", linthresh=1.0)
        panel.set_xlabel(f"operand {label}")
        panel.set_title(f"|e| for each {label}, over every {'b' if label == 'a' else 'a'}", fontsize="medium")
        panel.legend(fontsize="small")
    for panel in panels.ravel():
        _integer_ticks(panel, y=False)
    figure.suptitle(f"{art.name} ({art.width_a}x{art.width_b} bits, {_signs(art)}; streamed, no table)")
    figure.text(0.5, 0.01, _caption(art), ha="center", fontsize="small")
    figure.tight_layout(rect=(0, 0.04, 1, 0.96))
    return figure


def _bin_label(k: int) -> str:
    """A histogram bin: ``0``, ``2^3`` (|e| in [4, 8)), ``-2^3``."""
    if k == 0:
        return "0"
    return f"{'-' if k < 0 else ''}2^{abs(k) - 1}"


# --------------------------------------------------------------------------- gradients


def _positions(values: np.ndarray) -> list[int]:
    """Three indices at 1/4, 1/2 and 3/4 of an axis, moved off the value 0 (where slopes vanish)."""
    picks = []
    for fraction in (0.25, 0.5, 0.75):
        index = int(fraction * len(values))
        if values[index] == 0:
            index += 1 if index + 1 < len(values) else -1
        picks.append(index)
    return sorted(dict.fromkeys(picks))


def _label(name: str, gradient: Gradient) -> str:
    """The legend entry of group ``name``: the method's label and the parameters that made it."""
    method = METHODS.get(name)
    label = method.label if method is not None else name
    if isinstance(gradient, AxesGradient):
        return f"{label} (exact slope)"
    attrs = gradient.attrs
    if isinstance(gradient, GradientTable):
        return f"{label} (h_a={attrs.get('hws_a')}, h_b={attrs.get('hws_b')})"
    form, rank = attrs.get("form", "?"), attrs.get("rank", gradient.rank)
    windows = f", h={attrs.get('hws_a')},{attrs.get('hws_b')}" if attrs.get("hws_a") else ""
    return f"{label} ({form}, rank {rank}{windows})"


def _style(name: str, gradient: Gradient, wide: bool) -> dict[str, object]:
    """Line style by storage: the exact slope dashed on top, LUT-1D over the LUT-2D it approximates."""
    method = METHODS.get(name)
    colour = method.colour if method is not None else None
    if isinstance(gradient, AxesGradient):
        return {"color": colour, "ls": "--", "lw": 1.2, "zorder": 3, "alpha": 1.0}
    if isinstance(gradient, GradientTable):
        return {"color": colour, "ls": "-", "lw": 0.8 if wide else 2.2, "zorder": 1, "alpha": 0.5}
    return {"color": colour, "ls": "-", "lw": 0.6 if wide else 1.0, "zorder": 2, "alpha": 0.9}


def _gradient_figure(art: Artifact):  # noqa: ANN202
    from matplotlib.figure import Figure

    a, b = art.operand_a, art.operand_b
    rows, cols = _positions(a), _positions(b)
    groups = {
        STE.name: gradient_of(art, STE.name),
        **{m: g for m, g in art.gradients.items() if m != STE.name},
    }
    curves = {method: (np.vstack([g.rows(i, i + 1)[1] for i in rows]), g.columns(cols)[0].T)
              for method, g in groups.items()}  # fmt: skip
    figure = Figure(figsize=(14, 7.5))
    panels = figure.subplots(2, max(len(rows), len(cols)), squeeze=False)
    wide = max(len(a), len(b)) > 1024
    views = ((b, a, 0, rows, "dAM/db at a = {}"), (a, b, 1, cols, "dAM/da at b = {}"))
    for row_panel, (axis, values, which, fixed, title) in enumerate(views):
        for k, index in enumerate(fixed):
            panel = panels[row_panel, k]
            for method, gradient in groups.items():
                panel.plot(
                    axis,
                    curves[method][which][k],
                    label=_label(method, gradient),
                    **_style(method, gradient, wide),
                )
            _honest_ylim(panel, [curves[m][which][k] for m in groups])
            panel.set_title(title.format(values[index]), fontsize="medium")
            panel.set_xlabel("operand b" if row_panel == 0 else "operand a")
            _integer_ticks(panel, y=False)
        for k in range(len(fixed), panels.shape[1]):
            panels[row_panel, k].set_visible(False)
    handles, labels = panels[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize="small")
    figure.suptitle(f"{art.name}: gradient tables ({art.width_a}x{art.width_b} bits, {_signs(art)})")
    figure.tight_layout(rect=(0, 0.06, 1, 0.96))
    return figure


def _honest_ylim(panel, series: list[np.ndarray]) -> None:  # noqa: ANN001
    """y from min(0, lowest) to max(0, highest), plus a margin: no zoom onto a small dip."""
    low = min(0.0, *(float(np.min(s)) for s in series))
    high = max(0.0, *(float(np.max(s)) for s in series))
    margin = 0.05 * max(high - low, 1.0)
    panel.set_ylim(low - margin, high + margin)


def _integer_ticks(panel, y: bool = True) -> None:  # noqa: ANN001
    """Operand axes carry integers only (no -0.5 ... 3.5 on a 2-bit axis)."""
    from matplotlib.ticker import MaxNLocator

    panel.xaxis.set_major_locator(MaxNLocator(integer=True))
    if y:
        panel.yaxis.set_major_locator(MaxNLocator(integer=True))


def _signs(art: Artifact) -> str:
    return f"{'signed' if art.signed_a else 'unsigned'} x {'signed' if art.signed_b else 'unsigned'}"


# --------------------------------------------------------------------------- tuning


def _tuning_figure(art: Artifact):  # noqa: ANN202
    """Loss and accuracy per candidate: the LUT-2D grid as a line, the other kinds as points beside it."""
    from matplotlib.figure import Figure

    record = art.tuning
    kinds = record.kinds or (LUT2D.name,) * len(record.grid)
    grid = [index for index, kind in enumerate(kinds) if kind == LUT2D.name]
    others = [index for index, kind in enumerate(kinds) if kind != LUT2D.name]
    labels = [_tuning_label(record.grid[index], kinds[index]) for index in grid + others]
    positions = np.arange(len(labels))
    losses, accuracies = np.asarray(record.train_loss), 100 * np.asarray(record.test_accuracy)
    figure = Figure(figsize=(9, 4))
    loss_panel, accuracy_panel = figure.subplots(1, 2)
    for panel, values, title in (
        (loss_panel, losses, "final training loss"),
        (accuracy_panel, accuracies, "test accuracy (%)"),
    ):
        mean = values.mean(axis=1)
        spread = values.std(axis=1, ddof=1) if values.shape[1] > 1 else np.zeros(len(mean))
        panel.errorbar(positions[: len(grid)], mean[grid], yerr=spread[grid], fmt="o-", capsize=3,
                       color=LUT2D.colour, label=LUT2D.label)  # fmt: skip
        for offset, index in enumerate(others, start=len(grid)):
            method = METHODS.get(kinds[index])
            style = {"color": method.colour, "label": method.label} if method else {}
            panel.errorbar(positions[offset], mean[index], yerr=spread[index], fmt="s", capsize=3, **style)
        chosen = next(k for k, i in enumerate(grid) if record.grid[i] == (record.hws_a, record.hws_b))
        panel.plot(positions[chosen], mean[grid][chosen], "r*", markersize=14, label="chosen h")
        panel.set_xticks(positions, labels)
        panel.set_xlabel("candidate (LUT-2D: half-window h)")
        panel.set_title(title, fontsize="medium")
        panel.set_ylim(bottom=0)
    loss_panel.legend(fontsize="small")
    verdict = f"; recommended: {record.recommended}" if record.recommended else ""
    figure.suptitle(f"{art.name}: gradient table chosen by retraining{verdict}", fontsize="medium")
    figure.tight_layout()
    return figure


def _tuning_label(point: tuple[int, int], kind: str) -> str:
    h_a, h_b = point
    windows = f"{h_a}" if h_a == h_b else f"{h_a},{h_b}"
    if kind == LUT2D.name:
        return windows
    method = METHODS.get(kind)
    label = method.label if method else kind
    return label if (h_a, h_b) == (0, 0) else f"{label}\nh={windows}"


def _save(fig, path: Path) -> Path:  # noqa: ANN001
    with replacing(path, ArtifactError) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return path
