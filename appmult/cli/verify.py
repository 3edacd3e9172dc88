"""``appmult verify``: exhaustive check of netlists against a reference."""

from __future__ import annotations

from pathlib import Path

import click

from appmult.characterize.backends import BACKEND_CHOICES
from appmult.characterize.crosscheck import Sample
from appmult.characterize.verify import Target, verify_many
from appmult.cli.options import (
    netlist_options,
    progress_for,
    quiet_option,
    report_interrupted,
    sample_options,
    scheduler_options,
)
from appmult.core.errors import ParameterError
from appmult.core.executor import Interrupted
from appmult.core.manifest import load_manifest

__all__ = ["verify_command"]


@click.command("verify")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--against",
    required=True,
    help="exact (a*b), model (the built-in reference model), a backend name, or an artifact FILE.h5.",
)
@click.option(
    "--backend",
    "backends",
    type=click.Choice(BACKEND_CHOICES),
    multiple=True,
    help="Backend(s) to simulate with (repeatable; default auto).",
)
@click.option("--library", is_flag=True, help="Verify every built-in design (`appmult list`).")
@netlist_options
@click.option("--show", default=5, show_default=True, help="How many mismatching pairs to print.")
@sample_options
@scheduler_options
@quiet_option
def verify_command(
    sources: tuple[Path, ...],
    against: str,
    backends: tuple[str, ...],
    library: bool,
    top: str | None,
    signed: bool | None,
    show: int,
    sample_pairs: int,
    seed: int,
    scheduler: str,
    workers: int | None,
    quiet: bool,
) -> None:
    """Simulate SOURCES (or --library) and compare every operand pair with a reference.

    Prints the mismatch count and the first mismatching pairs (a, b, expected,
    actual); exits 1 if any pair differs or a design cannot be simulated. A
    13..16-bit design is compared on a sample instead (--sample-pairs, --seed):
    every corner operand against every other, plus seeded random pairs.
    """
    if library == bool(sources):
        raise ParameterError("give either the Verilog files of one design or --library")
    if library:
        targets = [Target(d.files, d.top, d.signed, d) for d in load_manifest()]
    else:
        targets = [Target(tuple(sources), top, signed)]
    runs = []
    progress = progress_for(f"verify {len(targets)} design(s)", quiet)
    try:
        runs = list(
            verify_many(
                targets,
                against,
                backends or ("auto",),
                limit=show,
                scheduler=scheduler,
                workers=workers,
                progress=progress,
                sample=Sample(sample_pairs, seed),
            )
        )
    except Interrupted as exc:
        report_interrupted(exc, "simulations")
    width = max([len(r.backend) for r in runs] + [len("backend")])
    name_width = max([len(r.design) for r in runs] + [len("design")])
    click.echo(
        f"{'design':<{name_width}}  {'backend':<{width}}  {'against':<12} {'pairs':>9} {'mismatches':>10}"
    )
    for report in runs:
        if report.error is not None:
            click.echo(
                f"{report.design:<{name_width}}  {report.backend:<{width}}  {report.against:<12} failed"
            )
            click.echo(f"    {report.error.removeprefix(f'{report.design}: ')}")
            continue
        click.echo(
            f"{report.design:<{name_width}}  {report.backend:<{width}}  {report.against:<12} "
            f"{report.pairs:>9} {report.mismatches:>10}"
        )
        for m in report.first:
            click.echo(f"    a={m.a} b={m.b}: expected {m.expected}, got {m.actual}")
    failed = [r for r in runs if not r.ok]
    if failed:
        click.echo(f"{len(failed)} of {len(runs)} verifications found mismatches or failed", err=True)
        raise SystemExit(1)
