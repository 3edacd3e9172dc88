"""The schedulers behind one registry, which also feeds the command line's ``--scheduler``.

Each :class:`Scheduler` names itself as the user writes it, says in a
phrase what it is, recognizes the ``--scheduler`` values it takes and opens
a :class:`~appmult.core.executor.jobs.Session` for a run. A new scheduler is
one module with a session class and one entry in :data:`SCHEDULERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from appmult.core.errors import ParameterError
from appmult.core.executor.cluster import DaskSession
from appmult.core.executor.jobs import Session
from appmult.core.executor.pool import InProcess, LocalPool

__all__ = [
    "DEFAULT_SCHEDULER",
    "SCHEDULERS",
    "SCHEDULER_HELP",
    "SCHEDULER_METAVAR",
    "Scheduler",
    "check_scheduler",
    "find_scheduler",
]


@dataclass(frozen=True)
class Scheduler:
    """One way to run a session's jobs.

    ``name`` is how ``--scheduler`` spells it (a pattern such as
    ``tcp://HOST:PORT`` where it takes an address); ``summary`` is its phrase
    in the help; ``accepts(value)`` says whether a ``--scheduler`` value is
    this scheduler; ``open(value, workers, jobs, scratch)`` starts a session
    of ``workers`` workers for a run of about ``jobs`` jobs (None: unknown)
    whose scratch files go under the folder ``scratch``.
    """

    name: str
    summary: str
    accepts: Callable[[str], bool]
    open: Callable[[str, int, int | None, str], Session]


def _processes(_value: str, workers: int, jobs: int | None, scratch: str) -> Session:
    if workers == 1 or (jobs is not None and jobs <= 1):
        return InProcess()
    return LocalPool(min(workers, jobs or workers), scratch)


def _is_address(value: str) -> bool:
    host, _, port = value.removeprefix("tcp://").rpartition(":")
    return value.startswith("tcp://") and bool(host) and port.isdigit()


#: Schedulers by name, in the order the help lists them; the first is the default.
SCHEDULERS: dict[str, Scheduler] = {
    scheduler.name: scheduler
    for scheduler in (
        Scheduler(
            "processes",
            "a local process pool of -j workers; one worker, or one job, runs in this process",
            lambda value: value == "processes",
            _processes,
        ),
        Scheduler(
            "dask",
            "a local Dask cluster of -j workers",
            lambda value: value == "dask",
            lambda _value, workers, _jobs, scratch: DaskSession(None, workers, scratch),
        ),
        Scheduler(
            "tcp://HOST:PORT",
            "an existing Dask cluster",
            _is_address,
            lambda value, workers, _jobs, scratch: DaskSession(value, workers, scratch),
        ),
    )
}

DEFAULT_SCHEDULER = next(iter(SCHEDULERS))
SCHEDULER_HELP = ", ".join(f"{name} ({scheduler.summary})" for name, scheduler in SCHEDULERS.items())
#: The ``--scheduler`` metavar: every form it takes.
SCHEDULER_METAVAR = "|".join(SCHEDULERS)


def find_scheduler(value: str) -> Scheduler:
    """The scheduler a ``--scheduler`` value names; ParameterError listing the forms it may take."""
    for scheduler in SCHEDULERS.values():
        if scheduler.accepts(value):
            return scheduler
    raise ParameterError(f"--scheduler {value!r}: expected {SCHEDULER_HELP}")


def check_scheduler(value: str) -> str:
    """Return ``value`` if a scheduler accepts it (:func:`find_scheduler`), else raise."""
    find_scheduler(value)
    return value
