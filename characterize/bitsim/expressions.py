"""Verilog expressions to gates, following the standard's width and signedness rules.

IEEE 1364-2005, 5.4-5.5: an expression's operands are either
*context-determined* (the operands of ``+ - * & | ^ ~^``, unary ``+ - ~``,
the branches of ``?:`` and the left operand of a shift: they are evaluated
at the width of the whole expression, which includes the width of the
assignment's target) or *self-determined* (everything else: concatenation
items, comparison and logical operands, reduction operands, shift amounts,
conditions, ``$signed`` arguments). An expression is signed only if all its
context-determined operands are; an operand is sign-extended to the context
width only when the context is signed. Concatenations, bit- and part-selects,
comparisons and reductions are unsigned; unsized literals are 32-bit signed
(``'d`` without a size: 32-bit unsigned).

Values are vectors of graph nodes, least significant bit first (see
:mod:`appmult.characterize.bitsim.arithmetic`).
"""

from __future__ import annotations

from appmult.characterize.bitsim.arithmetic import (
    add,
    equal,
    extend,
    less_than,
    multiply,
    negate,
    reduce_bits,
    shift,
    subtract,
)
from appmult.characterize.bitsim.gates import ONE, ZERO, Graph
from appmult.characterize.bitsim.scope import Scope, Vector, unsupported
from appmult.characterize.verilog import parse_int_const
from appmult.core.errors import NetlistError

__all__ = ["Expressions", "constant_bits"]

#: Width of an unsized literal or an untyped parameter (an ``integer``).
INTEGER_WIDTH = 32

#: Context-determined operators: the attributes holding their context-determined operands.
_CONTEXT_OPERANDS: dict[str, tuple[str, ...]] = {
    "Rvalue": ("var",),
    "Uplus": ("right",),
    "Uminus": ("right",),
    "Unot": ("right",),
    **dict.fromkeys(("Plus", "Minus", "Times", "And", "Or", "Xor", "Xnor"), ("left", "right")),
    "Cond": ("true_value", "false_value"),
    **dict.fromkeys(("Sll", "Sla", "Srl", "Sra"), ("left",)),
}

_BITWISE = {"And": Graph.and_, "Or": Graph.or_, "Xor": Graph.xor, "Xnor": Graph.xnor}
_ARITHMETIC = {"Plus": add, "Minus": subtract, "Times": multiply}
#: Shift operators: (shifts left, fills with the sign bit when the expression is signed).
_SHIFTS = {"Sll": (True, False), "Sla": (True, False), "Srl": (False, False), "Sra": (False, True)}
#: Reduction operators: (gate, inverted result).
_REDUCTIONS = {
    "Uand": (Graph.and_, False),
    "Unand": (Graph.and_, True),
    "Uor": (Graph.or_, False),
    "Unor": (Graph.or_, True),
    "Uxor": (Graph.xor, False),
    "Uxnor": (Graph.xor, True),
}
#: Comparisons as ``x < y`` or ``x == y``: (test, operands swapped, result inverted).
_COMPARISONS = {
    "LessThan": ("lt", False, False),
    "GreaterThan": ("lt", True, False),
    "LessEq": ("lt", True, True),
    "GreaterEq": ("lt", False, True),
    "Eq": ("eq", False, False),
    "NotEq": ("eq", False, True),
    "Eql": ("eq", False, False),
    "NotEql": ("eq", False, True),
}
_LOGICAL = {"Land": Graph.and_, "Lor": Graph.or_}
#: What an unsupported expression node is called in messages.
_UNSUPPORTED = {
    "Divide": "the `/` operator",
    "Mod": "the `%` operator",
    "Power": "the `**` operator",
    "FunctionCall": "function calls",
    "FloatConst": "real numbers",
    "StringConst": "strings",
}


def constant_bits(value: int, width: int) -> list[int]:
    """The two's-complement bits of ``value`` modulo ``2**width`` as constant nodes."""
    return [ONE if (value >> k) & 1 else ZERO for k in range(width)]


