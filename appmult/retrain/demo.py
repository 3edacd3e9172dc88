"""The retraining benchmark: which gradient table retrains a network on an approximate multiplier better.

For each seed a network is trained in float once (:func:`~appmult.retrain.runs.float_start`);
then, for every multiplier, range policy and gradient kind, a copy of it is
moved onto the multiplier, calibrated and retrained from that one start on
the same batches in the same order (:func:`~appmult.retrain.runs.retrain_run`).
Kinds are therefore compared pairwise on identical runs: the summary gives,
per multiplier, range policy and kind, the accuracy after retraining (mean
and sample standard deviation over seeds), the gain over STE paired by seed
with its spread and the number of seeds it was positive on, and seconds per
epoch.

A kind may fix its own half-window (:func:`parse_kinds`: ``lut2d@8``,
``lut2d@auto`` for the one ``tune-hws`` recorded, ``lut2d@default`` for the
artifact's default rule), so one benchmark can compare LUT-2D at two
half-windows; such a kind's label ends in ``h=...``. The panel
(:data:`PANEL_KINDS`) compares STE, LUT-2D at the default and at the tuned
half-window, and separable LUT-1D of rank 2 over many multipliers.

Every run is a job on the executor (:mod:`appmult.core.executor`), so the
benchmark runs on a local pool, a local Dask cluster or a GPU cluster
(``--device cuda`` asks each run for a Dask ``GPU`` resource). Given a
:class:`~appmult.retrain.cache.RunStore`, every float start and run is
recorded as it finishes and taken from there when it is asked for again, so
an interrupted benchmark resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from appmult.core.artifact import Artifact
from appmult.core.errors import AppMultError, ParameterError
from appmult.core.executor import Interrupted, Job, Session, open_session
from appmult.core.progress import ProgressCallback
from appmult.lutgen.half_window import TUNED, default_hws
from appmult.lutgen.methods import LUT1D, LUT2D, STE, get_method
from appmult.retrain import runs
from appmult.retrain.cache import RunStore, data_digest, run_key, start_key
from appmult.retrain.datasets import Dataset, check_data, load_data
from appmult.retrain.layers import check_ranges
from appmult.retrain.runs import (
    FloatStart,
    GradientSpec,
    RunResult,
    Setting,
    check_spec,
    float_start,
    retrain_job,
)

__all__ = [
    "ALL_KINDS",
    "DEFAULT_H",
    "FULL",
    "PANEL_KINDS",
    "QUICK",
    "DemoConfig",
    "DemoResult",
    "float_starts",
    "kind_label",
    "parse_kinds",
    "run_demo",
    "scaled",
]

#: A kind's half-window meaning "the artifact's default rule"
#: (:func:`~appmult.lutgen.half_window.default_hws`), even when it has a tuning record.
DEFAULT_H = "default"

#: Every gradient kind the full benchmark compares.
ALL_KINDS = (
    GradientSpec(STE.name),
    GradientSpec(LUT2D.name),
    GradientSpec(LUT1D.name, form="separable", rank=1),
    GradientSpec(LUT1D.name, form="separable", rank=2),
    GradientSpec(LUT1D.name, form="mean", rank=1),
    GradientSpec(LUT1D.name, form="lsq", rank=1),
    GradientSpec(LUT1D.name, form="range", rank=1),
)

#: The panel's kinds: STE, LUT-2D at the default and at the tuned half-window, LUT-1D separable r2.
PANEL_KINDS = (
    GradientSpec(STE.name),
    GradientSpec(LUT2D.name, hws=(DEFAULT_H, DEFAULT_H)),
    GradientSpec(LUT2D.name, hws=(TUNED, TUNED)),
    GradientSpec(LUT1D.name, form="separable", rank=2),
)


def kind_label(spec: GradientSpec) -> str:
    """The kind's row label: ``GradientSpec.label``, with ``h=...`` when the kind fixes its half-window."""
    if spec.hws is None:
        return spec.label
    hws_a, hws_b = spec.hws
    return f"{spec.label} h={hws_a}" if hws_a == hws_b else f"{spec.label} h={hws_a},{hws_b}"


