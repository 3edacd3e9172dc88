"""LUT-1D without a table: the estimators of :mod:`appmult.lutgen.estimators` as passes over rows.

A wide artifact (13..16-bit operands) holds no product table P, let alone
its LUT-2D tables D_a, D_b. Its LUT-1D forms are computed from passes over
the rows of P instead: each pass is a set of executor jobs, one per slice of
operand a's values, that read their rows of P from a :class:`ProductRows`
source (the netlist evaluated again, :mod:`appmult.characterize.rows`; or a
table in memory, which the tests use to compare with the in-memory path)
and return ``P @ R`` for their rows and ``P.T @ L`` over their rows, for
matrices R, L fixed before the pass, plus each row's and column's min, max,
first and last entries. No job holds more than :data:`CHUNK_ROWS` rows.

LUT-2D is linear in P apart from its edge bands, which hold a row's (or a
column's) range slope: with M the central difference of smoothed values
(:func:`appmult.lutgen.estimators.lut2d`) along a (size Na, half-window
h_a) or b (Nb, h_b), and E the edge bands,

    D_a = M_a P  (interior rows)      D_a[i, :] = slope_a     (edge rows i)
    D_b = P M_b^T (interior columns)  D_b[:, j] = slope_b     (edge columns j)

so ``D_a X``, ``D_a^T W``, ``D_b X`` and ``D_b^T W`` are products of P with
matrices M, M^T applied to on the client (four shifted slices), plus rank-1
edge terms from the slopes. Then

``separable``
    the truncated SVD of D_a and D_b by a randomized range finder (Halko,
    Martinsson and Tropp 2011) with power iterations: Y = D Omega (one pass),
    Q = orth(Y), B^T = D^T Q (one pass), SVD of the small B; each power
    iteration adds two passes, until the R leading singular vectors move by
    less than :data:`TOLERANCE` between iterations (or :data:`MAX_ITERATIONS`).
    D_a and D_b share every pass. Factors are split and signed as the
    in-memory form splits them.
``mean``, ``range``, ``lsq``
    one pass each: the mean of D over the other operand telescopes to a
    weighted sum of P's rows and columns with integer weights (computed in
    int64, so ``mean`` equals the in-memory result bit for bit); ``range`` is
    the slopes; ``lsq`` a product with the centred axis.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from appmult.core.errors import ParameterError
from appmult.core.executor import Job
from appmult.lutgen.estimators import check_form, check_hws, check_rank, split_factors

__all__ = [
    "CHUNK_ROWS",
    "MAX_ITERATIONS",
    "OVERSAMPLING",
    "SLICE_PAIRS",
    "PassRunner",
    "TOLERANCE",
    "ProductRows",
    "TableRows",
    "row_pass",
    "streamed_lut1d",
]

#: Operand pairs per job of a pass.
SLICE_PAIRS = 1 << 26
#: Largest number of product rows a job holds at once.
CHUNK_ROWS = 16
#: Extra columns of the random test matrix beyond the rank.
OVERSAMPLING = 8
#: Power iterations stop when the rank-R approximation changes by less than this (relative,
#: Frobenius norm) in one iteration ...
TOLERANCE = 1e-6
#: ... or after this many (two passes each; at least one, so 4 passes in all).
MAX_ITERATIONS = 3
#: Seed of the random test matrix (the result does not depend on it once converged).
SEED = 2509


#: Runs a pass's jobs, yielding ``(index in the list, value)`` as each finishes.
PassRunner = Callable[[Sequence[Job]], Iterable[tuple[int, object]]]


class ProductRows(Protocol):
    """Rows of a product table in value order, without the table: picklable, shipped to jobs."""

    @property
    def shape(self) -> tuple[int, int]:
        """``(Na, Nb)``."""

    def rows(self, start: int, stop: int) -> np.ndarray:
        """``AM(a_i, b_j)`` for value indices ``start <= i < stop`` and every j: int64 [stop - start, Nb]."""


@dataclass(frozen=True)
class TableRows:
    """The rows of a table in memory (a tabulated artifact's product), as a :class:`ProductRows`."""

    product: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.product.shape)  # type: ignore[return-value]

    def rows(self, start: int, stop: int) -> np.ndarray:
        return np.asarray(self.product[start:stop], dtype=np.int64)


