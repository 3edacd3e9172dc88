"""Characterizing a netlist: sources in, a validated :class:`~appmult.core.artifact.Artifact` out.

Each call is a pure function of (sources, parameters) -> artifact: the
sources are read into a :class:`~appmult.characterize.sources.Sources`
bundle and simulated from a private copy, so the same call runs in this
process, a process pool or on a Dask worker that shares no filesystem.

A multiplier with an operand of 13..16 bits (or any, with ``stream=True``)
has no table: :func:`characterize_or_plan` then returns the plan of its
streamed characterization (:mod:`appmult.characterize.streaming`), whose
slices a batch spreads over the executor; :func:`characterize` runs them here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np

from appmult.characterize.backends import AUTO, Backend, simulate
from appmult.characterize.crosscheck import Sample
from appmult.characterize.netlist import Interface, discover
from appmult.characterize.signedness import decide, read_words
from appmult.characterize.sources import Sources
from appmult.characterize.streaming import StreamPlan, plan_stream, run_stream
from appmult.core.artifact import Artifact
from appmult.core.operands import is_tabulated
from appmult.core.progress import ProgressCallback

__all__ = ["build_artifact", "characterize", "characterize_or_plan"]


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
    stream: bool = False,
    sample: Sample | None = None,
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
    stream : characterize by streaming even when the table would fit (the
        wide form: exact metrics and summaries, no table); always so for an
        operand of 13..16 bits
    sample : the pairs the reference simulator checks in a streamed
        characterization with ``backend="icarus"``
        (:mod:`appmult.characterize.crosscheck`; default: the corners and
        2**20 random pairs)

    Operand ``a`` is the top module's first input, ``b`` its second.
    """
    result = characterize_or_plan(
        sources, top=top, signed=signed, name=name, backend=backend, progress=progress,
        timeout=timeout, trust=trust, stream=stream,
    )  # fmt: skip
    if isinstance(result, StreamPlan):
        return run_stream(result, sample or Sample(), timeout, progress)
    return result


def characterize_or_plan(
    sources: Sources | Iterable[str | os.PathLike],
    *,
    top: str | None = None,
    signed: bool | None = None,
    name: str | None = None,
    backend: str = AUTO,
    progress: ProgressCallback | None = None,
    timeout: float | None = None,
    trust: bool = False,
    stream: bool = False,
) -> Artifact | StreamPlan:
    """:func:`characterize`, except that a streamed characterization is returned as its plan.

    The plan (the netlist compiled, signedness decided) is cheap to make;
    running its slices is the caller's business (a batch runs them as
    executor jobs).
    """
    bundle = sources if isinstance(sources, Sources) else Sources.read(sources)
    with bundle.placed() as placement, placement.messages():
        interface = discover(placement.paths, top=top, signed=signed, trust=trust)
        if stream or not is_tabulated(interface.a.width, interface.b.width):
            return plan_stream(bundle, interface, signed=signed, name=name, backend=backend)
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
