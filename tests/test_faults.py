"""Faults during many-job runs, made for real, on the default process pool and on a local Dask cluster.

Each fault is made the way it happens to a user: a worker process killed with
SIGKILL (what the kernel's out-of-memory killer sends), a job that kills its
worker every time it runs, an output folder removed or a filesystem full in
the middle of a run, an Icarus simulation that never settles, a second
process changing an artifact while a verb rewrites it, and SIGINT (Ctrl-C) or
SIGTERM sent to the command at each stage of a run. Each test checks the exit
status, the message, which artifacts were written, that each written one
equals a clean run's, and that no process the command started is left.
How fast each fault is noticed is measured by ``bench/bench_executor.py``;
here a generous bound only catches a run that hangs.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psutil
import pytest

from appmult.core.artifact_file import load, outline, save
from appmult.core.atomic import rewritable_in_place
from appmult.core.errors import ArtifactError
from appmult.core.executor import Job, open_session
from tests.conftest import FIXTURES

APPMULT = [sys.executable, "-m", "appmult"]
SCHEDULERS = ["processes", "dask"]
RTL = Path(__file__).resolve().parent.parent / "rtl"
#: Three 8x8 netlists of different styles and tables (about 0.2 s each with bitsim).
STYLES = ("evo_sig_style_8x8", "pdkgen_style_8x8", "nbus_style_8x8")
#: Seconds after which a command that should have ended counts as hung.
HANG = 20.0


# ---------------------------------------------------------------------------------------------
# Jobs for the executor itself (module level, so Dask's spawned workers can import them)


def _square(k: int) -> int:
    time.sleep(0.05)
    return k * k


def _dies_once(marker: str) -> str:
    """Kill the worker running it the first time (leaving ``marker``), return the second time."""
    if not os.path.exists(marker):
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return "ran again"


def _dies_always() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _strays() -> list[psutil.Process]:
    """Child processes of this test process, but multiprocessing's resource tracker (it lives on)."""
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if "resource_tracker" not in " ".join(_cmdline(child))
    ]


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_a_dead_worker_costs_its_job_one_retry_and_a_second_death_fails_it_alone(tmp_path, scheduler):
    jobs = [Job(f"square {k}", _square, (k,)) for k in range(6)]
    jobs += [Job("dies once", _dies_once, (str(tmp_path / "marker"),)), Job("dies always", _dies_always)]
    with open_session(scheduler, workers=2, jobs=len(jobs)) as session:
        outcomes = {outcome.job.key: outcome for outcome in session.run(jobs)}
    assert [outcomes[f"square {k}"].value for k in range(6)] == [k * k for k in range(6)]
    assert outcomes["dies once"].ok and outcomes["dies once"].value == "ran again"
    cause = "signal 9; out of memory?" if scheduler == "processes" else "Dask worker; out of memory?"
    assert outcomes["dies always"].error == f"the worker running it died twice ({cause})"
    if scheduler == "processes":
        assert outcomes["dies once"].retries == 1 and outcomes["square 0"].retries == 0
    assert not multiprocessing.active_children() and not _strays()


# ---------------------------------------------------------------------------------------------
# The command line in a subprocess, watched from outside


