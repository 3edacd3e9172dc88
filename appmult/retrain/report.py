"""Summaries of a retraining benchmark: a text table, CSV files and a PNG plot.

Spread is the sample standard deviation over seeds (0 with one seed).
``gain`` is the paired difference ``after(kind) - after(ste)`` on the same
seed, so its spread says whether a difference is larger than the run-to-run
noise.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from appmult.core.atomic import replacing
from appmult.retrain.demo import DemoResult, RunResult

__all__ = ["Summary", "format_table", "summarize", "write_results"]

_LABELS = {"ste": "STE", "lut2d": "LUT-2D", "lut1d": "LUT-1D"}


@dataclass(frozen=True)
class Stat:
    """Mean and sample standard deviation of some values (``n`` of them)."""

    mean: float
    std: float
    n: int

    @classmethod
    def of(cls, values: list[float]) -> Stat:
        array = np.asarray(values, dtype=float)
        std = float(array.std(ddof=1)) if len(array) > 1 else 0.0
        return cls(float(array.mean()), std, len(array))


@dataclass(frozen=True)
class Summary:
    """One multiplier's results over seeds; accuracies in [0, 1].

    ``after``, ``gain`` and ``seconds`` map a gradient kind to its Stat;
    ``gain`` has no ``ste`` entry.
    """

    multiplier: str
    exact: Stat
    before: Stat
    after: dict[str, Stat]
    gain: dict[str, Stat]
    seconds: dict[str, Stat]


def summarize(result: DemoResult) -> list[Summary]:
    """One :class:`Summary` per multiplier, in the configuration's order."""
    summaries = []
    gradients = result.config.gradients
    for name in result.config.multipliers:
        runs = [r for r in result.runs if r.multiplier == name]
        if not runs:
            continue
        by_kind = {g: sorted((r for r in runs if r.gradient == g), key=lambda r: r.seed) for g in gradients}
        first = by_kind[gradients[0]]
        gain = {}
        if "ste" in by_kind:
            for g in gradients:
                if g != "ste":
                    gain[g] = Stat.of(
                        [r.after - s.after for r, s in zip(by_kind[g], by_kind["ste"], strict=True)]
                    )
        summaries.append(
            Summary(
                multiplier=name,
                exact=Stat.of([r.exact_accuracy for r in first]),
                before=Stat.of([r.before for r in first]),
                after={g: Stat.of([r.after for r in by_kind[g]]) for g in gradients},
                gain=gain,
                seconds={g: Stat.of([r.seconds_per_epoch for r in by_kind[g]]) for g in gradients},
            )
        )
    return summaries


def _percent(stat: Stat, signed: bool = False) -> str:
    sign = "+" if signed else ""
    return f"{100 * stat.mean:{sign}.1f} ± {100 * stat.std:.1f}"


def format_table(result: DemoResult) -> str:
    """The summary as aligned text: accuracies in %, mean ± spread over seeds, seconds per epoch."""
    config = result.config
    gradients = config.gradients
    floats = Stat.of(_per_seed(result.runs, "float_accuracy"))
    header = ["multiplier", "exact", "before"]
    header += [f"after {_LABELS[g]}" for g in gradients]
    header += [f"{_LABELS[g]}-STE" for g in gradients if g != "ste" and "ste" in gradients]
    header += [f"s/ep {_LABELS[g]}" for g in gradients]
    rows = [header]
    for summary in summarize(result):
        row = [summary.multiplier, _percent(summary.exact), _percent(summary.before)]
        row += [_percent(summary.after[g]) for g in gradients]
        row += [_percent(summary.gain[g], signed=True) for g in gradients if g in summary.gain]
        row += [f"{summary.seconds[g].mean:.2f}" for g in gradients]
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        f"{config.dataset}: {config.seeds} seed(s), {config.epochs} retraining epoch(s), "
        f"float accuracy {_percent(floats)} %, device {result.device}",
        "accuracy in % (mean ± std over seeds); exact = quantized on the exact multiplier; "
        "X-STE = paired gain over STE",
    ]
    for index, row in enumerate(rows):
        cells = [cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells))
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _per_seed(runs: tuple[RunResult, ...], attribute: str) -> list[float]:
    values: dict[int, float] = {}
    for run in runs:
        values.setdefault(run.seed, getattr(run, attribute))
    return list(values.values())


def write_results(result: DemoResult, directory: str | os.PathLike) -> list[Path]:
    """Write ``retrain_demo.csv`` (summary), ``retrain_demo_runs.csv`` (every run) and
    ``retrain_demo.png`` into ``directory`` (created if missing); returns their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    summary_path = directory / "retrain_demo.csv"
    runs_path = directory / "retrain_demo_runs.csv"
    plot_path = directory / "retrain_demo.png"
    gradients = result.config.gradients
    summaries = summarize(result)
    with replacing(summary_path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        header = ["multiplier", "seeds", "exact_mean", "exact_std", "before_mean", "before_std"]
        for g in gradients:
            header += [f"after_{g}_mean", f"after_{g}_std"]
        for g in gradients:
            if g != "ste" and "ste" in gradients:
                header += [f"gain_{g}_mean", f"gain_{g}_std"]
        header += [f"seconds_per_epoch_{g}" for g in gradients]
        writer.writerow(header)
        for s in summaries:
            row: list[object] = [
                s.multiplier,
                s.before.n,
                s.exact.mean,
                s.exact.std,
                s.before.mean,
                s.before.std,
            ]
            for g in gradients:
                row += [s.after[g].mean, s.after[g].std]
            for g in gradients:
                if g in s.gain:
                    row += [s.gain[g].mean, s.gain[g].std]
            row += [s.seconds[g].mean for g in gradients]
            writer.writerow(row)
    with replacing(runs_path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        fields = list(RunResult.__dataclass_fields__)
        writer.writerow(fields)
        for run in result.runs:
            writer.writerow([getattr(run, name) for name in fields])
    _plot(result, summaries, plot_path)
    return [summary_path, runs_path, plot_path]


def _plot(result: DemoResult, summaries: list[Summary], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    gradients = result.config.gradients
    series = [("before", "before retraining")] + [(g, f"after {_LABELS[g]}") for g in gradients]
    figure = Figure(figsize=(max(7.0, 1.8 * len(summaries) + 2), 4.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = np.arange(len(summaries))
    width = 0.8 / len(series)
    lowest = 100.0
    for index, (key, label) in enumerate(series):
        stats = [s.before if key == "before" else s.after[key] for s in summaries]
        means = np.array([100 * st.mean for st in stats])
        spreads = np.array([100 * st.std for st in stats])
        lowest = min(lowest, float((means - spreads).min()) if len(means) else lowest)
        axes.bar(positions + (index - (len(series) - 1) / 2) * width, means, width, yerr=spreads,
                 capsize=3, label=label)  # fmt: skip
    floats = Stat.of(_per_seed(result.runs, "float_accuracy"))
    axes.axhline(100 * floats.mean, color="black", linestyle="--", linewidth=1, label="float model")
    axes.set_xticks(positions, [s.multiplier for s in summaries])
    axes.set_ylabel("test accuracy (%)")
    axes.set_ylim(max(0.0, lowest - 5), 100)
    config = result.config
    axes.set_title(
        f"{config.dataset}, {config.seeds} seed(s), {config.epochs} retraining epoch(s): mean ± std",
        fontsize="medium",
    )
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(series) + 1, fontsize="small")
    figure.tight_layout()
    with replacing(path) as tmp:
        figure.savefig(tmp, format="png", dpi=120)
