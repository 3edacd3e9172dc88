"""Retraining runs, the benchmark (``retrain-demo``), the half-window search (``tune-hws``) and
their summaries.

The runs train real networks on a small data set made here: 8x8 images of
three classes (a bright row, column or diagonal, with noise), written as an
``.npz`` file, so the user's-own-data path is the one exercised. Artifacts
are 6x6-bit tables built from numpy (the exact product with its low bits
cleared), so no simulation is needed.
"""

from __future__ import annotations

import csv
import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from click.testing import CliRunner  # noqa: E402
from torch import nn  # noqa: E402

from appmult.cli import cli  # noqa: E402
from appmult.core.artifact import Artifact, TuningRecord  # noqa: E402
from appmult.core.artifact_file import load, save  # noqa: E402
from appmult.core.errors import ParameterError  # noqa: E402
from appmult.core.operands import operand_values  # noqa: E402
from appmult.lutgen import gradient_tables  # noqa: E402
from appmult.lutgen.methods import GradientParameters  # noqa: E402
from appmult.retrain import approx_layers, convert, freeze_ranges  # noqa: E402
from appmult.retrain.datasets import load_data  # noqa: E402
from appmult.retrain.demo import DemoConfig, DemoResult  # noqa: E402
from appmult.retrain.report import format_table, gain_figure, summarize, write_results  # noqa: E402
from appmult.retrain.runs import (  # noqa: E402
    FloatStart,
    GradientSpec,
    RunResult,
    Setting,
    check_spec,
    float_start,
    parse_kinds,
    retrain_job,
    retrain_run,
    table_for,
)
from appmult.retrain.training import calibrate  # noqa: E402
from appmult.retrain.tuning import recommend, tune_hws  # noqa: E402

TINY = Setting(network="small", epochs=1, float_epochs=3, float_lr=3e-3, batch_size=32, calibration_batches=2)


def truncated(width: int = 6, cleared: int = 4, name: str = "trunc") -> Artifact:
    """The exact unsigned width x width product with its low ``cleared`` bits set to 0."""
    values = operand_values(width, False).astype(np.int64)
    product = np.outer(values, values) >> cleared << cleared
    return Artifact(
        name=name, top=name, width_a=width, width_b=width, width_out=2 * width, signed_a=False,
        signed_b=False, product=product,
    )  # fmt: skip


@pytest.fixture(scope="module")
def npz_data(tmp_path_factory) -> str:
    """Three classes of 8x8 images (row, column, diagonal stripe) with noise, as uint8 pixels."""
    rng = np.random.default_rng(0)
    images, labels = [], []
    for index in range(240):
        label = index % 3
        image = rng.integers(0, 60, size=(8, 8))
        where = rng.integers(1, 7)
        if label == 0:
            image[where] += 180
        elif label == 1:
            image[:, where] += 180
        else:
            image[np.arange(8), np.arange(8)] += 180
        images.append(image)
        labels.append(label)
    path = tmp_path_factory.mktemp("data") / "stripes.npz"
    np.savez(path, x=np.clip(images, 0, 255).astype(np.uint8), y=np.array(labels))
    return str(path)


# ---------------------------------------------------------------- range policies


