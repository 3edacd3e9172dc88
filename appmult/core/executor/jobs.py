"""What every scheduler shares: a job, its outcome, an open session, and the end of an interrupted run."""

from __future__ import annotations

import signal
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from appmult.core.errors import AppMultError
from appmult.core.executor import interrupts
from appmult.core.progress import ProgressCallback

__all__ = ["MAX_DEATHS", "Interrupted", "Job", "Outcome", "Session", "describe_failure", "died"]

#: Times a job may kill the worker running it: the first death costs one retry, the second fails the job.
MAX_DEATHS = 2


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
    """What became of a job: its ``value``, or a one-line ``error``; ``seconds`` of wall time.

    ``retries`` counts the times it ran again because the worker running it
    died (0 or 1 on the local pool; Dask does not report it, so 0 there).
    """

    job: Job
    value: Any = None
    error: str | None = None
    seconds: float = 0.0
    retries: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a many-job run, after the workers were stopped.

    ``finished`` names what was completed (its outputs are written), ``unfinished``
    what was not (nothing of it was written). ``signal`` is the signal that
    stopped the run and ``exit_status`` the status to end with (128 + signal:
    130 for Ctrl-C, 143 for SIGTERM).
    """

    def __init__(self, finished: Sequence[str], unfinished: Sequence[str]) -> None:
        super().__init__(f"interrupted: {len(finished)} finished, {len(unfinished)} not")
        self.finished, self.unfinished = list(finished), list(unfinished)
        self.signal = interrupts.last_signal()
        self.exit_status = 128 + self.signal


def died(times: int, cause: str) -> str:
    """The one-line error of a job whose worker died ``times`` times, the last time of ``cause``."""
    count = {1: "once", 2: "twice"}.get(times, f"{times} times")
    return f"the worker running it died {count} ({cause})"


def death_cause(exitcode: int | None) -> str:
    """How a worker process ended, for :func:`died`: ``signal 9; out of memory?`` or ``exit status 3``."""
    if exitcode is None or exitcode >= 0:
        return f"exit status {exitcode}"
    number = -exitcode
    if number == signal.SIGKILL:
        return f"signal {number}; out of memory?"
    try:
        return f"signal {number}, {signal.Signals(number).name}"
    except ValueError:
        return f"signal {number}"


def describe_failure(exc: BaseException) -> str:
    """One line for a job's exception: the tool's own message, or what broke and where."""
    if isinstance(exc, AppMultError):
        return str(exc)
    name = type(exc).__name__
    if name == "KilledWorker":  # distributed's: the task killed allowed-failures + 1 Dask workers
        times = int(getattr(exc, "allowed_failures", MAX_DEATHS - 1)) + 1
        return died(times, "Dask worker; out of memory?")
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" at {last[0].filename}:{last[0].lineno}" if last else ""
    return f"internal error {name}: {exc}{where}"


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

    def stop(self) -> None:
        """Called from the signal handler: stop running jobs now if that is safe here (close follows)."""

    def close(self, abort: bool) -> None:
        """Release the workers; ``abort`` stops running jobs (and what they started) at once."""
