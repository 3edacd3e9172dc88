"""ApproxFlow (FDU-ME-ARC/ApproxFlow) text table.

256 lines of 256 space-separated non-negative integers; row ``a`` and
column ``b`` are unsigned operand values 0..255, ``row a, col b = AM(a, b)``.
Unsigned operands only; a table narrower than 8 bits fills rows and columns
0..2**n - 1 and leaves the rest 0. No gradient tables (inference only).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from appmult.core.artifact import Artifact
from appmult.lutgen.exporters.checks import check_range
from appmult.lutgen.exporters.domains import SIZE, UINT8, embed_product, read_block
from appmult.lutgen.exporters.files import atomic_write, matrix_text, read_matrix
from appmult.lutgen.exporters.format import Format, Tables
from appmult.lutgen.exporters.layout import Layout
from appmult.lutgen.exporters.options import ExportOptions, check_options

__all__ = ["FORMAT", "check", "load", "write"]

NAME = "approxflow"
_REMEDY = (
    "ApproxFlow takes unsigned operands of up to 8 bits; export a signed multiplier to "
    "transaxx, adapt, torchapprox or approxtorch instead"
)


def _block(artifact: Artifact, options: ExportOptions) -> np.ndarray:
    check_options(options, NAME, frozenset({"corner"}))
    block = embed_product(artifact.product, Layout.of(artifact), UINT8, NAME, _REMEDY, corner=options.corner)
    check_range(block, np.uint32, "product values", artifact.name, _REMEDY)
    return block


def check(artifact: Artifact, options: ExportOptions) -> None:
    """Raise unless both operands are unsigned of at most 8 bits."""
    _block(artifact, options)


def write(artifact: Artifact, path: Path, options: ExportOptions) -> list[Path]:
    """Write 256 lines of 256 integers."""
    return [atomic_write(path, matrix_text(_block(artifact, options), "%d"))]


def load(
    path: Path, layout: Layout, options: ExportOptions | None = None, *, gradients: bool = True
) -> Tables:
    """Read 256 x 256 whitespace-separated integers, row = a, column = b."""
    block = read_matrix(path, (SIZE, SIZE), np.int64)
    return Tables(product=read_block(block, layout, UINT8, NAME, _REMEDY))


FORMAT = Format(
    name=NAME,
    description="ApproxFlow text: 256 lines of 256 unsigned integers, row a, column b",
    suffix="_approxflow.txt",
    check=check,
    write=write,
    load=load,
)