@dataclass
class RowPass:
    """What one job of a pass returns for its rows ``start .. stop - 1``.

    ``right``: ``P[rows] @ R`` [k, m]; ``left``: ``P[rows].T @ L[rows]`` [Nb, m];
    ``row_*`` [k] and ``col_min``, ``col_max`` [Nb] the extremes; ``first``
    and ``last`` the table's first and last rows when the slice holds them
    (the extremes only in a pass that asked for them).
    """

    start: int
    stop: int
    right: np.ndarray | None
    left: np.ndarray | None
    row_min: np.ndarray | None = None
    row_max: np.ndarray | None = None
    row_first: np.ndarray | None = None
    row_last: np.ndarray | None = None
    col_min: np.ndarray | None = None
    col_max: np.ndarray | None = None
    first: np.ndarray | None = None
    last: np.ndarray | None = None


def row_pass(
    source: ProductRows, rows: range, right: np.ndarray | None, left: np.ndarray | None, extremes: bool = True
) -> RowPass:
    """One job of a pass: products (and, if ``extremes``, extremes) of the rows ``rows`` of ``source``.

    Runs on a worker. ``right`` [Nb, m] and ``left`` [len(rows), m] are int64
    (exact products) or float64; either may be None. BLAS runs on one thread
    (when threadpoolctl is installed): each worker is one job's core.
    """
    with _one_blas_thread():
        return _row_pass(source, rows, right, left, extremes)


def _one_blas_thread():  # noqa: ANN202
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - the fast extra brings it
        return contextlib.nullcontext()
    return threadpool_limits(1, "blas")


def _row_pass(
    source: ProductRows, rows: range, right: np.ndarray | None, left: np.ndarray | None, extremes: bool
) -> RowPass:
    n_a, n_b = source.shape
    k = len(rows)
    result = RowPass(
        start=rows.start,
        stop=rows.stop,
        right=None if right is None else np.zeros((k, right.shape[1]), dtype=right.dtype),
        left=None if left is None else np.zeros((n_b, left.shape[1]), dtype=left.dtype),
    )
    if extremes:
        result.row_min, result.row_max = np.empty(k, np.int64), np.empty(k, np.int64)
        result.row_first, result.row_last = np.empty(k, np.int64), np.empty(k, np.int64)
        result.col_min = np.full(n_b, np.iinfo(np.int64).max)
        result.col_max = np.full(n_b, np.iinfo(np.int64).min)
    for start in range(rows.start, rows.stop, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, rows.stop)
        block = source.rows(start, stop)
        here = slice(start - rows.start, stop - rows.start)
        if extremes:
            result.row_min[here], result.row_max[here] = block.min(axis=1), block.max(axis=1)
            result.row_first[here], result.row_last[here] = block[:, 0], block[:, -1]
            np.minimum(result.col_min, block.min(axis=0), out=result.col_min)
            np.maximum(result.col_max, block.max(axis=0), out=result.col_max)
            if start == 0:
                result.first = block[0].copy()
            if stop == n_a:
                result.last = block[-1].copy()
        if right is not None:
            result.right[here] = _product(block, right)
        if left is not None:
            result.left += _product(block.T, left[here])
    return result


