"""The EvoApprox panel's results as one figure and markdown tables, from the panels' summaries.

Reads ``retrain_demo.csv`` of every folder ``bench/results/panel-*`` (each written by
``bench/run_panel.sh`` or ``bench/run_tuned_panel.sh``), groups the rows by data set (MNIST
first) and range policy (a policy's rows may come from several folders: the tuned panel adds
LUT-2D at the ``tune-hws`` h beside the frozen MNIST panel, paired with the same STE runs), and

- writes ``docs/panel_nmed.png``, the figure of docs/08-retraining.md: the gain over STE
  against NMED, one panel per data set and policy
  (:func:`appmult.retrain.report.nmed_panels_figure`);
- prints, per data set and policy, the markdown table of docs/08-retraining.md: STE's
  accuracy after retraining (%, mean ± std over seeds), rows by NMED, then per gradient kind
  its gain over STE (points, paired by seed, with the half-window it used) and the seeds it
  gained on.

Run from the repository root: ``.venv/bin/python bench/panel_tables.py``.
"""

from __future__ import annotations

from pathlib import Path

from appmult.core.atomic import replacing
from appmult.retrain.report import SummaryRow, nmed_panels_figure, read_summary

RESULTS = Path(__file__).resolve().parent / "results"
FIGURE = Path(__file__).resolve().parent.parent / "docs" / "panel_nmed.png"
STE = "STE"
#: The order of the range policies in the tables and the figure.
POLICIES = ("frozen", "moving", "observer")


def _nmed(fraction: float | None) -> str:
    if fraction is None:
        return "–"
    percent = 100 * fraction
    return f"{percent:.3g} %" if percent >= 1 else f"{percent:.2g} %"


def _table(rows: list[SummaryRow]) -> list[str]:
    kinds = list(dict.fromkeys(row.kind for row in rows if row.kind != STE))
    header = ["multiplier (NMED)", "STE after"] + [f"{kind} gain (h)" for kind in kinds]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    ste_rows = sorted((row for row in rows if row.kind == STE), key=lambda row: row.nmed or 0.0)
    for name in (row.multiplier for row in ste_rows):
        own = {row.kind: row for row in rows if row.multiplier == name}
        ste = own[STE]
        cells = [f"{name} ({_nmed(ste.nmed)})", f"{100 * ste.after.mean:.1f} ± {100 * ste.after.std:.1f}"]
        for kind in kinds:
            row = own.get(kind)
            if row is None or row.gain is None:
                cells.append("–")
                continue
            gain = f"{100 * row.gain.mean:+.1f} ± {100 * row.gain.std:.1f}".replace("-", "−")
            cells.append(f"{gain} ({row.hws}), {row.positive}/{row.gain.n}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    rows = [row for path in sorted(RESULTS.glob("panel-*/retrain_demo.csv")) for row in read_summary(path)]
    seen: set[tuple[str, str, str, str]] = set()
    unique = []
    for row in rows:  # the tuned panel repeats the frozen MNIST panel's STE rows
        key = (row.data, row.ranges, row.multiplier, row.kind)
        if key not in seen:
            seen.add(key)
            unique.append(row)
    unique.sort(key=lambda row: (row.data != "mnist", row.data, POLICIES.index(row.ranges)))
    for data, ranges in dict.fromkeys((row.data, row.ranges) for row in unique):
        print(f"\n{data}, {ranges} ranges\n")
        print("\n".join(_table([row for row in unique if (row.data, row.ranges) == (data, ranges)])))
    with replacing(FIGURE) as tmp:
        nmed_panels_figure(unique).savefig(tmp, format="png", dpi=110)
    print(f"\nwrote {FIGURE}")


if __name__ == "__main__":
    main()
