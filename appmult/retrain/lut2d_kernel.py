"""The LUT-2D backward of a table matrix product in one compiled loop on the CPU, when numba is installed.

For operand row indices ``x`` [M, K] (``x[m, k]`` indexes the rows of the
tables: the activation's code minus operand a's offset), column indices
``w`` [K, N] (the weight's), the upstream gradient ``g`` = dL/dy [M, N] and
the tables ``d_a``, ``d_b`` [Na, Nb] (dAM/da and dAM/db in value order):

    ``grad_x[m, k] = sum_n g[m, n] * d_a[x[m, k], w[k, n]]``
    ``grad_w[k, n] = sum_m g[m, n] * d_b[x[m, k], w[k, n]]``

:func:`appmult.retrain.lut_matmul` computes the same with torch operations
one weight row k at a time, through [M, N] temporaries (a gather, a product,
a sum, a histogram): memory traffic that made a LUT-2D step 3.1 to 4.1 times
STE's. Here each k gathers its rows of the tables once,
``E[a, n] = d_a[a, w[k, n]]`` and ``F[a, n] = d_b[a, w[k, n]]`` ([Na, N],
cache-resident), and then makes one pass over m that reads ``g[m, :]`` and
the rows ``E[x[m, k]]``, ``F[x[m, k]]`` and accumulates both gradients, with no
temporary. ``grad_w`` is accumulated in float64 and rounded once; the results
equal the torch path's to float32 rounding (the sums run in another order).

The loop runs on one thread, whatever torch's intra-op setting: numba's
parallel loops need a threading layer, and the OpenMP one aborts a process
forked from one that used it (a process pool's worker), while the other
takes one caller at a time. At one thread it already brings the network's step
to about 1.5x STE; at two, torch's own operations use both.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["COMPILED", "lut2d_backward"]

try:  # the optional compiled kernel (the ``fast`` extra)
    import numba
except ImportError:  # pragma: no cover - depends on the installation
    numba = None

#: Whether the compiled kernel is available (else the caller uses its torch path).
COMPILED = numba is not None


def _kernel(x, w, g, d_a, d_b, grad_x, grad_w, need_x, need_w):  # noqa: ANN001, ANN202
    """The loop of :func:`lut2d_backward`: ``grad_x`` [M, K] and ``grad_w`` [K, N] filled in place."""
    m_count, k_count = x.shape
    n_count = w.shape[1]
    n_a = d_a.shape[0]
    for k in range(k_count):
        e = np.empty((n_a, n_count), dtype=np.float32)
        f = np.empty((n_a, n_count), dtype=np.float32)
        for a in range(n_a):
            for n in range(n_count):
                column = w[k, n]
                e[a, n] = d_a[a, column]
                f[a, n] = d_b[a, column]
        column_sums = np.zeros(n_count, dtype=np.float64)
        for m in range(m_count):
            a = x[m, k]
            if need_x:
                total = np.float32(0.0)
                for n in range(n_count):
                    total += g[m, n] * e[a, n]
                grad_x[m, k] = total
            if need_w:
                for n in range(n_count):
                    column_sums[n] += g[m, n] * f[a, n]
        if need_w:
            for n in range(n_count):
                grad_w[k, n] = column_sums[n]


_compiled = numba.njit(cache=True, nogil=True)(_kernel) if COMPILED else None


def lut2d_backward(
    x_index: torch.Tensor,
    w_index: torch.Tensor,
    grad_out: torch.Tensor,
    d_a: torch.Tensor,
    d_b: torch.Tensor,
    need_x: bool,
    need_w: bool,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """``(grad_x [M, K], grad_w [K, N])`` of the module docstring (None where not needed); CPU tensors.

    ``x_index`` [M, K] and ``w_index`` [K, N] are int64 row and column
    indices into ``d_a`` and ``d_b`` (float32 [Na, Nb]); ``grad_out`` is
    float32 [M, N].
    """
    m, k = x_index.shape
    n = w_index.shape[1]
    grad_x = torch.empty(m, k) if need_x else torch.empty(0, 0)
    grad_w = torch.empty(k, n) if need_w else torch.empty(0, 0)
    _compiled(
        x_index.contiguous().numpy(),
        w_index.contiguous().numpy(),
        grad_out.detach().contiguous().numpy(),
        d_a.detach().contiguous().numpy(),
        d_b.detach().contiguous().numpy(),
        grad_x.numpy(),
        grad_w.numpy(),
        need_x,
        need_w,
    )
    return (grad_x if need_x else None), (grad_w if need_w else None)