def _product(block: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``block @ matrix``, exact in int64 for an integer matrix, else in float64 (BLAS)."""
    if matrix.dtype.kind == "i":
        return block @ matrix
    return block.astype(np.float64) @ matrix


# --------------------------------------------------------------------------- passes


@dataclass
class _Slopes:
    """Range slopes of every row (along b) and column (along a) of P, as the edge bands use them."""

    rows: np.ndarray  # [Na]: (max_b - min_b) / Nb, signed by the row's trend when signed
    columns: np.ndarray  # [Nb]: (max_a - min_a) / Na, likewise


class _Passes:
    """Runs passes over the rows of ``source`` as jobs; ``run(jobs)`` yields ``(index, value)`` each.

    Results are merged as they come in (a client never holds every slice's
    [Nb, m] product), the sums over slices in slice order whatever order the
    jobs finish in, so a pass gives the same bits on any scheduler. The
    first pass also collects the extremes for the edge slopes.
    """

    def __init__(self, source: ProductRows, run: PassRunner, signed: bool) -> None:
        self.source, self.run, self.signed = source, run, signed
        n_a, n_b = source.shape
        step = max(1, min(n_a, SLICE_PAIRS // n_b))
        self.slices = [range(start, min(start + step, n_a)) for start in range(0, n_a, step)]
        self.slopes: _Slopes | None = None
        self.count = 0

    def __call__(self, right: np.ndarray | None, left: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """``(P @ right, P.T @ left)`` (None where not asked); the slopes after the first pass."""
        extremes = self.slopes is None
        jobs = [
            Job(f"pass {self.count + 1}, a values {r.start}..{r.stop - 1}", row_pass,
                (self.source, r, right, None if left is None else left[r.start : r.stop], extremes))
            for r in self.slices
        ]  # fmt: skip
        n_a, n_b = self.source.shape
        times_right = None if right is None else np.empty((n_a, right.shape[1]), dtype=right.dtype)
        times_left = None if left is None else np.zeros((n_b, left.shape[1]), dtype=left.dtype)
        kept: list[RowPass] = []  # first-pass parts, without their products
        waiting: dict[int, RowPass] = {}
        following = 0
        for index, part in self.run(jobs):
            if right is not None:
                times_right[part.start : part.stop] = part.right
            waiting[index] = part
            while following in waiting:  # add in slice order
                ready = waiting.pop(following)
                if left is not None:
                    times_left += ready.left
                if extremes:
                    ready.left = ready.right = None
                    kept.append(ready)
                following += 1
        self.count += 1
        if extremes:
            self.slopes = self._slopes(kept)
        return times_right, times_left

    def _slopes(self, parts: list[RowPass]) -> _Slopes:
        n_a, n_b = self.source.shape
        row_min = np.concatenate([p.row_min for p in parts])
        row_max = np.concatenate([p.row_max for p in parts])
        trend_rows = np.concatenate([p.row_last for p in parts]) - np.concatenate(
            [p.row_first for p in parts]
        )
        col_min = np.min([p.col_min for p in parts], axis=0)
        col_max = np.max([p.col_max for p in parts], axis=0)
        first = next(p.first for p in parts if p.first is not None)
        last = next(p.last for p in parts if p.last is not None)
        return _Slopes(
            rows=_range_slope(row_min, row_max, trend_rows, n_b, self.signed),
            columns=_range_slope(col_min, col_max, last - first, n_a, self.signed),
        )


def _range_slope(low: np.ndarray, high: np.ndarray, trend: np.ndarray, n: int, signed: bool) -> np.ndarray:
    """``(max - min) / N``, signed by the trend (last - first) if ``signed``: the in-memory formula."""
    slope = (high.astype(np.float64) - low.astype(np.float64)) / n
    if signed:
        slope *= np.sign(trend.astype(np.float64))
    return slope


# --------------------------------------------------------------------------- the LUT-2D operator


@dataclass(frozen=True)
class _Difference:
    """M, the central difference of smoothed values along an axis of ``n`` values, half-window ``h``.

    ``apply(Y)`` is ``M Y`` on the interior rows of Y [n, m] (edge rows 0);
    ``transpose(W)`` is ``M^T W``; ``edge`` marks the edge rows.
    """

    n: int
    h: int

    @property
    def edge(self) -> np.ndarray:
        mask = np.ones(self.n, dtype=bool)
        mask[self.h + 1 : self.n - 1 - self.h] = False
        return mask

    def apply(self, values: np.ndarray) -> np.ndarray:
        n, h = self.n, self.h
        pairs = values[:-1] + values[1:]
        out = np.zeros(values.shape, dtype=np.float64)
        out[h + 1 : n - 1 - h] = (pairs[2 * h + 1 :] - pairs[: n - 2 * h - 2]) / (2 * (2 * h + 1))
        return out

    def transpose(self, weights: np.ndarray) -> np.ndarray:
        n, h = self.n, self.h
        inner = weights[h + 1 : n - 1 - h] / (2 * (2 * h + 1))  # rows k = h+1 .. n-2-h
        out = np.zeros(weights.shape, dtype=np.float64)
        count = inner.shape[0]
        out[2 * h + 1 : 2 * h + 1 + count] += inner  # x[k + h]
        out[2 * h + 2 : 2 * h + 2 + count] += inner  # x[k + h + 1]
        out[0:count] -= inner  # x[k - h - 1]
        out[1 : 1 + count] -= inner  # x[k - h]
        return out


@dataclass
class _Operators:
    """D_a and D_b as products with P (module docstring); each method takes and gives float64 matrices."""

    along_a: _Difference
    along_b: _Difference
    passes: _Passes

    def apply(self, x_a: np.ndarray, x_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(D_a x_a, D_b x_b)`` for x [Nb, m]: one pass."""
        m = x_a.shape[1]
        right = np.hstack([x_a, self.along_b.transpose(x_b)])
        times, _ = self.passes(right, None)
        slopes = self.passes.slopes
        y_a = self.along_a.apply(times[:, :m])
        y_a[self.along_a.edge] = slopes.columns @ x_a
        y_b = times[:, m:] + np.outer(slopes.rows, x_b[self.along_b.edge].sum(axis=0))
        return y_a, y_b

    def transpose(self, w_a: np.ndarray, w_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(D_a^T w_a, D_b^T w_b)`` for w [Na, m]: one pass."""
        m = w_a.shape[1]
        left = np.hstack([self.along_a.transpose(w_a), w_b])
        _, times = self.passes(None, left)
        slopes = self.passes.slopes
        z_a = times[:, :m] + np.outer(slopes.columns, w_a[self.along_a.edge].sum(axis=0))
        z_b = self.along_b.apply(times[:, m:])
        z_b[self.along_b.edge] = slopes.rows @ w_b
        return z_a, z_b


def _randomized_svd(
    operators: _Operators, rank: int, shape: tuple[int, int], tolerance: float, max_iterations: int
) -> tuple[list[tuple], float]:
    """``[(left [Na, R], values [R], right [R, Nb])]`` for D_a and D_b, and how far they moved last.

    Randomized SVD with power iterations; stops when the rank-R
    approximations of both changed by less than ``tolerance`` (relative,
    Frobenius norm) in one iteration, after at least one, or after
    ``max_iterations``. (The change is measured on the approximation, not on
    the singular vectors, which are arbitrary where singular values coincide
    or vanish.)
    """
    n_a, n_b = shape
    width = min(rank + OVERSAMPLING, n_a, n_b)
    generator = np.random.Generator(np.random.PCG64(SEED))
    omega = generator.standard_normal((n_b, width))
    y = operators.apply(omega, omega)
    previous, moved = None, float("nan")
    for iteration in range(max(1, max_iterations) + 1):
        q = [np.linalg.qr(part)[0] for part in y]
        z = operators.transpose(*q)  # B^T = D^T Q for each matrix
        estimates = []
        for q_k, z_k in zip(q, z, strict=True):
            u_b, values, right = np.linalg.svd(z_k.T, full_matrices=False)
            estimates.append(((q_k @ u_b)[:, :rank], values[:rank], right[:rank]))
        if previous is not None and iteration >= 1:
            moved = max(_change(now, before) for now, before in zip(estimates, previous, strict=True))
            if moved < tolerance:
                break
        previous = estimates
        if iteration == max(1, max_iterations):
            break
        y = operators.apply(*(np.linalg.qr(part)[0] for part in z))
    return estimates, moved


def _change(now: tuple, before: tuple) -> float:
    """``||A - A'||_F / ||A||_F`` for two truncated SVDs ``(left, values, right)``, without forming them.

    ``A - A' = X Y`` with ``X = [L S, L' S']`` [N, 2R] and ``Y = [R; -R']``
    [2R, M]; with ``X = Q_x T_x`` and ``Y^T = Q_y T_y``, ``||X Y|| = ||T_x T_y^T||``.
    """
    left, values, right = now
    left_, values_, right_ = before
    _, t_x = np.linalg.qr(np.hstack([left * values, left_ * values_]))
    _, t_y = np.linalg.qr(np.vstack([right, -right_]).T)
    return float(np.linalg.norm(t_x @ t_y.T) / max(np.linalg.norm(values), 1e-300))


# --------------------------------------------------------------------------- the forms


def streamed_lut1d(
    source: ProductRows,
    operand_a: np.ndarray,
    operand_b: np.ndarray,
    form: str,
    *,
    rank: int,
    hws_a: int | None,
    hws_b: int | None,
    signed: bool,
    run: PassRunner,
    tolerance: float = TOLERANCE,
    max_iterations: int = MAX_ITERATIONS,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], dict[str, object]]:
    """The factors of :func:`appmult.lutgen.estimators.lut1d` from passes over ``source``'s rows.

    Parameters as there (operand ``a`` = rows of P, ``b`` = columns; value
    order); ``run(jobs)`` runs a pass's jobs and yields ``(index, value)``
    as each finishes (an executor session); ``tolerance`` and ``max_iterations`` end
    the power iterations of ``separable``. Returns the factors ``u_a`` [R, Na],
    ``v_a`` [R, Nb], ``u_b`` [R, Na], ``v_b`` [R, Nb] (float32) and a record
    of the work: ``passes`` over the rows, and for ``separable`` the
    relative change of the approximation in the last iteration (``converged_to``).
    """
    check_form(form)
    n_a, n_b = source.shape
    if form in ("separable", "mean"):
        if hws_a is None or hws_b is None:
            raise ParameterError(f"LUT-1D form {form!r} needs both half-windows hws_a and hws_b")
        hws_a, hws_b = check_hws(hws_a, n_a, "a"), check_hws(hws_b, n_b, "b")
    passes = _Passes(source, run, signed)
    if form == "separable":
        check_rank(rank, n_a, n_b)
        operators = _Operators(_Difference(n_a, hws_a), _Difference(n_b, hws_b), passes)
        estimates, moved = _randomized_svd(operators, rank, (n_a, n_b), tolerance, max_iterations)
        (left_a, values_a, right_a), (left_b, values_b, right_b) = estimates
        factors = (*split_factors(left_a, values_a, right_a), *split_factors(left_b, values_b, right_b))
        record = {"passes": passes.count, "converged_to": moved}
    else:
        factors = _one_pass_form(passes, form, operand_a, operand_b, hws_a, hws_b)
        record = {"passes": passes.count}
    return tuple(np.atleast_2d(f).astype(np.float32) for f in factors), record  # type: ignore[return-value]


def _window_weights(n: int, h: int) -> np.ndarray:
    """Integer weights c [n] with ``c @ x`` = the telescoped interior sum of the LUT-2D column mean.

    ``S(n-1-h) + S(n-2-h) - S(h+1) - S(h)`` with S(k) the window sum of
    ``x[k-h .. k+h]`` (:func:`appmult.lutgen.estimators._lut2d_column_mean`).
    """
    weights = np.zeros(n, dtype=np.int64)
    for centre, sign in ((n - 1 - h, 1), (n - 2 - h, 1), (h + 1, -1), (h, -1)):
        weights[centre - h : centre + h + 1] += sign
    return weights


def _one_pass_form(
    passes: _Passes, form: str, operand_a: np.ndarray, operand_b: np.ndarray, hws_a: int, hws_b: int
) -> tuple[np.ndarray, ...]:
    """``(1, g_a, g_b, 1)`` of the forms ``mean``, ``lsq``, ``range`` from one pass."""
    n_a, n_b = passes.source.shape
    if form == "mean":
        right, left = _window_weights(n_b, hws_b)[:, None], _window_weights(n_a, hws_a)[:, None]
    elif form == "lsq":
        centred_a = np.asarray(operand_a, np.float64) - np.mean(np.asarray(operand_a, np.float64))
        centred_b = np.asarray(operand_b, np.float64) - np.mean(np.asarray(operand_b, np.float64))
        right, left = centred_b[:, None], centred_a[:, None]
    else:
        right = left = None
    times_right, times_left = passes(right, left)
    slopes = passes.slopes
    if form == "mean":
        g_a = times_left[:, 0].astype(np.float64) / (2 * (2 * hws_a + 1))
        g_a = (g_a + (2 * hws_a + 2) * slopes.columns) / n_a
        g_b = times_right[:, 0].astype(np.float64) / (2 * (2 * hws_b + 1))
        g_b = (g_b + (2 * hws_b + 2) * slopes.rows) / n_b
    elif form == "lsq":
        g_a = times_left[:, 0] / (left[:, 0] @ left[:, 0])
        g_b = times_right[:, 0] / (right[:, 0] @ right[:, 0])
    else:
        g_a, g_b = slopes.columns, slopes.rows
    return np.ones(n_a), g_a, g_b, np.ones(n_b)
