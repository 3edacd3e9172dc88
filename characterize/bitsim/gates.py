"""A graph of single-bit nodes, built with constant folding and structural sharing.

Node ids are small integers; node 0 is the constant 0 and node 1 the
constant 1. Gates (``NOT``, ``AND``, ``OR``, ``XOR``) are folded when an
operand is constant and shared when the same gate over the same operands is
asked for twice, so vector arithmetic on constants and zero-extended operands
costs nothing. A gate's operands always exist before the gate, so node ids
are a topological order of the gates.

A net bit is a ``WIRE`` node whose driver is attached later
(:meth:`Graph.drive`), because Verilog statements may use a net before the
statement that drives it. ``UNDEF`` stands for a bit with no value (an
undriven net, Z or X in a simulator); ``INPUT`` is bit ``m`` of the operand
pair's index (see :mod:`appmult.characterize.bitsim.evaluate`).
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ONE", "ZERO", "Graph", "Op"]

ZERO = 0
ONE = 1


class Op(IntEnum):
    """Kinds of node."""

    CONST = 0
    INPUT = 1
    WIRE = 2
    UNDEF = 3
    NOT = 4
    AND = 5
    OR = 6
    XOR = 7


class Graph:
    """Single-bit nodes: ``ops[n]`` is node n's kind, ``args[n]`` its operands.

    ``args`` holds the value for ``CONST``, the index bit for ``INPUT`` and
    operand node ids for gates. ``labels`` names ``WIRE`` and ``UNDEF`` nodes
    for error messages (``u1.sum[3]``).
    """

    def __init__(self) -> None:
        self.ops: list[Op] = [Op.CONST, Op.CONST]
        self.args: list[tuple[int, ...]] = [(0,), (1,)]
        self.labels: dict[int, str] = {}
        self.drivers: dict[int, int] = {}
        self._shared: dict[tuple[int, ...], int] = {}

    def __len__(self) -> int:
        return len(self.ops)

    def _add(self, op: Op, args: tuple[int, ...]) -> int:
        self.ops.append(op)
        self.args.append(args)
        return len(self.ops) - 1

    def _gate(self, op: Op, *args: int) -> int:
        key = (op, *args)
        node = self._shared.get(key)
        if node is None:
            node = self._shared[key] = self._add(op, args)
        return node

    # -- leaves ---------------------------------------------------------------------------------

    def input(self, bit: int) -> int:
        """Bit ``bit`` of the operand-pair index."""
        return self._gate(Op.INPUT, bit)

    def wire(self, label: str) -> int:
        """A new net bit, to be driven later by :meth:`drive`."""
        node = self._add(Op.WIRE, ())
        self.labels[node] = label
        return node

    def undefined(self, label: str) -> int:
        """A bit with no value (Z or X in a simulator)."""
        node = self._add(Op.UNDEF, ())
        self.labels[node] = label
        return node

    def drive(self, wire: int, node: int) -> None:
        """Make ``node`` the driver of net bit ``wire``."""
        self.drivers[wire] = node

    def dependencies(self, node: int) -> tuple[int, ...]:
        """Nodes whose value ``node`` needs: a gate's operands, a driven wire's driver."""
        op = self.ops[node]
        if op == Op.WIRE:
            driver = self.drivers.get(node)
            return () if driver is None else (driver,)
        return self.args[node] if op >= Op.NOT else ()

    # -- gates ------------------------------------------------------------------------------------

    def not_(self, x: int) -> int:
        if x <= ONE:
            return ONE - x
        if self.ops[x] == Op.NOT:
            return self.args[x][0]
        return self._gate(Op.NOT, x)

    def and_(self, x: int, y: int) -> int:
        if x == ZERO or y == ZERO:
            return ZERO
        if x == ONE or x == y:
            return y
        if y == ONE:
            return x
        return self._gate(Op.AND, min(x, y), max(x, y))

    def or_(self, x: int, y: int) -> int:
        if x == ONE or y == ONE:
            return ONE
        if x == ZERO or x == y:
            return y
        if y == ZERO:
            return x
        return self._gate(Op.OR, min(x, y), max(x, y))

    def xor(self, x: int, y: int) -> int:
        if x <= ONE:
            return self.not_(y) if x == ONE else y
        if y <= ONE:
            return self.not_(x) if y == ONE else x
        return self._gate(Op.XOR, min(x, y), max(x, y))

    def xnor(self, x: int, y: int) -> int:
        return self.not_(self.xor(x, y))

    def mux(self, select: int, if_one: int, if_zero: int) -> int:
        """``select ? if_one : if_zero`` for one bit."""
        if select <= ONE:
            return if_one if select == ONE else if_zero
        if if_one == if_zero:
            return if_one
        return self.xor(if_zero, self.and_(select, self.xor(if_one, if_zero)))

    def rebuild(self, source: Graph, node: int, operands: list[int]) -> int:
        """The copy in this graph of ``source``'s ``node``, whose dependencies map to ``operands``.

        A driven wire becomes its driver; an undriven one an ``UNDEF`` bit with the wire's label.
        """
        op = source.ops[node]
        if op == Op.CONST:
            return node
        if op == Op.INPUT:
            return self.input(source.args[node][0])
        if op in (Op.WIRE, Op.UNDEF):
            return operands[0] if operands else self.undefined(source.labels[node])
        return _GATES[op](self, *operands)


_GATES = {Op.NOT: Graph.not_, Op.AND: Graph.and_, Op.OR: Graph.or_, Op.XOR: Graph.xor}
