"""Root cause of the harm of a noisy LUT-2D table (issue 19, item 8), and estimator changes.

Variants of a multiplier's table at half-window h (``custom_table``), each
retrained like ``retrain-demo`` does (:func:`runner.custom_run`):

``lut2d``      the shipped LUT-2D (the custom path, checked against ``retrain_run``);
``da_only``    LUT-2D for dAM/da (so dL/dx), STE for dAM/db (dL/dw);
``db_only``    STE for dAM/da, LUT-2D for dAM/db;
``signfix``    LUT-2D with every entry of opposite sign to STE given STE's sign (magnitude kept);
``rescaled``   LUT-2D scaled per derivative to STE's Frobenius norm;
``edges_ste``  LUT-2D with the edge bands (k <= h, k >= N-1-h along the differenced axis) set to STE;
``shuffled``   STE plus LUT-2D's deviation from STE with its entries permuted at random
               (same deviation values, no structure);
``box2d``, ``lsq``, ``box2d_lsq``, ``adaptive``  the candidate estimators of :mod:`tables`.

``grads``: per-layer agreement of one batch's gradients with STE's, at the
float start of seed 0 after calibration on the multiplier (frozen ranges):
cosine similarity and norm ratio of each layer's weight gradient and of the
gradient reaching each layer's input, averaged over 8 training batches.

Usage::

    .venv/bin/python bench/research_19/experiments.py grads [MULTIPLIER]
    .venv/bin/python bench/research_19/experiments.py retrain [-j 2]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch
from common import RESULTS, artifact_path
from tables import ESTIMATORS, estimate, ste_tables

from appmult.core.artifact import GradientTable, load

VARIANTS = ("lut2d", "da_only", "db_only", "signfix", "rescaled", "edges_ste", "shuffled",
            *(name for name in ESTIMATORS if name != "lut2d"))  # fmt: skip
#: The variants retrained; edges_ste, lsq and box2d_lsq only in the gradient measurements
#: (their per-layer agreement with STE is that of lut2d or no better), to fit 2 shared cores.
RETRAINED = ("lut2d", "da_only", "db_only", "signfix", "rescaled", "shuffled", "box2d", "adaptive")


def custom_table(multiplier: str, variant: str, hws: int) -> GradientTable:
    """The table ``variant`` (module docstring) of ``multiplier`` at half-window ``hws``."""
    artifact = load(artifact_path(multiplier)).materialize()
    if variant in ESTIMATORS:
        return estimate(artifact, variant, hws)
    base = estimate(artifact, "lut2d", hws)
    ste_a, ste_b = ste_tables(artifact)
    d_a, d_b = base.d_a.astype(np.float64), base.d_b.astype(np.float64)
    if variant == "da_only":
        d_b = ste_b
    elif variant == "db_only":
        d_a = ste_a
    elif variant == "signfix":
        d_a = np.where(d_a * ste_a < 0, -d_a, d_a)
        d_b = np.where(d_b * ste_b < 0, -d_b, d_b)
    elif variant == "rescaled":
        d_a = d_a * np.linalg.norm(ste_a) / np.linalg.norm(d_a)
        d_b = d_b * np.linalg.norm(ste_b) / np.linalg.norm(d_b)
    elif variant == "edges_ste":
        n_a, n_b = d_a.shape
        d_a, d_b = d_a.copy(), d_b.copy()
        d_a[: hws + 1], d_a[n_a - 1 - hws :] = ste_a[: hws + 1], ste_a[n_a - 1 - hws :]
        d_b[:, : hws + 1], d_b[:, n_b - 1 - hws :] = ste_b[:, : hws + 1], ste_b[:, n_b - 1 - hws :]
    elif variant == "shuffled":
        rng = np.random.default_rng(0)
        d_a = ste_a + rng.permutation((d_a - ste_a).ravel()).reshape(d_a.shape)
        d_b = ste_b + rng.permutation((d_b - ste_b).ravel()).reshape(d_b.shape)
    elif variant != "lut2d":
        raise ValueError(f"unknown variant {variant!r}")
    attrs = {"hws_a": hws, "hws_b": hws, "variant": variant}
    return GradientTable(np.asarray(d_a, np.float32), np.asarray(d_b, np.float32), attrs=attrs)


# --------------------------------------------------------------------------- gradient agreement


def _model_on(multiplier: str, table: GradientTable | None, seed: int = 0):  # noqa: ANN202
    from runner import _with, dataset, setting, start_for

    from appmult.retrain.convert import approx_layers, convert
    from appmult.retrain.models import build_network
    from appmult.retrain.multiplier import LutMultiplier
    from appmult.retrain.runs import LAYER_TYPES
    from appmult.retrain.training import calibrate

    s = setting(3)
    data = dataset()
    start = start_for(seed, 3)
    artifact = load(artifact_path(multiplier)).materialize()
    model = build_network(s.network, data.image_size, data.classes)
    model.load_state_dict({key: torch.from_numpy(value) for key, value in start.state.items()})
    layers = tuple(LAYER_TYPES[name] for name in s.layers)
    tables = _with(artifact, table or estimate(artifact, "lut2d", 4))
    model = convert(
        model, LutMultiplier(tables), "lut2d" if table is not None else "ste", layers, ranges="frozen"
    )
    train_x = torch.from_numpy(data.train_x)
    calibrate(model, train_x, s.batch_size, s.calibration_batches)
    return model, list(approx_layers(model)), data


def layer_gradients(model, layers, data, batches: int = 8, batch_size: int = 64):  # noqa: ANN001, ANN201
    """Per batch, per layer: (weight gradient, gradient at the layer's input) as flat float64 arrays."""
    import torch.nn.functional as F

    inputs = {}

    def keep(module, args):  # noqa: ANN001, ANN202
        x = args[0]
        if x.requires_grad:
            x.retain_grad()
        inputs[module] = x

    hooks = [layer.register_forward_pre_hook(keep) for layer in layers]
    model.train()
    out = []
    generator = torch.Generator().manual_seed(123)
    order = torch.randperm(len(data.train_y), generator=generator)
    x_all, y_all = torch.from_numpy(data.train_x), torch.from_numpy(data.train_y)
    for index in range(batches):
        batch = order[index * batch_size : (index + 1) * batch_size]
        x = x_all[batch].clone().requires_grad_(True)
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y_all[batch]).backward()
        out.append([
            (layer.weight.grad.double().ravel().numpy().copy(), inputs[layer].grad.double().ravel().numpy().copy())
            for layer in layers
        ])  # fmt: skip
    for hook in hooks:
        hook.remove()
    return out


