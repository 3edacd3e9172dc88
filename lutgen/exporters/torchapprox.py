"""TorchApprox (etrommer/torch-approx) table as a ``.npy`` file.

TorchApprox reads no file: the user assigns ``module.lut = np.load(path)``.
The file is int32 (256, 256) in raw int8 bit-pattern order,
``lut[u8(x)][u8(y)] = AM(x, y)`` with ``u8(v) = v & 0xFF``; ``ApproxGeMM``
(Linear) uses ``x = act, y = w``, convolutions ``x = w, y = act``. Same
operand rules, narrow embedding, ``--transpose`` and ``--sign-magnitude`` as
the TransAxx/AdaPT headers (:mod:`appmult.lutgen.exporters.cheader`); values are
int32, so every product fits. No gradient tables (STE backward).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from appmult.core.artifact import Artifact
from appmult.lutgen.exporters.domains import INT8_BITS, SIZE, read_block
from appmult.lutgen.exporters.files import atomic_write, npy_bytes, read_npy
from appmult.lutgen.exporters.format import Format, Tables
from appmult.lutgen.exporters.int8_block import int8_bit_pattern_block
from appmult.lutgen.exporters.layout import Layout
from appmult.lutgen.exporters.options import ExportOptions

__all__ = ["FORMAT", "check", "load", "write"]

NAME = "torchapprox"


def check(artifact: Artifact, options: ExportOptions) -> None:
    """Raise unless ``artifact`` fits a signed int8 (256, 256) table."""
    int8_bit_pattern_block(artifact, options, NAME, np.int32)  # raises what write would


def write(artifact: Artifact, path: Path, options: ExportOptions) -> list[Path]:
    """Write the int32 (256, 256) ``.npy`` table."""
    block, _ = int8_bit_pattern_block(artifact, options, NAME, np.int32)  # a .npy has no header
    return [atomic_write(path, npy_bytes(block.astype(np.int32)))]


def load(
    path: Path, layout: Layout, options: ExportOptions | None = None, *, gradients: bool = True
) -> Tables:
    """Read an integer (256, 256) ``.npy`` table (the ``lut`` setter's rules).

    ``options.transpose`` reads a convolution-oriented table. No gradient tables.
    """
    options = options or ExportOptions()
    product = read_block(
        read_npy(path, (SIZE, SIZE)),
        layout,
        INT8_BITS,
        NAME,
        "the table is indexed by int8 operands (pass --signed)",
        transpose=options.transpose,
    )
    return Tables(product=product)


FORMAT = Format(
    name=NAME,
    description="TorchApprox: .npy int32 (256, 256) in int8 bit-pattern order",
    suffix="_torchapprox.npy",  # not <name>.npy, which the npy format writes in value order
    check=check,
    write=write,
    load=load,
)
