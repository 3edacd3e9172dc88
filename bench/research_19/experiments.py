"""Root cause of the harm of a noisy LUT-2D table (issue 19, item 8), and estimator changes.

Variants of a multiplier's table at half-window h (``custom_table``), each
retrained like ``retrain-demo`` does (:func:`runner.custom_run`):

``lut2d``      the shipped LUT-2D (``check``: the custom path gives ``retrain_run``'s results);
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
gradient reaching each layer's input, averaged over 16 training batches, and
the cosine of the weight gradient summed over those batches.

Usage::

    .venv/bin/python bench/research_19/experiments.py grads [MULTIPLIER [core|ESTIMATOR]]
    .venv/bin/python bench/research_19/experiments.py effective [MULTIPLIER ...]
    .venv/bin/python bench/research_19/experiments.py check
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

VARIANTS = (
    "lut2d",
    "da_only",
    "db_only",
    "signfix",
    "rescaled",
    "edges_ste",
    "shuffled",
    *(name for name in ESTIMATORS if name != "lut2d"),
)
#: The variants retrained (lut2d is the panel's own LUT-2D run); edges_ste, lsq and box2d_lsq
#: only in the gradient measurements (their per-layer agreement with STE is that of lut2d or
#: no better), to fit 2 shared cores.
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
        out.append(
            [
                (
                    layer.weight.grad.double().ravel().numpy().copy(),
                    inputs[layer].grad.double().ravel().numpy().copy(),
                )
                for layer in layers
            ]
        )
    for hook in hooks:
        hook.remove()
    return out


def agreement(reference, other) -> dict[str, list[float]]:  # noqa: ANN001
    """Per layer against ``reference``: cosine and norm ratio of weight and input gradients, averaged over
    batches, and the cosine of the weight gradients summed over the batches (``cosmean_w``: the
    direction an optimizer averaging over steps follows)."""
    layers = len(reference[0])
    result = {"cos_w": [], "norm_w": [], "cos_x": [], "norm_x": [], "cosmean_w": []}
    for layer in range(layers):
        for key, slot in (("w", 0), ("x", 1)):
            cosines, ratios = [], []
            for ref_batch, other_batch in zip(reference, other, strict=True):
                r, o = ref_batch[layer][slot], other_batch[layer][slot]
                cosines.append(_cosine(r, o))
                ratios.append(float(np.linalg.norm(o) / (np.linalg.norm(r) + 1e-300)))
            result[f"cos_{key}"].append(float(np.mean(cosines)))
            result[f"norm_{key}"].append(float(np.mean(ratios)))
        mean_r = np.sum([batch[layer][0] for batch in reference], axis=0)
        mean_o = np.sum([batch[layer][0] for batch in other], axis=0)
        result["cosmean_w"].append(_cosine(mean_r, mean_o))
    return result


def _cosine(r: np.ndarray, o: np.ndarray) -> float:
    return float(r @ o / (np.linalg.norm(r) * np.linalg.norm(o) + 1e-300))


#: Training batches of 64 the gradient agreement is measured on.
BATCHES = 16


def grads(multiplier: str = "mul8u_L40", only: str = "") -> None:
    """Print and write the per-layer agreement of every variant (or only the estimator ``only``)."""
    from runner import write_csv

    torch.set_num_threads(1)
    model, layers, data = _model_on(multiplier, None)
    reference = layer_gradients(model, layers, data, batches=BATCHES)
    rows = []
    cases = [(v, 4) for v in VARIANTS] + [("lut2d", h) for h in (1, 2, 8, 16, 32, 64)]
    cases += [(e, h) for e in ESTIMATORS if e != "lut2d" for h in (1, 2, 8, 16, 32)]
    if only == "core":
        cases = [(v, 4) for v in VARIANTS if v not in ("lsq", "box2d_lsq")]
        cases += [("lut2d", h) for h in (1, 2, 8, 16, 32, 64)] + [("adaptive", 1)]
    elif only:
        cases = [(e, h) for e, h in cases if e == only]
    for variant, h in cases:
        model, layers, data = _model_on(multiplier, custom_table(multiplier, variant, h))
        agree = agreement(reference, layer_gradients(model, layers, data, batches=BATCHES))
        row = {"multiplier": multiplier, "variant": variant, "h": h}
        for key, values in agree.items():
            row.update({f"{key}_{i + 1}": v for i, v in enumerate(values)})
        rows.append(row)
        print(
            f"{variant:<10} h={h:<3} cos(dL/dW) by layer 1..7: "
            + " ".join(f"{v:5.2f}" for v in agree["cos_w"])
            + "   |dL/dW|/STE: "
            + " ".join(f"{v:4.1f}" for v in agree["norm_w"])
            + "   cos(sum over batches): "
            + " ".join(f"{v:5.2f}" for v in agree["cosmean_w"])
        )
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


def effective(*multipliers: str) -> None:
    """Deviation and sign flips of each table as the backward pass sees them, per layer of the network.

    A layer's gradient uses ``D_a(x, w) - z_w`` for dL/dx and ``D_b(x, w) - z_x``
    for dL/dw (the zero-point cross terms are exact), so the signal a table
    must carry is the centred STE, ``w - z_w`` and ``x - z_x``. Per layer, with
    x and w drawn from the layer's own codes (``layer_codes``):

    - effective deviation ``sqrt(E[(D_a - w)^2]) / sqrt(E[(w - z_w)^2])`` (likewise D_b);
    - centred sign flips: the share of pairs with ``w != z_w`` where ``D_a - z_w``
      and ``w - z_w`` have opposite signs or ``D_a - z_w`` is 0 (likewise D_b with x).

    The plain ``dev`` and ``flip`` of :mod:`tables` are the same with uniform codes and no
    centring. Prints the layer mean of each and writes ``results/effective.csv``.
    """
    from runner import write_csv

    torch.set_num_threads(1)
    rows = []
    cases = [("lut2d", h) for h in (1, 2, 4, 8, 16, 32, 64)] + [
        (v, 4) for v in ("signfix", "box2d", "adaptive")
    ]
    for multiplier in multipliers or ("mul8u_L40",):
        artifact = load(artifact_path(multiplier)).materialize()
        a = artifact.operand_a.astype(np.float64)
        b = artifact.operand_b.astype(np.float64)
        codes = layer_codes(multiplier)
        for variant, h in cases:
            table = custom_table(multiplier, variant, h)
            row = {"multiplier": multiplier, "variant": variant, "h": h}
            for index, (p_x, p_w, z_x, z_w) in enumerate(codes, start=1):
                weight = np.outer(p_x, p_w)
                signal_a = np.broadcast_to(b - z_w, weight.shape)
                signal_b = np.broadcast_to((a - z_x)[:, np.newaxis], weight.shape)
                for label, d, signal in (
                    ("a", table.d_a - z_w, signal_a),
                    ("b", table.d_b - z_x, signal_b),
                ):
                    spread = (weight * signal**2).sum()
                    row[f"eff_dev_{label}_{index}"] = float(
                        np.sqrt((weight * (d - signal) ** 2).sum() / spread)
                    )
                    counted = weight * (signal != 0)
                    flipped = (d * signal <= 0) & (signal != 0)
                    row[f"eff_flip_{label}_{index}"] = float((weight * flipped).sum() / counted.sum())
            rows.append(row)
            layers = range(1, len(codes) + 1)
            mean = {
                key: np.mean([row[f"{key}_{i}"] for i in layers])
                for key in ("eff_dev_a", "eff_dev_b", "eff_flip_a", "eff_flip_b")
            }
            print(
                f"{multiplier:<11} {variant:<9} h={h:<3} layer mean: "
                f"effective dev D_a {mean['eff_dev_a']:5.2f} "
                f"D_b {mean['eff_dev_b']:5.2f}; centred flips D_a {100 * mean['eff_flip_a']:5.1f} % "
                f"D_b {100 * mean['eff_flip_b']:5.1f} %"
            )
    write_csv(RESULTS / "effective.csv", rows)


# --------------------------------------------------------------------------- retraining


def check_custom_path(epochs: int = 1) -> None:
    """``runner.custom_run`` with the shipped LUT-2D table against ``retrain_run`` (retrain-demo's job).

    Both on mul8u_L40 at h = 4, seed 0; the losses and accuracies must be identical.
    """
    from runner import Run, custom_run, standard_run

    torch.set_num_threads(1)
    run = Run("mul8u_L40", "lut2d", hws=4, seed=0, epochs=epochs)
    standard = standard_run(run)
    custom = custom_run(run, custom_table(run.multiplier, "lut2d", run.hws))
    keys = ("exact_accuracy", "before", "after", "losses")
    same = all(standard[key] == custom[key] for key in keys)
    print(
        f"custom path vs retrain_run, {run.multiplier} LUT-2D h=4 seed 0, {epochs} epoch(s): "
        + ", ".join(f"{key} {standard[key]} / {custom[key]}" for key in keys)
        + ("; identical" if same else "; DIFFERENT")
    )
    if not same:
        raise SystemExit(1)


def retrain_runs():  # noqa: ANN201
    from runner import Run

    runs = []
    for seed in (0, 1):
        runs.append(Run("mul8u_L40", "ste", seed=seed))
        for variant in RETRAINED[1:]:
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
    elif sys.argv[1] == "check":
        check_custom_path()
    elif sys.argv[1] == "effective":
        effective(*sys.argv[2:])
    else:
        retrain(int(sys.argv[sys.argv.index("-j") + 1]) if "-j" in sys.argv else 2)
