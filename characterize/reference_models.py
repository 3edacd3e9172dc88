"""Reference models of the built-in multipliers, written from their published definitions.

Each model computes what a design's published algorithm (formula, truth table or
schedule) produces, without looking at its Verilog, so that simulating the RTL and
evaluating the model are two independent routes to the same product table. The one
exception is :func:`compressor`: ``mul8u_cmp42`` is this project's own reduction tree
built over a published compressor cell, so its model is written from the complete
specification in that function's docstring, not from a paper.

Every model has the signature::

    f(a, b, *, width_a, width_b, signed, **parameters) -> np.ndarray

``a`` and ``b`` are int64 arrays of operand *values*, broadcastable against each
other (for a whole table: ``a[:, None]`` and ``b[None, :]``); ``a`` is the first
operand (``A`` in the RTL), ``b`` the second. Values are ``0 .. 2**w - 1`` for
unsigned operands and ``-2**(w-1) .. 2**(w-1) - 1`` for signed (two's
complement) ones. The result is the multiplier's ``width_a + width_b``-bit output
as an int64 value: non-negative for unsigned designs, its two's-complement value
for signed ones. ``parameters`` are the ``parameters`` table of the design's
manifest entry. Bit ``i`` of an operand means bit ``i`` of its two's-complement
pattern.

:data:`MODELS` maps the manifest's ``model`` key to the function;
:func:`reference_product` evaluates a manifest design over all operand pairs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from appmult.core.errors import ParameterError
from appmult.core.manifest import Design
from appmult.core.operands import operand_values

__all__ = [
    "MODELS",
    "bam",
    "compressor",
    "drum",
    "exact",
    "kulkarni",
    "mitchell",
    "reference_product",
    "truncated",
]


# --------------------------------------------------------------------------- helpers


def _bit(x: np.ndarray, i: int) -> np.ndarray:
    """Bit ``i`` of the two's-complement pattern of ``x`` (0 or 1, int64)."""
    return (np.asarray(x, dtype=np.int64) >> i) & 1


def _unsigned_only(model: str, signed: bool) -> None:
    if signed:
        raise ParameterError(f"reference model {model!r} is defined for unsigned operands only")


def _floor_log2(x: np.ndarray, width: int) -> np.ndarray:
    """Position of the leading one of each ``x`` in ``1 .. 2**width - 1`` (0 for ``x = 0``)."""
    x = np.asarray(x, dtype=np.int64)
    position = np.zeros_like(x)
    for t in range(1, width):
        position += (x >> t) > 0
    return position


def _column_sum(
    a: np.ndarray, b: np.ndarray, width_a: int, width_b: int, keep: Callable[[int, int], bool]
) -> np.ndarray:
    """Sum of ``a_i * b_j * 2**(i+j)`` over the bit pairs (i, j) for which ``keep(i, j)``."""
    total = np.zeros(np.broadcast_shapes(np.shape(a), np.shape(b)), dtype=np.int64)
    for i in range(width_a):
        for j in range(width_b):
            if keep(i, j):
                total += (_bit(a, i) & _bit(b, j)) << (i + j)
    return total


# --------------------------------------------------------------------------- models


def exact(a: np.ndarray, b: np.ndarray, *, width_a: int, width_b: int, signed: bool) -> np.ndarray:
    """Exact multiplier: ``a * b``.

    Parameters
    ----------
    a, b : np.ndarray
        Operand values (int64, broadcastable); unsigned or two's complement per
        ``signed``.
    width_a, width_b : int
        Operand widths (the product of two in-range values always fits the
        ``width_a + width_b``-bit output).
    signed : bool
        Both operands two's complement.

    Returns
    -------
    np.ndarray
        int64 ``a * b``.
    """
    return np.asarray(a, dtype=np.int64) * np.asarray(b, dtype=np.int64)


