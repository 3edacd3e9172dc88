"""Running a compiled program over every operand pair with numpy, 64 pairs per word.

Operand pairs are numbered by their *pair index* ``p = i * Nb + j``, where
``i`` is the bit pattern of ``a`` (row of the table) and ``j`` that of ``b``;
so ``p`` enumerates the ``[Na, Nb]`` table in row-major bit-pattern order.
Each net bit is a plane of ``uint64`` words: bit ``t`` of word ``w`` is the
bit's value for pair ``64 * w + t`` of the current chunk. The program's
``INPUT`` steps load bit ``m`` of ``p`` itself (the elaborator has already
mapped operand bits onto index bits). Pairs are processed in chunks of
:data:`CHUNK_PAIRS`, small enough that a slot's plane stays in cache, so a
12x12 design needs a few MB of planes plus its 64 MB result.
"""

from __future__ import annotations

import time

import numpy as np

from appmult.characterize.bitsim.gates import Op
from appmult.characterize.bitsim.program import Program
from appmult.core.errors import SimulationError
from appmult.core.progress import ProgressCallback

__all__ = ["CHUNK_PAIRS", "evaluate"]

#: Operand pairs per chunk (4096 words per plane).
CHUNK_PAIRS = 1 << 18

_WORD_BITS = 64
_ALL_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
#: Bit m < 6 of the pair index within a word: bit t of the pattern is bit m of t.
_LOW_INDEX_BITS = [np.uint64(sum(1 << t for t in range(_WORD_BITS) if (t >> m) & 1)) for m in range(6)]
_UFUNCS = {Op.NOT: np.invert, Op.AND: np.bitwise_and, Op.OR: np.bitwise_or, Op.XOR: np.bitwise_xor}
#: Masks and shifts of the three delta swaps that transpose an 8x8 bit matrix held in a uint64.
_TRANSPOSE8 = [
    (np.uint64(7), np.uint64(0x00AA00AA00AA00AA)),
    (np.uint64(14), np.uint64(0x0000CCCC0000CCCC)),
    (np.uint64(28), np.uint64(0x00000000F0F0F0F0)),
]


def evaluate(
    program: Program, progress: ProgressCallback | None = None, deadline: float | None = None
) -> np.ndarray:
    """Output word of every operand pair: uint32 ``[2**index_bits]``, by pair index.

    Entry ``p`` holds the output's bit pattern (unsigned, output bit k in bit
    k). ``progress`` receives the fraction of pairs done after each chunk but
    the last; ``deadline`` (a ``time.monotonic()`` value) stops the run with
    :class:`SimulationError`.
    """
    total = 1 << program.index_bits
    chunk = min(total, CHUNK_PAIRS)
    words = -(-chunk // _WORD_BITS)
    planes = np.empty((program.slots, words), dtype=np.uint64)
    planes[0] = 0
    planes[1] = _ALL_ONES
    rows = list(planes)
    index = _PairIndex(words)
    calls = [_bind(step, rows, index) for step in program.steps]
    outputs = [rows[slot] for slot in program.outputs]
    result = np.empty(total, dtype=np.uint32)
    for start in range(0, total, chunk):
        if deadline is not None and time.monotonic() > deadline:
            raise SimulationError(
                f"bitsim did not finish within the time limit ({start} of {total} pairs done); "
                "raise it with --timeout"
            )
        index.move_to(start // _WORD_BITS)
        for function, arguments, out in calls:
            function(*arguments, out=out)
        result[start : start + chunk] = _output_words(outputs)[:chunk]
        if progress is not None and start + chunk < total:
            progress((start + chunk) / total)
    return result


class _PairIndex:
    """Planes of the pair index's bits over the current chunk."""

    def __init__(self, words: int) -> None:
        self._offsets = np.arange(words, dtype=np.uint64)
        self._words = self._offsets.copy()

    def move_to(self, first_word: int) -> None:
        """Start the chunk at word ``first_word`` (pair ``64 * first_word``)."""
        np.add(self._offsets, np.uint64(first_word), out=self._words)

    def bit(self, m: int, out: np.ndarray) -> None:
        """Write the plane of index bit ``m`` into ``out``."""
        if m < 6:
            out.fill(_LOW_INDEX_BITS[m])
            return
        # Bits >= 6 are constant within a word: bit (m - 6) of the word number, spread to all 64.
        np.right_shift(self._words, np.uint64(m - 6), out=out)
        np.bitwise_and(out, np.uint64(1), out=out)
        np.negative(out, out=out)


def _bind(step: tuple[int, ...], rows: list[np.ndarray], index: _PairIndex):
    """``(function, arguments, out)`` performing one program step on the slot planes."""
    op, out, *operands = step
    if op == Op.INPUT:
        return index.bit, (operands[0],), rows[out]
    return _UFUNCS[op], tuple(rows[slot] for slot in operands), rows[out]


def _output_words(planes: list[np.ndarray]) -> np.ndarray:
    """Transpose output bit planes into one uint32 per pair (``64 * len(planes[0])`` pairs).

    Eight planes at a time: the byte of each plane covering pairs ``8q..8q+7``
    are gathered into one uint64 (an 8x8 bit matrix, plane by pair), which
    three delta swaps transpose into pair by plane, i.e. one output byte per pair.
    Assumes a little-endian machine, as numpy's uint64 views here do.
    """
    groups = -(-len(planes) // 8)
    words = len(planes[0])
    padded = np.zeros((groups * 8, words), dtype=np.uint64)
    padded[: len(planes)] = planes
    by_group = padded.view(np.uint8).reshape(groups, 8, words * 8)
    result = np.zeros((words * _WORD_BITS, 4), dtype=np.uint8)
    for group in range(groups):
        matrix = np.ascontiguousarray(by_group[group].T).view(np.uint64).ravel()
        for distance, mask in _TRANSPOSE8:
            swap = (matrix ^ (matrix >> distance)) & mask
            matrix ^= swap ^ (swap << distance)
        result[:, group] = matrix.view(np.uint8)
    return result.view("<u4").ravel()
