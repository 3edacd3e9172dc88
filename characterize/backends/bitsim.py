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
from appmult.characterize.bitsim.evaluate import evaluate
from appmult.characterize.bitsim.program import compile_program
from appmult.characterize.netlist import Interface
from appmult.characterize.verilog import parse_modules
from appmult.core.errors import SimulationError
from appmult.core.progress import ProgressCallback

__all__ = ["BitsimBackend"]


class BitsimBackend(Backend):
    """Bit-parallel evaluation of the flattened netlist over all operand pairs."""

    name = "bitsim"

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
        netlist = elaborate(parse_modules(list(interface.sources)), interface)
        words = evaluate(compile_program(netlist), progress=progress, deadline=deadline)
        return words.reshape(1 << interface.a.width, 1 << interface.b.width)
