"""Names visible inside one elaborated module instance: nets and parameters as bit vectors."""

from __future__ import annotations

from dataclasses import dataclass, field

from appmult.characterize.bitsim.gates import Graph
from appmult.characterize.verilog import ModuleSource, constant_value
from appmult.core.errors import NetlistError, UnsupportedConstruct

__all__ = ["Scope", "Vector", "unsupported"]


def unsupported(where: str, construct: str, detail: str = "") -> UnsupportedConstruct:
    """The error for a construct bitsim does not evaluate, naming it and its ``file:line``.

    ``detail`` (ending in ``"; "``) goes before the standard sentence.
    """
    return UnsupportedConstruct(
        f"{where}: {detail}bitsim does not support {construct}; use --backend icarus",
        construct=construct,
        location=where,
    )


@dataclass(frozen=True)
class Vector:
    """A net's bits (``WIRE`` nodes) or a parameter's (constants), least significant first.

    ``msb`` and ``lsb`` are the declared range (``[msb:lsb]``, either
    direction); ``scalar`` is true for a declaration without a range.
    """

    label: str
    bits: tuple[int, ...]
    msb: int = 0
    lsb: int = 0
    signed: bool = False
    is_net: bool = True
    scalar: bool = False

    @property
    def width(self) -> int:
        return len(self.bits)

    def position(self, index: int) -> int:
        """Bit position (0 = least significant) of declared index ``index``; may be out of range."""
        return index - self.lsb if self.msb >= self.lsb else self.lsb - index

    def index(self, position: int) -> int:
        """Declared index of bit position ``position``."""
        return self.lsb + position if self.msb >= self.lsb else self.lsb - position

    def bit_label(self, position: int) -> str:
        return self.label if self.scalar else f"{self.label}[{self.index(position)}]"

    def read(self, graph: Graph, positions: range) -> list[int]:
        """The bits at ``positions``; one outside the range reads as an undefined (X) bit."""
        return [
            self.bits[p] if 0 <= p < self.width else graph.undefined(f"{self.bit_label(p)} (out of range)")
            for p in positions
        ]

    def write(self, positions: range, where: str) -> list[int]:
        """The net bits at ``positions``, for driving; every one must exist."""
        if not self.is_net:
            raise NetlistError(f"{where}: cannot assign to parameter {self.label}")
        outside = [p for p in positions if not 0 <= p < self.width]
        if outside:
            raise NetlistError(
                f"{where}: {self.bit_label(outside[0])} is outside the declared range of {self.label}"
            )
        return [self.bits[p] for p in positions]


@dataclass
class Scope:
    """One module instance: its source, hierarchical prefix, symbols and parameter values.

    ``values`` holds parameter values as integers for constant expressions
    (ranges, indices, repetition counts); ``ports`` maps port names to
    ``"input"``/``"output"``.
    """

    module: ModuleSource
    prefix: str
    symbols: dict[str, Vector] = field(default_factory=dict)
    values: dict[str, int] = field(default_factory=dict)
    ports: dict[str, str] = field(default_factory=dict)

    def where(self, node: object | None = None) -> str:
        return self.module.where(node)

    def lookup(self, node) -> Vector:
        """The vector an ``Identifier`` names."""
        if getattr(node, "scope", None) is not None:
            raise unsupported(self.where(node), "hierarchical names")
        try:
            return self.symbols[node.name]
        except KeyError:
            raise NetlistError(
                f"{self.where(node)}: {node.name} is not declared in module {self.module.name}"
            ) from None

    def constant(self, node, what: str) -> int:
        """Value of the constant expression ``node`` (a range bound, index or count)."""
        try:
            return constant_value(node, self.values)
        except ValueError as exc:
            raise unsupported(self.where(node), f"{what} that is not a constant expression") from exc
