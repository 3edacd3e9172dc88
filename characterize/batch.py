"""Many characterizations at once, as independent jobs on any scheduler.

A :class:`Request` is everything one characterization needs. The client
reads its sources into a bundle (:mod:`appmult.characterize.sources`) and
turns it into executor jobs (:mod:`appmult.core.executor`):

- usually one job, :func:`appmult.characterize.api.characterize_or_plan` on the bundle;
- for a large sweep with a backend that can slice it (its ``slice_pairs``,
  e.g. the Icarus reference), one job per slice of operand a's bit patterns
  (``slice_pairs`` pairs at most, each its own simulation), whose output
  words the client joins into one table, bit for bit the table of a single run;
- for a multiplier too wide for a table (13..16 bits, or ``stream``), the
  jobs of its streamed characterization (:mod:`appmult.characterize.streaming`):
  one per slice of operand a's patterns, reduced where it runs, plus the
  sampled cross-check when the reference simulator was asked for. Its plan
  comes from the first job (or, for a slicing backend, from the client), so
  these jobs run in a second round on the same session.
- with ``cost``, one more job synthesizing the same bundle
  (:func:`appmult.characterize.synthesis.synthesize`), whose result becomes
  the artifact's hardware cost.

:func:`characterize_many` runs the jobs of many requests on one session and
yields each request's artifact (or its one-line failure) as soon as its last
job is in; the caller decides what to do with it (write it, compare it).
"""

from __future__ import annotations

import dataclasses
import glob
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from appmult.characterize.api import build_artifact, characterize_or_plan
from appmult.characterize.backends import AUTO, Backend, check_backend, get_backend
from appmult.characterize.backends.base import check_words
from appmult.characterize.crosscheck import Sample
from appmult.characterize.netlist import Interface, discover
from appmult.characterize.sources import Sources
from appmult.characterize.streaming import SLICE_PAIRS, StreamPlan, plan_stream, stream_jobs
from appmult.characterize.synthesis import find_yosys, synthesize
from appmult.core.artifact import Artifact, HardwareCost
from appmult.core.errors import AppMultError, ParameterError
from appmult.core.executor import Interrupted, Job, Outcome, open_session
from appmult.core.manifest import Design
from appmult.core.operands import is_tabulated
from appmult.core.progress import ProgressCallback

__all__ = [
    "Done",
    "Request",
    "characterize_many",
    "requests_for_designs",
    "requests_for_files",
    "sweep_slice",
]


@dataclass(frozen=True)
class Request:
    """One characterization: Verilog sources, parameters, and where the artifact goes."""

    sources: tuple[Path, ...]
    output: Path | None = None  # None: ./<artifact name>.h5
    top: str | None = None
    signed: bool | None = None
    name: str | None = None
    backend: str = "auto"
    timeout: float | None = None
    trust: bool = False
    cost: bool = False  # also synthesize the sources with Yosys (the artifact's /cost)
    stream: bool = False
    sample: Sample = field(default_factory=Sample)
    slice_pairs: int = SLICE_PAIRS

    @property
    def label(self) -> str:
        """How the request is named in progress and failure lines: its artifact, else its first file."""
        return str(self.output) if self.output is not None else str(self.sources[0])


@dataclass
class Done:
    """A finished request: its ``artifact``, or the one-line ``error`` that stopped it.

    ``seconds`` is the summed wall time of its jobs.
    """

    request: Request
    artifact: Artifact | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class _Plan:
    """A request's jobs and how their values become its artifact."""

    request: Request
    jobs: list[Job] = field(default_factory=list)
    join: Callable[[list[object]], Artifact | StreamPlan] | None = None
    error: str | None = None
    bundle: Sources | None = None
    #: The hardware cost a first round synthesized, for the artifact the streamed round makes.
    cost: HardwareCost | None = None

    def stream(self, plan: StreamPlan) -> None:
        """Replace the jobs by those of the streamed characterization ``plan``."""
        request = self.request
        self.jobs, join = stream_jobs(
            plan, request.label, request.sample, request.timeout, request.slice_pairs
        )
        self.join = join if self.cost is None else (lambda parts: _with_cost(self, join(parts), self.cost))


