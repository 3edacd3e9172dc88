"""The hardware cost of many netlists and artifacts, as independent jobs on any scheduler.

Each input is either a Verilog netlist (one design per file: the top module
and every module it instantiates) or an artifact file (``.h5``). An artifact
is costed from the very sources it was made from: the files its provenance
names, which must still exist with the SHA-256 it recorded (else the cost
could describe another circuit than the product table). The client reads
the sources into a bundle (:mod:`appmult.characterize.sources`), each job
synthesizes one bundle (:func:`appmult.characterize.synthesis.synthesize`),
and the client writes each artifact's ``/cost`` group into it atomically.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from appmult.characterize.sources import Sources
from appmult.characterize.synthesis import find_yosys, synthesize
from appmult.core.artifact import Artifact, HardwareCost
from appmult.core.artifact_file import load, save
from appmult.core.atomic import rewritable_in_place
from appmult.core.errors import AppMultError, ArtifactError, ParameterError
from appmult.core.executor import Interrupted, Job, open_session
from appmult.core.progress import ProgressCallback

__all__ = ["ARTIFACT_SUFFIX", "Costed", "artifact_sources", "cost_inputs", "cost_many"]

#: Inputs with this suffix are artifacts; every other file is a Verilog netlist.
ARTIFACT_SUFFIX = ".h5"


@dataclass(frozen=True)
class Costed:
    """One finished input: its ``cost``, or the one-line ``error`` that stopped it.

    ``name`` is the artifact's name, or a netlist's file stem; ``written``
    says whether an artifact file received the cost; ``seconds`` is the
    synthesis job's wall time.
    """

    path: Path
    name: str
    cost: HardwareCost | None = None
    error: str | None = None
    written: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def cost_inputs(inputs: Iterable[str | os.PathLike]) -> list[Path]:
    """The files to cost: each given file, and the ``*.h5`` and ``*.v`` files of each given directory."""
    files: list[Path] = []
    for entry in map(Path, inputs):
        if entry.is_dir():
            files.extend(sorted([*entry.glob(f"*{ARTIFACT_SUFFIX}"), *entry.glob("*.v")]))
        else:
            files.append(entry)
    if not files:
        raise ParameterError("no netlists or artifacts found in the given paths")
    return files


def artifact_sources(artifact: Artifact, path: str | os.PathLike) -> Sources:
    """The sources ``artifact`` (read from ``path``) was made from, checked against its provenance.

    Raises :class:`ArtifactError` naming ``path`` when the artifact records no
    sources, when one is gone, or when one's SHA-256 differs from the
    recorded one.
    """
    again = "characterize the netlist again with --cost, or run appmult cost on the netlist itself"
    if not artifact.source_files:
        raise ArtifactError(f"{path}: records no source files (a table imported from elsewhere?); {again}")
    for source in artifact.source_files:
        if not Path(source).is_file():
            relative = "" if Path(source).is_absolute() else " (relative to the current folder)"
            raise ArtifactError(
                f"{path}: its source {source}{relative} is gone; the cost is measured on the sources the "
                f"artifact was made from: restore it, or {again}"
            )
    bundle = Sources.read(artifact.source_files)
    recorded = artifact.source_sha256
    for index, (source, digest) in enumerate(zip(bundle.paths, bundle.sha256(), strict=True)):
        if index >= len(recorded) or recorded[index] != digest:
            was = f"recorded {recorded[index][:12]}..." if index < len(recorded) else "none recorded"
            raise ArtifactError(
                f"{path}: its source {source} is not the file it was made from (SHA-256 {digest[:12]}..., "
                f"{was}); {again}"
            )
    return bundle


def cost_many(
    paths: Sequence[str | os.PathLike],
    *,
    top: str | None = None,
    trust: bool = False,
    timeout: float | None = None,
    scheduler: str = "processes",
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> Iterator[Costed]:
    """Synthesize every input (module docstring) and yield each :class:`Costed` as it finishes.

    ``top`` names the top module of the netlists (an artifact's is its own);
    ``trust`` and ``timeout`` as in :func:`~appmult.characterize.synthesis.synthesize`.
    An artifact's ``/cost`` group is added or replaced, the file rewritten
    atomically; nothing else is written. Inputs that cannot be read, whose
    sources are gone or changed, or that Yosys rejects are yielded as
    failures; the others keep going. Raises :class:`SynthesisError` at once
    when Yosys is not installed; on Ctrl-C,
    :class:`~appmult.core.executor.Interrupted` names the inputs finished and the rest.
    """
    find_yosys()
    paths = [Path(p) for p in paths]
    pending: dict[int, tuple[Path, Artifact | None]] = {}
    jobs, finished = [], []
    try:
        for path in paths:
            try:
                artifact, bundle, options = _prepare(path, top, trust, timeout)
            except AppMultError as exc:
                finished.append(str(path))
                yield Costed(path, path.stem, error=str(exc))
                continue
            job = Job(str(path), synthesize, (bundle,), options)
            pending[id(job)] = (path, artifact)
            jobs.append(job)
        with open_session(scheduler, workers, len(jobs)) as session:
            for outcome in session.run(jobs, progress):
                path, artifact = pending.pop(id(outcome.job))
                finished.append(str(path))
                name = artifact.name if artifact is not None else path.stem
                if not outcome.ok:
                    error = (
                        outcome.error if outcome.error.startswith(str(path)) else f"{path}: {outcome.error}"
                    )
                    yield Costed(path, name, error=error, seconds=outcome.seconds)
                    continue
                written = artifact is not None
                if written:
                    artifact.cost = outcome.value
                    save(artifact, path)
                yield Costed(path, name, outcome.value, written=written, seconds=outcome.seconds)
    except KeyboardInterrupt as exc:
        raise Interrupted(finished, [str(p) for p in paths if str(p) not in finished]) from exc


def _prepare(
    path: Path, top: str | None, trust: bool, timeout: float | None
) -> tuple[Artifact | None, Sources, dict[str, object]]:
    """Client side: an input's artifact (None for a netlist), its sources and the synthesis options."""
    options: dict[str, object] = {"top": top, "trust": trust, "timeout": timeout}
    if path.suffix != ARTIFACT_SUFFIX:
        return None, Sources.read([path]), options
    artifact = load(path).materialize()
    rewritable_in_place(path, "appmult cost")
    return artifact, artifact_sources(artifact, path), {**options, "top": artifact.top}
