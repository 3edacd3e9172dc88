"""The simulation backend interface: one base class, one template method.

A backend turns an :class:`~appmult.characterize.netlist.Interface` into the raw
output bit patterns of every operand pair. :meth:`Backend.tabulate` is written
once for all backends: it checks the backend is available, runs the
backend's hook, checks shape and range, and reads the outputs as signed or
unsigned integers. Backends raise, never print.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from appmult.characterize.netlist import Interface
from appmult.core.errors import SimulationError
from appmult.core.progress import ProgressCallback

__all__ = ["Backend"]


class Backend(ABC):
    """A way of evaluating a netlist on every operand pair.

    Subclasses set :attr:`name` and implement :meth:`check_available`,
    :meth:`version` and :meth:`_simulate`.
    """

    #: Registry key and ``--backend`` choice.
    name: ClassVar[str]

    @abstractmethod
    def check_available(self) -> None:
        """Raise :class:`SimulationError` saying what to install if the backend cannot run."""

    @abstractmethod
    def version(self) -> str:
        """Backend and tool versions, recorded as the artifact's ``simulator``."""

    @abstractmethod
    def _simulate(
        self, interface: Interface, progress: ProgressCallback | None, timeout: float | None
    ) -> np.ndarray:
        """Output bit patterns, integer array [Na, Nb], rows a and columns b in value order.

        Entry ``[i, j]`` is the output for ``a = operand_a[i]``, ``b = operand_b[j]``
        as an unsigned integer ``0 .. 2**width_out - 1``.
        """

    def tabulate(
        self,
        interface: Interface,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> np.ndarray:
        """Product table int64 [Na, Nb] in value order.

        The output is read as two's complement when either operand is
        signed, unsigned otherwise. ``timeout`` (seconds) bounds the
        simulation; ``progress`` receives the fraction done.
        """
        self.check_available()
        raw = np.asarray(self._simulate(interface, progress, timeout))
        shape = (1 << interface.a.width, 1 << interface.b.width)
        if raw.shape != shape or raw.dtype.kind not in "iu":
            raise SimulationError(
                f"{interface.top}: {self.name} returned a {raw.dtype} table of shape "
                f"{raw.shape}, expected integers of shape {shape}"
            )
        raw = raw.astype(np.int64)
        width = interface.out.width
        if raw.min() < 0 or raw.max() >= (1 << width):
            raise SimulationError(
                f"{interface.top}: {self.name} returned values outside the {width}-bit output range"
            )
        if interface.output_signed:
            raw = np.where(raw >= (1 << (width - 1)), raw - (1 << width), raw)
        if progress is not None:
            progress(1.0)
        return raw
