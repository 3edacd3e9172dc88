"""Matrix product on an approximate multiplier's table, with STE, LUT-2D or LUT-1D backward.

:func:`lut_matmul` computes, for integer operand codes ``x`` [M, K] (operand a,
the activation) and ``w`` [K, N] (operand b, the weight),

    ``y[m, n] = sum_k AM(x[m, k], w[k, n])``

by exact lookups in the artifact's product table, and differentiates it with
the gradient it is given, by how that gradient is stored
(:mod:`appmult.core.gradient`):

no tables (the exact multiplier's gradient, STE)
    ``dL/dx = dL/dy @ w.T`` and ``dL/dw = x.T @ dL/dy``: the exact
    multiplier's gradient (dAM/da = b, dAM/db = a), two ordinary matrix products.
full tables ``d_a``, ``d_b`` (LUT-2D)
    ``dL/dx[m, k] = sum_n dL/dy[m, n] * D_a[x[m, k], w[k, n]]`` and
    ``dL/dw[k, n] = sum_m dL/dy[m, n] * D_b[x[m, k], w[k, n]]``: one gathered
    value per operand pair (DATE 2025).
separable factors (LUT-1D)
    the separable form ``dAM/da(a, b) ~ sum_r u_a[r](a) v_a[r](b)`` and
    ``dAM/db(a, b) ~ sum_r u_b[r](a) v_b[r](b)`` (arXiv 2509.10519's compact
    variant, R terms): per term, remap the operand through v (or u), one
    ordinary matrix product, scale elementwise by u (or v),

        ``dL/dx = sum_r u_a[r](x) * (dL/dy @ v_a[r](w).T)``,
        ``dL/dw = sum_r v_b[r](w) * (u_b[r](x).T @ dL/dy)``,

    so the backward pass costs R matrix products per operand where STE
    costs one, instead of a gather per operand pair.

How the lookups are done without an M x K x N tensor: for a block of output
columns, the table is first gathered per weight into ``C[a * K + k, n] =
AM(a, w[k, n])`` ([Na * K, Nc]); then ``y[m, :] = sum_k C[x[m, k] * K + k, :]``
is an ``embedding_bag`` sum over K rows per output row. The LUT-2D backward
works one weight row k at a time (:func:`_lut2d_per_weight`): with the tables
gathered per weight, ``E_k[a, n] = D[a, w[k, n]]``, ``dL/dx[m, k]`` is one row
gather of ``E_k`` per m dotted with ``dL/dy[m, :]``, and ``dL/dw[k, n]`` contracts
a histogram ``H_k[a, n] = sum_{m: x[m, k] = a} dL/dy[m, n]`` (index_add) with
``E_k`` over ``a``. When M is small
(at most Na / 2 rows, e.g. a classifier layer on one mini-batch), gathering
each operand pair directly is cheaper than building ``C`` and is used
instead. Every temporary is bounded by ``chunk_elements`` elements (blocks
over N, K and M), so memory does not grow with the product M x K x N. On the
CPU with numba installed, the per-weight backward runs as one compiled loop
instead (:mod:`appmult.retrain.lut2d_kernel`), which needs no temporary.

The forward sum is exact: table entries (integers below 2**24 in magnitude)
are summed in float32 over blocks of K short enough that no partial sum
exceeds 2**24, and the block sums are added in float64.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from appmult.retrain import lut2d_kernel

__all__ = ["DEFAULT_CHUNK_ELEMENTS", "lut_matmul"]

#: The backward rules: the exact multiplier's gradient, gathered full tables, separable factors.
_EXACT, _TABLE, _SEPARABLE = "exact", "table", "separable"

#: Default bound on the elements of any temporary (2**24 float32 = 64 MiB).
DEFAULT_CHUNK_ELEMENTS = 1 << 24

#: Integers up to this magnitude are exact in float32.
_FLOAT32_EXACT = 1 << 24


def lut_matmul(
    x: torch.Tensor,
    w: torch.Tensor,
    product: torch.Tensor,
    *,
    d_a: torch.Tensor | None = None,
    d_b: torch.Tensor | None = None,
    factors: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
    offset_a: int = 0,
    offset_b: int = 0,
    max_abs_product: int | None = None,
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
) -> torch.Tensor:
    """``y[m, n] = sum_k AM(x[m, k], w[k, n])`` from a product table, differentiable.

    Parameters
    ----------
    x : float tensor [M, K]
        Integer codes of operand a (the activation), as floats.
    w : float tensor [K, N]
        Integer codes of operand b (the weight), as floats.
    product : tensor [Na, Nb]
        ``product[i, j] = AM(offset_a + i, offset_b + j)`` (value order),
        integer values of magnitude below 2**24; float32 avoids a cast per call.
    d_a, d_b : float32 tensors [Na, Nb], optional
        dAM/da and dAM/db as full tables (LUT-2D): the backward gathers them.
    factors : tuple of four float32 tensors, optional
        ``(u_a, v_a, u_b, v_b)``, [R, Na], [R, Nb], [R, Na], [R, Nb]: a
        separable gradient (LUT-1D), R matrix products per operand.
        Give the tables or the factors, not both; with neither the backward
        is the exact multiplier's (STE: one matrix product per operand).
    offset_a, offset_b : int
        The smallest value of each operand (0 unsigned, ``-2**(n-1)`` signed).
    max_abs_product : int, optional
        ``max |product|`` if known (saves a device synchronization).
    chunk_elements : int
        Bound on the elements of each temporary.

    Returns
    -------
    float32 tensor [M, N]
        The sums, exact up to the final rounding to float32. Codes outside
        the table are not checked.
    """
    if (d_a is None) != (d_b is None):
        raise ValueError("a table gradient needs both d_a and d_b")
    if factors is not None and (d_a is not None or len(factors) != 4):
        raise ValueError("give the four factors (u_a, v_a, u_b, v_b) or the tables d_a, d_b, not both")
    rule = _TABLE if d_a is not None else _SEPARABLE if factors is not None else _EXACT
    if x.dim() != 2 or w.dim() != 2 or x.shape[1] != w.shape[0]:
        raise ValueError(f"lut_matmul needs x [M, K] and w [K, N], got {tuple(x.shape)} and {tuple(w.shape)}")
    if max_abs_product is None:
        max_abs_product = int(product.abs().max().item()) if product.numel() else 0
    if max_abs_product >= _FLOAT32_EXACT:
        raise ValueError(f"product values up to {max_abs_product} are not exact in float32 (limit 2**24)")
    config = (rule, int(offset_a), int(offset_b), int(max_abs_product), max(1, int(chunk_elements)))
    u_a, v_a, u_b, v_b = factors if factors is not None else (None,) * 4
    return _LutMatmul.apply(x, w, product, d_a, d_b, u_a, v_a, u_b, v_b, config)


def _indices(codes: torch.Tensor, offset: int) -> torch.Tensor:
    return (codes.detach() - offset).long()


def _bags(codes: torch.Tensor, offset: int, n_a: int, for_index_add: bool = False) -> torch.Tensor:
    """Row numbers ``(codes[m, k] - offset) * K + k`` into per-weight rows, [M, K].

    Computed in floating point (faster than int64 arithmetic on CPU), float32
    while every row number is below 2**24 and so exact. On the CPU,
    ``embedding_bag`` is fastest with int32 rows; ``index_add_`` (and CUDA)
    get int64 ones.
    """
    k = codes.shape[1]
    dtype = torch.float32 if n_a * k < _FLOAT32_EXACT else torch.float64
    shifted = torch.arange(k, device=codes.device, dtype=dtype) - offset * k
    rows = torch.add(shifted, codes.detach().to(dtype), alpha=k)
    small = codes.device.type == "cpu" and not for_index_add
    return rows.to(torch.int32 if small else torch.int64)


def _direct(m: int, n_a: int) -> bool:
    """Gather per operand pair (True) or through per-weight rows (False)."""
    return 2 * m <= n_a


def _per_weight_rows(table: torch.Tensor, w_index: torch.Tensor) -> torch.Tensor:
    """``C[a * K + k, n] = table[a, w_index[k, n]]``, shape [Na * K, N]."""
    k, n = w_index.shape
    return table[:, w_index].reshape(table.shape[0] * k, n)


def _pairs(table: torch.Tensor, x_index: torch.Tensor, w_index: torch.Tensor) -> torch.Tensor:
    """``table[x_index[m, k], w_index[k, n]]``, shape [M, K, N]."""
    flat = x_index.unsqueeze(2) * table.shape[1] + w_index.unsqueeze(0)
    return table.reshape(-1).take(flat)


def _steps(total: int, per_unit: int, chunk: int) -> int:
    """Block length along an axis whose every unit costs ``per_unit`` elements."""
    return min(max(total, 1), max(1, chunk // max(1, per_unit)))


class _LutMatmul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, product, d_a, d_b, u_a, v_a, u_b, v_b, config):  # noqa: ANN001, ANN205
        gradient, offset_a, offset_b, max_abs, chunk = config
        ctx.save_for_backward(x, w, d_a, d_b, u_a, v_a, u_b, v_b)
        ctx.config = config
        m, k = x.shape
        n = w.shape[1]
        n_a = product.shape[0]
        table = product.float()
        w_index = _indices(w, offset_b)
        x_index = _indices(x, offset_a) if _direct(m, n_a) else None
        k_step = min(max(k, 1), max(1, _FLOAT32_EXACT // max(1, max_abs)))
        blocks = range(0, k, k_step)
        out = torch.zeros(m, n, dtype=torch.float64 if len(blocks) > 1 else torch.float32, device=x.device)
        if _direct(m, n_a):
            n_step = _steps(n, k_step, chunk)
            m_step = _steps(m, k_step * n_step, chunk)
            for n0 in range(0, n, n_step):
                for k0 in blocks:
                    w_block = w_index[k0 : k0 + k_step, n0 : n0 + n_step]
                    for m0 in range(0, m, m_step):
                        pairs = _pairs(table, x_index[m0 : m0 + m_step, k0 : k0 + k_step], w_block)
                        out[m0 : m0 + m_step, n0 : n0 + n_step] += pairs.sum(1)
            return out.float()
        n_step = _steps(n, n_a * k_step, chunk)
        m_step = _steps(m, k_step, chunk)
        for n0 in range(0, n, n_step):
            for k0 in blocks:
                rows = _per_weight_rows(table, w_index[k0 : k0 + k_step, n0 : n0 + n_step])
                for m0 in range(0, m, m_step):
                    bags = _bags(x[m0 : m0 + m_step, k0 : k0 + k_step], offset_a, n_a)
                    out[m0 : m0 + m_step, n0 : n0 + n_step] += F.embedding_bag(bags, rows, mode="sum")
        return out.float()

    @staticmethod
    def backward(ctx, grad_out):  # noqa: ANN001, ANN205
        x, w, d_a, d_b, u_a, v_a, u_b, v_b = ctx.saved_tensors
        rule, offset_a, offset_b, _max_abs, chunk = ctx.config
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad_out = grad_out.float()
        grad_x = grad_w = None
        if rule == _EXACT:
            if need_x:
                grad_x = grad_out @ w.detach().t()
            if need_w:
                grad_w = x.detach().t() @ grad_out
        elif rule == _SEPARABLE:
            x_index, w_index = _indices(x, offset_a), _indices(w, offset_b)
            if need_x:
                grad_x = _separable(u_a[:, x_index], v_a[:, w_index], grad_out, lambda g, v: g @ v.t())
            if need_w:
                grad_w = _separable(v_b[:, w_index], u_b[:, x_index], grad_out, lambda g, u: u.t() @ g)
        elif need_x or need_w:
            if _direct(x.shape[0], d_a.shape[0]):
                lut2d = _lut2d_direct
            elif grad_out.device.type == "cpu" and lut2d_kernel.COMPILED:
                lut2d = _lut2d_compiled
            else:
                lut2d = _lut2d_per_weight
            grad_x, grad_w = lut2d(x, w, offset_a, offset_b, grad_out, d_a, d_b, chunk, need_x, need_w)
        return grad_x, grad_w, None, None, None, None, None, None, None, None


def _separable(scale, remapped, grad_out, contract):  # noqa: ANN001, ANN202
    """``sum_r scale[r] * contract(grad_out, remapped[r])``: one matrix product per separable term."""
    total = scale[0] * contract(grad_out, remapped[0])
    for r in range(1, scale.shape[0]):
        total += scale[r] * contract(grad_out, remapped[r])
    return total


def _lut2d_direct(x, w, offset_a, offset_b, grad_out, d_a, d_b, chunk, need_x, need_w):  # noqa: ANN001, ANN202
    """LUT-2D gradients gathering each operand pair (small M)."""
    x_index, w_index = _indices(x, offset_a), _indices(w, offset_b)
    m, k = x_index.shape
    n = w_index.shape[1]
    device = grad_out.device
    grad_x = torch.zeros(m, k, device=device) if need_x else None
    grad_w = torch.zeros(k, n, device=device) if need_w else None
    n_step = _steps(n, k, chunk)
    m_step = _steps(m, k * n_step, chunk)
    for n0 in range(0, n, n_step):
        w_block = w_index[:, n0 : n0 + n_step]
        for m0 in range(0, m, m_step):
            x_block = x_index[m0 : m0 + m_step]
            g = grad_out[m0 : m0 + m_step, n0 : n0 + n_step]
            if need_x:
                grad_x[m0 : m0 + m_step] += torch.bmm(_pairs(d_a, x_block, w_block), g.unsqueeze(2)).squeeze(
                    2
                )
            if need_w:
                grad_w[:, n0 : n0 + n_step] += (_pairs(d_b, x_block, w_block) * g.unsqueeze(1)).sum(0)
    return grad_x, grad_w


def _lut2d_compiled(x, w, offset_a, offset_b, grad_out, d_a, d_b, chunk, need_x, need_w):  # noqa: ANN001, ANN202
    """LUT-2D gradients in one compiled loop (:mod:`appmult.retrain.lut2d_kernel`; CPU, numba)."""
    return lut2d_kernel.lut2d_backward(
        _indices(x, offset_a), _indices(w, offset_b), grad_out, d_a, d_b, need_x, need_w
    )


def _lut2d_per_weight(x, w, offset_a, offset_b, grad_out, d_a, d_b, chunk, need_x, need_w):  # noqa: ANN001, ANN202
    """LUT-2D gradients one weight row ``k`` at a time (many rows M).

    For each k the tables are first gathered per weight, ``E_k[a, n] =
    D[a, w[k, n]]`` [Na, N] (a few KB); then ``dL/dx[m, k] = sum_n dL/dy[m, n]
    E_a,k[x[m, k], n]`` is one row gather per m, and ``dL/dw[k, n] = sum_a
    H_k[a, n] E_b,k[a, n]`` contracts a histogram ``H_k[a, :] = sum_{m: x[m,k] = a}
    dL/dy[m, :]`` (one ``index_add_`` of M rows). Each step touches O(M N)
    contiguous memory; blocks of M keep every temporary within ``chunk``.
    """
    x_index, w_index = _indices(x, offset_a), _indices(w, offset_b)
    m, k = x_index.shape
    n = w_index.shape[1]
    n_a = d_a.shape[0]
    device = grad_out.device
    grad_x = torch.empty(k, m, device=device) if need_x else None
    grad_w = torch.empty(k, n, device=device) if need_w else None
    m_step = _steps(m, n, chunk)
    histogram = torch.empty(n_a, n, device=device) if need_w else None
    columns = x_index.t().contiguous()
    for kk in range(k):
        if need_x:
            table = d_a[:, w_index[kk]]
            for m0 in range(0, m, m_step):
                rows = torch.index_select(table, 0, columns[kk, m0 : m0 + m_step])
                rows.mul_(grad_out[m0 : m0 + m_step])
                torch.sum(rows, 1, out=grad_x[kk, m0 : m0 + m_step])
        if need_w:
            histogram.zero_()
            for m0 in range(0, m, m_step):
                histogram.index_add_(0, columns[kk, m0 : m0 + m_step], grad_out[m0 : m0 + m_step])
            grad_w[kk] = (histogram * d_b[:, w_index[kk]]).sum(0)
    return (grad_x.t() if need_x else None), grad_w
