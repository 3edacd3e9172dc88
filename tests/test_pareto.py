"""The Pareto front of a library: against a brute-force dominance check, on hand-made artifacts whose
costs and errors are known, and against the accuracy a retraining benchmark wrote."""

from __future__ import annotations

import csv
import itertools
import re

import numpy as np
import pytest

from appmult.cli import main
from appmult.core.artifact import Artifact, HardwareCost
from appmult.core.artifact_file import save
from appmult.core.metrics import METRIC_NAMES
from appmult.lutgen.pareto import ERRORS, pareto_front


def _dominated_brute_force(cost: np.ndarray, value: np.ndarray) -> np.ndarray:
    """True where some other point is no worse on both axes and better on one (every pair compared)."""
    n = len(cost)
    return np.array([
        any(cost[j] <= cost[i] and value[j] <= value[i] and (cost[j] < cost[i] or value[j] < value[i])
            for j in range(n) if j != i)
        for i in range(n)
    ], dtype=bool)  # fmt: skip


@pytest.mark.parametrize("seed", range(20))
def test_front_is_exactly_the_undominated_points(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    cost = rng.integers(0, 8, n).astype(float)  # few levels: many ties in cost, in value, and both
    value = rng.integers(0, 8, n).astype(float)
    np.testing.assert_array_equal(pareto_front(cost, value), ~_dominated_brute_force(cost, value))
    np.testing.assert_array_equal(pareto_front(cost, -value, maximize=True), pareto_front(cost, value))


def test_error_axes_are_metrics():
    assert set(ERRORS) <= set(METRIC_NAMES)


def _artifact(name: str, wrong: int, cells: int, width: int = 4) -> Artifact:
    """A width x width unsigned table with ``wrong`` entries one too large, costing ``cells`` NAND gates.

    At 4 bits its MED is wrong / 256 and NMED wrong / 256**2; its transistors are 4 * cells.
    """
    values = np.arange(1 << width)
    product = np.multiply.outer(values, values)
    product.flat[:wrong] += 1
    artifact = Artifact(name=name, top=name, width_a=width, width_b=width, width_out=2 * width,
                        signed_a=False, signed_b=False, product=product)  # fmt: skip
    artifact.cost = HardwareCost({"$_NAND_": cells}, cells, 4 * cells, 1 + cells % 5, "by hand", "")
    return artifact


#: name -> (wrong entries, cells), and whether the point is Pareto-optimal by (cells, NMED):
_LIBRARY = {
    "exact": ((0, 100), True),  # the only error-free one
    "half": ((10, 50), True),
    "twin": ((10, 50), True),  # equal to half: neither dominates the other
    "worse": ((20, 60), False),  # half is cheaper and better
    "same_cost_worse": ((30, 50), False),  # half costs the same and is better
    "cheap": ((40, 20), True),
    "cheap_worse": ((41, 20), False),
    "cheapest_bad": ((200, 5), True),
    "expensive_bad": ((200, 120), False),
}


def _run(argv: list[str], capsys) -> tuple[int, str, str]:  # noqa: ANN001
    try:
        main(argv)
        code = 0
    except SystemExit as exit_info:
        code = exit_info.code
    out, err = capsys.readouterr()
    return code, out, err


def test_pareto_marks_exactly_the_right_artifacts(tmp_path, capsys):
    paths = [
        str(save(_artifact(name, *spec), tmp_path / f"{name}.h5")) for name, (spec, _) in _LIBRARY.items()
    ]
    code, out, err = _run(
        ["pareto", *paths, "--cost", "cells", "--error", "nmed", "-o", str(tmp_path)], capsys
    )
    assert code == 0, err
    with open(tmp_path / "pareto_cells_nmed.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    marked = {row["name"]: row["pareto_optimal"] == "1" for row in rows}
    assert marked == {name: optimal for name, (_, optimal) in _LIBRARY.items()}
    # independently: the same marks by comparing every pair of points
    cells = np.array([spec[1] for spec, _ in _LIBRARY.values()], dtype=float)
    nmed = np.array([spec[0] / 256**2 for spec, _ in _LIBRARY.values()])
    assert [marked[n] for n in _LIBRARY] == list(~_dominated_brute_force(cells, nmed))
    assert [float(row["cells"]) for row in rows] == sorted(cells)
    assert float(next(row["nmed"] for row in rows if row["name"] == "cheap")) == pytest.approx(40 / 256**2)
    table = out.splitlines()
    assert table[0].split() == ["name", "operands", "cells", "nmed", "library", "file"]
    assert {line.split()[1] for line in table[1:] if line.startswith("*")} == {
        n for n, (_, optimal) in _LIBRARY.items() if optimal
    }
    png = tmp_path / "pareto_cells_nmed.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fronts_are_found_within_operand_widths(tmp_path, capsys):
    """A cheap exact 2x2 multiplier does not knock the 4x4 ones off their front."""
    library = [_artifact(name, *spec) for name, (spec, _) in _LIBRARY.items()]
    library += [_artifact("tiny_exact", 0, 1, width=2), _artifact("tiny_bad", 3, 2, width=2)]
    paths = [str(save(art, tmp_path / f"{art.name}.h5")) for art in library]
    code, out, err = _run(["pareto", *paths, "--cost", "cells", "-o", str(tmp_path)], capsys)
    assert code == 0, err
    with open(tmp_path / "pareto_cells_nmed.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["operands"] for row in rows] == ["4x4 uu"] * len(_LIBRARY) + ["2x2 uu"] * 2
    marked = {row["name"]: row["pareto_optimal"] == "1" for row in rows}
    assert marked == {"tiny_exact": True, "tiny_bad": False, **{n: o for n, (_, o) in _LIBRARY.items()}}


def test_pareto_refuses_an_artifact_without_cost(tmp_path, capsys):
    bare = _artifact("bare", 0, 10)
    bare.cost = None
    paths = [str(save(bare, tmp_path / "bare.h5")), str(save(_artifact("ok", 1, 3), tmp_path / "ok.h5"))]
    code, _, err = _run(["pareto", *paths, "-o", str(tmp_path / "out")], capsys)
    assert code == 1
    assert re.fullmatch(
        r"error: \S+bare.h5: holds no hardware cost; run `appmult cost \S+bare.h5` first\n", err
    )
    assert not list((tmp_path / "out").iterdir())


def test_accuracy_front_reads_a_retraining_benchmark(tmp_path, capsys):
    """Points per multiplier and kind from the CSV the benchmark's own writer produces."""
    pytest.importorskip("torch")
    from appmult.retrain.demo import QUICK, DemoResult
    from appmult.retrain.report import write_results
    from appmult.retrain.runs import RunResult

    accuracy = {  # (multiplier, kind) -> accuracy after retraining; cells: exact 100, half 50, cheap 20
        ("exact", "STE"): 0.95, ("exact", "LUT-2D"): 0.94,
        ("half", "STE"): 0.80, ("half", "LUT-2D"): 0.90,
        ("cheap", "STE"): 0.50, ("cheap", "LUT-2D"): 0.85,
    }  # fmt: skip
    optimal = {("cheap", "LUT-2D"), ("half", "LUT-2D"), ("exact", "STE")}
    runs = tuple(
        RunResult(multiplier=m, kind=k, ranges="moving", seed=0, float_accuracy=0.97, exact_accuracy=0.96,
                  before=0.3, after=a, final_loss=0.1, seconds_per_epoch=1.0)
        for (m, k), a in accuracy.items()
    )  # fmt: skip
    result = DemoResult(QUICK.changed(multipliers=("exact", "half", "cheap")), runs)
    summary = write_results(result, tmp_path / "demo")[0]
    paths = [
        str(save(_artifact(name, *_LIBRARY[name][0]), tmp_path / f"{name}.h5"))
        for name in ("exact", "half", "cheap")
    ]
    code, out, err = _run(
        ["pareto", *paths, "--cost", "cells", "--accuracy", str(summary), "-o", str(tmp_path)], capsys
    )
    assert code == 0, err
    with open(tmp_path / "pareto_cells_accuracy.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["name"], r["kind"]): float(r["accuracy"]) for r in rows} == pytest.approx(accuracy)
    assert {(r["name"], r["kind"]) for r in rows if r["pareto_optimal"] == "1"} == optimal
    cells = np.array([{"exact": 100, "half": 50, "cheap": 20}[m] for m, _ in accuracy], dtype=float)
    brute = ~_dominated_brute_force(cells, -np.array(list(accuracy.values())))
    assert {key for key, keep in zip(accuracy, brute, strict=True) if keep} == optimal
    assert "90.00 %" in out and (tmp_path / "pareto_cells_accuracy.png").is_file()


def test_accuracy_csv_that_names_no_artifact_is_one_line(tmp_path, capsys):
    table = tmp_path / "other.csv"
    table.write_text("multiplier,ranges,kind,after_mean\nsomething_else,moving,STE,0.9\n")
    path = str(save(_artifact("ok", 1, 3), tmp_path / "ok.h5"))
    code, _, err = _run(["pareto", path, "--accuracy", str(table), "-o", str(tmp_path)], capsys)
    assert code == 1
    assert re.fullmatch(r"error: \S+other.csv: none of its multipliers \(something_else\) is among .*\n", err)
    table.write_text("name,value\nok,1\n")
    code, _, err = _run(["pareto", path, "--accuracy", str(table), "-o", str(tmp_path)], capsys)
    assert re.fullmatch(
        r"error: \S+other.csv: not a retrain-demo summary \(no multiplier, ranges, kind.*\n", err
    )
    assert not list(itertools.chain(tmp_path.glob("pareto_*")))
