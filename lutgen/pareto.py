"""The Pareto front of a library: the multipliers no other one beats on both cost and error.

A library is a set of artifacts that hold a hardware cost (``appmult cost``).
Each becomes a :class:`Point` with a cost (one of :data:`COSTS`) and an error
metric (one of :data:`ERRORS`, both to be minimized); or, given the summary
CSV of ``appmult retrain-demo`` (``retrain_demo.csv``: one row per
multiplier, range policy and gradient kind, ``after_mean`` the accuracy
after retraining in [0, 1]), one point per multiplier and gradient kind with
that accuracy (to be maximized). A multiplier can only stand in for one of
the same operand widths and signedness, so the front is found within each
such group (``operands``, e.g. ``8x8 uu``): a point is Pareto-optimal when
no other point of its group is at least as good on both axes and better on
one (:func:`pareto_front`); equal points are all optimal. Plots are drawn
by :mod:`appmult.lutgen.pareto_plot`.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from appmult.core.artifact import Artifact
from appmult.core.atomic import replacing
from appmult.core.errors import ArtifactError, ParameterError
from appmult.core.manifest import RTL_DIR, load_manifest

__all__ = [
    "ACCURACY",
    "COSTS",
    "ERRORS",
    "Point",
    "accuracy_points",
    "error_points",
    "is_builtin",
    "operands_of",
    "pareto_front",
    "read_accuracy",
    "write_csv",
]

#: Hardware-cost axes: fields of :class:`~appmult.core.artifact.HardwareCost`.
COSTS = ("transistors", "cells", "depth")
#: Error axes: metrics of :mod:`appmult.core.metrics`, each the smaller the better.
ERRORS = ("nmed", "mred", "wce", "mse", "er")
#: The value axis of the accuracy front: accuracy after retraining, in [0, 1] (larger is better).
ACCURACY = "accuracy"

#: The columns of ``retrain_demo.csv`` the accuracy front reads.
_CSV_COLUMNS = ("multiplier", "ranges", "kind", "after_mean")


@dataclass(frozen=True)
class Point:
    """One candidate of a front: a multiplier (with a gradient kind, on the accuracy front).

    ``operands`` are its operand widths and signedness (``8x8 uu``: the
    group its front is found in); ``cost`` is its hardware cost on the chosen
    axis; ``value`` its error metric, or its accuracy after retraining in
    [0, 1]; ``kind`` the gradient kind (and range policy) that accuracy was
    retrained with, empty on an error front; ``path`` the artifact file;
    ``builtin`` whether it is a design of the built-in library.
    """

    name: str
    path: str
    builtin: bool
    operands: str
    cost: float
    value: float
    kind: str = ""
    optimal: bool = False


def pareto_front(cost: Sequence[float], value: Sequence[float], *, maximize: bool = False) -> np.ndarray:
    """bool [N]: True where no other point dominates point i.

    Point j dominates i when ``cost[j] <= cost[i]`` and ``value[j]`` is at
    least as good (``<=``, or ``>=`` with ``maximize``) and one of the two
    is strictly better. Sorting by cost, a point is optimal when its value
    is the best of its cost and strictly better than every cheaper point's.
    """
    cost = np.asarray(cost, dtype=float)
    value = -np.asarray(value, dtype=float) if maximize else np.asarray(value, dtype=float)
    if cost.shape != value.shape or cost.ndim != 1:
        raise ParameterError(
            f"pareto_front: cost and value must be vectors of one length, got {cost.shape}, {value.shape}"
        )
    optimal = np.zeros(cost.shape, dtype=bool)
    best_cheaper = np.inf
    for level in np.unique(cost):
        same = cost == level
        best_here = value[same].min()
        if best_here < best_cheaper:
            optimal |= same & (value == best_here)
            best_cheaper = best_here
    return optimal


def is_builtin(artifact: Artifact) -> bool:
    """Whether ``artifact`` is a built-in design: its name is in the manifest and its sources in ``rtl/``."""
    names = {design.name for design in load_manifest()}
    rtl = Path(RTL_DIR).resolve()
    return (
        artifact.name in names
        and bool(artifact.source_files)
        and all(Path(source).resolve().is_relative_to(rtl) for source in artifact.source_files)
    )


def operands_of(artifact: Artifact) -> str:
    """``8x8 uu``: the operand widths and signedness (``s``/``u`` for a, then b) of ``artifact``."""
    sign = ("s" if artifact.signed_a else "u") + ("s" if artifact.signed_b else "u")
    return f"{artifact.width_a}x{artifact.width_b} {sign}"


def _cost_of(path: str | os.PathLike, artifact: Artifact, cost: str) -> float:
    if cost not in COSTS:
        raise ParameterError(f"cost axis {cost!r}: expected one of {', '.join(COSTS)}")
    if artifact.cost is None:
        raise ArtifactError(f"{path}: holds no hardware cost; run `appmult cost {path}` first")
    return float(getattr(artifact.cost, cost))


def _marked(points: list[Point], maximize: bool) -> list[Point]:
    """``points`` each marked optimal or not within its operands group; sorted by group (the largest
    first), then cost, then value (best first)."""
    groups: dict[str, list[Point]] = {}
    for point in points:
        groups.setdefault(point.operands, []).append(point)
    marked = []
    for group in sorted(groups.values(), key=lambda g: (-len(g), g[0].operands)):
        front = pareto_front([p.cost for p in group], [p.value for p in group], maximize=maximize)
        ranked = [replace(p, optimal=bool(o)) for p, o in zip(group, front, strict=True)]
        marked += sorted(ranked, key=lambda p: (p.cost, -p.value if maximize else p.value, p.name))
    return marked


def error_points(
    library: Sequence[tuple[str | os.PathLike, Artifact]], cost: str = COSTS[0], error: str = ERRORS[0]
) -> list[Point]:
    """One point per ``(path, artifact)`` of ``library``: cost against error, fronts marked (:func:`_marked`).

    Raises :class:`ArtifactError` naming the first artifact without a cost.
    """
    if error not in ERRORS:
        raise ParameterError(f"error axis {error!r}: expected one of {', '.join(ERRORS)}")
    points = [
        Point(
            art.name,
            str(path),
            is_builtin(art),
            operands_of(art),
            _cost_of(path, art, cost),
            float(art.metrics[error]),
        )
        for path, art in library
    ]
    return _marked(points, maximize=False)


def read_accuracy(path: str | os.PathLike, columns: Sequence[str] = _CSV_COLUMNS) -> list[dict[str, str]]:
    """The rows of a ``retrain_demo.csv``, each a dict by column name.

    ``columns`` are those the caller reads (by default the front's:
    multiplier, ranges, kind and after_mean). Raises :class:`ParameterError`
    naming the file when it cannot be read or lacks one of ``columns``.
    """
    try:
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ParameterError(f"{path}: cannot read the retraining CSV ({exc})") from exc
    missing = [c for c in columns if not rows or c not in rows[0]]
    if missing:
        raise ParameterError(
            f"{path}: not a retrain-demo summary (no {', '.join(missing)} column); give the "
            "retrain_demo.csv that `appmult retrain-demo -o DIR` writes"
        )
    return rows


def accuracy_points(
    library: Sequence[tuple[str | os.PathLike, Artifact]],
    rows: Sequence[dict[str, str]],
    cost: str = COSTS[0],
    csv_name: str = "the retraining CSV",
) -> list[Point]:
    """One point per CSV row whose multiplier is an artifact of ``library``: cost against accuracy.

    A row's ``kind`` names the point's gradient kind, with its range policy
    when the CSV holds several. Fronts marked as in :func:`error_points`,
    accuracy maximized. Raises :class:`ParameterError` when two artifacts share a
    name or no row names an artifact of the library.
    """
    by_name: dict[str, tuple[str, Artifact]] = {}
    for path, art in library:
        if art.name in by_name:
            raise ParameterError(
                f"{path}: has the name {art.name} of {by_name[art.name][0]}; the CSV's multipliers "
                "must name one artifact each"
            )
        by_name[art.name] = (str(path), art)
    policies = {row["ranges"] for row in rows}
    points = []
    for row in rows:
        if row["multiplier"] not in by_name or not row["after_mean"]:
            continue
        path, art = by_name[row["multiplier"]]
        kind = row["kind"] if len(policies) == 1 else f"{row['kind']}, {row['ranges']} ranges"
        points.append(
            Point(
                art.name,
                path,
                is_builtin(art),
                operands_of(art),
                _cost_of(path, art, cost),
                float(row["after_mean"]),
                kind,
            )
        )
    if not points:
        named = ", ".join(sorted({row["multiplier"] for row in rows})) or "none"
        raise ParameterError(
            f"{csv_name}: none of its multipliers ({named}) is among the given artifacts; "
            "give the artifacts it was run on"
        )
    return _marked(points, maximize=True)


def write_csv(points: Sequence[Point], path: str | os.PathLike, cost: str, value: str) -> Path:
    """Write ``points`` as CSV (atomically): name, kind, operands, cost, value, optimal, builtin, file."""
    with replacing(path, ParameterError) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "kind", "operands", cost, value, "pareto_optimal", "builtin", "file"])
        for p in points:
            writer.writerow([p.name, p.kind, p.operands, f"{p.cost:g}", f"{p.value:.6g}", int(p.optimal),
                             int(p.builtin), p.path])  # fmt: skip
    return Path(path)
