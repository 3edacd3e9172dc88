"""Operand axes: which integer values an n-bit operand takes, in value order.

Axes are ordered by numeric value, never by bit pattern: an unsigned n-bit
axis is 0 .. 2**n - 1, a signed (two's complement) one -2**(n-1) .. 2**(n-1) - 1.

Widths: operands of :data:`MIN_WIDTH` .. :data:`MAX_WIDTH` (2..12) bits are
tabulated (the artifact holds the product table); operands of up to
:data:`MAX_STREAMED_WIDTH` (16) bits are characterized by streaming, with
exact metrics and summaries but no table (a 16x16 table would have 2**32 entries).
"""

from __future__ import annotations

import numpy as np

from appmult.core.errors import ParameterError

__all__ = [
    "MAX_STREAMED_WIDTH",
    "MAX_WIDTH",
    "MIN_WIDTH",
    "OperandAxes",
    "check_width",
    "is_tabulated",
    "operand_values",
    "to_bit_pattern",
    "value_range",
]

MIN_WIDTH = 2
MAX_WIDTH = 12
MAX_STREAMED_WIDTH = 16


def check_width(width: int, what: str = "operand", *, streamed: bool = False) -> int:
    """Return ``width`` if it is a tabulable operand width (2..12 bits), else raise.

    A 12x12 table has 16.7 M entries; a 16x16 one would have 4.3e9, which no
    LUT-based flow can store, so wider operands are refused, unless
    ``streamed``: then 13..16 bits are accepted too (characterized without a table).
    """
    if not isinstance(width, (int, np.integer)) or isinstance(width, bool):
        raise ParameterError(f"{what} width must be an integer, got {width!r}")
    if width < MIN_WIDTH:
        raise ParameterError(
            f"{what} is {width} bit{'s' if width != 1 else ''} wide; the tool tabulates operands of "
            f"{MIN_WIDTH}..{MAX_WIDTH} bits (a 1-bit operand is a gate, not a multiplier)"
        )
    if streamed and width > MAX_STREAMED_WIDTH:
        raise ParameterError(
            f"{what} is {width} bits wide; the tool characterizes operands of "
            f"{MIN_WIDTH}..{MAX_STREAMED_WIDTH} bits ({MIN_WIDTH}..{MAX_WIDTH} tabulated, "
            f"{MAX_WIDTH + 1}..{MAX_STREAMED_WIDTH} streamed without a table)"
        )
    if width > MAX_WIDTH and not streamed:
        raise ParameterError(
            f"{what} is {width} bits wide; the tool tabulates operands of "
            f"{MIN_WIDTH}..{MAX_WIDTH} bits (a {width}x{width} table would have "
            f"{2 ** (2 * width):,} entries)"
        )
    return int(width)


def is_tabulated(width_a: int, width_b: int) -> bool:
    """Whether a multiplier of these operand widths gets a product table (both 2..12 bits)."""
    return max(width_a, width_b) <= MAX_WIDTH


def value_range(width: int, signed: bool) -> tuple[int, int]:
    """Smallest and largest value of an operand: ``(0, 2**n - 1)`` or ``(-2**(n-1), 2**(n-1) - 1)``."""
    low = -(1 << (width - 1)) if signed else 0
    return low, low + (1 << width) - 1


def operand_values(width: int, signed: bool) -> np.ndarray:
    """All values of an operand, ascending, as int32 of shape ``[2**width]`` (2..16 bits)."""
    check_width(width, streamed=True)
    low, high = value_range(width, signed)
    return np.arange(low, high + 1, dtype=np.int32)


def to_bit_pattern(values: np.ndarray, width: int) -> np.ndarray:
    """Two's-complement bit pattern ``values mod 2**width`` as int64 (the int8 exporters index by it)."""
    return np.asarray(values, dtype=np.int64) & ((1 << width) - 1)


class OperandAxes:
    """The value-ordered operand axes of anything with ``width_a``, ``width_b``,
    ``signed_a`` and ``signed_b`` (an artifact, or an export layout without a table).

    Operand ``a`` is the first operand (table rows), ``b`` the second (columns).
    """

    width_a: int
    width_b: int
    signed_a: bool
    signed_b: bool

    @property
    def operand_a(self) -> np.ndarray:
        """Values of operand a, ascending, int32 [Na]."""
        return operand_values(self.width_a, self.signed_a)

    @property
    def operand_b(self) -> np.ndarray:
        """Values of operand b, ascending, int32 [Nb]."""
        return operand_values(self.width_b, self.signed_b)

    @property
    def shape(self) -> tuple[int, int]:
        """``(Na, Nb)``."""
        return (1 << self.width_a, 1 << self.width_b)

    @property
    def output_signed(self) -> bool:
        """True when the output is read as two's complement (either operand signed)."""
        return self.signed_a or self.signed_b
