"""Benchmark: streamed characterization of wide multipliers, against the floor of the evaluator.

Run with ``make bench`` (or ``pytest bench/bench_wide.py -s -o python_files='bench_*.py'``).

Table 1, per design at 8, 12 and 16 bits (16 bits: a 2**24-pair slice of
each EvoApprox netlist): operand pairs per CPU second of bitsim's evaluation
alone, of a streamed slice (evaluation and the exact reduction) with the
compiled kernel and with numpy, and the floor: the program's gate steps x
pairs / 64 word operations at the rate of one bare numpy bitwise operation
on cache-resident planes, measured in the same run (``floor``: pairs per
second at that rate; ``eval/floor``: how far the evaluation is from it).
CPU seconds (``time.process_time``), so a busy machine does not inflate them.

Table 2: whole ``appmult characterize`` processes on the 16-bit netlists,
``-j 2`` with the process pool and with a local Dask cluster: wall time,
CPU time of the process tree, and the peak resident memory of the largest
worker. Set ``APPMULT_BENCH_WIDE=1`` for it (minutes per netlist).

Nothing here asserts a time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from appmult.characterize.api import characterize_or_plan
from appmult.characterize.bitsim.evaluate import evaluate_chunks
from appmult.characterize.streaming import reduce_slice
from appmult.core import fused
from appmult.core.manifest import load_manifest

ROOT = Path(__file__).resolve().parent.parent
EVOAPPROX = ROOT / "tests" / "fixtures" / "evoapprox"
WIDE = ("mul16u_BMC", "mul16u_8VH", "mul16u_HGK", "mul16s_GAT")
SLICE_PAIRS = 1 << 24


def _floor_rate() -> float:
    """Word operations per CPU second of a bare numpy AND over 4096-word (32 KB) planes."""
    x, y, z = (np.full(4096, v, dtype=np.uint64) for v in (3, 5, 0))
    start, count = time.process_time(), 0
    while time.process_time() - start < 0.5:
        for _ in range(1000):
            np.bitwise_and(x, y, out=z)
        count += 1000
    return count * 4096 / (time.process_time() - start)


def _cpu(function) -> float:  # noqa: ANN001
    start = time.process_time()
    function()
    return time.process_time() - start


def _evaluate_only(plan, rows: range) -> None:  # noqa: ANN001
    n_b = plan.reading.shape[1]
    for _ in evaluate_chunks(plan.program, rows.start * n_b, rows.stop * n_b):
        pass


def _designs() -> list[tuple[str, list[Path], dict]]:
    built = {design.name: design for design in load_manifest()}
    rows = []
    for name in ("mul8u_cmp42", "mul8s_trunc6", "mul12u_exact"):
        design = built[name]
        rows.append((name, list(design.files), {"top": design.top, "signed": design.signed}))
    rows += [(name, [EVOAPPROX / f"{name}.v"], {}) for name in WIDE]
    return rows


def test_pairs_per_second_against_the_floor():
    rate = _floor_rate()
    print(f"\nfloor: {rate / 1e9:.2f} G word operations per CPU second (numpy AND, 32 KB planes)")
    print(
        f"kernel: {'numba ' + __import__('numba').__version__ if fused.COMPILED else 'numpy (numba absent)'}"
    )
    header = (f"{'design':<14} {'bits':>5} {'steps':>6} {'pairs':>10} {'floor M/s':>10} {'eval M/s':>9} "
              f"{'eval/floor':>10} {'stream M/s':>10} {'numpy M/s':>10}")  # fmt: skip
    print(header)
    for name, files, options in _designs():
        plan = characterize_or_plan(files, stream=True, **options)
        n_a, n_b = plan.reading.shape
        rows = range(n_a // 2 - max(1, min(n_a // 2, SLICE_PAIRS // n_b)), n_a // 2)
        pairs = len(rows) * n_b
        steps = len(plan.program.steps)
        reduce_slice(plan.program, plan.reading, range(rows.start, rows.start + 1))  # compile the kernel
        evaluation = _cpu(partial(_evaluate_only, plan, rows))
        streamed = _cpu(partial(reduce_slice, plan.program, plan.reading, rows))
        compiled, fused.COMPILED = fused.COMPILED, False
        try:
            plain = _cpu(partial(reduce_slice, plan.program, plan.reading, rows))
        finally:
            fused.COMPILED = compiled
        floor = rate * 64 / steps  # pairs per second if every step cost one bare word operation
        print(
            f"{name:<14} {plan.reading.width_a:>2}x{plan.reading.width_b:<2} {steps:>6} {pairs:>10} "
            f"{floor / 1e6:>10.0f} {pairs / evaluation / 1e6:>9.1f} {floor * evaluation / pairs:>10.1f} "
            f"{pairs / streamed / 1e6:>10.1f} {pairs / plain / 1e6:>10.1f}"
        )


def _peak_worker_rss(process: subprocess.Popen) -> tuple[float, float]:
    """Wait for ``process``; the largest resident set of any process of its tree (MB) and its CPU seconds."""
    import psutil

    root, peak, cpu = psutil.Process(process.pid), 0, {}
    while process.poll() is None:
        try:
            for member in [root, *root.children(recursive=True)]:
                peak = max(peak, member.memory_info().rss)
                times = member.cpu_times()
                cpu[member.pid] = times.user + times.system
        except psutil.Error:
            pass
        time.sleep(0.2)
    return peak / 2**20, sum(cpu.values())


@pytest.mark.skipif(not os.environ.get("APPMULT_BENCH_WIDE"), reason="set APPMULT_BENCH_WIDE=1 (minutes)")
@pytest.mark.parametrize("scheduler", ["processes", "dask"])
def test_whole_16_bit_runs(tmp_path, scheduler):
    print(f"\n{'netlist':<12} {'scheduler':<10} {'wall s':>8} {'cpu s':>8} {'peak MB':>8}  metrics")
    for name in WIDE:
        out = tmp_path / f"{name}.h5"
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "appmult", "characterize", str(EVOAPPROX / f"{name}.v"), "-o", str(out),
             "-j", "2", "--scheduler", scheduler, "-q"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        peak, cpu = _peak_worker_rss(process)
        wall = time.perf_counter() - start
        stdout, stderr = process.communicate()
        assert process.returncode == 0, stderr
        row = stdout.splitlines()[-1]
        print(f"{name:<12} {scheduler:<10} {wall:>8.1f} {cpu:>8.1f} {peak:>8.0f}  {row[33:60]}")
