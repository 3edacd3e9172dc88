"""``appmult cost``: the hardware cost of netlists and artifacts, by Yosys."""

from __future__ import annotations

from pathlib import Path

import click

from appmult.characterize.cost import Costed, cost_inputs, cost_many
from appmult.characterize.safety import TRUST_FLAG
from appmult.cli.options import (
    echo_status,
    progress_for,
    quiet_option,
    report_failures,
    report_interrupted,
    scheduler_options,
)
from appmult.core.errors import AppMultError
from appmult.core.executor import Interrupted

__all__ = ["cost_command"]


def _table(done: list[Costed]) -> list[str]:
    """Aligned lines: name, cells, transistors, depth, seconds and file of each costed input."""
    rows = [("name", "cells", "transistors", "depth", "seconds")]
    rows += [
        (c.name, str(c.cost.cells), str(c.cost.transistors), str(c.cost.depth), f"{c.seconds:.2f}")
        for c in done
    ]
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    files = ["file", *(str(c.path) for c in done)]
    return [
        "  ".join(
            [row[0].ljust(widths[0]), *(v.rjust(w) for v, w in zip(row[1:], widths[1:], strict=True)), f]
        )
        for row, f in zip(rows, files, strict=True)
    ]


@click.command("cost")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--top", help="Top module of the netlists (default: the one module no other instantiates).")
@click.option("--timeout", type=float, help="Seconds before a synthesis is stopped (default 300).")
@click.option(
    TRUST_FLAG,
    "trust",
    is_flag=True,
    help="Skip the refusal of system tasks ($fopen, $readmemh, $system, ...) for netlists you trust.",
)
@scheduler_options
@quiet_option
def cost_command(
    inputs: tuple[Path, ...],
    top: str | None,
    timeout: float | None,
    trust: bool,
    scheduler: str,
    workers: int | None,
    quiet: bool,
) -> None:
    """Synthesize each INPUT with Yosys and print its hardware cost: cells, transistors, depth.

    An INPUT is a Verilog netlist (one design per file), an artifact (.h5),
    or a directory of them. An artifact is costed from the sources it was
    made from, which must be unchanged, and the cost is written into it
    (its /cost group, shown by `appmult info` and used by `appmult pareto`).
    Synthesis is technology-independent: flatten, `synth`, ABC to simple
    two-input gates and a 2:1 mux; transistors are Yosys's static-CMOS
    estimate, depth the most gates on a path.
    """
    paths = cost_inputs(inputs)
    status = echo_status(quiet)
    progress = progress_for(f"cost {len(paths)} inputs", quiet) if len(paths) > 1 else None
    done: list[Costed] = []
    runs = cost_many(
        paths, top=top, trust=trust, timeout=timeout, scheduler=scheduler, workers=workers,
        progress=progress,
    )  # fmt: skip
    try:
        for costed in runs:
            if costed.written:
                status(f"wrote /cost into {costed.path}")
            done.append(costed)
    except Interrupted as exc:
        report_interrupted(exc, "inputs")
    failures = [(str(c.path), c.error) for c in done if not c.ok]
    if len(paths) == 1 and failures:
        raise AppMultError(failures[0][1])
    order = {path: index for index, path in enumerate(paths)}
    for line in _table(sorted((c for c in done if c.ok), key=lambda c: order[c.path])):
        click.echo(line)
    report_failures(failures, len(paths), "inputs")
