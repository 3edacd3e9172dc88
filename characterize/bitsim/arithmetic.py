"""Vector operations built from gates: extension, addition, multiplication, comparison, shifts.

A vector is a list of node ids of a :class:`~appmult.characterize.bitsim.gates.Graph`,
least significant bit first. Arithmetic is modulo ``2**len(vector)``, as in
Verilog once the operands have been extended to the expression's width; the
operands of a binary operation have equal lengths. Signedness matters only
where stated (extension, comparison, arithmetic right shift).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce

from appmult.characterize.bitsim.gates import ONE, ZERO, Graph

__all__ = [
    "add",
    "equal",
    "extend",
    "less_than",
    "multiply",
    "negate",
    "reduce_bits",
    "shift",
    "subtract",
]


def extend(bits: list[int], width: int, signed: bool) -> list[int]:
    """``bits`` widened to ``width`` (sign-extended if ``signed``) or truncated to it."""
    if len(bits) >= width:
        return bits[:width]
    fill = bits[-1] if signed and bits else ZERO
    return bits + [fill] * (width - len(bits))


def add(graph: Graph, x: list[int], y: list[int], carry: int = ZERO) -> list[int]:
    """``x + y + carry`` (ripple carry)."""
    total = []
    for xi, yi in zip(x, y, strict=True):
        half = graph.xor(xi, yi)
        total.append(graph.xor(half, carry))
        carry = graph.or_(graph.and_(xi, yi), graph.and_(carry, half))
    return total


def subtract(graph: Graph, x: list[int], y: list[int]) -> list[int]:
    """``x - y``, as ``x + ~y + 1``."""
    return add(graph, x, [graph.not_(yi) for yi in y], ONE)


def negate(graph: Graph, x: list[int]) -> list[int]:
    """``-x``."""
    return subtract(graph, [ZERO] * len(x), x)


def multiply(graph: Graph, x: list[int], y: list[int]) -> list[int]:
    """``x * y`` by shift and add, one row per bit of ``y``.

    The bits of ``y`` above its last change are all equal to one bit ``s``
    (zero for a zero-extended operand, the sign for a sign-extended one); the
    rows they stand for add up to ``s * x * (2**width - 2**k)``, which is
    ``-(s * x) << k`` modulo ``2**width``, so one subtraction replaces them.
    """
    width = len(x)
    start = width - 1
    while start > 0 and y[start - 1] == y[-1]:
        start -= 1
    rows = start if start < width - 1 else width
    product = [ZERO] * width
    for k in range(rows):
        if y[k] != ZERO:
            product[k:] = add(graph, product[k:], _row(graph, y[k], x[: width - k]))
    if rows < width and y[rows] != ZERO:
        product[rows:] = subtract(graph, product[rows:], _row(graph, y[rows], x[: width - rows]))
    return product


def _row(graph: Graph, bit: int, x: list[int]) -> list[int]:
    return [graph.and_(bit, xj) for xj in x]


def less_than(graph: Graph, x: list[int], y: list[int], signed: bool) -> int:
    """``x < y``: no carry out of ``x + ~y + 1``; signed by flipping both sign bits first."""
    if signed:
        x = x[:-1] + [graph.not_(x[-1])]
        y = y[:-1] + [graph.not_(y[-1])]
    carry = ONE
    for xi, yi in zip(x, y, strict=True):
        nyi = graph.not_(yi)
        carry = graph.or_(graph.and_(xi, nyi), graph.and_(carry, graph.xor(xi, nyi)))
    return graph.not_(carry)


def equal(graph: Graph, x: list[int], y: list[int]) -> int:
    """``x == y``."""
    differ = reduce(graph.or_, (graph.xor(xi, yi) for xi, yi in zip(x, y, strict=True)), ZERO)
    return graph.not_(differ)


def reduce_bits(graph: Graph, gate: Callable[[Graph, int, int], int], bits: list[int]) -> int:
    """``gate`` (a two-input :class:`Graph` method) applied across ``bits``."""
    return reduce(lambda acc, bit: gate(graph, acc, bit), bits[1:], bits[0])


def shift(graph: Graph, x: list[int], amount: list[int], left: bool, fill: int = ZERO) -> list[int]:
    """``x`` shifted by the unsigned ``amount``, vacated bits set to ``fill`` (a barrel shifter).

    Stage ``k`` shifts by ``2**k`` where bit ``k`` of ``amount`` is set; with a
    constant amount the multiplexers fold away and the shift is only wiring.
    """
    width = len(x)
    for k, select in enumerate(amount):
        step = 1 << k
        if step >= width:
            moved = [fill] * width
        elif left:
            moved = [fill] * step + x[: width - step]
        else:
            moved = x[step:] + [fill] * step
        x = [graph.mux(select, m, keep) for m, keep in zip(moved, x, strict=True)]
    return x
