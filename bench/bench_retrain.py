"""Benchmark: the cost of each gradient kind in training, and of a half-window search.

Run with ``make bench``. Every time is measured in this run beside its
baseline (STE), and printed with the ratio and the target; nothing here
asserts a time.

1. **One layer**: a 3x3 convolution, 16 -> 32 channels, padding 1, on a batch
   of 64 inputs of 14x14 (im2col GEMM of M = 12,544 rows, K = 144, N = 32),
   forward, backward and an SGD update, median of 15 steps after warm-up, on
   the CPU with one thread and with PyTorch's default count (and on CUDA when
   there is a device). Kinds: float ``nn.Conv2d``, STE, LUT-2D, separable
   LUT-1D of rank 1, 2 and 4. Targets: LUT-2D <= 3x STE; rank R <= (1 + 0.3 R)x STE.
   With numba installed, LUT-2D's backward is the compiled loop of
   :mod:`appmult.retrain.lut2d_kernel`; the row ``LUT-2D torch`` times the
   torch backward beside it.
2. **The benchmark network**: the six-convolution network of
   ``retrain-demo`` (14x14 inputs, every layer on the multiplier), one Adam
   step on a batch of 64, at one thread and at PyTorch's default count: what
   an epoch costs, relative to STE (LUT-2D target: <= 3x).
3. **tune-hws**: the default search (grid 1..64, 2 seeds, digits, the small
   network, 3 epochs) on one 8-bit multiplier, on all cores, as the command
   runs it. Target: under 5 minutes on 2 cores.
4. **The panel, on a process pool and on a Dask cluster**: a slice of the
   EvoApprox panel (``retrain-demo --panel`` in its default setting: six
   netlists spanning the NMED range, one seed, STE, LUT-2D and LUT-1D
   separable r2 under frozen ranges: 18 runs and a float start) as whole
   ``appmult retrain-demo`` processes with ``-j 2``, once on the process pool
   and once on a local Dask cluster of 2 workers, each from an empty
   record so nothing is taken from a previous run. Prints the wall time of
   each, their ratio, and the seconds per run. Set ``APPMULT_BENCH_PANEL=1``
   for it (14 minutes on 2 cores).

The multiplier is an 8x8-bit unsigned table with the low 6 product bits
cleared, built here (no simulation); tables use h = 4.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from appmult.core.artifact import Artifact  # noqa: E402
from appmult.core.operands import operand_values  # noqa: E402
from appmult.lutgen import gradient_tables  # noqa: E402
from appmult.lutgen.methods import GradientParameters  # noqa: E402
from appmult.retrain import convert, lut2d_kernel  # noqa: E402
from appmult.retrain.models import build_network  # noqa: E402

BATCH, IN_CHANNELS, OUT_CHANNELS, SIZE = 64, 16, 32, 14

#: The row of LUT-2D with the torch backward, measured beside the compiled one when numba is installed.
TORCH_LUT2D = "LUT-2D torch"
RANKS = (1, 2, 4)


def _artifact(rank: int = 2) -> Artifact:
    values = operand_values(8, False).astype(np.int64)
    artifact = Artifact(
        name="mul8u_clear6", top="", width_a=8, width_b=8, width_out=16, signed_a=False, signed_b=False,
        product=np.outer(values, values) >> 6 << 6,
    )  # fmt: skip
    artifact.gradients.update(
        gradient_tables(artifact, parameters=GradientParameters(hws_a=4, hws_b=4, rank=rank))
    )
    return artifact


def _kinds() -> dict[str, tuple[Artifact, str, float | None]]:
    """Label -> (artifact, gradient kind, target ratio to STE)."""
    kinds = {"STE": (_artifact(), "ste", None), "LUT-2D": (_artifact(), "lut2d", 3.0)}
    for rank in RANKS:
        kinds[f"LUT-1D r{rank}"] = (_artifact(rank), "lut1d", 1 + 0.3 * rank)
    return kinds


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _seconds_per_step(model: nn.Module, inputs, loss_of, optimizer, steps: int, warmup: int = 2) -> float:  # noqa: ANN001
    model.train()
    times = []
    for index in range(warmup + steps):
        _sync(inputs.device)
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss_of(model(inputs)).backward()
        optimizer.step()
        _sync(inputs.device)
        if index >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def _layer(device: torch.device, steps: int) -> dict[str, tuple[float, float | None]]:
    generator = torch.Generator().manual_seed(0)
    inputs = torch.rand(BATCH, IN_CHANNELS, SIZE, SIZE, generator=generator).to(device)
    target = torch.randn(BATCH, OUT_CHANNELS, SIZE, SIZE, generator=generator).to(device)
    torch.manual_seed(0)
    float_layer = nn.Sequential(nn.Conv2d(IN_CHANNELS, OUT_CHANNELS, 3, padding=1)).to(device)

    def loss_of(output):  # noqa: ANN001, ANN202
        return F.mse_loss(output, target)

    def seconds(model: nn.Module) -> float:
        return _seconds_per_step(model, inputs, loss_of, torch.optim.SGD(model.parameters(), lr=1e-3), steps)

    results = {"float": (seconds(float_layer), None)}
    for label, (artifact, kind, target_ratio) in _kinds().items():
        results[label] = (seconds(convert(float_layer, artifact, kind)), target_ratio)
    if device.type == "cpu" and lut2d_kernel.COMPILED:
        with _torch_lut2d_backward():
            results[TORCH_LUT2D] = (seconds(convert(float_layer, _artifact(), "lut2d")), None)
    return results


def _network(steps: int) -> dict[str, tuple[float, float | None]]:
    torch.manual_seed(0)
    float_model = build_network("deep", SIZE, 10)
    inputs = torch.rand(BATCH, 1, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    labels = torch.arange(BATCH) % 10

    def loss_of(output):  # noqa: ANN001, ANN202
        return F.cross_entropy(output, labels)

    def seconds(model: nn.Module) -> float:
        return _seconds_per_step(model, inputs, loss_of, torch.optim.Adam(model.parameters(), lr=1e-4), steps)

    results = {"float": (seconds(float_model), None)}
    for label, (artifact, kind, _) in _kinds().items():
        results[label] = (seconds(convert(float_model, artifact, kind)), 3.0 if kind == "lut2d" else None)
    if lut2d_kernel.COMPILED:
        with _torch_lut2d_backward():
            results[TORCH_LUT2D] = (seconds(convert(float_model, _artifact(), "lut2d")), None)
    return results


@contextlib.contextmanager
def _torch_lut2d_backward() -> Iterator[None]:
    """The LUT-2D backward without the compiled kernel: torch operations per weight row (the baseline)."""
    previous, lut2d_kernel.COMPILED = lut2d_kernel.COMPILED, False
    try:
        yield
    finally:
        lut2d_kernel.COMPILED = previous


def _print(title: str, results: dict[str, tuple[float, float | None]]) -> None:
    print(f"\n{title}")
    print(f"  {'kind':<13} {'s/step':>9} {'x STE':>6}  target")
    ste = results["STE"][0]
    for label, (seconds, target) in results.items():
        verdict = (
            "" if target is None else f"<= {target:.1f}x: {'met' if seconds / ste <= target else 'MISSED'}"
        )
        print(f"  {label:<13} {seconds:>9.4f} {seconds / ste:>6.2f}  {verdict}")


def test_bench_step_times() -> None:
    cpu = torch.device("cpu")
    default_threads = torch.get_num_threads()
    try:
        for threads in sorted({1, default_threads}):
            torch.set_num_threads(threads)
            _print(f"one conv layer, cpu, {threads} thread(s)", _layer(cpu, steps=15))
        for threads in sorted({1, default_threads}):
            torch.set_num_threads(threads)
            _print(
                f"deep network (7 layers on the multiplier), batch {BATCH}, cpu, {threads} thread(s)",
                _network(steps=5),
            )
    finally:
        torch.set_num_threads(default_threads)
    if torch.cuda.is_available():
        device = torch.device("cuda")
        _print(f"one conv layer, cuda ({torch.cuda.get_device_name(device)})", _layer(device, steps=30))


def test_bench_tune_hws() -> None:
    pytest.importorskip("sklearn")
    from appmult.retrain.tuning import tune_hws

    artifact = _artifact()
    start = time.perf_counter()
    record = tune_hws(artifact, scheduler="processes")
    seconds = time.perf_counter() - start
    points = len(record.grid)
    print(
        f"\ntune-hws, default search ({points} half-windows x {record.settings['seeds']} seeds, "
        f"{record.settings['data']}, {record.settings['network']} network, {record.settings['epochs']} "
        f"epochs) on {os.cpu_count()} cores: {seconds:.1f} s (target < 300 s on 2 cores); "
        f"chose h = {record.hws_a}"
    )


#: The panel's subset (bench/run_panel.sh SEEDS RANGES DATA subset): six netlists spanning the NMED range.
PANEL_SLICE = tuple((Path(__file__).resolve().parent / "panel_subset.txt").read_text().split())


def _appmult(*arguments: str | Path) -> None:
    subprocess.run([sys.executable, "-m", "appmult", *map(str, arguments), "--quiet"], check=True)


@pytest.mark.skipif(not os.environ.get("APPMULT_BENCH_PANEL"), reason="set APPMULT_BENCH_PANEL=1 (minutes)")
def test_bench_panel_schedulers(tmp_path) -> None:
    evoapprox = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "evoapprox"
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    for name in PANEL_SLICE:  # untimed, so both runs start from the same artifacts
        _appmult("characterize", evoapprox / f"{name}.v", "-o", artifacts / f"{name}.h5")
    netlists = ",".join(str(evoapprox / f"{name}.v") for name in PANEL_SLICE)
    kinds = "ste,lut2d@default,lut1d:separable:2"
    runs = len(PANEL_SLICE) * len(kinds.split(","))
    walls = {}
    for scheduler in ("processes", "dask"):
        start = time.perf_counter()
        output = tmp_path / scheduler
        _appmult("retrain-demo", "--panel", "--multipliers", netlists, "--seeds", "1", "--kinds", kinds,
                 "--artifacts", artifacts, "-o", output, "--scheduler", scheduler, "-j", "2")  # fmt: skip
        walls[scheduler] = time.perf_counter() - start
    print(
        f"\nthe panel's slice, -j 2 on {os.cpu_count()} cores: {len(PANEL_SLICE)} netlists x {kinds} x 1 seed"
    )
    print(f"({runs} runs and a float start, every one trained)")
    for scheduler, wall in walls.items():
        ratio = wall / walls["processes"]
        print(f"  {scheduler:<10} {wall:>7.1f} s  {wall / runs:>5.1f} s per run  {ratio:>5.2f}x the pool")
