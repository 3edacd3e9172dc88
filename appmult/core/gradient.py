"""Gradient estimates as an artifact holds them: full tables, separable factors, or the axes.

Three storage kinds, one class each (``kind`` is the value of the file's
``/grad/<name>`` ``kind`` attribute):

``table`` (:class:`GradientTable`)
    ``d_a``, ``d_b`` float32 [Na, Nb]: dAM/da and dAM/db at every
    ``(a_i, b_j)`` (LUT-2D).
``separable`` (:class:`SeparableGradient`)
    factors ``u_a``, ``u_b`` float32 [R, Na] and ``v_a``, ``v_b`` float32 [R, Nb]
    with ``dAM/da(a_i, b_j) ~ sum_r u_a[r, i] * v_a[r, j]`` (LUT-1D).
``axes`` (:class:`AxesGradient`)
    the exact multiplier's gradient (dAM/da = b, dAM/db = a), built from the
    operand axes (STE).

Which estimator makes which kind, and under which group name, is the business
of stage 2's registry (:mod:`appmult.lutgen.methods`); this module only holds
and checks the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import numpy as np

from appmult.core.errors import ArtifactError
from appmult.core.lazy import LazyArray, StoredTable, columns_of, rows_of, shape_of

__all__ = ["AxesGradient", "Gradient", "GradientTable", "SeparableGradient", "expand"]


class GradientTable:
    """A gradient estimate stored as two full tables (LUT-2D).

    ``d_a`` approximates dAM/da and ``d_b`` dAM/db at every ``(a_i, b_j)``,
    float32 [Na, Nb] each, read from the file when first used. ``attrs``
    records the parameters that produced them (half-windows, edge rule).
    """

    kind = "table"
    d_a = LazyArray()
    d_b = LazyArray()

    def __init__(self, d_a: np.ndarray, d_b: np.ndarray, attrs: Mapping[str, object] | None = None) -> None:
        self.d_a = d_a if isinstance(d_a, StoredTable) else np.asarray(d_a, dtype=np.float32)
        self.d_b = d_b if isinstance(d_b, StoredTable) else np.asarray(d_b, dtype=np.float32)
        self.attrs = dict(attrs or {})

    @property
    def shape(self) -> tuple[int, int]:
        """``(Na, Nb)``."""
        return shape_of(self._d_a)  # type: ignore[return-value]

    def rows(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """``(d_a, d_b)`` rows ``start:stop`` (operand a values ``a[start:stop]``), float32."""
        return rows_of(self._d_a, start, stop), rows_of(self._d_b, start, stop)

    def columns(self, indices: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """``(d_a, d_b)`` columns ``indices`` (operand b value indices), float32 [Na, len(indices)]."""
        return columns_of(self._d_a, indices), columns_of(self._d_b, indices)

    def _check(self, shape: tuple[int, int], where: str) -> None:
        for label in ("d_a", "d_b"):
            if shape_of(getattr(self, f"_{label}")) != shape:
                raise ArtifactError(
                    f"{where}/{label} has shape {shape_of(getattr(self, f'_{label}'))}, expected {shape}"
                )

    def _materialize(self) -> None:
        self.d_a, self.d_b  # noqa: B018 - reading the properties loads the tables

    def __repr__(self) -> str:
        return f"GradientTable(shape={self.shape}, attrs={self.attrs})"


class SeparableGradient:
    """A gradient estimate as a sum of R separable terms (LUT-1D, and STE with R = 1).

    ``dAM/da(a_i, b_j) ~ sum_r u_a[r, i] * v_a[r, j]`` and
    ``dAM/db(a_i, b_j) ~ sum_r u_b[r, i] * v_b[r, j]``, with ``u_a``, ``u_b``
    float32 [R, Na] (functions of operand a) and ``v_a``, ``v_b`` float32
    [R, Nb] (functions of operand b). A form that gives each derivative as a
    function of the *other* operand only has R = 1 and ``u_a = 1``,
    ``v_b = 1``. ``d_a`` and ``d_b`` expand the sums to [Na, Nb] on first use.
    """

    kind = "separable"

    def __init__(
        self,
        u_a: np.ndarray,
        v_a: np.ndarray,
        u_b: np.ndarray,
        v_b: np.ndarray,
        attrs: Mapping[str, object] | None = None,
    ) -> None:
        self.u_a, self.v_a, self.u_b, self.v_b = (
            np.atleast_2d(np.asarray(f, dtype=np.float32)) for f in (u_a, v_a, u_b, v_b)
        )
        self.attrs = dict(attrs or {})

    @property
    def rank(self) -> int:
        """Number of separable terms R of ``d_a`` (and of ``d_b``)."""
        return int(self.u_a.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        """``(Na, Nb)``."""
        return (int(self.u_a.shape[1]), int(self.v_a.shape[1]))

    @cached_property
    def d_a(self) -> np.ndarray:
        """dAM/da expanded to float32 [Na, Nb]."""
        return expand(self.u_a, self.v_a)

    @cached_property
    def d_b(self) -> np.ndarray:
        """dAM/db expanded to float32 [Na, Nb]."""
        return expand(self.u_b, self.v_b)

    def rows(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """``(d_a, d_b)`` rows ``start:stop``, float32, without expanding the whole table."""
        return expand(self.u_a[:, start:stop], self.v_a), expand(self.u_b[:, start:stop], self.v_b)

    def columns(self, indices: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """``(d_a, d_b)`` columns ``indices``, float32 [Na, len(indices)], without expanding the table."""
        return expand(self.u_a, self.v_a[:, indices]), expand(self.u_b, self.v_b[:, indices])

    def _check(self, shape: tuple[int, int], where: str) -> None:
        n_a, n_b = shape
        for label, factor, length in (("u_a", self.u_a, n_a), ("u_b", self.u_b, n_a)):
            if factor.ndim != 2 or factor.shape[1] != length:
                raise ArtifactError(f"{where}/{label} has shape {factor.shape}, expected [R, {length}]")
        for label, factor, partner in (("v_a", self.v_a, self.u_a), ("v_b", self.v_b, self.u_b)):
            if factor.shape != (partner.shape[0], n_b):
                raise ArtifactError(
                    f"{where}/{label} has shape {factor.shape}, expected {(partner.shape[0], n_b)}"
                )

    def _materialize(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"SeparableGradient(rank={self.rank}, shape={self.shape}, attrs={self.attrs})"


def expand(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``sum_r outer(u[r], v[r])`` as float32 [N, M], one pass per term (STE: a single outer product)."""
    table = np.multiply.outer(u[0], v[0])
    for u_r, v_r in zip(u[1:], v[1:], strict=True):
        table += np.multiply.outer(u_r, v_r)
    return table


class AxesGradient(SeparableGradient):
    """The gradient of the exact multiplier, dAM/da = b and dAM/db = a: the operand axes themselves.

    Rank 1 (``u_a = 1``, ``v_a = b``, ``u_b = a``, ``v_b = 1``). The artifact
    file stores it as a group of attributes only (``kind="axes"``), since the
    header's axes determine it; readers build it again from them.
    """

    kind = "axes"

    def __init__(
        self, operand_a: np.ndarray, operand_b: np.ndarray, attrs: Mapping[str, object] | None = None
    ) -> None:
        a = np.asarray(operand_a, dtype=np.float32)[np.newaxis]
        b = np.asarray(operand_b, dtype=np.float32)[np.newaxis]
        super().__init__(np.ones_like(a), b, a, np.ones_like(b), attrs)

    def __repr__(self) -> str:
        return f"AxesGradient(shape={self.shape}, attrs={self.attrs})"


#: Any gradient estimate an artifact can hold.
Gradient = GradientTable | SeparableGradient