class TwoLayers(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(4, 6)
        self.second = nn.Linear(6, 3)

    def forward(self, x):  # noqa: ANN001, ANN201
        return self.second(torch.relu(self.first(x)) * 3.0)


def _ranges_after_training(policy: str) -> tuple[np.ndarray, np.ndarray]:
    torch.manual_seed(0)
    model = convert(TwoLayers(), truncated(), "ste", ranges=policy)
    calibrate(model, torch.rand(64, 4), batch_size=16, batches=4)
    calibrated = model.second.act_range.clone().numpy()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    model.train()
    for _ in range(5):
        optimizer.zero_grad()
        model(4 * torch.rand(16, 4)).pow(2).mean().backward()  # inputs beyond the calibrated range
        optimizer.step()
    return calibrated, model.second.act_range.numpy()


def test_frozen_ranges_do_not_change_during_training() -> None:
    calibrated, trained = _ranges_after_training("frozen")
    np.testing.assert_array_equal(trained, calibrated)


def test_moving_ranges_change_during_training() -> None:
    calibrated, trained = _ranges_after_training("moving")
    assert trained[1] > calibrated[1]


def test_frozen_is_the_default_and_an_uncalibrated_layer_keeps_its_first_training_range() -> None:
    model = convert(TwoLayers(), truncated(), "ste")
    assert {model.first.ranges, model.second.ranges} == {"frozen"}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    first = torch.rand(16, 4)
    for scale in (1.0, 5.0, 9.0):  # later batches reach far beyond the first one's range
        optimizer.zero_grad()
        model(scale * first).pow(2).mean().backward()
        optimizer.step()
        if scale == 1.0:
            kept = model.first.act_range.clone()
    lo, hi = torch.aminmax(first)
    np.testing.assert_array_equal(kept.numpy(), [lo.item(), hi.item()])
    np.testing.assert_array_equal(model.first.act_range.numpy(), kept.numpy())


def test_freeze_ranges_switches_every_layer_and_calibration_still_sets_them() -> None:
    model = freeze_ranges(convert(TwoLayers(), truncated(), "ste", ranges="moving"))
    assert {model.first.ranges, model.second.ranges} == {"frozen"}
    calibrate(model, torch.rand(32, 4) + 1.0, batch_size=16, batches=2)
    assert model.first.act_range[0] >= 1.0  # set by the no-gradient passes


# ---------------------------------------------------------------- gradient kinds and settings


def test_parse_kinds_and_labels() -> None:
    specs = parse_kinds("ste, lut2d,lut1d,lut1d:separable:3,lut1d:mean")
    assert [s.label for s in specs] == [
        "STE", "LUT-2D", "LUT-1D separable r2", "LUT-1D separable r3", "LUT-1D mean",
    ]  # fmt: skip
    assert specs[4] == GradientSpec("lut1d", form="mean", rank=1)
    for bad, message in (
        ("lut3d", "expected one of ste, lut2d, lut1d"),
        ("lut1d:median", "unknown LUT-1D form"),
        ("", "no gradient"),
    ):
        with pytest.raises(ParameterError, match=message):
            parse_kinds(bad)


def test_settings_are_checked() -> None:
    for change, message in (
        ({"epochs": 0}, "epochs must be at least 1"),
        ({"lr": 0.0}, "lr must be positive"),
        ({"layers": ()}, "choose one or more of conv, linear"),
        ({"network": "vgg"}, "unknown network 'vgg'"),
        ({"threads": 0}, "threads must be at least 1"),
    ):
        with pytest.raises(ParameterError, match=message):
            dataclasses.replace(TINY, **change).check()


def test_a_cuda_run_asks_the_cluster_for_a_gpu() -> None:
    start = FloatStart(0, {}, 0.0)
    for device, resources in (("cuda", {"GPU": 1}), ("cpu", {})):
        job = retrain_job(
            "k",
            dataclasses.replace(TINY, device=device),
            None,
            start,
            truncated(),
            GradientSpec("ste"),
            "moving",
        )
        assert job.resources == resources and job.function is retrain_run


# ---------------------------------------------------------------- one run


def test_a_run_is_a_pure_function_of_its_inputs(npz_data) -> None:
    """Same seed, same inputs: the same losses and accuracies, to the bit."""
    data = load_data(npz_data)
    start = float_start(TINY, data, seed=0)
    assert start.accuracy > 0.6  # the stripes are learnable
    artifact = truncated()
    runs = [retrain_run(TINY, data, start, artifact, GradientSpec("lut2d", hws=(2, 2))) for _ in range(2)]
    assert dataclasses.replace(runs[0], seconds_per_epoch=0) == dataclasses.replace(
        runs[1], seconds_per_epoch=0
    )
    assert runs[0].hws == (2, 2) and runs[0].kind == "LUT-2D" and len(runs[0].losses) == TINY.epochs
    assert 0 <= runs[0].before <= 1 and 0 <= runs[0].after <= 1


def test_a_run_uses_the_tuned_half_window_when_there_is_a_record(npz_data) -> None:
    data = load_data(npz_data)
    start = float_start(TINY, data, seed=0)
    record = tune_hws(
        truncated(), grid=(1, 3), data=npz_data, seeds=1, setting=TINY, scheduler="processes", workers=1
    )
    artifact = truncated()
    artifact.tuning = record
    run = retrain_run(TINY, data, start, artifact, GradientSpec("lut1d", form="separable", rank=1))
    assert run.hws == (record.hws_a, record.hws_b)


# ---------------------------------------------------------------- tune-hws


def test_tune_hws_picks_the_smallest_mean_loss_and_is_deterministic(npz_data) -> None:
    options = {"grid": (1, 2, 4), "data": npz_data, "seeds": 2, "setting": TINY}
    here = tune_hws(truncated(), scheduler="processes", workers=1, **options)  # in this process
    pool = tune_hws(truncated(), scheduler="processes", workers=2, **options)  # in worker processes
    assert here == pool
    losses = np.array(here.train_loss)
    # the grid, then STE, then LUT-1D separable r2 at the chosen h
    assert here.kinds == ("lut2d", "lut2d", "lut2d", "ste", "lut1d")
    assert losses.shape == (5, 2) and np.array(here.test_accuracy).shape == (5, 2)
    best = here.grid[int(np.argmin(losses[:3].mean(axis=1)))]
    assert (here.hws_a, here.hws_b) == best
    assert here.grid[3] == (0, 0) and here.grid[4] == best
    assert here.recommended in ("ste", "lut2d", "lut1d") and here.verdict
    assert here.settings["range_policy"] == "frozen" and here.settings["seeds"] == 2


@pytest.mark.parametrize(
    ("table", "ste", "expected"),
    [
        ((0.40, 0.42, 0.41), (0.50, 0.52, 0.51), "lut2d"),  # lower by 0.10 on every seed
        ((0.40, 0.60, 0.45), (0.50, 0.52, 0.51), "ste"),  # lower on average, but inside the spread
        ((0.5, 0.52, 0.5099), (0.5, 0.52, 0.51), "ste"),  # lower on every seed, by a tie
        ((0.55, 0.57, 0.56), (0.50, 0.52, 0.51), "ste"),  # worse
    ],
)
def test_recommendation_rule(table, ste, expected) -> None:
    candidates = [GradientSpec("lut2d", hws=(2, 2)), GradientSpec("ste")]
    recommended, verdict = recommend(candidates, np.array([table, ste]), best_lut2d=0)
    assert recommended == expected
    assert verdict.startswith("no table beats STE" if expected == "ste" else "LUT-2D beats STE")
    paired = np.subtract(table, ste)
    assert f"{paired.mean():+.4f} ± {paired.std(ddof=1):.4f}" in verdict  # the paired figures, as defined


def negated(width: int = 6) -> Artifact:
    """A signed multiplier computing -a*b: STE's gradient points the wrong way everywhere."""
    values = operand_values(width, True).astype(np.int64)
    return Artifact(
        name="negated", top="negated", width_a=width, width_b=width, width_out=2 * width, signed_a=True,
        signed_b=True, product=-np.outer(values, values),
    )  # fmt: skip


def exact(width: int = 6) -> Artifact:
    values = operand_values(width, False).astype(np.int64)
    return Artifact(
        name="exact", top="exact", width_a=width, width_b=width, width_out=2 * width, signed_a=False,
        signed_b=False, product=np.outer(values, values),
    )  # fmt: skip


def test_tune_hws_recommends_ste_when_no_table_can_beat_it(npz_data) -> None:
    """On an exact multiplier the tables are STE away from the edge bands: no table wins."""
    record = tune_hws(exact(), grid=(2,), data=npz_data, seeds=3, setting=TINY, workers=1)
    assert record.recommended == "ste" and record.verdict.startswith("no table beats STE")


def test_tune_hws_recommends_a_table_when_ste_points_the_wrong_way(npz_data) -> None:
    """On -a*b STE's gradient has the wrong sign; LUT-2D's differences have the right one.

    Measured with this setting: final losses 0.68 and 0.72 (LUT-2D) against 0.85 and 0.88 (STE).
    """
    setting = TINY.changed(float_epochs=20, epochs=2, lr=2e-3)
    record = tune_hws(negated(), grid=(2,), data=npz_data, seeds=2, setting=setting, workers=1)
    losses = np.array(record.train_loss)
    assert losses[0].mean() < losses[1].mean()  # LUT-2D below STE, as the construction demands
    assert record.recommended in ("lut2d", "lut1d") and "beats STE" in record.verdict


def test_tune_hws_per_operand_searches_every_pair(npz_data) -> None:
    record = tune_hws(
        truncated(), grid=(1, 2), per_operand=True, data=npz_data, seeds=1, setting=TINY, workers=1
    )
    assert record.grid[:4] == ((1, 1), (1, 2), (2, 1), (2, 2))
    assert record.kinds[4:] == ("ste", "lut1d") and record.grid[5] == (record.hws_a, record.hws_b)


def test_tune_hws_cli_writes_the_record_and_lutgen_auto_uses_it(tmp_path, npz_data) -> None:
    path = save(truncated(), tmp_path / "trunc.h5")
    runner = CliRunner()
    untuned = runner.invoke(cli, ["lutgen", str(path), "--hws", "auto", "-q"])
    assert untuned.exit_code == 1 and "no tuning record; run appmult tune-hws" in str(untuned.exception)
    args = ["tune-hws", str(path), "--grid", "1,4", "--data", npz_data, "--seeds", "1", "--epochs", "1",
            "--float-epochs", "2", "--ranges", "frozen", "-j", "1"]  # fmt: skip
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    record = load(path).tuning
    assert record is not None and record.grid[:2] == ((1, 1), (4, 4)) and record.kinds[:2] == ("lut2d",) * 2
    assert record.settings["range_policy"] == "frozen" and record.settings["data"] == npz_data
    assert f"hws_a={record.hws_a}, hws_b={record.hws_b}" in result.output
    assert "<- chosen h" in result.output and "wrote a tuning record" in result.output
    assert f"recommended {record.recommended}: " in result.output
    assert runner.invoke(cli, ["lutgen", str(path), "--hws", "auto", "-q"]).exit_code == 0
    groups = load(path).gradients
    assert groups["lut2d"].attrs["hws_a"] == record.hws_a
    assert groups["lut1d"].attrs["hws_b"] == record.hws_b
    info = runner.invoke(cli, ["info", str(path)])
    assert "range_policy=frozen" in info.output and "<- chosen" in info.output
    again = runner.invoke(cli, args)
    assert "replaced the tuning record" in again.output


# ---------------------------------------------------------------- the benchmark and its summary


def test_benchmark_on_an_artifact_file_through_the_cli(tmp_path, npz_data) -> None:
    path = save(truncated(name="evo_like"), tmp_path / "evo_like.h5")
    out = tmp_path / "out"
    args = ["retrain-demo", "--multipliers", str(path), "--kinds", "ste,lut2d,lut1d:separable:1,lut1d:mean",
            "--ranges", "moving,frozen", "--data", npz_data, "--network", "small", "--seeds", "2",
            "--epochs", "1", "--float-epochs", "3", "--hws", "2", "-j", "2", "-o", str(out)]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("evo_like: exact multiplier") for line in lines)
    table = [line.split("  ")[0:2] for line in lines if line.startswith(("moving", "frozen"))]
    assert len(table) == 8
    with open(out / "retrain_demo.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["ranges"], r["kind"]) for r in rows] == [
        (policy, kind) for policy in ("moving", "frozen")
        for kind in ("STE", "LUT-2D", "LUT-1D separable r1", "LUT-1D mean")
    ]  # fmt: skip
    assert {r["hws"] for r in rows} == {"-", "2"}
    with open(out / "retrain_demo_runs.csv") as handle:
        runs = list(csv.DictReader(handle))
    assert len(runs) == 2 * 2 * 4
    for row in rows:
        own = [r for r in runs if (r["ranges"], r["kind"]) == (row["ranges"], row["kind"])]
        ste = {
            r["seed"]: float(r["after"]) for r in runs if (r["ranges"], r["kind"]) == (row["ranges"], "STE")
        }
        gains = [float(r["after"]) - ste[r["seed"]] for r in own]
        if row["kind"] != "STE":
            assert float(row["gain_mean"]) == pytest.approx(np.mean(gains))
            assert float(row["gain_std"]) == pytest.approx(np.std(gains, ddof=1))
            assert int(row["positive_seeds"]) == sum(g > 0 for g in gains)
    assert (out / "retrain_demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _result(afters: dict[str, list[float]]) -> DemoResult:
    config = DemoConfig(
        data="x", multipliers=("m",), kinds=parse_kinds("ste,lut2d"), policies=("moving",), seeds=3
    )
    runs = tuple(
        RunResult("m", kind, "moving", seed, 0.9, 0.8, 0.5, after, 0.1, 2.0 if kind == "STE" else 5.0, (0, 0))
        for kind, values in afters.items()
        for seed, after in enumerate(values)
    )
    return DemoResult(config, runs)


def test_summary_pairs_gains_by_seed() -> None:
    """Gains are differences on the same seed: a kind one point above STE on every seed has gain
    +1 ± 0 whatever the seed-to-seed spread of the accuracies themselves."""
    result = _result({"STE": [0.70, 0.80, 0.90], "LUT-2D": [0.71, 0.81, 0.91]})
    ste, lut2d = summarize(result)
    assert ste.gain is None and ste.slowdown == 1.0
    assert lut2d.gain.mean == pytest.approx(0.01) and lut2d.gain.std == pytest.approx(0.0, abs=1e-12)
    assert lut2d.positive == 3 and lut2d.after.std == pytest.approx(0.1)
    assert lut2d.slowdown == pytest.approx(2.5)
    text = format_table(result)
    assert "+1.0 ± 0.0" in text and "3/3" in text and "2.50" in text


def test_plot_panels_share_one_gain_scale() -> None:
    """A policy where a kind gains 0.1 point is drawn on the scale of one where it gains 20."""
    moving = _result({"STE": [0.70, 0.60, 0.65], "LUT-2D": [0.90, 0.80, 0.85]})
    frozen = [
        dataclasses.replace(run, ranges="frozen", after=0.95 + (0.001 if run.kind != "STE" else 0))
        for run in moving.runs
    ]
    result = DemoResult(
        dataclasses.replace(moving.config, policies=("moving", "frozen")), moving.runs + tuple(frozen)
    )
    panels = gain_figure(result).axes
    assert [axes.get_title() for axes in panels] == ["m, moving ranges", "m, frozen ranges"]
    assert panels[0].get_ylim() == panels[1].get_ylim()
    low, high = panels[1].get_ylim()
    assert low <= 0 and high >= 20  # the 20-point gains set the frozen panel's scale too


def test_summary_files_are_written(tmp_path) -> None:
    paths = write_results(_result({"STE": [0.7, 0.8, 0.9], "LUT-2D": [0.6, 0.85, 0.9]}), tmp_path / "o")
    assert [p.name for p in paths] == ["retrain_demo.csv", "retrain_demo_runs.csv", "retrain_demo.png"]
    with open(paths[1]) as handle:
        first = next(csv.DictReader(handle))
    assert first["hws"] == "0,0" and first["losses"] == ""


def test_quick_demo_through_the_cli(tmp_path) -> None:
    """`appmult retrain-demo --quick`: characterizes mul8u_trunc8, trains, retrains, writes files."""
    pytest.importorskip("sklearn")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["retrain-demo", "--quick", "--artifacts", str(tmp_path / "arts"), "-o", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "arts" / "mul8u_trunc8.h5").is_file()
    lines = result.output.splitlines()
    assert lines[0].startswith("data digits (pooled 1x1), network small (conv+linear on the multiplier)")
    assert [line.split()[1] for line in lines if line.startswith("moving")] == ["STE", "LUT-2D", "LUT-1D"]
    assert len((out / "retrain_demo_runs.csv").read_text().splitlines()) == 1 + 3
    again = CliRunner().invoke(
        cli, ["retrain-demo", "--quick", "--artifacts", str(tmp_path / "arts"), "-o", str(out)]
    )
    assert again.exit_code == 0, again.output
    assert "trained 0 of 3 runs and 0 float starts; the others were on record" in again.stderr
    said = [line for line in again.stderr.splitlines() if "retrain_demo" in line and "record" not in line]
    assert said == [
        f"replaced {out / name}" for name in ("retrain_demo.csv", "retrain_demo_runs.csv", "retrain_demo.png")
    ]


# ---------------------------------------------------------------- one source of truth for a table


def test_a_run_uses_the_table_stored_in_the_artifact_unless_told_otherwise() -> None:
    artifact = truncated()
    stored = gradient_tables(artifact, "lut2d", GradientParameters(hws_a=8, hws_b=8))["lut2d"]
    artifact.gradients["lut2d"] = stored
    table, spec, hws, origin = table_for(artifact, GradientSpec("lut2d"))
    assert table.gradients["lut2d"] is stored and hws == (8, 8) and origin == "stored (given)"
    table, spec, hws, origin = table_for(artifact, GradientSpec("lut2d", hws=(2, 2)))
    assert hws == (2, 2) and origin == "computed (given)"
    # a LUT-1D kind whose form differs from the stored group's is computed with the default rule
    artifact.gradients["lut1d"] = gradient_tables(artifact, "lut1d", GradientParameters(form="mean"))["lut1d"]
    table, spec, hws, origin = table_for(artifact, GradientSpec("lut1d", form="separable", rank=2))
    assert table.gradients["lut1d"].attrs["form"] == "separable"
    assert origin.startswith("computed (power of two nearest sqrt(MED)")
    _, _, _, origin = table_for(artifact, GradientSpec("lut1d", form="mean", rank=1))
    assert origin.startswith("stored")
    artifact.gradients["lut2d"] = gradient_tables(
        artifact, "lut2d", GradientParameters(hws_a=2, hws_b=2, window="adaptive")
    )["lut2d"]
    _, _, hws, origin = table_for(artifact, GradientSpec("lut2d"))
    assert hws == (2, 2) and origin == "stored (given, adaptive window)"


def test_auto_is_the_recommended_kind_and_needs_a_record() -> None:
    artifact = truncated()
    with pytest.raises(ParameterError, match="gradient 'auto' uses the kind `appmult tune-hws` recommends"):
        check_spec(artifact, GradientSpec("auto"))
    artifact.tuning = TuningRecord(
        2, 2, ((2, 2), (0, 0)), ((0.5,), (0.4,)), ((0.9,), (0.9,)), "rule",
        kinds=("lut2d", "ste"), recommended="ste", verdict="no table beats STE",
    )  # fmt: skip
    _, spec, hws, origin = table_for(artifact, GradientSpec("auto"))
    assert spec.method == "ste" and hws == (0, 0) and origin == "computed"
    model = convert(nn.Sequential(nn.Flatten(), nn.Linear(36, 3)), artifact, gradient="auto")
    assert {layer.gradient for layer in approx_layers(model)} == {"ste"}