class Expressions:
    """Turns expression syntax trees of a module instance into gates of ``graph``."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    # -- public entry points ------------------------------------------------------------------

    def size(self, scope: Scope, node) -> tuple[int, bool]:
        """Self-determined width and signedness of ``node``."""
        operands = _CONTEXT_OPERANDS.get(type(node).__name__)
        if operands is None:
            return _rule(self._SIZE_RULES, scope, node)(self, scope, node)
        sizes = [self.size(scope, getattr(node, name)) for name in operands]
        return max(width for width, _ in sizes), all(signed for _, signed in sizes)

    def assigned(self, scope: Scope, node, width: int) -> list[int]:
        """``node`` as the right-hand side of an assignment to ``width`` bits."""
        own_width, signed = self.size(scope, node)
        return self.value(scope, node, max(width, own_width), signed)[:width]

    def operand(self, scope: Scope, node) -> tuple[list[int], bool]:
        """Self-determined value and signedness of ``node``."""
        kind = type(node).__name__
        if kind in _CONTEXT_OPERANDS:
            width, signed = self.size(scope, node)
            return self.value(scope, node, width, signed), signed
        return _rule(self._OPERAND_RULES, scope, node)(self, scope, node)

    def value(self, scope: Scope, node, width: int, signed: bool) -> list[int]:
        """``node`` evaluated in a context of ``width`` bits and the given signedness."""
        kind = type(node).__name__
        names = _CONTEXT_OPERANDS.get(kind)
        if names is None:
            bits, _ = self.operand(scope, node)
            return extend(bits, width, signed)
        operands = [self.value(scope, getattr(node, name), width, signed) for name in names]
        return self._CONTEXT_RULES[kind](self, scope, node, signed, *operands)

    def truth(self, scope: Scope, node) -> int:
        """``node != 0`` as one bit (conditions and logical operands)."""
        bits, _ = self.operand(scope, node)
        return reduce_bits(self.graph, Graph.or_, bits)

    def targets(self, scope: Scope, node) -> list[int]:
        """The net bits an assignment's left-hand side ``node`` names, least significant first."""
        kind = type(node).__name__
        if kind == "Lvalue":
            return self.targets(scope, node.var)
        if kind in ("LConcat", "Concat"):
            return [bit for item in reversed(node.list) for bit in self.targets(scope, item)]
        if kind == "Identifier":
            vector = scope.lookup(node)
            return vector.write(range(vector.width), scope.where(node))
        if kind in ("Pointer", "Partselect"):
            vector, positions = self._selection(scope, node)
            return vector.write(positions, scope.where(node))
        raise NetlistError(f"{scope.where(node)}: cannot assign to a `{kind}` expression")

    # -- context-determined operators: (self, scope, node, signed, *operand vectors) -> vector ----

    def _same(self, scope, node, signed, x):
        return x

    def _bitwise(self, scope, node, signed, x, y):
        gate = _BITWISE[type(node).__name__]
        return [gate(self.graph, xi, yi) for xi, yi in zip(x, y, strict=True)]

    def _arithmetic(self, scope, node, signed, x, y):
        return _ARITHMETIC[type(node).__name__](self.graph, x, y)

    def _negate(self, scope, node, signed, x):
        return negate(self.graph, x)

    def _invert(self, scope, node, signed, x):
        return [self.graph.not_(xi) for xi in x]

    def _conditional(self, scope, node, signed, if_true, if_false):
        select = self.truth(scope, node.cond)
        return [self.graph.mux(select, t, f) for t, f in zip(if_true, if_false, strict=True)]

    def _shift(self, scope, node, signed, x):
        left, arithmetic = _SHIFTS[type(node).__name__]
        amount, _ = self.operand(scope, node.right)
        fill = x[-1] if arithmetic and signed else ZERO
        return shift(self.graph, x, amount, left, fill)

    _CONTEXT_RULES = {
        "Rvalue": _same,
        "Uplus": _same,
        "Uminus": _negate,
        "Unot": _invert,
        **dict.fromkeys(_BITWISE, _bitwise),
        **dict.fromkeys(_ARITHMETIC, _arithmetic),
        "Cond": _conditional,
        **dict.fromkeys(_SHIFTS, _shift),
    }

    # -- self-determined operands: (self, scope, node) -> (vector, signed) ----------------------

    def _literal(self, scope, node):
        value, width, signed = _parse_literal(scope, node)
        return constant_bits(value, width), signed

    def _identifier(self, scope, node):
        vector = scope.lookup(node)
        return list(vector.bits), vector.signed

    def _select(self, scope, node):
        vector, positions = self._selection(scope, node)
        return vector.read(self.graph, positions), False

    def _concatenation(self, scope, node):
        bits = [bit for item in reversed(node.list) for bit in self.operand(scope, item)[0]]
        return bits, False

    def _repetition(self, scope, node):
        bits, _ = self.operand(scope, node.value)
        return bits * _repetitions(scope, node), False

    def _system_call(self, scope, node):
        bits, _ = self.operand(scope, _cast_argument(scope, node))
        return bits, node.syscall == "signed"

    def _reduction(self, scope, node):
        gate, inverted = _REDUCTIONS[type(node).__name__]
        bits, _ = self.operand(scope, node.right)
        result = reduce_bits(self.graph, gate, bits)
        return [self.graph.not_(result) if inverted else result], False

    def _logical_not(self, scope, node):
        return [self.graph.not_(self.truth(scope, node.right))], False

    def _logical(self, scope, node):
        gate = _LOGICAL[type(node).__name__]
        return [gate(self.graph, self.truth(scope, node.left), self.truth(scope, node.right))], False

    def _comparison(self, scope, node):
        test, swapped, inverted = _COMPARISONS[type(node).__name__]
        (left_width, left_signed), (right_width, right_signed) = (
            self.size(scope, node.left),
            self.size(scope, node.right),
        )
        width, signed = max(left_width, right_width), left_signed and right_signed
        x = self.value(scope, node.left, width, signed)
        y = self.value(scope, node.right, width, signed)
        if swapped:
            x, y = y, x
        result = less_than(self.graph, x, y, signed) if test == "lt" else equal(self.graph, x, y)
        return [self.graph.not_(result) if inverted else result], False

    _OPERAND_RULES = {
        "IntConst": _literal,
        "Identifier": _identifier,
        "Pointer": _select,
        "Partselect": _select,
        "Concat": _concatenation,
        "Repeat": _repetition,
        "SystemCall": _system_call,
        **dict.fromkeys(_REDUCTIONS, _reduction),
        "Ulnot": _logical_not,
        **dict.fromkeys(_LOGICAL, _logical),
        **dict.fromkeys(_COMPARISONS, _comparison),
    }

    # -- self-determined sizes: (self, scope, node) -> (width, signed), building no gates ----------

    def _literal_size(self, scope, node):
        _, width, signed = _parse_literal(scope, node)
        return width, signed

    def _identifier_size(self, scope, node):
        vector = scope.lookup(node)
        return vector.width, vector.signed

    def _select_size(self, scope, node):
        return len(self._selection(scope, node)[1]), False

    def _concatenation_size(self, scope, node):
        return sum(self.size(scope, item)[0] for item in node.list), False

    def _repetition_size(self, scope, node):
        return self.size(scope, node.value)[0] * _repetitions(scope, node), False

    def _system_call_size(self, scope, node):
        return self.size(scope, _cast_argument(scope, node))[0], node.syscall == "signed"

    def _one_bit(self, scope, node):
        return 1, False

    _SIZE_RULES = {
        "IntConst": _literal_size,
        "Identifier": _identifier_size,
        "Pointer": _select_size,
        "Partselect": _select_size,
        "Concat": _concatenation_size,
        "Repeat": _repetition_size,
        "SystemCall": _system_call_size,
        **dict.fromkeys((*_REDUCTIONS, "Ulnot", *_LOGICAL, *_COMPARISONS), _one_bit),
    }

    # -- selects ----------------------------------------------------------------------------------

    def _selection(self, scope: Scope, node) -> tuple[Vector, range]:
        """The vector a bit- or part-select reads and the bit positions it selects, ascending.

        pyverilog parses ``v[base +: w]`` as ``Partselect(v, base, base + w)``
        with the same ``base`` object in both places (``-:`` likewise with a
        ``Minus``); that identity tells an indexed part-select from ``v[m:l]``.
        """
        if type(node.var).__name__ != "Identifier":
            raise unsupported(scope.where(node), "selects of selects (arrays)")
        vector = scope.lookup(node.var)
        if type(node).__name__ == "Pointer":
            position = vector.position(scope.constant(node.ptr, "a bit-select index"))
            return vector, range(position, position + 1)
        bound = node.lsb
        if type(bound).__name__ in ("Plus", "Minus") and bound.left is node.msb:
            base = scope.constant(node.msb, "a part-select base")
            count = scope.constant(bound.right, "a part-select width")
            last = base + count - 1 if type(bound).__name__ == "Plus" else base - count + 1
            ends = sorted((vector.position(base), vector.position(last)))
            return vector, range(ends[0], ends[1] + 1)
        high = vector.position(scope.constant(node.msb, "a part-select bound"))
        low = vector.position(scope.constant(node.lsb, "a part-select bound"))
        if high < low:
            raise NetlistError(
                f"{scope.where(node)}: part-select of {vector.label} runs against its declared range"
            )
        return vector, range(low, high + 1)


def _rule(rules: dict, scope: Scope, node):
    """The rule for ``node``'s kind, or the error naming an unsupported expression."""
    kind = type(node).__name__
    if kind not in rules:
        raise unsupported(scope.where(node), _UNSUPPORTED.get(kind, f"`{kind}` expressions"))
    return rules[kind]


def _parse_literal(scope: Scope, node) -> tuple[int, int, bool]:
    """Value, width and signedness of an integer literal (unsized: 32 bits)."""
    try:
        value, width, signed = parse_int_const(node.value)
    except ValueError as exc:
        raise unsupported(scope.where(node), f"the literal {node.value} (x/z digits)") from exc
    return value, width or INTEGER_WIDTH, signed


def _repetitions(scope: Scope, node) -> int:
    times = scope.constant(node.times, "a repetition count")
    if times < 1:
        raise NetlistError(f"{scope.where(node)}: repetition count {times} must be at least 1")
    return times


def _cast_argument(scope: Scope, node):
    """The argument of ``$signed(x)`` or ``$unsigned(x)``; other system functions are unsupported."""
    if node.syscall not in ("signed", "unsigned") or len(node.args) != 1:
        raise unsupported(scope.where(node), f"the system function ${node.syscall}")
    return node.args[0]
