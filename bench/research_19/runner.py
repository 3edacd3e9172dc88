"""Retraining runs of the issue-19 measurements, cached by their parameters.

The setting is ``appmult retrain-demo``'s default (:data:`appmult.retrain.demo.FULL`):
MNIST-5k pooled to 14x14, the six-convolution network, 15 float epochs,
retraining with Adam at 2e-4, batch 64, 8 calibration batches, one thread per
run; only the number of epochs is chosen per measurement. Runs of standard
kinds go through :func:`appmult.retrain.runs.retrain_run`, the very job
``retrain-demo`` runs; runs with a gradient table built here (the root-cause
experiments) go through :func:`custom_run`, which repeats ``retrain_run``'s
steps with a given table (``report.py`` checks that it gives the same
accuracies as ``retrain_run`` for the shipped LUT-2D table).

Every finished run is a JSON file under ``results/runs/``, named by its
parameters; float starts are pickled under ``cache/``. A rerun does only
what is missing.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
from common import CACHE, RESULTS, artifact_path

from appmult.core.artifact import Artifact, GradientTable, load
from appmult.core.executor import Job, open_session
from appmult.retrain.convert import convert
from appmult.retrain.datasets import load_data
from appmult.retrain.demo import FULL
from appmult.retrain.models import build_network
from appmult.retrain.multiplier import LutMultiplier
from appmult.retrain.runs import (
    LAYER_TYPES,
    FloatStart,
    GradientSpec,
    Setting,
    _exact,
    float_start,
    retrain_run,
)
from appmult.retrain.training import calibrate, evaluate, seed_everything, train_epoch

RUNS = RESULTS / "runs"


def setting(epochs: int) -> Setting:
    """retrain-demo's default setting with ``epochs`` retraining epochs."""
    return FULL.setting.changed(epochs=epochs)


def dataset():  # noqa: ANN201
    """retrain-demo's default data: MNIST-5k, 2x2 pooled (14x14)."""
    return load_data(FULL.data, FULL.pool)


def start_for(seed: int, epochs: int) -> FloatStart:
    """The float start of ``seed`` (trained once, then read from ``cache/``)."""
    s = setting(epochs)
    key = hashlib.sha1(
        repr((s.network, s.float_epochs, s.float_lr, s.batch_size, FULL.data, FULL.pool)).encode()
    )
    path = CACHE / f"float_start_{key.hexdigest()[:10]}_seed{seed}.pkl"
    if path.is_file():
        return pickle.loads(path.read_bytes())
    start = float_start(s, dataset(), seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(start))
    return start


@dataclass(frozen=True)
class Run:
    """One retraining run: multiplier, gradient, half-window, policy, seed, epochs.

    ``variant`` names a table built here (``custom_tables`` in ``experiments.py``), empty
    for the standard kinds; ``method`` is ``ste``, ``lut2d`` or ``lut1d``.
    """

    multiplier: str
    method: str
    hws: int = 0
    form: str = "separable"
    rank: int = 2
    ranges: str = "frozen"
    seed: int = 0
    epochs: int = 3
    variant: str = ""

    @property
    def label(self) -> str:
        if self.variant:
            return f"{self.variant} h={self.hws}"
        kind = GradientSpec(self.method, form=self.form, rank=self.rank).label
        return kind if self.method == "ste" else f"{kind} h={self.hws}"

    @property
    def path(self):  # noqa: ANN201
        parts = [self.multiplier, self.ranges, f"e{self.epochs}", f"s{self.seed}"]
        kind = self.method if self.method != "lut1d" else f"lut1d-{self.form}-r{self.rank}"
        parts.append(self.variant or kind)
        if self.method != "ste":
            parts.append(f"h{self.hws}")
        return RUNS / ("_".join(parts) + ".json")


def _result(run: Run, value, seconds: float) -> dict:  # noqa: ANN001
    row = asdict(run)
    row.update(
        label=run.label,
        float_accuracy=value.float_accuracy,
        exact_accuracy=value.exact_accuracy,
        before=value.before,
        after=value.after,
        final_loss=value.final_loss,
        losses=list(value.losses),
        seconds_per_epoch=value.seconds_per_epoch,
        wall_seconds=seconds,
        table_hws=list(value.hws),
    )
    return row


