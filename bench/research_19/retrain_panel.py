"""Retraining evidence for the default-h rule: STE, LUT-2D at h = 4 and at the rule's h, on a panel subset.

Multipliers: eight of the 15 spanning the NMED range (0.037 % to 4.8 %),
one signed. Kinds: STE; LUT-2D at today's default
h = 4 (N // 64); LUT-2D and LUT-1D separable r2 at the sqrt(MED) rule's h
(``results/default_rules.csv``, written by ``diagnostics.py``; where the grid
version of the rule differs, also at that h); and LUT-2D at a few h between
the two (``TRANSITION``), to find where the harm ends. Frozen ranges, MNIST-5k
14x14, the six-convolution network, 3 epochs, seeds 0 and 1 (sized for
2 shared cores): ``retrain-demo``'s
default setting (see :mod:`runner`). Runs are cached under
``results/runs``; writes ``results/retrain_panel_runs.csv`` and
``results/retrain_panel.csv`` and prints the summary.

Usage: ``.venv/bin/python bench/research_19/retrain_panel.py [-j 2]``
"""

from __future__ import annotations

import csv
import sys
import time

from common import RESULTS
from runner import Run, format_summary, run_all, summarize, write_csv

SUBSET = (
    "mul8u_2AC",
    "mul8s_1L1G",
    "mul8u_1CMB",
    "mul8u_FTA",
    "mul8u_JQQ",
    "mul8u_L40",
    "mul8u_18DU",
    "mul8u_YX7",
)
SEEDS = (0, 1)
#: LUT-2D at half-windows between 4 and the rule's, where the harm ends (the table-read rule's thresholds).
TRANSITION = {"mul8u_L40": (8, 16), "mul8u_FTA": (16,)}
EPOCHS = 3


def rule_h() -> dict[str, set[int]]:
    """The h values to run per multiplier: the sqrt(MED) rule's, and the grid version's where it differs."""
    with open(RESULTS / "default_rules.csv") as handle:
        return {
            row["name"]: {int(row["h_sqrtmed"]), int(row["h_sqrtmed_grid"])} for row in csv.DictReader(handle)
        }


def runs() -> list[Run]:
    hs = rule_h()
    out = []
    for seed in SEEDS:
        for name in SUBSET:
            out.append(Run(name, "ste", seed=seed, epochs=EPOCHS))
            for h in sorted({4, *hs[name]}):
                out.append(Run(name, "lut2d", hws=h, seed=seed, epochs=EPOCHS))
                if h != 4:
                    out.append(Run(name, "lut1d", hws=h, seed=seed, epochs=EPOCHS))
    for seed in SEEDS:
        for name, hs_between in TRANSITION.items():
            out.extend(Run(name, "lut2d", hws=h, seed=seed, epochs=EPOCHS) for h in hs_between)
    return out


def main() -> None:
    workers = int(sys.argv[sys.argv.index("-j") + 1]) if "-j" in sys.argv else 2
    began = time.perf_counter()
    rows = run_all(runs(), workers)
    print(f"wall time of this invocation: {time.perf_counter() - began:.0f} s")
    write_csv(
        RESULTS / "retrain_panel_runs.csv", [{k: v for k, v in r.items() if k != "losses"} for r in rows]
    )
    summary = summarize(rows)
    order = {name: i for i, name in enumerate(SUBSET)}
    summary.sort(key=lambda r: (order[r["multiplier"]], r["label"] != "STE", r["label"]))
    write_csv(RESULTS / "retrain_panel.csv", summary)
    print(format_summary(summary))


if __name__ == "__main__":
    main()
