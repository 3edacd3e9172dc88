"""``appmult list`` and ``appmult info``: show the built-in designs and what an artifact holds."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from appmult.core.artifact import HardwareCost, TuningRecord
from appmult.core.artifact_file import load
from appmult.core.gradient import AxesGradient, Gradient, SeparableGradient
from appmult.core.manifest import load_manifest
from appmult.core.metrics import METRIC_NAMES
from appmult.core.summary import ErrorSummary
from appmult.lutgen.diagnostics import DIAGNOSTIC_ATTRS, NOISE_DEVIATION, Diagnostics
from appmult.lutgen.methods import LUT2D

__all__ = ["describe_cost", "info_command", "list_command"]


@click.command("list")
def list_command() -> None:
    """List the built-in designs of appmult/rtl/manifest.toml."""
    designs = load_manifest()
    header = f"{'name':<22} {'widths':>7} {'sign':>4} {'family':<14} {'hws':>5}  top"
    click.echo(header)
    for d in designs:
        widths = f"{d.width_a}x{d.width_b}"
        hws = f"{d.hws_a}" if d.hws_a == d.hws_b else f"{d.hws_a},{d.hws_b}"
        sign = "s" if d.signed else "u"
        click.echo(f"{d.name:<22} {widths:>7} {sign:>4} {d.family:<14} {hws:>5}  {d.top}")


@click.command("info")
@click.argument("artifact", type=click.Path(path_type=Path))
def info_command(artifact: Path) -> None:
    """Print what an artifact file holds: header, metrics, gradient groups, tuning record and cost.

    Reads the file's header only, never its tables.
    """
    art = load(artifact)
    sign = {True: "signed", False: "unsigned"}
    click.echo(f"file          {artifact}")
    click.echo(f"name          {art.name}")
    click.echo(f"top           {art.top}")
    click.echo(
        f"operands      a: {art.width_a}-bit {sign[art.signed_a]} "
        f"[{art.operand_a[0]}..{art.operand_a[-1]}], b: {art.width_b}-bit "
        f"{sign[art.signed_b]} [{art.operand_b[0]}..{art.operand_b[-1]}]"
    )
    click.echo(f"output        {art.width_out} bits, read as {sign[art.output_signed]}")
    low, high = art.product_range
    if art.tabulated:
        click.echo(f"product       int32 {art.shape}, range {low}..{high}")
    else:
        pairs = art.shape[0] * art.shape[1]
        click.echo(f"product       no table (wide form: {pairs:,} pairs streamed), range {low}..{high}")
        for line in describe_summary(art.summary):
            click.echo(line)
    click.echo(f"simulator     {art.simulator}")
    if art.signedness:
        click.echo(f"signedness    {art.signedness}")
    if art.sandbox:
        click.echo(f"sandbox       {art.sandbox}")
    click.echo(f"sources       {', '.join(art.source_files) or '-'}")
    for path, digest in zip(art.source_files, art.source_sha256, strict=False):
        click.echo(f"  sha256      {digest}  {Path(path).name}")
    click.echo(f"created       {art.created_utc} by appmult {art.tool_version}")
    click.echo("metrics")
    for key in METRIC_NAMES:
        click.echo(f"  {key:<11} {art.metrics[key]:.6g}")
    if not art.gradients:
        click.echo("gradients     none (run `appmult lutgen`)")
    for method, gradient in art.gradients.items():
        shown = {k: v for k, v in gradient.attrs.items() if k not in DIAGNOSTIC_ATTRS}
        params = ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) or "-"
        click.echo(f"grad/{method:<8} {describe_storage(gradient)}; {params}")
        diagnostics = Diagnostics.from_attrs(gradient.attrs)
        if diagnostics is not None:
            noise = f"; looks like noise (deviation above {NOISE_DEVIATION:g})"
            click.echo(
                f"  vs STE      {diagnostics.summary()}{noise if diagnostics.looks_like_noise else ''}"
            )
    if art.tuning is not None:
        for line in describe_tuning(art.tuning):
            click.echo(line)
    for line in describe_cost(art.cost):
        click.echo(line)


def describe_cost(cost: HardwareCost | None) -> list[str]:
    """Lines showing the hardware cost: totals, cells by type, the Yosys that ran and its script."""
    if cost is None:
        return ["cost          none (run `appmult cost`)"]
    by_type = ", ".join(f"{kind.strip('$_')} {count}" for kind, count in cost.cells_by_type.items())
    script = cost.script.splitlines() or ["-"]
    return [
        f"cost          {cost.cells} cells, {cost.transistors} transistors (CMOS estimate), "
        f"depth {cost.depth} gates",
        f"  cells       {by_type or '-'}",
        f"  yosys       {cost.yosys}",
        f"  script      {script[0]}",
        *(f"              {line}" for line in script[1:]),
    ]


def describe_summary(summary: ErrorSummary) -> list[str]:
    """Lines showing how a wide artifact's metrics were made, its sampled cross-check and its summaries."""
    lines = [f"metrics by    {summary.metrics_by}"]
    check = summary.cross_check
    if check is None:
        lines.append(
            "cross-check   none (characterize --backend icarus, or verify --against icarus, checks a sample)"
        )
    else:
        verdict = "agreed on every pair" if check.mismatches == 0 else f"{check.mismatches} pairs differ"
        lines.append(
            f"cross-check   {check.reference}: {verdict} of {check.pairs:,} sampled ({check.corner_pairs} "
            f"corner pairs + {check.random_pairs:,} random, seed {check.seed}; {check.seconds:.1f} s)"
        )
    m_a, m_b = summary.map_mean.shape
    lines.append(
        f"summary       error histogram [{summary.histogram.size}], mean/max |e| per a "
        f"[{summary.row_mean_abs.size}] and per b [{summary.col_mean_abs.size}], error map [{m_a}, {m_b}]"
    )
    return lines


