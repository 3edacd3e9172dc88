"""The ``observer`` range policy against its definition, computed here with numpy.

``observer`` follows the DATE 2025 code: the activation range is a moving
average (momentum 0.1) of each training batch's min and max, the first batch
taken as it is; the weight range is the running min and max of every weight
a training-mode pass has seen. The test drives one quantized layer through
calibration passes and training steps, recomputes both ranges from the
batches and the weights it fed, and checks that the layer's output in
``eval()`` is the quantized product at exactly those ranges (on an exact
8-bit multiplier, quantized by the rules of :mod:`appmult.retrain.quantize`).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from appmult.core.artifact import Artifact  # noqa: E402
from appmult.core.operands import operand_values  # noqa: E402
from appmult.lutgen.methods import STE  # noqa: E402
from appmult.retrain import RANGE_POLICIES, convert  # noqa: E402

MOMENTUM = 0.1


def exact8() -> Artifact:
    values = operand_values(8, False).astype(np.int64)
    return Artifact(
        name="exact8", top="exact8", width_a=8, width_b=8, width_out=16, signed_a=False, signed_b=False,
        product=np.outer(values, values),
    )  # fmt: skip


def _codes(x: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.float32, np.float32]:
    """Unsigned 8-bit codes of ``x`` for the range [lo, hi] (widened to hold 0), scale, zero point."""
    lo, hi = np.float32(min(lo, 0.0)), np.float32(max(hi, 0.0))
    scale = np.float32(max((hi - lo) / np.float32(255), 1e-8))
    zero = np.float32(np.clip(np.round(-lo / scale), 0, 255))
    inverse = np.float32(1.0) / scale
    return np.clip(np.round(x.astype(np.float32) * inverse) + zero, 0, 255), scale, zero


def _output(x, weight, bias, act_range, weight_range) -> np.ndarray:  # noqa: ANN001
    """The layer's output on an exact multiplier: s_x s_w (x_q - z_x) (w_q - z_w)^T + bias."""
    x_q, s_x, z_x = _codes(x, *act_range)
    w_q, s_w, z_w = _codes(weight, *weight_range)
    return (s_x * s_w) * ((x_q - z_x).astype(np.float64) @ (w_q - z_w).T.astype(np.float64)) + bias


def _drive(policy: str):  # noqa: ANN202
    """Two calibration passes and five training steps; returns the layer and the ranges computed here."""
    torch.manual_seed(0)
    model = convert(nn.Sequential(nn.Linear(5, 3)), exact8(), STE.name, ranges=policy, momentum=MOMENTUM)
    layer = model[0]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    rng = np.random.default_rng(1)
    act, w_lo, w_hi = None, np.inf, -np.inf
    model.train()
    for index, (shift, spread) in enumerate([(0, 1), (1, 2), (-2, 1), (3, 4), (0, 0.5), (2, 3), (-1, 2)]):
        batch = (shift + spread * rng.standard_normal((8, 5))).astype(np.float32)
        seen = layer.weight.detach().numpy().copy()  # the weight this pass quantizes
        w_lo, w_hi = min(w_lo, seen.min()), max(w_hi, seen.max())
        now = np.array([batch.min(), batch.max()], dtype=np.float64)
        act = now if act is None else (1 - MOMENTUM) * act + MOMENTUM * now
        x = torch.from_numpy(batch)
        if index < 2:
            with torch.no_grad():  # calibration passes count as observations too
                model(x)
        else:
            optimizer.zero_grad()
            model(x).pow(2).mean().backward()
            optimizer.step()
    return model, layer, act, (w_lo, w_hi)


def test_observer_ranges_equal_the_date_observers_computed_here() -> None:
    model, layer, act, (w_lo, w_hi) = _drive("observer")
    np.testing.assert_allclose(layer.act_range.numpy(), act, rtol=1e-6)
    np.testing.assert_array_equal(layer.weight_range.numpy(), np.float32([w_lo, w_hi]))
    weight = layer.weight.detach().numpy()
    assert w_lo < weight.min() or w_hi > weight.max()  # the kept range is wider than today's weight
    model.eval()
    x = np.random.default_rng(2).standard_normal((6, 5)).astype(np.float32)
    y = model(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_array_equal(layer.weight_range.numpy(), np.float32([w_lo, w_hi]))  # eval keeps it
    bias = layer.bias.detach().numpy()
    np.testing.assert_allclose(y, _output(x, weight, bias, act, (w_lo, w_hi)), rtol=1e-5, atol=1e-5)
    current = _output(x, weight, bias, act, (weight.min(), weight.max()))
    assert not np.allclose(y, current, rtol=1e-5, atol=1e-5)  # what moving and frozen would compute


def test_moving_shares_the_activation_rule_and_quantizes_today_s_weight() -> None:
    model, layer, act, _ = _drive("moving")
    np.testing.assert_allclose(layer.act_range.numpy(), act, rtol=1e-6)
    assert not layer.weight_observed
    model.eval()
    x = np.random.default_rng(2).standard_normal((6, 5)).astype(np.float32)
    y = model(torch.from_numpy(x)).detach().numpy()
    weight, bias = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    np.testing.assert_allclose(
        y, _output(x, weight, bias, act, (weight.min(), weight.max())), rtol=1e-5, atol=1e-5
    )


def test_every_policy_is_accepted_by_convert() -> None:
    assert RANGE_POLICIES == ("frozen", "moving", "observer")
    for policy in RANGE_POLICIES:
        model = convert(nn.Sequential(nn.Linear(2, 2)), exact8(), STE.name, ranges=policy)
        assert model[0].ranges == policy
