"""Reference models of the built-in multipliers, written from their published definitions.

Each model computes what a design's published algorithm (formula, truth table or
schedule) produces, without looking at its Verilog, so that simulating the RTL and
evaluating the model are two independent routes to the same product table.

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

    Compressor: approximate 4:2 compressor without carry-in and carry-out after
    A. Momeni, J. Han, P. Montuschi and F. Lombardi, "Design and analysis of
    approximate compressors for multiplication", IEEE Trans. Computers
    64(4):984-994, 2015 ("Design 2")::

        sum   = (x1 xor x2) or (x3 xor x4)
        carry = (x1 and x2) or (x3 and x4)        (weight 2)

    It under-counts by 1 when exactly one bit of each pair (x1, x2), (x3, x4) is
    set and by 2 when all four are set, and is exact otherwise.

    Tree: the partial products ``a_i * b_j`` sit in column ``i + j``, each column
    listed by increasing ``i``. Stages repeat until every column holds at most two
    bits. In a stage, each column (from its list at the start of the stage) with
    more than two bits is consumed in list order: while at least four bits remain
    and the column index is below ``approx_columns``, four go to a compressor;
    then while at least three remain, three go to an exact full adder; a
    remaining pair goes to an exact half adder; a single remaining bit is passed
    on. Columns with at most two bits are passed on whole. The next list of
    column ``c`` is: sums of column ``c``'s cells in order, then carries of
    column ``c - 1``'s cells in order, then the passed bits. The final two rows
    are added exactly; the result is taken modulo ``2**(width_a + width_b)``
    (the output width; the compressors never over-count, so nothing is lost).

    Parameters
    ----------
    a, b : np.ndarray
        Unsigned operand values (int64, broadcastable).
    width_a, width_b : int
        Operand widths.
    signed : bool
        Must be false.
    approx_columns : int
        Columns ``0 .. approx_columns - 1`` use the approximate compressor.

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
    columns: list[list[np.ndarray]] = [[] for _ in range(width)]
    for c in range(width):
        for i in range(width_a):
            if 0 <= c - i < width_b:
                columns[c].append(_bit(a, i) & _bit(b, c - i))
    while max(len(column) for column in columns) > 2:
        sums: list[list[np.ndarray]] = [[] for _ in range(width)]
        carries: list[list[np.ndarray]] = [[] for _ in range(width + 1)]
        passed: list[list[np.ndarray]] = [[] for _ in range(width)]
        for c, bits in enumerate(columns):
            if len(bits) <= 2:
                passed[c] = bits
                continue
            rest = bits
            while c < approx_columns and len(rest) >= 4:
                x1, x2, x3, x4 = rest[:4]
                rest = rest[4:]
                sums[c].append((x1 ^ x2) | (x3 ^ x4))
                carries[c + 1].append((x1 & x2) | (x3 & x4))
            while len(rest) >= 3:
                x, y, z = rest[:3]
                rest = rest[3:]
                sums[c].append(x ^ y ^ z)
                carries[c + 1].append((x & y) | (z & (x ^ y)))
            if len(rest) == 2:
                x, y = rest
                rest = []
                sums[c].append(x ^ y)
                carries[c + 1].append(x & y)
            passed[c] = rest
        columns = [sums[c] + carries[c] + passed[c] for c in range(width)]
    total = np.zeros(np.broadcast_shapes(a.shape, b.shape), dtype=np.int64)
    for c, bits in enumerate(columns):
        for bit in bits:
            total += bit << c
    return total & ((1 << width) - 1)


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