class Command:
    """``appmult ARGS`` in a subprocess; every process it starts is remembered, to check none is left."""

    def __init__(self, *args: object, prefix: tuple[str, ...] = ()) -> None:
        self.process = subprocess.Popen(
            [*prefix, *APPMULT, *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.seen: dict[int, float] = {}

    def descendants(self) -> list[psutil.Process]:
        try:
            found = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            return []
        for process in found:
            with contextlib.suppress(psutil.Error):
                self.seen[process.pid] = process.create_time()
        return found

    def until(self, condition: Callable[[], bool], timeout: float = 60.0) -> None:
        """Watch the command until ``condition()`` holds; fail if it ends first or takes too long."""
        deadline = time.monotonic() + timeout
        while not condition():
            self.descendants()
            if self.process.poll() is not None:
                pytest.fail(f"the command ended first (status {self.process.returncode}): {self.stderr()}")
            if time.monotonic() > deadline:
                self.process.kill()
                pytest.fail(f"waited {timeout} s for the run to get there")
            time.sleep(0.01)

    def workers(self) -> list[psutil.Process]:
        """The command's worker processes: its Python children (pool workers, or Dask's), not the
        tracker multiprocessing starts, nor a short-lived helper (``ldconfig`` run by an import)."""
        try:
            client = psutil.Process(self.process.pid)
            python = client.exe()
            children = client.children()
        except psutil.Error:
            return []
        workers = []
        for child in children:
            with contextlib.suppress(psutil.Error):
                if child.exe() == python and "resource_tracker" not in " ".join(child.cmdline()):
                    workers.append(child)
        return workers

    def busy_worker(self) -> psutil.Process:
        """A worker that is running a job: the one that used the most CPU over 0.1 s (a few tries)."""
        for _ in range(20):
            workers = self.workers()
            before = [sum(w.cpu_times()[:2]) for w in workers]
            time.sleep(0.1)
            used, busiest = max(
                ((sum(w.cpu_times()[:2]) - b, w) for w, b in zip(workers, before, strict=True)),
                key=lambda pair: pair[0],
            )
            if used > 0.01:
                return busiest
        pytest.fail("no worker was running a job")

    def finish(self, timeout: float = HANG) -> tuple[int, str, str]:
        """Wait for the end; the exit status (negative: killed by that signal), stdout and stderr."""
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
            pytest.fail(f"the command did not end within {timeout} s: {err[-2000:]}")
        return self.process.returncode, out, err

    def stderr(self) -> str:
        return self.process.communicate()[1][-2000:] if self.process.poll() is not None else ""

    def left(self) -> list[str]:
        """Processes it started that still run (after it ended)."""
        time.sleep(0.3)  # the kernel delivers the last SIGKILLs
        alive = []
        for pid, created in self.seen.items():
            with contextlib.suppress(psutil.Error):
                process = psutil.Process(pid)
                if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{pid} {' '.join(process.cmdline())[:120]}")
        return alive


def _library(folder: Path, count: int, styles: tuple[str, ...] = STYLES) -> dict[str, str]:
    """``count`` renamed copies of the 8x8 fixtures in ``folder``: artifact stem -> fixture style."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for k in range(count):
        style = styles[k % len(styles)]
        name = f"m{k:02d}"
        text = (FIXTURES / f"{style}.v").read_text().replace(f"module {style}", f"module {name}")
        (folder / f"{name}.v").write_text(text)
        made[name] = style
    return made


def _big_library(folder: Path, count: int) -> dict[str, str]:
    """``count`` renamed copies of the built-in 12x12 multiplier (its artifact takes 0.3 s to write)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (RTL / "mul12u_exact.v").read_text()
    for k in range(count):
        (folder / f"b{k:02d}.v").write_text(text.replace("mul12u_exact", f"b{k:02d}"))
    return {f"b{k:02d}": "mul12u_exact" for k in range(count)}


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """Style -> its artifact from a clean run (bitsim, in this process), made once."""
    from appmult.characterize import characterize

    made = {style: characterize([FIXTURES / f"{style}.v"], backend="bitsim") for style in STYLES}
    made["mul12u_exact"] = characterize([RTL / "mul12u_exact.v"], backend="bitsim")
    made["ansi_exact4"] = characterize([FIXTURES / "ansi_exact4.v"], backend="bitsim")
    return made


def _written(out: Path, styles: dict[str, str], clean: dict) -> set[str]:
    """The artifacts in ``out``, each checked to equal the clean run's; no temporary file beside them."""
    if not out.exists():
        return set()
    assert not [p.name for p in out.iterdir() if p.suffix != ".h5"], "a temporary file was left"
    names = set()
    for path in out.glob("*.h5"):
        artifact, reference = load(path), clean[styles[path.stem]]
        np.testing.assert_array_equal(artifact.product, reference.product)
        assert artifact.metrics == reference.metrics
        names.add(path.stem)
    return names


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_a_worker_killed_mid_batch_costs_nothing(tmp_path, scheduler, clean):
    styles = _library(tmp_path / "src", 24)
    out = tmp_path / "out"
    run = Command(
        "characterize", "--batch", tmp_path / "src", "-o", out, "-j", 2, "--scheduler", scheduler, "-q"
    )
    run.until(lambda: any(out.glob("*.h5")))
    run.busy_worker().kill()
    status, stdout, stderr = run.finish()
    assert status == 0, stderr
    assert stderr == "" and len(stdout.splitlines()) == 25  # the header and one row per design
    assert _written(out, styles, clean) == set(styles)
    assert not run.left()


# ---------------------------------------------------------------------------------------------
# Ctrl-C and SIGTERM in each state of a run

STATES = ["starting", "running", "a worker just died", "writing an artifact"]


def _signal_in(state: str, run: Command, out: Path) -> str | None:
    """Bring ``run`` to ``state``; the temporary file being written when the state is ``writing``."""
    if state == "starting":
        run.until(lambda: bool(run.workers()))
    elif state == "writing an artifact":
        temporary: list[Path] = []
        run.until(lambda: bool(temporary.extend(out.glob(".*.tmp")) or temporary), timeout=90)
        return temporary[0].name.split(".")[1]  # ".b01.h5.abc123.tmp" -> "b01"
    else:
        run.until(lambda: any(out.glob("*.h5")))
        if state == "a worker just died":
            run.busy_worker().kill()
    return None


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("scheduler", [*SCHEDULERS, "in this process"])
def test_ctrl_c_and_sigterm_end_the_run_in_every_state(tmp_path, scheduler, state, signum, clean):
    if scheduler == "in this process" and state in ("starting", "a worker just died"):
        pytest.skip("one worker runs in the client: nothing starts, no worker can die")
    big = state == "writing an artifact"
    styles = (_big_library if big else _library)(tmp_path / "src", 4 if big else 12)
    out = tmp_path / "out"
    workers = ["-j", 1] if scheduler == "in this process" else ["-j", 2, "--scheduler", scheduler]
    run = Command("characterize", "--batch", tmp_path / "src", "-o", out, *workers, "-q")
    being_written = _signal_in(state, run, out)
    run.process.send_signal(signum)
    status, _, stderr = run.finish()
    assert status == 128 + signum, stderr
    assert stderr.startswith("interrupted: ") and "not written: " in stderr and "Traceback" not in stderr
    written = _written(out, styles, clean)
    assert len(written) < len(styles)
    if being_written is not None:
        assert being_written in written  # the signal waited for the artifact being written
    assert not run.left()


# ---------------------------------------------------------------------------------------------
# A simulator that never finishes


def _icarus_batch(folder: Path, hung: int, good: int) -> dict[str, str]:
    """``hung`` copies of the never-settling bad_loop.v and ``good`` renamed copies of ansi_exact4.v."""
    folder.mkdir(parents=True, exist_ok=True)
    loop = (FIXTURES / "bad_loop.v").read_text()
    for k in range(hung):
        (folder / f"loop{k}.v").write_text(loop.replace("module bad_loop", f"module loop{k}"))
    exact = (FIXTURES / "ansi_exact4.v").read_text()
    for k in range(good):
        (folder / f"g{k}.v").write_text(exact.replace("module m(", f"module g{k}("))
    return {f"g{k}": "ansi_exact4" for k in range(good)}


def _simulators(run: Command) -> list[psutil.Process]:
    return [p for p in run.descendants() if os.path.basename(" ".join(_cmdline(p)[:1])) == "vvp"]


@pytest.mark.icarus
@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_a_hung_simulator_is_stopped_by_its_timeout_and_the_others_finish(tmp_path, scheduler, clean):
    styles = _icarus_batch(tmp_path / "src", hung=1, good=3)
    out = tmp_path / "out"
    run = Command(
        "characterize", "--batch", tmp_path / "src", "-o", out, "--backend", "icarus", "--timeout", 3,
        "-j", 2, "--scheduler", scheduler, "-q",
    )  # fmt: skip
    status, _, stderr = run.finish(timeout=90)
    assert status == 1, stderr
    assert "1 of 4 designs failed:" in stderr
    assert f"{tmp_path / 'src' / 'loop0.v'}: loop0: simulation did not finish within 3 s" in stderr
    assert _written(out, styles, clean) == set(styles)
    assert not run.left()


@pytest.mark.icarus
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_ctrl_c_and_sigterm_stop_hung_simulators(tmp_path, scheduler, signum, clean):
    styles = _icarus_batch(tmp_path / "src", hung=2, good=2)
    out = tmp_path / "out"
    run = Command(
        "characterize", "--batch", tmp_path / "src", "-o", out, "--backend", "icarus", "--timeout", 600,
        "-j", 2, "--scheduler", scheduler, "-q",
    )  # fmt: skip
    run.until(lambda: len(_simulators(run)) == 2, timeout=90)  # both workers spin in a simulator
    time.sleep(0.5)
    run.process.send_signal(signum)
    status, _, stderr = run.finish()
    assert status == 128 + signum, stderr
    assert stderr.startswith("interrupted: ") and "Traceback" not in stderr
    assert _written(out, styles, clean) <= set(styles)
    assert not run.left()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_and_sigterm_end_a_retraining_benchmark_with_their_status(tmp_path, signum):
    pytest.importorskip("sklearn")
    out = tmp_path / "out"
    run = Command("retrain-demo", "--quick", "--artifacts", tmp_path / "arts", "-o", out, "-j", 2, "-q")
    run.until(lambda: len(run.workers()) == 2, timeout=120)  # the runs are on the pool
    time.sleep(1)
    run.process.send_signal(signum)
    status, _, stderr = run.finish()
    assert status == 128 + signum, stderr
    assert stderr.startswith("interrupted: ") and "run the same command again to resume" in stderr
    assert "Traceback" not in stderr and not run.left()


# ---------------------------------------------------------------------------------------------
# Outputs that cannot be written


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_an_output_folder_removed_mid_run_fails_the_jobs_that_write_there(tmp_path, scheduler):
    _library(tmp_path / "src", 12)
    out = tmp_path / "out"
    run = Command(
        "characterize", "--batch", tmp_path / "src", "-o", out, "-j", 2, "--scheduler", scheduler, "-q"
    )
    run.until(lambda: any(out.glob("*.h5")))
    while out.exists():  # the command may be creating a temporary file in it right now
        shutil.rmtree(out, ignore_errors=True)
    status, _, stderr = run.finish()
    assert status == 1, stderr
    lines = stderr.splitlines()
    failed = int(lines[0].split()[0])
    assert lines[0] == f"{failed} of 12 designs failed:" and 1 <= failed < 12
    assert len(lines) == 1 + failed and "Traceback" not in stderr
    for line in lines[1:]:  # one line per design, naming its artifact and the cause
        assert "out/m" in line and (
            f"output directory {out} does not exist; create it or write elsewhere" in line
            or "cannot write (No such file or directory); nothing was changed" in line
        ), line
    assert not out.exists() and not run.left()


def _with_small_filesystem(folder: Path, size: str, copy_to: Path | None = None) -> tuple[str, ...]:
    """A command prefix: run it with a fresh tmpfs of ``size`` on ``folder``, in a private mount namespace.

    The tmpfs is gone when the command ends; with ``copy_to`` its files (hidden ones too) are
    copied there first, and the command's exit status is kept.
    """
    prefix = ("unshare", "--user", "--map-root-user", "--mount")
    if shutil.which("unshare") is None or subprocess.run([*prefix, "true"], check=False).returncode != 0:
        pytest.skip("unprivileged mount namespaces are not available here")
    keep = f'; status=$?; cp -a "{folder}/." "{copy_to}/"; exit $status' if copy_to else ""
    script = f'mount -t tmpfs -o size={size} none "{folder}" && "$@"{keep}'
    return (*prefix, "sh", "-c", script, "sh")


def test_a_full_disk_leaves_the_file_and_no_temporary(tmp_path):
    """:func:`replacing` on a filesystem with too little room: one line, old content kept, no temporary."""
    folder = tmp_path / "small"
    folder.mkdir()
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from appmult.core.atomic import replacing\n"
        "from appmult.core.errors import AppMultError\n"
        "target = Path(sys.argv[1]) / 'table.txt'\n"
        "with replacing(target) as tmp:\n"
        "    tmp.write_text('old content')\n"
        "try:\n"
        "    with replacing(target) as tmp:\n"
        "        tmp.write_bytes(b'x' * 400_000)\n"
        "except AppMultError as exc:\n"
        "    print(exc)\n"
        "print(sorted(p.name for p in target.parent.iterdir()), target.read_text())\n"
    )
    command = [*_with_small_filesystem(folder, "100k"), sys.executable, "-c", code, folder]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{folder}/table.txt: cannot write (No space left on device); nothing was changed",
        "['table.txt'] old content",
    ]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_a_file_is_written_takes_effect_once_it_is_in_place(tmp_path, signum):
    """Outside any session (tune-hws writes last): the file is completed and renamed, then the signal acts."""
    target = tmp_path / "table.txt"
    code = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from appmult.core.atomic import replacing\n"
        "with replacing(Path(sys.argv[1])) as tmp:\n"
        "    with open(tmp, 'w') as handle:\n"
        "        handle.write('first half, ')\n"
        "        os.kill(os.getpid(), int(sys.argv[2]))\n"
        "        handle.write('second half')\n"
        "print('not reached')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, target, str(int(signum))], capture_output=True, text=True, timeout=60
    )
    assert "not reached" not in result.stdout
    assert result.returncode == -signum  # Python's defaults: ended by the signal, after the rename
    assert target.read_text() == "first half, second half"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.txt"]


