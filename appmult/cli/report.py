"""``appmult report``: metrics table and PNG plots of artifacts."""

from __future__ import annotations

from pathlib import Path

import click

from appmult.cli.options import echo_status, quiet_option, replaced_notice
from appmult.cli.show import describe_tuning
from appmult.core.artifact_file import load
from appmult.core.atomic import writable_directory
from appmult.lutgen.report import metrics_table, write_plots

__all__ = ["report_command"]


@click.command("report")
@click.argument("artifacts", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Directory for the PNG plots (created; default: no plots).",
)
@quiet_option
def report_command(artifacts: tuple[Path, ...], output: Path | None, quiet: bool) -> None:
    """Print the error metrics of ARTIFACTS as a table; with -o, also plot the error and gradients.

    Plots: <name>_error.png (error map, histogram, relative error),
    <name>_gradients.png (when the artifact has gradient groups) and
    <name>_tuning.png (when `appmult tune-hws` recorded its choice).
    """
    if output is not None:
        writable_directory(output, create=False)  # checked first, created once every artifact has loaded
    loaded = [load(path) for path in artifacts]
    if output is not None:
        writable_directory(output)
    rows = metrics_table(loaded)
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
    for art in loaded:
        if art.tuning is not None:
            click.echo(f"\n{art.name}:")
            for line in describe_tuning(art.tuning):
                click.echo(line)
    if output is None:
        return
    status = echo_status(quiet)
    for path, art in zip(artifacts, loaded, strict=True):
        before = {p: replaced_notice(p) for p in output.glob(f"{art.name}_*.png")}
        for plot in write_plots(art, output):
            status(before.get(plot) or f"wrote {plot}")
        if not art.gradients:
            status(f"{path}: no gradient groups, so no gradient plot; run appmult lutgen on it first")
