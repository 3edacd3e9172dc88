"""Gradient estimators: product table in, gradient tables out.

Every function here is pure (``ndarray -> ndarray``), vectorized over whole
tables, computes in float64 and returns float32 pairs ``(d_a, d_b)``:

- ``d_a`` approximates dAM/da, ``d_b`` approximates dAM/db;
- operand ``a`` is the first operand (table rows; the activation in a DNN
  layer), ``b`` the second (columns; the weight);
- both axes are in numeric value order with unit spacing (an unsigned n-bit
  axis is 0 .. 2**n - 1, a signed one -2**(n-1) .. 2**(n-1) - 1), as in
  :mod:`appmult.core.artifact`, so smoothing and differencing never cross the
  two's-complement wrap.

Formulas are written for dAM/db along one row a = a_f with N = Nb values
b_0 < ... < b_{N-1}; dAM/da is the same along columns with N = Na.
"""

from __future__ import annotations

import numpy as np

from appmult.core.errors import ParameterError

__all__ = [
    "EDGE_SIGNED",
    "EDGE_UNSIGNED",
    "REDUCTIONS",
    "check_hws",
    "check_reduction",
    "lut1d",
    "lut2d",
    "ste",
]

#: LUT-1D reductions, in the order the command line lists them (first = default).
REDUCTIONS = ("mean", "lsq", "range")

#: The ``edge`` attribute of LUT-2D tables: the edge-band rule that was applied.
EDGE_UNSIGNED = "(max-min)/N"
EDGE_SIGNED = "sign(last-first)*(max-min)/N"


def check_hws(hws: int, n: int, operand: str) -> int:
    """Return ``hws`` if it is a valid LUT-2D half-window for an axis of ``n`` values.

    The half-window ``h`` must be an integer ``>= 1`` with ``2h + 2 < n``, so
    that at least one entry of each row gets the central difference. ``operand``
    (``"a"`` or ``"b"``) names the axis in the message of the
    :class:`~appmult.core.errors.ParameterError` raised otherwise.
    """
    name = f"hws_{operand}"
    if not isinstance(hws, (int, np.integer)) or isinstance(hws, bool):
        raise ParameterError(f"{name} must be an integer >= 1, got {hws!r}")
    largest = (n - 3) // 2
    if largest < 1:
        raise ParameterError(
            f"operand {operand} has only N={n} values; LUT-2D needs 2*h + 2 < N, which no "
            f"half-window h >= 1 satisfies; use the ste method, or lut1d with reduction "
            f"lsq or range"
        )
    if not 1 <= hws <= largest:
        raise ParameterError(
            f"{name}={hws} is out of range for operand {operand} with N={n} values: LUT-2D "
            f"needs 1 <= h and 2*h + 2 < N, i.e. 1 <= {name} <= {largest}; choose a "
            f"half-window in that range"
        )
    return int(hws)


def check_reduction(reduction: str) -> str:
    """Return ``reduction`` if it is one of :data:`REDUCTIONS`, else raise ParameterError."""
    if reduction not in REDUCTIONS:
        raise ParameterError(f"unknown LUT-1D reduction {reduction!r}; choose one of {', '.join(REDUCTIONS)}")
    return reduction


