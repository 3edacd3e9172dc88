"""Gradient estimators: product table in, gradient tables out.

Every function here is pure (``ndarray -> ndarray``), vectorized over whole
tables, computes in float64 and returns float32 arrays: :func:`lut2d` the
pair ``(d_a, d_b)`` of full tables, :func:`lut1d` the factors of a separable
form. The straight-through estimator is the operand axes themselves
(:class:`appmult.core.gradient.AxesGradient`).

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
    "DEFAULT_FORM",
    "DEFAULT_RANK",
    "EDGE_SIGNED",
    "EDGE_UNSIGNED",
    "FORMS",
    "HWS_FORMS",
    "MAX_RANK",
    "WINDOWS",
    "ADAPTIVE_DEVIATION",
    "ADAPTIVE_LARGEST",
    "check_form",
    "check_hws",
    "check_rank",
    "check_window",
    "lut1d",
    "lut2d",
    "split_factors",
]

#: LUT-1D forms, in the order the command line lists them.
FORMS = ("separable", "mean", "lsq", "range")

#: The LUT-1D forms that smooth with the LUT-2D half-windows (the others need none).
HWS_FORMS = ("separable", "mean")

#: The default LUT-1D form and rank (chosen by the retraining benchmark, docs/08-retraining.md).
DEFAULT_FORM = "separable"
DEFAULT_RANK = 2

#: Largest rank of the separable form.
MAX_RANK = 8

#: How a LUT-2D half-window is applied: the same h on every line (DATE 2025), or grown per line.
WINDOWS = ("fixed", "adaptive")

#: The adaptive window keeps, on each line, the first half-window whose deviation from STE is at most this.
ADAPTIVE_DEVIATION = 0.3

#: The adaptive window doubles h up to this (or the largest valid h, if smaller).
ADAPTIVE_LARGEST = 64

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
            f"half-window h >= 1 satisfies; use STE, or LUT-1D with a form that needs "
            f"no half-window (--lut1d-form lsq or range)"
        )
    if not 1 <= hws <= largest:
        raise ParameterError(
            f"{name}={hws} is out of range for operand {operand} with N={n} values: LUT-2D "
            f"needs 1 <= h and 2*h + 2 < N, i.e. 1 <= {name} <= {largest}; choose a "
            f"half-window in that range"
        )
    return int(hws)


def lut2d(
    product: np.ndarray,
    hws_a: int,
    hws_b: int,
    *,
    signed: bool = False,
    window: str = "fixed",
    operand_a: np.ndarray | None = None,
    operand_b: np.ndarray | None = None,
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

    ``window="adaptive"`` (not in DATE 2025) grows the half-window line by
    line: each column of ``d_a`` (fixed ``b_j``) takes the estimate above at
    the first h of ``hws_a, 2 hws_a, 4 hws_a, ...`` (up to
    :data:`ADAPTIVE_LARGEST` or the largest valid h, whichever is smaller)
    whose deviation from the exact gradient,
    ``||d_a[:, j] - b_j|| / sqrt(Na * mean(b**2))`` (the column's distance
    over the rms column norm of STE), is at most :data:`ADAPTIVE_DEVIATION`;
    failing that, the estimate at the largest h tried. Each row of ``d_b``
    likewise against ``a_i``. A line that is smooth at the requested h keeps
    it, so on the exact multiplier both windows give the same tables. It
    exists for multipliers whose table is noise at the chosen h (mul8u_L40
    at h = 4 loses 45 points with the fixed window and gained 4.6 with this
    one; docs/04-gradients.md).

    Parameters
    ----------
    product : int ndarray [Na, Nb]
        ``product[i, j] = AM(a_i, b_j)`` with both axes in value order.
    hws_a, hws_b : int
        Half-windows along a (columns) and b (rows); ``1 <= h`` and
        ``2h + 2 < N`` for that operand's N, else
        :class:`~appmult.core.errors.ParameterError`. The adaptive window's
        smallest half-windows.
    signed : bool
        True when either operand is signed (applies the signed edge rule).
    window : {"fixed", "adaptive"}
    operand_a, operand_b : int ndarray [Na], [Nb], optional
        Operand values, ascending; required by the adaptive window (the
        exact gradient it compares with).

    Returns
    -------
    d_a, d_b : float32 ndarray [Na, Nb]
        Estimates of dAM/da and dAM/db at every ``(a_i, b_j)``.
    """
    table = _table(product)
    hws_a, hws_b = _checked_hws(table, hws_a, hws_b)
    slopes_a, slopes_b = _exact_slopes(table, window, operand_a, operand_b)
    d_a = _derivative_columns(table, hws_a, signed, slopes_a)
    d_b = _derivative_columns(table.T, hws_b, signed, slopes_b).T
    return d_a.astype(np.float32), d_b.astype(np.float32, order="C")


