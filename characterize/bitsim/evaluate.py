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

:func:`evaluate` returns every pair's word; :func:`evaluate_chunks` yields
the words of a range of pair indices chunk by chunk (a streamed slice of a
wide multiplier never holds more than one chunk), and :func:`evaluate_pairs`
evaluates pairs given one by one (a sample).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from appmult.characterize.bitsim.gates import Op
from appmult.characterize.bitsim.program import Program
from appmult.core.errors import SimulationError
from appmult.core.progress import ProgressCallback

__all__ = ["CHUNK_PAIRS", "evaluate", "evaluate_chunks", "evaluate_pairs"]

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
    result = np.empty(total, dtype=np.uint32)
    for start, words in evaluate_chunks(program, 0, total, deadline=deadline):
        result[start : start + words.size] = words
        if progress is not None and start + words.size < total:
            progress((start + words.size) / total)
    return result


def evaluate_chunks(
    program: Program, start: int, stop: int, deadline: float | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """``(first pair index, output words uint32 [n])`` for the pairs ``start .. stop - 1``, chunk by chunk.

    Chunks hold :data:`CHUNK_PAIRS` pairs (fewer at the ends); the words
    array is reused by the next chunk, so copy what must outlive it.
    ``deadline`` as in :func:`evaluate`.
    """
    total = stop - start
    chunk = min(max(total, 1), CHUNK_PAIRS)
    words = -(-chunk // _WORD_BITS) + 1  # one more word: a chunk may start inside a word
    runner = _Runner(program, words)
    position = start
    while position < stop:
        if deadline is not None and time.monotonic() > deadline:
            raise SimulationError(
                f"bitsim did not finish within the time limit ({position - start} of {total} pairs done); "
                "raise it with --timeout"
            )
        first_word, skip = divmod(position, _WORD_BITS)
        count = min(chunk, stop - position)
        runner.index.move_to(first_word)
        yield position, runner.run()[skip : skip + count]
        position += count


def evaluate_pairs(program: Program, indices: np.ndarray) -> np.ndarray:
    """Output words uint32 [n] of the operand pairs with pair indices ``indices`` (any order, repeats too)."""
    indices = np.asarray(indices, dtype=np.uint64)
    result = np.empty(indices.size, dtype=np.uint32)
    for start in range(0, indices.size, CHUNK_PAIRS):
        part = indices[start : start + CHUNK_PAIRS]
        runner = _Runner(program, -(-part.size // _WORD_BITS), _GivenIndex(part, program.index_bits))
        result[start : start + part.size] = runner.run()[: part.size]
    return result


class _Runner:
    """The slot planes of ``words`` words and the program's steps bound to them."""

    def __init__(self, program: Program, words: int, index: _PairIndex | _GivenIndex | None = None) -> None:
        planes = np.empty((program.slots, words), dtype=np.uint64)
        planes[0] = 0
        planes[1] = _ALL_ONES
        rows = list(planes)
        self.index = index if index is not None else _PairIndex(words)
        self.calls = [_bind(step, rows, self.index) for step in program.steps]
        self.outputs = [rows[slot] for slot in program.outputs]

    def run(self) -> np.ndarray:
        """Run every step on the current index planes; the output words, one per pair of the planes."""
        for function, arguments, out in self.calls:
            function(*arguments, out=out)
        return _output_words(self.outputs)


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


class _GivenIndex:
    """Planes of the bits of given pair indices: bit t of word w is bit m of ``indices[64 * w + t]``."""

    def __init__(self, indices: np.ndarray, index_bits: int) -> None:
        padded = np.zeros(-(-indices.size // _WORD_BITS) * _WORD_BITS, dtype=np.uint64)
        padded[: indices.size] = indices
        self._planes = [
            np.packbits(((padded >> np.uint64(m)) & np.uint64(1)).astype(np.uint8), bitorder="little").view(
                np.uint64
            )
            for m in range(index_bits)
        ]

    def bit(self, m: int, out: np.ndarray) -> None:
        """Write the plane of index bit ``m`` into ``out``."""
        out[...] = self._planes[m]


def _bind(step: tuple[int, ...], rows: list[np.ndarray], index: _PairIndex | _GivenIndex):
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
