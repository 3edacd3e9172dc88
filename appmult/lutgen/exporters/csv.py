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
from pathlib import Path

import numpy as np

from appmult.core.artifact import Artifact, GradientTable
from appmult.core.errors import ExportError
from appmult.lutgen.exporters.checks import check_axes
from appmult.lutgen.exporters.files import atomic_write, read_text
from appmult.lutgen.exporters.format import Format, Tables
from appmult.lutgen.exporters.gradient_groups import selected_gradients
from appmult.lutgen.exporters.layout import Layout
from appmult.lutgen.exporters.options import GRADIENT_CHOICES, ExportOptions, check_options

__all__ = ["FORMAT", "check", "load", "write"]

NAME = "csv"
_AXES = ["a", "b", "product"]


def _columns(artifact: Artifact, options: ExportOptions) -> dict[str, np.ndarray]:
    check_options(options, NAME, frozenset({"gradient"}))
    a, b = np.meshgrid(artifact.operand_a, artifact.operand_b, indexing="ij")
    columns = dict(zip(_AXES, (a, b, artifact.product), strict=True))
    for method, table in selected_gradients(artifact, options, NAME).items():
        columns[f"{method}_d_a"], columns[f"{method}_d_b"] = table.d_a, table.d_b
    return {name: np.ravel(values) for name, values in columns.items()}


def check(artifact: Artifact, options: ExportOptions) -> None:
    """Raise only when the ``--gradient`` group is missing; every table fits."""
    _columns(artifact, options)


def write(artifact: Artifact, path: Path, options: ExportOptions) -> list[Path]:
    """Write the header line and one row per (a, b)."""
    columns = _columns(artifact, options)
    buffer = io.StringIO()
    buffer.write(",".join(columns) + "\n")
    formats = ["%d"] * len(_AXES) + ["%.9g"] * (len(columns) - len(_AXES))
    np.savetxt(buffer, np.column_stack(list(columns.values())), fmt=formats, delimiter=",")
    return [atomic_write(path, buffer.getvalue())]


def load(
    path: Path, layout: Layout, options: ExportOptions | None = None, *, gradients: bool = True
) -> Tables:
    """Read the CSV back; its ``a`` and ``b`` columns must be those of ``layout``."""
    text = read_text(path)
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
)
