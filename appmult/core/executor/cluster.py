"""The ``dask`` and ``tcp://`` schedulers: a ``distributed.Client`` on a LocalCluster or an existing cluster.

Dask reschedules the tasks of a worker that dies on its own; a task that
has killed ``allowed-failures + 1`` workers fails with ``KilledWorker``.
The LocalCluster started here sets ``allowed-failures`` to
``MAX_DEATHS - 1``, so a job may kill one worker and fails when it kills a
second, as on the local pool, and gives each worker one task at a time
(``worker-saturation`` 1.0), because Dask counts a death against every task
the dead worker held, queued ones included. An existing cluster keeps its
own settings (Dask's defaults: 3 and 1.1; start its scheduler with
``DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=1`` and
``DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=1.0`` for the same rule);
the failure line says how many workers the job killed either way.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Iterator

from appmult.core.errors import AppMultError
from appmult.core.executor import interrupts
from appmult.core.executor.jobs import MAX_DEATHS, Job, Outcome, Session, describe_failure
from appmult.core.progress import ProgressCallback

__all__ = ["DaskSession", "kill_local_workers"]


def kill_local_workers() -> None:
    """SIGKILL every process this process started with multiprocessing, with everything they started."""
    import psutil  # a dependency of distributed

    for child in multiprocessing.active_children():
        with contextlib.suppress(psutil.Error):
            tree = psutil.Process(child.pid)
            for process in [*tree.children(recursive=True), tree]:
                with contextlib.suppress(psutil.Error):
                    process.kill()


def _timed(function, args: tuple, kwargs: dict) -> tuple[object, float]:  # noqa: ANN001
    """Run on a Dask worker: ``function(*args, **kwargs)`` and its wall time (exceptions propagate)."""
    start = time.perf_counter()
    return function(*args, **kwargs), time.perf_counter() - start


class DaskSession(Session):
    """A ``distributed.Client`` on a LocalCluster of ``workers`` processes started here, or on ``address``."""

    def __init__(self, address: str | None, workers: int, scratch: str) -> None:
        import dask
        from distributed import Client, LocalCluster

        self.cluster = None
        self._futures: dict = {}
        # Dask cut short while it starts leaves a cluster that cannot be closed (and fails again at
        # exit): a signal now is noted, and the session is closed as soon as it is open.
        interrupts.raise_at_once.clear()
        if address is None:
            settings = {
                "temporary-directory": scratch,  # Dask's own scratch space too
                "distributed.scheduler.allowed-failures": MAX_DEATHS - 1,
                # One task at a time on each single-threaded worker: Dask blames every task a dead
                # worker held, so a task queued behind the one that killed it must not be there.
                "distributed.scheduler.worker-saturation": 1.0,
            }
            with dask.config.set(settings):
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
            return
        try:
            self.client = Client(address, timeout=5)
        except (OSError, TimeoutError) as exc:
            raise AppMultError(
                f"--scheduler {address}: no Dask scheduler answers there ({exc}); start one with "
                f"`dask scheduler --port {address.rsplit(':', 1)[-1]}` and workers with "
                f"`dask worker {address}`, or choose --scheduler processes"
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
        pending = set(futures)
        while pending:
            try:
                done = wait(pending, interrupts.POLL, "FIRST_COMPLETED").done
            except TimeoutError:  # distributed's wait raises where concurrent.futures' returns nothing
                done = set()
            interrupts.check()
            pending -= done
            for future in done:
                job = futures.pop(future)
                if future.status == "error":
                    yield Outcome(job, error=describe_failure(future.exception()))
                else:
                    value, seconds = future.result()
                    yield Outcome(job, value=value, seconds=seconds)
                future.release()  # the result now lives in the client only

    def close(self, abort: bool) -> None:
        if abort:
            with contextlib.suppress(Exception):
                self.client.cancel(list(self._futures), force=True)
            if self.cluster is not None:
                kill_local_workers()  # Dask cannot stop a running task; its process can be
        with contextlib.suppress(Exception):
            self.client.close(timeout=2)
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close(timeout=2)
