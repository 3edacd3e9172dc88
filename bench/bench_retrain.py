"""Benchmark: seconds per training step of one approximate conv layer, STE vs LUT-2D vs LUT-1D.

Run with ``pytest bench -s -o python_files='bench_*.py'``. The layer is a
3x3 convolution, 16 -> 32 channels, padding 1, on a batch of 64 inputs of
14x14 (im2col GEMM of M = 12,544 rows, K = 144, N = 32), on an 8x8-bit
unsigned multiplier with the low 6 product bits cleared (a table built
here, so no simulation is needed; h = 4 for LUT-2D and LUT-1D). One step is
forward, backward and an SGD update; the plain float ``nn.Conv2d`` is timed
for reference. The median of several steps after warm-up is printed with
each kind's ratio to STE, on the CPU (with one thread and with PyTorch's
default thread count) and on CUDA when a device is present. Nothing here
asserts a time.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from appmult.core.artifact import Artifact  # noqa: E402
from appmult.core.operands import operand_values  # noqa: E402
from appmult.lutgen import gradient_tables  # noqa: E402
from appmult.retrain import convert  # noqa: E402

BATCH, IN_CHANNELS, OUT_CHANNELS, SIZE = 64, 16, 32, 14
KINDS = ("ste", "lut2d", "lut1d")


def _artifact() -> Artifact:
    values = operand_values(8, False).astype(np.int64)
    product = np.outer(values, values) >> 6 << 6
    artifact = Artifact(
        name="mul8u_clear6",
        top="",
        width_a=8,
        width_b=8,
        width_out=16,
        signed_a=False,
        signed_b=False,
        product=product,
    )
    artifact.gradients.update(gradient_tables(artifact, hws_a=4, hws_b=4))
    return artifact


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _seconds_per_step(layer: nn.Module, device: torch.device, steps: int, warmup: int = 2) -> float:
    generator = torch.Generator().manual_seed(0)
    inputs = torch.rand(BATCH, IN_CHANNELS, SIZE, SIZE, generator=generator).to(device)
    target = torch.randn(BATCH, OUT_CHANNELS, SIZE, SIZE, generator=generator).to(device)
    optimizer = torch.optim.SGD(layer.parameters(), lr=1e-3)
    layer.train()
    times = []
    for index in range(warmup + steps):
        _sync(device)
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = F.mse_loss(layer(inputs), target)
        loss.backward()
        optimizer.step()
        _sync(device)
        if index >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def _measure(device: torch.device, steps: int) -> dict[str, float]:
    torch.manual_seed(0)
    float_layer = nn.Conv2d(IN_CHANNELS, OUT_CHANNELS, 3, padding=1).to(device)
    artifact = _artifact()
    results = {"float": _seconds_per_step(float_layer, device, steps)}
    for kind in KINDS:
        layer = convert(nn.Sequential(float_layer), artifact, kind)
        results[kind] = _seconds_per_step(layer, device, steps)
    return results


def _print(label: str, results: dict[str, float]) -> None:
    print(f"\n{label}: conv 3x3 {IN_CHANNELS}->{OUT_CHANNELS}, batch {BATCH}, {SIZE}x{SIZE} input")
    print(f"  {'kind':<8} {'s/step':>10} {'x STE':>7}")
    for kind, seconds in results.items():
        print(f"  {kind:<8} {seconds:>10.4f} {seconds / results['ste']:>7.2f}")


def test_bench_retrain() -> None:
    cpu = torch.device("cpu")
    default_threads = torch.get_num_threads()
    thread_counts = sorted({1, default_threads})
    try:
        for threads in thread_counts:
            torch.set_num_threads(threads)
            _print(f"cpu, {threads} thread(s)", _measure(cpu, steps=15))
    finally:
        torch.set_num_threads(default_threads)
    if torch.cuda.is_available():
        device = torch.device("cuda")
        _print(f"cuda ({torch.cuda.get_device_name(device)})", _measure(device, steps=30))
