"""``appmult verify``: exhaustive check of netlists against a reference."""

from __future__ import annotations

from pathlib import Path

import click

from appmult.characterize.backends import BACKEND_CHOICES
from appmult.characterize.verify import VerifyReport, verify
from appmult.cli.options import quiet_option
from appmult.core.errors import ParameterError
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
@click.option("--library", is_flag=True, help="Verify every built-in design of appmult/rtl/manifest.toml.")
@click.option("--top", help="Top module (default: the one module no other instantiates).")
@click.option("--signed/--unsigned", default=None, help="Operand signedness (default: the ports').")
@click.option("--show", default=5, show_default=True, help="How many mismatching pairs to print.")
@quiet_option
def verify_command(
    sources: tuple[Path, ...],
    against: str,
    backends: tuple[str, ...],
    library: bool,
    top: str | None,
    signed: bool | None,
    show: int,
    quiet: bool,
) -> None:
    """Simulate SOURCES (or --library) and compare every operand pair with a reference.

    Prints the mismatch count and the first mismatching pairs (a, b, expected,
    actual); exits 1 if any pair differs.
    """
    if library == bool(sources):
        raise ParameterError("give either the Verilog files of one design or --library")
    runs: list[VerifyReport] = []
    for backend in backends or ("auto",):
        if library:
            for design in load_manifest():
                if not quiet:
                    click.echo(f"verifying {design.name} ({backend})", err=True)
                runs.append(verify(design.files, against, backend=backend, design=design, limit=show))
        else:
            runs.append(verify(sources, against, backend=backend, top=top, signed=signed, limit=show))
    click.echo(f"{'design':<24} {'backend':<34} {'against':<12} {'pairs':>9} {'mismatches':>10}")
    for report in runs:
        click.echo(
            f"{report.design:<24} {report.backend:<34} {report.against:<12} "
            f"{report.pairs:>9} {report.mismatches:>10}"
        )
        for m in report.first:
            click.echo(f"    a={m.a} b={m.b}: expected {m.expected}, got {m.actual}")
    failed = [r for r in runs if not r.ok]
    if failed:
        click.echo(f"{len(failed)} of {len(runs)} verifications found mismatches", err=True)
        raise SystemExit(1)
