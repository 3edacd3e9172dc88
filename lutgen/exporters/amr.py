"""AppMult-Aware-Retraining (changmg/AppMult-Aware-Retraining) text file.

Layout: ``INFO:`` preamble lines, then three sections, each an exact header
line followed by ``a b value`` lines (a outer, b inner, ascending), with no
blank lines:

1. the forward table, raw unsigned ``AM(a, b)`` in 0..65535 (uint16);
2. ``round(16 * dAM/da)`` as int16;
3. ``round(16 * dAM/db)`` as int16 (round half to even, as ``gen_bp_lut.py``).

Operand ``a`` is the activation and ``b`` the weight; both unsigned n-bit
with n in {4, 6, 7, 8} (the framework's ``QUANTIZATION_BIT``), equal widths.
The gradient group is ``--gradient`` (default ``lut2d``); a separable
``lut1d`` group is expanded to the 2-D tables it stands for. The loader skips lines until the first
header, finds sections with ``startswith`` and places every line by its
(a, b); entries not listed stay 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from appmult.core.artifact import Artifact
from appmult.core.errors import ExportError
from appmult.core.gradient import GradientTable
from appmult.core.version import __version__
from appmult.lutgen.exporters.checks import check_range
from appmult.lutgen.exporters.files import atomic_write, read_text, text_limit
from appmult.lutgen.exporters.format import Format, Tables
from appmult.lutgen.exporters.gradient_groups import gradient_2d
from appmult.lutgen.exporters.layout import Layout
from appmult.lutgen.exporters.options import ExportOptions, check_options
from appmult.lutgen.methods import LUT2D

__all__ = ["FORMAT", "HEADERS", "WIDTHS", "check", "load", "write"]

NAME = "amr"
WIDTHS = (4, 6, 7, 8)
SCALE = 16
DEFAULT_GRADIENT = LUT2D.name
HEADERS = (
    "LUT for approximate multiplier:",
    "LUT for the gradient of the approximate multiplier w.r.t. the first operand:",
    "LUT for the gradient of the approximate multiplier w.r.t. the second operand:",
)
_RANGES = (np.uint16, np.int16, np.int16)


def _check_layout(layout: Layout) -> None:
    if layout.output_signed:
        raise ExportError(
            f"{layout.name}: AppMult-Aware-Retraining takes unsigned operands only, but "
            f"a is {layout.describe('a')} and b is {layout.describe('b')}; export a signed "
            "multiplier to transaxx, adapt, torchapprox or approxtorch instead"
        )
    if layout.width_a != layout.width_b or layout.width_a not in WIDTHS:
        raise ExportError(
            f"{layout.name}: AppMult-Aware-Retraining supports n x n multipliers with n in "
            f"{', '.join(map(str, WIDTHS))} (QUANTIZATION_BIT), not "
            f"{layout.width_a} x {layout.width_b}; characterize a multiplier of one of those widths"
        )


def _sections(artifact: Artifact, options: ExportOptions) -> tuple[str, list[np.ndarray]]:
    """The gradient method and the three int tables [N, N], checked against their dtypes."""
    check_options(options, NAME, frozenset({"gradient"}))
    _check_layout(Layout.of(artifact))
    method = options.gradient or DEFAULT_GRADIENT
    d_a, d_b = gradient_2d(artifact, method, NAME)
    tables = [artifact.product.astype(np.int64)] + [
        np.round(SCALE * np.asarray(g, dtype=np.float64)).astype(np.int64) for g in (d_a, d_b)
    ]
    for header, table, dtype in zip(HEADERS, tables, _RANGES, strict=True):
        check_range(
            table,
            dtype,
            f"values under {header!r}",
            artifact.name,
            "the framework would wrap them; this multiplier cannot be exported to amr",
        )
    return method, tables


def check(artifact: Artifact, options: ExportOptions) -> None:
    """Raise unless ``artifact`` can be written as an AppMult-Aware-Retraining file."""
    _sections(artifact, options)


def write(artifact: Artifact, path: Path, options: ExportOptions) -> list[Path]:
    """Write the forward and gradient tables of ``artifact`` to ``path``."""
    method, tables = _sections(artifact, options)
    a, b = np.meshgrid(artifact.operand_a, artifact.operand_b, indexing="ij")
    pairs = [f"{i} {j} " for i, j in zip(a.ravel().tolist(), b.ravel().tolist(), strict=True)]
    lines = [
        f"INFO: {artifact.name} ({artifact.width_a}x{artifact.width_b} unsigned), "
        f"written by appmult {__version__}",
        f"INFO: gradient tables: {method}, stored as round({SCALE} * gradient)",
    ]
    for header, table in zip(HEADERS, tables, strict=True):
        lines.append(header)
        lines.extend(p + str(v) for p, v in zip(pairs, table.ravel().tolist(), strict=True))
    return [atomic_write(path, "\n".join(lines) + "\n")]


def load(
    path: Path, layout: Layout, options: ExportOptions | None = None, *, gradients: bool = True
) -> Tables:
    """Read a file by the framework's loader rules (``init_lookup_tables``).

    Returns the forward table and, with ``gradients``, the gradient tables
    divided by 16, filed under ``options.gradient`` (default ``lut2d``).
    """
    _check_layout(layout)
    options = options or ExportOptions()
    size = 1 << layout.width_a
    tables = [np.zeros((size, size), dtype=np.int64) for _ in HEADERS]
    section = None
    lines = read_text(path, text_limit(3 * len(HEADERS) * size * size)).splitlines()  # `a b value` lines
    for number, line in enumerate(lines, start=1):
        found = [k for k, header in enumerate(HEADERS) if line.startswith(header)]
        if found:
            section = found[0]
            continue
        if section is None:
            continue
        try:
            a, b, value = (int(item) for item in line.split())
        except ValueError:
            raise ExportError(f"{path}:{number}: expected `a b value`, got {line!r}") from None
        if not (0 <= a < size and 0 <= b < size):
            raise ExportError(f"{path}:{number}: index ({a}, {b}) outside 0..{size - 1}")
        tables[section][a, b] = value
    for header, table, dtype in zip(HEADERS, tables, _RANGES, strict=True):
        check_range(table, dtype, f"values under {header!r}", str(path), "the file is corrupt")
    result = Tables(product=tables[0])
    if gradients:
        method = options.gradient or DEFAULT_GRADIENT
        result.gradients[method] = GradientTable(
            d_a=(tables[1] / SCALE).astype(np.float32), d_b=(tables[2] / SCALE).astype(np.float32)
        )
    return result


FORMAT = Format(
    name=NAME,
    description="AppMult-Aware-Retraining text: forward table and both gradient tables (x16)",
    suffix="_lutfp+bp.txt",
    check=check,
    write=write,
    load=load,
)
