"""Writers and readers for the files retraining frameworks load (see formats.md).

:data:`FORMATS` maps a format name to its :class:`Format` (``check``,
``write``, ``load``); it feeds the ``--to`` and ``--format`` choices of
``appmult export`` and ``appmult import``. Exporters permute the
value-ordered tables of an artifact into each target's index convention and
never recompute gradients; each refuses what its target cannot represent
with :class:`~appmult.core.errors.ExportError`, and reports caveats as
:class:`ExportWarning` (never printing).

=============== ================================================================
``amr``          AppMult-Aware-Retraining text, forward + x16 gradient tables
``transaxx``     TransAxx CUDA header, ``const __device__ int16_t lut[256][256]``
``adapt``        AdaPT C++ header, ``const int16_t lut[256][256]``
``tfapprox``     TFApprox binary, 65,536 little-endian uint16
``torchapprox``  TorchApprox ``.npy`` int32 (256, 256), bit-pattern order
``approxtorch``  ApproxTorch text table plus custom/lre gradient files
``approxflow``   ApproxFlow text, 256 lines of 256 unsigned integers
``npz``          numpy archive of every table with its operand axes
``csv``          one row per operand pair with every table
``npy``          plain ``.npy`` product table in value order
``cfactors``     C header of the separable (LUT-1D) gradient factors, no table
=============== ================================================================
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from appmult.core.artifact import Artifact
from appmult.core.errors import ExportError, ParameterError
from appmult.core.operands import check_width
from appmult.core.progress import ProgressCallback
from appmult.lutgen.exporters import (
    amr,
    approxflow,
    approxtorch,
    cfactors,
    cheader,
    csv,
    npy,
    npz,
    tfapprox,
    torchapprox,
)
from appmult.lutgen.exporters.files import default_filename
from appmult.lutgen.exporters.format import AsymmetryWarning, ExportWarning, Format, Tables
from appmult.lutgen.exporters.layout import Layout
from appmult.lutgen.exporters.options import GRADIENT_CHOICES, ExportOptions

__all__ = [
    "FORMATS",
    "GRADIENT_CHOICES",
    "AsymmetryWarning",
    "ExportOptions",
    "ExportWarning",
    "Format",
    "Layout",
    "Tables",
    "default_output",
    "export",
    "get_format",
    "import_artifact",
    "read_tables",
]

FORMATS: dict[str, Format] = {
    fmt.name: fmt
    for fmt in (
        amr.FORMAT,
        cheader.TRANSAXX,
        cheader.ADAPT,
        tfapprox.FORMAT,
        torchapprox.FORMAT,
        approxtorch.FORMAT,
        approxflow.FORMAT,
        npz.FORMAT,
        csv.FORMAT,
        npy.FORMAT,
        cfactors.FORMAT,
    )
}


def get_format(name: str) -> Format:
    """The registered format ``name``; :class:`ParameterError` listing valid names otherwise."""
    try:
        return FORMATS[name]
    except KeyError:
        raise ParameterError(f"unknown format {name!r}; valid formats: {', '.join(FORMATS)}") from None


def default_output(artifact: Artifact, fmt: str, directory: str | os.PathLike = ".") -> Path:
    """``directory/<name><suffix>``, the name made a C identifier (as headers need)."""
    return Path(directory) / default_filename(artifact.name, get_format(fmt).suffix)


def export(
    artifact: Artifact,
    fmt: str,
    path: str | os.PathLike,
    options: ExportOptions | None = None,
    progress: ProgressCallback | None = None,
) -> list[Path]:
    """Write ``artifact`` as format ``fmt`` to ``path``; return the files written.

    Raises :class:`ExportError` or :class:`ParameterError` (nothing written)
    when the target cannot represent the artifact or an option does not
    apply, and :class:`ArtifactError` when the format needs the product table
    that a wide artifact does not hold; emits :class:`ExportWarning` for caveats. ``progress`` receives
    the fraction written, from the formats that write large files in parts.
    """
    target = get_format(fmt)
    if target.needs_table:
        without = ", ".join(name for name, other in FORMATS.items() if not other.needs_table)
        artifact.require_table(f"the {fmt} export", f"export its gradient factors with --to {without}")
    streaming = {"progress": progress} if target.streams else {}
    return target.write(artifact, Path(path), options or ExportOptions(), **streaming)


def read_tables(
    path: str | os.PathLike,
    fmt: str,
    layout: Layout,
    options: ExportOptions | None = None,
    *,
    gradients: bool = True,
) -> Tables:
    """Read a file of format ``fmt`` by that target's loader rules, in value order."""
    return get_format(fmt).load(Path(path), layout, options or ExportOptions(), gradients=gradients)


def _output_width(product: np.ndarray, layout: Layout, path: Path) -> int:
    """Output bits: ``width_a + width_b``, more if the table's values need them."""
    low, high = int(product.min()), int(product.max())
    if low < 0 and not layout.output_signed:
        raise ExportError(
            f"{path}: the table holds negative products ({low}) but the operands were given as "
            "unsigned; pass --signed if they are two's complement"
        )
    needed = max(high.bit_length(), (-low - 1).bit_length() if low < 0 else 0) + int(layout.output_signed)
    return max(layout.width_a + layout.width_b, needed)


def import_artifact(
    path: str | os.PathLike,
    fmt: str,
    *,
    width_a: int,
    width_b: int,
    signed: bool = False,
    name: str | None = None,
    options: ExportOptions | None = None,
) -> Artifact:
    """Build an artifact from a product table produced elsewhere.

    The table is read by ``fmt``'s loader (gradient files are ignored);
    operand ``a`` is the table's row operand (the activation), ``b`` the
    column operand, both signed (two's complement) when ``signed``. Metrics
    are computed; provenance records ``imported from <path> (<fmt>)`` and the
    file's SHA-256. ``name`` defaults to the file stem. Run ``appmult
    lutgen`` on the saved artifact for its gradients.
    """
    path = Path(path)
    name = name or path.stem
    check_width(width_a, "operand a (--width-a)")
    check_width(width_b, "operand b (--width-b)")
    layout = Layout(name, width_a, width_b, signed, signed)
    tables = read_tables(path, fmt, layout, options, gradients=False)
    if tables.product is None:
        raise ExportError(f"{path}: a {fmt} file holds no product table to import")
    return Artifact.from_sources(
        [path],
        name=name,
        top="",
        width_a=width_a,
        width_b=width_b,
        width_out=_output_width(tables.product, layout, path),
        signed_a=signed,
        signed_b=signed,
        product=tables.product,
        simulator=f"imported from {path} ({fmt})",
    )