def lut1d(
    product: np.ndarray,
    operand_a: np.ndarray,
    operand_b: np.ndarray,
    form: str = DEFAULT_FORM,
    *,
    rank: int = DEFAULT_RANK,
    hws_a: int | None = None,
    hws_b: int | None = None,
    signed: bool = False,
    window: str = "fixed",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """LUT-1D gradient estimate: each derivative as a sum of R separable terms.

    ``dAM/da(a_i, b_j) ~ sum_r u_a[r, i] * v_a[r, j]`` and
    ``dAM/db(a_i, b_j) ~ sum_r u_b[r, i] * v_b[r, j]``, so a backward pass
    needs, per term, one remap of each operand through a 1-D table and one
    ordinary matrix product (STE is the case ``u_a = 1, v_a = b``,
    ``u_b = a, v_b = 1``). The compact variant is from arXiv 2509.10519,
    whose exact form is not public; these are the forms offered:

    ``separable`` (default)
        The best rank-R approximation, in the least-squares (Frobenius)
        sense, of the LUT-2D table (:func:`lut2d` with ``hws_a``, ``hws_b``):
        its truncated singular value decomposition. Each term is split
        evenly, ``u_r = sqrt(s_r) U[:, r]``, ``v_r = sqrt(s_r) V[r, :]``, with
        the sign chosen so that ``sum(v_r) >= 0``. For an exact multiplier
        rank 1 reproduces its LUT-2D table exactly.

    The other forms give each derivative as a function of the *other*
    operand only (R = 1, ``u_a = 1``, ``v_b = 1``): ``dAM/db ~ g_b(a)``,
    ``dAM/da ~ g_a(b)``. For ``g_b(a_f)`` over the row ``a_f`` (``g_a`` is the
    same over columns):

    ``mean``
        Mean over the row of the LUT-2D estimate (needs ``hws_a``, ``hws_b``).
    ``lsq``
        Least-squares slope of ``AM(a_f, b)`` against ``b``:
        ``sum((b - mean b) * AM) / sum((b - mean b)**2)``; exactly ``a_f`` for
        the exact multiplier.
    ``range``
        The LUT-2D edge formula applied to the whole row,
        ``(max - min) / N``, signed by the row's trend for a signed table.

    Measured on the built-in designs, these three are close to a uniformly
    rescaled STE, which an adaptive optimizer largely divides out (docs/08-retraining.md,
    retraining benchmark).

    Parameters
    ----------
    product : int ndarray [Na, Nb]
        ``product[i, j] = AM(a_i, b_j)`` with both axes in value order.
    operand_a, operand_b : int ndarray [Na], [Nb]
        Operand values, ascending (used by ``lsq``).
    form : {"separable", "mean", "lsq", "range"}
    rank : int
        Number of terms R of ``separable``, 1 .. :data:`MAX_RANK` and at most
        ``min(Na, Nb)``; the other forms have R = 1.
    hws_a, hws_b : int, optional
        LUT-2D half-windows; required by ``separable`` and ``mean``.
    signed : bool
        True when either operand is signed.
    window : {"fixed", "adaptive"}
        How ``separable`` and ``mean`` apply the half-windows (:func:`lut2d`).

    Returns
    -------
    u_a, v_a, u_b, v_b : float32 ndarrays [R, Na], [R, Nb], [R, Na], [R, Nb]
    """
    check_form(form)
    table = _table(product)
    n_a, n_b = table.shape
    if form in HWS_FORMS:
        if hws_a is None or hws_b is None:
            raise ParameterError(f"LUT-1D form {form!r} needs both half-windows hws_a and hws_b")
        hws_a, hws_b = _checked_hws(table, hws_a, hws_b)
        slopes_a, slopes_b = _exact_slopes(table, window, operand_a, operand_b)
    if form == "separable":
        check_rank(rank, n_a, n_b)
        d_a = _derivative_columns(table, hws_a, signed, slopes_a)
        d_b = _derivative_columns(table.T, hws_b, signed, slopes_b).T
        factors = (*_low_rank(d_a, rank), *_low_rank(d_b, rank))
    else:
        if form == "mean" and window == "adaptive":
            g_a = _derivative_columns(table, hws_a, signed, slopes_a).mean(axis=0)
            g_b = _derivative_columns(table.T, hws_b, signed, slopes_b).mean(axis=0)
        elif form == "mean":
            g_a = _lut2d_column_mean(table, hws_a, signed)
            g_b = _lut2d_column_mean(table.T, hws_b, signed)
        elif form == "lsq":
            g_a = _lsq_slope(table, operand_a)
            g_b = _lsq_slope(table.T, operand_b)
        else:
            g_a = _range_slope(table, signed)
            g_b = _range_slope(table.T, signed)
        factors = (np.ones(n_a), g_a, g_b, np.ones(n_b))
    return tuple(np.atleast_2d(f).astype(np.float32) for f in factors)  # type: ignore[return-value]


def check_form(form: str) -> str:
    """Return ``form`` if it is one of :data:`FORMS`, else raise ParameterError."""
    if form not in FORMS:
        raise ParameterError(f"unknown LUT-1D form {form!r}; choose one of {', '.join(FORMS)}")
    return form


def check_window(window: str) -> str:
    """Return ``window`` if it is one of :data:`WINDOWS`, else raise ParameterError."""
    if window not in WINDOWS:
        raise ParameterError(f"unknown LUT-2D window {window!r}; choose one of {', '.join(WINDOWS)}")
    return window


def check_rank(rank: int, n_a: int, n_b: int) -> int:
    """Return ``rank`` if it is a valid number of separable terms for an [n_a, n_b] table."""
    largest = min(MAX_RANK, n_a, n_b)
    if not isinstance(rank, (int, np.integer)) or isinstance(rank, bool) or not 1 <= rank <= largest:
        raise ParameterError(
            f"LUT-1D rank {rank!r} is out of range: it must be an integer 1..{largest} "
            f"(at most {MAX_RANK}, and at most the smaller table side, here {min(n_a, n_b)})"
        )
    return int(rank)


#: Tables with more entries than this use an iterative partial SVD instead of a full one.
_FULL_SVD_ENTRIES = 1 << 20


def _low_rank(table: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """Factors ``u`` [R, N], ``v`` [R, M] of the best rank-R approximation ``u.T @ v`` of ``table``.

    A full SVD up to 1024 x 1024 entries; above that (11- and 12-bit
    tables) scipy's ARPACK partial SVD of the R largest singular triplets,
    started from a fixed vector so the result is reproducible. Each term is
    split evenly between u and v, signed so that ``sum(v_r) >= 0``.
    """
    if table.size <= _FULL_SVD_ENTRIES or rank >= min(table.shape) - 1:
        left, values, right = np.linalg.svd(table, full_matrices=False)
        left, values, right = left[:, :rank], values[:rank], right[:rank]
    else:
        from scipy.sparse.linalg import svds

        left, values, right = svds(table, k=rank, v0=np.ones(min(table.shape)), solver="arpack")
        order = np.argsort(values)[::-1]
        left, values, right = left[:, order], values[order], right[order]
    return split_factors(left, values, right)


def split_factors(left: np.ndarray, values: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Factors ``u`` [R, N], ``v`` [R, M] of a truncated SVD ``left`` [N, R], ``values``, ``right`` [R, M].

    Each term is split evenly, ``u_r = sqrt(s_r) left[:, r]``, ``v_r =
    sqrt(s_r) right[r]``, and signed so that ``sum(v_r) >= 0``.
    """
    scale = np.sqrt(values)
    u, v = (left * scale).T, right * scale[:, np.newaxis]
    flip = np.where(v.sum(axis=1) < 0, -1.0, 1.0)[:, np.newaxis]
    return u * flip, v * flip


def _table(product: np.ndarray) -> np.ndarray:
    """``product`` as a float64 [Na, Nb] array (exact for integer tables up to 12x12 bits)."""
    table = np.asarray(product, dtype=np.float64)
    if table.ndim != 2:
        raise ParameterError(f"product table must be 2-D [Na, Nb], got shape {table.shape}")
    return table


def _checked_hws(table: np.ndarray, hws_a: int, hws_b: int) -> tuple[int, int]:
    n_a, n_b = table.shape
    return check_hws(hws_a, n_a, "a"), check_hws(hws_b, n_b, "b")


def _exact_slopes(
    table: np.ndarray, window: str, operand_a: np.ndarray | None, operand_b: np.ndarray | None
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The exact derivative on each line differenced, ``(b, a)``, for the adaptive window; None for fixed.

    Down column j, dAM/da of the exact multiplier is ``b_j``; along row i, dAM/db is ``a_i``.
    """
    if check_window(window) == "fixed":
        return None, None
    if operand_a is None or operand_b is None:
        raise ParameterError("the adaptive LUT-2D window needs the operand values operand_a and operand_b")
    a, b = (np.asarray(values, dtype=np.float64) for values in (operand_a, operand_b))
    if a.shape != (table.shape[0],) or b.shape != (table.shape[1],):
        raise ParameterError(
            f"operand values of lengths {a.size}, {b.size} do not fit a table of shape {table.shape}"
        )
    return b, a


# The helpers below work down the columns (axis 0) of a float64 table [N, M]:
# as given, that is along operand a; on ``table.T``, along operand b.


def _derivative_columns(columns: np.ndarray, h: int, signed: bool, slopes: np.ndarray | None) -> np.ndarray:
    """Eqs. 4-6 down each column at half-window ``h``, or the adaptive window when ``slopes`` [M] is given.

    ``slopes[j]`` is the exact derivative down column j; the adaptive window
    is described in :func:`lut2d`. float64 [N, M].
    """
    estimate = _lut2d_columns(columns, h, signed)
    if slopes is None:
        return estimate
    n = columns.shape[0]
    scale = np.sqrt(n * np.mean(slopes**2))
    largest = max(h, min(ADAPTIVE_LARGEST, (n - 3) // 2))
    open_lines = np.flatnonzero(_line_deviation(estimate, slopes) > ADAPTIVE_DEVIATION * scale)
    while open_lines.size and 2 * h <= largest:
        h *= 2
        wider = _lut2d_columns(columns[:, open_lines], h, signed)
        settled = _line_deviation(wider, slopes[open_lines]) <= ADAPTIVE_DEVIATION * scale
        if 2 * h > largest:
            settled[:] = True
        estimate[:, open_lines[settled]] = wider[:, settled]
        open_lines = open_lines[~settled]
    return estimate


def _line_deviation(estimate: np.ndarray, slopes: np.ndarray) -> np.ndarray:
    """``||estimate[:, j] - slopes[j]||`` for each column j; float64 [M]."""
    return np.linalg.norm(estimate - slopes[np.newaxis], axis=0)


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
