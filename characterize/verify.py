"""Exhaustive verification of a netlist against an independent reference.

References: the exact product ``a*b``; the built-in design's reference model
(written from the published definition, see
:mod:`appmult.characterize.reference_models`); the product table of an
existing artifact; or the netlist simulated by another backend.

Every simulation is a characterization job (:mod:`appmult.characterize.batch`),
so :func:`verify_many` runs a whole library on any scheduler; the comparison
happens on the client as each design's tables come in.

A multiplier too wide for a table (an operand of 13..16 bits) is verified on
a sample instead (:func:`verify_sample`, one job per backend): the corner
operands against each other plus seeded random pairs
(:mod:`appmult.characterize.crosscheck`), against the exact product or
another backend; its report says ``sampled``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from appmult.characterize.backends import AUTO, BACKENDS, check_backend, get_backend
from appmult.characterize.batch import Request, characterize_many
from appmult.characterize.crosscheck import Sample, sample_patterns
from appmult.characterize.netlist import Interface, discover
from appmult.characterize.sources import Sources
from appmult.characterize.streaming import plan_stream
from appmult.core.artifact import Artifact
from appmult.core.artifact_file import load
from appmult.core.errors import AppMultError, ParameterError
from appmult.core.executor import Job, open_session
from appmult.core.manifest import Design, load_manifest
from appmult.core.operands import is_tabulated
from appmult.core.progress import ProgressCallback

__all__ = [
    "Mismatch",
    "Target",
    "VerifyReport",
    "compare_tables",
    "design_for_sources",
    "verify",
    "verify_many",
    "verify_sample",
]


@dataclass(frozen=True)
class Mismatch:
    """One operand pair where the netlist and the reference disagree (values, not bit patterns)."""

    a: int
    b: int
    expected: int
    actual: int


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of one verification; ``error`` is set when it could not run."""

    design: str
    backend: str
    against: str
    pairs: int = 0
    mismatches: int = 0
    first: tuple[Mismatch, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.mismatches == 0


@dataclass(frozen=True)
class Target:
    """A netlist to verify: its sources and how to read them; ``design`` for a built-in one."""

    sources: tuple[Path, ...]
    top: str | None = None
    signed: bool | None = None
    design: Design | None = None

    @property
    def label(self) -> str:
        return self.design.name if self.design else ", ".join(map(str, self.sources))


def compare_tables(
    actual: np.ndarray, expected: np.ndarray, operand_a: np.ndarray, operand_b: np.ndarray, limit: int = 10
) -> tuple[int, tuple[Mismatch, ...]]:
    """Count differing entries of two [Na, Nb] tables; list the first ``limit`` in row-major order."""
    differ = np.asarray(actual, dtype=np.int64) != np.asarray(expected, dtype=np.int64)
    rows, cols = np.nonzero(differ)
    first = tuple(
        Mismatch(int(operand_a[i]), int(operand_b[j]), int(expected[i, j]), int(actual[i, j]))
        for i, j in zip(rows[:limit], cols[:limit], strict=True)
    )
    return int(differ.sum()), first


def design_for_sources(sources: Iterable[Path]) -> Design:
    """The built-in design whose files are exactly ``sources``."""
    wanted = {Path(s).resolve() for s in sources}
    for design in load_manifest():
        if set(design.files) == wanted:
            return design
    raise ParameterError(
        f"{', '.join(map(str, sources))}: not a built-in design, so it has no reference model; "
        "use --against exact, --against FILE.h5 or --against icarus|bitsim"
    )


def _check_against(against: str) -> None:
    if against in ("exact", "model") or against in BACKENDS:
        return
    if Path(against).suffix != ".h5":
        raise ParameterError(
            f"--against {against!r}: expected exact, model, a backend name ({', '.join(BACKENDS)}) "
            "or an artifact file ending in .h5"
        )


def _expected(against: str, artifact: Artifact, target: Target, other: Artifact | None) -> np.ndarray:
    """The reference table for ``artifact``'s operand axes."""
    from appmult.characterize.reference_models import reference_product

    if against == "exact":
        return np.multiply.outer(artifact.operand_a.astype(np.int64), artifact.operand_b)
    if against == "model":
        return reference_product(target.design)
    mine = (artifact.width_a, artifact.width_b, artifact.signed_a, artifact.signed_b)
    theirs = (other.width_a, other.width_b, other.signed_a, other.signed_b)
    if mine != theirs:
        source = against if against not in BACKENDS else f"the {against} backend"
        raise ParameterError(
            f"{source}: operands are {_describe(theirs)} but the netlist's are {_describe(mine)}"
        )
    return other.product


def _describe(spec: tuple[int, int, bool, bool]) -> str:
    wa, wb, sa, sb = spec
    return f"{wa}x{wb}-bit {'s' if sa else 'u'}/{'s' if sb else 'u'}"


def verify_many(
    targets: Sequence[Target],
    against: str,
    backends: Sequence[str] = ("auto",),
    *,
    limit: int = 10,
    scheduler: str = "processes",
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    sample: Sample | None = None,
) -> Iterator[VerifyReport]:
    """Simulate every target with every backend and compare each table with ``against``.

    ``against`` is ``"exact"``, ``"model"`` (each target's built-in design),
    a backend name (the same netlist simulated by that backend), or the path
    of an artifact file. Against a backend, ``auto`` means the other backend
    (auto would otherwise pick the same one for a netlist both support).
    Reports are yielded as they are ready; a target that cannot be simulated
    yields a report with its ``error``. A wide target is compared on
    ``sample`` (:func:`verify_sample`).
    """
    _check_against(against)
    if against in BACKENDS:
        other = next(name for name in BACKENDS if name != against)
        backends = [other if backend == AUTO else backend for backend in backends]
    for backend in backends:
        check_backend(backend)
        if backend == against:
            raise ParameterError(
                f"--against {against} with --backend {backend} compares a simulation with itself, which "
                "cannot find anything; verify one backend against the other"
            )
    reference = load(against) if Path(against).suffix == ".h5" else None
    if against == "model":
        targets = [
            t if t.design else Target(t.sources, t.top, t.signed, design_for_sources(t.sources))
            for t in targets
        ]
    wide, targets = _split_wide(targets)
    if wide:
        yield from _verify_wide(
            wide, against, backends, sample or Sample(), limit, scheduler, workers, progress
        )
    roles: dict[int, tuple[Target, str]] = {}
    requests = []
    for target in targets:
        top = target.top or (target.design.top if target.design else None)
        signed = (
            target.signed if target.signed is not None else (target.design.signed if target.design else None)
        )
        for role in (*backends, *([against] if against in BACKENDS else [])):
            request = Request(target.sources, top=top, signed=signed, backend=role)
            roles[id(request)] = (target, role)
            requests.append(request)
    tables: dict[tuple[int, str], Artifact | str] = {}
    for done in characterize_many(requests, scheduler=scheduler, workers=workers, progress=progress):
        target, role = roles[id(done.request)]
        tables[(id(target), role)] = done.artifact if done.ok else done.error
        yield from _ready(target, role, tables, against, backends, reference, limit)


def _ready(target, role, tables, against, backends, reference, limit) -> Iterator[VerifyReport]:  # noqa: ANN001
    """The reports of ``target`` that the table just in (``role``) completes."""
    other = tables.get((id(target), against)) if against in BACKENDS else reference
    if against in BACKENDS and other is None:
        return  # its reference simulation is not in yet
    waiting = backends if role == against and against in BACKENDS else [role] if role in backends else []
    for backend in waiting:
        subject = tables.get((id(target), backend))
        if subject is None:
            continue
        if isinstance(subject, str) or isinstance(other, str):
            error = subject if isinstance(subject, str) else other
            yield VerifyReport(target.label, backend, against, error=error)
            continue
        try:
            expected = _expected(against, subject, target, other)
        except AppMultError as exc:
            yield VerifyReport(target.label, subject.simulator, against, error=str(exc))
            continue
        count, first = compare_tables(subject.product, expected, subject.operand_a, subject.operand_b, limit)
        yield VerifyReport(target.label, subject.simulator, against, subject.product.size, count, first)


def _split_wide(targets: Sequence[Target]) -> tuple[list[tuple[Target, Sources]], list[Target]]:
    """The targets too wide for a table (with their sources read), and the others.

    Reads each target's ports on the client; a target that cannot be read
    stays with the others, whose jobs report why.
    """
    wide, others = [], []
    for target in targets:
        try:
            bundle = Sources.read(target.sources)
            with bundle.placed() as placement, placement.messages():
                interface = discover(placement.paths, top=_top(target), signed=_signed(target))
        except AppMultError:
            others.append(target)
            continue
        if is_tabulated(interface.a.width, interface.b.width):
            others.append(target)
        else:
            wide.append((target, bundle))
    return wide, others


def _top(target: Target) -> str | None:
    return target.top or (target.design.top if target.design else None)


def _signed(target: Target) -> bool | None:
    if target.signed is not None:
        return target.signed
    return target.design.signed if target.design else None


def _verify_wide(
    wide, against, backends, sample, limit, scheduler, workers, progress
) -> Iterator[VerifyReport]:  # noqa: ANN001
    """One :func:`verify_sample` job per wide target and backend, on one session."""
    if against == "model" or against not in ("exact", *BACKENDS):
        raise ParameterError(
            f"--against {against}: {', '.join(t.label for t, _ in wide)} is too wide for a table, so it is "
            "verified on a sample, against exact or a backend (--against exact or --against icarus)"
        )
    jobs = [
        Job(f"{target.label} ({backend})", verify_sample,
            (bundle, _top(target), _signed(target), target.label, backend, against, sample, limit))
        for target, bundle in wide
        for backend in backends
    ]  # fmt: skip
    with open_session(scheduler, workers, len(jobs)) as session:
        for outcome in session.run(jobs, progress):
            if outcome.ok:
                yield outcome.value
            else:
                label, backend = outcome.job.args[3], outcome.job.args[4]
                yield VerifyReport(label, backend, f"{against} (sampled)", error=outcome.error)


def verify_sample(
    bundle: Sources,
    top: str | None,
    signed: bool | None,
    label: str,
    backend: str,
    against: str,
    sample: Sample,
    limit: int = 10,
) -> VerifyReport:
    """Compare ``backend``'s outputs with ``against`` (``exact`` or a backend) on ``sample``'s pairs.

    The operands are read as the streamed characterization reads them (its
    signedness decision); mismatches are listed by operand value.
    """
    with bundle.placed() as placement, placement.messages():
        interface = discover(placement.paths, top=top, signed=signed)
        plan = plan_stream(bundle, interface, signed=signed, name=None, backend=AUTO)
        a, b, _ = sample_patterns(interface.a.width, interface.b.width, sample)
        actual_words = _sample_words(plan.backend if backend == AUTO else backend, interface, a, b)
        expected_words = None if against == "exact" else _sample_words(against, interface, a, b)
        simulator = placement.restore(get_backend(plan.backend if backend == AUTO else backend).version())
    reading = plan.reading
    a_values = _values(a, reading.width_a, reading.signed_a)
    b_values = _values(b, reading.width_b, reading.signed_b)
    output_signed = reading.signed_a or reading.signed_b
    actual = _values(actual_words, reading.width_out, output_signed)
    expected = (
        a_values * b_values
        if expected_words is None
        else _values(expected_words, reading.width_out, output_signed)
    )
    differ = np.flatnonzero(actual != expected)
    first = tuple(
        Mismatch(int(a_values[k]), int(b_values[k]), int(expected[k]), int(actual[k])) for k in differ[:limit]
    )
    what = f"{against} (sampled, seed {sample.seed})"
    return VerifyReport(label, simulator, what, int(a.size), int(differ.size), first)


def _sample_words(backend: str, interface: Interface, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(get_backend(backend).sample(interface, a, b), dtype=np.int64)


def _values(patterns: np.ndarray, width: int, signed: bool) -> np.ndarray:
    """Bit patterns read as unsigned or two's-complement values, int64."""
    patterns = np.asarray(patterns, dtype=np.int64)
    return patterns - ((patterns >> (width - 1)) << width) if signed else patterns


def verify(
    sources: Iterable[str | os.PathLike],
    against: str,
    *,
    backend: str = "auto",
    top: str | None = None,
    signed: bool | None = None,
    design: Design | None = None,
    limit: int = 10,
) -> VerifyReport:
    """Simulate ``sources`` with ``backend`` and compare every pair with ``against``, in this process.

    Raises the error that stopped it instead of reporting it.
    """
    target = Target(tuple(Path(s) for s in sources), top, signed, design)
    (report,) = verify_many([target], against, [backend], limit=limit, workers=1)
    if report.error is not None:
        raise AppMultError(report.error)
    return report
