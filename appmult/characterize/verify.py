"""Exhaustive verification of a netlist against an independent reference.

References: the exact product ``a*b``; the built-in design's reference model
(written from the published definition, see
:mod:`appmult.characterize.reference_models`); the product table of an existing
artifact; or the netlist simulated by another backend.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from appmult.characterize.api import characterize
from appmult.core.artifact import Artifact, load
from appmult.core.errors import ParameterError
from appmult.core.manifest import Design, load_manifest

__all__ = ["Mismatch", "VerifyReport", "compare_tables", "design_for_sources", "verify"]


@dataclass(frozen=True)
class Mismatch:
    """One operand pair where the netlist and the reference disagree (values, not bit patterns)."""

    a: int
    b: int
    expected: int
    actual: int


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of one verification."""

    design: str
    backend: str
    against: str
    pairs: int
    mismatches: int
    first: tuple[Mismatch, ...]

    @property
    def ok(self) -> bool:
        return self.mismatches == 0


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


def _reference(against: str, artifact: Artifact, design: Design | None, options: dict) -> np.ndarray:
    """The expected product table for ``artifact``'s operand axes."""
    from appmult.characterize.backends import BACKENDS
    from appmult.characterize.reference_models import reference_product

    if against == "exact":
        return np.multiply.outer(artifact.operand_a.astype(np.int64), artifact.operand_b)
    if against == "model":
        if design is None:
            raise ParameterError("--against model needs a built-in design")
        return reference_product(design)
    if against in BACKENDS:
        return characterize(**options, backend=against).product
    path = Path(against)
    if path.suffix != ".h5":
        raise ParameterError(
            f"--against {against!r}: expected exact, model, a backend name ({', '.join(BACKENDS)}) "
            "or an artifact file ending in .h5"
        )
    other = load(path)
    mine = (artifact.width_a, artifact.width_b, artifact.signed_a, artifact.signed_b)
    theirs = (other.width_a, other.width_b, other.signed_a, other.signed_b)
    if mine != theirs:
        raise ParameterError(
            f"{path}: operands are {_describe(theirs)} but the netlist's are {_describe(mine)}"
        )
    return other.product


def _describe(spec: tuple[int, int, bool, bool]) -> str:
    wa, wb, sa, sb = spec
    return f"{wa}x{wb}-bit {'s' if sa else 'u'}/{'s' if sb else 'u'}"


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
    """Simulate ``sources`` with ``backend`` and compare every pair with ``against``.

    ``against`` is ``"exact"``, ``"model"`` (the built-in design's reference
    model; ``design`` defaults to the manifest entry whose files are
    ``sources``), a backend name, or the path of an artifact file.
    """
    paths = [Path(s) for s in sources]
    if against == "model" and design is None:
        design = design_for_sources(paths)
    if design is not None:
        top = top or design.top
        signed = design.signed if signed is None else signed
    options = {"sources": paths, "top": top, "signed": signed}
    artifact = characterize(**options, backend=backend)
    expected = _reference(against, artifact, design, options)
    count, first = compare_tables(artifact.product, expected, artifact.operand_a, artifact.operand_b, limit)
    return VerifyReport(
        design=design.name if design else artifact.name,
        backend=artifact.simulator,
        against=against,
        pairs=artifact.product.size,
        mismatches=count,
        first=first,
    )
