"""Simulation backends behind one registry, which also feeds the CLI's ``--backend``."""

from __future__ import annotations

from appmult.errors import ParameterError
from characterize.backends.base import Backend
from characterize.backends.icarus import IcarusBackend

__all__ = ["BACKENDS", "BACKEND_CHOICES", "Backend", "get_backend"]

#: Backend classes by name.
BACKENDS: dict[str, type[Backend]] = {cls.name: cls for cls in (IcarusBackend,)}

#: Names accepted by ``--backend``.
BACKEND_CHOICES: tuple[str, ...] = tuple(BACKENDS)


def get_backend(name: str) -> Backend:
    """An instance of the backend called ``name``; the error lists the valid names."""
    try:
        return BACKENDS[name]()
    except KeyError:
        raise ParameterError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}") from None
