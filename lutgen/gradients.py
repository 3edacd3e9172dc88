"""Gradient tables for an artifact: parameters, defaults, validation, and the file update.

:func:`gradient_tables` computes gradient groups from an
:class:`~appmult.core.artifact.Artifact`, recording every parameter in the
group's ``attrs``; :func:`add_gradients` does the same for a file and
writes the result atomically, so a failed run leaves the file as it was.

The half-windows come from :mod:`appmult.lutgen.half_window` (given, tuned
or the default rule, recorded as ``hws_rule``); every table group also
records its diagnostics against STE (:mod:`appmult.lutgen.diagnostics`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from appmult.core.artifact import Artifact
from appmult.core.artifact_file import load, outline, save
from appmult.core.atomic import rewritable_in_place
from appmult.core.errors import AppMultError, ParameterError
from appmult.core.executor import Interrupted, Job, open_session
from appmult.core.gradient import AxesGradient, Gradient
from appmult.core.manifest import load_manifest
from appmult.core.progress import ProgressCallback
from appmult.lutgen.diagnostics import diagnose
from appmult.lutgen.estimators import check_form, check_rank, check_window
from appmult.lutgen.half_window import chosen_hws
from appmult.lutgen.methods import (
    LUT1D,
    LUT2D,
    NAMES,
    STE,
    GradientParameters,
    get_method,
    in_registry_order,
    parse_methods,
)
from appmult.lutgen.streamed import ProductRows

__all__ = [
    "add_gradients",
    "add_gradients_many",
    "gradient_tables",
    "library_artifacts",
    "resolve_parameters",
]


def library_artifacts(
    directory: str | os.PathLike = "artifacts", manifest: str | os.PathLike | None = None
) -> list[Path]:
    """The artifact files ``<directory>/<name>.h5`` of every built-in design, in manifest order.

    Raises :class:`ParameterError` when the manifest (default
    ``rtl/manifest.toml``) is missing or invalid; the files themselves are
    checked when they are read.
    """
    return [Path(directory) / f"{design.name}.h5" for design in load_manifest(manifest)]


def gradient_tables(
    artifact: Artifact,
    methods: str | Iterable[str] = NAMES,
    parameters: GradientParameters | None = None,
    *,
    manifest: str | os.PathLike | None = None,
    rows: ProductRows | None = None,
    run: Callable[[Sequence[Job]], Iterable[tuple[int, object]]] | None = None,
) -> dict[str, Gradient]:
    """Compute the gradient groups ``methods`` of ``artifact``'s product table.

    Parameters
    ----------
    artifact : Artifact
        Supplies the product table [Na, Nb], operand axes and signedness.
    methods : str or iterable of str
        Names from the registry :data:`appmult.lutgen.methods.METHODS` (a
        comma-separated string is accepted).
    parameters : GradientParameters, optional
        Half-windows, LUT-1D form and rank; each half-window not given takes
        its default (:func:`~appmult.lutgen.half_window.default_hws`, which reads ``manifest``); ``"auto"``
        (:data:`TUNED`) takes the one recorded by ``appmult tune-hws``.
    rows, run : optional
        For a wide artifact (no table): the rows of its table
        (:class:`~appmult.lutgen.streamed.ProductRows`, e.g. its netlist
        evaluated again) and how to run a pass's jobs, yielding ``(index,
        value)`` as each finishes (default: here, one after the other); the
        methods' ``stream`` builders use them.

    Returns
    -------
    dict of str to Gradient
        One entry per method, with its parameters in ``attrs`` (the LUT-2D
        group: ``hws_a``, ``hws_b``, ``edge``, the edge-band rule; the LUT-1D
        group: ``form``, ``rank``, ``hws_a``, ``hws_b``, 0 when the form uses
        no half-window).

    Raises
    ------
    ParameterError
        Unknown method or form, a rank or half-window out of range; checked
        before anything is computed.
    """
    chosen = [get_method(name) for name in parse_methods(methods)]
    resolved = resolve_parameters(artifact, chosen, parameters or GradientParameters(), manifest)
    if artifact.tabulated:
        groups = {}
        for method in chosen:
            group = method.build(artifact, resolved)
            if not isinstance(group, AxesGradient):
                group.attrs.update(diagnose(group, artifact.operand_a, artifact.operand_b).attrs())
            groups[method.name] = group
        return groups
    if rows is None and any(method is not STE for method in chosen):
        raise ParameterError(
            f"{artifact.name}: this {artifact.width_a}x{artifact.width_b}-bit artifact holds no table, so "
            "its "
            f"{LUT1D.label} re-evaluates the netlist it was characterized from; give its Verilog files "
            "(appmult lutgen --sources FILE ...)"
        )
    run = run or _run_here
    return {method.name: method.stream(artifact, resolved, rows, run) for method in chosen}


def _run_here(jobs: Sequence[Job]) -> Iterator[tuple[int, object]]:
    """Run jobs in this process, one after the other: ``(index, value)`` of each."""
    for index, job in enumerate(jobs):
        yield index, job.function(*job.args, **job.kwargs)


def resolve_parameters(
    artifact: Artifact,
    methods: Iterable[object],
    parameters: GradientParameters,
    manifest: str | os.PathLike | None = None,
) -> GradientParameters:
    """``parameters`` checked for ``artifact`` and with the half-windows the ``methods`` use resolved.

    Raises ParameterError for a form, rank or half-window out of range.
    """
    methods = list(methods)
    if LUT2D in methods:
        artifact.require_table(
            f"{LUT2D.label} (two full [Na, Nb] gradient tables)",
            f"compute {LUT1D.label} instead (--methods {STE.name},{LUT1D.name}), whose factors need no table",
        )
    check_form(parameters.form)
    if LUT1D in methods and parameters.form == "separable":
        check_rank(parameters.rank, *artifact.shape)
    uses_hws = any(method.uses_hws(parameters) for method in methods)
    if check_window(parameters.window) != "fixed" and uses_hws:
        artifact.require_table(
            f"the {parameters.window} LUT-2D window (it compares each line of the table with STE)",
            "use the fixed window",
        )
    if uses_hws:
        windows = chosen_hws(artifact, parameters.hws_a, parameters.hws_b, manifest)
        parameters = replace(parameters, hws_a=windows.hws_a, hws_b=windows.hws_b, hws_rule=windows.rule)
    return parameters


def add_gradients(
    path: str | os.PathLike,
    methods: str | Iterable[str] = NAMES,
    parameters: GradientParameters | None = None,
    *,
    manifest: str | os.PathLike | None = None,
) -> dict[str, Gradient]:
    """Compute gradient groups for the artifact file ``path`` and write them into it.

    Groups ``/grad/<method>`` for the chosen methods are added or replaced
    and the file is rewritten atomically (:func:`appmult.core.artifact_file.save`);
    other groups are kept. Any error (unreadable file, bad parameter) is
    raised before the file is touched, so it is then left byte for byte as
    it was; a parameter error is raised again with the file name in front.
    Parameters as in :func:`gradient_tables`; returns the groups written.
    """
    rewritable_in_place(path, "lutgen", outline)
    artifact = load(path)
    try:
        tables = gradient_tables(artifact, methods, parameters, manifest=manifest)
    except ParameterError as exc:
        raise ParameterError(f"{path}: {exc}") from exc
    artifact.gradients = in_registry_order({**artifact.gradients, **tables})
    save(artifact, path)
    return tables


def add_gradients_many(
    paths: Sequence[str | os.PathLike],
    methods: str | Iterable[str] = NAMES,
    parameters: GradientParameters | None = None,
    *,
    scheduler: str = "processes",
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    rows_for: Callable[[Artifact], ProductRows] | None = None,
) -> Iterator[tuple[Path, dict[str, Gradient] | None, str | None]]:
    """:func:`add_gradients` for many files, as independent jobs on any scheduler.

    The client reads each artifact and ships it with its job; the job
    computes the groups (:func:`gradient_tables` with ``parameters``); the
    client writes them into the file atomically. Yields ``(path, groups,
    None)`` for each file written and ``(path, None, error)`` for each that
    failed (unreadable, a parameter out of range for its widths, a directory
    that cannot be written), as they finish; the others keep going. On
    Ctrl-C, :class:`~appmult.core.executor.Interrupted` names the files
    finished and the rest.

    A wide artifact (no table) is done after the others, one at a time,
    each of its passes a set of jobs on the scheduler: ``rows_for(artifact)``
    gives the rows of its table (its netlist evaluated again).
    """
    parse_methods(methods)
    artifacts: dict[int, tuple[Path, Artifact]] = {}
    jobs, finished, wide = [], [], []
    try:
        for path in map(Path, paths):
            try:
                rewritable_in_place(path, "lutgen", outline)
                artifact = load(path).materialize()
            except AppMultError as exc:
                finished.append(str(path))
                yield path, None, str(exc)
                continue
            if not artifact.tabulated:
                wide.append((path, artifact))
                continue
            job = Job(str(path), gradient_tables, (artifact, methods, parameters))
            artifacts[id(job)] = (path, artifact)
            jobs.append(job)
        with open_session(scheduler, workers, len(jobs)) as session:
            for outcome in session.run(jobs, progress):
                path, artifact = artifacts.pop(id(outcome.job))
                finished.append(str(path))
                if not outcome.ok:
                    yield (
                        path,
                        None,
                        outcome.error if outcome.error.startswith(str(path)) else f"{path}: {outcome.error}",
                    )
                    continue
                artifact.gradients = in_registry_order({**artifact.gradients, **outcome.value})
                try:
                    save(artifact, path)
                except AppMultError as exc:  # its disk, or another process's change: this file only
                    yield path, None, str(exc)
                    continue
                yield path, outcome.value, None
        for path, artifact in wide:
            finished.append(str(path))
            try:
                groups = _streamed_groups(
                    artifact, methods, parameters, rows_for, scheduler, workers, progress
                )
            except AppMultError as exc:
                yield path, None, str(exc) if str(exc).startswith(str(path)) else f"{path}: {exc}"
                continue
            artifact.gradients = in_registry_order({**artifact.gradients, **groups})
            save(artifact, path)
            yield path, groups, None
    except KeyboardInterrupt as exc:
        raise Interrupted(finished, [str(p) for p in map(Path, paths) if str(p) not in finished]) from exc


def _streamed_groups(
    artifact: Artifact,
    methods: str | Iterable[str],
    parameters: GradientParameters | None,
    rows_for: Callable[[Artifact], ProductRows] | None,
    scheduler: str,
    workers: int | None,
    progress: ProgressCallback | None,
) -> dict[str, Gradient]:
    """The groups of a wide artifact, each pass over its rows run as jobs on one session."""
    rows = rows_for(artifact) if rows_for is not None else None
    with open_session(scheduler, workers) as session:

        def run(jobs: Sequence[Job]) -> Iterator[tuple[int, object]]:
            index = {id(job): k for k, job in enumerate(jobs)}
            for outcome in session.run(jobs, progress):
                if not outcome.ok:
                    raise AppMultError(f"{outcome.job.key}: {outcome.error}")
                yield index[id(outcome.job)], outcome.value

        return gradient_tables(artifact, methods, parameters, rows=rows, run=run)