def sweep_slice(
    bundle: Sources, interface: Interface, rows: range, timeout: float | None, backend: str
) -> np.ndarray:
    """Output words [len(rows), Nb] of ``interface`` for operand a's patterns ``rows``, by ``backend``.

    Runs on a worker: places ``bundle`` in a scratch folder and points the
    interface at those copies.
    """
    with bundle.placed() as placement, placement.messages():
        placed = dataclasses.replace(interface, sources=placement.paths)
        return get_backend(backend).sweep(placed, rows, timeout=timeout)


def _plan(request: Request) -> _Plan:
    """Read the request's sources and make its jobs (client side); a failure is kept in the plan."""
    plan = _simulation_plan(request)
    if request.cost and plan.error is None:
        simulated, join = len(plan.jobs), plan.join
        options = {"top": request.top, "trust": request.trust}
        plan.jobs.append(Job(f"{request.label} (cost)", synthesize, (plan.bundle,), options))
        plan.join = lambda parts: _with_cost(plan, join(parts[:simulated]), parts[simulated])
    return plan


def _with_cost(plan: _Plan, result: Artifact | StreamPlan, cost: HardwareCost) -> Artifact | StreamPlan:
    """``result`` with its hardware cost; a streamed plan keeps it for the artifact of its next round."""
    if isinstance(result, StreamPlan):
        plan.cost = cost
        return result
    result.cost = cost
    return result


