"""Rows of a wide multiplier's product table, evaluated again from its netlist when asked.

A wide artifact holds no table, so stage 2 (LUT-1D by passes over rows,
:mod:`appmult.lutgen.streamed`) needs the rows from somewhere:
:class:`NetlistRows` evaluates them with the streaming backend's compiled
program, a few at a time, on whichever worker asks. :func:`netlist_rows`
builds it for an artifact from Verilog files the user gives, and only from
files whose SHA-256 the artifact records (it never opens the paths an
artifact names).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from appmult.characterize.bitsim.evaluate import evaluate_chunks
from appmult.characterize.netlist import discover
from appmult.characterize.sources import Sources
from appmult.characterize.streaming import Reading, streaming_backend
from appmult.core.artifact import Artifact
from appmult.core.errors import ParameterError

__all__ = ["NetlistRows", "netlist_rows"]


@dataclass(frozen=True)
class NetlistRows:
    """Product rows in value order from a compiled netlist (a ``ProductRows`` of stage 2)."""

    program: object
    reading: Reading

    @property
    def shape(self) -> tuple[int, int]:
        return self.reading.shape

    def rows(self, start: int, stop: int) -> np.ndarray:
        """``AM(a_i, b_j)`` for value indices ``start <= i < stop`` and every j, int64 [stop - start, Nb]."""
        n_a, n_b = self.shape
        reading = self.reading
        out = np.empty((stop - start, n_b), dtype=np.int64)
        half = n_a // 2 if reading.signed_a else 0
        # value index i is a's pattern (i + half) mod Na: at most two runs of consecutive patterns
        bounds = sorted({start, stop, *([n_a - half] if start < n_a - half < stop else [])})
        for low, high in zip(bounds[:-1], bounds[1:], strict=True):
            pattern = (low + half) % n_a
            for first, words in evaluate_chunks(self.program, pattern * n_b, (pattern + high - low) * n_b):
                row = low - start + (first - pattern * n_b) // n_b
                count = words.size // n_b
                _place(out[row : row + count], words.reshape(count, n_b), reading.signed_b)
        if reading.signed_a or reading.signed_b:  # the output read as two's complement
            out[out >= 1 << (reading.width_out - 1)] -= 1 << reading.width_out
        return out


def _place(out: np.ndarray, words: np.ndarray, signed_b: bool) -> None:
    """Write output words [k, Nb] (b by bit pattern) into ``out`` with b in value order."""
    if not signed_b:
        np.copyto(out, words, casting="unsafe")
        return
    half = words.shape[1] // 2
    np.copyto(out[:, :half], words[:, half:], casting="unsafe")
    np.copyto(out[:, half:], words[:, :half], casting="unsafe")


def netlist_rows(artifact: Artifact, sources: Iterable[str | os.PathLike]) -> NetlistRows:
    """The rows of ``artifact``'s table from its netlist, found among ``sources`` by SHA-256.

    Every file the artifact records must be among ``sources`` (same bytes);
    raises :class:`ParameterError` naming the recorded files otherwise.
    """
    given = Sources.read(sources)
    by_digest = dict(zip(given.sha256(), given.paths, strict=True))
    missing = [path for path, digest in zip(artifact.source_files, artifact.source_sha256, strict=True)
               if digest not in by_digest]  # fmt: skip
    if missing or not artifact.source_sha256:
        raise ParameterError(
            f"{artifact.name}: its LUT-1D re-evaluates the netlist it was characterized from, and the "
            f"files given do not include {', '.join(missing or artifact.source_files) or 'its sources'} "
            "(same bytes, by SHA-256); give them with --sources"
        )
    bundle = Sources.read([by_digest[digest] for digest in artifact.source_sha256])
    engine = streaming_backend()
    with bundle.placed() as placement, placement.messages():
        interface = discover(placement.paths, top=artifact.top)
        program = engine.program(interface)
    widths = (interface.a.width, interface.b.width, interface.out.width)
    if widths != (artifact.width_a, artifact.width_b, artifact.width_out):
        raise ParameterError(f"{artifact.name}: the netlist's widths {widths} differ from the artifact's")
    reading = Reading(
        artifact.width_a, artifact.width_b, artifact.width_out, artifact.signed_a, artifact.signed_b
    )
    return NetlistRows(program, reading)