def agreement(reference, other) -> dict[str, list[float]]:  # noqa: ANN001
    """Per layer, averaged over batches: cosine and norm ratio of weight and input gradients against ``reference``."""
    layers = len(reference[0])
    result = {"cos_w": [], "norm_w": [], "cos_x": [], "norm_x": []}
    for layer in range(layers):
        for key, slot in (("w", 0), ("x", 1)):
            cosines, ratios = [], []
            for ref_batch, other_batch in zip(reference, other, strict=True):
                r, o = ref_batch[layer][slot], other_batch[layer][slot]
                cosines.append(float(r @ o / (np.linalg.norm(r) * np.linalg.norm(o) + 1e-300)))
                ratios.append(float(np.linalg.norm(o) / (np.linalg.norm(r) + 1e-300)))
            result[f"cos_{key}"].append(float(np.mean(cosines)))
            result[f"norm_{key}"].append(float(np.mean(ratios)))
    return result


def grads(multiplier: str = "mul8u_L40", only: str = "") -> None:
    """Print and write the per-layer agreement of every variant (or only the estimator ``only``)."""
    from runner import write_csv

    torch.set_num_threads(1)
    model, layers, data = _model_on(multiplier, None)
    reference = layer_gradients(model, layers, data)
    rows = []
    cases = [(v, 4) for v in VARIANTS] + [("lut2d", h) for h in (1, 2, 8, 16, 32, 64)]
    cases += [(e, h) for e in ESTIMATORS if e != "lut2d" for h in (1, 2, 8, 16, 32)]
    if only:
        cases = [(e, h) for e, h in cases if e == only]
    for variant, h in cases:
        model, layers, data = _model_on(multiplier, custom_table(multiplier, variant, h))
        agree = agreement(reference, layer_gradients(model, layers, data))
        row = {"multiplier": multiplier, "variant": variant, "h": h}
        for key, values in agree.items():
            row.update({f"{key}_{i + 1}": v for i, v in enumerate(values)})
        rows.append(row)
        print(
            f"{variant:<10} h={h:<3} cos(dL/dW) by layer 1..7: " + " ".join(f"{v:5.2f}" for v in agree["cos_w"])
            + "   |dL/dW|/STE: " + " ".join(f"{v:4.1f}" for v in agree["norm_w"])
        )  # fmt: skip
    write_csv(RESULTS / f"grads_{multiplier}{'_' + only if only else ''}.csv", rows)


def layer_codes(multiplier: str, seed: int = 0, batches: int = 8):  # noqa: ANN201
    """Per approximate layer: histograms [Na], [Nb] of its activation and weight codes, and z_x, z_w.

    At the float start of ``seed`` moved onto ``multiplier`` and calibrated
    (frozen ranges), over ``batches`` training batches of 64 (eval mode, so
    no range moves). Padding positions are not counted.
    """
    model, layers, data = _model_on(multiplier, None, seed)
    artifact = load(artifact_path(multiplier))
    n_a, n_b = artifact.shape
    offset_a, offset_b = int(artifact.operand_a[0]), int(artifact.operand_b[0])
    found = {layer: [np.zeros(n_a), None, 0.0, 0.0] for layer in layers}

    def keep(module, args):  # noqa: ANN001, ANN202
        x = args[0].reshape(-1, module.in_features) if hasattr(module, "in_features") else args[0]
        codes, _, z_x = module._input_codes(x)
        found[module][0] += np.bincount((codes.detach().long() - offset_a).ravel().numpy(), minlength=n_a)
        found[module][2] = float(z_x)

    hooks = [layer.register_forward_pre_hook(keep) for layer in layers]
    model.eval()
    with torch.no_grad():
        model(torch.from_numpy(data.train_x[: 64 * batches]))
        for layer in layers:
            w_q, _, z_w = layer._weight_codes()
            found[layer][1] = np.bincount((w_q.long() - offset_b).ravel().numpy(), minlength=n_b).astype(
                float
            )
            found[layer][3] = float(z_w)
    for hook in hooks:
        hook.remove()
    return [(p_x / p_x.sum(), p_w / p_w.sum(), z_x, z_w) for p_x, p_w, z_x, z_w in found.values()]