def _simulation_plan(request: Request) -> _Plan:
    """The request's simulation jobs and their join."""
    plan = _Plan(request)
    try:
        check_backend(request.backend)
        bundle = plan.bundle = Sources.read(request.sources)
        options = {"top": request.top, "signed": request.signed, "name": request.name}
        engine = get_backend(request.backend) if request.backend != AUTO else None
        if engine is not None and engine.slice_pairs is not None:
            with bundle.placed() as placement, placement.messages():
                interface = discover(
                    placement.paths, top=request.top, signed=request.signed, trust=request.trust
                )
                if request.stream or not is_tabulated(interface.a.width, interface.b.width):
                    plan.stream(
                        plan_stream(
                            bundle, interface, signed=request.signed, name=request.name, backend=engine.name
                        )
                    )
                    return plan
            na, nb = 1 << interface.a.width, 1 << interface.b.width
            count = math.ceil(na * nb / engine.slice_pairs)
            if count > 1:
                bounds = np.linspace(0, na, count + 1).astype(int)
                slices = [range(int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
                plan.jobs = [
                    Job(f"{request.label} (a patterns {r.start}..{r.stop - 1})", sweep_slice,
                        (bundle, interface, r, request.timeout, engine.name))
                    for r in slices
                ]  # fmt: skip
                naming = {"signed": request.signed, "name": request.name}
                plan.join = lambda parts: _join(bundle, interface, engine, parts, len(slices), naming)
                return plan
        kwargs = dict(
            options,
            backend=request.backend,
            timeout=request.timeout,
            trust=request.trust,
            stream=request.stream,
        )
        plan.jobs = [Job(request.label, characterize_or_plan, (bundle,), kwargs, progress_kwarg="progress")]
        plan.join = lambda parts: parts[0]
    except AppMultError as exc:
        plan.error = str(exc)
    return plan


def _join(
    bundle: Sources, interface: Interface, backend: Backend, parts: list[object], count: int, options: dict
) -> Artifact:
    """One artifact from the slices' output words, in slice order."""
    raw = np.concatenate([np.asarray(p) for p in parts])
    check_words(raw, interface, backend.name, (1 << interface.a.width, 1 << interface.b.width))
    simulator = f"{backend.version()} ({count} slices of operand a, joined)"
    return build_artifact(bundle, interface, raw.astype(np.int64), simulator, backend, **options)


def characterize_many(
    requests: Sequence[Request],
    *,
    scheduler: str = "processes",
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> Iterator[Done]:
    """Run every request's jobs on one session; yield each :class:`Done` when its last job is in.

    Sources are read here, on the client; a request whose sources cannot be
    read (or, for a sliced sweep, parsed) is yielded first as a failure. When a
    request asks for its cost and Yosys is missing, :class:`SynthesisError`
    is raised before anything runs. Others
    keep going when one fails. On Ctrl-C the session is stopped and
    :class:`~appmult.core.executor.Interrupted` names the requests yielded
    so far and the rest.
    """
    if any(request.cost for request in requests):
        find_yosys()  # before any simulation starts
    plans = [_plan(request) for request in requests]
    where: dict[int, tuple[_Plan, int]] = {}
    finished: list[str] = []
    try:
        for plan in plans:
            if plan.error is not None:
                finished.append(plan.request.label)
                yield Done(plan.request, error=plan.error)
        live = [plan for plan in plans if plan.error is None]
        values: dict[int, dict[int, object]] = {id(plan): {} for plan in live}
        seconds: dict[int, float] = dict.fromkeys(values, 0.0)
        failed: set[int] = set()
        while live:  # a second round runs the streamed characterizations the first one planned
            for plan in live:
                for index, job in enumerate(plan.jobs):
                    where[id(job)] = (plan, index)
            jobs = [job for plan in live for job in plan.jobs]
            streamed = []
            # a session per round: a single job runs here, many on the pool
            with open_session(scheduler, workers, len(jobs)) as session:
                for outcome in session.run(jobs, progress):
                    done = _collect(outcome, where, values, seconds, failed)
                    if isinstance(done, _Plan):
                        streamed.append(done)
                    elif done is not None:
                        finished.append(done.request.label)
                        yield done
            live = streamed
    except KeyboardInterrupt as exc:
        unfinished = [p.request.label for p in plans if p.request.label not in finished]
        raise Interrupted(finished, unfinished) from exc


def _collect(
    outcome: Outcome,
    where: dict[int, tuple[_Plan, int]],
    values: dict[int, dict[int, object]],
    seconds: dict[int, float],
    failed: set[int],
) -> Done | _Plan | None:
    """File one job's outcome under its plan; the plan's :class:`Done` once every job of it is in.

    A plan whose first job planned a streamed characterization comes back
    itself, with the streaming jobs as its new jobs, for the next round.
    """
    plan, index = where[id(outcome.job)]
    key = id(plan)
    seconds[key] += outcome.seconds
    if key in failed:
        return None
    if not outcome.ok:
        failed.add(key)  # one failed slice fails the request; its other slices are ignored
        return Done(plan.request, error=outcome.error, seconds=seconds[key])
    values[key][index] = outcome.value
    if len(values[key]) < len(plan.jobs):
        return None
    parts = [values[key].pop(i) for i in range(len(plan.jobs))]
    try:
        artifact = plan.join(parts)
    except AppMultError as exc:
        return Done(plan.request, error=str(exc), seconds=seconds[key])
    if isinstance(artifact, StreamPlan):
        plan.stream(artifact)
        return plan
    return Done(plan.request, artifact=artifact, seconds=seconds[key])


def requests_for_files(
    inputs: Iterable[str | os.PathLike], out_dir: Path, **options: object
) -> list[Request]:
    """One request per Verilog file; directories contribute their ``*.v`` files, sorted.

    A quoted glob pattern (``'lib/*.v'``) that names no existing file is
    expanded here. Each file must hold its top module and the modules it
    instantiates. Artifacts are named ``<out_dir>/<file stem>.h5``.
    """
    files: list[Path] = []
    for entry in map(Path, inputs):
        if entry.is_dir():
            files.extend(sorted(entry.glob("*.v")))
        elif not entry.exists() and glob.has_magic(str(entry)):
            files.extend(sorted(Path(p) for p in glob.glob(str(entry))))
        else:
            files.append(entry)
    if not files:
        raise ParameterError("no Verilog files found in the given paths")
    stems = [f.stem for f in files]
    clashes = sorted({s for s in stems if stems.count(s) > 1})
    if clashes:
        raise ParameterError(
            f"several input files share the name {', '.join(clashes)}; their artifacts would "
            "overwrite each other in the output directory"
        )
    return [Request((f,), out_dir / f"{f.stem}.h5", **options) for f in files]  # type: ignore[arg-type]


def requests_for_designs(designs: Iterable[Design], out_dir: Path, **options: object) -> list[Request]:
    """One request per built-in design, writing ``<out_dir>/<name>.h5``."""
    return [
        Request(d.files, out_dir / f"{d.name}.h5", top=d.top, signed=d.signed, name=d.name, **options)  # type: ignore[arg-type]
        for d in designs
    ]
