"""Choosing the LUT-2D half-window by retraining, as DATE 2025 did (``appmult tune-hws``).

For each half-window h of a grid (default 1, 2, 4, ..., 64, those valid for
both operands: 2h + 2 < N), the multiplier's LUT-2D tables with that h
retrain one shared float start per seed, on the same batches in the same
order (:func:`~appmult.retrain.runs.retrain_run`). The h whose final
training loss, averaged over seeds, is smallest wins (the paper's rule); the
test accuracies are recorded beside it. With ``per_operand`` the half-windows
of a and b are searched independently (every pair of the two grids).

Every grid point and seed is a job on the executor, so the search runs on a
local pool, a local Dask cluster or a GPU cluster.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from appmult.core.artifact import Artifact, TuningRecord
from appmult.core.errors import ParameterError
from appmult.core.executor import open_session
from appmult.core.progress import ProgressCallback
from appmult.lutgen import check_hws
from appmult.lutgen.methods import LUT2D
from appmult.retrain.datasets import load_data
from appmult.retrain.demo import float_starts, scaled
from appmult.retrain.layers import DEFAULT_RANGES, check_ranges
from appmult.retrain.runs import GradientSpec, Setting, retrain_job

__all__ = ["DEFAULT_GRID", "RULE", "TUNING_SETTING", "default_grid", "tune_hws"]

#: The DATE 2025 grid of half-windows.
DEFAULT_GRID = (1, 2, 4, 8, 16, 32, 64)

#: How the winner is chosen.
RULE = "smallest final training loss, mean over seeds (DATE 2025)"

#: Defaults sized for a CPU: the small network, a few epochs.
TUNING_SETTING = Setting(network="small", epochs=3, float_epochs=30, float_lr=3e-3, calibration_batches=4)


def default_grid(artifact: Artifact, grid: Sequence[int] = DEFAULT_GRID) -> tuple[int, ...]:
    """The half-windows of ``grid`` valid for both operands of ``artifact``."""
    n = min(artifact.shape)
    return tuple(h for h in grid if 2 * h + 2 < n)


def _points(artifact: Artifact, grid: Sequence[int], per_operand: bool) -> list[tuple[int, int]]:
    n_a, n_b = artifact.shape
    if per_operand:
        grid_a = [check_hws(h, n_a, "a") for h in grid if 2 * h + 2 < n_a]
        grid_b = [check_hws(h, n_b, "b") for h in grid if 2 * h + 2 < n_b]
        return list(itertools.product(grid_a, grid_b))
    for h in grid:
        check_hws(h, n_a, "a")
        check_hws(h, n_b, "b")
    return [(h, h) for h in grid]


def tune_hws(
    artifact: Artifact,
    *,
    grid: Sequence[int] | None = None,
    per_operand: bool = False,
    data: str = "digits",
    pool: int = 1,
    seeds: int = 2,
    ranges: str = DEFAULT_RANGES,
    setting: Setting = TUNING_SETTING,
    scheduler: str = "processes",
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> TuningRecord:
    """The tuning record of ``artifact``'s LUT-2D half-window (module docstring); nothing is written.

    Raises ParameterError for a grid point out of range for an operand
    (named with the valid range), an empty grid, a bad setting or data set.
    """
    setting.check()
    check_ranges(ranges)
    if seeds < 1:
        raise ParameterError(f"seeds must be at least 1, got {seeds}")
    chosen_grid = tuple(grid) if grid is not None else default_grid(artifact)
    if not chosen_grid:
        raise ParameterError(
            f"{artifact.name}: no half-window of the grid fits operands of {artifact.shape} values"
        )
    points = _points(artifact, chosen_grid, per_operand)
    if not points:
        raise ParameterError(f"{artifact.name}: no grid point fits both operands")
    dataset = load_data(data, pool)
    total = seeds * (1 + len(points))
    losses = np.zeros((len(points), seeds))
    accuracies = np.zeros((len(points), seeds))
    with open_session(scheduler, workers, total) as session:
        starts = float_starts(setting, dataset, seeds, session, scaled(progress, 0, seeds, total))
        jobs = [
            retrain_job(f"{artifact.name} h={h_a},{h_b} seed {seed}", setting, dataset, starts[seed],
                        artifact, GradientSpec(LUT2D.name, hws=(h_a, h_b)), ranges)
            for (h_a, h_b) in points
            for seed in range(seeds)
        ]  # fmt: skip
        where = {id(job): divmod(index, seeds) for index, job in enumerate(jobs)}
        for outcome in session.run(jobs, scaled(progress, seeds, len(jobs), total)):
            if not outcome.ok:
                raise ParameterError(f"{outcome.job.key}: {outcome.error}")
            point, seed = where[id(outcome.job)]
            losses[point, seed] = outcome.value.final_loss
            accuracies[point, seed] = outcome.value.after
    best = int(np.argmin(losses.mean(axis=1)))
    return TuningRecord(
        hws_a=points[best][0],
        hws_b=points[best][1],
        grid=tuple(points),
        train_loss=tuple(tuple(float(v) for v in row) for row in losses),
        test_accuracy=tuple(tuple(float(v) for v in row) for row in accuracies),
        rule=RULE,
        settings={
            "data": data, "pool": pool, "network": setting.network, "epochs": setting.epochs,
            "float_epochs": setting.float_epochs, "batch_size": setting.batch_size, "lr": setting.lr,
            "float_lr": setting.float_lr, "seeds": seeds, "range_policy": ranges, "device": setting.device,
            "per_operand": per_operand,
        },
    )  # fmt: skip