def ste(operand_a: np.ndarray, operand_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Straight-through estimator: the exact multiplier's gradient.

    Parameters
    ----------
    operand_a : int ndarray [Na]
        Values of operand a (rows), ascending; signed or unsigned.
    operand_b : int ndarray [Nb]
        Values of operand b (columns), ascending; signed or unsigned.

    Returns
    -------
    d_a, d_b : float32 ndarray [Na, Nb]
        ``d_a[i, j] = operand_b[j]`` (dAM/da = b) and ``d_b[i, j] = operand_a[i]``
        (dAM/db = a).
    """
    a = np.asarray(operand_a, dtype=np.float64)
    b = np.asarray(operand_b, dtype=np.float64)
    shape = (a.size, b.size)
    d_a = np.broadcast_to(b[np.newaxis, :], shape).astype(np.float32)
    d_b = np.broadcast_to(a[:, np.newaxis], shape).astype(np.float32)
    return d_a, d_b


def lut2d(
    product: np.ndarray, hws_a: int, hws_b: int, *, signed: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """LUT-2D gradient estimate (Meng et al., DATE 2025, Eqs. 4-6).

    Along each row ``a_f`` with ``N = Nb`` and ``h = hws_b``:

    - moving average: ``S(b_k) = mean(AM(a_f, b_{k-h}), ..., AM(a_f, b_{k+h}))``
      for ``h <= k <= N-1-h``;
    - central difference: ``dAM/db(b_k) = (S(b_{k+1}) - S(b_{k-1})) / 2`` for
      ``h < k < N-1-h``;
    - edge bands (``k <= h`` or ``k >= N-1-h``): the row's average slope
      ``(max_b AM(a_f, b) - min_b AM(a_f, b)) / N``. For a signed table this
      magnitude takes the sign of the row's trend, ``AM(a_f, b_{N-1}) - AM(a_f, b_0)``,
      since a row can fall as well as rise; a row with zero trend gets 0.

    ``dAM/da`` is the same along each column with ``N = Na`` and ``h = hws_a``.
    Smoothing and differencing are evaluated together without a loop: the difference of two
    moving averages telescopes to
    ``(AM(b_{k+h}) + AM(b_{k+h+1}) - AM(b_{k-h-1}) - AM(b_{k-h})) / (2 (2h + 1))``,
    four shifted table slices whatever h.

    Parameters
    ----------
    product : int ndarray [Na, Nb]
        ``product[i, j] = AM(a_i, b_j)`` with both axes in value order.
    hws_a, hws_b : int
        Half-windows along a (columns) and b (rows); ``1 <= h`` and
        ``2h + 2 < N`` for that operand's N, else
        :class:`~appmult.core.errors.ParameterError`.
    signed : bool
        True when either operand is signed (applies the signed edge rule).

    Returns
    -------
    d_a, d_b : float32 ndarray [Na, Nb]
        Estimates of dAM/da and dAM/db at every ``(a_i, b_j)``.
    """
    table = _table(product)
    hws_a, hws_b = _checked_hws(table, hws_a, hws_b)
    d_a = _lut2d_columns(table, hws_a, signed)
    d_b = _lut2d_columns(table.T, hws_b, signed).T
    return d_a.astype(np.float32), d_b.astype(np.float32, order="C")


def lut1d(
    product: np.ndarray,
    operand_a: np.ndarray,
    operand_b: np.ndarray,
    reduction: str = "mean",
    *,
    hws_a: int | None = None,
    hws_b: int | None = None,
    signed: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """LUT-1D gradient estimate: each gradient as a function of the *other* operand.

    ``dAM/db ~ g_b(a)`` and ``dAM/da ~ g_a(b)``, so a backward pass becomes an
    ordinary matrix product with a re-mapped operand (STE is ``g_b(a) = a``).
    The compact variant is from arXiv 2509.10519; its exact reduction is not
    public, so three documented reconstructions are offered. For ``g_b(a_f)``
    over the row ``a_f`` (``g_a`` is the same over columns):

    ``mean`` (default)
        Mean over the row of the LUT-2D estimate (:func:`lut2d`, needs
        ``hws_a`` and ``hws_b``).
    ``lsq``
        Least-squares slope of ``AM(a_f, b)`` against ``b``:
        ``sum((b - mean b) * AM) / sum((b - mean b)**2)``; exactly ``a_f`` for
        the exact multiplier.
    ``range``
        The LUT-2D edge formula applied to the whole row,
        ``(max - min) / N``, signed by the row's trend for a signed table.

    Parameters
    ----------
    product : int ndarray [Na, Nb]
        ``product[i, j] = AM(a_i, b_j)`` with both axes in value order.
    operand_a, operand_b : int ndarray [Na], [Nb]
        Operand values, ascending (used by ``lsq``).
    reduction : {"mean", "lsq", "range"}
    hws_a, hws_b : int, optional
        LUT-2D half-windows; required by ``mean`` only.
    signed : bool
        True when either operand is signed.

    Returns
    -------
    d_a : float32 ndarray [Nb]
        ``g_a(b_j)``, indexed by operand b.
    d_b : float32 ndarray [Na]
        ``g_b(a_i)``, indexed by operand a.
    """
    check_reduction(reduction)
    table = _table(product)
    if reduction == "mean":
        if hws_a is None or hws_b is None:
            raise ParameterError("LUT-1D reduction 'mean' needs both half-windows hws_a and hws_b")
        hws_a, hws_b = _checked_hws(table, hws_a, hws_b)
        d_a = _lut2d_column_mean(table, hws_a, signed)
        d_b = _lut2d_column_mean(table.T, hws_b, signed)
    elif reduction == "lsq":
        d_a = _lsq_slope(table, operand_a)
        d_b = _lsq_slope(table.T, operand_b)
    else:
        d_a = _range_slope(table, signed)
        d_b = _range_slope(table.T, signed)
    return d_a.astype(np.float32), d_b.astype(np.float32)


def _table(product: np.ndarray) -> np.ndarray:
    """``product`` as a float64 [Na, Nb] array (exact for integer tables up to 12x12 bits)."""
    table = np.asarray(product, dtype=np.float64)
    if table.ndim != 2:
        raise ParameterError(f"product table must be 2-D [Na, Nb], got shape {table.shape}")
    return table


def _checked_hws(table: np.ndarray, hws_a: int, hws_b: int) -> tuple[int, int]:
    n_a, n_b = table.shape
    return check_hws(hws_a, n_a, "a"), check_hws(hws_b, n_b, "b")


# The helpers below work down the columns (axis 0) of a float64 table [N, M]:
# as given, that is along operand a; on ``table.T``, along operand b.


def _lut2d_columns(columns: np.ndarray, h: int, signed: bool) -> np.ndarray:
    """Eqs. 4-6 down each column; float64 [N, M].

    The moving sums telescope in the central difference: ``S(k+1) - S(k-1)`` is
    ``(x[k+h] + x[k+h+1] - x[k-h-1] - x[k-h]) / (2h + 1)``, so the interior is
    a difference of shifted pair sums ``x[j] + x[j+1]``: exact for integer
    tables, and four table reads per entry whatever h.
    """
    n = columns.shape[0]
    pairs = columns[:-1] + columns[1:]
    out = np.empty(columns.shape, dtype=np.float64)
    interior = out[h + 1 : n - 1 - h]
    np.subtract(pairs[2 * h + 1 :], pairs[: n - 2 * h - 2], out=interior)
    interior /= 2 * (2 * h + 1)
    edge = _range_slope(columns, signed)
    out[: h + 1] = edge
    out[n - 1 - h :] = edge
    return out


def _lut2d_column_mean(columns: np.ndarray, h: int, signed: bool) -> np.ndarray:
    """Mean of :func:`_lut2d_columns` over each column, without forming it; float64 [M].

    The interior central differences telescope: their sum over
    ``h < k < N-1-h`` is ``(S(N-1-h) + S(N-2-h) - S(h+1) - S(h)) / 2``; the
    ``2h + 2`` edge entries each hold the edge value.
    """
    n = columns.shape[0]

    def window_sum(k: int) -> np.ndarray:
        return columns[k - h : k + h + 1].sum(axis=0)

    interior = window_sum(n - 1 - h) + window_sum(n - 2 - h) - window_sum(h + 1) - window_sum(h)
    interior /= 2 * (2 * h + 1)
    return (interior + (2 * h + 2) * _range_slope(columns, signed)) / n


def _range_slope(columns: np.ndarray, signed: bool) -> np.ndarray:
    """(max - min) / N of each column, signed by its trend (last - first) if ``signed``."""
    slope = (columns.max(axis=0) - columns.min(axis=0)) / columns.shape[0]
    if signed:
        slope *= np.sign(columns[-1] - columns[0])
    return slope


def _lsq_slope(columns: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Least-squares slope of each column against ``values`` [N]; float64 [M]."""
    centred = np.asarray(values, dtype=np.float64)
    centred = centred - centred.mean()
    return (centred @ columns) / (centred @ centred)
