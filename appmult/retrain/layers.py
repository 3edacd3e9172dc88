"""Quantized Linear and Conv2d layers whose multiplications use an approximate multiplier's table.

With real activation ``x = s_x (x_q - z_x)`` and weight ``w = s_w (w_q - z_w)``,
a dot product over K terms is

    ``sum_k x w = s_x s_w (sum_k AM(x_q, w_q) - z_w sum_k x_q - z_x sum_k w_q + K z_x z_w)``

where the exact product ``x_q w_q`` is replaced by the table ``AM`` and the
zero-point cross terms are computed exactly, outside the table (the DATE 2025
framework's scheme). Signed operands are quantized symmetrically, so their
zero points are 0 and the cross terms vanish.

Quantization (see :mod:`appmult.retrain.quantize`): per tensor, from a range
``(min, max)`` per operand. When a layer updates these ranges is its range
policy (``ranges``); no policy updates anything in ``eval()``. Where a
policy updates the activation's range, the new range is an exponential
moving average, ``(1 - momentum) * kept + momentum * (batch min, batch max)``,
the first batch taken as it is.

``frozen`` (the default, :data:`DEFAULT_RANGES`)
    activation: updated only on training-mode passes without gradients
    (calibration under ``torch.no_grad()``), then kept through the training
    steps; a layer that was never calibrated takes the range of its first
    training batch and keeps it. Weight: the current weight's min and max at
    every call.
``moving``
    activation: updated on every training-mode pass, so the range follows
    the activations as retraining changes them. Weight: as ``frozen``.
``observer``
    the DATE 2025 code's observers. Activation: as ``moving`` (a moving
    average with ``momentum``, 0.1 by default, updated on every training-mode
    pass). Weight: the running min and max of every weight seen by a
    training-mode pass since the first (the range only widens), used as it
    is in ``eval()``; a layer that never ran in training mode uses the
    current weight's min and max.

On an approximate multiplier moving ranges drift: the multiplier's error
grows the activations, wider ranges shrink the codes, and a truncating
multiplier then loses more. In the retraining benchmark (docs/08-retraining.md)
(mul8u_trunc8, six convolutions, 5 seeds) STE reached 96.1 % with frozen
ranges and 66.7 % with moving ones, and every gradient table did better
frozen than moving; hence the default.
Rounding is differentiated with the straight-through estimator, zero outside
the clamp range. The table's gradient (``gradient``: ``ste``, ``lut2d`` or ``lut1d``)
is used for the ``AM`` term only; see :mod:`appmult.retrain.lut_matmul`.

Convolutions run as im2col (``unfold``) -> table GEMM -> reshape. Padding is
applied to the quantized activation, so a padded position holds the code
``z_x`` (real 0) and goes through the multiplier like any other activation,
as it would in hardware that pads with the zero point.
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from appmult.core.errors import ParameterError
from appmult.lutgen.methods import STE
from appmult.retrain.multiplier import LutMultiplier
from appmult.retrain.quantize import fake_quant_codes, quant_params

__all__ = ["DEFAULT_RANGES", "RANGE_POLICIES", "ApproxConv2d", "ApproxLayer", "ApproxLinear", "check_ranges"]

#: Range policies of the layers (module docstring).
RANGE_POLICIES = ("frozen", "moving", "observer")

#: The policies that update the activation range on every training-mode pass.
_MOVING_ACTIVATIONS = ("moving", "observer")

#: The policy of a new layer, of :func:`~appmult.retrain.convert.convert` and of ``tune-hws``.
DEFAULT_RANGES = "frozen"


def check_ranges(policy: str) -> str:
    """Return ``policy`` if it is one of :data:`RANGE_POLICIES`, else raise ParameterError."""
    if policy not in RANGE_POLICIES:
        raise ParameterError(f"unknown range policy {policy!r}; choose one of {', '.join(RANGE_POLICIES)}")
    return policy


class ApproxLayer(nn.Module):
    """What ApproxLinear and ApproxConv2d share: observer, quantizers and the table GEMM.

    Attributes
    ----------
    multiplier : LutMultiplier
        The tables (shared between the layers of one model).
    gradient : str
        A gradient method's name (:data:`appmult.lutgen.methods.NAMES`); may be changed between steps.
    momentum : float
        Weight of the newest batch in the activation range's moving average.
    ranges : {"frozen", "moving", "observer"}
        When the ranges are updated (module docstring).
    act_range : float32 buffer [2]
        Running (min, max) of the input; ``act_observed`` says whether it is set.
    weight_range : float32 buffer [2]
        Running (min, max) of the weight under ``observer``; ``weight_observed``
        says whether it is set.
    """

    multiplier: LutMultiplier
    gradient: str
    momentum: float
    ranges: str
    #: The float layer's constructor arguments that a copy takes from its attributes (bias aside).
    float_fields: ClassVar[tuple[str, ...]]

    @classmethod
    def from_float(
        cls, module: nn.Module, multiplier: LutMultiplier, gradient: str = STE.name, momentum: float = 0.1
    ) -> ApproxLayer:
        """A layer of this type sharing ``module``'s weight and bias parameters."""
        layer = cls(
            **{name: getattr(module, name) for name in cls.float_fields},
            bias=module.bias is not None,
            multiplier=multiplier,
            gradient=gradient,
            momentum=momentum,
            device=module.weight.device,
            dtype=module.weight.dtype,
        )
        layer.weight = module.weight
        layer.bias = module.bias
        return layer

    def _init_approx(self, multiplier: LutMultiplier, gradient: str, momentum: float) -> None:
        gradient = multiplier.resolve(gradient)
        multiplier.require(gradient)
        self.multiplier = multiplier
        self.gradient = gradient
        self.momentum = float(momentum)
        self.ranges = DEFAULT_RANGES
        device = self.weight.device
        self.register_buffer("act_range", torch.zeros(2, device=device))
        self.register_buffer("act_observed", torch.zeros((), dtype=torch.bool, device=device))
        self.register_buffer("weight_range", torch.zeros(2, device=device))
        self.register_buffer("weight_observed", torch.zeros((), dtype=torch.bool, device=device))

    def set_gradient(self, gradient: str) -> None:
        """Switch the backward rule to the gradient method ``gradient`` (its group in the artifact)."""
        gradient = self.multiplier.resolve(gradient)
        self.multiplier.require(gradient)
        self.gradient = gradient

    def set_ranges(self, policy: str) -> None:
        """Switch the range policy (:data:`RANGE_POLICIES`, module docstring)."""
        self.ranges = check_ranges(policy)

    def _input_codes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        lo, hi = torch.aminmax(x.detach())
        batch = torch.stack([lo, hi]).float()
        if self.training:
            kept = self.act_range
            if self.ranges in _MOVING_ACTIVATIONS or not torch.is_grad_enabled():
                kept = (1 - self.momentum) * self.act_range + self.momentum * batch
            self.act_range.copy_(torch.where(self.act_observed, kept, batch))
            self.act_observed.fill_(True)
        current = torch.where(self.act_observed, self.act_range, batch)
        scale, zero_point = quant_params(current[0], current[1], self.multiplier.spec_a)
        return fake_quant_codes(x, scale, zero_point, self.multiplier.spec_a), scale, zero_point

    def _weight_codes(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        lo, hi = torch.aminmax(self.weight.detach())
        current = torch.stack([lo, hi]).float()
        if self.ranges == "observer":
            if self.training:
                low, high = self.weight_range
                widened = torch.stack([torch.minimum(low, lo), torch.maximum(high, hi)])
                self.weight_range.copy_(torch.where(self.weight_observed, widened, current))
                self.weight_observed.fill_(True)
            current = torch.where(self.weight_observed, self.weight_range, current)
        scale, zero_point = quant_params(current[0], current[1], self.multiplier.spec_b)
        return fake_quant_codes(self.weight, scale, zero_point, self.multiplier.spec_b), scale, zero_point

    def _table_gemm(self, x_q, w_q, s_x, z_x, s_w, z_w) -> torch.Tensor:  # noqa: ANN001
        """Real-valued ``x @ w`` for codes x_q [M, K], w_q [K, N] (formula in the module docstring)."""
        k = x_q.shape[1]
        approx = self.multiplier.matmul(x_q, w_q, self.gradient)
        exact_terms = approx - z_w * x_q.sum(1, keepdim=True) - z_x * w_q.sum(0, keepdim=True) + k * z_x * z_w
        return (s_x * s_w) * exact_terms

    def _approx_repr(self) -> str:
        return f"multiplier={self.multiplier.name!r}, gradient={self.gradient!r}, ranges={self.ranges!r}"


class ApproxLinear(nn.Linear, ApproxLayer):
    """``nn.Linear`` computed on an approximate multiplier (operand a = input, b = weight)."""

    float_fields = ("in_features", "out_features")

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        multiplier: LutMultiplier,
        gradient: str = STE.name,
        momentum: float = 0.1,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(in_features, out_features, bias, device=device, dtype=dtype)
        self._init_approx(multiplier, gradient, momentum)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        leading = x.shape[:-1]
        x_q, s_x, z_x = self._input_codes(x.reshape(-1, self.in_features))
        w_q, s_w, z_w = self._weight_codes()
        y = self._table_gemm(x_q, w_q.t(), s_x, z_x, s_w, z_w)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*leading, self.out_features)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, {self._approx_repr()}"


