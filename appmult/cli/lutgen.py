"""``appmult lutgen``: add gradient tables (the methods of :mod:`appmult.lutgen.methods`) to artifacts."""

from __future__ import annotations

from pathlib import Path

import click

from appmult.characterize.rows import netlist_rows
from appmult.cli.options import (
    echo_status,
    gradient_options,
    gradient_parameters,
    progress_for,
    quiet_option,
    report_failures,
    report_interrupted,
    scheduler_options,
)
from appmult.core.errors import AppMultError
from appmult.core.executor import Interrupted
from appmult.lutgen import NAMES, library_artifacts
from appmult.lutgen.diagnostics import DIAGNOSTIC_ATTRS, NOISE_DEVIATION
from appmult.lutgen.gradients import add_gradients_many

__all__ = ["lutgen_command"]


@click.command("lutgen")
@click.argument("artifacts", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--library",
    is_flag=True,
    help="Every built-in design's DIR/<name>.h5 (ARTIFACTS: one DIR, default artifacts/).",
)
@gradient_options
@click.option(
    "--methods",
    default=",".join(NAMES),
    show_default=True,
    help="Comma-separated gradient methods to compute.",
)
@click.option(
    "--sources",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Verilog files of wide (13..16-bit) artifacts, which hold no table: their LUT-1D re-evaluates "
    "the netlist (each artifact takes the files whose SHA-256 it records). Repeatable.",
)
@scheduler_options
@quiet_option
def lutgen_command(
    artifacts: tuple[Path, ...],
    library: bool,
    hws: int | str | None,
    hws_a: int | str | None,
    hws_b: int | str | None,
    lut1d_form: str,
    lut1d_rank: int,
    lut2d_window: str,
    methods: str,
    sources: tuple[Path, ...],
    scheduler: str,
    workers: int | None,
    quiet: bool,
) -> None:
    """Add the gradient groups /grad/METHOD to each ARTIFACTS file, replacing earlier ones.

    Without --hws, a built-in design uses the manifest's half-window and any
    other artifact the power of two nearest sqrt(MED), its own mean |error|,
    within 2 .. N/8 per operand (N = 2**width; 2 for an exact multiplier). A
    table that deviates from STE by more than 0.5 is reported as noise on
    stderr. A file that fails is listed at the end; the others are written.
    A wide artifact gets STE and LUT-1D only, computed by passes over its
    netlist (--sources).
    """
    paths = _artifact_paths(artifacts, library)
    parameters = gradient_parameters(hws, hws_a, hws_b, lut1d_form, lut1d_rank, lut2d_window)
    status = echo_status(quiet)
    failures = []
    runs = add_gradients_many(
        paths,
        methods,
        parameters,
        scheduler=scheduler,
        workers=workers,
        progress=progress_for(f"lutgen {len(paths)} artifacts", quiet) if len(paths) > 1 else None,
        rows_for=(lambda artifact: netlist_rows(artifact, sources)) if sources else None,
    )
    try:
        for path, groups, error in runs:
            if error is not None:
                failures.append((str(path), error))
                continue
            summary = "; ".join(_describe(method, group.attrs) for method, group in groups.items())
            status(f"lutgen {path}: {summary}")
            for method, group in groups.items():
                if group.attrs.get("looks_like_noise"):
                    click.echo(f"warning: {path}: {_noise_warning(method, group.attrs)}", err=True)
    except Interrupted as exc:
        report_interrupted(exc, "artifacts")
    if len(paths) == 1 and failures:
        raise AppMultError(failures[0][1])
    report_failures(failures, len(paths), "artifacts")


def _artifact_paths(artifacts: tuple[Path, ...], library: bool) -> list[Path]:
    if not library:
        if not artifacts:
            raise click.UsageError("give artifact files, or --library [DIR]")
        return list(artifacts)
    if len(artifacts) > 1:
        raise click.UsageError("--library takes at most one directory")
    return library_artifacts(*artifacts)


def _describe(method: str, attrs: dict[str, object]) -> str:
    shown = {key: value for key, value in attrs.items() if key not in DIAGNOSTIC_ATTRS}
    params = ", ".join(f"{key}={value}" for key, value in shown.items())
    return f"{method} ({params})" if params else method


def _noise_warning(method: str, attrs: dict[str, object]) -> str:
    deviation = max(float(attrs["deviation_a"]), float(attrs["deviation_b"]))
    return (
        f"/grad/{method} looks like noise (it deviates from STE by {deviation:.2f}, above "
        f"{NOISE_DEVIATION}, at h={attrs.get('hws_a')},{attrs.get('hws_b')}); it can retrain worse than STE: "
        "run `appmult tune-hws` on the artifact to choose h (or STE), or give a larger --hws"
        + ("" if attrs.get("window") else ", or --lut2d-window adaptive")
    )
