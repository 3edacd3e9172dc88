"""Where the time of a LUT-2D retraining step goes on the deep network (issue 19, performance).

The setting of ``bench/bench_retrain.py``'s deep-network case: the
six-convolution network at 14x14 with every layer on an 8x8 table (h = 4),
one Adam step on a batch of 64, one CPU thread. Measured here, in one run:

1. seconds per step for STE and LUT-2D (median of ``STEPS`` after warm-up);
2. per layer, the seconds of the table forward and of the LUT-2D backward
   functions of :mod:`appmult.retrain.lut_matmul` (wrapped here with timers,
   the package is not changed), with each layer's M, K, N;
3. ``torch.profiler``'s operator table of LUT-2D and STE steps (self CPU
   time and call counts);
4. three LUT-2D backward functions written here as proposals, each checked
   to give the package's gradients and timed as a drop-in replacement:
   :func:`proposed_lut2d_hoisted` (the package's loop over weight rows with
   the per-weight tables gathered once per layer and the weight gradient
   contracted once after the loop: bit-identical results),
   :func:`proposed_lut2d_per_weight` (blocks of weight rows at once, cache-sized
   temporaries) and :func:`proposed_lut2d_transposed` (the package's loop with
   the code axis innermost); the last two equal the package's to float32 rounding;
5. the one-convolution case of ``bench_retrain.py`` (16 -> 32 channels, batch
   64 at 14x14) at 1 and 2 threads with the package's backward, the
   transposed one and :func:`proposed_lut2d_threads` (the package's on two
   halves of K in two threads), beside STE; and the deep network at 2 threads
   with the package's and the two-thread backward.

Writes ``results/profile_step.txt``.

Usage: ``.venv/bin/python bench/research_19/profile_step.py``
"""

from __future__ import annotations

import contextlib
import importlib
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_retrain import _artifact  # noqa: E402
from common import RESULTS  # noqa: E402

from appmult.retrain import convert  # noqa: E402
from appmult.retrain.models import build_network  # noqa: E402

# The package re-exports the function lut_matmul under the submodule's name.
lm = importlib.import_module("appmult.retrain.lut_matmul")
BATCH, SIZE, STEPS = 64, 14, 10
#: Temporaries of the blocked proposal: 2**18 float32 = 1 MiB, within a core's L2 cache.
BLOCK_ELEMENTS = 1 << 18
TIMES: dict[tuple[str, tuple[int, int, int]], list[float]] = {}


