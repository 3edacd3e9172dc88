"""The multiplier panel of ``retrain-demo``: kinds with their own half-window, the record of finished
runs that lets a benchmark resume, and the gain-against-NMED summary.

The end-to-end cases run the real command on real EvoApprox netlists
(``tests/fixtures/evoapprox``, characterized with bitsim) in the quick
setting; the resume case runs the library on 6x6-bit tables made from numpy
and interrupts it with Ctrl-C (a KeyboardInterrupt from its progress
callback) after two runs.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from click.testing import CliRunner  # noqa: E402

from appmult.cli import cli, main  # noqa: E402
from appmult.cli.retrain import PANEL_FOLDER, panel_netlists  # noqa: E402
from appmult.core.artifact import TuningRecord  # noqa: E402
from appmult.core.errors import ParameterError  # noqa: E402
from appmult.core.executor import Interrupted  # noqa: E402
from appmult.retrain.cache import RUNS_FILE, RunStore, run_key, start_key  # noqa: E402
from appmult.retrain.demo import DemoConfig, kind_label, parse_kinds, run_demo  # noqa: E402
from appmult.retrain.report import summarize, write_results  # noqa: E402
from appmult.retrain.runs import GradientSpec, RunResult  # noqa: E402
from tests.test_retrain_runs import TINY, npz_data, truncated  # noqa: E402, F401 - npz_data is a fixture

REPOSITORY = Path(__file__).resolve().parents[1]
EVOAPPROX = REPOSITORY / PANEL_FOLDER


# ---------------------------------------------------------------- kinds


def test_a_kind_may_fix_its_own_half_window() -> None:
    specs = parse_kinds("ste, lut2d@default, lut2d@auto, lut2d@8, lut1d:separable:2@3, lut1d:mean")
    assert [kind_label(spec) for spec in specs] == [
        "STE", "LUT-2D h=default", "LUT-2D h=auto", "LUT-2D h=8", "LUT-1D separable r2 h=3", "LUT-1D mean",
    ]  # fmt: skip
    assert specs[3] == GradientSpec("lut2d", hws=(8, 8)) and specs[1].hws == ("default", "default")
    for bad, message in (
        ("ste@4", "STE uses no half-window"),
        ("lut1d:lsq@2", "LUT-1D lsq uses no half-window"),
        ("lut2d@wide", "the half-window after @ is an integer, auto or default"),
        ("lut2d,lut2d", "LUT-2D is given twice"),
        (",", "no gradient kind given"),
    ):
        with pytest.raises(ParameterError, match=message):
            parse_kinds(bad)


# ---------------------------------------------------------------- keys and the record


def test_a_run_key_changes_with_each_input_it_covers() -> None:
    artifact, spec = truncated(), GradientSpec("lut2d", hws=(2, 2))
    start = start_key(TINY, "data", 0)
    base = run_key(start, TINY, artifact, spec, "frozen")
    assert base == run_key(start, TINY, truncated(), spec, "frozen")  # a pure function of the inputs
    changed_product = truncated()
    changed_product.product[5, 7] += 1
    tuned = truncated()
    tuned.tuning = TuningRecord(2, 2, ((2, 2),), ((0.5,),), ((0.9,),), "smallest mean loss")
    for other in (
        run_key(start_key(TINY, "other data", 0), TINY, artifact, spec, "frozen"),
        run_key(start_key(TINY, "data", 1), TINY, artifact, spec, "frozen"),
        run_key(
            start_key(dataclasses.replace(TINY, float_lr=1e-2), "data", 0), TINY, artifact, spec, "frozen"
        ),
        run_key(start, dataclasses.replace(TINY, epochs=2), artifact, spec, "frozen"),
        run_key(start, TINY, artifact, spec, "observer"),
        run_key(start, TINY, changed_product, spec, "frozen"),
        run_key(start, TINY, artifact, GradientSpec("lut2d", hws=(3, 3)), "frozen"),
    ):
        assert other != base
    # retraining settings do not touch the float start; STE's table depends on the product alone
    assert start_key(dataclasses.replace(TINY, epochs=2, lr=1.0), "data", 0) == start
    ste = GradientSpec("ste")
    assert run_key(start, TINY, tuned, ste, "frozen") == run_key(start, TINY, artifact, ste, "frozen")


def test_a_tuning_record_or_stored_table_changes_only_the_keys_of_runs_that_read_them() -> None:
    from appmult.lutgen import gradient_tables
    from appmult.lutgen.methods import GradientParameters

    start = start_key(TINY, "data", 0)
    plain, tuned, stored = truncated(), truncated(), truncated()
    for artifact in (tuned, stored):
        artifact.tuning = TuningRecord(
            2, 2, ((2, 2), (0, 0)), ((0.5,), (0.6,)), ((0.9,), (0.8,)), "smallest mean loss",
            kinds=("lut2d", "ste"), recommended="lut2d", verdict="LUT-2D beats STE",
        )  # fmt: skip
    stored.gradients.update(gradient_tables(stored, "lut2d", GradientParameters(hws_a=8, hws_b=8)))
    specs = dict(
        zip(("lut2d@2", "lut2d", "lut2d@auto"), parse_kinds("lut2d@2,lut2d,lut2d@auto"), strict=True)
    )
    keys = {
        text: [run_key(start, TINY, a, spec, "frozen") for a in (plain, tuned, stored)]
        for text, spec in specs.items()
    }
    keys["auto"] = [run_key(start, TINY, a, GradientSpec("auto"), "frozen") for a in (tuned, stored)]
    # given half-windows: the table comes from the product alone, whatever was tuned or stored since
    assert len(set(keys["lut2d@2"])) == 1
    # no half-window: the stored table, else the tuned h, else the default; each is a new table
    assert len(set(keys["lut2d"])) == 3
    # auto: the record's h (a stored table is not read); the recommended kind: its stored table too
    assert keys["lut2d@auto"][1] == keys["lut2d@auto"][2] != keys["lut2d@auto"][0]
    assert keys["auto"][0] != keys["auto"][1]


def test_the_record_survives_a_line_cut_short(tmp_path) -> None:
    store = RunStore(tmp_path)
    run = RunResult("m", "STE", "frozen", 0, 0.9, 0.8, 0.5, 0.7, 0.1, 2.0, (0, 0), (0.3,))
    store.add_run("a", {}, run)
    with open(tmp_path / RUNS_FILE, "a") as handle:
        handle.write('{"key": "b", "result": {"multiplier"')  # the machine stopped mid-line
    again = RunStore(tmp_path)
    assert len(again) == 1 and again.run("a") == run and again.run("b") is None
    again.add_run("c", {}, dataclasses.replace(run, seed=1))
    lines = (tmp_path / RUNS_FILE).read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[2])["key"] == "c"
    assert set(RunStore(tmp_path)._runs) == {"a", "c"}


# ---------------------------------------------------------------- resuming


def _config(data: str) -> DemoConfig:
    return DemoConfig(
        data=data, pool=1, multipliers=("t4", "t2"), kinds=parse_kinds("ste,lut2d@2"), policies=("frozen",),
        seeds=2, setting=TINY,
    )  # fmt: skip


def test_an_interrupted_benchmark_resumes_as_if_uninterrupted(tmp_path, npz_data) -> None:  # noqa: F811
    artifacts = {"t4": truncated(name="t4"), "t2": truncated(cleared=2, name="t2")}
    config = _config(npz_data)
    reported = []

    def ctrl_c_at_the_third_run(fraction: float) -> None:
        reported.append(fraction)
        if len(reported) == 2 + 3:  # two float starts, then runs: Ctrl-C as the third is reported
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as stopped:
        run_demo(
            config, artifacts, workers=1, progress=ctrl_c_at_the_third_run, store=RunStore(tmp_path / "a")
        )
    kept = RunStore(tmp_path / "a")
    assert len(kept) == len(stopped.value.finished) == 2 and len(stopped.value.unfinished) == 6
    assert len(list((tmp_path / "a" / "float_starts").glob("*.npz"))) == 2
    resumed = run_demo(config, artifacts, workers=1, store=RunStore(tmp_path / "a"))
    assert (resumed.trained, resumed.started) == (6, 0)
    fresh = run_demo(config, artifacts, workers=1, store=RunStore(tmp_path / "b"))
    assert (fresh.trained, fresh.started) == (8, 2)

    def untimed(runs: tuple[RunResult, ...]) -> list[RunResult]:
        return [dataclasses.replace(run, seconds_per_epoch=0.0) for run in runs]

    assert untimed(resumed.runs) == untimed(fresh.runs)
    assert [run.kind for run in fresh.runs[:2]] == ["STE", "LUT-2D h=2"]
    finished = run_demo(config, artifacts, workers=1, store=RunStore(tmp_path / "a"))
    assert (finished.trained, finished.started) == (0, 0) and finished.runs == resumed.runs


# ---------------------------------------------------------------- the command


def _invoke(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def test_a_tiny_panel_run_twice_trains_nothing_the_second_time(tmp_path) -> None:
    pytest.importorskip("sklearn")
    netlists = ",".join(str(EVOAPPROX / name) for name in ("mul8u_L40.v", "mul8s_1L2D.v"))
    out = tmp_path / "out"
    args = ["retrain-demo", "--quick", "--multipliers", netlists, "--kinds", "ste,lut2d@default,lut2d@8",
            "--ranges", "frozen", "--artifacts", str(tmp_path / "arts"), "-o", str(out),
            "-j", "1"]  # fmt: skip
    code, first = _invoke(args)
    assert code == 0, first
    assert "digits: trained 6 of 6 runs and 1 float starts" in first
    assert sorted(p.name for p in (tmp_path / "arts").iterdir()) == ["mul8s_1L2D.h5", "mul8u_L40.h5"]
    written = {name: (out / name).read_bytes() for name in ("retrain_demo.csv", "retrain_demo_runs.csv")}
    record = (out / RUNS_FILE).read_bytes()
    code, second = _invoke(args)
    assert code == 0, second
    assert (
        "6 finished runs on record" in second and "digits: trained 0 of 6 runs and 0 float starts" in second
    )
    assert "characterizing" not in second
    assert {name: (out / name).read_bytes() for name in written} == written
    assert (out / RUNS_FILE).read_bytes() == record
    with open(out / "retrain_demo.csv") as handle:
        rows = list(csv.DictReader(handle))
    # the default h of each: the power of two nearest sqrt(MED), MED 1011 -> 32 and 149.8 -> 16
    default = {"mul8u_L40": "32", "mul8s_1L2D": "16"}
    assert {(r["multiplier"], r["kind"], r["hws"]) for r in rows} == {
        (name, kind, hws or default[name]) for name in ("mul8u_L40", "mul8s_1L2D")
        for kind, hws in (("STE", "-"), ("LUT-2D h=default", None), ("LUT-2D h=8", "8"))
    }  # fmt: skip
    nmed = {r["multiplier"]: float(r["nmed"]) for r in rows}
    assert nmed["mul8u_L40"] == pytest.approx(0.0154, abs=5e-5)  # the header's MAE% = 1.54 %
    assert nmed["mul8s_1L2D"] == pytest.approx(0.0023, abs=5e-5)  # 0.23 %
    assert (out / "retrain_demo_nmed.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_panel_is_the_fifteen_evoapprox_8x8_netlists() -> None:
    names = [path.stem for path in panel_netlists(EVOAPPROX)]
    assert len(names) == 15 and all(re.fullmatch(r"mul8[us]_\w+", name) for name in names)
    assert sum(name.startswith("mul8s_") for name in names) == 4
    assert (EVOAPPROX / "LICENSE.md").is_file()


def _one_line_error(argv: list[str], capsys) -> str:  # noqa: ANN001
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    out, err = capsys.readouterr()
    assert exit_info.value.code == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in out + err
    return lines[0]


def test_an_empty_panel_is_one_line(tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)  # no tests/fixtures/evoapprox here
    line = _one_line_error(["retrain-demo", "--panel", "-o", str(out), "-q"], capsys)
    assert re.search(r"--panel: tests/fixtures/evoapprox holds no EvoApprox 8x8 netlists", line), line
    (tmp_path / "empty").mkdir()
    line = _one_line_error(["retrain-demo", "--multipliers", str(tmp_path / "empty"), "-o", str(out)], capsys)
    assert line.endswith("empty: no Verilog netlists (*.v) in this folder"), line
    assert not out.exists()


def test_an_artifact_from_another_netlist_is_not_taken(tmp_path, capsys) -> None:
    arts = tmp_path / "arts"
    arts.mkdir()
    (arts / "mul8u_L40.h5").write_bytes(
        (REPOSITORY / "tests/fixtures/artifacts/mul6u_trunc4_v1.h5").read_bytes()
    )
    args = ["retrain-demo", "--multipliers", str(EVOAPPROX / "mul8u_L40.v"), "--artifacts", str(arts)]
    line = _one_line_error([*args, "-o", str(tmp_path / "out"), "-q"], capsys)
    assert "mul8u_L40.h5: was not characterized from" in line and "remove the artifact" in line


# ---------------------------------------------------------------- summary


def _two_multipliers(data: str):  # noqa: ANN202 - a DemoResult, imported with torch
    """Multiplier b gains 10 points with LUT-2D on both seeds and policies, a gains nothing."""
    from appmult.retrain.demo import DemoResult

    config = DemoConfig(data=data, multipliers=("a", "b"), kinds=parse_kinds("ste,lut2d"),
                        policies=("frozen", "observer"), seeds=2)  # fmt: skip
    runs = tuple(
        RunResult(name, kind, policy, seed, 0.9, 0.9, 0.5,
                  0.6 + 0.1 * (kind != "STE") * (name == "b") + 0.01 * seed, 0.1, 1.0 + seed)
        for seed in range(2) for name in ("a", "b") for policy in ("frozen", "observer")
        for kind in ("STE", "LUT-2D")
    )  # fmt: skip
    return DemoResult(config, runs, {"a": 0.001, "b": 0.02})


def test_the_nmed_figure_has_one_panel_per_data_set_and_policy() -> None:
    from appmult.retrain.report import nmed_figure

    results = [_two_multipliers("mnist"), _two_multipliers("animal-mnist")]
    axes = [a for a in nmed_figure(results).axes if a.get_visible()]
    assert [a.get_title() for a in axes] == [
        "mnist, frozen ranges", "mnist, observer ranges", "animal-mnist, frozen ranges",
        "animal-mnist, observer ranges",
    ]  # fmt: skip
    assert all(a.get_xscale() == "log" for a in axes)
    lines = axes[0].get_lines()
    points = [line for line in lines if len(line.get_xdata()) == 2]  # the LUT-2D markers
    np.testing.assert_allclose(np.asarray(points[0].get_xdata(), float), [0.1, 2.0])  # NMED in %
    np.testing.assert_allclose(np.asarray(points[0].get_ydata(), float), [0.0, 10.0])  # gain in points
    rows = summarize(results[1])
    assert {row.data for row in rows} == {"animal-mnist"} and rows[0].nmed == 0.001


def test_the_summary_csv_reads_back_as_the_rows_it_was_written_from(tmp_path) -> None:
    from appmult.retrain.report import nmed_panels_figure, read_summary

    results = [_two_multipliers("mnist"), _two_multipliers("animal-mnist")]
    write_results(results, tmp_path / "both")
    write_results(results[1], tmp_path / "animal")
    read = read_summary(tmp_path / "both" / "retrain_demo.csv")
    written = [row for result in results for row in summarize(result)]
    assert len(read) == len(written) == 16
    for got, want in zip(read, written, strict=True):
        assert dataclasses.replace(got, seconds=None) == dataclasses.replace(want, seconds=None)
        assert got.seconds.mean == want.seconds.mean == 1.5 and np.isnan(got.seconds.std)
    b_gain = next(row for row in read if (row.multiplier, row.kind) == ("b", "LUT-2D"))
    assert b_gain.gain.mean == pytest.approx(0.1) and b_gain.positive == 2 and b_gain.nmed == 0.02
    # rows of two benchmarks' files draw one figure, one panel per data set and policy
    rows = read_summary(tmp_path / "both" / "retrain_demo.csv")[:8] + read_summary(
        tmp_path / "animal" / "retrain_demo.csv"
    )
    titles = [a.get_title() for a in nmed_panels_figure(rows).axes if a.get_visible()]
    assert titles == ["mnist, frozen ranges", "mnist, observer ranges", "animal-mnist, frozen ranges",
                      "animal-mnist, observer ranges"]  # fmt: skip


def test_an_edited_summary_csv_is_a_one_line_error(tmp_path) -> None:
    from appmult.retrain.report import read_summary

    path = write_results(_two_multipliers("mnist"), tmp_path)[0]
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1].replace(",0.9,", ",ninety,", 1), *lines[2:]]) + "\n")
    with pytest.raises(ParameterError, match=r"retrain_demo.csv: exact_mean of a is 'ninety', not a number"):
        read_summary(path)
    path.write_text("data,multiplier\nmnist,a\n")
    with pytest.raises(ParameterError, match=r"not a retrain-demo summary \(no nmed, ranges, kind"):
        read_summary(path)


def test_results_of_several_data_sets_share_one_file(tmp_path) -> None:
    from appmult.retrain.demo import DemoResult

    config = DemoConfig(data="mnist", multipliers=("a",), kinds=parse_kinds("ste"), policies=("frozen",))
    run = RunResult("a", "STE", "frozen", 0, 0.9, 0.9, 0.5, 0.7, 0.1, 1.0)
    results = [DemoResult(config, (run,)), DemoResult(dataclasses.replace(config, data="x.npz"), (run,))]
    paths = write_results(results, tmp_path)
    assert [p.name for p in paths] == ["retrain_demo.csv", "retrain_demo_runs.csv", "retrain_demo.png"]
    with open(paths[1]) as handle:
        assert [row["data"] for row in csv.DictReader(handle)] == ["mnist", "x.npz"]


def test_the_help_names_every_range_policy_and_data_set() -> None:
    from appmult.retrain import RANGE_POLICIES
    from appmult.retrain.datasets import DATASETS

    text = " ".join(CliRunner().invoke(cli, ["retrain-demo", "--help"]).output.split())
    ranges = text[text.index("--ranges") : text.index("--hws")]
    data = text[text.index("--data") : text.index("--pool")]
    assert all(policy in ranges for policy in RANGE_POLICIES), ranges
    assert all(name in data for name in DATASETS), data