def standard_run(run: Run) -> dict:
    """``run`` with a standard kind, through retrain-demo's own job function."""
    began = time.perf_counter()
    artifact = load(artifact_path(run.multiplier)).materialize()
    spec = GradientSpec(
        run.method, hws=None if run.method == "ste" else (run.hws, run.hws), form=run.form, rank=run.rank
    )
    value = retrain_run(
        setting(run.epochs), dataset(), start_for(run.seed, run.epochs), artifact, spec, run.ranges
    )
    return _result(run, value, time.perf_counter() - began)


@dataclass(frozen=True)
class _Value:
    float_accuracy: float
    exact_accuracy: float
    before: float
    after: float
    final_loss: float
    losses: tuple
    seconds_per_epoch: float
    hws: tuple


def custom_run(run: Run, table: GradientTable) -> dict:
    """``run`` retrained with the LUT-2D-shaped ``table`` (the steps of ``retrain_run``)."""
    began = time.perf_counter()
    s = setting(run.epochs)
    data = dataset()
    start = start_for(run.seed, run.epochs)
    artifact = load(artifact_path(run.multiplier)).materialize()
    torch.set_num_threads(s.threads)
    train_x, train_y, test_x, test_y = (
        torch.from_numpy(a) for a in (data.train_x, data.train_y, data.test_x, data.test_y)
    )
    model = build_network(s.network, data.image_size, data.classes)
    model.load_state_dict({key: torch.from_numpy(value) for key, value in start.state.items()})
    layers = tuple(LAYER_TYPES[name] for name in s.layers)
    reference = convert(model, LutMultiplier(_exact(artifact)), "ste", layers, ranges=run.ranges)
    calibrate(reference, train_x, s.batch_size, s.calibration_batches)
    exact_accuracy = evaluate(reference, test_x, test_y)
    tables = _with(artifact, table)
    approximate = convert(model, LutMultiplier(tables), "lut2d", layers, ranges=run.ranges)
    calibrate(approximate, train_x, s.batch_size, s.calibration_batches)
    before = evaluate(approximate, test_x, test_y)
    seed_everything(start.seed)
    optimizer = torch.optim.Adam(approximate.parameters(), lr=s.lr)
    shuffle = torch.Generator().manual_seed(10_000 + start.seed)
    seconds, losses = [], []
    for _ in range(s.epochs):
        elapsed, loss = train_epoch(approximate, train_x, train_y, optimizer, s.batch_size, shuffle)
        seconds.append(elapsed)
        losses.append(loss)
    value = _Value(
        start.accuracy,
        exact_accuracy,
        before,
        evaluate(approximate, test_x, test_y),
        losses[-1],
        tuple(losses),
        float(np.mean(seconds)),
        (run.hws, run.hws),
    )
    return _result(run, value, time.perf_counter() - began)


def _with(artifact: Artifact, table: GradientTable) -> Artifact:
    import copy

    copied = copy.copy(artifact)
    copied.gradients = {"lut2d": table}
    return copied


def _execute(run: Run, maker: str | None) -> dict:
    if maker is None:
        return standard_run(run)
    import experiments

    return custom_run(run, experiments.custom_table(run.multiplier, run.variant, run.hws))


