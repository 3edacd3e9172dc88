"""TFApprox (ehw-fit/tf-approximate, tf2) binary multiplication table.

Exactly 65,536 uint16 values, little-endian, no header (131,072 bytes); entry
``(a << 8) | b`` holds ``AM(a, b)`` with ``a`` the quantised activation and
``b`` the quantised filter value, both unsigned 0..255. The layer always
quantises to 8 bits (``num_bits = 8``), so only unsigned 8x8 multipliers are
accepted; signed or narrower ones are refused rather than embedded. No
gradient tables (the backward pass is the exact Conv2D gradient).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from appmult.core.artifact import Artifact
from appmult.core.errors import ExportError
from appmult.lutgen.exporters.checks import check_range
from appmult.lutgen.exporters.domains import SIZE, UINT8, embed_product, read_block
from appmult.lutgen.exporters.files import atomic_write, read_bytes
from appmult.lutgen.exporters.format import Format, Tables
from appmult.lutgen.exporters.layout import Layout
from appmult.lutgen.exporters.options import ExportOptions, check_options

__all__ = ["FORMAT", "check", "load", "write"]

NAME = "tfapprox"
ENTRY = np.dtype("<u2")
BYTES = SIZE * SIZE * ENTRY.itemsize
_REMEDY = "TFApprox takes unsigned 8x8 multipliers only"


def _check_layout(layout: Layout, *, importing: bool = False, corner: bool = False) -> None:
    if importing and (layout.output_signed or (layout.width_a, layout.width_b) != (8, 8)):
        raise ExportError(
            f"{layout.name}: a TFApprox file holds an unsigned 8x8 table (65,536 entries); import it "
            "with --width-a 8 --width-b 8 and without --signed"
        )
    if layout.output_signed:
        raise ExportError(
            f"{layout.name}: TFApprox indexes unsigned uint8 codes, but a is "
            f"{layout.describe('a')} and b is {layout.describe('b')}; export a signed "
            "multiplier to transaxx, adapt, torchapprox or approxtorch instead"
        )
    narrower = min(layout.width_a, layout.width_b) < 8
    if narrower or (max(layout.width_a, layout.width_b) > 8 and not corner):
        remedy = (
            "export it to approxflow or approxtorch, which embed narrower tables"
            if narrower
            else "pass --corner to write its 0..255 corner, or export the whole table to npz, csv or npy"
        )
        raise ExportError(
            f"{layout.name}: TFApprox quantises both operands to 8 bits, but this multiplier is "
            f"{layout.width_a}x{layout.width_b}; {remedy}"
        )


def _block(artifact: Artifact, options: ExportOptions) -> np.ndarray:
    check_options(options, NAME, frozenset({"corner"}))
    layout = Layout.of(artifact)
    _check_layout(layout, corner=options.corner)
    block = embed_product(artifact.product, layout, UINT8, NAME, _REMEDY, corner=options.corner)
    check_range(block, np.uint16, "product values", artifact.name, _REMEDY)
    return block


def check(artifact: Artifact, options: ExportOptions) -> None:
    """Raise unless ``artifact`` is unsigned 8x8 with values 0..65535."""
    _block(artifact, options)


def write(artifact: Artifact, path: Path, options: ExportOptions) -> list[Path]:
    """Write the 131,072-byte table, index ``(a << 8) | b``."""
    return [atomic_write(path, _block(artifact, options).astype(ENTRY).tobytes())]


def load(
    path: Path, layout: Layout, options: ExportOptions | None = None, *, gradients: bool = True
) -> Tables:
    """Read the first 131,072 bytes as little-endian uint16, as ``LoadLookupTable`` does.

    Fewer bytes is an error; extra bytes are ignored. No gradient tables.
    """
    _check_layout(layout, importing=True)
    data = read_bytes(path, BYTES, prefix=True)
    if len(data) < BYTES:
        raise ExportError(f"{path}: {len(data)} bytes, TFApprox needs {BYTES}")
    block = np.frombuffer(data[:BYTES], dtype=ENTRY).reshape(SIZE, SIZE).astype(np.int64)
    return Tables(product=read_block(block, layout, UINT8, NAME, _REMEDY))


FORMAT = Format(
    name=NAME,
    description="TFApprox binary: 65,536 little-endian uint16, index (a << 8) | b",
    suffix=".bin",
    check=check,
    write=write,
    load=load,
)
