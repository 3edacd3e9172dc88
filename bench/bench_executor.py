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
3. A dead worker: SIGKILL to the worker running a job, until the job runs
   again (the time to notice plus the replacement), on the pool and on a
   LocalCluster; and what replacing one pool worker costs against starting
   a whole pool (ours, and concurrent.futures' as the baseline).
4. Ctrl-C and SIGTERM: the signal to ``appmult characterize --batch``, until
   the process exits (target 2 s), in each state of a run: the workers
   starting, jobs running, a worker just killed, the client writing a 12x12
   artifact, and two Icarus simulations that never settle; on the pool, on a
   LocalCluster and (where it applies) with one worker in the client. Each
   run is also checked: exit status 128 + signal and no process left.
5. A hung simulator: how long its job takes to fail with ``--timeout 2``
   while the other jobs of the batch run.

With ``APPMULT_BENCH_LONG=1`` it also times the built-in 12x12 in Icarus in
one process against its slices on the pool (about 15 minutes on 2 cores).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import psutil

from appmult.characterize import characterize
from appmult.characterize.batch import Request, characterize_many, requests_for_files
from appmult.characterize.netlist import discover
from appmult.characterize.signedness import decide, read_words
from appmult.characterize.sources import Sources
from appmult.core.artifact import Artifact
from appmult.core.artifact_file import save
from appmult.core.executor import Job, open_session
from appmult.core.executor.pool import LocalPool
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


def _logged_sleep(index: int, seconds: float, log: str) -> int:
    """A job: note ``index pid monotonic-start`` in ``log``, sleep, return the pid."""
    with open(log, "a") as handle:
        handle.write(f"{index} {os.getpid()} {time.monotonic()}\n")
    time.sleep(seconds)
    return os.getpid()


def _starts(log: Path, index: int) -> list[tuple[int, float]]:
    lines = [line.split() for line in log.read_text().splitlines()]
    return [(int(pid), float(start)) for k, pid, start in lines if int(k) == index]


def _restart_after_kill(scheduler: str, folder: Path) -> tuple[float, int]:
    """Seconds from SIGKILL of the worker running job 0 until job 0 starts again; the run's failures."""
    log = folder / f"{scheduler}-{time.monotonic_ns()}.log"
    log.touch()
    killed: list[float] = []

    def kill() -> None:
        while not _starts(log, 0):
            time.sleep(0.002)
        time.sleep(0.3)  # job 0 is in its sleep
        killed.append(time.monotonic())
        os.kill(_starts(log, 0)[0][0], signal.SIGKILL)

    jobs = [Job(f"sleep {k}", _logged_sleep, (k, 1.5 if k == 0 else 0.2, str(log))) for k in range(6)]
    killer = threading.Thread(target=kill)
    with open_session(scheduler, workers=2, jobs=len(jobs)) as session:
        killer.start()
        failed = sum(not outcome.ok for outcome in session.run(jobs))
    killer.join()
    return _starts(log, 0)[1][1] - killed[0], failed


def _first_result(make_pool: Callable[[], object], submit: Callable[[object], object]) -> float:
    start = time.perf_counter()
    pool = make_pool()
    submit(pool)
    elapsed = time.perf_counter() - start
    if isinstance(pool, ProcessPoolExecutor):
        pool.shutdown()
    else:
        pool.close(abort=False)
    return elapsed


def test_bench_dead_worker(tmp_path):
    print("\nA worker killed (SIGKILL) 0.3 s into a job, 2 workers: seconds until the job runs again")
    for scheduler in ("processes", "dask"):
        times, failed = zip(*(_restart_after_kill(scheduler, tmp_path) for _ in range(5)), strict=True)
        print(f"  {scheduler:<10} median {statistics.median(times):.3f} s, min {min(times):.3f}, "
              f"max {max(times):.3f} (5 kills; failed jobs: {sum(failed)})")  # fmt: skip
    scratch = tempfile.mkdtemp(dir=tmp_path)
    pool = LocalPool(2, scratch)
    replace = []
    for _ in range(20):
        start = time.perf_counter()
        pool.workers[0].kill()
        pool._replace(0)
        list(pool.run([Job("one", abs, (-1,))] * 2))  # both workers answer, the fresh one included
        replace.append(time.perf_counter() - start)
    pool.close(abort=False)
    ours = [_first_result(lambda: LocalPool(2, scratch), lambda p: list(p.run([Job("x", abs, (1,))] * 2)))
            for _ in range(10)]  # fmt: skip
    theirs = [_first_result(lambda: ProcessPoolExecutor(2), lambda p: list(p.map(abs, [1, 2])))
              for _ in range(10)]  # fmt: skip
    print("Pool replacement, median of 20 (10 for whole pools), seconds until every worker answers")
    print(f"  replace one dead worker (kill, reap, fork, first job)  {statistics.median(replace):.4f}")
    print(f"  start a pool of 2 (ours)                               {statistics.median(ours):.4f}")
    print(f"  start a ProcessPoolExecutor of 2 (the baseline)        {statistics.median(theirs):.4f}")


# Signals in each state of a run -----------------------------------------------------------


def _copies(folder: Path, source: Path, old: str, count: int, prefix: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = source.read_text()
    for k in range(count):
        (folder / f"{prefix}{k:02d}.v").write_text(text.replace(old, f"{prefix}{k:02d}"))
    return folder


def _descendants(pid: int, seen: dict[int, float]) -> list[psutil.Process]:
    try:
        found = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []
    for child in found:
        try:
            seen[child.pid] = child.create_time()
        except psutil.Error:
            pass
    return found


def _name(process: psutil.Process) -> str:
    try:
        return process.name()
    except psutil.Error:
        return ""


def _left(seen: dict[int, float]) -> int:
    time.sleep(0.3)
    alive = 0
    for pid, created in seen.items():
        try:
            process = psutil.Process(pid)
            alive += process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            pass
    return alive


def _signal_latency(folder: Path, state: str, scheduler: str, signum: int) -> tuple[float, int, int]:
    """Seconds from the signal to the command's exit in ``state``; its status; processes left."""
    out = folder / f"out-{time.monotonic_ns()}"
    options = ["-q", "-o", str(out)]
    if state == "writing an artifact":
        src = _copies(folder / "big", find_design("mul12u_exact").files[0], "mul12u_exact", 4, "b")
    elif state == "hung simulator":
        src = _copies(folder / "loop", FIXTURES / "bad_loop.v", "bad_loop", 2, "loop")
        options += ["--backend", "icarus", "--timeout", "600"]
    else:
        src = folder / "small"
        if not src.exists():
            _copies(src, FIXTURES / "evo_sig_style_8x8.v", "evo_sig_style_8x8", 12, "m")
    workers = ["-j", "1"] if scheduler == "in the client" else ["-j", "2", "--scheduler", scheduler]
    proc = subprocess.Popen(
        [*APPMULT, "characterize", "--batch", str(src), *options, *workers],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    seen: dict[int, float] = {}

    def ready() -> bool:
        children = _descendants(proc.pid, seen)
        if state == "starting":
            return bool(children)
        if state == "writing an artifact":
            return out.exists() and any(out.glob(".*.tmp"))
        if state == "hung simulator":  # each worker in a simulation (one worker in the client)
            return sum(_name(p) == "vvp" for p in children) == (1 if scheduler == "in the client" else 2)
        return out.exists() and any(out.glob("*.h5"))

    while not ready():
        time.sleep(0.005)
    if state == "hung simulator":
        time.sleep(0.5)
    if state == "a worker just died":
        workers = [
            c for c in psutil.Process(proc.pid).children() if "resource_tracker" not in " ".join(c.cmdline())
        ]
        workers[0].kill()
    proc.send_signal(signum)
    start = time.perf_counter()
    while proc.poll() is None:
        _descendants(proc.pid, seen)
        time.sleep(0.005)
    return time.perf_counter() - start, proc.returncode, _left(seen)


STATES = ("starting", "running", "a worker just died", "writing an artifact", "hung simulator")


def test_bench_signals(tmp_path):
    print("\nSIGINT / SIGTERM to `appmult characterize --batch`, 2 workers: seconds to exit (target 2),")
    print("median of 3 (max); a run with the wrong status or a process left is flagged")
    print(f"  {'state':<22} {'scheduler':<14} {'SIGINT':>16} {'SIGTERM':>16}")
    for state in STATES:
        for scheduler in ("processes", "dask", "in the client"):
            if scheduler == "in the client" and state in ("starting", "a worker just died"):
                continue
            cells = []
            for signum in (signal.SIGINT, signal.SIGTERM):
                runs = [_signal_latency(tmp_path, state, scheduler, signum) for _ in range(3)]
                seconds = [run[0] for run in runs]
                bad = [f"status {code}" for _, code, _ in runs if code != 128 + signum]
                bad += [f"{left} left" for _, _, left in runs if left]
                flag = f" ({', '.join(bad)})" if bad else ""
                cells.append(f"{statistics.median(seconds):.2f} ({max(seconds):.2f}){flag}")
            print(f"  {state:<22} {scheduler:<14} {cells[0]:>16} {cells[1]:>16}")


def test_bench_hung_simulator(tmp_path):
    from appmult.characterize.batch import requests_for_files

    src = _copies(tmp_path / "loop", FIXTURES / "bad_loop.v", "bad_loop", 1, "loop")
    _copies(src, FIXTURES / "evo_sig_style_8x8.v", "evo_sig_style_8x8", 3, "m")
    print("\nOne Icarus run that never settles (--timeout 2) among three 8x8 ones, 2 workers")
    for scheduler in ("processes", "dask"):
        start = time.perf_counter()
        requests = requests_for_files([src], tmp_path / "out", backend="icarus", timeout=2.0)
        arrivals = {done.request.label: (time.perf_counter() - start, done.ok)
                    for done in characterize_many(requests, scheduler=scheduler, workers=2)}  # fmt: skip
        hung = next(value for label, value in arrivals.items() if "loop" in label)
        others = [value[0] for label, value in arrivals.items() if "loop" not in label]
        assert not hung[1] and len(others) == 3
        print(f"  {scheduler:<10} the hung job failed {hung[0]:.2f} s into the run "
              f"(compile, then 2 s of simulation); the 3 others finished by {max(others):.2f} s")  # fmt: skip


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