def truncated(
    a: np.ndarray, b: np.ndarray, *, width_a: int, width_b: int, signed: bool, k: int
) -> np.ndarray:
    """Column-truncated multiplier: the ``k`` least significant partial-product columns removed.

    Unsigned (C. Meng, W. Burleson, W. Qian and G. De Micheli, DATE 2025, Table I:
    "remove the rightmost k columns of partial products", no compensation)::

        AM(a, b) = sum of a_i * b_j * 2**(i+j) over i < width_a, j < width_b, i + j >= k

    Signed: the modified Baugh-Wooley partial-product matrix (C. R. Baugh and
    B. A. Wooley, IEEE Trans. Computers C-22(12), 1973) with its ``k`` least
    significant columns removed, i.e. direct truncation as in M. J. Schulte and
    E. E. Swartzlander Jr., "Truncated multiplication with correction
    constant", VLSI Signal Processing VI, 1993, without the correction
    constant. For ``k <= min(width_a, width_b) - 1`` those columns hold only
    the non-inverted magnitude bits ``a_i * b_j`` (the inverted sign-row bits and
    the constant ones start at column ``min(width_a, width_b) - 1``), so::

        AM(a, b) = a * b - sum of a_i * b_j * 2**(i+j) over i + j < k

    with ``a_i``, ``b_j`` the two's-complement bits; larger ``k`` is refused.

    Parameters
    ----------
    a, b : np.ndarray
        Operand values (int64, broadcastable).
    width_a, width_b : int
        Operand widths.
    signed : bool
        Both operands two's complement (Baugh-Wooley form).
    k : int
        Number of removed columns, ``0 <= k <= width_a + width_b`` (unsigned).

    Returns
    -------
    np.ndarray
        int64 product value; bits ``0 .. k-1`` of its pattern are zero.
    """
    if not 0 <= k <= width_a + width_b:
        raise ParameterError(f"truncated: k={k} must lie in 0..{width_a + width_b}")
    if not signed:
        return _column_sum(a, b, width_a, width_b, lambda i, j: i + j >= k)
    if k > min(width_a, width_b) - 1:
        raise ParameterError(f"truncated: signed model covers k <= {min(width_a, width_b) - 1}, got k={k}")
    removed = _column_sum(a, b, width_a, width_b, lambda i, j: i + j < k)
    return exact(a, b, width_a=width_a, width_b=width_b, signed=True) - removed


def bam(
    a: np.ndarray,
    b: np.ndarray,
    *,
    width_a: int,
    width_b: int,
    signed: bool,
    hbl: int,
    vbl: int,
) -> np.ndarray:
    """Broken-array multiplier (BAM), unsigned.

    H. R. Mahdiani, A. Ahmadi, S. M. Fakhraie and C. Lucas, "Bio-inspired imprecise
    computational blocks for efficient VLSI implementation of soft-computing
    applications", IEEE Trans. Circuits and Systems I 57(4):850-862, 2010.

    The carry-save array multiplier (one row of cells per bit ``b_j`` of the second
    operand) with the cells above the horizontal break level (rows ``j < hbl``) and
    right of the vertical break level (columns ``i + j < vbl``) omitted. The
    remaining cells form an exact array over the remaining partial products, so::

        AM(a, b) = sum of a_i * b_j * 2**(i+j) over j >= hbl and i + j >= vbl

    Parameters
    ----------
    a, b : np.ndarray
        Unsigned operand values (int64, broadcastable).
    width_a, width_b : int
        Operand widths.
    signed : bool
        Must be false.
    hbl : int
        Horizontal break level, ``0 <= hbl < width_b`` (0: no row removed).
    vbl : int
        Vertical break level, ``0 <= vbl <= width_a + width_b`` (0: no column removed).

    Returns
    -------
    np.ndarray
        int64 product value.
    """
    _unsigned_only("bam", signed)
    if not 0 <= hbl < width_b or not 0 <= vbl <= width_a + width_b:
        raise ParameterError(f"bam: hbl={hbl}, vbl={vbl} out of range for {width_a}x{width_b}")
    return _column_sum(a, b, width_a, width_b, lambda i, j: j >= hbl and i + j >= vbl)


def _drum_operand(x: np.ndarray, width: int, k: int) -> np.ndarray:
    """DRUM's approximation of one unsigned operand (see :func:`drum`)."""
    x = np.asarray(x, dtype=np.int64)
    shift = np.maximum(_floor_log2(x, width) - (k - 1), 0)
    approximated = ((x >> shift) | 1) << shift
    return np.where(x >= (1 << k), approximated, x)


