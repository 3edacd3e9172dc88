"""Simulation backends behind one registry, which also feeds the CLI's ``--backend``.

Besides the backends' own names, ``auto`` (:data:`AUTO`) picks bitsim and
falls back to the Icarus reference when bitsim meets a construct it does not
support; :func:`simulate` is where that choice is made.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from appmult.characterize.backends.base import Backend
from appmult.characterize.backends.bitsim import BitsimBackend
from appmult.characterize.backends.icarus import IcarusBackend
from appmult.characterize.netlist import Interface
from appmult.core.errors import ParameterError, UnsupportedConstruct
from appmult.core.progress import ProgressCallback

__all__ = [
    "AUTO",
    "BACKENDS",
    "BACKEND_CHOICES",
    "Backend",
    "Simulation",
    "check_backend",
    "get_backend",
    "simulate",
]

#: Backend classes by name.
BACKENDS: dict[str, type[Backend]] = {cls.name: cls for cls in (IcarusBackend, BitsimBackend)}

#: bitsim where it supports the netlist, else icarus.
AUTO = "auto"

#: Names accepted by ``--backend``.
BACKEND_CHOICES: tuple[str, ...] = (AUTO, *BACKENDS)


def check_backend(name: str) -> str:
    """Return ``name`` if it is one of :data:`BACKEND_CHOICES`, else raise ParameterError listing them."""
    if name not in BACKEND_CHOICES:
        raise ParameterError(f"unknown backend {name!r}; choose one of: {', '.join(BACKEND_CHOICES)}")
    return name


def get_backend(name: str) -> Backend:
    """An instance of the backend called ``name``; the error lists the valid names."""
    try:
        return BACKENDS[name]()
    except KeyError:
        raise ParameterError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}") from None


@dataclass(frozen=True)
class Simulation:
    """What a simulation gives back: the output words, who made them, and that backend."""

    raw: np.ndarray
    simulator: str
    backend: Backend


def simulate(
    interface: Interface,
    backend: str = AUTO,
    progress: ProgressCallback | None = None,
    timeout: float | None = None,
) -> Simulation:
    """Output words int64 [Na, Nb] by bit pattern, the simulator that made them and its backend.

    ``backend`` is a name from :data:`BACKEND_CHOICES`. With ``auto``, bitsim
    runs first; if it raises :class:`~appmult.core.errors.UnsupportedConstruct`,
    Icarus runs instead and the simulator string says why, for example
    ``icarus 11.0 + cocotb 2.1.0 (auto: bitsim does not support `always` blocks at f.v:12)``.
    """
    check_backend(backend)
    if backend != AUTO:
        engine = get_backend(backend)
        return Simulation(
            engine.raw_words(interface, progress=progress, timeout=timeout), engine.version(), engine
        )
    try:
        return simulate(interface, BitsimBackend.name, progress, timeout)
    except UnsupportedConstruct as exc:
        fallback = simulate(interface, IcarusBackend.name, progress, timeout)
        reason = f"bitsim does not support {exc.construct} at {exc.location}"
        return dataclasses.replace(fallback, simulator=f"{fallback.simulator} (auto: {reason})")
