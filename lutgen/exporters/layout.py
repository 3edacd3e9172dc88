"""The operand widths and signedness of a table, without the table."""

from __future__ import annotations

from dataclasses import dataclass

from appmult.core.artifact import Artifact
from appmult.core.operands import OperandAxes

__all__ = ["Layout"]


@dataclass(frozen=True)
class Layout(OperandAxes):
    """Operand widths and signedness of a table, without the table.

    ``Layout.of(artifact)`` describes an artifact; the import path builds one
    from ``--width-a``, ``--width-b`` and ``--signed``.
    """

    name: str
    width_a: int
    width_b: int
    signed_a: bool
    signed_b: bool

    @classmethod
    def of(cls, artifact: Artifact) -> Layout:
        """The layout of ``artifact``."""
        return cls(artifact.name, artifact.width_a, artifact.width_b, artifact.signed_a, artifact.signed_b)

    def transposed(self) -> Layout:
        """The layout of the transposed table (operand roles swapped)."""
        return Layout(self.name, self.width_b, self.width_a, self.signed_b, self.signed_a)

    def describe(self, operand: str) -> str:
        """E.g. ``"8-bit signed (-128..127)"`` for ``operand`` "a" or "b"."""
        values = self.operand_a if operand == "a" else self.operand_b
        width = self.width_a if operand == "a" else self.width_b
        sign = "signed" if (self.signed_a if operand == "a" else self.signed_b) else "unsigned"
        return f"{width}-bit {sign} ({values[0]}..{values[-1]})"
