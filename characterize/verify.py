"""Exhaustive verification of a netlist against an independent reference.

References: the exact product ``a*b``; the built-in design's reference model
(written from the published definition, see
:mod:`appmult.characterize.reference_models`); the product table of an
existing artifact; or the netlist simulated by another backend.

Every simulation is a characterization job (:mod:`appmult.characterize.batch`),
so :func:`verify_many` runs a whole library on any scheduler; the comparison
happens on the client as each design's tables come in.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from appmult.characterize.backends import AUTO, BACKENDS, check_backend
from appmult.characterize.batch import Request, characterize_many
from appmult.core.artifact import Artifact
from appmult.core.artifact_file import load
from appmult.core.errors import AppMultError, ParameterError
from appmult.core.manifest import Design, load_manifest
from appmult.core.progress import ProgressCallback

__all__ = [
    "Mismatch",
    "Target",
    "VerifyReport",
    "compare_tables",
    "design_for_sources",
    "verify",
    "verify_many",
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
) -> Iterator[VerifyReport]:
    """Simulate every target with every backend and compare each table with ``against``.

    ``against`` is ``"exact"``, ``"model"`` (each target's built-in design),
    a backend name (the same netlist simulated by that backend), or the path
    of an artifact file. Against a backend, ``auto`` means the other backend
    (auto would otherwise pick the same one for a netlist both support).
    Reports are yielded as they are ready; a target that cannot be simulated
    yields a report with its ``error``.
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
