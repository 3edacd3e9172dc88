"""Spreadsheet-friendly CSV: one row per operand pair, value order.

Header ``a,b,product`` followed by ``<method>_d_a,<method>_d_b`` for each
gradient group; rows run over ``a`` (outer) and ``b`` (inner), both by
ascending value, any widths and signedness. Gradients are unscaled (``%.9g``,
exact for float32). A separable group (``lut1d``, ``ste``) is written as
the values its sum takes at each (a, b). ``--gradient``
keeps one group; by default every group the artifact holds is written.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np

from appmult.core.artifact import Artifact
from appmult.core.atomic import replacing
from appmult.core.errors import ExportError
from appmult.core.gradient import GradientTable
from appmult.core.progress import ProgressCallback
from appmult.lutgen.exporters.checks import check_axes
from appmult.lutgen.exporters.files import read_text, text_limit
from appmult.lutgen.exporters.format import ExportWarning, Format, Tables
from appmult.lutgen.exporters.gradient_groups import selected_gradients
from appmult.lutgen.exporters.layout import Layout
from appmult.lutgen.exporters.options import GRADIENT_CHOICES, ExportOptions, check_options

__all__ = ["FORMAT", "check", "load", "write"]

NAME = "csv"
_AXES = ["a", "b", "product"]


#: Rows formatted at a time: the file is written in blocks, so memory stays bounded at 12 bits.
_BLOCK_ROWS = 1 << 16
#: Files larger than this are announced before they are written.
_LARGE_BYTES = 100e6


def _groups(artifact: Artifact, options: ExportOptions) -> dict:
    check_options(options, NAME, frozenset({"gradient"}))
    return selected_gradients(artifact, options, NAME)


def check(artifact: Artifact, options: ExportOptions) -> None:
    """Raise only when the ``--gradient`` group is missing; every table fits."""
    _groups(artifact, options)


def write(
    artifact: Artifact, path: Path, options: ExportOptions, progress: ProgressCallback | None = None
) -> list[Path]:
    """Write the header line and one row per (a, b), a block of rows of a at a time.

    A file of more than 100 MB is announced first (an :class:`ExportWarning`
    with its size); ``progress`` receives the fraction of rows written.
    """
    groups = _groups(artifact, options)
    header = _AXES + [f"{method}_d_{x}" for method in groups for x in "ab"]
    formats = ["%d"] * len(_AXES) + ["%.9g"] * (len(header) - len(_AXES))
    n_a, n_b = artifact.shape
    rows_per_block = max(1, _BLOCK_ROWS // n_b)
    estimate = _estimated_bytes(artifact, groups, formats, rows_per_block)
    if estimate > _LARGE_BYTES:
        warnings.warn(
            ExportWarning(
                f"{artifact.name}: writing about {estimate / 1e9:.1f} GB of CSV ({n_a * n_b:,} rows); "
                "npz holds the same tables in a fraction of that"
            ),
            stacklevel=3,
        )
    with replacing(path, ExportError) as tmp, open(tmp, "w") as handle:
        handle.write(",".join(header) + "\n")
        for start in range(0, n_a, rows_per_block):
            np.savetxt(
                handle, _block(artifact, groups, start, start + rows_per_block), fmt=formats, delimiter=","
            )
            if progress is not None:
                progress(min(1.0, (start + rows_per_block) / n_a))
    return [Path(path)]


def _block(artifact: Artifact, groups: dict, start: int, stop: int) -> np.ndarray:
    """The CSV rows of operand a values ``start:stop``: a, b, product, then each group's d_a, d_b."""
    a, b = np.meshgrid(artifact.operand_a[start:stop], artifact.operand_b, indexing="ij")
    columns = [a, b, artifact.product_rows(start, stop)]
    for gradient in groups.values():
        columns.extend(gradient.rows(start, stop))
    return np.column_stack([np.ravel(column) for column in columns])


def _estimated_bytes(artifact: Artifact, groups: dict, formats: list[str], rows_per_block: int) -> float:
    """The file's size, extrapolated from the first block's text."""
    sample = io.StringIO()
    np.savetxt(sample, _block(artifact, groups, 0, 1), fmt=formats, delimiter=",")
    return len(sample.getvalue()) * artifact.shape[0]


def load(
    path: Path, layout: Layout, options: ExportOptions | None = None, *, gradients: bool = True
) -> Tables:
    """Read the CSV back; its ``a`` and ``b`` columns must be those of ``layout``."""
    columns = len(_AXES) + 2 * len(GRADIENT_CHOICES)
    text = read_text(path, text_limit((layout.shape[0] * layout.shape[1] + 1) * columns))
    header = text.partition("\n")[0].strip().split(",")
    methods = [name[: -len("_d_a")] for name in header if name.endswith("_d_a")]
    expected = _AXES + [f"{m}_d_{x}" for m in methods for x in "ab"]
    if header != expected or not set(methods) <= set(GRADIENT_CHOICES):
        raise ExportError(f"{path}: header {header} is not a,b,product[,<method>_d_a,_d_b...]")
    try:
        data = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1, ndmin=2)
    except ValueError as exc:
        raise ExportError(f"{path}: not a numeric table ({exc})") from exc
    shape = layout.shape
    if data.shape != (shape[0] * shape[1], len(header)):
        raise ExportError(f"{path}: {data.shape[0]} rows, expected {shape[0] * shape[1]}")
    table = {name: data[:, k].reshape(shape) for k, name in enumerate(header)}
    check_axes(path, layout, table["a"][:, 0], table["b"][0, :])
    result = Tables(product=table["product"].astype(np.int64))
    for method in methods if gradients else ():
        d_a, d_b = table[f"{method}_d_a"], table[f"{method}_d_b"]
        result.gradients[method] = GradientTable(d_a=d_a.astype(np.float32), d_b=d_b.astype(np.float32))
    return result


FORMAT = Format(
    name=NAME,
    description="CSV: one row per (a, b) with product and gradient columns, value order",
    suffix=".csv",
    check=check,
    write=write,
    load=load,
    streams=True,
)
