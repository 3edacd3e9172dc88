"""The ``processes`` scheduler: jobs in the client's process, or on a pool of worker processes it starts.

The pool gives each worker one job at a time over its own pipe, so the
client always knows which job a worker runs. It waits on the pipes and on
the workers' process sentinels together, so a worker that dies (any signal,
any exit, the kernel's out-of-memory killer) is noticed as soon as the
kernel reaps it: its process group (the worker and any simulator it
started) is killed, a fresh worker is started in its place, and the job it
ran goes back to the front of the queue. A job whose worker dies
:data:`~appmult.core.executor.jobs.MAX_DEATHS` times fails with one line;
the other jobs are never touched.

Each worker runs in its own process group (so stopping it stops what it
started), ignores Ctrl-C (the client decides), keeps its scratch files in
the run's folder, and is killed by the kernel if the client dies without
closing it (``PR_SET_PDEATHSIG`` on Linux).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import tempfile
import time
import weakref
from collections import deque
from collections.abc import Iterator
from multiprocessing.connection import Connection, wait

from appmult.core.executor import interrupts
from appmult.core.executor.jobs import MAX_DEATHS, Job, Outcome, Session, death_cause, describe_failure, died
from appmult.core.progress import ProgressCallback

__all__ = ["InProcess", "LocalPool"]

#: Linux's prctl option that sends a signal to a process when the thread that started it ends.
_PR_SET_PDEATHSIG = 1


class InProcess(Session):
    """One worker: every job runs here, in order (no pool to start; a single job keeps its own progress)."""

    def _outcomes(self, jobs: list[Job], progress: ProgressCallback | None) -> Iterator[Outcome]:
        for job in jobs:
            interrupts.check()  # a signal that came while the caller handled the last outcome
            start = time.perf_counter()
            kwargs = dict(job.kwargs)
            if len(jobs) == 1 and job.progress_kwarg and progress is not None:
                kwargs[job.progress_kwarg] = progress
            interrupts.raise_at_once.set()  # stop the job itself (and the simulator it runs) at once
            try:
                value, error = job.function(*job.args, **kwargs), None
            except Exception as exc:  # noqa: BLE001 - every failure becomes one line in the outcome
                value, error = None, describe_failure(exc)
            finally:
                interrupts.raise_at_once.clear()  # the caller's code (writing outputs) is never cut short
            yield Outcome(job, value, error, time.perf_counter() - start)


def _die_with_client(client: int) -> None:
    """Ask the kernel to SIGKILL this worker when the client ends (Linux); exit if it already has."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != client:
        os._exit(1)


#: The signals the client holds while it forks a worker.
_HELD = {signal.SIGINT, signal.SIGTERM}


def _serve(conn: Connection, scratch: str, client: int) -> None:
    """A worker's life: run each ``(function, args, kwargs)`` received, send back what came of it.

    The reply is ``(True, value, seconds)`` or ``(False, one-line error,
    seconds)``; ``None`` or a closed pipe ends the worker.
    """
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    _die_with_client(client)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)  # the client held them while it forked us
    tempfile.tempdir = scratch
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return  # the client closed its end
        except Exception as exc:  # noqa: BLE001 - the job could not be unpickled here
            task = exc
        if task is None:
            return
        start = time.perf_counter()
        reply = _run(task)
        seconds = time.perf_counter() - start
        try:
            conn.send((*reply, seconds))
        except (EOFError, OSError):
            return
        except Exception as exc:  # noqa: BLE001 - a value that cannot be pickled
            conn.send(
                (False, f"internal error: its result cannot be sent back ({describe_failure(exc)})", seconds)
            )


