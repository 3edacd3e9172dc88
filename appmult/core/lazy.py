"""Tables read when first used: an ndarray, or a stored table that a file reader hands over.

The in-memory model (:mod:`appmult.core.artifact`, :mod:`appmult.core.gradient`)
holds each large table either as an ndarray or as a :class:`StoredTable`, an
object that knows how to read the table (or some of its rows) from its file;
:mod:`appmult.core.artifact_file` makes them. :class:`LazyArray` turns the
second into the first on first access, and :func:`shape_of`, :func:`rows_of`
and :func:`columns_of` answer without reading more than they need.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

__all__ = ["LazyArray", "StoredTable", "columns_of", "rows_of", "shape_of"]


class StoredTable(ABC):
    """A 2-D table still in its file: ``shape``, ``dtype``, ``attrs`` known, values read on demand."""

    shape: tuple[int, ...]
    dtype: np.dtype
    attrs: dict[str, object]

    @abstractmethod
    def read(self, rows: slice | tuple = slice(None)) -> np.ndarray:
        """The table, or the selection ``rows`` of it (a slice of rows, or a (rows, columns) tuple)."""


class LazyArray:
    """Descriptor: an attribute holding an ndarray or a :class:`StoredTable`, read on first access."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, instance: object, owner: type | None = None) -> np.ndarray:
        if instance is None:
            return self  # type: ignore[return-value]
        value = getattr(instance, self.slot)
        if isinstance(value, StoredTable):
            value = value.read()
            setattr(instance, self.slot, value)
        return value

    def __set__(self, instance: object, value: object) -> None:
        setattr(instance, self.slot, value)


def shape_of(value: object) -> tuple[int, ...]:
    """Shape of an ndarray or a stored table, without reading it."""
    return tuple(value.shape) if isinstance(value, StoredTable) else np.shape(value)


def rows_of(value: object, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of an ndarray or a stored table (reading only those rows)."""
    if isinstance(value, StoredTable):
        return value.read(slice(start, stop))
    return np.asarray(value)[start:stop]


def columns_of(value: object, indices: list[int]) -> np.ndarray:
    """Columns ``indices`` (distinct) [N, len(indices)] of an ndarray or a stored table, chunk by chunk."""
    if isinstance(value, StoredTable):
        return value.read((slice(None), sorted(indices)))[:, np.argsort(np.argsort(indices))]
    return np.asarray(value)[:, indices]
