"""``appmult pareto``: a library's hardware cost against its error, or its accuracy after retraining."""

from __future__ import annotations

from pathlib import Path

import click

from appmult.cli.options import echo_status, quiet_option, replaced_notice
from appmult.core.artifact_file import load
from appmult.core.atomic import writable_directory
from appmult.lutgen.pareto import (
    ACCURACY,
    COSTS,
    ERRORS,
    Point,
    accuracy_points,
    error_points,
    read_accuracy,
    write_csv,
)
from appmult.lutgen.pareto_plot import write_pareto_plot

__all__ = ["pareto_command"]


def _table(points: list[Point], cost: str, value: str) -> list[str]:
    """Aligned lines, by operands group, cheapest first; ``*`` marks the Pareto-optimal rows."""
    accuracy = value == ACCURACY
    shown = (lambda v: f"{100 * v:.2f} %") if accuracy else (lambda v: f"{v:.4g}")
    header = ["", "name", "operands", *(["kind"] if accuracy else []), cost, value, "library", "file"]
    rows = [header] + [
        ["*" if p.optimal else "", p.name, p.operands, *([p.kind] if accuracy else []), f"{p.cost:g}",
         shown(p.value), "built-in" if p.builtin else "other", p.path]
        for p in points
    ]  # fmt: skip
    widths = [max(len(row[k]) for row in rows) for k in range(len(header))]
    numeric = {header.index(cost), header.index(value)}
    return [
        "  ".join(
            c.rjust(w) if k in numeric else c.ljust(w)
            for k, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


@click.command("pareto")
@click.argument("artifacts", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--cost",
    type=click.Choice(COSTS),
    default=COSTS[0],
    show_default=True,
    help="Hardware-cost axis (from `appmult cost`).",
)
@click.option(
    "--error", type=click.Choice(ERRORS), default=ERRORS[0], show_default=True, help="Error-metric axis."
)
@click.option(
    "--accuracy",
    type=click.Path(path_type=Path),
    help="A retrain_demo.csv (`appmult retrain-demo -o DIR`): the front of cost against "
    "accuracy after retraining, per multiplier and gradient kind, instead of --error.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory for pareto_<cost>_<error or accuracy>.csv and .png (created).",
)
@quiet_option
def pareto_command(
    artifacts: tuple[Path, ...], cost: str, error: str, accuracy: Path | None, output: Path, quiet: bool
) -> None:  # fmt: skip
    """Print ARTIFACTS sorted by hardware cost, marking with * those no other one beats on both
    cost and error; write the table as CSV and the front as a PNG plot.

    Multipliers are compared only with those of the same operand widths and
    signedness (one front, and one plot panel, per group). Every artifact
    must hold a cost (`appmult cost ARTIFACT`). With
    --accuracy the value axis is the accuracy after retraining (larger is
    better) of each multiplier and gradient kind the CSV reports.
    """
    writable_directory(output)
    library = [(path, load(path)) for path in artifacts]
    if accuracy is None:
        value, points = error, error_points(library, cost, error)
    else:
        value, points = ACCURACY, accuracy_points(library, read_accuracy(accuracy), cost, str(accuracy))
    for line in _table(points, cost, value):
        click.echo(line)
    status = echo_status(quiet)
    stem = output / f"pareto_{cost}_{value}"
    for path, write in ((stem.with_suffix(".csv"), write_csv), (stem.with_suffix(".png"), write_pareto_plot)):
        notice = replaced_notice(path)
        write(points, path, cost, value)
        status(notice or f"wrote {path}")
