"""Running many independent jobs: a local process pool, a local Dask cluster, or an existing one.

Every verb that runs many independent jobs (``characterize --batch/--library``,
``lutgen`` over several files, ``verify --library``, ``tune-hws``,
``retrain-demo``) hands them to :func:`open_session` and consumes the
outcomes as they finish, the same way whichever scheduler runs them. The
schedulers (:data:`SCHEDULERS`, which also feeds ``--scheduler``):

``processes`` (default)
    a local process pool of ``workers`` processes (default: all cores);
    with one worker, or one job, the job runs in this process
    (:mod:`.pool`).
``dask``
    a ``distributed.LocalCluster`` of ``workers`` single-threaded worker
    processes, started for the run and closed after it (:mod:`.cluster`).
``tcp://HOST:PORT``
    an existing Dask cluster (``dask scheduler`` / ``dask worker``,
    dask-jobqueue on Slurm, a cloud deployment). Its workers need this
    package installed, at the same version; they need no shared filesystem.

A :class:`Job` is a pure function of its arguments: sources travel inside
the job as data, the result travels back to the client, and the client
writes every output itself, so a job lost with its worker simply runs
again. A job's failure never stops the others: it comes back as an
:class:`Outcome` with a one-line ``error``.

Faults (docs/faults.md has the measured table):

- a worker that dies (killed, out of memory) costs the job it ran one
  retry on every scheduler; a job whose worker dies twice fails with
  ``the worker running it died twice (signal 9; out of memory?)``;
- Ctrl-C or SIGTERM while a session is open cancels the jobs that have not
  started, kills the running ones with everything they started (local
  workers and their simulators; a local cluster is closed), removes the
  scratch files of local workers, and raises :class:`KeyboardInterrupt`
  (:class:`Interrupted` from the verbs' library functions) so the command
  line can say what was written and exit with 130 or 143. The signal is
  acted on between outcomes, never while the client writes an output;
- a simulator that never finishes is stopped by its job's own time limit
  (``--timeout``), on its worker, while the other workers go on.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator

from appmult.core.errors import ParameterError
from appmult.core.executor import interrupts
from appmult.core.executor.cluster import kill_local_workers
from appmult.core.executor.jobs import Interrupted, Job, Outcome, Session
from appmult.core.executor.schedulers import (
    DEFAULT_SCHEDULER,
    SCHEDULER_HELP,
    SCHEDULER_METAVAR,
    SCHEDULERS,
    Scheduler,
    check_scheduler,
    find_scheduler,
)

__all__ = [
    "DEFAULT_SCHEDULER",
    "SCHEDULERS",
    "SCHEDULER_HELP",
    "SCHEDULER_METAVAR",
    "Interrupted",
    "Job",
    "Outcome",
    "Scheduler",
    "Session",
    "check_scheduler",
    "open_session",
]


@contextlib.contextmanager
def open_session(
    scheduler: str = DEFAULT_SCHEDULER, workers: int | None = None, jobs: int | None = None
) -> Iterator[Session]:
    """Open ``scheduler`` (module docstring) for a run of about ``jobs`` jobs; close it afterwards.

    ``workers`` defaults to the number of cores; the ``processes`` scheduler
    runs in this process when it has one worker or one job. On an exception
    (Ctrl-C and SIGTERM included) running jobs are stopped before it propagates.
    """
    chosen = find_scheduler(scheduler)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise ParameterError(f"-j/--jobs must be at least 1, got {workers}")
    scratch = tempfile.mkdtemp(prefix="appmult-run-")
    session: Session | None = None
    try:
        with interrupts.handling_signals():
            try:
                session = chosen.open(scheduler, workers, jobs, scratch)
                interrupts.check()  # a signal while it started
                with interrupts.on_stop(session.stop):
                    yield session
            except BaseException:
                if session is not None:
                    session.close(abort=True)
                else:
                    kill_local_workers()  # interrupted while starting: whatever was started
                raise
            session.close(abort=False)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