def _run(task: tuple | Exception) -> tuple[bool, object]:
    """``(True, value)`` of a task ``(function, args, kwargs)``, or ``(False, one-line error)``."""
    if isinstance(task, Exception):
        return False, describe_failure(task)
    function, args, kwargs = task
    try:
        return True, function(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line in the outcome
        return False, describe_failure(exc)
    except SystemExit as exc:  # a library that exits instead of raising must not end the worker
        return False, f"internal error: it called exit({exc.code})"


class _Worker:
    """One worker process, its end of the pipe, and the index of the job it runs (None when idle)."""

    def __init__(self, context: multiprocessing.context.BaseContext, scratch: str) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child, scratch, os.getpid()), name="appmult-worker", daemon=False
        )
        # Ctrl-C or SIGTERM while the process forks would interrupt the fork handlers of
        # the standard library (logging's lock release prints "Exception ignored ..."); held
        # for the fork, they are delivered right after it, as they came.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
        try:
            self.process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        child.close()
        with contextlib.suppress(OSError):  # also here, so the group exists before the worker runs
            os.setpgid(self.process.pid, self.process.pid)
        self.job: int | None = None

    def kill(self) -> None:
        """SIGKILL the worker and everything in its process group, unless it was reaped already.

        Until it is reaped its pid, and so its group's id, cannot name another process.
        """
        try:
            os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        with contextlib.suppress(OSError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(self.process.pid, signal.SIGKILL)

    def end(self) -> str:
        """Kill what is left of the worker, reap it, and say how it ended (:func:`death_cause`)."""
        self.kill()
        self.process.join()
        self.conn.close()
        return death_cause(self.process.exitcode)


#: What :meth:`LocalPool._send` says when the worker's pipe is closed (it died idle).
_DEAD = "dead"


def _receive(worker: _Worker) -> tuple[bool, object, float] | None:
    """The reply a busy worker sent, or None when its pipe closed instead (it died)."""
    try:
        return worker.conn.recv()
    except (EOFError, OSError):
        return None


def _kill_all(workers: list[_Worker]) -> None:
    """Last resort at exit or garbage collection: no worker outlives its pool."""
    for worker in workers:
        worker.kill()


class LocalPool(Session):
    """``workers`` worker processes of this machine, replaced one by one when they die (module docstring)."""

    def __init__(self, workers: int, scratch: str) -> None:
        self.context = multiprocessing.get_context()
        self.scratch = scratch
        self.workers: list[_Worker] = []
        weakref.finalize(self, _kill_all, self.workers)
        for _ in range(workers):
            self.workers.append(_Worker(self.context, scratch))

    def _replace(self, slot: int) -> str:
        """End the worker in ``slot`` and start a fresh one there; how the old one ended."""
        cause = self.workers[slot].end()
        self.workers[slot] = _Worker(self.context, self.scratch)
        return cause

    def _outcomes(self, jobs: list[Job], progress: ProgressCallback | None) -> Iterator[Outcome]:
        queue = deque(range(len(jobs)))
        deaths = [0] * len(jobs)
        left = len(jobs)
        while left:
            for worker in self.workers:
                if worker.job is None and queue:
                    index = queue.popleft()
                    failure = self._send(worker, jobs[index])
                    if failure == _DEAD:
                        queue.appendleft(index)  # the wait below sees its sentinel
                    elif failure is not None:
                        left -= 1
                        yield Outcome(jobs[index], error=failure)
                    else:
                        worker.job = index
            busy = [w.conn for w in self.workers if w.job is not None]
            ready = set(wait([*busy, *(w.process.sentinel for w in self.workers)], interrupts.POLL))
            for slot, worker in enumerate(list(self.workers)):
                interrupts.check()  # after the wait, and between outcomes (the caller may write for seconds)
                index = worker.job
                if index is not None and worker.conn in ready:
                    reply = _receive(worker)
                    if reply is not None:
                        worker.job = None
                        left -= 1
                        ok, payload, seconds = reply
                        value, error = (payload, None) if ok else (None, payload)
                        yield Outcome(jobs[index], value, error, seconds, retries=deaths[index])
                        continue
                elif worker.process.sentinel not in ready:
                    continue
                cause = self._replace(slot)  # it died: its pipe closed without a reply, or it exited
                if index is None:
                    continue  # died idle: nothing to run again
                deaths[index] += 1
                if deaths[index] < MAX_DEATHS:
                    queue.appendleft(index)
                else:
                    left -= 1
                    yield Outcome(jobs[index], error=died(deaths[index], cause), retries=deaths[index] - 1)

    @staticmethod
    def _send(worker: _Worker, job: Job) -> str | None:
        """Hand ``job`` to an idle worker: None when sent, :data:`_DEAD`, or why it cannot travel."""
        try:
            worker.conn.send((job.function, job.args, job.kwargs))
        except (BrokenPipeError, ConnectionResetError):
            return _DEAD
        except Exception as exc:  # noqa: BLE001 - pickling failed, nothing was sent
            return f"internal error: it cannot be sent to a worker ({describe_failure(exc)})"
        return None

    def stop(self) -> None:
        for worker in self.workers:
            worker.kill()

    def close(self, abort: bool) -> None:
        if not abort:
            for worker in self.workers:
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
            # Wait for them to exit without reaping them: end() kills each group first.
            deadline = time.monotonic() + 2.0
            pending = [w.process.sentinel for w in self.workers]
            while pending and time.monotonic() < deadline:
                pending = [s for s in pending if s not in wait(pending, deadline - time.monotonic())]
        for worker in self.workers:
            worker.end()
