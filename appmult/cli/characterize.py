"""``appmult characterize``: simulate netlists into artifact files."""

from __future__ import annotations

from pathlib import Path

import click

from appmult.characterize.backends import BACKEND_CHOICES
from appmult.characterize.batch import (
    Done,
    Request,
    characterize_many,
    requests_for_designs,
    requests_for_files,
)
from appmult.characterize.crosscheck import Sample
from appmult.characterize.safety import TRUST_FLAG
from appmult.characterize.signedness import notice as signedness_notice
from appmult.cli.options import (
    echo_status,
    netlist_options,
    progress_for,
    quiet_option,
    replaced_notice,
    report_failures,
    report_interrupted,
    sample_options,
    scheduler_options,
)
from appmult.core.artifact_file import load, save
from appmult.core.atomic import writable_directory, writable_file
from appmult.core.errors import AppMultError, ArtifactError, ParameterError
from appmult.core.executor import Interrupted
from appmult.core.manifest import select_designs

__all__ = ["characterize_command"]

_HEADER = f"{'artifact':<24} {'widths':>7} {'sign':>4} {'ER':>7} {'NMED':>10} {'WCE':>8}"
_COST_HEADER = f" {'cells':>6} {'transistors':>11} {'depth':>5}"
_TAIL = f" {'seconds':>8}  backend"


def _row(done: Done, cost: bool) -> str:
    art = done.artifact
    m = art.metrics
    widths = f"{art.width_a}x{art.width_b}"
    sign = ("s" if art.signed_a else "u") + ("s" if art.signed_b else "u")
    name = done.request.output.stem if done.request.output else art.name
    row = f"{name:<24} {widths:>7} {sign:>4} {m['er']:>7.4f} {m['nmed']:>10.3e} {m['wce']:>8.0f}"
    if cost:
        row += f" {art.cost.cells:>6} {art.cost.transistors:>11} {art.cost.depth:>5}"
    return f"{row} {done.seconds:>8.2f}  {art.simulator}"


@click.command("characterize")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@netlist_options
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
@click.option("--library", is_flag=True, help="Characterize the built-in designs (`appmult list`).")
@click.option("--design", "designs", multiple=True, help="With --library: only these designs (repeatable).")
@click.option("--timeout", type=float, help="Seconds before a simulation is stopped (default: by size).")
@click.option(
    "--stream",
    is_flag=True,
    help="Characterize without a product table, as 13..16-bit operands always are: exact metrics and "
    "summaries over every pair (docs/wide-operands.md).",
)
@sample_options
@click.option(
    TRUST_FLAG,
    "trust",
    is_flag=True,
    help="Skip the refusal of system tasks ($fopen, $readmemh, $system, ...) for a netlist you trust.",
)
@click.option(
    "--cost",
    is_flag=True,
    help="Also synthesize the sources with Yosys and record the hardware cost (see `appmult cost`).",
)
@scheduler_options
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
    timeout: float | None,
    stream: bool,
    sample_pairs: int,
    seed: int,
    trust: bool,
    cost: bool,
    scheduler: str,
    workers: int | None,
    quiet: bool,
) -> None:
    """Exhaustively simulate a multiplier netlist into an HDF5 artifact.

    SOURCES are the Verilog files of one design (top module plus the modules
    it instantiates). With --batch every file, directory or glob is a
    separate design; with --library the built-in designs are characterized.
    Operand a is the top module's first input, b its second. An existing
    artifact is replaced (and said so on stderr).

    Operands of 13..16 bits are characterized by streaming with bitsim, in
    slices spread over the scheduler: exact metrics over every pair and
    summaries, no table; --backend icarus then also checks a seeded sample
    of pairs in Icarus (--sample-pairs, --seed).
    """
    options = {
        "backend": backend,
        "timeout": timeout,
        "trust": trust,
        "cost": cost,
        "stream": stream,
        "sample": Sample(sample_pairs, seed),
    }
    if library:
        if sources or batch or top or name or signed is not None:
            raise ParameterError(
                "--library takes no SOURCES and no --batch, --top, --name or --signed/--unsigned: "
                "each built-in design has its own in the library's manifest"
            )
        requests = requests_for_designs(
            select_designs(designs), writable_directory(output or "artifacts"), **options
        )
    elif batch:
        if top or name or designs:
            raise ParameterError("--top, --name and --design do not apply to --batch")
        requests = requests_for_files(
            sources, writable_directory(output or "artifacts"), signed=signed, **options
        )
    else:
        if not sources:
            raise click.UsageError("give the Verilog files of a design, or --batch/--library")
        if designs:
            raise ParameterError("--design applies to --library only")
        if len(sources) == 1 and sources[0].is_dir():
            raise ParameterError(
                f"{sources[0]}: is a directory; pass --batch to characterize each of its .v files "
                "as its own design, or give the files of one design"
            )
        if output is not None:
            writable_file(output)
        requests = [Request(tuple(sources), output, top=top, signed=signed, name=name, **options)]

    status = echo_status(quiet)
    single = not (library or batch)
    label = "characterize" if single else f"characterize {len(requests)} designs"
    done_list: list[Done] = []
    try:
        for done in characterize_many(
            requests, scheduler=scheduler, workers=workers, progress=progress_for(label, quiet)
        ):
            if done.ok:
                try:
                    _write(done, status)
                except AppMultError as exc:  # this output's disk or folder: the others go on
                    done = Done(done.request, error=str(exc), seconds=done.seconds)
            if not done.ok and not single:
                status(f"FAILED: {done.request.sources[0]}")
            done_list.append(done)
    except Interrupted as exc:
        report_interrupted(exc, "designs")
    failures = [d for d in done_list if not d.ok]
    if single and failures:
        raise AppMultError(failures[0].error)
    click.echo(_HEADER + (_COST_HEADER if cost else "") + _TAIL)
    for done in done_list:
        if done.ok:
            click.echo(_row(done, cost))
    report_failures([(str(d.request.sources[0]), d.error) for d in failures], len(done_list), "designs")


def _write(done: Done, status) -> None:  # noqa: ANN001
    """Write one artifact where its request says; say when it replaced a file, or inferred signedness."""
    art = done.artifact
    path = done.request.output or Path(f"{art.name}.h5")
    dropped = ""
    if path.exists():
        try:
            held = sorted(load(path).gradients)
        except ArtifactError:
            held = []
        dropped = f"its gradient groups {', '.join(held)} are gone; run appmult lutgen again" if held else ""
    notice = replaced_notice(path, dropped)
    save(art, path)
    said = signedness_notice(art.signedness)
    if said is not None and said[0] == "warning":
        click.echo(f"warning: {path}: {said[1]}", err=True)  # shown even with -q
    elif said is not None:
        status(f"note: {path}: {said[1]}")
    status(notice or f"wrote {path}")
