"""One retraining run, as a pure function of its inputs: the jobs of ``retrain-demo`` and ``tune-hws``.

A benchmark or a half-window search is many runs that share a float start:

1. :func:`float_start` trains the network in float for one seed (Adam,
   ``float_lr``, ``float_epochs``) and returns its weights;
2. :func:`retrain_run` moves those weights onto a multiplier, calibrates the
   activation ranges on ``calibration_batches`` training batches without
   gradients, measures the test accuracy (*before*), retrains for ``epochs``
   with one gradient table (Adam, ``lr``; the same batches in the same order
   for every run of a seed) and measures it again (*after*), with the same
   quantization on the exact multiplier of the same widths as reference.

Every input travels with the job (the data set's arrays, the float weights,
the multiplier's artifact), and the gradient group a run needs is computed
in the job from the product table, so a run is the same wherever it is
executed: here, in a process pool, or on a Dask worker with a GPU.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import nn

from appmult.core.artifact import Artifact
from appmult.core.errors import ParameterError
from appmult.core.executor import Job
from appmult.core.gradient import AxesGradient, Gradient
from appmult.lutgen import DEFAULT_FORM, DEFAULT_RANK, gradient_tables
from appmult.lutgen.gradients import resolve_parameters
from appmult.lutgen.half_window import TUNED
from appmult.lutgen.methods import (
    LUT2D,
    RECOMMENDED,
    STE,
    GradientParameters,
    get_method,
    parse_kind,
    recommended_method,
)
from appmult.retrain.convert import convert
from appmult.retrain.datasets import Dataset
from appmult.retrain.layers import DEFAULT_RANGES, check_ranges
from appmult.retrain.models import build_network, check_network
from appmult.retrain.multiplier import LutMultiplier
from appmult.retrain.training import calibrate, evaluate, seed_everything, train_epoch

__all__ = [
    "LAYER_TYPES",
    "FloatStart",
    "GradientSpec",
    "RunResult",
    "Setting",
    "float_start",
    "parse_kinds",
    "check_spec",
    "resolved_spec",
    "retrain_job",
    "retrain_run",
    "table_for",
]

#: The layer types a run can move onto the multiplier, by the names ``Setting.layers`` uses.
LAYER_TYPES = {"conv": nn.Conv2d, "linear": nn.Linear}


@dataclass(frozen=True)
class GradientSpec:
    """One gradient table to retrain with.

    ``method`` names a gradient method (:data:`appmult.lutgen.methods.METHODS`);
    ``hws`` the LUT-2D half-windows (a, b) of the methods that use them, each
    an int or ``auto`` (the one ``tune-hws`` recorded); None: the recorded
    ones when the artifact has a record, else its defaults; ``form``/``rank``
    the LUT-1D form.
    """

    method: str
    hws: tuple[int | str, int | str] | None = None
    form: str = DEFAULT_FORM
    rank: int = DEFAULT_RANK

    @property
    def parameters(self) -> GradientParameters:
        """The estimator parameters this spec asks for (half-windows as requested, maybe None)."""
        hws_a, hws_b = self.hws if self.hws is not None else (None, None)
        return GradientParameters(hws_a=hws_a, hws_b=hws_b, form=self.form, rank=self.rank)

    @property
    def label(self) -> str:
        """How tables and plots name it: ``STE``, ``LUT-2D``, ``LUT-1D separable r2``, ``recommended``."""
        if self.method == RECOMMENDED:
            return "recommended"
        return get_method(self.method).kind_label(self.parameters)


def parse_kinds(text: str) -> tuple[GradientSpec, ...]:
    """Comma-separated kinds (:func:`appmult.lutgen.methods.parse_kind`, or ``auto``) as gradient specs.

    ``auto`` is the method ``appmult tune-hws`` recommended for each multiplier.
    """
    specs = []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        if item == RECOMMENDED:
            specs.append(GradientSpec(RECOMMENDED))
            continue
        method, parameters = parse_kind(item)
        specs.append(GradientSpec(method.name, form=parameters.form, rank=parameters.rank))
    if not specs:
        raise ParameterError("no gradient kind given")
    return tuple(specs)


@dataclass(frozen=True)
class Setting:
    """What every run of a benchmark or a search shares: network, schedule, optimizer, device.

    ``layers`` names the layer types moved onto the multiplier (``conv``,
    ``linear``; the others stay in float); ``threads`` the PyTorch CPU threads
    per run (None: PyTorch's default); ``device`` ``cpu``, ``cuda`` or ``auto``.
    """

    network: str = "small"
    epochs: int = 3
    float_epochs: int = 15
    batch_size: int = 64
    float_lr: float = 1e-3
    lr: float = 2e-4
    calibration_batches: int = 8
    device: str = "cpu"
    threads: int | None = 1
    layers: tuple[str, ...] = ("conv", "linear")

    def check(self) -> None:
        """Raise ParameterError for values no run can be made with."""
        for label in ("epochs", "batch_size", "calibration_batches"):
            if getattr(self, label) < 1:
                raise ParameterError(f"{label} must be at least 1, got {getattr(self, label)}")
        if self.float_epochs < 0:
            raise ParameterError(f"float_epochs must be at least 0, got {self.float_epochs}")
        for label in ("lr", "float_lr"):
            if not getattr(self, label) > 0:
                raise ParameterError(f"{label} must be positive, got {getattr(self, label)}")
        if self.threads is not None and self.threads < 1:
            raise ParameterError(f"threads must be at least 1, got {self.threads}")
        unknown = [name for name in self.layers if name not in LAYER_TYPES]
        if unknown or not self.layers:
            raise ParameterError(
                f"layers {','.join(self.layers) or '(none)'}: choose one or more of {', '.join(LAYER_TYPES)}"
            )
        check_network(self.network)

    def changed(self, **changes: object) -> Setting:
        """This setting with the given fields replaced (None values are ignored)."""
        return replace(self, **{key: value for key, value in changes.items() if value is not None})


@dataclass(frozen=True)
class FloatStart:
    """A seed's float-trained weights (numpy, by state-dict key) and their test accuracy in [0, 1]."""

    seed: int
    state: dict[str, np.ndarray]
    accuracy: float


@dataclass(frozen=True)
class RunResult:
    """One retraining run. Accuracies are top-1 test accuracies in [0, 1].

    ``float_accuracy`` of the float model, ``exact_accuracy`` quantized on the
    exact multiplier of the same widths, ``before`` on the approximate
    multiplier after calibration, ``after`` after retraining; ``final_loss``
    is the mean training loss of the last epoch; ``hws`` the LUT-2D
    half-windows the table used (0, 0 when none); ``table`` what the run
    retrained with and where its half-windows came from, e.g.
    ``LUT-2D, stored (built-in manifest (mul8u_trunc8))`` or
    ``STE, computed`` for a kind ``auto`` resolved to STE.
    """

    multiplier: str
    kind: str
    ranges: str
    seed: int
    float_accuracy: float
    exact_accuracy: float
    before: float
    after: float
    final_loss: float
    seconds_per_epoch: float
    hws: tuple[int, int] = (0, 0)
    losses: tuple[float, ...] = field(default_factory=tuple)
    table: str = ""


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


@contextlib.contextmanager
def _threads(count: int | None, device: torch.device) -> Iterator[None]:
    """Run with ``count`` intra-op CPU threads, restoring the previous setting.

    The tensors are small; one thread avoids the OpenMP start-up and
    contention that otherwise dominate, above all with several jobs per machine.
    """
    previous = torch.get_num_threads()
    if count is not None and device.type == "cpu":
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _tensors(data: Dataset, device: torch.device) -> tuple[torch.Tensor, ...]:
    return tuple(
        torch.from_numpy(a).to(device) for a in (data.train_x, data.train_y, data.test_x, data.test_y)
    )


def float_start(setting: Setting, data: Dataset, seed: int) -> FloatStart:
    """Train the setting's network in float for ``seed``; the weights depend on the seed only."""
    device = _device(setting.device)
    with _threads(setting.threads, device):
        train_x, train_y, test_x, test_y = _tensors(data, device)
        seed_everything(seed)
        model = build_network(setting.network, data.image_size, data.classes).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=setting.float_lr)
        shuffle = torch.Generator().manual_seed(seed)
        for _ in range(setting.float_epochs):
            train_epoch(model, train_x, train_y, optimizer, setting.batch_size, shuffle)
        state = {key: value.detach().cpu().numpy() for key, value in model.state_dict().items()}
        return FloatStart(seed, state, evaluate(model, test_x, test_y))