def parse_kinds(text: str) -> tuple[GradientSpec, ...]:
    """Comma-separated kinds (:func:`appmult.retrain.runs.parse_kinds`), each optionally ``@H``.

    ``H`` is the half-window of both operands for this kind alone: an
    integer, ``auto`` (the ``tune-hws`` record's) or ``default`` (the
    artifact's default rule, even when it has a record). Raises
    ParameterError for a malformed ``H``, an ``@H`` on a kind that uses no
    half-window, or a kind given twice.
    """
    specs = []
    for item in (item.strip() for item in text.split(",")):
        if not item:
            continue
        kind, at, value = item.partition("@")
        (spec,) = runs.parse_kinds(kind)
        if at:
            if not get_method(spec.method).uses_hws(spec.parameters):
                raise ParameterError(f"gradient kind {item!r}: {spec.label} uses no half-window")
            if value not in (TUNED, DEFAULT_H) and not value.isdigit():
                raise ParameterError(
                    f"gradient kind {item!r}: the half-window after @ is an integer, {TUNED} or {DEFAULT_H}"
                )
            h = value if value in (TUNED, DEFAULT_H) else int(value)
            spec = replace(spec, hws=(h, h))
        specs.append(spec)
    if not specs:
        raise ParameterError("no gradient kind given")
    labels = [kind_label(spec) for spec in specs]
    twice = sorted({label for label in labels if labels.count(label) > 1})
    if twice:
        raise ParameterError(f"gradient kind {twice[0]} is given twice; give each kind once")
    return tuple(specs)


@dataclass(frozen=True)
class DemoConfig:
    """Parameters of one benchmark (defaults: the full variant).

    ``data`` is a built-in data set's name or a path (:func:`~appmult.retrain.datasets.load_data`),
    averaged over ``pool`` x ``pool`` pixel blocks; ``multipliers`` are
    names of the artifacts :func:`run_demo` is given. ``hws`` is the LUT-2D
    half-window of every table kind that does not fix its own
    (:func:`parse_kinds`): an int for both operands, ``auto`` for the one
    ``tune-hws`` recorded in each artifact, None for the recorded one when
    there is a record and :func:`~appmult.lutgen.half_window.default_hws`
    otherwise.
    """

    data: str = "mnist"
    pool: int = 2
    multipliers: tuple[str, ...] = ("mul8u_trunc8",)
    kinds: tuple[GradientSpec, ...] = ALL_KINDS
    policies: tuple[str, ...] = ("moving", "frozen")
    seeds: int = 5
    hws: int | str | None = None
    setting: Setting = Setting(network="deep", epochs=3, float_epochs=15, lr=2e-4)

    def check(self) -> None:
        """Raise ParameterError for values the benchmark cannot run with."""
        if not self.multipliers:
            raise ParameterError("no multiplier given")
        if not self.kinds:
            raise ParameterError("no gradient kind given")
        if not self.policies:
            raise ParameterError("no range policy given")
        for policy in self.policies:
            check_ranges(policy)
        if self.seeds < 1:
            raise ParameterError(f"seeds must be at least 1, got {self.seeds}")
        check_data(self.data)
        self.setting.check()

    def changed(self, **changes: object) -> DemoConfig:
        """This configuration with the given fields (or :class:`Setting` fields) replaced; None is ignored."""
        own = {key: value for key, value in changes.items() if key in self.__dataclass_fields__}
        setting = self.setting.changed(**{key: value for key, value in changes.items() if key not in own})
        return replace(
            self, setting=setting, **{key: value for key, value in own.items() if value is not None}
        )


#: The full variant: 14x14 MNIST-5k, the six-convolution network, mul8u_trunc8, every kind, both policies.
FULL = DemoConfig()

