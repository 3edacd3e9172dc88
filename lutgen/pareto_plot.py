"""The plot of a library's Pareto fronts (:mod:`appmult.lutgen.pareto`) as a PNG.

One panel per operands group (widths and signedness) of more than one
point, the largest first: cost across, error (or accuracy after retraining)
up; every point named (those alone in their group in the caption).
Built-in designs are circles, other artifacts triangles; optimal points are
filled, dominated ones hollow; the front is a step line through the optimal
points (after each one, the best value reachable without paying more).
Accuracy points are coloured by gradient kind. An axis whose positive
values span more than :data:`LOG_SPAN` is drawn logarithmic; an error axis
that also holds zeros (exact multipliers) is drawn linear up to its
smallest positive value and logarithmic above (matplotlib's ``symlog``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from appmult.core.atomic import replacing
from appmult.core.errors import ParameterError
from appmult.lutgen.pareto import ACCURACY, Point

__all__ = ["LOG_SPAN", "pareto_figure", "write_pareto_plot"]

#: Largest over smallest positive value beyond which an axis is logarithmic.
LOG_SPAN = 10.0

_MARKERS = {True: ("o", "built-in design"), False: ("^", "other artifact")}


def _scale(values: np.ndarray) -> tuple[str, dict[str, float]]:
    """matplotlib's scale for an axis of ``values``: linear, log, or symlog when zeros are present."""
    positive = values[values > 0]
    if positive.size < 2 or positive.max() / positive.min() <= LOG_SPAN or (values < 0).any():
        return "linear", {}
    if (values == 0).any():
        return "symlog", {"linthresh": float(positive.min())}
    return "log", {}


def pareto_figure(points: Sequence[Point], cost: str, value: str):  # noqa: ANN201
    """The figure of ``points`` (fronts marked): one panel per operands group, the largest first.

    A group of one point has no trade-off to draw: such points are named in
    the caption instead (unless every group is a single point).
    """
    from matplotlib.figure import Figure

    sizes = {
        group: sum(p.operands == group for p in points) for group in dict.fromkeys(p.operands for p in points)
    }
    groups = [group for group, size in sizes.items() if size > 1] or list(sizes)
    alone = [p for p in points if p.operands not in groups]
    columns = min(2, len(groups))
    rows = -(-len(groups) // columns)
    figure = Figure(figsize=(8.5 * columns, 5.8 * rows + 0.4 * bool(alone)))
    panels = figure.subplots(rows, columns, squeeze=False).ravel()
    kinds = list(dict.fromkeys(p.kind for p in points))
    for axes, operands in zip(panels, groups, strict=False):
        _panel(axes, [p for p in points if p.operands == operands], cost, value, kinds)
        axes.set_title(f"{operands}: {_count(points, operands)}", fontsize="medium")
    for axes in panels[len(groups) :]:
        axes.set_visible(False)
    if alone:
        names = ", ".join(f"{p.name} ({p.operands})" for p in alone)
        figure.text(0.5, 0.005, f"alone in their operand group, so optimal there: {names}", ha="center",
                    fontsize="small", wrap=True)  # fmt: skip
    figure.tight_layout(rect=(0, 0.03 if alone else 0, 1, 1))
    return figure


def _count(points: Sequence[Point], operands: str) -> str:
    group = [p for p in points if p.operands == operands]
    return f"{len(group)} point{'s' * (len(group) != 1)}, {sum(p.optimal for p in group)} Pareto-optimal"


def _panel(axes, points: list[Point], cost: str, value: str, kinds: list[str]) -> None:  # noqa: ANN001
    """One group's points, its front as a step line, every point named."""
    accuracy = value == ACCURACY
    shown = (lambda v: 100 * v) if accuracy else (lambda v: v)
    for builtin, (marker, label) in _MARKERS.items():
        for index, kind in enumerate(kinds):
            for optimal in (True, False):
                group = [p for p in points if (p.builtin, p.kind, p.optimal) == (builtin, kind, optimal)]
                if not group:
                    continue
                colour = f"C{index % 10}" if accuracy else ("C0" if builtin else "C1")
                name = ", ".join(x for x in (label, kind, "Pareto-optimal" if optimal else "dominated") if x)
                axes.scatter(
                    [p.cost for p in group], [shown(p.value) for p in group], marker=marker, s=46,
                    facecolors=colour if optimal else "none", edgecolors=colour, label=name, zorder=3,
                )  # fmt: skip
    front = [p for p in points if p.optimal]
    axes.step([p.cost for p in front], [shown(p.value) for p in front], where="post", color="black",
              linewidth=1.0, zorder=2, label="Pareto front")  # fmt: skip
    for p in points:
        axes.annotate(p.name, (p.cost, shown(p.value)), textcoords="offset points", xytext=(4, 3),
                      fontsize=6.5, alpha=0.9 if p.optimal else 0.6)  # fmt: skip
    for set_scale, values in ((axes.set_xscale, [p.cost for p in points]),
                              (axes.set_yscale, [shown(p.value) for p in points])):  # fmt: skip
        scale, options = _scale(np.asarray(values, dtype=float))
        set_scale(scale, **options)
    axes.set_xlabel(f"hardware cost: {cost}" + (" (static-CMOS estimate)" if cost == "transistors" else ""))
    axes.set_ylabel("accuracy after retraining (%)" if accuracy else f"error: {value}")
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(fontsize="x-small", loc="best")


def write_pareto_plot(points: Sequence[Point], path: str | os.PathLike, cost: str, value: str) -> Path:
    """Write :func:`pareto_figure` of ``points`` to ``path`` as PNG (atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    with replacing(path, ParameterError) as tmp:
        pareto_figure(points, cost, value).savefig(tmp, format="png", dpi=130)
    return Path(path)
