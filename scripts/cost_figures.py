"""The figures of docs/cost.md: the cost estimate against EvoApprox's published 45 nm figures,
the built-in designs' costs, and the Pareto front of the built-in library plus EvoApprox.

Usage: python scripts/cost_figures.py EVOAPPROX_DIR [OUT_DIR]   (default OUT_DIR: docs/)

EVOAPPROX_DIR holds EvoApprox netlists whose headers carry ``PDK45_AREA``,
``PDK45_PWR`` and ``PDK45_DELAY`` (tests/fixtures/evoapprox/). Prints the
correlation table and the built-in designs' costs as Markdown, and writes
OUT_DIR/cost_evoapprox.png (the scatter plots) and OUT_DIR/cost_pareto.png
(the front of transistors against NMED). The 8x8 EvoApprox multipliers and
the built-in designs are characterized (bitsim) into a temporary folder for
the front; the 16x16 netlists are costed but cannot be characterized.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

from scipy.stats import pearsonr, spearmanr

from appmult.characterize.batch import characterize_many, requests_for_designs, requests_for_files
from appmult.characterize.cost import cost_many
from appmult.core.artifact_file import save
from appmult.core.manifest import load_manifest
from appmult.lutgen.pareto import COSTS, error_points
from appmult.lutgen.pareto_plot import write_pareto_plot

PUBLISHED = {"area": "PDK45_AREA", "power": "PDK45_PWR", "delay": "PDK45_DELAY"}
UNITS = {"area": "um2", "power": "mW", "delay": "ns"}


def published(path: Path) -> dict[str, float]:
    """The 45 nm area, power and delay an EvoApprox header states."""
    text = path.read_text()
    return {key: float(re.search(rf"{tag} = ([\d.]+)", text).group(1)) for key, tag in PUBLISHED.items()}


def markdown(header: tuple[str, ...], rows: list[list[object]]) -> str:
    """A Markdown table, after an empty line."""
    lines = ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(str, row)) + " |" for row in rows])


def correlation_table(rows: list[dict]) -> list[str]:
    """Markdown: Spearman and Pearson of each estimate against each published figure."""
    pairs = [("transistors", "area"), ("cells", "area"), ("transistors", "power"), ("cells", "power"),
             ("depth", "delay")]  # fmt: skip
    lines = ["| estimate | published | circuits | Spearman | Pearson |", "|---|---|---|---|---|"]
    for subset, label in ((lambda r: r["width"] == 8, "8x8"), (lambda r: True, "all")):
        chosen = [r for r in rows if subset(r)]
        for estimate, figure in pairs:
            x, y = [r[estimate] for r in chosen], [r[figure] for r in chosen]
            lines.append(
                f"| {estimate} | {figure} | {len(chosen)} ({label}) | {spearmanr(x, y).statistic:.3f} | "
                f"{pearsonr(x, y).statistic:.3f} |"
            )
    return lines


def scatter(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(15, 4.8))
    for axes, (estimate, figure_name) in zip(
        figure.subplots(1, 3),
        (("transistors", "area"), ("transistors", "power"), ("depth", "delay")),
        strict=True,
    ):
        for width, marker in ((8, "o"), (16, "s")):
            chosen = [r for r in rows if r["width"] == width]
            axes.scatter([r[estimate] for r in chosen], [r[figure_name] for r in chosen], marker=marker,
                         label=f"{width}x{width}")  # fmt: skip
            for r in chosen:
                point = (r[estimate], r[figure_name])
                axes.annotate(r["name"], point, textcoords="offset points", xytext=(3, 2), fontsize=6)
        eight = [r for r in rows if r["width"] == 8]
        rho = spearmanr([r[estimate] for r in eight], [r[figure_name] for r in eight]).statistic
        if figure_name != "delay":  # the 16x16 circuits would crowd the 8x8 ones into a corner
            axes.set_xscale("log")
            axes.set_yscale("log")
        axes.set_xlabel(f"{estimate} (Yosys, this tool)")
        axes.set_ylabel(f"published 45 nm {figure_name} ({UNITS[figure_name]})")
        axes.set_title(f"{figure_name}: Spearman {rho:.3f} over the 8x8 circuits", fontsize="medium")
        axes.legend(fontsize="small")
    figure.suptitle("EvoApprox multipliers: cost estimate against the library's published figures")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main(evoapprox: Path, out: Path) -> None:
    netlists = sorted(evoapprox.glob("mul*.v"))
    rows = []
    for costed in cost_many(netlists, workers=2):
        assert costed.ok, costed.error
        width = int(re.match(r"mul(\d+)", costed.name).group(1))
        rows.append({"name": costed.name, "width": width, "cells": costed.cost.cells,
                     "transistors": costed.cost.transistors, "depth": costed.cost.depth,
                     **published(costed.path)})  # fmt: skip
    rows.sort(key=lambda r: (r["width"], r["name"]))
    print("\n".join(correlation_table(rows)))
    columns = ("name", "cells", "transistors", "depth", "area", "power", "delay")
    print(markdown(columns, [[r[c] for c in columns] for r in rows]))
    scatter(rows, out / "cost_evoapprox.png")

    designs = load_manifest()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        eight = folder / "evoapprox8"
        eight.mkdir()
        for path in netlists:
            if path.name.startswith("mul8"):
                shutil.copyfile(path, eight / path.name)
        requests = requests_for_designs(designs, folder, backend="auto", cost=True)
        requests += requests_for_files([eight], folder, backend="auto", cost=True)
        library = []
        for done in characterize_many(requests, workers=2):
            assert done.ok, done.error
            save(done.artifact, done.request.output)
            library.append((done.request.output, done.artifact))
        by_name = {art.name: art for _, art in library}
        table = [
            [d.name, f"{d.width_a}x{d.width_b}", *(getattr(by_name[d.name].cost, c) for c in COSTS),
             f"{by_name[d.name].metrics['nmed']:.3g}"]
            for d in designs
        ]  # fmt: skip
        print(markdown(("design", "widths", *COSTS, "NMED"), table))
        points = error_points([(Path(p).name, art) for p, art in library], "transistors", "nmed")
        write_pareto_plot(points, out / "cost_pareto.png", "transistors", "nmed")
        print("\nPareto-optimal (transistors, NMED): " + ", ".join(p.name for p in points if p.optimal))


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.split("\n\n")[1])
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) == 3 else Path(__file__).parents[1] / "docs")
