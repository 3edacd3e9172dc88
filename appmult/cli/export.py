"""``appmult export`` and ``appmult import``: framework files to and from artifacts."""

from __future__ import annotations

import warnings
from pathlib import Path

import click

from appmult.core.artifact import load, save
from appmult.core.errors import ParameterError
from appmult.lutgen.exporters import (
    FORMATS,
    GRADIENT_CHOICES,
    ExportOptions,
    default_output,
    export,
    import_artifact,
)

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
    help="Gradient group for amr and approxtorch (default lut2d; a separable lut1d is expanded to 2-D), "
    "or the one group for npz and csv (default: all).",
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
    help="approxtorch: gradient files to write (default custom; lre uses the lut1d group).",
)
def export_command(
    artifact: Path,
    fmt: str,
    gradient: str | None,
    output: Path | None,
    transpose: bool,
    sign_magnitude: bool,
    qtype: str | None,
    approxtorch_grad: str | None,
) -> None:
    """Write ARTIFACT in the format a retraining framework loads; print the files written."""
    art = load(artifact)
    options = ExportOptions(
        gradient=gradient,
        transpose=transpose,
        sign_magnitude=sign_magnitude,
        qtype=qtype,
        approxtorch_grad=approxtorch_grad,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        written = export(art, fmt, output or default_output(art, fmt, artifact.parent), options)
    for warning in caught:
        click.echo(f"warning: {warning.message}", err=True)
    for path in written:
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
@click.option("--force", is_flag=True, help="Replace an existing artifact file.")
def import_command(
    table: Path,
    fmt: str,
    width_a: int,
    width_b: int,
    signed: bool,
    name: str | None,
    output: Path | None,
    force: bool,
) -> None:
    """Build an artifact from a product TABLE made elsewhere; run `appmult lutgen` on it next."""
    art = import_artifact(table, fmt, width_a=width_a, width_b=width_b, signed=signed, name=name)
    target = output or Path(f"{art.name}.h5")
    if target.exists() and not force:
        raise ParameterError(f"{target}: already exists; pass --force to replace it or choose another -o")
    click.echo(str(save(art, target)))
