"""Summaries of a retraining benchmark: a text table, CSV files and PNG plots.

One summary row per data set, multiplier, range policy and gradient kind
(a benchmark over several data sets is one :class:`DemoResult` per data set). Spread is
the sample standard deviation over seeds (0 with one seed). The gain of a
kind is the paired difference ``after(kind) - after(STE)`` on the same seed,
the same float start and the same batches, so its spread says whether a
difference is larger than the run-to-run noise; ``positive`` counts the seeds
on which it was above zero. Accuracies are printed in %, gains in
percentage points.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from appmult.core.atomic import replacing
from appmult.core.errors import ParameterError
from appmult.lutgen.pareto import read_accuracy
from appmult.retrain.demo import DemoResult
from appmult.retrain.runs import RunResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "Stat",
    "SummaryRow",
    "format_table",
    "gain_figure",
    "nmed_figure",
    "nmed_panels_figure",
    "read_summary",
    "summarize",
    "write_results",
]

_STE = "STE"


@dataclass(frozen=True)
class Stat:
    """Mean and sample standard deviation of ``n`` values."""

    mean: float
    std: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Stat:
        array = np.asarray(values, dtype=float)
        std = float(array.std(ddof=1)) if len(array) > 1 else 0.0
        return cls(float(array.mean()), std, len(array))


@dataclass(frozen=True)
class SummaryRow:
    """One data set, multiplier, range policy and kind over its seeds; accuracies in [0, 1].

    ``gain`` is None for STE itself or when STE was not run; ``positive`` is
    the number of seeds with a gain above zero; ``slowdown`` the ratio of
    seconds per epoch to STE's (None without STE); ``hws`` the LUT-2D
    half-windows the tables used (``-`` for STE and the forms without one);
    ``nmed`` the multiplier's normalized mean error distance (a fraction; None when unknown).
    """

    data: str
    multiplier: str
    ranges: str
    kind: str
    hws: str
    exact: Stat
    before: Stat
    after: Stat
    gain: Stat | None
    positive: int
    seconds: Stat
    slowdown: float | None
    nmed: float | None = None


def _hws(runs: Sequence[RunResult]) -> str:
    points = sorted({run.hws for run in runs if run.hws != (0, 0)})
    return "; ".join(f"{a}" if a == b else f"{a},{b}" for a, b in points) or "-"


def summarize(result: DemoResult) -> list[SummaryRow]:
    """The summary rows, by multiplier, then policy, then kind, in the configuration's order."""
    rows = []
    kinds = result.kinds
    for name in dict.fromkeys(run.multiplier for run in result.runs):
        for policy in result.config.policies:
            group = [run for run in result.runs if run.multiplier == name and run.ranges == policy]
            by_kind = {
                kind: sorted((r for r in group if r.kind == kind), key=lambda r: r.seed) for kind in kinds
            }
            ste = {run.seed: run for run in by_kind.get(_STE, [])}
            for kind, runs in by_kind.items():
                if not runs:
                    continue
                gains = [run.after - ste[run.seed].after for run in runs if run.seed in ste]
                paired = kind != _STE and len(gains) == len(runs)
                seconds = Stat.of([run.seconds_per_epoch for run in runs])
                ste_seconds = [run.seconds_per_epoch for run in ste.values()]
                rows.append(
                    SummaryRow(
                        data=result.config.data,
                        multiplier=name,
                        ranges=policy,
                        kind=kind,
                        hws=_hws(runs),
                        exact=Stat.of([run.exact_accuracy for run in runs]),
                        before=Stat.of([run.before for run in runs]),
                        after=Stat.of([run.after for run in runs]),
                        gain=Stat.of(gains) if paired else None,
                        positive=sum(gain > 0 for gain in gains) if paired else 0,
                        seconds=seconds,
                        slowdown=seconds.mean / float(np.mean(ste_seconds)) if ste_seconds else None,
                        nmed=result.nmed.get(name),
                    )
                )
    return rows


