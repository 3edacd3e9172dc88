"""``appmult tune-hws``: choose an artifact's LUT-2D half-window by short retraining runs."""

from __future__ import annotations

from pathlib import Path

import click

from appmult.cli.options import (
    comma_list,
    echo_status,
    progress_for,
    quiet_option,
    report_interrupted,
    require_torch,
    scheduler_options,
    training_options,
)
from appmult.cli.show import describe_tuning
from appmult.core.artifact_file import load, outline, save
from appmult.core.atomic import rewritable_in_place
from appmult.core.executor import Interrupted

__all__ = ["tune_hws_command"]


def _grid(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        return tuple(int(item) for item in value.split(",") if item.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of integers") from None


@click.command("tune-hws")
@click.argument("artifact", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--grid",
    callback=_grid,
    help="Comma-separated half-windows to try (default 1,2,4,...,64, those valid for the widths).",
)
@click.option("--per-operand", is_flag=True, help="Search hws_a and hws_b independently (every pair).")
@click.option(
    "--ranges",
    help="Activation range policy: frozen (default; calibrated, then kept), moving, or observer (DATE 2025's "
    "moving-average observer); tune under the policy you retrain with.",
)
@training_options
@scheduler_options
@quiet_option
def tune_hws_command(
    artifact: Path,
    grid: tuple[int, ...] | None,
    per_operand: bool,
    ranges: str | None,
    scheduler: str,
    workers: int | None,
    quiet: bool,
    **training: object,
) -> None:
    """Choose ARTIFACT's LUT-2D half-window by retraining, and record the choice in it.

    For each half-window h of the grid, LUT-2D tables with that h retrain one
    shared float start per seed on the same batches; the h with the smallest
    final training loss (mean over seeds) wins, as in DATE 2025. STE and
    LUT-1D (separable, rank 2, at that h) run on the same starts, and the
    record recommends a table only when it beats STE's paired loss by more
    than the spread over seeds, else STE. The candidates, losses, accuracies,
    settings and the recommendation are written into ARTIFACT as its tuning
    record (`appmult info` shows it); `appmult lutgen ARTIFACT --hws auto`
    then uses the chosen h, and `retrain-demo --kinds auto` or
    `convert(..., gradient="auto")` the recommended kind. Defaults are sized
    for a CPU: scikit-learn's 8x8 digits, the small network, 3 epochs, 2 seeds.
    """
    require_torch("tune-hws")
    from appmult.retrain.layers import DEFAULT_RANGES
    from appmult.retrain.tuning import TUNING_SETTING, tune_hws

    rewritable_in_place(artifact, "tune-hws", outline)
    art = load(artifact).materialize()
    seeds = training.pop("seeds")
    data = training.pop("data")
    pool = training.pop("pool")
    setting = TUNING_SETTING.changed(layers=comma_list(training.pop("layers")), **training)
    try:
        record = tune_hws(
            art,
            grid=grid,
            per_operand=per_operand,
            data=data or "digits",
            pool=pool or 1,
            seeds=2 if seeds is None else seeds,
            ranges=ranges or DEFAULT_RANGES,
            setting=setting,
            scheduler=scheduler,
            workers=workers,
            progress=progress_for(f"tune-hws {art.name}", quiet),
        )
    except Interrupted as exc:
        report_interrupted(exc, "runs")
    replaced = art.tuning is not None
    art.tuning = record
    save(art, artifact)
    for line in describe_tuning(record):
        click.echo(line)
    status = echo_status(quiet)
    status(f"{'replaced the' if replaced else 'wrote a'} tuning record in {artifact}")
    status(f"use it with: appmult lutgen {artifact} --hws auto")
