"""Running many independent jobs: a local process pool, a local Dask cluster, or an existing one.

Every verb that runs many independent jobs (``characterize --batch/--library``,
``lutgen`` over several files, ``verify --library``, ``tune-hws``,
``retrain-demo``) hands them to :func:`open_session` and consumes the
outcomes as they finish, the same way whichever scheduler runs them:

``processes`` (default)
    a local process pool of ``workers`` processes (default: all cores);
    with one worker, or one job, the job runs in this process.
``dask``
    a ``distributed.LocalCluster`` of ``workers`` single-threaded worker
    processes, started for the run and closed after it.
``tcp://HOST:PORT``
    an existing Dask cluster (``dask scheduler`` / ``dask worker``,
    dask-jobqueue on Slurm, a cloud deployment). Its workers need this
    package installed, at the same version; they need no shared filesystem.

A :class:`Job` is a pure function of its arguments: sources travel inside
the job as data, the result travels back to the client, and the client
writes every output itself, so a job lost with its worker can simply run
again (Dask does that on its own). A job's failure never stops the others:
it comes back as an :class:`Outcome` with a one-line ``error``, including a
worker that died mid-job.

Interrupting (Ctrl-C) a session cancels the jobs that have not started,
stops the running ones (local worker processes are killed together with the
simulators they started; a local cluster is closed), removes the scratch
files of local workers, and re-raises :class:`KeyboardInterrupt` so the
command line can say what was written and exit with status 130.

Nothing here schedules, queues or retries by itself: the pool and Dask do.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from appmult.core.errors import AppMultError, ParameterError
from appmult.core.progress import ProgressCallback

__all__ = [
    "DEFAULT_SCHEDULER",
    "SCHEDULER_HELP",
    "Interrupted",
    "Job",
    "Outcome",
    "Session",
    "check_scheduler",
    "open_session",
]

DEFAULT_SCHEDULER = "processes"
SCHEDULER_HELP = (
    "processes (a local process pool, -j workers), dask (a local Dask cluster of -j workers), "
    "or tcp://HOST:PORT (an existing Dask cluster)"
)


@dataclass(frozen=True, eq=False)
class Job:
    """One independent piece of work: ``function(*args, **kwargs)``, picklable, a pure function of them.

    ``key`` names it for the user (a file, a design, a grid point);
    ``resources`` are Dask worker resources it needs (``{"GPU": 1}``) on an
    existing cluster, whose workers declare them (``dask worker ADDRESS
    --resources GPU=1``); the local schedulers ignore them.
    ``progress_kwarg`` names a keyword that takes a progress callback: when
    a session runs this job alone in the client's process, it passes the
    run's progress there, so one long job reports its own progress.
    """

    key: str
    function: Callable[..., Any]
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, float] = field(default_factory=dict)
    progress_kwarg: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of a job: its ``value``, or a one-line ``error``; ``seconds`` of wall time."""

    job: Job
    value: Any = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a many-job run, after the workers were stopped.

    ``finished`` names what was completed (its outputs are written), ``unfinished``
    what was not (nothing of it was written).
    """

    def __init__(self, finished: Sequence[str], unfinished: Sequence[str]) -> None:
        super().__init__(f"interrupted: {len(finished)} finished, {len(unfinished)} not")
        self.finished, self.unfinished = list(finished), list(unfinished)


def check_scheduler(scheduler: str) -> str:
    """Return ``scheduler`` if it is ``processes``, ``dask`` or ``tcp://HOST:PORT``, else raise."""
    if scheduler in ("processes", "dask"):
        return scheduler
    if scheduler.startswith("tcp://") and ":" in scheduler[len("tcp://") :]:
        return scheduler
    raise ParameterError(f"--scheduler {scheduler!r}: expected {SCHEDULER_HELP}")


def _describe_failure(exc: BaseException) -> str:
    """One line for a job's exception: the tool's own message, or what broke."""
    if isinstance(exc, AppMultError):
        return str(exc)
    name = type(exc).__name__
    if name == "KilledWorker":
        return "the Dask worker running it died (killed, or out of memory) every time it was tried"
    if name == "BrokenProcessPool":
        return "the worker process running it died (killed, or out of memory)"
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" at {last[0].filename}:{last[0].lineno}" if last else ""
    return f"internal error {name}: {exc}{where}"


