"""Plain numpy ``.npz`` archive of every table with its operand axes (value order).

Arrays: ``operand_a`` int32 [Na] and ``operand_b`` int32 [Nb] (ascending
values), ``product`` int32 [Na, Nb] with ``product[i, j] = AM(a_i, b_j)``
(absent for a wide artifact, which holds no table),
and per gradient group the arrays it is stored as: ``grad_<method>_d_a`` /
``grad_<method>_d_b`` float32 [Na, Nb] for a full table (``lut2d``), or the
factors ``grad_<method>_u_a``, ``_u_b`` [R, Na] and ``_v_a``, ``_v_b`` [R, Nb]
of a separable one (``lut1d``, ``ste``), with
``dAM/da ~ u_a.T @ v_a`` and ``dAM/db ~ u_b.T @ v_b``; plus
``grad_<method>_attrs``, the group's parameters as a JSON string. Any widths
and signedness. ``--gradient`` keeps one group; by default every group the
artifact holds is written.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np

from appmult.core.artifact import Artifact
from appmult.core.errors import ExportError
from appmult.core.gradient import GradientTable, SeparableGradient
from appmult.lutgen.exporters.checks import check_axes
from appmult.lutgen.exporters.files import atomic_write, read_npy_array
from appmult.lutgen.exporters.format import Format, Tables
from appmult.lutgen.exporters.gradient_groups import selected_gradients
from appmult.lutgen.exporters.layout import Layout
from appmult.lutgen.exporters.options import ExportOptions, check_options

__all__ = ["FORMAT", "check", "load", "write"]

NAME = "npz"
_GRADIENT_KEY = re.compile(r"grad_(?P<method>\w+)_(?:d_a|u_a)\Z")
_TABLE = ("d_a", "d_b")
_SEPARABLE = ("u_a", "v_a", "u_b", "v_b")


def _arrays(artifact: Artifact, options: ExportOptions) -> dict[str, np.ndarray]:
    check_options(options, NAME, frozenset({"gradient"}))
    arrays = {"operand_a": artifact.operand_a, "operand_b": artifact.operand_b}
    if artifact.tabulated:
        arrays["product"] = artifact.product
    for method, gradient in selected_gradients(artifact, options, NAME).items():
        labels = _SEPARABLE if isinstance(gradient, SeparableGradient) else _TABLE
        for label in labels:
            arrays[f"grad_{method}_{label}"] = getattr(gradient, label)
        arrays[f"grad_{method}_attrs"] = np.array(json.dumps(gradient.attrs, sort_keys=True))
    return arrays


def check(artifact: Artifact, options: ExportOptions) -> None:
    """Raise only when the ``--gradient`` group is missing; every table fits."""
    _arrays(artifact, options)


def write(artifact: Artifact, path: Path, options: ExportOptions) -> list[Path]:
    """Write the compressed archive."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **_arrays(artifact, options))
    return [atomic_write(path, buffer.getvalue())]


def load(
    path: Path, layout: Layout, options: ExportOptions | None = None, *, gradients: bool = True
) -> Tables:
    """Read the archive; its operand axes must be those of ``layout``.

    Only the arrays needed are read (without ``gradients``: the axes and the
    product), each refused from its header when it is larger than an int64
    table of ``layout``'s shape.
    """
    limit = max(layout.shape[0] * layout.shape[1] * 8, 1 << 16)
    try:
        with zipfile.ZipFile(Path(path)) as archive:
            members = [name for name in archive.namelist() if name.endswith(".npy")]
            arrays = {
                name.removesuffix(".npy"): _member(archive, name, path, limit)
                for name in members
                if gradients or not name.startswith("grad_")
            }
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ExportError(f"{path}: not a readable .npz file ({exc})") from exc
    if "product" not in arrays:
        raise ExportError(f"{path}: no `product` array (the export of a wide artifact holds none)")
    check_axes(path, layout, arrays.get("operand_a"), arrays.get("operand_b"))
    result = Tables(product=arrays["product"].astype(np.int64))
    for method in sorted({m["method"] for m in map(_GRADIENT_KEY.match, arrays) if m}) if gradients else ():
        attrs = json.loads(str(arrays.get(f"grad_{method}_attrs", "{}")))
        if f"grad_{method}_u_a" in arrays:
            factors = [arrays[f"grad_{method}_{label}"] for label in _SEPARABLE]
            result.gradients[method] = SeparableGradient(*factors, attrs=attrs)
        else:
            result.gradients[method] = GradientTable(
                *(arrays[f"grad_{method}_{label}"] for label in _TABLE), attrs
            )
    return result


def _member(archive: zipfile.ZipFile, name: str, path: Path, limit: int) -> np.ndarray:
    with archive.open(name) as handle:
        return read_npy_array(handle, path, name, limit)


FORMAT = Format(
    name=NAME,
    description="numpy .npz: operand axes, product and gradient tables in value order",
    suffix=".npz",
    check=check,
    write=write,
    load=load,
    needs_table=False,
)
