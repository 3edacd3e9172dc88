"""``appmult lutgen``: add STE, LUT-2D and LUT-1D gradient tables to artifacts."""

from __future__ import annotations

from pathlib import Path

import click

from appmult.cli.options import echo_status, quiet_option
from appmult.lutgen import (
    DEFAULT_FORM,
    DEFAULT_RANK,
    FORMS,
    MAX_RANK,
    METHODS,
    add_gradients,
    library_artifacts,
)

__all__ = ["lutgen_command"]


@click.command("lutgen")
@click.argument("artifacts", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--library",
    is_flag=True,
    help="Every built-in design's DIR/<name>.h5 (ARTIFACTS: one DIR, default artifacts/).",
)
@click.option("--hws", type=int, help="LUT-2D half-window for both operands.")
@click.option("--hws-a", type=int, help="LUT-2D half-window along operand a (for dAM/da).")
@click.option("--hws-b", type=int, help="LUT-2D half-window along operand b (for dAM/db).")
@click.option(
    "--lut1d-form",
    type=click.Choice(FORMS),
    default=DEFAULT_FORM,
    show_default=True,
    help="LUT-1D form: the best rank-R separable approximation of LUT-2D, or a "
    "one-operand reduction (mean, lsq, range).",
)
@click.option(
    "--lut1d-rank",
    type=int,
    default=DEFAULT_RANK,
    show_default=True,
    help=f"Terms of the separable LUT-1D form (1..{MAX_RANK}).",
)
@click.option(
    "--methods",
    default=",".join(METHODS),
    show_default=True,
    help="Comma-separated gradient methods to compute.",
)
@quiet_option
def lutgen_command(
    artifacts: tuple[Path, ...],
    library: bool,
    hws: int | None,
    hws_a: int | None,
    hws_b: int | None,
    lut1d_form: str,
    lut1d_rank: int,
    methods: str,
    quiet: bool,
) -> None:
    """Add /grad/{ste,lut2d,lut1d} to each ARTIFACTS file, replacing earlier ones.

    Without --hws, a built-in design uses the manifest's half-window and any
    other artifact max(1, N // 64) per operand (N = 2**width).
    """
    paths = _artifact_paths(artifacts, library)
    if hws is not None:
        if hws_a is not None or hws_b is not None:
            raise click.UsageError("give either --hws or --hws-a/--hws-b, not both")
        hws_a = hws_b = hws
    status = echo_status(quiet)
    for path in paths:
        tables = add_gradients(path, methods, hws_a=hws_a, hws_b=hws_b, form=lut1d_form, rank=lut1d_rank)
        summary = "; ".join(_describe(method, table.attrs) for method, table in tables.items())
        status(f"lutgen {path}: {summary}")


def _artifact_paths(artifacts: tuple[Path, ...], library: bool) -> list[Path]:
    if not library:
        if not artifacts:
            raise click.UsageError("give artifact files, or --library [DIR]")
        return list(artifacts)
    if len(artifacts) > 1:
        raise click.UsageError("--library takes at most one directory")
    return library_artifacts(*artifacts)


def _describe(method: str, attrs: dict[str, object]) -> str:
    params = ", ".join(f"{key}={value}" for key, value in attrs.items())
    return f"{method} ({params})" if params else method