def _timed(function: Callable[..., Any], args: tuple, kwargs: dict[str, Any]) -> tuple[Any, float]:
    """Run in a worker: ``function(*args, **kwargs)`` and its wall time (exceptions propagate)."""
    start = time.perf_counter()
    return function(*args, **kwargs), time.perf_counter() - start


class Session:
    """An open scheduler: :meth:`run` submits jobs and yields their outcomes as they finish."""

    def run(self, jobs: Sequence[Job], progress: ProgressCallback | None = None) -> Iterator[Outcome]:
        """Yield one :class:`Outcome` per job as it finishes; ``progress`` gets the fraction done."""
        jobs = list(jobs)
        for done, outcome in enumerate(self._outcomes(jobs, progress), start=1):
            if progress is not None:
                progress(done / max(1, len(jobs)))
            yield outcome

    def _outcomes(self, jobs: list[Job], progress: ProgressCallback | None) -> Iterator[Outcome]:
        raise NotImplementedError

    def close(self, abort: bool) -> None:
        """Release the workers; ``abort`` stops running jobs instead of waiting for them."""


class _InProcess(Session):
    """One worker: every job runs here, in order (no pool to start; a single job keeps its own progress)."""

    def _outcomes(self, jobs: list[Job], progress: ProgressCallback | None) -> Iterator[Outcome]:
        for job in jobs:
            start = time.perf_counter()
            kwargs = dict(job.kwargs)
            if len(jobs) == 1 and job.progress_kwarg and progress is not None:
                kwargs[job.progress_kwarg] = progress
            try:
                value = job.function(*job.args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - every failure becomes one line in the outcome
                yield Outcome(job, error=_describe_failure(exc), seconds=time.perf_counter() - start)
            else:
                yield Outcome(job, value=value, seconds=time.perf_counter() - start)


#: Seconds between checks for Ctrl-C while waiting for jobs.
_POLL = 0.2

#: Set by the SIGINT handler of an open session (see :func:`_on_sigint`).
_INTERRUPTED = threading.Event()
#: Whether that handler raises at once: only while jobs run in this process.
_RAISE_AT_ONCE = threading.Event()


def _on_sigint(_signum: int, _frame: object) -> None:
    """Ctrl-C: remember it; raise KeyboardInterrupt at once only when jobs run in this process.

    While jobs run elsewhere the client is waiting (:func:`_as_completed`
    checks the flag every :data:`_POLL` seconds). Raising there could hit a
    garbage-collection or weakref callback of Dask's, where Python drops the
    exception with a traceback on stderr.
    """
    _INTERRUPTED.set()
    if _RAISE_AT_ONCE.is_set():
        raise KeyboardInterrupt


def _as_completed(futures: Iterable[Any], wait_some: Callable[[set], Iterable[Any]]) -> Iterator[Any]:
    """Futures as they finish, waiting at most :data:`_POLL` seconds at a time so Ctrl-C is never lost.

    ``wait_some(pending)`` is the scheduler's own wait for the first completed futures.
    """
    pending = set(futures)
    while pending:
        done = set(wait_some(pending))
        if _INTERRUPTED.is_set():
            raise KeyboardInterrupt
        pending -= done
        yield from done


def _kill_local_workers() -> None:
    """SIGKILL every worker process this process started, with everything they started (simulators)."""
    import multiprocessing

    import psutil  # a dependency of distributed

    for child in multiprocessing.active_children():
        with contextlib.suppress(psutil.Error):
            tree = psutil.Process(child.pid)
            for process in [*tree.children(recursive=True), tree]:
                with contextlib.suppress(psutil.Error):
                    process.kill()


def _pool_worker_init(scratch: str) -> None:
    """In each pool worker: scratch files under the run's folder, and Ctrl-C left to the client."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tempfile.tempdir = scratch


class _LocalPool(Session):
    """``concurrent.futures.ProcessPoolExecutor`` with ``workers`` processes."""

    def __init__(self, workers: int, scratch: str) -> None:
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(
            max_workers=workers, initializer=_pool_worker_init, initargs=(scratch,)
        )

    def _outcomes(self, jobs: list[Job], progress: ProgressCallback | None) -> Iterator[Outcome]:
        from concurrent.futures import FIRST_COMPLETED, wait

        futures = {self.pool.submit(_timed, job.function, job.args, job.kwargs): job for job in jobs}
        for future in _as_completed(futures, lambda pending: wait(pending, _POLL, FIRST_COMPLETED)[0]):
            job = futures.pop(future)
            exc = future.exception()
            if exc is not None:
                yield Outcome(job, error=_describe_failure(exc))
            else:
                value, seconds = future.result()
                yield Outcome(job, value=value, seconds=seconds)

    def close(self, abort: bool) -> None:
        if not abort:
            self.pool.shutdown(wait=True)
            return
        self.pool.shutdown(wait=False, cancel_futures=True)
        _kill_local_workers()


class _Dask(Session):
    """A ``distributed.Client`` on a LocalCluster started here, or on an existing scheduler."""

    def __init__(self, scheduler: str, workers: int, scratch: str) -> None:
        import dask
        from distributed import Client, LocalCluster

        self.cluster = None
        if scheduler == "dask":
            with dask.config.set({"temporary-directory": scratch}):  # Dask's own scratch space too
                self.cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=50,
                    local_directory=scratch,
                    env={"TMPDIR": scratch},
                )
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(scheduler, timeout=5)
            except (OSError, TimeoutError) as exc:
                raise AppMultError(
                    f"--scheduler {scheduler}: no Dask scheduler answers there ({exc}); start one with "
                    f"`dask scheduler --port {scheduler.rsplit(':', 1)[-1]}` and workers with "
                    f"`dask worker {scheduler}`, or choose --scheduler processes"
                ) from exc

    def _outcomes(self, jobs: list[Job], progress: ProgressCallback | None) -> Iterator[Outcome]:
        from distributed import wait

        futures = {}
        for job in jobs:
            # A cluster started here declares no resources: asking for one would wait forever.
            resources = job.resources or None if self.cluster is None else None
            future = self.client.submit(
                _timed, job.function, job.args, job.kwargs, key=f"appmult-{id(job):x}-{time.time_ns()}",
                resources=resources, pure=False,
            )  # fmt: skip
            futures[future] = job
        self._futures = futures

        def wait_some(pending: set) -> set:
            try:
                return wait(pending, _POLL, "FIRST_COMPLETED").done
            except TimeoutError:  # distributed's wait raises where concurrent.futures' returns nothing
                return set()

        for future in _as_completed(futures, wait_some):
            job = futures.pop(future)
            if future.status == "error":
                yield Outcome(job, error=_describe_failure(future.exception()))
            else:
                value, seconds = future.result()
                yield Outcome(job, value=value, seconds=seconds)
            future.release()  # the result now lives in the client only

    def close(self, abort: bool) -> None:
        if abort:
            with contextlib.suppress(Exception):
                self.client.cancel(list(getattr(self, "_futures", ())), force=True)
            if self.cluster is not None:
                _kill_local_workers()  # Dask cannot stop a running task; its process can be
        with contextlib.suppress(Exception):
            self.client.close(timeout=2)
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close(timeout=2)


@contextlib.contextmanager
def open_session(
    scheduler: str = DEFAULT_SCHEDULER, workers: int | None = None, jobs: int | None = None
) -> Iterator[Session]:
    """Open ``scheduler`` (module docstring) for a run of about ``jobs`` jobs; close it afterwards.

    ``workers`` defaults to the number of cores; the ``processes`` scheduler
    runs in this process when it has one worker or one job. On an exception
    (Ctrl-C included) running jobs are stopped before it propagates.
    """
    check_scheduler(scheduler)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise ParameterError(f"-j/--jobs must be at least 1, got {workers}")
    scratch = tempfile.mkdtemp(prefix="appmult-run-")
    session: Session | None = None
    _INTERRUPTED.clear()
    _RAISE_AT_ONCE.set()  # while the session starts, and for jobs run here
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, _on_sigint) if in_main else None
    try:
        if scheduler == "processes":
            single = workers == 1 or (jobs is not None and jobs <= 1)
            session = _InProcess() if single else _LocalPool(min(workers, jobs or workers), scratch)
        else:
            session = _Dask(scheduler, workers, scratch)
        if not isinstance(session, _InProcess):
            _RAISE_AT_ONCE.clear()
        if _INTERRUPTED.is_set():
            raise KeyboardInterrupt
        yield session
    except BaseException:
        if session is not None:
            session.close(abort=True)
        raise
    else:
        session.close(abort=False)
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)
        shutil.rmtree(scratch, ignore_errors=True)
