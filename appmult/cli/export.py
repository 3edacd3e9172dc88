"""``appmult export`` and ``appmult import``: framework files to and from artifacts."""

from __future__ import annotations

import warnings
from pathlib import Path

import click

from appmult.cli.options import echo_status, progress_for, quiet_option, replaced_notice
from appmult.core.artifact_file import load, save
from appmult.core.atomic import writable_file
from appmult.lutgen.exporters import (
    FORMATS,
    GRADIENT_CHOICES,
    ExportOptions,
    default_output,
    export,
    import_artifact,
)
from appmult.lutgen.methods import LUT1D, LUT2D

__all__ = ["export_command", "import_command"]

_FORMATS_EPILOG = "\b\nFormats:\n" + "\n".join(
    f"  {name:<12} {fmt.description}" for name, fmt in FORMATS.items()
)


@click.command("export", epilog=_FORMATS_EPILOG)
@click.argument("artifact", type=click.Path(path_type=Path))
@click.option(
    "--to", "fmt", required=True, type=click.Choice(list(FORMATS)), help="Target format (listed below)."
)
@click.option(
    "--gradient",
    type=click.Choice(GRADIENT_CHOICES),
    help=f"Gradient group for amr and approxtorch (default {LUT2D.name}; a separable {LUT1D.name} is "
    "expanded to 2-D), or the one group for npz and csv (default: all).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Output file (default: next to ARTIFACT, named <name><suffix>).",
)
@click.option(
    "--transpose",
    is_flag=True,
    help="transaxx, adapt, torchapprox: write lut[w][act] = AM(act, w) for Conv2d layers.",
)
@click.option(
    "--sign-magnitude",
    is_flag=True,
    help="transaxx, adapt, torchapprox: map an unsigned multiplier onto int8 operands "
    "as sign(x)*sign(y)*AM(|x|, |y|).",
)
@click.option(
    "--qtype",
    type=click.Choice(["int8", "uint8"]),
    help="approxtorch: table mode (default int8 for signed operands, else uint8).",
)
@click.option(
    "--approxtorch-grad",
    type=click.Choice(["custom", "lre", "none"]),
    help=f"approxtorch: gradient files to write (default custom; lre uses the {LUT1D.name} group).",
)
@click.option(
    "--corner",
    is_flag=True,
    help="A table wider than an 8-bit target: write only the part it can index (said in the file "
    "and on stderr); without it such a table is refused.",
)
@quiet_option
def export_command(
    artifact: Path,
    fmt: str,
    gradient: str | None,
    output: Path | None,
    transpose: bool,
    sign_magnitude: bool,
    qtype: str | None,
    approxtorch_grad: str | None,
    corner: bool,
    quiet: bool,
) -> None:
    """Write ARTIFACT in the format a retraining framework loads; print the files written.

    An existing file is replaced, and said so on stderr.
    """
    art = load(artifact)
    options = ExportOptions(
        gradient=gradient,
        transpose=transpose,
        sign_magnitude=sign_magnitude,
        qtype=qtype,
        approxtorch_grad=approxtorch_grad,
        corner=corner,
    )
    target = writable_file(output or default_output(art, fmt, artifact.parent))
    existed = set(target.parent.iterdir())
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *_args, **_kwargs: click.echo(f"warning: {message}", err=True)
        written = export(art, fmt, target, options, progress=progress_for(f"export {fmt}", quiet))
    status = echo_status(quiet)
    for path in written:
        if path in existed:
            status(f"replaced {path}")
        click.echo(str(path))


@click.command("import")
@click.argument("table", type=click.Path(path_type=Path))
@click.option("--format", "fmt", required=True, type=click.Choice(list(FORMATS)), help="Format of TABLE.")
@click.option("--width-a", type=int, required=True, help="Bits of operand a (rows, the activation).")
@click.option("--width-b", type=int, required=True, help="Bits of operand b (columns, the weight).")
@click.option("--signed", is_flag=True, help="Both operands are two's complement.")
@click.option("--name", help="Artifact name (default: the file stem of TABLE).")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Artifact file (default ./<name>.h5).",
)
@quiet_option
def import_command(
    table: Path,
    fmt: str,
    width_a: int,
    width_b: int,
    signed: bool,
    name: str | None,
    output: Path | None,
    quiet: bool,
) -> None:
    """Build an artifact from a product TABLE made elsewhere; run `appmult lutgen` on it next.

    An existing artifact is replaced, and said so on stderr.
    """
    if output is not None:
        writable_file(output)
    art = import_artifact(table, fmt, width_a=width_a, width_b=width_b, signed=signed, name=name)
    target = writable_file(output or Path(f"{art.name}.h5"))
    notice = replaced_notice(target)
    click.echo(str(save(art, target)))
    if notice:
        echo_status(quiet)(notice)