def test_a_full_disk_fails_the_designs_that_do_not_fit(tmp_path, clean):
    styles = _library(tmp_path / "src", 12)
    out, kept = tmp_path / "out", tmp_path / "kept"
    out.mkdir()
    kept.mkdir()
    small = _with_small_filesystem(out, "300k", copy_to=kept)  # about 4 artifacts of 8x8 fit
    run = Command("characterize", "--batch", tmp_path / "src", "-o", out, "-j", 2, "-q", prefix=small)
    status, _, stderr = run.finish(timeout=60)
    assert status == 1 and "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert "No space left on device" in stderr
    assert _written(kept, styles, clean)
    assert not run.left()


# ---------------------------------------------------------------------------------------------
# Two processes, one artifact


def _artifact(tmp_path: Path, name: str, clean: dict, style: str = "evo_sig_style_8x8") -> Path:
    path = tmp_path / f"{name}.h5"
    save(clean[style], path)
    return path


def _cli(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([*APPMULT, *map(str, args)], capture_output=True, text=True, timeout=120)


def test_a_rewrite_refuses_to_undo_what_another_process_wrote_meanwhile(tmp_path, clean):
    """The issue's case: tune-hws read F (LUT-2D at h = 4), lutgen --hws 32 rewrote F meanwhile."""
    path = _artifact(tmp_path, "f", clean)
    assert _cli("lutgen", path, "--hws", 4, "-q").returncode == 0
    rewritable_in_place(path, "tune-hws", outline)
    artifact = load(path).materialize()
    assert _cli("lutgen", path, "--hws", 32, "-q").returncode == 0  # another process, meanwhile
    with pytest.raises(ArtifactError) as raised:
        save(artifact, path)
    message = str(raised.value)
    # the changed parameters come first; the tables' diagnostics (floats) after them
    assert message.startswith(
        f"{path}: changed by another process since tune-hws read it (/grad/lut1d: hws_a 4 -> 32, "
        "hws_b 4 -> 32, deviation_a "
    )
    assert "; /grad/lut2d: hws_a 4 -> 32, hws_b 4 -> 32, deviation_a " in message
    assert message.endswith("); writing now would undo that, so nothing was written; run tune-hws again")
    assert load(path).gradients["lut2d"].attrs["hws_a"] == 32  # the other process's change stands
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.h5"]


def test_a_rewrite_goes_ahead_when_the_file_is_as_it_was(tmp_path, clean):
    path = _artifact(tmp_path, "f", clean)
    rewritable_in_place(path, "lutgen")
    artifact = load(path).materialize()
    os.utime(path)  # touched, same bytes: nothing to undo
    artifact.tuning = None
    save(artifact, path)
    rewritable_in_place(path, "lutgen")  # and again after its own write
    save(load(path).materialize(), path)


def test_a_removed_file_is_a_change_too(tmp_path, clean):
    path = _artifact(tmp_path, "f", clean)
    rewritable_in_place(path, "lutgen")
    artifact = load(path).materialize()
    path.unlink()
    with pytest.raises(ArtifactError, match=r"since lutgen read it \(the file was removed\)"):
        save(artifact, path)
    assert not path.exists()


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_lutgen_over_two_files_refuses_the_one_changed_meanwhile_and_writes_the_other(
    tmp_path, scheduler, clean
):
    """Two processes: ``appmult lutgen F G`` (F 12x12: a second or more of LUT-2D), and this one.

    lutgen reads every file before it starts its workers, so once it has workers both files
    are read; this process then changes F the way a script would, in place with h5py.
    """
    import h5py

    changed, kept = _artifact(tmp_path, "f", clean, "mul12u_exact"), _artifact(tmp_path, "g", clean)
    run = Command(
        "lutgen", changed, kept, "--methods", "lut2d", "--hws", 4, "-j", 2, "--scheduler", scheduler
    )
    run.until(lambda: bool(run.workers()))
    with h5py.File(changed, "r+") as h5:
        h5.attrs["note"] = "edited meanwhile"
    status, _, stderr = run.finish(timeout=120)
    assert status == 1, stderr
    assert stderr.splitlines()[-2:] == [
        "1 of 2 artifacts failed:",
        f"  {changed}: changed by another process since lutgen read it (/: note (none) -> 'edited "
        "meanwhile'); writing now would undo that, so nothing was written; run lutgen again",
    ]
    with h5py.File(changed, "r") as h5:  # ours stands, theirs was not written over it
        assert h5.attrs["note"] == "edited meanwhile" and "lut2d" not in h5["grad"]
    assert sorted(load(kept).gradients) == ["lut2d"]
    assert not run.left()