def _exact(artifact: Artifact) -> Artifact:
    """The exact multiplier with ``artifact``'s operand widths and signedness."""
    return Artifact(
        name=f"exact{artifact.width_a}x{artifact.width_b}", top="", width_a=artifact.width_a,
        width_b=artifact.width_b, width_out=artifact.width_a + artifact.width_b, signed_a=artifact.signed_a,
        signed_b=artifact.signed_b,
        product=np.multiply.outer(artifact.operand_a.astype(np.int64), artifact.operand_b),
    )  # fmt: skip


def resolved_spec(artifact: Artifact, spec: GradientSpec) -> GradientSpec:
    """``spec`` with ``auto`` replaced by the method ``appmult tune-hws`` recommended for ``artifact``."""
    recommended = artifact.tuning.recommended if artifact.tuning is not None else ""
    method = recommended_method(spec.method, recommended)
    if method == spec.method:
        return spec
    return replace(spec, method=method, form=DEFAULT_FORM, rank=DEFAULT_RANK)


def _requested(artifact: Artifact, spec: GradientSpec) -> GradientParameters:
    """``spec``'s parameters, with half-windows not given taken from the tuning record when there is one."""
    parameters = spec.parameters
    if spec.hws is None and artifact.tuning is not None:
        parameters = replace(parameters, hws_a=TUNED, hws_b=TUNED)
    return parameters


