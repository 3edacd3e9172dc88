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

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from appmult.core.errors import ExportError
from appmult.core.operands import to_bit_pattern
from appmult.lutgen.exporters.format import ExportWarning
from appmult.lutgen.exporters.layout import Layout

__all__ = [
    "Domain",
    "INT8_BITS",
    "INT8_VALUES",
    "SIZE",
    "UINT8",
    "check_operands",
    "corner_note",
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


# The index rules are named functions rather than lambdas so that `make mutation`
# (tests/MUTATION.md) mutates them: mutmut changes code inside functions only.


def _bit_pattern(values: np.ndarray) -> np.ndarray:
    """``u8(v) = v & 0xFF``, the two's-complement byte."""
    return to_bit_pattern(values, 8)


def _value_order(values: np.ndarray) -> np.ndarray:
    """``v + 128``."""
    return values + 128


def _uint8_code(values: np.ndarray) -> np.ndarray:
    """``v`` itself."""
    return values


INT8_BITS = Domain("int8 bit patterns", -128, 127, _bit_pattern)


INT8_VALUES = Domain("int8 in value order", -128, 127, _value_order)


UINT8 = Domain("uint8", 0, 255, _uint8_code)


#: What to do with a table wider than a 256-entry target.
_WIDE_REMEDY = (
    "pass --corner to write only the part of the table it can index, or export the whole table to "
    "npz, csv or npy"
)


def _kept(values: np.ndarray, domain: Domain) -> np.ndarray:
    """Which of an operand's values ``domain`` indexes (bool mask)."""
    values = np.asarray(values, dtype=np.int64)
    return (values >= domain.low) & (values <= domain.high)


def check_operands(layout: Layout, domain: Domain, fmt: str, remedy: str, *, corner: bool = False) -> None:
    """Raise :class:`ExportError` unless every operand value lies in ``domain``.

    With ``corner``, an operand is accepted when some of its values lie in
    the domain; the others are left out of the file (:func:`corner_note`).
    An operand wider than 8 bits, which no 256-entry target can hold whole,
    gets the ``--corner`` remedy; any other misfit gets ``remedy``.
    """
    for operand, values in (("a", layout.operand_a), ("b", layout.operand_b)):
        kept = _kept(values, domain)
        if kept.all() or (corner and kept.any()):
            continue
        wide = values.size > SIZE and kept.any()
        raise ExportError(
            f"{layout.name}: {fmt} indexes operands as {domain.label} ({domain.low}..{domain.high}), but "
            f"operand {operand} is {layout.describe(operand)}; {_WIDE_REMEDY if wide else remedy}"
        )


def corner_note(layout: Layout, domain: Domain) -> str | None:
    """What a ``--corner`` export of ``layout`` into ``domain`` keeps, or None when it keeps everything."""
    kept = []
    for operand, values in (("a", layout.operand_a), ("b", layout.operand_b)):
        inside = values[_kept(values, domain)]
        if inside.size < values.size:
            kept.append(f"{operand} in {inside[0]}..{inside[-1]}")
    if not kept:
        return None
    return (
        f"only the corner {' and '.join(kept)} of the {layout.width_a}x{layout.width_b}-bit "
        f"multiplier {layout.name} (--corner); the rest of its table is not in this file"
    )


def embed(table: np.ndarray, axes: tuple[np.ndarray, ...], domain: Domain) -> np.ndarray:
    """Scatter a value-ordered table into a 256 (or 256x256) block; other entries 0.

    ``axes`` gives the operand values along each dimension of ``table``;
    values outside ``domain`` (a ``--corner`` export) are left out.
    """
    table = np.asarray(table)
    kept = [_kept(v, domain) for v in axes]
    indices = [domain.index(np.asarray(v, dtype=np.int64)[k]) for v, k in zip(axes, kept, strict=True)]
    block = np.zeros((SIZE,) * len(axes), dtype=table.dtype)
    block[np.ix_(*indices)] = table[np.ix_(*kept)]
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
    corner: bool = False,
) -> np.ndarray:
    """Check the operands fit ``domain`` and embed ``table`` [Na, Nb] as a 256x256 block.

    With ``transpose``, block row ``index(b)`` and column ``index(a)`` hold
    ``AM(a, b)``. With ``corner``, operand values outside the domain are left
    out and an :class:`ExportWarning` says which part was written.
    """
    check_operands(layout, domain, fmt, remedy, corner=corner)
    note = corner_note(layout, domain) if corner else None
    if note:
        warnings.warn(ExportWarning(f"{fmt} file holds {note}"), stacklevel=3)
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
