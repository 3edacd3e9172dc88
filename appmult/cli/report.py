"""``appmult report``: metrics table and PNG plots of artifacts."""

from __future__ import annotations

from pathlib import Path

import click

from appmult.cli.options import echo_status, quiet_option
from appmult.core.artifact import load
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
    """Print the error metrics of ARTIFACTS as a table; with -o, also plot error and gradients."""
    loaded = [load(path) for path in artifacts]
    rows = metrics_table(loaded)
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        status = echo_status(quiet)
        for art in loaded:
            for path in write_plots(art, output):
                status(f"wrote {path}")