def drum(a: np.ndarray, b: np.ndarray, *, width_a: int, width_b: int, signed: bool, k: int) -> np.ndarray:
    """DRUM, the dynamic range unbiased multiplier, unsigned.

    S. Hashemi, R. I. Bahar and S. Reda, "DRUM: A dynamic range unbiased multiplier
    for approximate applications", IEEE/ACM ICCAD 2015, pp. 418-425.

    Each operand ``x`` with ``x >= 2**k`` is reduced to the ``k`` bits starting at
    its leading one (position ``t``); the lowest kept bit is set to 1 (the unbiasing
    step, the expected value of the dropped bits) and the dropped bits are zero::

        s = t - (k - 1),   x' = ((x >> s) | 1) << s

    Operands below ``2**k`` are kept exactly. The ``k x k`` product of the kept
    segments, shifted back by ``s_a + s_b``, is exact, so ``AM(a, b) = a' * b'``.

    Parameters
    ----------
    a, b : np.ndarray
        Unsigned operand values (int64, broadcastable).
    width_a, width_b : int
        Operand widths.
    signed : bool
        Must be false.
    k : int
        Kept segment width, ``2 <= k``.

    Returns
    -------
    np.ndarray
        int64 product value.
    """
    _unsigned_only("drum", signed)
    if k < 2:
        raise ParameterError(f"drum: k={k} must be at least 2")
    return _drum_operand(a, width_a, k) * _drum_operand(b, width_b, k)


def mitchell(a: np.ndarray, b: np.ndarray, *, width_a: int, width_b: int, signed: bool) -> np.ndarray:
    """Mitchell's logarithmic multiplier, unsigned, full-precision mantissas.

    J. N. Mitchell, "Computer multiplication and division using binary logarithms",
    IRE Trans. Electronic Computers EC-11(4):512-517, 1962.

    Write ``x = 2**k_x * (1 + f_x)`` with ``0 <= f_x < 1`` and approximate
    ``log2 x`` by ``k_x + f_x``. The sum of the approximate logarithms is turned back
    by the same piecewise-linear rule::

        AM = 2**(k_a + k_b)     * (1 + f_a + f_b)   if f_a + f_b < 1
        AM = 2**(k_a + k_b + 1) * (f_a + f_b)       otherwise

    and ``AM = 0`` when either operand is 0. With ``r_x = x - 2**k_x`` (so
    ``f_x = r_x / 2**k_x``) and ``s = r_a * 2**k_b + r_b * 2**k_a`` both cases
    are integers: ``2**(k_a+k_b) + s`` if ``s < 2**(k_a+k_b)``, else ``2 * s``.
    This is the value of a hardware implementation whose mantissas keep all
    ``width - 1`` fraction bits.

    Parameters
    ----------
    a, b : np.ndarray
        Unsigned operand values (int64, broadcastable).
    width_a, width_b : int
        Operand widths.
    signed : bool
        Must be false.

    Returns
    -------
    np.ndarray
        int64 product value, never above ``a * b``.
    """
    _unsigned_only("mitchell", signed)
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ka, kb = _floor_log2(a, width_a), _floor_log2(b, width_b)
    ra, rb = a - (np.int64(1) << ka), b - (np.int64(1) << kb)
    s = (ra << kb) + (rb << ka)
    base = np.int64(1) << (ka + kb)
    product = np.where(s < base, base + s, 2 * s)
    return np.where((a == 0) | (b == 0), 0, product)


def _kulkarni(a: np.ndarray, b: np.ndarray, width: int) -> np.ndarray:
    if width == 2:
        return a * b - 2 * ((a == 3) & (b == 3))
    half = width // 2
    mask = (1 << half) - 1
    ah, al, bh, bl = a >> half, a & mask, b >> half, b & mask
    return (
        (_kulkarni(ah, bh, half) << width)
        + ((_kulkarni(ah, bl, half) + _kulkarni(al, bh, half)) << half)
        + _kulkarni(al, bl, half)
    )


