"""The fast backend: pyverilog parse, flatten to gates, evaluate with numpy on packed words.

It accepts the structural subset real multiplier netlists use (see
:mod:`appmult.characterize.bitsim.elaborate`) and raises
:class:`~appmult.core.errors.UnsupportedConstruct` naming anything else, which
the ``auto`` choice answers by falling back to Icarus. Results agree bit for
bit with the Icarus reference on every design it accepts.
"""

from __future__ import annotations

import time

import numpy as np

from appmult.characterize.backends.base import Backend
from appmult.characterize.bitsim.elaborate import elaborate
from appmult.characterize.bitsim.evaluate import evaluate, evaluate_pairs
from appmult.characterize.bitsim.program import Program, compile_program
from appmult.characterize.netlist import Interface
from appmult.characterize.verilog import parse_modules
from appmult.core.errors import SimulationError
from appmult.core.progress import ProgressCallback

__all__ = ["BitsimBackend"]


class BitsimBackend(Backend):
    """Bit-parallel evaluation of the flattened netlist over all operand pairs."""

    name = "bitsim"
    streams = True

    def check_available(self) -> None:
        try:
            import pyverilog  # noqa: F401
        except ImportError as exc:
            raise SimulationError(
                f"pyverilog is not installed ({exc}); run `pip install -e .` in the project"
            ) from exc

    def version(self) -> str:
        import pyverilog

        return f"bitsim (pyverilog {pyverilog.__version__}, numpy {np.__version__})"

    def _simulate(
        self, interface: Interface, progress: ProgressCallback | None, timeout: float | None
    ) -> np.ndarray:
        """Output words uint32 [Na, Nb]: rows a, columns b, both by bit pattern."""
        deadline = None if timeout is None else time.monotonic() + timeout
        words = evaluate(self.program(interface), progress=progress, deadline=deadline)
        return words.reshape(1 << interface.a.width, 1 << interface.b.width)

    def program(self, interface: Interface) -> Program:
        """The netlist flattened and scheduled (:mod:`appmult.characterize.bitsim.program`)."""
        self.check_available()
        return compile_program(elaborate(parse_modules(list(interface.sources)), interface))

    def sample(
        self,
        interface: Interface,
        a_patterns: np.ndarray,
        b_patterns: np.ndarray,
        timeout: float | None = None,
    ) -> np.ndarray:
        """Output words uint32 [n] of the given pairs of bit patterns."""
        indices = (np.asarray(a_patterns, np.uint64) << np.uint64(interface.b.width)) | np.asarray(
            b_patterns, np.uint64
        )
        return evaluate_pairs(self.program(interface), indices)