def effective(multiplier: str = "mul8u_L40") -> None:
    """Deviation of each table from STE as the backward pass sees it, per layer of the network.

    A layer's gradient uses ``D_a(x, w) - z_w`` for dL/dx and ``D_b(x, w) - z_x``
    for dL/dw (the zero-point cross terms are exact), so the signal a table
    must carry is the centred STE, ``w - z_w`` and ``x - z_x``. The effective
    deviation is ``sqrt(E[(D_a - w)^2]) / sqrt(E[(w - z_w)^2])`` with x, w drawn
    from the layer's own codes (likewise for D_b); the plain ``dev`` of
    :mod:`tables` is the same with uniform codes and no centring.
    """
    from runner import write_csv

    torch.set_num_threads(1)
    artifact = load(artifact_path(multiplier)).materialize()
    a = artifact.operand_a.astype(np.float64)
    b = artifact.operand_b.astype(np.float64)
    codes = layer_codes(multiplier)
    rows = []
    for estimator_h in [("lut2d", h) for h in (1, 2, 4, 8, 16, 32, 64)] + [("box2d", 4), ("lsq", 4)]:
        table = estimate(artifact, *estimator_h)
        row = {"multiplier": multiplier, "estimator": estimator_h[0], "h": estimator_h[1]}
        for index, (p_x, p_w, z_x, z_w) in enumerate(codes, start=1):
            weight = np.outer(p_x, p_w)
            dev_a = np.sqrt((weight * (table.d_a - b[np.newaxis]) ** 2).sum() / (p_w * (b - z_w) ** 2).sum())
            dev_b = np.sqrt(
                (weight * (table.d_b - a[:, np.newaxis]) ** 2).sum() / (p_x * (a - z_x) ** 2).sum()
            )
            row[f"eff_dev_a_{index}"], row[f"eff_dev_b_{index}"] = float(dev_a), float(dev_b)
        rows.append(row)
        print(
            f"{estimator_h[0]:<6} h={estimator_h[1]:<3} effective dev of D_a by layer: "
            + " ".join(f"{row[f'eff_dev_a_{i}']:5.2f}" for i in range(1, len(codes) + 1))
            + "   of D_b: " + " ".join(f"{row[f'eff_dev_b_{i}']:5.2f}" for i in range(1, len(codes) + 1))
        )  # fmt: skip
    for index, (p_x, p_w, z_x, z_w) in enumerate(codes, start=1):
        spread = np.sqrt((p_w * (b - z_w) ** 2).sum())
        print(
            f"layer {index}: z_w {z_w:5.1f}, rms |w - z_w| {spread:5.1f} codes; z_x {z_x:4.1f}, "
            f"share of activation codes at z_x {p_x[int(z_x - a[0])]:.2f}"
        )
    write_csv(RESULTS / f"effective_{multiplier}.csv", rows)


# --------------------------------------------------------------------------- retraining


def retrain_runs():  # noqa: ANN201
    from runner import Run

    runs = []
    for seed in (0, 1):
        runs.append(Run("mul8u_L40", "ste", seed=seed))
        for variant in RETRAINED:
            runs.append(Run("mul8u_L40", "lut2d", hws=4, seed=seed, variant=variant))
    for seed in (0, 1):
        runs.append(Run("mul8u_L40", "lut2d", hws=1, seed=seed, variant="adaptive"))
        runs.append(Run("mul8u_18DU", "lut2d", hws=4, seed=seed, variant="adaptive"))
    return runs


def retrain(workers: int) -> None:
    from runner import format_summary, run_all, summarize, write_csv

    began = time.perf_counter()
    rows = run_all(retrain_runs(), workers)
    print(f"wall time of this invocation: {time.perf_counter() - began:.0f} s")
    write_csv(RESULTS / "root_cause_runs.csv", [{k: v for k, v in r.items() if k != "losses"} for r in rows])
    summary = summarize(rows)
    write_csv(RESULTS / "root_cause.csv", summary)
    print(format_summary(summary))


if __name__ == "__main__":
    if sys.argv[1] == "grads":
        grads(*sys.argv[2:4])
    elif sys.argv[1] == "effective":
        effective(*sys.argv[2:3])
    else:
        retrain(int(sys.argv[sys.argv.index("-j") + 1]) if "-j" in sys.argv else 2)