class ApproxConv2d(nn.Conv2d, ApproxLayer):
    """``nn.Conv2d`` computed on an approximate multiplier (operand a = input, b = weight)."""

    float_fields = (
        "in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
        "padding_mode",
    )  # fmt: skip

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,  # noqa: ANN001
        stride=1,  # noqa: ANN001
        padding=0,  # noqa: ANN001
        dilation=1,  # noqa: ANN001
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        multiplier: LutMultiplier,
        gradient: str = STE.name,
        momentum: float = 0.1,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device=device,
            dtype=dtype,
        )
        self._init_approx(multiplier, gradient, momentum)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batched = x.dim() == 4
        if not batched:
            x = x.unsqueeze(0)
        x_q, s_x, z_x = self._input_codes(x)
        w_q, s_w, z_w = self._weight_codes()
        mode = "constant" if self.padding_mode == "zeros" else self.padding_mode
        centered = F.pad(x_q - z_x, self._reversed_padding_repeated_twice, mode=mode)
        height, width = centered.shape[-2:]
        (kh, kw), (dh, dw), (sh, sw) = self.kernel_size, self.dilation, self.stride
        out_h = (height - dh * (kh - 1) - 1) // sh + 1
        out_w = (width - dw * (kw - 1) - 1) // sw + 1
        columns = F.unfold(centered, self.kernel_size, self.dilation, 0, self.stride) + z_x
        batch, _, positions = columns.shape
        k_group = columns.shape[1] // self.groups
        o_group = self.out_channels // self.groups
        outputs = []
        for g in range(self.groups):
            x_g = columns[:, g * k_group : (g + 1) * k_group].transpose(1, 2).reshape(-1, k_group)
            w_g = w_q[g * o_group : (g + 1) * o_group].reshape(o_group, k_group).t()
            outputs.append(self._table_gemm(x_g, w_g, s_x, z_x, s_w, z_w))
        y = outputs[0] if self.groups == 1 else torch.cat(outputs, dim=1)
        y = y.reshape(batch, positions, self.out_channels).transpose(1, 2)
        y = y.reshape(batch, self.out_channels, out_h, out_w)
        if self.bias is not None:
            y = y + self.bias.view(1, -1, 1, 1)
        return y if batched else y.squeeze(0)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, {self._approx_repr()}"
