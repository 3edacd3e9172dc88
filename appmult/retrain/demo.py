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

Every run is a job on the executor (:mod:`appmult.core.executor`), so the
benchmark runs on a local pool, a local Dask cluster or a GPU cluster
(``--device cuda`` asks each run for a Dask ``GPU`` resource).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from appmult.core.artifact import Artifact
from appmult.core.errors import AppMultError, ParameterError
from appmult.core.executor import Job, Session, open_session
from appmult.core.progress import ProgressCallback
from appmult.lutgen.methods import LUT1D, LUT2D, STE
from appmult.retrain.datasets import Dataset, load_data
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
    "FULL",
    "QUICK",
    "DemoConfig",
    "DemoResult",
    "float_starts",
    "run_demo",
    "scaled",
]

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


@dataclass(frozen=True)
class DemoConfig:
    """Parameters of one benchmark (defaults: the full variant).

    ``data`` is ``digits``, ``mnist`` or a path (:func:`~appmult.retrain.datasets.load_data`),
    averaged over ``pool`` x ``pool`` pixel blocks; ``multipliers`` are
    built-in design names or artifact files. ``hws`` is the LUT-2D
    half-window of every table kind: an int for both operands, ``auto`` for
    the one ``tune-hws`` recorded in each artifact, None for the recorded one
    when there is a record and :func:`~appmult.lutgen.gradients.default_hws`
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
    """Every run of a benchmark, in job order (seed, multiplier, policy, kind), with its configuration."""

    config: DemoConfig
    runs: tuple[RunResult, ...] = field(default_factory=tuple)

    @property
    def kinds(self) -> list[str]:
        """The gradient kinds' labels, in the configuration's order."""
        return [spec.label for spec in self.config.kinds]


def float_starts(
    setting: Setting, data: Dataset, seeds: int, session: Session, progress: ProgressCallback | None
) -> dict[int, FloatStart]:
    """The float start of seeds 0 .. seeds-1, as jobs on ``session``."""
    jobs = [Job(f"float start, seed {seed}", float_start, (setting, data, seed)) for seed in range(seeds)]
    starts = {}
    for outcome in session.run(jobs, progress):
        if not outcome.ok:
            raise AppMultError(f"{outcome.job.key} failed: {outcome.error}")
        starts[outcome.value.seed] = outcome.value
    return starts


def run_demo(
    config: DemoConfig,
    artifacts: Mapping[str, Artifact],
    *,
    scheduler: str = "processes",
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> DemoResult:
    """Run the benchmark (module docstring) on ``artifacts``, by the names ``config.multipliers`` gives.

    Raises ParameterError for a bad configuration or a run that failed.
    """
    config.check()
    kinds = _with_hws(config.kinds, config.hws)
    for name in config.multipliers:
        if name not in artifacts:
            raise ParameterError(f"no artifact given for multiplier {name!r}")
        for spec in kinds:
            check_spec(artifacts[name], spec)
    data = load_data(config.data, config.pool)
    total = config.seeds * (1 + len(config.multipliers) * len(config.policies) * len(kinds))
    with open_session(scheduler, workers, total) as session:
        starts = float_starts(
            config.setting, data, config.seeds, session, scaled(progress, 0, config.seeds, total)
        )
        jobs = [
            retrain_job(f"{name} {policy} {spec.label} seed {seed}", config.setting, data, starts[seed],
                        artifacts[name], spec, policy)
            for seed in range(config.seeds)
            for name in config.multipliers
            for policy in config.policies
            for spec in kinds
        ]  # fmt: skip
        runs = {}
        for outcome in session.run(jobs, scaled(progress, config.seeds, len(jobs), total)):
            if not outcome.ok:
                raise AppMultError(f"run {outcome.job.key} failed: {outcome.error}")
            runs[id(outcome.job)] = outcome.value
    return DemoResult(config, tuple(runs[id(job)] for job in jobs))


def _with_hws(kinds: Sequence[GradientSpec], hws: int | str | None) -> list[GradientSpec]:
    if hws is None:
        return list(kinds)
    return [spec if spec.method == STE.name else replace(spec, hws=(hws, hws)) for spec in kinds]


def scaled(progress: ProgressCallback | None, done: int, count: int, total: int) -> ProgressCallback | None:
    """``progress`` for a round of ``count`` jobs after ``done`` of ``total``."""
    if progress is None:
        return None
    return lambda fraction: progress((done + fraction * count) / total)
