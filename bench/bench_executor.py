"""Benchmark: many-job runs on each scheduler, the cost of one netlist, and Ctrl-C latency.

Run with ``make bench``. Three measurements, each against a baseline from the
same run (nothing here asserts a time):

1. A library of 300 netlists (renamed copies of the built-in designs of up
   to 8x8 bits, and 6 copies of the 12x12 one), characterized with
   ``--backend auto`` through the command line's code path
   (:func:`appmult.characterize.batch.characterize_many` plus the writes):
   one worker in this process (the baseline), the local process pool, a Dask
   ``LocalCluster`` and an external cluster (``dask scheduler`` and two
   ``dask worker`` processes on 127.0.0.1). Targets: Dask within 1.3x of
   the pool; the library in at most 12 s on 2 cores.
2. Where one 8x8 netlist's time goes (best of 5, in this process): reading
   the sources, parsing, flattening and scheduling, evaluating, reading the
   words and deciding the signedness, metrics, writing the artifact; and a
   fresh interpreter's imports.
3. Ctrl-C: SIGINT to ``appmult characterize --batch --backend icarus`` once
   its first artifact is written, until the process exits (target 2 s), for
   the pool and a LocalCluster.

With ``APPMULT_BENCH_LONG=1`` it also times the built-in 12x12 in Icarus in
one process against its slices on the pool (about 15 minutes on 2 cores).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from appmult.characterize import characterize
from appmult.characterize.batch import Request, characterize_many, requests_for_files
from appmult.characterize.netlist import discover
from appmult.characterize.signedness import decide, read_words
from appmult.characterize.sources import Sources
from appmult.core.artifact import Artifact
from appmult.core.artifact_file import save
from appmult.core.manifest import find_design, load_manifest

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "netlists"
APPMULT = [sys.executable, "-m", "appmult"]


def _library(folder: Path) -> Path:
    """300 renamed copies of the built-in designs (6 of them 12x12)."""
    folder.mkdir()
    small = [d for d in load_manifest() if max(d.width_a, d.width_b) <= 8]
    big = find_design("mul12u_exact")
    designs = [small[k % len(small)] for k in range(294)] + [big] * 6
    for index, design in enumerate(designs):
        name = f"{design.top}_{index:03d}"
        text = "\n".join(path.read_text() for path in design.files)
        (folder / f"{name}.v").write_text(re.sub(rf"\b{design.top}\b", name, text))
    return folder


def _run(folder: Path, out: Path, **session: object) -> float:
    out.mkdir()
    start = time.perf_counter()
    failed = 0
    for done in characterize_many(requests_for_files([folder], out), **session):
        if done.ok:
            save(done.artifact, done.request.output)
        failed += not done.ok
    assert not failed
    return time.perf_counter() - start


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _external_cluster(workdir: Path) -> tuple[str, list[subprocess.Popen]]:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).with_name("dask"))
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": workdir}
    scheduler = [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]
    processes = [subprocess.Popen(scheduler, **quiet)]
    time.sleep(1.0)
    worker = [dask, "worker", address, "--nthreads", "1", "--no-dashboard"]
    processes += [subprocess.Popen(worker, **quiet) for _ in range(2)]
    from distributed import Client

    with Client(address, timeout=30) as client:
        client.wait_for_workers(2, timeout=60)
    return address, processes


def test_bench_schedulers(tmp_path):
    folder = _library(tmp_path / "library")
    cores = os.cpu_count() or 1
    print(f"\n300 netlists (294 of up to 8x8 bits, 6 of 12x12), backend auto, {cores} cores: wall seconds")
    print(f"  {'scheduler':<34} {'seconds':>8} {'per netlist ms':>14} {'x pool':>7}")
    rows = [("one worker, in this process", {"workers": 1}), ("processes (local pool)", {})]
    rows += [("dask (LocalCluster)", {"scheduler": "dask"})]
    timings = {}
    for label, session in rows:
        timings[label] = _run(folder, tmp_path / f"out{len(timings)}", **session)
    address, processes = _external_cluster(tmp_path)
    try:
        timings["tcp:// (scheduler + 2 workers)"] = _run(folder, tmp_path / "out_tcp", scheduler=address)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=15)
    pool = timings["processes (local pool)"]
    for label, seconds in timings.items():
        print(f"  {label:<34} {seconds:8.2f} {1000 * seconds / 300:14.1f} {seconds / pool:7.2f}")


def _best(function, repeats: int = 5) -> tuple[float, object]:  # noqa: ANN001
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - start)
    return best, value


def test_bench_one_netlist_breakdown(tmp_path):
    from appmult.characterize.backends.bitsim import BitsimBackend
    from appmult.characterize.bitsim.elaborate import elaborate
    from appmult.characterize.bitsim.evaluate import evaluate
    from appmult.characterize.bitsim.program import compile_program
    from appmult.characterize.verilog import _parse_file, parse_modules

    path = FIXTURES / "evo_sig_style_8x8.v"
    characterize([path])  # the parser's tables are built once per process, before timing
    stages = {}
    stages["read sources"], bundle = _best(lambda: Sources.read([path]))
    with bundle.placed() as placement:
        local = list(placement.paths)

        def parse() -> object:
            _parse_file.cache_clear()
            return parse_modules(local)

        stages["parse (pyverilog)"], modules = _best(parse)
        interface = discover(local)
        stages["flatten + schedule"], program = _best(lambda: compile_program(elaborate(modules, interface)))
        stages["evaluate"], words = _best(lambda: evaluate(program))
        raw = words.reshape(256, 256).astype("int64")
        stages["signedness + read words"], decision = _best(lambda: decide(raw, interface, None))
        product = read_words(raw, 16, decision.signed_a, decision.signed_b)
        fields = dict(name="x", top="x", width_a=8, width_b=8, width_out=16, signed_a=False, signed_b=False)
        stages["metrics + artifact"], artifact = _best(lambda: Artifact(product=product, **fields))
        stages["write HDF5 (client)"], _ = _best(lambda: save(artifact, tmp_path / "x.h5"))
    stages["whole characterize()"], _ = _best(lambda: characterize([path], backend=BitsimBackend.name))
    imports = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import appmult.characterize, appmult.core.artifact"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    cumulative = max(
        int(line.split("|")[1]) for line in imports.splitlines() if "|" in line and "cumulative" not in line
    )
    print(f"\none 8x8 gate-level netlist ({path.name}), bitsim, best of 5 in this process, ms")
    for stage, seconds in stages.items():
        print(f"  {stage:<28} {1000 * seconds:8.2f}")
    print(f"  {'imports (fresh interpreter)':<28} {cumulative / 1000:8.2f}")


def _interrupt_latency(tmp_path: Path, scheduler: str) -> tuple[float, int, int]:
    folder = tmp_path / f"icarus_{scheduler}"
    folder.mkdir()
    source = (FIXTURES / "evo_sig_style_8x8.v").read_text()
    for k in range(10):
        (folder / f"m{k}.v").write_text(source.replace("module evo_sig_style_8x8", f"module m{k}"))
    out = tmp_path / f"out_{scheduler}"
    proc = subprocess.Popen(
        [*APPMULT, "characterize", "--batch", str(folder), "-o", str(out), "--backend", "icarus",
         "--scheduler", scheduler, "-j", "2", "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    while not list(out.glob("*.h5")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    start = time.perf_counter()
    proc.wait(timeout=60)
    return time.perf_counter() - start, proc.returncode, len(list(out.glob("*.h5")))


def test_bench_ctrl_c(tmp_path):
    print("\nCtrl-C during a 10-netlist Icarus batch on 2 workers: SIGINT to exit, seconds (target 2)")
    for scheduler in ("processes", "dask"):
        seconds, code, written = _interrupt_latency(tmp_path, scheduler)
        print(f"  {scheduler:<10} {seconds:6.2f} s, exit {code}, {written} of 10 artifacts written")


def test_bench_twelve_bit_icarus(tmp_path):
    if not os.environ.get("APPMULT_BENCH_LONG"):
        print("\n12x12 in Icarus: skipped (set APPMULT_BENCH_LONG=1; about 15 minutes on 2 cores)")
        return
    design = find_design("mul12u_exact")
    request = Request(design.files, top=design.top, name=design.name, backend="icarus")
    start = time.perf_counter()
    characterize(design.files, top=design.top, backend="icarus")
    single = time.perf_counter() - start
    start = time.perf_counter()
    (done,) = list(characterize_many([request]))
    sliced = time.perf_counter() - start
    assert done.ok
    print(f"\n12x12 in Icarus: one process {single:.0f} s, 8 slices on the pool {sliced:.0f} s "
          f"({single / sliced:.2f}x)")  # fmt: skip
