"""The reference simulator on a sample, where an exhaustive sweep is out of reach.

cocotb + Icarus need about 4-30 us a pair, days for the 2**32 pairs of a
16x16 multiplier. For a streamed (wide) characterization they check the
bit-parallel evaluation on a sample instead: every corner operand
(:func:`corner_patterns`: 0, 1, 2, the largest values, both sides of the
signed boundary) against every corner of the other operand, plus ``N``
pairs drawn uniformly with numpy's PCG64 generator from a seed. Both
simulators evaluate the same bit patterns and their raw output words must
agree bit for bit; the artifact records the outcome with N and the seed
(:class:`~appmult.core.summary.SampledCheck`), so the sample can be drawn again.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from appmult.characterize.backends import get_backend
from appmult.characterize.bitsim.evaluate import evaluate_pairs
from appmult.characterize.netlist import Interface
from appmult.characterize.sources import Sources
from appmult.core.errors import ParameterError
from appmult.core.summary import SampledCheck

__all__ = [
    "DEFAULT_SAMPLE_PAIRS",
    "DEFAULT_SEED",
    "CrossCheck",
    "Sample",
    "corner_patterns",
    "cross_check",
    "sample_patterns",
]

#: Random pairs of the default sample (besides the corners).
DEFAULT_SAMPLE_PAIRS = 1 << 20
#: Seed of the default sample.
DEFAULT_SEED = 2026


@dataclass(frozen=True)
class Sample:
    """Which pairs a sampled check draws: the corners, plus ``random_pairs`` pairs from ``seed``."""

    random_pairs: int = DEFAULT_SAMPLE_PAIRS
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        if not isinstance(self.random_pairs, int) or self.random_pairs < 0:
            raise ParameterError(f"the sample needs 0 or more random pairs, got {self.random_pairs!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ParameterError(f"the sample's seed must be an integer >= 0, got {self.seed!r}")


def corner_patterns(width: int) -> np.ndarray:
    """Bit patterns of an operand's corner values, ascending, int64.

    0, 1, 2; the largest pattern and the one below (unsigned max, signed -1
    and -2); both sides of the signed boundary (``2**(n-1) - 1``, the largest
    signed value, and ``2**(n-1)``, the smallest) and the one above it.
    """
    half, top = 1 << (width - 1), (1 << width) - 1
    return np.unique(np.array([0, 1, 2, half - 1, half, half + 1, top - 1, top], dtype=np.int64) & top)


def sample_patterns(width_a: int, width_b: int, sample: Sample) -> tuple[np.ndarray, np.ndarray, int]:
    """``(a_patterns, b_patterns, corner_pairs)``: every corner pair first, then the random pairs."""
    corners_a, corners_b = corner_patterns(width_a), corner_patterns(width_b)
    grid_a, grid_b = np.meshgrid(corners_a, corners_b, indexing="ij")
    generator = np.random.Generator(np.random.PCG64(sample.seed))
    random_a = generator.integers(0, 1 << width_a, size=sample.random_pairs, dtype=np.int64)
    random_b = generator.integers(0, 1 << width_b, size=sample.random_pairs, dtype=np.int64)
    return (
        np.concatenate([grid_a.ravel(), random_a]),
        np.concatenate([grid_b.ravel(), random_b]),
        grid_a.size,
    )


@dataclass(frozen=True)
class CrossCheck:
    """The outcome of :func:`cross_check`: the record, and the first differing pair if any.

    ``first`` is ``(a pattern, b pattern, bitsim word, reference word)``.
    """

    check: SampledCheck
    first: tuple[int, int, int, int] | None = None

    def describe_failure(self, top: str, streaming: str) -> str:
        """One line saying where the two simulators disagree."""
        a, b, fast, reference = self.first
        return (
            f"{top}: {streaming} and {self.check.reference} disagree on {self.check.mismatches} of "
            f"{self.check.pairs:,} sampled pairs (first: a pattern {a:#x}, b pattern {b:#x}: "
            f"{streaming} {fast:#x}, reference {reference:#x}); the {streaming} result cannot be trusted "
            "for this netlist, please report it"
        )


def cross_check(
    bundle: Sources,
    interface: Interface,
    program: object,
    reference: str,
    sample: Sample,
    timeout: float | None = None,
) -> CrossCheck:
    """Evaluate the sample with the streaming backend's ``program`` and simulate it with ``reference``.

    Runs on a worker: the reference simulates a private copy of ``bundle``.
    """
    start = time.perf_counter()
    a, b, corner_pairs = sample_patterns(interface.a.width, interface.b.width, sample)
    fast = evaluate_pairs(
        program, (a.astype(np.uint64) << np.uint64(interface.b.width)) | b.astype(np.uint64)
    )
    engine = get_backend(reference)
    with bundle.placed() as placement, placement.messages():
        placed = dataclasses.replace(interface, sources=placement.paths)
        slow = engine.sample(placed, a, b, timeout=timeout)
        version = placement.restore(engine.version())
    differ = np.flatnonzero(np.asarray(fast, np.int64) != np.asarray(slow, np.int64))
    record = SampledCheck(
        reference=version,
        corner_pairs=corner_pairs,
        random_pairs=sample.random_pairs,
        seed=sample.seed,
        mismatches=int(differ.size),
        seconds=time.perf_counter() - start,
    )
    first = None
    if differ.size:
        k = int(differ[0])
        first = (int(a[k]), int(b[k]), int(fast[k]), int(slow[k]))
    return CrossCheck(record, first)
