"""Turn a float model into one whose Conv2d/Linear layers run on an approximate multiplier."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator

from torch import nn

from appmult.core.artifact import Artifact
from appmult.core.errors import ParameterError
from appmult.lutgen.methods import STE
from appmult.retrain.layers import DEFAULT_RANGES, ApproxConv2d, ApproxLayer, ApproxLinear, check_ranges
from appmult.retrain.lut_matmul import DEFAULT_CHUNK_ELEMENTS
from appmult.retrain.multiplier import LutMultiplier

__all__ = ["approx_layers", "convert", "freeze_ranges", "set_gradient"]

#: Float layer type -> its approximate counterpart.
_REPLACEMENTS: dict[type[nn.Module], type[ApproxLayer]] = {
    nn.Conv2d: ApproxConv2d,
    nn.Linear: ApproxLinear,
}


def convert(
    model: nn.Module,
    artifact: str | os.PathLike | Artifact | LutMultiplier,
    gradient: str = STE.name,
    layers: tuple[type[nn.Module], ...] = (nn.Conv2d, nn.Linear),
    *,
    momentum: float = 0.1,
    ranges: str = DEFAULT_RANGES,
    inplace: bool = False,
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
) -> nn.Module:
    """Replace the ``layers`` of ``model`` by quantized layers computed on the multiplier's table.

    Parameters
    ----------
    model : nn.Module
        A float model.
    artifact : path, Artifact or LutMultiplier
        The multiplier: an artifact file (``artifacts/<name>.h5``), a loaded
        :class:`~appmult.core.artifact.Artifact`, or tables already on a device.
    gradient : str
        A gradient method's name (:data:`appmult.lutgen.methods.NAMES`),
        default the exact gradient (STE); every other method needs the
        artifact's ``/grad/<gradient>`` group (``appmult lutgen``). The backward
        rule follows how that group is stored (:mod:`appmult.retrain.lut_matmul`).
        ``"auto"`` takes the method ``appmult tune-hws`` recommended for the
        artifact (STE when no table beat it).
    layers : tuple of types
        Which float layer types to replace; each must be ``nn.Conv2d`` or
        ``nn.Linear`` (subclasses included).
    momentum : float
        Moving-average weight of the activation ranges (:mod:`appmult.retrain.layers`).
    ranges : {"frozen", "moving", "observer"}
        When the quantization ranges are updated: the activation's only on
        passes without gradients, i.e. calibration (``frozen``, the default),
        or on every training-mode pass (``moving``); ``observer`` follows the
        DATE 2025 code (activations as ``moving``, weights a running min/max
        that only widens); see :mod:`appmult.retrain.layers`. Measured in the
        retraining benchmark (docs/08-retraining.md), this choice decides more than the
        gradient table does, and whether a table beats STE; record it with
        your results.
    inplace : bool
        Modify ``model`` itself instead of a deep copy.
    chunk_elements : int
        Bound on the elements of the lookup temporaries (only when
        ``artifact`` is not a LutMultiplier, which carries its own).

    Returns
    -------
    nn.Module
        The converted model, on the device of ``model``'s parameters. Replaced
        layers share one :class:`LutMultiplier` and keep the float weights as
        their parameters (the optimizer trains those). Activation ranges are
        set by the first forward passes in training mode; run a few batches
        (e.g. under ``torch.no_grad()``) before evaluating.

    Raises
    ------
    ParameterError
        Unknown gradient, a missing gradient table, or a layer type that has
        no approximate counterpart.
    """
    check_ranges(ranges)
    for kind in layers:
        if not any(issubclass(kind, base) for base in _REPLACEMENTS):
            raise ParameterError(
                f"cannot convert {kind.__name__} layers; supported: "
                f"{', '.join(t.__name__ for t in _REPLACEMENTS)}"
            )
    multiplier = _multiplier(artifact, chunk_elements)
    gradient = multiplier.resolve(gradient)
    multiplier.require(gradient)
    if not inplace:
        model = copy.deepcopy(model)
    device = next((p.device for p in model.parameters()), None)
    if device is not None:
        multiplier = multiplier.to(device)
    _replace(model, multiplier, gradient, tuple(layers), momentum)
    for layer in approx_layers(model):
        layer.set_ranges(ranges)
    return model


def freeze_ranges(model: nn.Module) -> nn.Module:
    """Keep every approximate layer's activation range through training (policy ``frozen``).

    For a model converted with ``ranges="moving"``: from then on only
    passes without gradients update a range. Returns ``model``.
    """
    for layer in approx_layers(model):
        layer.set_ranges("frozen")
    return model


def set_gradient(model: nn.Module, gradient: str) -> nn.Module:
    """Switch every approximate layer of ``model`` to ``gradient``; returns ``model``."""
    for layer in approx_layers(model):
        layer.set_gradient(gradient)
    return model


def approx_layers(model: nn.Module) -> Iterator[ApproxLayer]:
    """The approximate layers of ``model``, in module order."""
    return (m for m in model.modules() if isinstance(m, ApproxLayer))


def _multiplier(artifact: str | os.PathLike | Artifact | LutMultiplier, chunk_elements: int) -> LutMultiplier:
    if isinstance(artifact, LutMultiplier):
        return artifact
    if isinstance(artifact, Artifact):
        return LutMultiplier(artifact, chunk_elements=chunk_elements)
    return LutMultiplier.from_file(artifact, chunk_elements=chunk_elements)


def _replace(
    parent: nn.Module,
    multiplier: LutMultiplier,
    gradient: str,
    layers: tuple[type[nn.Module], ...],
    momentum: float,
) -> None:
    for name, child in parent.named_children():
        if isinstance(child, ApproxLayer):
            continue
        if isinstance(child, layers):
            target = next(approx for base, approx in _REPLACEMENTS.items() if isinstance(child, base))
            setattr(parent, name, target.from_float(child, multiplier, gradient, momentum))
        else:
            _replace(child, multiplier, gradient, layers, momentum)
