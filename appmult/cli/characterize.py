"""``appmult characterize``: simulate netlists into artifact files."""

from __future__ import annotations

from pathlib import Path

import click

from appmult.characterize.backends import BACKEND_CHOICES
from appmult.characterize.batch import Job, JobResult, jobs_for_designs, jobs_for_files, run_batch
from appmult.cli.options import echo_status, progress_for, quiet_option
from appmult.core.errors import AppMultError, ParameterError
from appmult.core.manifest import select_designs

__all__ = ["characterize_command"]

_HEADER = f"{'name':<24} {'widths':>7} {'sign':>4} {'ER':>7} {'NMED':>10} {'WCE':>8} {'seconds':>8}  backend"


def _row(result: JobResult) -> str:
    m = result.metrics
    widths = f"{result.width_a}x{result.width_b}"
    sign = "s" if result.signed else "u"
    return (
        f"{result.name:<24} {widths:>7} {sign:>4} {m['er']:>7.4f} {m['nmed']:>10.3e} "
        f"{m['wce']:>8.0f} {result.seconds:>8.2f}  {result.simulator}"
    )


@click.command("characterize")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option("--top", help="Top module (default: the one module no other instantiates).")
@click.option(
    "--signed/--unsigned",
    default=None,
    help="Read both operands as two's complement or unsigned (default: the ports' `signed` keyword).",
)
@click.option("--name", help="Artifact name (default: the top module's name).")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Artifact file (default ./<name>.h5); a directory with --batch or --library (default artifacts/).",
)
@click.option(
    "--backend",
    type=click.Choice(BACKEND_CHOICES),
    default="auto",
    show_default=True,
    help="auto: bitsim when it supports the netlist, else icarus (the cocotb + Icarus reference).",
)
@click.option("--batch", is_flag=True, help="Each file (or each *.v of a directory) is its own design.")
@click.option(
    "--library", is_flag=True, help="Characterize the built-in designs of appmult/rtl/manifest.toml."
)
@click.option("--design", "designs", multiple=True, help="With --library: only these designs (repeatable).")
@click.option("-j", "--jobs", type=int, help="Parallel jobs for --batch/--library (default: all cores).")
@click.option("--timeout", type=float, help="Seconds before a simulation is stopped (default: by size).")
@quiet_option
def characterize_command(
    sources: tuple[Path, ...],
    top: str | None,
    signed: bool | None,
    name: str | None,
    output: Path | None,
    backend: str,
    batch: bool,
    library: bool,
    designs: tuple[str, ...],
    jobs: int | None,
    timeout: float | None,
    quiet: bool,
) -> None:
    """Exhaustively simulate a multiplier netlist into an HDF5 artifact.

    SOURCES are the Verilog files of one design (top module plus the modules
    it instantiates). With --batch every file, directory or glob is a
    separate design; with --library the built-in designs are characterized.
    Operand a is the top module's first input, b its second.
    """
    options = {"backend": backend, "timeout": timeout}
    if library:
        if sources or batch or top or name or signed is not None:
            raise ParameterError(
                "--library takes no SOURCES and no --batch, --top, --name or --signed/--unsigned: "
                "each built-in design has its own in appmult/rtl/manifest.toml"
            )
        chosen = select_designs(designs)
        job_list = jobs_for_designs(chosen, _out_dir(output), **options)
    elif batch:
        if top or name or designs:
            raise ParameterError("--top, --name and --design do not apply to --batch")
        job_list = jobs_for_files(sources, _out_dir(output), signed=signed, **options)
    else:
        if not sources:
            raise click.UsageError("give the Verilog files of a design, or --batch/--library")
        if designs:
            raise ParameterError("--design applies to --library only")
        job_list = [Job(tuple(sources), output, top=top, signed=signed, name=name, **options)]

    status = echo_status(quiet)
    single = not (library or batch)
    label = "characterize" if single else f"characterize {len(job_list)} designs"
    results = run_batch(
        job_list,
        workers=jobs,
        progress=progress_for(label, quiet),
        on_result=None if single else lambda r: status(f"{'done' if r.ok else 'FAILED'}: {r.job.sources[0]}"),
    )
    failures = [r for r in results if not r.ok]
    if single and failures:
        raise AppMultError(failures[0].error)
    click.echo(_HEADER)
    for result in results:
        if result.ok:
            click.echo(_row(result))
    for result in results:
        if result.ok:
            status(f"wrote {result.output}")
    if failures:
        click.echo(f"{len(failures)} of {len(results)} designs failed:", err=True)
        for result in failures:
            click.echo(f"  {', '.join(map(str, result.job.sources))}: {result.error}", err=True)
        raise SystemExit(1)


def _out_dir(output: Path | None) -> Path:
    directory = output or Path("artifacts")
    if directory.exists() and not directory.is_dir():
        raise ParameterError(f"{directory}: is a file; -o must name a directory with --batch/--library")
    directory.mkdir(parents=True, exist_ok=True)
    return directory