def run_all(runs: list[Run], workers: int = 2, log=print) -> list[dict]:  # noqa: ANN001
    """Every run of ``runs``, the missing ones computed on ``workers`` processes; results in order.

    Float starts of the seeds are made first (one job per missing seed).
    """
    missing = [run for run in runs if not run.path.is_file()]
    seeds = sorted({(run.seed, run.epochs) for run in missing})
    todo = [(seed, epochs) for seed, epochs in seeds if not _start_cached(seed, epochs)]
    began = time.perf_counter()
    with open_session("processes", workers, max(1, len(todo))) as session:
        jobs = [Job(f"float start seed {seed}", start_for, (seed, epochs)) for seed, epochs in todo]
        for outcome in session.run(jobs):
            if not outcome.ok:
                raise RuntimeError(f"{outcome.job.key}: {outcome.error}")
            log(f"{outcome.job.key}: {outcome.seconds:.0f} s (float accuracy {outcome.value.accuracy:.3f})")
    if missing:
        log(f"{len(missing)} of {len(runs)} runs to do")
    with open_session("processes", workers, max(1, len(missing))) as session:
        jobs = [Job(run.label, _execute, (run, run.variant or None)) for run in missing]
        by_job = dict(zip(map(id, jobs), missing, strict=True))
        for done, outcome in enumerate(session.run(jobs), start=1):
            run = by_job[id(outcome.job)]
            if not outcome.ok:
                log(f"FAILED {run.path.name}: {outcome.error}")
                continue
            run.path.parent.mkdir(parents=True, exist_ok=True)
            run.path.write_text(json.dumps(outcome.value, indent=1, sort_keys=True))
            log(
                f"[{done}/{len(missing)}, {time.perf_counter() - began:.0f} s] {run.multiplier} {run.label} "
                f"seed {run.seed}: {outcome.value['after']:.3f} ({outcome.seconds:.0f} s)"
            )
    return [json.loads(run.path.read_text()) for run in runs if run.path.is_file()]


def _start_cached(seed: int, epochs: int) -> bool:
    s = setting(epochs)
    key = hashlib.sha1(
        repr((s.network, s.float_epochs, s.float_lr, s.batch_size, FULL.data, FULL.pool)).encode()
    )
    return (CACHE / f"float_start_{key.hexdigest()[:10]}_seed{seed}.pkl").is_file()


def summarize(rows: list[dict], baseline: str = "STE") -> list[dict]:
    """Per (multiplier, ranges, label): accuracy after retraining over seeds and the gain over ``baseline``.

    The gain is paired by seed with the baseline run of the same multiplier,
    policy and epochs; ``wins`` counts the seeds where it is positive.
    """
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["multiplier"], row["ranges"], row["epochs"], row["label"]), []).append(row)
    summary = []
    for (multiplier, ranges, epochs, label), members in groups.items():
        base = {r["seed"]: r["after"] for r in groups.get((multiplier, ranges, epochs, baseline), [])}
        after = np.array([r["after"] for r in members])
        gains = np.array([r["after"] - base[r["seed"]] for r in members if r["seed"] in base])
        summary.append(
            {
                "multiplier": multiplier,
                "ranges": ranges,
                "epochs": epochs,
                "label": label,
                "seeds": len(members),
                "after_mean": after.mean(),
                "after_std": after.std(ddof=1) if len(after) > 1 else 0.0,
                "gain_mean": gains.mean() if gains.size else float("nan"),
                "gain_std": gains.std(ddof=1) if gains.size > 1 else 0.0,
                "wins": int((gains > 0).sum()),
                "paired": int(gains.size),
                "before_mean": float(np.mean([r["before"] for r in members])),
                "seconds_per_epoch": float(np.mean([r["seconds_per_epoch"] for r in members])),
            }
        )
    return summary


def format_summary(summary: list[dict]) -> str:
    """The summary as an aligned text table (percent)."""
    lines = [
        f"{'multiplier':<11} {'ranges':<7} {'kind':<28} {'after %':>14} {'gain over STE':>22} {'s/epoch':>8}"
    ]
    for row in summary:
        gain = (
            ""
            if row["label"] == "STE"
            else (
                f"{100 * row['gain_mean']:+6.1f} ± {100 * row['gain_std']:4.1f} "
                f"({row['wins']}/{row['paired']})"
            )
        )
        lines.append(
            f"{row['multiplier']:<11} {row['ranges']:<7} {row['label']:<28} "
            f"{100 * row['after_mean']:6.1f} ± {100 * row['after_std']:4.1f} {gain:>22} "
            f"{row['seconds_per_epoch']:8.1f}"
        )
    return "\n".join(lines)


def write_csv(path, rows: list[dict]) -> None:  # noqa: ANN001
    """``rows`` (dicts with the same keys) as CSV at ``path``."""
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(
            {k: (f"{v:.5g}" if isinstance(v, float) else v) for k, v in row.items()} for row in rows
        )