def kulkarni(a: np.ndarray, b: np.ndarray, *, width_a: int, width_b: int, signed: bool) -> np.ndarray:
    """Kulkarni's underdesigned multiplier, unsigned, square, width a power of two.

    P. Kulkarni, P. Gupta and M. Ercegovac, "Trading accuracy for power with an
    underdesigned multiplier architecture", 24th Int. Conf. VLSI Design (VLSID),
    2011, pp. 346-351.

    The approximate 2x2 block returns ``x * y`` except ``3 * 3 = 7`` (three output
    bits instead of four). A ``2n``-bit multiplier is composed recursively from
    four ``n``-bit ones with exact adders::

        M_2(x, y)  = x * y - 2 * [x = 3 and y = 3]
        M_2n(a, b) = M_n(a_H, b_H) * 2**(2n) + (M_n(a_H, b_L) + M_n(a_L, b_H)) * 2**n
                     + M_n(a_L, b_L)

    with ``a_H``, ``a_L`` the high and low halves of ``a``.

    Parameters
    ----------
    a, b : np.ndarray
        Unsigned operand values (int64, broadcastable).
    width_a, width_b : int
        Operand widths; equal and a power of two (2, 4, 8).
    signed : bool
        Must be false.

    Returns
    -------
    np.ndarray
        int64 product value, never above ``a * b``.
    """
    _unsigned_only("kulkarni", signed)
    if width_a != width_b or width_a & (width_a - 1) or width_a < 2:
        raise ParameterError(f"kulkarni: needs equal power-of-two widths, got {width_a}x{width_b}")
    return _kulkarni(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64), width_a)


