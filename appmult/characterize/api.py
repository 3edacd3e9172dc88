"""Characterizing a netlist: sources in, a validated :class:`~appmult.core.artifact.Artifact` out.

Each call is a pure function of (sources, parameters) -> artifact, so batches
can run in a process pool or any distributed engine.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from appmult.characterize.backends import AUTO, tabulate
from appmult.characterize.netlist import discover
from appmult.core.artifact import Artifact
from appmult.core.progress import ProgressCallback

__all__ = ["characterize"]


def characterize(
    sources: Iterable[str | os.PathLike],
    *,
    top: str | None = None,
    signed: bool | None = None,
    name: str | None = None,
    backend: str = AUTO,
    progress: ProgressCallback | None = None,
    timeout: float | None = None,
) -> Artifact:
    """Exhaustively simulate a multiplier and return its artifact (not yet written).

    Parameters
    ----------
    sources : Verilog files holding the top module and everything it instantiates
    top : top module name (default: the one module no other instantiates)
    signed : read both operands as two's complement (True) or unsigned (False);
        default: each operand follows its port's ``signed`` keyword
    name : artifact name (default: the top module's name)
    backend : ``"auto"`` (bitsim, falling back to icarus for constructs bitsim does
        not support; the artifact's ``simulator`` then says why), or a backend
        name from :data:`appmult.characterize.backends.BACKENDS`
    progress : receives the fraction of operand pairs done
    timeout : seconds before a simulation that has not finished is stopped

    Operand ``a`` is the top module's first input, ``b`` its second.
    """
    paths = [Path(s) for s in sources]
    interface = discover(paths, top=top, signed=signed)
    product, simulator = tabulate(interface, backend, progress=progress, timeout=timeout)
    return Artifact.from_sources(
        paths,
        name=name or interface.top,
        top=interface.top,
        width_a=interface.a.width,
        width_b=interface.b.width,
        width_out=interface.out.width,
        signed_a=interface.signed_a,
        signed_b=interface.signed_b,
        product=product,
        simulator=simulator,
    )
