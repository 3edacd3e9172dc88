"""Benchmark: batch throughput of ``appmult characterize --batch`` on 100 8x8 netlists.

The batch is 100 files, each a copy of one of the gate-level 8x8 netlists
(the built-in 8x8 designs and the EvoApprox-style fixtures) under its own
name, characterized with the ``auto`` backend through
:func:`appmult.characterize.batch.run_batch`: once with one worker (the baseline, in
this process) and once with a process pool over all cores. Prints tables per
second and the speed-up. Nothing here asserts a time.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from appmult.characterize.batch import jobs_for_files, run_batch
from appmult.core.manifest import load_manifest

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "netlists"
BATCH = 100


def _sources() -> list[Path]:
    library = [d.files[0] for d in load_manifest() if (d.width_a, d.width_b) == (8, 8) and len(d.files) == 1]
    fixtures = [FIXTURES / f for f in ("evo_sig_style_8x8.v", "pdkgen_style_8x8.v", "nbus_style_8x8.v")]
    return library + fixtures


def test_bench_batch(tmp_path):
    sources = _sources()
    folder = tmp_path / "netlists"
    folder.mkdir()
    for index in range(BATCH):
        source = sources[index % len(sources)]
        shutil.copy(source, folder / f"n{index:03d}_{source.name}")
    print(f"\nbatch of {BATCH} 8x8 netlists ({len(sources)} distinct designs), backend auto")
    print(f"{'workers':>8} {'seconds':>8} {'tables/s':>9} {'speed-up':>9}")
    baseline = None
    for workers in (1, os.cpu_count() or 1):
        out = tmp_path / f"out{workers}"
        out.mkdir()
        jobs = jobs_for_files([folder], out)
        start = time.perf_counter()
        results = run_batch(jobs, workers=workers)
        seconds = time.perf_counter() - start
        failed = [r for r in results if not r.ok]
        assert not failed, failed[0].error
        baseline = baseline or seconds
        print(f"{workers:>8} {seconds:>8.2f} {BATCH / seconds:>9.1f} {baseline / seconds:>8.2f}x")
