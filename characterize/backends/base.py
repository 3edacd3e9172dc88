"""The simulation backend interface: one base class, one template method.

A backend turns an :class:`~appmult.characterize.netlist.Interface` into the
raw output words of every operand pair, indexed by the operands' **bit
patterns** (row ``i`` is operand a's pattern ``i``, column ``j`` operand b's
pattern ``j``). Reading the words as a product table in value order, signed
or unsigned, is done afterwards (:mod:`appmult.characterize.signedness`), so
every reading of one simulation is available without simulating again.

:meth:`Backend.raw_words` is written once for all backends: it checks the
backend is available, runs the backend's hook and checks shape and range.
Backends raise, never print.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from appmult.characterize import sandbox
from appmult.characterize.netlist import Interface
from appmult.core.errors import SimulationError
from appmult.core.progress import ProgressCallback

__all__ = ["Backend"]


class Backend(ABC):
    """A way of evaluating a netlist on every operand pair.

    Subclasses set :attr:`name` and implement :meth:`check_available`,
    :meth:`version` and :meth:`_simulate`. What a backend can do is asked of
    it, never decided from its name elsewhere: :attr:`runs_simulator`
    (whether it starts a simulator process on the user's sources, which the
    sandbox then confines), :attr:`slice_pairs` with :meth:`sweep` (whether
    a large sweep may be cut into slices of operand a's patterns, one job each),
    :attr:`streams` with :meth:`program` (whether it compiles a netlist into a
    program that evaluates any range of operand pairs without a table, which
    wide multipliers need) and :meth:`sample` (output words of given pairs).
    """

    #: Registry key and ``--backend`` choice.
    name: ClassVar[str]
    #: Whether the backend runs a simulator process on the sources (confined by the sandbox).
    runs_simulator: ClassVar[bool] = False
    #: Operand pairs above which a batch cuts one sweep into slices of a's patterns (None: never).
    slice_pairs: ClassVar[int | None] = None
    #: Whether :meth:`program` compiles the netlist for streamed evaluation.
    streams: ClassVar[bool] = False

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
        """Output words, integer array [Na, Nb] indexed by the operands' bit patterns.

        Entry ``[i, j]`` is the output for ``a`` = pattern ``i`` and ``b`` =
        pattern ``j``, as an unsigned integer ``0 .. 2**width_out - 1``.
        """

    def raw_words(
        self,
        interface: Interface,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> np.ndarray:
        """Output words int64 [Na, Nb] by bit pattern, checked for shape and range.

        ``timeout`` (seconds) bounds the simulation; ``progress`` receives the
        fraction done.
        """
        self.check_available()
        raw = np.asarray(self._simulate(interface, progress, timeout))
        check_words(raw, interface, self.name, (1 << interface.a.width, 1 << interface.b.width))
        if progress is not None:
            progress(1.0)
        return raw.astype(np.int64)

    def sweep(
        self,
        interface: Interface,
        rows: range,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> np.ndarray:
        """Output words [len(rows), Nb] for operand a's bit patterns ``rows`` (step 1) and every b.

        Only backends with :attr:`slice_pairs` set provide it.
        """
        raise NotImplementedError(f"the {self.name} backend does not sweep slices")

    def program(self, interface: Interface) -> object:
        """A picklable compiled form of the netlist (only backends with :attr:`streams` set)."""
        raise NotImplementedError(f"the {self.name} backend does not stream")

    @abstractmethod
    def sample(
        self,
        interface: Interface,
        a_patterns: np.ndarray,
        b_patterns: np.ndarray,
        timeout: float | None = None,
    ) -> np.ndarray:
        """Output words uint32 [n] of the pairs ``(a_patterns[k], b_patterns[k])`` (bit patterns)."""

    def sandbox_description(self) -> str:
        """How the simulation was confined, for the artifact's ``sandbox`` attribute."""
        if self.runs_simulator:
            return sandbox.describe()
        return f"not needed: {self.name} runs no simulator process"


def check_words(raw: np.ndarray, interface: Interface, source: str, shape: tuple[int, int]) -> None:
    """Raise :class:`SimulationError` unless ``raw`` holds integers of ``shape`` within the output's range."""
    if raw.shape != shape or raw.dtype.kind not in "iu":
        raise SimulationError(
            f"{interface.top}: {source} returned a {raw.dtype} table of shape "
            f"{raw.shape}, expected integers of shape {shape}"
        )
    width = interface.out.width
    if raw.size and (int(raw.min()) < 0 or int(raw.max()) >= (1 << width)):
        raise SimulationError(
            f"{interface.top}: {source} returned values outside the {width}-bit output range"
        )