#: The quick variant (the test suite's): scikit-learn's 8x8 digits, the small network, one seed, one epoch.
QUICK = DemoConfig(
    data="digits",
    pool=1,
    kinds=(GradientSpec(STE.name), GradientSpec(LUT2D.name), GradientSpec(LUT1D.name)),
    policies=("moving",),
    seeds=1,
    setting=Setting(network="small", epochs=1, float_epochs=30, float_lr=3e-3, calibration_batches=4),
)


@dataclass(frozen=True)
class DemoResult:
    """Every run of a benchmark, in job order (seed, multiplier, policy, kind), with its configuration.

    ``nmed`` is each multiplier's normalized mean error distance (a fraction,
    from its artifact's metrics); ``trained`` and ``started`` count the runs
    and float starts trained by this call (the others came from the store).
    """

    config: DemoConfig
    runs: tuple[RunResult, ...] = field(default_factory=tuple)
    nmed: dict[str, float] = field(default_factory=dict)
    trained: int = 0
    started: int = 0

    @property
    def kinds(self) -> list[str]:
        """The gradient kinds' labels, in the configuration's order."""
        return [kind_label(spec) for spec in self.config.kinds]


def float_starts(
    setting: Setting,
    data: Dataset,
    seeds: int | Iterable[int],
    session: Session,
    progress: ProgressCallback | None,
    store: Callable[[FloatStart], None] | None = None,
) -> dict[int, FloatStart]:
    """The float starts of ``seeds`` (an int: seeds 0 .. seeds-1), as jobs on ``session``.

    ``store`` receives each start as it finishes.
    """
    seeds = range(seeds) if isinstance(seeds, int) else seeds
    jobs = [Job(f"float start, seed {seed}", float_start, (setting, data, seed)) for seed in seeds]
    starts = {}
    for outcome in session.run(jobs, progress):
        if not outcome.ok:
            raise AppMultError(f"{outcome.job.key} failed: {outcome.error}")
        if store is not None:
            store(outcome.value)
        starts[outcome.value.seed] = outcome.value
    return starts


@dataclass(frozen=True)
class _Planned:
    """One run of the benchmark: its label, its job's inputs and its key in a store."""

    label: str
    seed: int
    name: str
    policy: str
    spec: GradientSpec
    kind: str
    key: str


def _for_artifact(spec: GradientSpec, artifact: Artifact, hws: int | str | None) -> GradientSpec:
    """``spec`` as it runs on ``artifact``: its own half-window (``default`` resolved) or ``hws``."""
    if spec.method == STE.name or (spec.hws is None and hws is None):
        return spec
    if spec.hws is None:
        return replace(spec, hws=(hws, hws))
    if DEFAULT_H in spec.hws:
        return replace(spec, hws=default_hws(artifact).pair)
    return spec


def _resolved(
    config: DemoConfig, artifacts: Mapping[str, Artifact]
) -> dict[tuple[str, GradientSpec], GradientSpec]:
    """Each (multiplier, kind)'s spec as it runs, checked against the artifact (nothing is computed)."""
    specs = {}
    for name in config.multipliers:
        if name not in artifacts:
            raise ParameterError(f"no artifact given for multiplier {name!r}")
        for spec in config.kinds:
            resolved = _for_artifact(spec, artifacts[name], config.hws)
            try:
                check_spec(artifacts[name], resolved)
            except ParameterError as exc:
                raise ParameterError(f"kind {kind_label(spec)} on {name}: {exc}") from exc
            specs[name, spec] = resolved
    return specs


def _plan(config: DemoConfig, artifacts: Mapping[str, Artifact], digest: str) -> list[_Planned]:
    """Every run, in job order (seed, multiplier, policy, kind), with its key (``digest``: the data set's)."""
    specs = _resolved(config, artifacts)
    planned = []
    for seed in range(config.seeds):
        start = start_key(config.setting, digest, seed)
        for name in config.multipliers:
            for policy in config.policies:
                for spec in config.kinds:
                    resolved, kind = specs[name, spec], kind_label(spec)
                    key = run_key(start, config.setting, artifacts[name], resolved, policy)
                    label = f"{name} {policy} {kind} seed {seed}"
                    planned.append(_Planned(label, seed, name, policy, resolved, kind, key))
    return planned