def describe_storage(gradient: Gradient) -> str:
    """How a gradient group is stored, e.g. ``separable, rank 2: u [2, 256], v [2, 256]``."""
    if isinstance(gradient, AxesGradient):
        return "from the operand axes (dAM/da = b, dAM/db = a)"
    if isinstance(gradient, SeparableGradient):
        n_a, n_b = gradient.shape
        return f"separable, rank {gradient.rank}: u [{gradient.rank}, {n_a}], v [{gradient.rank}, {n_b}]"
    return f"tables d_a, d_b {list(gradient.shape)}"


def describe_tuning(record: TuningRecord) -> list[str]:
    """Lines showing a tuning record: the choice, the rule, the settings and every grid point.

    Losses and accuracies are mean ± sample standard deviation over seeds
    (whose float starts differ). A last line warns when the chosen point did
    not have the smallest loss on every seed: then the search has not
    settled the choice.
    """
    losses = np.asarray(record.train_loss, dtype=float)
    accuracies = 100 * np.asarray(record.test_accuracy, dtype=float)
    seeds = losses.shape[1]
    spread = (lambda values: values.std(axis=1, ddof=1)) if seeds > 1 else (lambda values: 0 * values[:, 0])
    mean_loss, loss_std = losses.mean(axis=1), spread(losses)
    kinds = record.kinds or (LUT2D.name,) * len(record.grid)
    lines = [
        f"tuning        hws_a={record.hws_a}, hws_b={record.hws_b} ({record.rule})",
        "  settings    " + ", ".join(f"{k}={v}" for k, v in sorted(record.settings.items())),
        f"  {'kind':<7} {'hws_a':>5} {'hws_b':>5} {'train loss':>17} {'test acc %':>13}   "
        f"(mean ± std over {seeds} seed(s))",
    ]
    for index, ((h_a, h_b), kind) in enumerate(zip(record.grid, kinds, strict=True)):
        chosen_row = kind == LUT2D.name and (h_a, h_b) == (record.hws_a, record.hws_b)
        mark = "  <- chosen h" if chosen_row else ""
        loss = f"{mean_loss[index]:.4f} ± {loss_std[index]:.4f}"
        accuracy = f"{accuracies[index].mean():.2f} ± {spread(accuracies)[index]:.2f}"
        windows = f"{h_a:>5} {h_b:>5}" if (h_a, h_b) != (0, 0) else f"{'-':>5} {'-':>5}"
        lines.append(f"  {kind:<7} {windows} {loss:>17} {accuracy:>13}{mark}")
    if record.recommended:
        lines.append(f"  recommended {record.recommended}: {record.verdict}")
    rows = [index for index, kind in enumerate(kinds) if kind == LUT2D.name]
    chosen = rows.index(next(i for i in rows if record.grid[i] == (record.hws_a, record.hws_b)))
    wins = int((losses[rows].argmin(axis=0) == chosen).sum())
    if wins < seeds:
        lines.append(
            f"  note: the chosen h had the smallest loss on {wins} of {seeds} seeds, so this search does not "
            "settle it; more seeds, epochs or a harder task (--data, --network) would"
        )
    return lines
