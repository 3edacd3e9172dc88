"""Characterizing by streaming: exact metrics and summaries over every operand pair, no table.

A multiplier with an operand of 13..16 bits has up to 2**32 operand pairs,
too many for a table. Its pair space is cut into slices of operand a's bit
patterns (:meth:`StreamPlan.slices`); each slice is one executor job
(:func:`reduce_slice`) that evaluates its pairs with a backend that streams
(bitsim: the netlist compiled once on the client, the program shipped with
the job), a chunk of rows at a time, and reduces them at once to exact
partial sums (:class:`~appmult.core.metrics.ErrorSums`,
:class:`~appmult.core.summary.SummarySums`). The client merges the partials
in whatever order they arrive, to the same bits, into the wide form of the
artifact (:meth:`StreamPlan.artifact`). No worker holds more than one chunk
of 2**18 pairs, a few MB.

The same path runs on any width when asked (``characterize --stream``);
metrics then equal the table's bit for bit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from appmult.characterize.backends import AUTO, BACKENDS, Backend, get_backend
from appmult.characterize.bitsim.evaluate import evaluate_chunks
from appmult.characterize.crosscheck import CrossCheck, Sample, cross_check
from appmult.characterize.netlist import Interface
from appmult.characterize.signedness import Decision, decide, decided_without_table
from appmult.characterize.sources import Sources
from appmult.core.artifact import Artifact
from appmult.core.errors import NetlistError, SimulationError, UnsupportedConstruct
from appmult.core.executor import Job
from appmult.core.fused import reduce_words
from appmult.core.metrics import ErrorSums
from appmult.core.operands import operand_values
from appmult.core.progress import ProgressCallback
from appmult.core.summary import SummarySums

__all__ = [
    "SIGNEDNESS_SAMPLE_PAIRS",
    "SLICE_PAIRS",
    "Reading",
    "StreamPartial",
    "StreamPlan",
    "plan_stream",
    "reduce_slice",
    "run_stream",
    "stream_jobs",
    "streaming_backend",
]

#: Operand pairs per slice job (2**32 pairs make 256 jobs of a few seconds each).
SLICE_PAIRS = 1 << 24

#: Pairs of the sample of rows that decides signedness when neither a flag nor the ports do.
SIGNEDNESS_SAMPLE_PAIRS = 1 << 22


def streaming_backend() -> Backend:
    """The backend that streams (:attr:`~appmult.characterize.backends.base.Backend.streams`): bitsim."""
    return next(cls() for cls in BACKENDS.values() if cls.streams)


@dataclass(frozen=True)
class Reading:
    """How output words become products: operand and output widths, and each operand's signedness."""

    width_a: int
    width_b: int
    width_out: int
    signed_a: bool
    signed_b: bool

    @property
    def shape(self) -> tuple[int, int]:
        return (1 << self.width_a, 1 << self.width_b)

    def value_rows(self, patterns: range) -> range:
        """The value indices (rows of the value-ordered table) of a's bit patterns ``patterns``.

        A signed axis starts at pattern ``Na/2``; a slice never straddles it.
        """
        if not self.signed_a:
            return patterns
        half = self.shape[0] // 2
        shift = -half if patterns.start >= half else half
        return range(patterns.start + shift, patterns.stop + shift)


@dataclass(eq=False)
class StreamPartial:
    """What a slice reduces to: the metric sums and the summary sums of its rows. ``+`` merges."""

    errors: ErrorSums = field(default_factory=ErrorSums)
    summary: SummarySums | None = None

    def __add__(self, other: StreamPartial) -> StreamPartial:
        if self.summary is None:
            return other
        if other.summary is None:
            return self
        return StreamPartial(self.errors + other.errors, self.summary + other.summary)


