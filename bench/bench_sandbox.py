"""Benchmark: what confining Icarus in bubblewrap costs per run.

Run with ``make bench``. The same 8x8 gate-level netlist is characterized
with the Icarus reference backend, best of 5, once with the sandbox (where
bubblewrap works) and once with it turned off in this process (the
baseline); the target is under 10 % of the run. Nothing here asserts a time.
"""

from __future__ import annotations

import time
from pathlib import Path

from appmult.characterize import characterize, sandbox

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "netlists" / "evo_sig_style_8x8.v"


def _best(repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        characterize([FIXTURE], backend="icarus")
        best = min(best, time.perf_counter() - start)
    return best


def test_bench_sandbox(monkeypatch):
    print(f"\nIcarus run of {FIXTURE.name} (8x8), best of 5, seconds")
    if not sandbox.available():
        print("  bubblewrap is not available here: every run is unconfined (scrubbed environment only)")
        return
    confined = _best()
    monkeypatch.setattr(sandbox, "available", lambda: False)
    plain = _best()
    print(f"  without sandbox {plain:6.3f}")
    print(f"  bubblewrap      {confined:6.3f}  (+{100 * (confined / plain - 1):.1f} %)")
