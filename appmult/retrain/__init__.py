"""Retraining with the gradient LUTs: a PyTorch consumer of the artifacts.

:func:`convert` turns a float model's Conv2d/Linear layers into quantized
layers whose multiplications are lookups in an approximate multiplier's
product table (forward) and whose backward pass uses the chosen gradient
table (a method of :mod:`appmult.lutgen.methods`)::

    from appmult.retrain import convert

    model = convert(model, artifact="artifacts/mul8u_trunc8.h5", gradient="lut2d")

:mod:`appmult.retrain.demo` is the offline benchmark that retrains a small CNN with
each gradient kind. Needs the ``torch`` extra (``pip install -e .[torch]``).
"""

from __future__ import annotations

from appmult.retrain.convert import approx_layers, convert, freeze_ranges, set_gradient
from appmult.retrain.layers import DEFAULT_RANGES, RANGE_POLICIES, ApproxConv2d, ApproxLayer, ApproxLinear
from appmult.retrain.lut_matmul import DEFAULT_CHUNK_ELEMENTS, lut_matmul
from appmult.retrain.multiplier import LutMultiplier
from appmult.retrain.quantize import QuantSpec, fake_quant_codes, quant_params

__all__ = [
    "DEFAULT_CHUNK_ELEMENTS",
    "DEFAULT_RANGES",
    "RANGE_POLICIES",
    "ApproxConv2d",
    "ApproxLayer",
    "ApproxLinear",
    "LutMultiplier",
    "QuantSpec",
    "approx_layers",
    "convert",
    "fake_quant_codes",
    "freeze_ranges",
    "lut_matmul",
    "quant_params",
    "set_gradient",
]