def _compressor_plan(heights: list[int], approx_columns: int) -> list[tuple[int, int, int, int]]:
    """The cells of one reduction stage, per column: (compressors, full adders, half adders, passed bits).

    Rule 2 of the specification in :func:`compressor`; it depends on the column
    heights only, never on the bit values.
    """
    plan = []
    for column, height in enumerate(heights):
        if height <= 2:
            plan.append((0, 0, 0, height))
            continue
        fours = height // 4 if column < approx_columns else 0
        threes, left = divmod(height - 4 * fours, 3)
        plan.append((fours, threes, left // 2, left % 2))
    return plan


def _compressor_schedule(
    width_a: int, width_b: int, approx_columns: int
) -> list[list[tuple[int, int, int, int]]]:
    """Every stage's :func:`_compressor_plan`, from the column heights alone (rules 1 to 3)."""
    width = width_a + width_b
    heights = [len([i for i in range(width_a) if 0 <= c - i < width_b]) for c in range(width)]
    stages = []
    while max(heights) > 2:
        plan = _compressor_plan(heights, approx_columns)
        stages.append(plan)
        cells = [fours + threes + twos for fours, threes, twos, _ in plan]
        heights = [cells[c] + (cells[c - 1] if c else 0) + plan[c][3] for c in range(width)]
    return stages


def compressor(
    a: np.ndarray,
    b: np.ndarray,
    *,
    width_a: int,
    width_b: int,
    signed: bool,
    approx_columns: int,
) -> np.ndarray:
    """Multiplier with approximate 4:2 compressors in the low product columns, unsigned.

    This multiplier (built-in design ``mul8u_cmp42``: 8x8 bits, ``approx_columns
    = 8``) is this project's own design built over a published cell. The paper
    below defines the compressor; it does not define a reduction tree, so the
    tree is this project's choice, specified completely here. This model is
    written from the specification below (and not from the netlist generator),
    so that simulating the RTL and evaluating this function are two routes to
    the same table; the RTL is correct if it implements this specification.

    **The compressor.** Approximate 4:2 compressor without carry-in and
    carry-out, A. Momeni, J. Han, P. Montuschi and F. Lombardi, "Design and
    analysis of approximate compressors for multiplication", IEEE Trans.
    Computers 64(4):984-994, 2015 ("Design 2"). Its four inputs ``x1 .. x4``
    have the weight ``2**c`` of their column ``c``::

        sum   = (x1 xor x2) or (x3 xor x4)        weight 2**c
        carry = (x1 and x2) or (x3 and x4)        weight 2**(c+1)

    Its deficit ``d = x1 + x2 + x3 + x4 - (sum + 2 * carry)`` is never negative:

        ================ ================ ========= ================= ===
        ones in (x1, x2) ones in (x3, x4) the count sum + 2 * carry    d
        ================ ================ ========= ================= ===
        0                0, 1 or 2        0, 1, 2   0, 1, 2            0
        1                1                2         1                  1
        1                2                3         3                  0
        2                2                4         2                  2
        ================ ================ ========= ================= ===

    (and the same with the pairs swapped). The other cells are exact: a full
    adder takes three bits of one column and gives their count's low bit as
    its sum (weight ``2**c``) and its high bit as its carry (weight
    ``2**(c+1)``); a half adder does the same for two bits.

    **Specification of the multiplier**, for ``W = width_a + width_b`` output
    columns ``0 .. W-1`` and ``K = approx_columns``:

    1. *Partial products.* ``p(i, j) = a_i and b_j`` (``i < width_a``,
       ``j < width_b``) lies in column ``c = i + j``. The initial list of column
       ``c`` holds its partial products by increasing ``i``: for 8x8, column 3
       is ``p(0,3), p(1,2), p(2,1), p(3,0)``.
    2. *One stage.* While some column holds more than two bits, every column is
       reduced at once, according to its height ``h`` (its number of bits at the
       start of the stage):

       ========================= ================================================
       ``h <= 2``                no cell; all ``h`` bits are passed on
       ``h >= 3``                ``q = h // 4`` compressors if ``c < K``, else
                                 ``q = 0``; then ``f = (h - 4q) // 3`` full
                                 adders; the ``r = (h - 4q) mod 3`` bits left go
                                 to one half adder if ``r = 2`` and are passed
                                 on if ``r = 1``
       ========================= ================================================

       The cells take the column's bits from the front of its list, in order:
       the first compressor takes bits 1-4 as ``x1, x2, x3, x4``, the second
       bits 5-8, and so on; then each full adder takes the next three bits, the
       half adder the next two; a passed bit is the last one.
    3. *The next lists.* Column ``c`` of the next stage lists, in this order:
       the sum outputs of column ``c``'s cells (compressors, then full adders,
       then the half adder, each in the order in which they took their bits),
       then the carry outputs of column ``c - 1``'s cells (same order), then
       the bits passed on by column ``c``. A carry out of column ``W - 1`` is
       dropped (the output has ``W`` bits).
    4. *Final adder.* When no column holds more than two bits, the two rows are
       added by an exact carry-propagate adder; the output is the weighted sum
       of the remaining bits modulo ``2**W``.

    Consequence used here: full adders, half adders and the final adder keep
    the weighted sum of the bits, and a compressor in column ``c`` lowers it
    by ``d * 2**c``, so ``AM(a, b) = a * b - D`` with ``D`` the sum of
    ``d * 2**c`` over all compressors (``0 <= D <= a * b``; hence no carry
    out of column ``W - 1`` is ever 1 and the modulo changes nothing). Only
    the stages up to the last one that holds a compressor are evaluated bit by
    bit; the plan of every stage follows from the column heights alone.

    The schedule of ``mul8u_cmp42`` (heights at the start of each stage,
    columns 0 to 15 left to right; compressors as ``column x count``)::

        stage  heights                           compressors
        1      1 2 3 4 5 6 7 8 7 6 5 4 3 2 1 0   3x1 4x1 5x1 6x1 7x2
        2      1 2 1 2 3 3 4 4 5 4 4 4 2 3 1 0   6x1 7x1
        3      1 2 1 2 1 2 2 2 3 4 3 3 3 1 2 0   none
        4      1 2 1 2 1 2 2 2 1 3 2 2 2 2 2 0   none (one full adder, column 9)
        5..9   the full adder's carry ripples    none (one full adder each,
               through columns 10 to 14            columns 10 to 14)
        final  1 2 1 2 1 2 2 2 1 1 1 1 1 1 1 1

    Eight compressors in all, every one in the first two stages. Example,
    ``a = b = 255``: each stage-1 compressor sees four ones (``d = 2``), so
    ``D = 2 * (8 + 16 + 32 + 64) + 2 * 2 * 128 = 752``; the two stage-2
    compressors see ``0, 1, 1, 1`` (column 6) and ``0, 0, 1, 1`` (column 7),
    ``d = 0``; ``AM(255, 255) = 65025 - 752 = 64273``.

    Parameters
    ----------
    a, b : np.ndarray
        Unsigned operand values (int64, broadcastable).
    width_a, width_b : int
        Operand widths.
    signed : bool
        Must be false.
    approx_columns : int
        ``K``: columns ``0 .. K - 1`` use the approximate compressor.

    Returns
    -------
    np.ndarray
        int64 product value, never above ``a * b``.
    """
    _unsigned_only("compressor", signed)
    width = width_a + width_b
    if not 0 <= approx_columns <= width:
        raise ParameterError(f"compressor: approx_columns={approx_columns} out of 0..{width}")
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    stages = _compressor_schedule(width_a, width_b, approx_columns)
    with_compressors = [s for s, plan in enumerate(stages) if any(cells[0] for cells in plan)]
    deficit = np.zeros(np.broadcast_shapes(a.shape, b.shape), dtype=np.int64)
    # bits[c]: column c's list, as 0/1 int64 arrays (rule 1)
    bits = [
        [_bit(a, i) & _bit(b, c - i) for i in range(width_a) if 0 <= c - i < width_b] for c in range(width)
    ]
    for plan in stages[: with_compressors[-1] + 1 if with_compressors else 0]:
        sums: list[list[np.ndarray]] = [[] for _ in range(width)]
        carries: list[list[np.ndarray]] = [[] for _ in range(width + 1)]
        for c, (fours, threes, twos, _) in enumerate(plan):
            column = bits[c]
            taken = 0
            for size in [4] * fours + [3] * threes + [2] * twos:
                group = column[taken : taken + size]
                taken += size
                if size == 4:
                    x1, x2, x3, x4 = group
                    low, high = (x1 ^ x2) | (x3 ^ x4), (x1 & x2) | (x3 & x4)
                    deficit += (x1 + x2 + x3 + x4 - low - 2 * high) << c
                else:
                    count = sum(group)
                    low, high = count & 1, count >> 1
                sums[c].append(low)
                carries[c + 1].append(high)
            bits[c] = column[taken:]  # the passed bits
        bits = [sums[c] + carries[c] + bits[c] for c in range(width)]
    return a * b - deficit


#: The manifest's ``model`` key -> reference model.
MODELS: dict[str, Callable[..., np.ndarray]] = {
    "exact": exact,
    "truncated": truncated,
    "bam": bam,
    "drum": drum,
    "mitchell": mitchell,
    "kulkarni": kulkarni,
    "compressor": compressor,
}


def reference_product(design: Design) -> np.ndarray:
    """The design's reference model over all operand pairs.

    Parameters
    ----------
    design : appmult.core.manifest.Design
        A manifest entry; ``design.model`` names the model in :data:`MODELS` and
        ``design.parameters`` are passed to it.

    Returns
    -------
    np.ndarray
        int64 ``[2**width_a, 2**width_b]``: entry ``[i, j]`` is the model's output
        for ``a = operand_values(width_a, signed)[i]`` and
        ``b = operand_values(width_b, signed)[j]`` (value order, as in the artifact).
    """
    try:
        model = MODELS[design.model]
    except KeyError:
        raise ParameterError(
            f"design {design.name!r}: unknown reference model {design.model!r}; "
            f"known: {', '.join(sorted(MODELS))}"
        ) from None
    a = operand_values(design.width_a, design.signed).astype(np.int64)
    b = operand_values(design.width_b, design.signed).astype(np.int64)
    try:
        product = model(
            a[:, None],
            b[None, :],
            width_a=design.width_a,
            width_b=design.width_b,
            signed=design.signed,
            **design.parameters,
        )
    except TypeError as exc:
        raise ParameterError(
            f"design {design.name!r}: parameters {design.parameters} do not fit reference "
            f"model {design.model!r} ({exc})"
        ) from None
    return np.broadcast_to(np.asarray(product, dtype=np.int64), (a.size, b.size)).copy()
