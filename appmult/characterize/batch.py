"""Many characterizations at once: jobs, a process pool, and per-job results.

A :class:`Job` is everything one characterization needs; :func:`run_job` is a
pure function of it (sources and parameters in, artifact file out) that
never raises for a bad netlist but reports the failure in its
:class:`JobResult`, so one broken netlist does not stop a batch. Jobs are
independent and picklable: the same list can be handed to a process pool
here or to any distributed engine.
"""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from appmult.characterize.api import characterize
from appmult.core.artifact import save
from appmult.core.errors import AppMultError, ParameterError
from appmult.core.manifest import Design
from appmult.core.progress import ProgressCallback

__all__ = ["Job", "JobResult", "jobs_for_designs", "jobs_for_files", "run_batch", "run_job"]


@dataclass(frozen=True)
class Job:
    """One characterization: Verilog sources and parameters, and where the artifact goes."""

    sources: tuple[Path, ...]
    output: Path | None = None  # None: ./<artifact name>.h5
    top: str | None = None
    signed: bool | None = None
    name: str | None = None
    backend: str = "auto"
    timeout: float | None = None


@dataclass(frozen=True)
class JobResult:
    """What a job produced: the artifact's summary, or the error that stopped it."""

    job: Job
    seconds: float
    error: str | None = None
    output: Path | None = None
    name: str = ""
    width_a: int = 0
    width_b: int = 0
    signed: bool = False
    simulator: str = ""
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def run_job(job: Job, progress: ProgressCallback | None = None) -> JobResult:
    """Characterize one netlist and write its artifact; errors go into the result."""
    start = time.perf_counter()
    try:
        artifact = characterize(
            job.sources,
            top=job.top,
            signed=job.signed,
            name=job.name,
            backend=job.backend,
            progress=progress,
            timeout=job.timeout,
        )
        output = job.output or Path(f"{artifact.name}.h5")
        save(artifact, output)
    except AppMultError as exc:
        return JobResult(job, time.perf_counter() - start, error=str(exc))
    return JobResult(
        job,
        time.perf_counter() - start,
        output=output,
        name=artifact.name,
        width_a=artifact.width_a,
        width_b=artifact.width_b,
        signed=artifact.output_signed,
        simulator=artifact.simulator,
        metrics=artifact.metrics,
    )


def run_batch(
    jobs: Sequence[Job],
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    on_result: Callable[[JobResult], None] | None = None,
) -> list[JobResult]:
    """Run ``jobs`` in a pool of ``workers`` processes (default: all cores).

    Results come back in job order; ``on_result`` is called as each finishes
    and ``progress`` receives the fraction of jobs done. With one worker or
    one job everything runs in this process, and a single job reports its
    own simulation progress.
    """
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise ParameterError(f"-j/--jobs must be at least 1, got {workers}")
    results: dict[int, JobResult] = {}
    if workers == 1 or len(jobs) <= 1:
        for index, job in enumerate(jobs):
            inner = progress if len(jobs) == 1 else None
            results[index] = run_job(job, inner)
            _finished(results, index, len(jobs), progress, on_result)
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            futures = {pool.submit(run_job, job): index for index, job in enumerate(jobs)}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                _finished(results, futures[future], len(jobs), progress, on_result)
    return [results[index] for index in range(len(jobs))]


def _finished(
    results: dict[int, JobResult],
    index: int,
    total: int,
    progress: ProgressCallback | None,
    on_result: Callable[[JobResult], None] | None,
) -> None:
    if on_result is not None:
        on_result(results[index])
    if progress is not None and total > 1:
        progress(len(results) / total)


def jobs_for_files(inputs: Iterable[str | os.PathLike], out_dir: Path, **options: object) -> list[Job]:
    """One job per Verilog file; directories contribute their ``*.v`` files, sorted.

    A quoted glob pattern (``'lib/*.v'``) that names no existing file is
    expanded here. Each file must hold its top module and the modules it
    instantiates. Artifacts are named ``<out_dir>/<file stem>.h5``.
    """
    files: list[Path] = []
    for entry in map(Path, inputs):
        if entry.is_dir():
            files.extend(sorted(entry.glob("*.v")))
        elif not entry.exists() and glob.has_magic(str(entry)):
            files.extend(sorted(Path(p) for p in glob.glob(str(entry))))
        else:
            files.append(entry)
    if not files:
        raise ParameterError("no Verilog files found in the given paths")
    stems = [f.stem for f in files]
    clashes = sorted({s for s in stems if stems.count(s) > 1})
    if clashes:
        raise ParameterError(
            f"several input files share the name {', '.join(clashes)}; their artifacts would "
            "overwrite each other in the output directory"
        )
    return [Job((f,), out_dir / f"{f.stem}.h5", **options) for f in files]  # type: ignore[arg-type]


def jobs_for_designs(designs: Iterable[Design], out_dir: Path, **options: object) -> list[Job]:
    """One job per built-in design, writing ``<out_dir>/<name>.h5``."""
    return [
        Job(
            d.files,
            out_dir / f"{d.name}.h5",
            top=d.top,
            signed=d.signed,
            name=d.name,
            **options,  # type: ignore[arg-type]
        )
        for d in designs
    ]
