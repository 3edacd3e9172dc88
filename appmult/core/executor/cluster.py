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

The LocalCluster's workers also run without Dask's ``MALLOC_TRIM_THRESHOLD_``
(65536), under which glibc maps every large array afresh: a streamed 16-bit
slice took 2.4x as long as in a pool worker. An existing cluster's workers
keep it unless their Dask configuration sets
``distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_`` to null.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
import time
from collections.abc import Iterator

from appmult.core.errors import AppMultError
from appmult.core.executor import interrupts
from appmult.core.executor.jobs import MAX_DEATHS, Job, Outcome, Session, describe_failure
from appmult.core.progress import ProgressCallback

__all__ = ["DaskSession", "kill_local_workers"]


def _local_workers() -> tuple[list[multiprocessing.process.BaseProcess], list]:
    """The processes this one started with multiprocessing, and those with all their descendants."""
    import psutil  # a dependency of distributed

    children = multiprocessing.active_children()
    everyone = []
    for child in children:
        with contextlib.suppress(psutil.Error):
            tree = psutil.Process(child.pid)
            everyone += [*tree.children(recursive=True), tree]
    return children, everyone


def kill_local_workers() -> None:
    """SIGKILL every process this process started with multiprocessing, with everything they started.

    Returns once they have ended (at most a second: SIGKILL is not refused).
    """
    import psutil

    children, everyone = _local_workers()
    for process in everyone:
        with contextlib.suppress(psutil.Error):
            process.kill()
    deadline = time.monotonic() + 1.0
    for child in children:  # reaped by multiprocessing itself, which would otherwise wait for them forever
        child.join(max(0.0, deadline - time.monotonic()))


def _forget(clusters: set) -> None:
    """Kill what is left of local ``clusters`` and keep distributed from closing them again at exit.

    Their scratch folders go with the session's; distributed's own clean-up of
    them at exit would then only log that they are gone.
    """
    from distributed.deploy.spec import SpecCluster

    kill_local_workers()
    for cluster in clusters:
        SpecCluster._instances.discard(cluster)
    logging.getLogger("distributed.diskutils").setLevel(logging.CRITICAL)


def _start_local_cluster(workers: int, scratch: str):  # noqa: ANN202 - a distributed.LocalCluster
    """A LocalCluster of ``workers`` single-threaded processes, its scratch space under ``scratch``.

    It starts in a helper thread while this one waits in steps of
    :data:`~appmult.core.executor.interrupts.POLL` seconds, so that a signal is
    handled here at once (Dask's own wait would hold it until the start ends).
    After a signal the workers being started are killed, the start fails, and
    KeyboardInterrupt is raised.
    """
    import dask
    from distributed import LocalCluster
    from distributed.deploy.spec import SpecCluster

    settings = {
        "temporary-directory": scratch,  # Dask's own scratch space too
        "distributed.scheduler.allowed-failures": MAX_DEATHS - 1,
        # One task at a time on each single-threaded worker: Dask blames every task a dead
        # worker held, so a task queued behind the one that killed it must not be there.
        "distributed.scheduler.worker-saturation": 1.0,
        # Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also fixes glibc's mmap
        # threshold: every large array is then a fresh mmap, and a 16-bit slice took 2.4x its time
        # in a process pool's worker (0.80 s against 0.33 s). Unset, the workers use glibc's default.
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    }
    made: dict[str, object] = {}

    def start() -> None:
        try:
            made["cluster"] = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # its HTTP server: any free port
                silence_logs=50,
                local_directory=scratch,
                env={"TMPDIR": scratch},
            )
        except Exception as exc:  # noqa: BLE001 - raised again in the waiting thread
            made["error"] = exc

    before = set(SpecCluster._instances)
    with dask.config.set(settings):
        starting = threading.Thread(target=start, name="appmult-cluster-start", daemon=True)
        starting.start()
        while starting.is_alive():
            starting.join(interrupts.POLL)  # the signal handler runs here
            if interrupts.stopping():
                kill_local_workers()  # each worker started so far: the start fails
    if "error" in made:
        if interrupts.stopping():  # it failed because its workers were killed
            _forget(set(SpecCluster._instances) - before)
            raise KeyboardInterrupt from None
        raise made["error"]
    return made["cluster"]


def _timed(function, args: tuple, kwargs: dict) -> tuple[object, float]:  # noqa: ANN001
    """Run on a Dask worker: ``function(*args, **kwargs)`` and its wall time (exceptions propagate)."""
    start = time.perf_counter()
    return function(*args, **kwargs), time.perf_counter() - start


class DaskSession(Session):
    """A ``distributed.Client`` on a LocalCluster of ``workers`` processes started here, or on ``address``."""

    def __init__(self, address: str | None, workers: int, scratch: str) -> None:
        from distributed import Client

        self.cluster = None
        self._futures: dict = {}
        if address is None:
            self.cluster = _start_local_cluster(workers, scratch)
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
                interrupts.check()  # also between outcomes: the caller may have spent seconds writing
                job = futures.pop(future)
                if future.status == "error":
                    yield Outcome(job, error=describe_failure(future.exception()))
                else:
                    value, seconds = future.result()
                    yield Outcome(job, value=value, seconds=seconds)
                future.release()  # the result now lives in the client only

    def stop(self) -> None:
        # Given the lowest CPU priority, not killed nor frozen: a nanny would start a new worker in
        # place of a dead one (taking the CPU from the client, which may be writing an output), and
        # the client may be fetching a result from one that is frozen. close() kills them.
        import psutil

        if self.cluster is not None:
            for process in _local_workers()[1]:
                with contextlib.suppress(psutil.Error):
                    process.nice(19)

    def close(self, abort: bool) -> None:
        if abort:
            with contextlib.suppress(Exception):
                self.client.cancel(list(self._futures), force=True)
            if self.cluster is not None:
                kill_local_workers()  # Dask cannot stop a running task; its process can be
        with contextlib.suppress(Exception):
            self.client.close(timeout=2)
        if self.cluster is None:
            return
        with contextlib.suppress(Exception):
            self.cluster.close(timeout=0.5 if abort else 2)
        if abort or self.cluster.status.name != "closed":
            # A nanny restarts a worker that died (or was killed above), and a cluster waits for a
            # starting worker before it closes: stop what is left, and keep distributed's exit hook
            # from waiting another 10 s for a cluster whose processes are all gone.
            _forget({self.cluster})
