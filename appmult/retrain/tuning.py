"""Choosing the gradient table by retraining: the LUT-2D half-window as DATE 2025 did, and STE as a candidate.

For each half-window h of a grid (default 1, 2, 4, ..., 64, those valid for
both operands: 2h + 2 < N), the multiplier's LUT-2D tables with that h
retrain one shared float start per seed, on the same batches in the same
order (:func:`~appmult.retrain.runs.retrain_run`). The h whose final
training loss, averaged over seeds, is smallest wins (the paper's rule); the
test accuracies are recorded beside it. With ``per_operand`` the half-windows
of a and b are searched independently (every pair of the two grids).

STE and the default LUT-1D (separable, rank 2, at the chosen h) are
candidates too, on the same starts and batches. A table *beats STE* when its
final loss, paired with STE's by seed, is lower on average by more than the
paired differences' sample standard deviation (with one seed: lower) and by
more than :data:`TIE` of STE's mean loss (so that numerical ties, such as an
exact multiplier's tables, never count as a win); the record recommends the
table with the smallest mean loss among those that beat STE, and STE when
none does (:data:`VERDICT_RULE`).

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
from appmult.lutgen.estimators import DEFAULT_RANK
from appmult.lutgen.methods import LUT1D, LUT2D, STE
from appmult.retrain.datasets import load_data
from appmult.retrain.demo import float_starts, scaled
from appmult.retrain.layers import DEFAULT_RANGES, check_ranges
from appmult.retrain.runs import GradientSpec, Setting, retrain_job

__all__ = [
    "DEFAULT_GRID",
    "RULE",
    "TIE",
    "TUNING_SETTING",
    "VERDICT_RULE",
    "default_grid",
    "recommend",
    "tune_hws",
]

#: The DATE 2025 grid of half-windows.
DEFAULT_GRID = (1, 2, 4, 8, 16, 32, 64)

#: How the LUT-2D half-window is chosen.
RULE = "smallest final training loss, mean over seeds (DATE 2025)"

#: Paired loss differences below this fraction of STE's mean loss are ties.
TIE = 0.005

#: How the recommended kind is chosen.
VERDICT_RULE = (
    "a table must beat STE's paired final loss by more than the spread over seeds and by 0.5 % of STE's loss"
)

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
    ste = GradientSpec(STE.name)
    candidates = [GradientSpec(LUT2D.name, hws=point) for point in points] + [ste]
    total = seeds * (1 + len(candidates) + 1)
    with open_session(scheduler, workers, total) as session:
        starts = float_starts(setting, dataset, seeds, session, scaled(progress, 0, seeds, total))

        def run(specs: list[GradientSpec], done: int) -> tuple[np.ndarray, np.ndarray]:
            losses, accuracies = np.zeros((len(specs), seeds)), np.zeros((len(specs), seeds))
            jobs = [
                retrain_job(f"{artifact.name} {spec.label} h={spec.hws} seed {seed}", setting, dataset,
                            starts[seed], artifact, spec, ranges)
                for spec in specs
                for seed in range(seeds)
            ]  # fmt: skip
            where = {id(job): divmod(index, seeds) for index, job in enumerate(jobs)}
            for outcome in session.run(jobs, scaled(progress, done, len(jobs), total)):
                if not outcome.ok:
                    raise ParameterError(f"{outcome.job.key}: {outcome.error}")
                row, seed = where[id(outcome.job)]
                losses[row, seed] = outcome.value.final_loss
                accuracies[row, seed] = outcome.value.after
            return losses, accuracies

        losses, accuracies = run(candidates, seeds)
        best = int(np.argmin(losses[: len(points)].mean(axis=1)))
        lut1d = GradientSpec(LUT1D.name, hws=points[best], form="separable", rank=DEFAULT_RANK)
        more_losses, more_accuracies = run([lut1d], seeds * (1 + len(candidates)))
    candidates.append(lut1d)
    losses, accuracies = np.vstack([losses, more_losses]), np.vstack([accuracies, more_accuracies])
    kinds = tuple(spec.method for spec in candidates)
    recommended, verdict = recommend(candidates, losses, best)
    return TuningRecord(
        hws_a=points[best][0],
        hws_b=points[best][1],
        grid=tuple(spec.hws or (0, 0) for spec in candidates),
        train_loss=tuple(tuple(float(v) for v in row) for row in losses),
        test_accuracy=tuple(tuple(float(v) for v in row) for row in accuracies),
        rule=RULE,
        settings={
            "data": data, "pool": pool, "network": setting.network, "epochs": setting.epochs,
            "float_epochs": setting.float_epochs, "batch_size": setting.batch_size, "lr": setting.lr,
            "float_lr": setting.float_lr, "seeds": seeds, "range_policy": ranges, "device": setting.device,
            "per_operand": per_operand, "verdict_rule": VERDICT_RULE,
        },
        kinds=kinds,
        recommended=recommended,
        verdict=verdict,
    )  # fmt: skip


def recommend(candidates: Sequence[GradientSpec], losses: np.ndarray, best_lut2d: int) -> tuple[str, str]:
    """The recommended method and the verdict, from final losses [candidates, seeds] (module docstring).

    The tables compared with STE are the LUT-2D row ``best_lut2d`` and every
    candidate that is neither LUT-2D nor STE.
    """
    ste = next(index for index, spec in enumerate(candidates) if spec.method == STE.name)
    tables = [best_lut2d] + [
        index for index, spec in enumerate(candidates) if spec.method not in (STE.name, LUT2D.name)
    ]
    seeds = losses.shape[1]
    beating = []
    notes = []
    for index in tables:
        paired = losses[index] - losses[ste]
        mean = float(paired.mean())
        spread = float(paired.std(ddof=1)) if seeds > 1 else 0.0
        name = f"{candidates[index].label} h={candidates[index].hws[0]},{candidates[index].hws[1]}"
        notes.append(f"{name} {mean:+.4f} ± {spread:.4f}")
        if mean < 0 and -mean > max(spread, TIE * float(losses[ste].mean())):
            beating.append(index)
    paired_text = f"final loss minus STE's, paired over {seeds} seed(s): " + "; ".join(notes)
    if not beating:
        return (
            STE.name,
            f"no table beats STE beyond the spread over seeds, so STE is recommended ({paired_text})",
        )
    winner = min(beating, key=lambda index: float(losses[index].mean()))
    return candidates[winner].method, f"{candidates[winner].label} beats STE ({paired_text})"