def _stored(artifact: Artifact, spec: GradientSpec) -> Gradient | None:
    """The artifact's own group for ``spec``, when nothing in ``spec`` asks for other parameters.

    A kind given without half-windows uses the table stored in the artifact
    (as :func:`~appmult.retrain.convert.convert` does), provided its LUT-1D
    form and rank are the ones asked for.
    """
    group = artifact.gradients.get(spec.method)
    if spec.hws is not None or group is None or isinstance(group, AxesGradient):
        return None
    if spec.method != LUT2D.name and (group.attrs.get("form"), group.attrs.get("rank")) != (
        spec.form,
        spec.rank,
    ):
        return None
    return group


def check_spec(artifact: Artifact, spec: GradientSpec) -> None:
    """Raise ParameterError when ``spec``'s table cannot be made for ``artifact``.

    Checks the method (``auto`` against the tuning record), the half-windows
    against the operand widths (and ``auto`` against the tuning record) and a
    separable rank against the table's sides, without computing anything,
    so a benchmark fails before it trains.
    """
    spec = resolved_spec(artifact, spec)
    if _stored(artifact, spec) is None:
        resolve_parameters(artifact, [get_method(spec.method)], _requested(artifact, spec))


def table_for(artifact: Artifact, spec: GradientSpec) -> tuple[Artifact, GradientSpec, tuple[int, int], str]:
    """A copy of ``artifact`` holding the group ``spec`` asks for, and what it is.

    Returns the copy, the resolved spec (``auto`` replaced), the half-windows
    of the table ((0, 0) when it has none) and where they came from: ``stored``
    (the artifact's own group) or the rule that chose them
    (:mod:`appmult.lutgen.half_window`), each with the group's ``hws_rule``
    and, for a table built with the adaptive window, ``adaptive window``.
    """
    spec = resolved_spec(artifact, spec)
    table = copy.copy(artifact)
    table.gradients = dict(artifact.gradients)
    group = _stored(artifact, spec)
    origin = "stored"
    if group is None:
        group = gradient_tables(artifact, spec.method, _requested(artifact, spec))[spec.method]
        origin = "computed"
    table.gradients[spec.method] = group
    hws = (int(group.attrs.get("hws_a", 0)), int(group.attrs.get("hws_b", 0)))
    rule = group.attrs.get("hws_rule")
    if rule and hws != (0, 0):
        window = group.attrs.get("window")
        origin = f"{origin} ({rule}, {window} window)" if window else f"{origin} ({rule})"
    return table, spec, hws, origin


def retrain_job(
    key: str,
    setting: Setting,
    data: Dataset,
    start: FloatStart,
    artifact: Artifact,
    spec: GradientSpec,
    ranges: str,
) -> Job:
    """:func:`retrain_run` as an executor job; with ``device`` ``cuda`` it asks a cluster for a GPU."""
    resources = {"GPU": 1} if setting.device == "cuda" else {}
    return Job(key, retrain_run, (setting, data, start, artifact, spec, ranges), resources=resources)


def retrain_run(
    setting: Setting,
    data: Dataset,
    start: FloatStart,
    artifact: Artifact,
    spec: GradientSpec,
    ranges: str = DEFAULT_RANGES,
) -> RunResult:
    """Retrain ``start`` on ``artifact``'s multiplier with the gradient ``spec`` (module docstring)."""
    check_ranges(ranges)
    device = _device(setting.device)
    with _threads(setting.threads, device):
        train_x, train_y, test_x, test_y = _tensors(data, device)
        model = build_network(setting.network, data.image_size, data.classes).to(device)
        model.load_state_dict({key: torch.from_numpy(value) for key, value in start.state.items()})
        layers = tuple(LAYER_TYPES[name] for name in setting.layers)
        reference = convert(
            model, LutMultiplier(_exact(artifact)).to(device), STE.name, layers, ranges=ranges
        )
        calibrate(reference, train_x, setting.batch_size, setting.calibration_batches)
        exact_accuracy = evaluate(reference, test_x, test_y)
        table, resolved, hws, origin = table_for(artifact, spec)
        approximate = convert(model, LutMultiplier(table).to(device), resolved.method, layers, ranges=ranges)
        calibrate(approximate, train_x, setting.batch_size, setting.calibration_batches)
        before = evaluate(approximate, test_x, test_y)
        seed_everything(start.seed)
        optimizer = torch.optim.Adam(approximate.parameters(), lr=setting.lr)
        shuffle = torch.Generator().manual_seed(10_000 + start.seed)
        seconds, losses = [], []
        for _ in range(setting.epochs):
            elapsed, loss = train_epoch(approximate, train_x, train_y, optimizer, setting.batch_size, shuffle)
            seconds.append(elapsed)
            losses.append(loss)
        return RunResult(
            multiplier=artifact.name,
            kind=spec.label,
            ranges=ranges,
            seed=start.seed,
            float_accuracy=start.accuracy,
            exact_accuracy=exact_accuracy,
            before=before,
            after=evaluate(approximate, test_x, test_y),
            final_loss=losses[-1],
            seconds_per_epoch=float(np.mean(seconds)),
            hws=hws,
            table=f"{resolved.label}, {origin}",
            losses=tuple(losses),
        )