def _percent(stat: Stat, signed: bool = False) -> str:
    return f"{100 * stat.mean:{'+' if signed else ''}.1f} ± {100 * stat.std:.1f}"


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        cells = zip(row, widths, strict=True)
        lines.append("  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(cells)))
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def format_table(result: DemoResult) -> str:
    """The summary as aligned text, headed by the setting and each multiplier's reference accuracies."""
    config, setting = result.config, result.config.setting
    floats = Stat.of(list({run.seed: run.float_accuracy for run in result.runs}.values()))
    seeds = len({run.seed for run in result.runs})
    lines = [
        f"data {config.data} (pooled {config.pool}x{config.pool}), network {setting.network} "
        f"({'+'.join(setting.layers)} on the multiplier), device {setting.device}",
        f"{seeds} seed(s); {setting.epochs} retraining epoch(s) of Adam at lr {setting.lr:g}; "
        f"float accuracy {_percent(floats)} %",
        "accuracy in % (mean ± std over seeds); gain = after(kind) - after(STE), paired by seed, in points;",
        "+seeds = seeds with a positive gain; x STE = seconds per epoch over STE's",
    ]
    summary = summarize(result)
    for name in dict.fromkeys(row.multiplier for row in summary):
        own = [row for row in summary if row.multiplier == name]
        exact, before = _percent(own[0].exact), _percent(own[0].before)
        nmed = f", NMED {100 * own[0].nmed:.3g} %" if own[0].nmed is not None else ""
        lines += ["", f"{name}: exact multiplier {exact} %, before retraining {before} %{nmed}"]
        table = [["ranges", "kind", "hws", "after", "gain", "+seeds", "s/epoch", "x STE"]]
        for row in own:
            table.append([
                row.ranges, row.kind, row.hws, _percent(row.after),
                _percent(row.gain, signed=True) if row.gain else "-",
                f"{row.positive}/{row.gain.n}" if row.gain else "-",
                f"{row.seconds.mean:.2f}", f"{row.slowdown:.2f}" if row.slowdown else "-",
            ])  # fmt: skip
        lines += _aligned(table)
    return "\n".join(lines)


_SUMMARY_FIELDS = (
    "data", "multiplier", "nmed", "ranges", "kind", "hws", "seeds", "exact_mean", "exact_std", "before_mean",
    "before_std", "after_mean", "after_std", "gain_mean", "gain_std", "positive_seeds", "seconds_per_epoch",
    "slowdown_vs_ste",
)  # fmt: skip


def _summary_record(row: SummaryRow) -> list[object]:
    gain = [row.gain.mean, row.gain.std, row.positive] if row.gain else ["", "", ""]
    return [
        row.data, row.multiplier, "" if row.nmed is None else row.nmed, row.ranges, row.kind, row.hws,
        row.after.n, row.exact.mean, row.exact.std,
        row.before.mean, row.before.std, row.after.mean, row.after.std, *gain, row.seconds.mean,
        "" if row.slowdown is None else row.slowdown,
    ]  # fmt: skip


def _run_record(data: str, run: RunResult) -> list[object]:
    values = [getattr(run, name) for name in RunResult.__dataclass_fields__]
    return [data] + [
        f"{v[0]},{v[1]}" if name == "hws" else ";".join(f"{x:.6g}" for x in v) if name == "losses" else v
        for name, v in zip(RunResult.__dataclass_fields__, values, strict=True)
    ]


def _results(results: DemoResult | Sequence[DemoResult]) -> list[DemoResult]:
    return [results] if isinstance(results, DemoResult) else list(results)


def write_results(results: DemoResult | Sequence[DemoResult], directory: str | os.PathLike) -> list[Path]:
    """Write the results of one benchmark (one per data set) into ``directory`` (created if missing).

    Returns the paths of:

    ``retrain_demo.csv``
        the summary rows (NMED, accuracies and gains as fractions, seconds per epoch);
    ``retrain_demo_runs.csv``
        every run, headed by its data set (``hws`` as ``a,b``, ``losses`` per epoch joined by ``;``);
    ``retrain_demo.png``
        the gains per kind (:func:`gain_figure`);
    ``retrain_demo_nmed.png``
        with two or more multipliers and STE among the kinds: the gains against NMED
        (:func:`nmed_figure`).
    """
    results = _results(results)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    names = ["retrain_demo.csv", "retrain_demo_runs.csv", "retrain_demo.png"]
    figures = [gain_figure(results)]
    if len({name for result in results for name in result.config.multipliers}) > 1 and any(
        _STE in result.kinds for result in results
    ):
        names.append("retrain_demo_nmed.png")
        figures.append(nmed_figure(results))
    paths = [directory / name for name in names]
    runs = [_run_record(result.config.data, run) for result in results for run in result.runs]
    tables = (
        (_SUMMARY_FIELDS, [_summary_record(row) for result in results for row in summarize(result)]),
        (("data", *RunResult.__dataclass_fields__), runs),
    )
    for path, (header, records) in zip(paths, tables, strict=False):
        with replacing(path) as tmp, open(tmp, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(records)
    for path, figure in zip(paths[2:], figures, strict=True):
        with replacing(path) as tmp:
            figure.savefig(tmp, format="png", dpi=120)
    return paths


def gain_figure(results: DemoResult | Sequence[DemoResult]) -> Figure:
    """The benchmark's plot: one panel per data set, multiplier and range policy, all on one y scale.

    With STE among the kinds: each other kind's gain over STE in points
    (bar = mean, error bar = std, dots = seeds) around a zero line. Without
    it: the accuracy after retraining on an axis from 0 to 100 %. The panels
    share their y axis, so a policy under which the tables change nothing
    does not look like one where they change much. Titles name the data set
    when there are several.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    results = _results(results)
    several = len(results) > 1
    panels = [
        (result, summary, name, policy)
        for result, summary in ((r, summarize(r)) for r in results)
        for name, policy in dict.fromkeys((row.multiplier, row.ranges) for row in summary)
    ]
    with_ste = any(row.gain for _, summary, _, _ in panels for row in summary)
    kinds = list(dict.fromkeys(k for r in results for k in r.kinds if not (with_ste and k == _STE)))
    figure = Figure(figsize=(max(5.0, 0.9 * len(kinds) + 2), 3.2 * len(panels)))
    FigureCanvasAgg(figure)
    for axes, (result, summary, name, policy) in zip(
        figure.subplots(len(panels), 1, sharey=True, squeeze=False)[:, 0], panels, strict=True
    ):
        rows = {row.kind: row for row in summary if (row.multiplier, row.ranges) == (name, policy)}
        for position, kind in enumerate(kinds):
            row = rows.get(kind)
            if row is None:
                continue
            stat = row.gain if with_ste else row.after
            if stat is None:
                continue
            axes.bar(position, 100 * stat.mean, 0.6, yerr=100 * stat.std, capsize=4, color=f"C{position}")
            points = _per_seed_values(result.runs, name, policy, kind, with_ste)
            axes.plot(np.full(len(points), position) + np.linspace(-0.15, 0.15, len(points)), 100 * points,
                      "o", color="black", markersize=3)  # fmt: skip
        axes.set_xticks(
            range(len(kinds)), [kind.replace("LUT-1D ", "LUT-1D\n") for kind in kinds], fontsize="small"
        )
        if with_ste:
            axes.axhline(0, color="black", linewidth=0.8)
            axes.set_ylabel("gain over STE (points)")
        else:
            axes.set_ylim(0, 100)
            axes.set_ylabel("accuracy after (%)")
        prefix = f"{result.config.data}: " if several else ""
        axes.set_title(f"{prefix}{name}, {policy} ranges", fontsize="medium")
    figure.tight_layout()
    return figure


#: Markers of the kinds in :func:`nmed_figure`, in the kinds' order.
_MARKERS = "osD^vP*X"


def nmed_figure(results: DemoResult | Sequence[DemoResult]) -> Figure:
    """:func:`nmed_panels_figure` of the results' summary rows (one panel per data set and policy)."""
    results = _results(results)
    return nmed_panels_figure([row for result in results for row in summarize(result)])


def nmed_panels_figure(rows: Sequence[SummaryRow]) -> Figure:
    """Gain over STE against NMED from summary rows: one panel per data set and range policy.

    x: NMED in % on a log axis (multipliers without a positive NMED are left
    out); y: the gain over STE in points, paired by seed; one marker and
    colour per kind, in the order the kinds first appear in ``rows`` (mean
    over seeds; bar: the standard deviation; the kinds are spread a little
    sideways so their bars do not overlap). The panels share their y axis and
    a zero line. ``rows`` may come from several benchmarks
    (:func:`read_summary` of each one's ``retrain_demo.csv``).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = list(dict.fromkeys((row.data, row.ranges) for row in rows))
    kinds = list(dict.fromkeys(row.kind for row in rows if row.kind != _STE))
    columns = min(2, len(panels))
    grid_rows = -(-len(panels) // columns)
    figure = Figure(figsize=(6.0 * columns, 3.8 * grid_rows))
    FigureCanvasAgg(figure)
    grid = figure.subplots(grid_rows, columns, sharey=True, squeeze=False)
    for index, axes in enumerate(grid.flat):
        if index >= len(panels):
            axes.set_visible(False)
            continue
        data, policy = panels[index]
        for position, kind in enumerate(kinds):
            own = [
                row
                for row in rows
                if (row.data, row.ranges, row.kind) == (data, policy, kind) and row.gain and row.nmed
            ]
            if not own:
                continue
            shift = 1.06 ** (position - (len(kinds) - 1) / 2)
            axes.errorbar(
                [100 * row.nmed * shift for row in own], [100 * row.gain.mean for row in own],
                yerr=[100 * row.gain.std for row in own], fmt=_MARKERS[position % len(_MARKERS)],
                color=f"C{position}", capsize=3, markersize=5, label=kind,
            )  # fmt: skip
        axes.axhline(0, color="black", linewidth=0.8)
        axes.set_xscale("log")
        axes.set_xlabel("NMED (%)")
        axes.set_ylabel("gain over STE (points)")
        axes.set_title(f"{data}, {policy} ranges", fontsize="medium")
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def read_summary(path: str | os.PathLike) -> list[SummaryRow]:
    """The summary rows of a ``retrain_demo.csv`` that :func:`write_results` wrote.

    The CSV keeps the mean of the seconds per epoch, not their spread, so
    ``seconds.std`` is NaN. Raises :class:`ParameterError` naming the file
    when it cannot be read, lacks a column, or holds a value that is not a
    number where one belongs.
    """

    def number(record: dict[str, str], column: str, optional: bool = False) -> float | None:
        text = record[column]
        if optional and text == "":
            return None
        try:
            return float(text)
        except ValueError:
            where = f"{path}: {column} of {record['multiplier']} is {text!r}"
            raise ParameterError(f"{where}, not a number; give an unedited retrain_demo.csv") from None

    def stat(record: dict[str, str], name: str, n: int, optional: bool = False) -> Stat | None:
        mean = number(record, f"{name}_mean", optional)
        return None if mean is None else Stat(mean, number(record, f"{name}_std"), n)

    rows = []
    for record in read_accuracy(path, _SUMMARY_FIELDS):
        n = int(number(record, "seeds"))
        rows.append(
            SummaryRow(
                data=record["data"], multiplier=record["multiplier"], ranges=record["ranges"],
                kind=record["kind"], hws=record["hws"], exact=stat(record, "exact", n),
                before=stat(record, "before", n), after=stat(record, "after", n),
                gain=stat(record, "gain", n, optional=True),
                positive=int(number(record, "positive_seeds", optional=True) or 0),
                seconds=Stat(number(record, "seconds_per_epoch"), float("nan"), n),
                slowdown=number(record, "slowdown_vs_ste", optional=True),
                nmed=number(record, "nmed", optional=True),
            )
        )  # fmt: skip
    return rows


def _per_seed_values(runs: Sequence[RunResult], name: str, policy: str, kind: str, gain: bool) -> np.ndarray:
    """Per-seed accuracy after (or paired gain over STE) of one panel's kind, as fractions."""
    own = {r.seed: r.after for r in runs if (r.multiplier, r.ranges, r.kind) == (name, policy, kind)}
    if not gain:
        return np.array(list(own.values()))
    ste = {r.seed: r.after for r in runs if (r.multiplier, r.ranges, r.kind) == (name, policy, _STE)}
    return np.array([value - ste[seed] for seed, value in own.items() if seed in ste])