def _timed(label: str, function):  # noqa: ANN001, ANN202
    def wrapper(x, w, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        began = time.perf_counter()
        out = function(x, w, *args, **kwargs)
        TIMES.setdefault((label, (x.shape[0], x.shape[1], w.shape[1])), []).append(
            time.perf_counter() - began
        )
        return out

    return wrapper


def _model(kind: str):  # noqa: ANN202
    torch.manual_seed(0)
    return convert(build_network("deep", SIZE, 10), _artifact(), kind)


def _step_seconds(model, steps: int = STEPS, warmup: int = 2) -> float:  # noqa: ANN001
    inputs = torch.rand(BATCH, 1, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    labels = torch.arange(BATCH) % 10
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    model.train()
    times = []
    for index in range(warmup + steps):
        began = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(inputs), labels).backward()
        optimizer.step()
        if index >= warmup:
            times.append(time.perf_counter() - began)
    return statistics.median(times)


def _layer_seconds(kind: str, steps: int = 15) -> float:
    """bench_retrain.py's one-layer step: a 16 -> 32 conv on 64 x 16 x 14 x 14, MSE, SGD."""
    generator = torch.Generator().manual_seed(0)
    inputs = torch.rand(BATCH, 16, SIZE, SIZE, generator=generator)
    target = torch.randn(BATCH, 32, SIZE, SIZE, generator=generator)
    torch.manual_seed(0)
    model = convert(torch.nn.Sequential(torch.nn.Conv2d(16, 32, 3, padding=1)), _artifact(), kind)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    times = []
    for index in range(2 + steps):
        began = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        F.mse_loss(model(inputs), target).backward()
        optimizer.step()
        if index >= 2:
            times.append(time.perf_counter() - began)
    return statistics.median(times)


def proposed_lut2d_per_weight(x, w, offset_a, offset_b, grad_out, d_a, d_b, chunk, need_x, need_w):  # noqa: ANN001, ANN201
    """LUT-2D gradients with the tables gathered per weight for blocks of weight rows (proposal).

    For a block of kb weight rows, ``E[a * kb + j, n] = D[a, w[k0 + j, n]]``
    [Na * kb, N] (as the forward's per-weight rows); then
    ``dL/dx[m, k0 + j] = sum_n dL/dy[m, n] E_a[x[m, k0 + j] * kb + j, n]`` is one
    ``embedding`` gather [mb, kb, N] and one batched product with dL/dy, and
    ``dL/dw[k0 + j, n] = sum_a H[a * kb + j, n] E_b[a * kb + j, n]`` contracts the
    histogram ``H`` (one ``index_add_`` of the expanded dL/dy rows) with E_b.
    Blocks keep every temporary within ``BLOCK_ELEMENTS`` (cache-sized) elements.
    """
    chunk = min(chunk, BLOCK_ELEMENTS)
    x_index, w_index = lm._indices(x, offset_a), lm._indices(w, offset_b)
    m, k = x_index.shape
    n = w_index.shape[1]
    n_a = d_a.shape[0]
    grad_x = torch.empty(m, k) if need_x else None
    grad_w = torch.empty(k, n) if need_w else None
    k_step = lm._steps(k, n_a * n, chunk)
    for k0 in range(0, k, k_step):
        kb = min(k_step, k - k0)
        w_block = w_index[k0 : k0 + kb]
        rows = (x_index[:, k0 : k0 + kb] * kb + torch.arange(kb)).contiguous()
        m_step = lm._steps(m, kb * n, chunk)
        if need_x:
            table = d_a[:, w_block].reshape(n_a * kb, n)
            for m0 in range(0, m, m_step):
                gathered = F.embedding(rows[m0 : m0 + m_step], table)
                grad_x[m0 : m0 + m_step, k0 : k0 + kb] = torch.bmm(
                    gathered, grad_out[m0 : m0 + m_step].unsqueeze(2)
                ).squeeze(2)
        if need_w:
            histogram = torch.zeros(n_a * kb, n)
            for m0 in range(0, m, m_step):
                block = rows[m0 : m0 + m_step]
                source = grad_out[m0 : m0 + m_step].unsqueeze(1).expand(-1, kb, -1).reshape(-1, n)
                histogram.index_add_(0, block.reshape(-1), source)
            grad_w[k0 : k0 + kb] = (histogram * d_b[:, w_block].reshape(n_a * kb, n)).view(n_a, kb, n).sum(0)
    return grad_x, grad_w


def proposed_lut2d_hoisted(x, w, offset_a, offset_b, grad_out, d_a, d_b, chunk, need_x, need_w):  # noqa: ANN001, ANN201
    """The package's loop over weight rows k with the per-k work cut to four operations (proposal).

    The per-weight tables of all k are gathered once per layer,
    ``E[a, k, n] = D[a, w[k, n]]`` [Na, K, N] (the forward's per-weight rows,
    Na * K * N elements: 2.4 M at K = 288, N = 32); per k, dL/dx is
    ``index_select`` + ``mul_`` + ``sum`` as before, and the histogram of k is
    ``index_add_`` into its own slice of one zeroed buffer [K, Na, N], so
    dL/dw is a single contraction with E_b after the loop instead of a
    gather, a product and a sum per k.
    """
    x_index, w_index = lm._indices(x, offset_a), lm._indices(w, offset_b)
    m, k = x_index.shape
    n = w_index.shape[1]
    n_a = d_a.shape[0]
    grad_x = torch.empty(k, m) if need_x else None
    m_step = lm._steps(m, n, chunk)
    columns = x_index.t().contiguous()
    tables_a = d_a[:, w_index].permute(1, 0, 2).contiguous() if need_x else None
    histogram = torch.zeros(k, n_a, n) if need_w else None
    for kk in range(k):
        for m0 in range(0, m, m_step):
            index = columns[kk, m0 : m0 + m_step]
            if need_x:
                rows = torch.index_select(tables_a[kk], 0, index)
                rows.mul_(grad_out[m0 : m0 + m_step])
                torch.sum(rows, 1, out=grad_x[kk, m0 : m0 + m_step])
            if need_w:
                histogram[kk].index_add_(0, index, grad_out[m0 : m0 + m_step])
    grad_w = None
    if need_w:
        grad_w = (histogram * d_b[:, w_index].permute(1, 0, 2)).sum(1)
    return (grad_x.t() if need_x else None), grad_w


def proposed_lut2d_transposed(x, w, offset_a, offset_b, grad_out, d_a, d_b, chunk, need_x, need_w):  # noqa: ANN001, ANN201
    """The package's loop over weight rows k, with dL/dx computed on transposed operands (proposal).

    The same sums as :func:`appmult.retrain.lut_matmul._lut2d_per_weight`. For
    dL/dx the code axis is innermost: the table is read as ``D_a.T`` [Nb, Na],
    so the per-weight table of row k is ``E_k.T = D_a.T[w[k]]`` [N, Na] (N rows
    of the code axis, 1 KB each), and dL/dy as ``G = dL/dy.T`` [N, M]; then
    ``dL/dx[:, k]`` is ``index_select`` along dim 1, ``mul_`` by G and ``sum``
    over dim 0 (reductions across contiguous rows of length M instead of within
    rows of length N). dL/dw keeps the package's row histogram (``index_add_``
    of whole rows along dim 0: with the codes of real activations, many equal,
    a histogram along dim 1 serializes on repeated indices and was slower).
    Blocks over M keep each temporary within ``chunk`` elements.
    """
    x_index, w_index = lm._indices(x, offset_a), lm._indices(w, offset_b)
    m, k = x_index.shape
    n = w_index.shape[1]
    n_a = d_a.shape[0]
    m_step = lm._steps(m, n, chunk)
    columns = x_index.t().contiguous()
    g_t = grad_out.t().contiguous() if need_x else None
    grad_x = torch.empty(k, m) if need_x else None
    grad_w = torch.empty(k, n) if need_w else None
    table_a = d_a.t().contiguous() if need_x else None
    buffer = torch.empty(n, min(m, m_step)) if need_x else None
    histogram = torch.empty(n_a, n) if need_w else None
    for kk in range(k):
        if need_x:
            rows = table_a[w_index[kk]]
            for m0 in range(0, m, m_step):
                block = buffer[:, : min(m_step, m - m0)]
                torch.index_select(rows, 1, columns[kk, m0 : m0 + m_step], out=block)
                block.mul_(g_t[:, m0 : m0 + m_step])
                torch.sum(block, 0, out=grad_x[kk, m0 : m0 + m_step])
        if need_w:
            histogram.zero_()
            for m0 in range(0, m, m_step):
                histogram.index_add_(0, columns[kk, m0 : m0 + m_step], grad_out[m0 : m0 + m_step])
            grad_w[kk] = (histogram * d_b[:, w_index[kk]]).sum(0)
    return (grad_x.t() if need_x else None), grad_w


_POOL = None
#: The package's own LUT-2D backward (the proposals below replace the module attribute).
_PACKAGE_BACKWARD = lm._lut2d_per_weight


def proposed_lut2d_threads(x, w, offset_a, offset_b, grad_out, d_a, d_b, chunk, need_x, need_w):  # noqa: ANN001, ANN201
    """The package's backward on halves of the weight rows k in two Python threads (proposal).

    Each half writes its own columns of dL/dx and rows of dL/dw; PyTorch
    operations release the GIL, so the halves run on two cores.
    """
    global _POOL
    from concurrent.futures import ThreadPoolExecutor

    if _POOL is None:
        _POOL = ThreadPoolExecutor(2)
    k = x.shape[1]
    if torch.get_num_threads() < 2 or k < 2:
        return _PACKAGE_BACKWARD(x, w, offset_a, offset_b, grad_out, d_a, d_b, chunk, need_x, need_w)
    half = k // 2
    parts = [
        _POOL.submit(
            _PACKAGE_BACKWARD,
            x[:, a:b],
            w[a:b],
            offset_a,
            offset_b,
            grad_out,
            d_a,
            d_b,
            chunk,
            need_x,
            need_w,
        )
        for a, b in ((0, half), (half, k))
    ]
    (gx0, gw0), (gx1, gw1) = (part.result() for part in parts)
    grad_x = torch.cat([gx0, gx1], 1) if need_x else None
    grad_w = torch.cat([gw0, gw1], 0) if need_w else None
    return grad_x, grad_w


PROPOSALS = {
    "hoisted": proposed_lut2d_hoisted,
    "blocked": proposed_lut2d_per_weight,
    "transposed": proposed_lut2d_transposed,
    "threads": proposed_lut2d_threads,
}


def _check_proposal(out: list[str]) -> None:
    generator = torch.Generator().manual_seed(0)
    artifact = _artifact()
    d_a = torch.from_numpy(artifact.gradients["lut2d"].d_a)
    d_b = torch.from_numpy(artifact.gradients["lut2d"].d_b)
    for m, k, n in ((12544, 144, 16), (3136, 288, 32), (576, 288, 32)):
        x = torch.randint(0, 256, (m, k), generator=generator).float()
        w = torch.randint(0, 256, (k, n), generator=generator).float()
        g = torch.randn(m, n, generator=generator)
        args = (x, w, 0, 0, g, d_a, d_b, lm.DEFAULT_CHUNK_ELEMENTS, True, True)
        reference = lm._lut2d_per_weight(*args)
        for name, proposal in PROPOSALS.items():
            proposed = proposal(*args)
            worst = max(
                float((p - r).abs().max() / r.abs().max()) for p, r in zip(proposed, reference, strict=True)
            )
            out.append(f"{name} vs package on M={m} K={k} N={n}: largest relative difference {worst:.1e}")
            if worst > 1e-5:
                raise SystemExit(f"{name} does not reproduce the package's gradients")


def main() -> None:
    torch.set_num_threads(1)
    out: list[str] = []
    _check_proposal(out)
    ste = _step_seconds(_model("ste"))
    lut = _step_seconds(_model("lut2d"))
    out.append(f"\ndeep network, batch {BATCH}, 1 thread, median of {STEPS} steps")
    out.append(f"  STE    {ste * 1e3:7.1f} ms/step")
    out.append(f"  LUT-2D {lut * 1e3:7.1f} ms/step  ({lut / ste:.2f}x STE)")

    original = (lm._lut2d_per_weight, lm._lut2d_direct, lm._LutMatmul.forward)
    lm._lut2d_per_weight = _timed("backward per-weight", original[0])
    lm._lut2d_direct = _timed("backward direct", original[1])
    forward = original[2]

    def timed_forward(ctx, x, w, *args):  # noqa: ANN001, ANN002, ANN202
        began = time.perf_counter()
        result = forward(ctx, x, w, *args)
        TIMES.setdefault(("forward", (x.shape[0], x.shape[1], w.shape[1])), []).append(
            time.perf_counter() - began
        )
        return result

    lm._LutMatmul.forward = staticmethod(timed_forward)
    try:
        TIMES.clear()
        _step_seconds(_model("lut2d"), steps=STEPS, warmup=0)
        out.append("\nper layer (LUT-2D step), median ms per call: M x K x N")
        for (label, shape), values in TIMES.items():
            out.append(
                f"  {label:<20} M={shape[0]:>6} K={shape[1]:>4} N={shape[2]:>3}: "
                f"{statistics.median(values) * 1e3:7.2f} ms"
            )
    finally:
        lm._lut2d_per_weight, lm._lut2d_direct = original[:2]
        lm._LutMatmul.forward = staticmethod(forward)

    for kind in ("lut2d", "ste"):
        model = _model(kind)
        _step_seconds(model, steps=2, warmup=1)
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profiler:
            _step_seconds(model, steps=3, warmup=0)
        table = profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=14)
        out.append(f"\ntorch.profiler, {kind}, 3 steps (sorted by self CPU time)\n{table}")

    out.append("\nproposed backward functions as drop-in replacements (same run, interleaved with STE)")
    for name, proposal in PROPOSALS.items():
        lm._lut2d_per_weight = proposal
        try:
            proposed = _step_seconds(_model("lut2d"))
        finally:
            lm._lut2d_per_weight = original[0]
        package = _step_seconds(_model("lut2d"))
        ste_again = _step_seconds(_model("ste"))
        out.append(
            f"  {name:<8} LUT-2D {proposed * 1e3:7.1f} ms/step ({proposed / ste_again:.2f}x STE); "
            f"package {package * 1e3:7.1f} ms/step ({package / ste_again:.2f}x); "
            f"STE {ste_again * 1e3:6.1f} ms/step"
        )
    out.append("\none conv layer (bench_retrain.py's), median ms per step")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        ste_layer = _layer_seconds("ste")
        package_layer = _layer_seconds("lut2d")
        cells = [
            f"STE {ste_layer * 1e3:6.1f}",
            f"package {package_layer * 1e3:6.1f} ({package_layer / ste_layer:.2f}x)",
        ]
        for name in ("transposed", "threads"):
            lm._lut2d_per_weight = PROPOSALS[name]
            try:
                seconds = _layer_seconds("lut2d")
            finally:
                lm._lut2d_per_weight = original[0]
            cells.append(f"{name} {seconds * 1e3:6.1f} ({seconds / ste_layer:.2f}x)")
        out.append(f"  {threads} thread(s): " + ", ".join(cells))
    torch.set_num_threads(2)
    ste2 = _step_seconds(_model("ste"))
    package2 = _step_seconds(_model("lut2d"))
    lm._lut2d_per_weight = proposed_lut2d_threads
    try:
        threads2 = _step_seconds(_model("lut2d"))
    finally:
        lm._lut2d_per_weight = original[0]
    out.append(
        f"\ndeep network, 2 threads: STE {ste2 * 1e3:.1f} ms/step, package LUT-2D {package2 * 1e3:.1f} "
        f"({package2 / ste2:.2f}x), two-thread backward {threads2 * 1e3:.1f} ({threads2 / ste2:.2f}x)"
    )
    torch.set_num_threads(1)
    text = "\n".join(out)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "profile_step.txt").write_text(text + "\n")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
