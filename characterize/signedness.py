"""Reading raw output words as a product table, and deciding whether the operands are signed.

A simulation yields the output word for every pair of operand **bit
patterns**. :func:`read_words` turns them into the product table in value
order for a chosen signedness: a signed n-bit operand's values
-2**(n-1) .. 2**(n-1)-1 are the patterns 2**(n-1) .. 2**n-1 followed by
0 .. 2**(n-1)-1, and the output is read as two's complement when either
operand is signed.

:func:`decide` chooses the signedness, in this order:

1. ``--signed``/``--unsigned`` (the ``flag``) always wins;
2. otherwise a ``signed`` keyword on either operand port is followed, port by port;
3. otherwise (plain ``input [7:0] A`` ports, as in EvoApprox's ``mul8s_*``
   netlists) the table itself decides: each of the four readings (each
   operand signed or not) is compared with the exact product, and the one
   whose mean |AM - a*b| is smallest wins, provided the runner-up's is more
   than twice as large (``inferred`` when that is a signed reading; the
   unsigned one is what the ports declare). Closer than that, the tool does
   not guess: it keeps the declared (unsigned) reading, marks the decision
   ``undecided`` and says which flag settles it.

The decision and its figures are recorded in the artifact's ``signedness``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from appmult.characterize.netlist import Interface

__all__ = ["Decision", "decide", "decided_without_table", "notice", "read_row_words", "read_words"]

#: The runner-up's mean error must exceed the best one's by this factor for an inference to stand.
MARGIN = 2.0


def _describe(signed_a: bool, signed_b: bool) -> str:
    return f"{'signed' if signed_a else 'unsigned'} x {'signed' if signed_b else 'unsigned'}"


def read_words(raw: np.ndarray, width_out: int, signed_a: bool, signed_b: bool) -> np.ndarray:
    """The product table int64 [Na, Nb] in value order from output words [Na, Nb] by bit pattern.

    ``raw[i, j]`` is the unsigned output word for a's pattern ``i`` and b's
    pattern ``j``; the result's entry ``[i, j]`` is AM(a_i, b_j) for the
    value-ordered axes of the chosen signedness.
    """
    table = np.asarray(raw)
    if signed_a:
        table = np.roll(table, table.shape[0] // 2, axis=0)
    return read_row_words(table, width_out, signed_b, signed_a or signed_b)


def read_row_words(raw_rows: np.ndarray, width_out: int, signed_b: bool, output_signed: bool) -> np.ndarray:
    """Rows of the product table, int64 [k, Nb] with b in value order, from output words [k, Nb].

    ``raw_rows[i, j]`` is the unsigned output word for some a and b's pattern
    ``j``; the result's columns follow b's value-ordered axis, and the words
    are read as two's complement when ``output_signed``. Which a each row
    belongs to is the caller's business (rows of a streamed slice).
    """
    table = np.asarray(raw_rows)
    if signed_b:
        half = table.shape[1] // 2
        table = np.concatenate([table[:, half:], table[:, :half]], axis=1)
    table = table.astype(np.int64)
    if output_signed:
        table[table >= 1 << (width_out - 1)] -= 1 << width_out
    return table


def _pattern_values(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Each bit pattern 0 .. count-1 read unsigned and as two's complement, int64."""
    unsigned = np.arange(count, dtype=np.int64)
    return unsigned, np.where(unsigned >= count // 2, unsigned - count, unsigned)


def _mean_errors(
    raw: np.ndarray, width_out: int, n_a: int, patterns: np.ndarray
) -> dict[tuple[bool, bool], float]:
    """Mean |AM - a*b| of each of the four readings, in one pass over the words.

    ``raw[i]`` holds the words of operand a's pattern ``patterns[i]`` (of
    ``n_a``). The mean runs over every pair given, so no table needs
    reordering: each pattern pair is compared with the product of its two
    values under each reading.
    """
    n_b = raw.shape[1]
    values_a = [values[patterns] for values in _pattern_values(n_a)]
    values_b = _pattern_values(n_b)
    totals = dict.fromkeys(((False, False), (True, False), (False, True), (True, True)), 0)
    rows = max(1, (1 << 18) // n_b)
    for start in range(0, len(patterns), rows):
        words = np.asarray(raw[start : start + rows], dtype=np.int64)
        outputs = (words, np.where(words >= 1 << (width_out - 1), words - (1 << width_out), words))
        for sa, sb in totals:
            exact = np.multiply.outer(values_a[sa][start : start + rows], values_b[sb])
            totals[sa, sb] += int(np.abs(outputs[sa or sb] - exact).sum())
    return {reading: total / raw.size for reading, total in totals.items()}


@dataclass(frozen=True)
class Decision:
    """How each operand is read, and a sentence saying how that was decided.

    ``inferred`` is True when the table decided; ``undecided`` when the
    readings were too close to call and the declared one was kept.
    """

    signed_a: bool
    signed_b: bool
    how: str
    inferred: bool = False
    undecided: bool = False


def decided_without_table(interface: Interface, flag: bool | None) -> Decision | None:
    """The decision when the flag or the ports' ``signed`` keyword make it, else None (the table decides)."""
    if flag is not None:
        return Decision(flag, flag, f"flag --{'signed' if flag else 'unsigned'}")
    if interface.a.signed or interface.b.signed:
        return Decision(interface.a.signed, interface.b.signed, "declared by the ports' signed keyword")
    return None


def decide(
    raw: np.ndarray, interface: Interface, flag: bool | None, rows: np.ndarray | None = None
) -> Decision:
    """The signedness of ``interface``'s operands for output words ``raw`` (module docstring).

    ``raw`` is the whole table [Na, Nb] by bit pattern, or, for a table too
    large to hold, the rows of operand a's patterns ``rows`` (a sample; the
    decision then says how many pairs it saw).
    """
    decided = decided_without_table(interface, flag)
    if decided is not None:
        return decided
    n_a = 1 << interface.a.width
    patterns = np.arange(n_a) if rows is None else np.asarray(rows)
    errors = _mean_errors(raw, interface.out.width, n_a, patterns)
    ranked = sorted(errors, key=errors.get)
    best, runner_up = ranked[:2]
    figures = ", ".join(f"{_describe(*reading)} {errors[reading]:.6g}" for reading in ranked)
    if len(patterns) < n_a:
        figures += f" over a sample of {len(patterns)} rows a ({raw.size:,} pairs)"
    if errors[runner_up] > MARGIN * errors[best]:
        if best == (False, False):
            return Decision(
                False, False, f"declared unsigned (no signed keyword), as the table confirms: {figures}"
            )
        return Decision(
            *best, f"inferred {_describe(*best)} from the table: mean |AM - a*b| {figures}", inferred=True
        )
    return Decision(
        False,
        False,
        f"undecided: the readings are too close to call (mean |AM - a*b| {figures}); kept the declared "
        "unsigned reading; pass --signed or --unsigned",
        undecided=True,
    )


def notice(how: str) -> tuple[str, str] | None:
    """``("note", ...)`` for an artifact whose signedness was inferred, ``("warning", ...)`` for an
    undecided one, None otherwise; ``how`` is the artifact's ``signedness`` as :func:`decide` wrote it."""
    if how.startswith("inferred"):
        return "note", f"signedness {how}"
    if how.startswith("undecided"):
        return "warning", f"signedness {how}"
    return None
