"""``appmult list`` and ``appmult info``: show the built-in designs and what an artifact holds."""

from __future__ import annotations

from pathlib import Path

import click

from appmult.core.artifact import load
from appmult.core.manifest import load_manifest
from appmult.core.metrics import METRIC_NAMES

__all__ = ["info_command", "list_command"]


@click.command("list")
def list_command() -> None:
    """List the built-in designs of appmult/rtl/manifest.toml."""
    designs = load_manifest()
    header = f"{'name':<22} {'widths':>7} {'sign':>4} {'family':<14} {'hws':>5}  top"
    click.echo(header)
    for d in designs:
        widths = f"{d.width_a}x{d.width_b}"
        hws = f"{d.hws_a}" if d.hws_a == d.hws_b else f"{d.hws_a},{d.hws_b}"
        sign = "s" if d.signed else "u"
        click.echo(f"{d.name:<22} {widths:>7} {sign:>4} {d.family:<14} {hws:>5}  {d.top}")


@click.command("info")
@click.argument("artifact", type=click.Path(path_type=Path))
def info_command(artifact: Path) -> None:
    """Print what an artifact file holds: header, metrics and gradient groups."""
    art = load(artifact)
    sign = {True: "signed", False: "unsigned"}
    click.echo(f"file          {artifact}")
    click.echo(f"name          {art.name}")
    click.echo(f"top           {art.top}")
    click.echo(
        f"operands      a: {art.width_a}-bit {sign[art.signed_a]} "
        f"[{art.operand_a[0]}..{art.operand_a[-1]}], b: {art.width_b}-bit "
        f"{sign[art.signed_b]} [{art.operand_b[0]}..{art.operand_b[-1]}]"
    )
    click.echo(f"output        {art.width_out} bits, read as {sign[art.output_signed]}")
    low, high = art.product.min(), art.product.max()
    click.echo(f"product       int32 {art.product.shape}, range {low}..{high}")
    click.echo(f"simulator     {art.simulator}")
    click.echo(f"sources       {', '.join(art.source_files) or '-'}")
    for path, digest in zip(art.source_files, art.source_sha256, strict=False):
        click.echo(f"  sha256      {digest}  {Path(path).name}")
    click.echo(f"created       {art.created_utc} by appmult {art.tool_version}")
    click.echo("metrics")
    for key in METRIC_NAMES:
        click.echo(f"  {key:<11} {art.metrics[key]:.6g}")
    if not art.gradients:
        click.echo("gradients     none (run `appmult lutgen`)")
    for method, table in art.gradients.items():
        params = ", ".join(f"{k}={v}" for k, v in sorted(table.attrs.items())) or "-"
        click.echo(f"grad/{method:<8} d_a {tuple(table.d_a.shape)}, d_b {tuple(table.d_b.shape)}; {params}")
