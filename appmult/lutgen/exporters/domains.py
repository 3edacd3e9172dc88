"""Index domains of 256-entry targets, and embedding value-ordered tables into them.

An artifact holds value-ordered tables ``P[i, j] = AM(a_i, b_j)``: operand
``a`` (the activation) on rows, ``b`` (the weight) on columns, both ascending
by numeric value. A 256x256 target reaches an operand value ``v`` through the
index rule of its :class:`Domain`:

``INT8_BITS``
    raw two's-complement bit pattern, ``u8(v) = v & 0xFF``: 0..127 hold
    values 0..127, 128..255 hold -128..-1 (TransAxx, AdaPT, TorchApprox).
``INT8_VALUES``
    value order, ``v + 128`` (ApproxTorch int8 mode).
``UINT8``
    ``v`` itself, 0..255 (TFApprox, ApproxFlow, ApproxTorch uint8 mode).

Narrower tables: every operand value must be a value of the target's domain
(a signed 4-bit operand -8..7 or an unsigned 7-bit one 0..127 fits int8; an
unsigned 8-bit one does not). Each value's row or column goes to the index of
that value, so ``lut[u8(-1)] = lut[255]`` holds ``a = -1`` whatever the width;
entries no operand value reaches are 0. A framework quantising to the
narrower range then reads the right entries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from appmult.core.errors import ExportError
from appmult.lutgen.exporters.layout import Layout

__all__ = [
    "Domain",
    "INT8_BITS",
    "INT8_VALUES",
    "SIZE",
    "UINT8",
    "check_operands",
    "embed",
    "embed_product",
    "extract",
    "read_block",
]

SIZE = 256


@dataclass(frozen=True)
class Domain:
    """How a 256-entry target axis indexes operand values ``low..high``."""

    label: str
    low: int
    high: int
    index: Callable[[np.ndarray], np.ndarray]


INT8_BITS = Domain("int8 bit patterns", -128, 127, lambda v: v & 0xFF)


INT8_VALUES = Domain("int8 in value order", -128, 127, lambda v: v + 128)


UINT8 = Domain("uint8", 0, 255, lambda v: v)


def check_operands(layout: Layout, domain: Domain, fmt: str, remedy: str) -> None:
    """Raise :class:`ExportError` unless every operand value lies in ``domain``."""
    for operand, values in (("a", layout.operand_a), ("b", layout.operand_b)):
        if values[0] < domain.low or values[-1] > domain.high:
            raise ExportError(
                f"{layout.name}: {fmt} indexes operands as {domain.label} "
                f"({domain.low}..{domain.high}), but operand {operand} is "
                f"{layout.describe(operand)}; {remedy}"
            )


def embed(table: np.ndarray, axes: tuple[np.ndarray, ...], domain: Domain) -> np.ndarray:
    """Scatter a value-ordered table into a 256 (or 256x256) block; other entries 0.

    ``axes`` gives the operand values along each dimension of ``table``.
    """
    table = np.asarray(table)
    block = np.zeros((SIZE,) * len(axes), dtype=table.dtype)
    block[np.ix_(*(domain.index(np.asarray(v, dtype=np.int64)) for v in axes))] = table
    return block


def extract(block: np.ndarray, axes: tuple[np.ndarray, ...], domain: Domain) -> np.ndarray:
    """Inverse of :func:`embed`: the value-ordered table at ``axes``."""
    return block[np.ix_(*(domain.index(np.asarray(v, dtype=np.int64)) for v in axes))]


def embed_product(
    table: np.ndarray,
    layout: Layout,
    domain: Domain,
    fmt: str,
    remedy: str,
    *,
    transpose: bool = False,
) -> np.ndarray:
    """Check the operands fit ``domain`` and embed ``table`` [Na, Nb] as a 256x256 block.

    With ``transpose``, block row ``index(b)`` and column ``index(a)`` hold ``AM(a, b)``.
    """
    check_operands(layout, domain, fmt, remedy)
    if transpose:
        table, layout = np.asarray(table).T, layout.transposed()
    return embed(table, (layout.operand_a, layout.operand_b), domain)


def read_block(
    block: np.ndarray,
    layout: Layout,
    domain: Domain,
    fmt: str,
    remedy: str,
    *,
    transpose: bool = False,
) -> np.ndarray:
    """Inverse of :func:`embed_product`: the value-ordered [Na, Nb] table in ``block``."""
    check_operands(layout, domain, fmt, remedy)
    if transpose:
        flipped = layout.transposed()
        return extract(block, (flipped.operand_a, flipped.operand_b), domain).T
    return extract(block, (layout.operand_a, layout.operand_b), domain)