def reduce_slice(
    program: object, reading: Reading, patterns: range, timeout: float | None = None
) -> StreamPartial:
    """Evaluate every pair of a's bit patterns ``patterns`` and every b, and reduce them (runs on a worker).

    ``program`` is the netlist compiled by the streaming backend; rows are
    reduced a chunk (at most 2**18 pairs) at a time, in value order
    (:func:`appmult.core.fused.reduce_words`).
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    n_a, n_b = reading.shape
    a = operand_values(reading.width_a, reading.signed_a)
    b_patterns = np.arange(n_b, dtype=np.int64)
    half_b = n_b // 2 if reading.signed_b else 0
    columns = (b_patterns + half_b) % n_b  # value index of each pattern of b
    b_by_pattern = operand_values(reading.width_b, reading.signed_b)[columns]
    values = reading.value_rows(patterns)
    output_signed = reading.signed_a or reading.signed_b
    partial = StreamPartial()
    for first, words in evaluate_chunks(program, patterns.start * n_b, patterns.stop * n_b, deadline):
        rows = words.size // n_b
        first_row = values.start + (first // n_b - patterns.start)
        errors, summary = reduce_words(
            words.reshape(rows, n_b), a[first_row : first_row + rows], b_by_pattern, columns,
            output_signed, reading.width_out, first_row, reading.shape,
        )  # fmt: skip
        partial = partial + StreamPartial(errors, summary)
    return partial


@dataclass(frozen=True)
class StreamPlan:
    """A streamed characterization, ready to be cut into slice jobs and joined into an artifact.

    ``program`` is the netlist compiled by ``backend`` (a name from the
    registry); ``decision`` says how the operands are read and how that was
    decided; ``name`` is the artifact's name; ``reference`` the simulator
    that checks a sample of pairs, or None.
    """

    bundle: Sources
    interface: Interface
    program: object
    backend: str
    decision: Decision
    name: str
    simulator: str
    sandbox: str
    reference: str | None = None

    @property
    def reading(self) -> Reading:
        return Reading(
            self.interface.a.width,
            self.interface.b.width,
            self.interface.out.width,
            self.decision.signed_a,
            self.decision.signed_b,
        )

    def slices(self, slice_pairs: int = SLICE_PAIRS) -> list[range]:
        """Ranges of a's bit patterns of at most about ``slice_pairs`` pairs each.

        A power-of-two number of equal slices, at least two for a signed
        operand a, so that no slice straddles pattern ``Na/2`` (where a
        signed axis wraps) and every slice is one block of value rows.
        """
        n_a, n_b = self.reading.shape
        count = 1
        while count < n_a and (n_a // count) * n_b > slice_pairs:
            count *= 2
        if self.reading.signed_a:
            count = max(count, 2)
        step = n_a // count
        return [range(start, start + step) for start in range(0, n_a, step)]

    def artifact(self, partial: StreamPartial, slices: int, check: CrossCheck | None = None) -> Artifact:
        """The wide artifact from the merged partial of every slice and the sampled check, if any.

        Raises :class:`SimulationError` when the check found a pair where the
        two simulators disagree.
        """
        if check is not None and check.first is not None:
            raise SimulationError(check.describe_failure(self.interface.top, self.backend))
        pairs = partial.errors.pairs
        metrics_by = f"{self.backend}, exhaustive over all {pairs:,} pairs in {slices} slice(s), streamed"
        simulator, sandbox = self.simulator, self.sandbox
        if check is not None:
            record = check.check
            simulator += (
                f"; sampled cross-check: {record.reference} agreed on {record.pairs:,} pairs "
                f"({record.corner_pairs} corner pairs + {record.random_pairs:,} random, seed {record.seed})"
            )
            sandbox += f"; cross-check: {get_backend(self.reference).sandbox_description()}"
        return Artifact(
            name=self.name,
            top=self.interface.top,
            width_a=self.interface.a.width,
            width_b=self.interface.b.width,
            width_out=self.interface.out.width,
            signed_a=self.decision.signed_a,
            signed_b=self.decision.signed_b,
            product=None,
            metrics=partial.errors.metrics(),
            summary=partial.summary.summary(metrics_by, None if check is None else check.check),
            source_files=self.bundle.paths,
            source_sha256=self.bundle.sha256(),
            simulator=simulator,
            signedness=self.decision.how,
            sandbox=sandbox,
        )


def plan_stream(
    bundle: Sources, interface: Interface, *, signed: bool | None, name: str | None, backend: str
) -> StreamPlan:
    """Compile the netlist for streaming and decide its signedness (a sample of rows if the table must).

    ``backend`` is the backend the user chose: whichever it is, the
    exhaustive pass is the streaming backend's; another one (the Icarus
    reference) becomes the plan's ``reference``, which checks a sample. Raises :class:`NetlistError`
    (not the :class:`UnsupportedConstruct` that ``auto`` answers by falling
    back to a simulator that cannot sweep this many pairs) for a netlist the
    streaming backend cannot evaluate.
    """
    engine = streaming_backend()
    try:
        program = engine.program(interface)
    except UnsupportedConstruct as exc:
        pairs = (1 << interface.a.width) * (1 << interface.b.width)
        raise NetlistError(
            f"{interface.top}: {interface.a.width}x{interface.b.width}-bit operands are characterized by "
            f"streaming with {engine.name}, which does not support {exc.construct} at {exc.location} "
            f"(a reference simulator would need days for {pairs:,} pairs); rewrite it with continuous "
            "assigns and module instances"
        ) from exc
    decision = decided_without_table(interface, signed)
    if decision is None:
        decision = _decide_from_sample(program, interface)
    return StreamPlan(
        bundle=bundle,
        interface=interface,
        program=program,
        backend=engine.name,
        decision=decision,
        name=name or interface.top,
        simulator=f"{engine.version()}, streamed",
        sandbox=engine.sandbox_description(),
        reference=None if backend in (AUTO, engine.name) else backend,
    )


def stream_jobs(
    plan: StreamPlan,
    label: str,
    sample: Sample,
    timeout: float | None = None,
    slice_pairs: int = SLICE_PAIRS,
) -> tuple[list[Job], Callable[[list[object]], Artifact]]:
    """The executor jobs of ``plan`` and the function that joins their values into the artifact.

    One job per slice (:func:`reduce_slice`), plus the sampled cross-check
    when the plan has a reference; ``timeout`` bounds each job; ``label``
    names the request in the jobs' keys.
    """
    slices = plan.slices(slice_pairs)
    jobs = [
        Job(
            f"{label} (a patterns {r.start}..{r.stop - 1})",
            reduce_slice,
            (plan.program, plan.reading, r, timeout),
        )
        for r in slices
    ]
    if plan.reference is not None:
        arguments = (plan.bundle, plan.interface, plan.program, plan.reference, sample, timeout)
        jobs.append(Job(f"{label} (sampled cross-check with {plan.reference})", cross_check, arguments))

    def join(values: list[object]) -> Artifact:
        partial = StreamPartial()
        for value in values[: len(slices)]:
            partial = partial + value
        check = values[len(slices)] if plan.reference is not None else None
        return plan.artifact(partial, len(slices), check)

    return jobs, join


def run_stream(
    plan: StreamPlan,
    sample: Sample,
    timeout: float | None = None,
    progress: ProgressCallback | None = None,
    slice_pairs: int = SLICE_PAIRS,
) -> Artifact:
    """Run every job of ``plan`` in this process, one after the other; the artifact."""
    jobs, join = stream_jobs(plan, plan.name, sample, timeout, slice_pairs)
    values = []
    for done, job in enumerate(jobs, start=1):
        values.append(job.function(*job.args, **job.kwargs))
        if progress is not None:
            progress(done / len(jobs))
    return join(values)


def _decide_from_sample(program: object, interface: Interface) -> Decision:
    """Signedness from evenly spaced rows of a's patterns, about :data:`SIGNEDNESS_SAMPLE_PAIRS` pairs
    (every row when the table is that small, which then decides exactly as the whole table does)."""
    n_a, n_b = 1 << interface.a.width, 1 << interface.b.width
    count = max(1, min(n_a, SIGNEDNESS_SAMPLE_PAIRS // n_b))
    rows = np.unique(np.linspace(0, n_a - 1, count).round().astype(np.int64))
    raw = np.empty((rows.size, n_b), dtype=np.uint32)
    for k, row in enumerate(rows):
        for first, words in evaluate_chunks(program, int(row) * n_b, (int(row) + 1) * n_b):
            raw[k, first - int(row) * n_b : first - int(row) * n_b + words.size] = words
    return decide(raw, interface, None, rows=None if rows.size == n_a else rows)
