"""Per-tensor integer quantization with the straight-through estimator.

An operand of ``width`` bits takes the integer codes of the multiplier's
operand axis:

* **unsigned** — asymmetric with a zero point, as the DATE 2025 framework does:
  codes ``0 .. 2**width - 1``, ``x ≈ scale * (q - zero_point)``. The range
  ``[lo, hi]`` is first widened to contain 0, so real 0 (ReLU outputs,
  padding) is exactly the code ``zero_point``;
  ``scale = (hi - lo) / (2**width - 1)``,
  ``zero_point = clamp(round(-lo / scale), 0, 2**width - 1)``.
* **signed** — symmetric, zero point 0: codes ``-2**(width-1) .. 2**(width-1) - 1``,
  ``scale = max(|lo|, |hi|) / (2**(width-1) - 1)``.

Rounding and the gradient follow ``torch.fake_quantize_per_tensor_affine``:
``q = clamp(round(x * (1 / scale)) + zero_point, qmin, qmax)`` with round half
to even; the backward pass is the straight-through estimator,
``dq/dx = 1 / scale`` where the unclamped code lies inside ``[qmin, qmax]``
and 0 where it is clamped. Scale and zero point are treated as constants
(no gradient), as with a min/max observer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["QuantSpec", "fake_quant_codes", "quant_params"]

#: Smallest scale used, so a constant tensor does not divide by zero.
_MIN_SCALE = 1e-8


@dataclass(frozen=True)
class QuantSpec:
    """Integer range of one multiplier operand: ``width`` bits, two's complement if ``signed``."""

    width: int
    signed: bool

    @property
    def qmin(self) -> int:
        """Smallest code."""
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def qmax(self) -> int:
        """Largest code."""
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1


def quant_params(lo: torch.Tensor, hi: torch.Tensor, spec: QuantSpec) -> tuple[torch.Tensor, torch.Tensor]:
    """``(scale, zero_point)`` float32 scalars for the range ``[lo, hi]`` (rules in the module docstring).

    ``zero_point`` holds an integer value (0 for signed operands).
    """
    lo = torch.clamp(lo.detach().float(), max=0.0)
    hi = torch.clamp(hi.detach().float(), min=0.0)
    if spec.signed:
        scale = torch.clamp(torch.maximum(-lo, hi) / spec.qmax, min=_MIN_SCALE)
        return scale, torch.zeros_like(scale)
    scale = torch.clamp((hi - lo) / (spec.qmax - spec.qmin), min=_MIN_SCALE)
    zero_point = torch.clamp(torch.round(spec.qmin - lo / scale), spec.qmin, spec.qmax)
    return scale, zero_point


class _FakeQuantCodes(torch.autograd.Function):
    """Integer codes of ``x`` (as floats) with the straight-through estimator."""

    @staticmethod
    def forward(ctx, x, scale, zero_point, qmin, qmax):  # noqa: ANN001, ANN205
        inv_scale = 1.0 / scale
        unclamped = torch.round(x * inv_scale) + zero_point
        inside = (unclamped >= qmin) & (unclamped <= qmax)
        ctx.save_for_backward(inside, inv_scale)
        return torch.clamp(unclamped, qmin, qmax)

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        inside, inv_scale = ctx.saved_tensors
        return grad * inside * inv_scale, None, None, None, None


def fake_quant_codes(
    x: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor, spec: QuantSpec
) -> torch.Tensor:
    """Quantize ``x`` to integer codes in ``[spec.qmin, spec.qmax]``, returned as float tensor.

    ``scale * (codes - zero_point)`` is the dequantized value. The gradient is
    ``1 / scale`` where ``x`` was not clamped, 0 where it was.
    """
    return _FakeQuantCodes.apply(x, scale, zero_point, spec.qmin, spec.qmax)
