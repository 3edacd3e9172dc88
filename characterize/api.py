"""Characterizing a netlist: sources in, a validated :class:`~appmult.core.artifact.Artifact` out.

Each call is a pure function of (sources, parameters) -> artifact: the
sources are read into a :class:`~appmult.characterize.sources.Sources`
bundle and simulated from a private copy, so the same call runs in this
process, a process pool or on a Dask worker that shares no filesystem.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np

from appmult.characterize.backends import AUTO, Backend, simulate
from appmult.characterize.netlist import Interface, discover
from appmult.characterize.signedness import decide, read_words
from appmult.characterize.sources import Sources
from appmult.core.artifact import Artifact
from appmult.core.progress import ProgressCallback

__all__ = ["build_artifact", "characterize"]


def characterize(
    sources: Sources | Iterable[str | os.PathLike],
    *,
    top: str | None = None,
    signed: bool | None = None,
    name: str | None = None,
    backend: str = AUTO,
    progress: ProgressCallback | None = None,
    timeout: float | None = None,
    trust: bool = False,
) -> Artifact:
    """Exhaustively simulate a multiplier and return its artifact (not yet written).

    Parameters
    ----------
    sources : Verilog files holding the top module and everything it
        instantiates, or a :class:`Sources` bundle of them
    top : top module name (default: the one module no other instantiates)
    signed : read both operands as two's complement (True) or unsigned
        (False); default: each operand follows its port's ``signed``
        keyword, and without one the table decides
        (:mod:`appmult.characterize.signedness`)
    name : artifact name (default: the top module's name)
    backend : ``"auto"`` (bitsim, falling back to icarus for constructs bitsim does
        not support; the artifact's ``simulator`` then says why), or a backend
        name from :data:`appmult.characterize.backends.BACKENDS`
    progress : receives the fraction of operand pairs done
    timeout : seconds before a simulation that has not finished is stopped
    trust : skip the refusal of system tasks and functions outside the
        allow-list (:mod:`appmult.characterize.safety`)

    Operand ``a`` is the top module's first input, ``b`` its second.
    """
    bundle = sources if isinstance(sources, Sources) else Sources.read(sources)
    with bundle.placed() as placement, placement.messages():
        interface = discover(placement.paths, top=top, signed=signed, trust=trust)
        simulation = simulate(interface, backend, progress, timeout)
        simulator = placement.restore(simulation.simulator)
    return build_artifact(
        bundle, interface, simulation.raw, simulator, simulation.backend, signed=signed, name=name
    )


def build_artifact(
    bundle: Sources,
    interface: Interface,
    raw: np.ndarray,
    simulator: str,
    backend: Backend,
    *,
    signed: bool | None = None,
    name: str | None = None,
) -> Artifact:
    """The artifact of the output words ``raw`` [Na, Nb] (by bit pattern) that ``backend`` made.

    Decides the operands' signedness (``signed`` is the ``--signed``/``--unsigned``
    flag), reads the words in value order and records the provenance: the
    sources as the user named them with their SHA-256, the simulator, how
    signedness was decided and whether the simulator was sandboxed.
    """
    decision = decide(raw, interface, signed)
    return Artifact(
        name=name or interface.top,
        top=interface.top,
        width_a=interface.a.width,
        width_b=interface.b.width,
        width_out=interface.out.width,
        signed_a=decision.signed_a,
        signed_b=decision.signed_b,
        product=read_words(raw, interface.out.width, decision.signed_a, decision.signed_b),
        source_files=bundle.paths,
        source_sha256=bundle.sha256(),
        simulator=simulator,
        signedness=decision.how,
        sandbox=backend.sandbox_description(),
    )
