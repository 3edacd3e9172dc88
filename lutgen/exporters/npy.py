"""Plain ``.npy`` product table in value order.

An integer array of shape [2**width_a, 2**width_b] with
``table[i, j] = AM(a_i, b_j)``, rows and columns by ascending operand value
(for unsigned operands this is the usual "unsigned order" 256 x 256 array;
signed axes start at -2**(n-1)). Written as int32; any widths and
signedness. No gradient tables. For a table in TorchApprox's bit-pattern
order use the ``torchapprox`` format instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from appmult.core.artifact import Artifact
from appmult.lutgen.exporters.files import atomic_write, npy_bytes, read_npy
from appmult.lutgen.exporters.format import Format, Tables
from appmult.lutgen.exporters.layout import Layout
from appmult.lutgen.exporters.options import ExportOptions, check_options

__all__ = ["FORMAT", "check", "load", "write"]

NAME = "npy"


def check(artifact: Artifact, options: ExportOptions) -> None:
    """Every product table fits; only options the format does not take are refused."""
    check_options(options, NAME, frozenset())


def write(artifact: Artifact, path: Path, options: ExportOptions) -> list[Path]:
    """Write the int32 product table."""
    check(artifact, options)
    return [atomic_write(path, npy_bytes(artifact.product.astype(np.int32)))]


def load(
    path: Path, layout: Layout, options: ExportOptions | None = None, *, gradients: bool = True
) -> Tables:
    """Read an integer array of exactly ``layout.shape``."""
    return Tables(product=read_npy(path, layout.shape))


FORMAT = Format(
    name=NAME,
    description="plain .npy integer product table in value order (any widths)",
    suffix=".npy",
    check=check,
    write=write,
    load=load,
)