def run_demo(
    config: DemoConfig,
    artifacts: Mapping[str, Artifact],
    *,
    scheduler: str = "processes",
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    store: RunStore | None = None,
) -> DemoResult:
    """Run the benchmark (module docstring) on ``artifacts``, by the names ``config.multipliers`` gives.

    With a ``store``, runs and float starts recorded there are taken from
    it, and each one trained here is recorded the moment it finishes. A run
    that fails does not stop the others; once they have finished (and been
    recorded) an AppMultError names it. Raises ParameterError for a bad
    configuration, before anything is trained, and
    :class:`~appmult.core.executor.Interrupted` on Ctrl-C (what finished is kept in ``store``).
    """
    config.check()
    _resolved(config, artifacts)  # every check before the data set is read
    data = load_data(config.data, config.pool)
    digest = data_digest(data)
    planned = _plan(config, artifacts, digest)
    done: dict[str, RunResult] = {}
    if store is not None:
        done = {p.key: run for p in planned if (run := store.run(p.key)) is not None}
    todo = [p for p in planned if p.key not in done]
    keys = {seed: start_key(config.setting, digest, seed) for seed in sorted({p.seed for p in todo})}
    starts = {seed: store.start(key, seed) if store is not None else None for seed, key in keys.items()}
    missing = [seed for seed, start in starts.items() if start is None]
    total = len(missing) + len(todo)
    failures = []
    try:
        if todo:
            with open_session(scheduler, workers, total) as session:
                record = None if store is None else lambda start: store.add_start(keys[start.seed], start)
                progress_starts = scaled(progress, 0, len(missing), total)
                starts.update(float_starts(config.setting, data, missing, session, progress_starts, record))
                jobs = {}
                for p in todo:
                    job = retrain_job(
                        p.label, config.setting, data, starts[p.seed], artifacts[p.name], p.spec, p.policy
                    )
                    jobs[id(job)] = (p, job)
                progress_runs = scaled(progress, len(missing), len(todo), total)
                for outcome in session.run([job for _, job in jobs.values()], progress_runs):
                    p, _ = jobs[id(outcome.job)]
                    if not outcome.ok:
                        failures.append(f"run {p.label} failed: {outcome.error}")
                        continue
                    if store is not None:
                        store.add_run(p.key, _inputs(config, p), outcome.value)
                    done[p.key] = outcome.value
    except KeyboardInterrupt as exc:
        finished = {p.label for p in planned if p.key in done}
        raise Interrupted(sorted(finished), [p.label for p in planned if p.label not in finished]) from exc
    if failures:
        kept = f"; the {len(done)} finished are kept in {store.runs_file}" if store is not None else ""
        raise AppMultError(f"{len(failures)} of {len(planned)} runs failed{kept}; the first: {failures[0]}")
    ordered = tuple(replace(done[p.key], multiplier=p.name, kind=p.kind) for p in planned)
    nmed = {name: float(artifacts[name].metrics["nmed"]) for name in config.multipliers}
    return DemoResult(config, ordered, nmed, trained=len(todo), started=len(missing))


def _inputs(config: DemoConfig, planned: _Planned) -> dict[str, object]:
    """What a stored run was, in words (the key itself is a digest)."""
    return {
        "multiplier": planned.name, "kind": planned.kind, "ranges": planned.policy, "seed": planned.seed,
        "data": config.data, "pool": config.pool, "hws": planned.spec.hws,
        "setting": {name: getattr(config.setting, name) for name in config.setting.__dataclass_fields__},
    }  # fmt: skip


def scaled(progress: ProgressCallback | None, done: int, count: int, total: int) -> ProgressCallback | None:
    """``progress`` for a round of ``count`` jobs after ``done`` of ``total``."""
    if progress is None:
        return None
    return lambda fraction: progress((done + fraction * count) / total)
