"""Figures and tables of the issue-19 measurements from the cached results.

Reads ``results/diagnostics.csv`` and the runs under ``results/runs``; writes

- ``results/diagnostics.png``: the shipped LUT-2D's deviation from STE (d_a and
  d_b) and its share of opposite signs against h, one line per multiplier;
- ``results/retrain_gain.png``: the gain over STE after retraining (paired by
  seed) against NMED, at h = 4 and at the sqrt(MED) rule's h; and against
  the table's deviation from STE, every LUT-2D run of the panel;
- ``results/retrain_by_dev.csv``: each multiplier and h retrained with LUT-2D,
  the table's diagnostics beside its paired gain;
- ``results/root_cause.csv``: the root-cause variants of ``experiments.py``
  beside STE and the shipped LUT-2D at h = 4.

Usage: ``.venv/bin/python bench/research_19/report.py``
"""

from __future__ import annotations

import csv
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from common import GRID, PANEL, RESULTS  # noqa: E402
from runner import RUNS, format_summary, summarize, write_csv  # noqa: E402


def _diagnostics() -> dict[tuple[str, str, int], dict]:
    with open(RESULTS / "diagnostics.csv") as handle:
        return {(r["name"], r["estimator"], int(r["h"])): r for r in csv.DictReader(handle)}


def _rule_h() -> dict[str, int]:
    with open(RESULTS / "default_rules.csv") as handle:
        return {row["name"]: int(row["h_sqrtmed"]) for row in csv.DictReader(handle)}


def plot_diagnostics(diag: dict) -> None:
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    colours = plt.cm.viridis(np.linspace(0, 1, len(PANEL)))
    for colour, name in zip(colours, PANEL, strict=True):
        rows = [diag[name, "lut2d", h] for h in GRID]
        style = "--" if name.startswith("mul8s") else "-"
        nmed = 100 * float(rows[0]["nmed"])
        for axis, key in zip(axes, ("dev_a", "dev_b"), strict=False):
            axis.plot(
                GRID,
                [float(r[key]) for r in rows],
                style,
                color=colour,
                marker="o",
                ms=3,
                label=f"{name} ({nmed:.3g} %)",
            )
        axes[2].plot(
            GRID,
            [100 * max(float(r["flip_a"]), float(r["flip_b"])) for r in rows],
            style,
            color=colour,
            marker="o",
            ms=3,
        )
    for axis, title in zip(
        axes,
        (
            "d_a: ||d - STE|| / ||STE||",
            "d_b: ||d - STE|| / ||STE||",
            "opposite sign to STE, worst of d_a, d_b (%)",
        ),
        strict=True,
    ):
        axis.set_xscale("log", base=2)
        axis.set_xticks(GRID, [str(h) for h in GRID])
        axis.set_xlabel("half-window h")
        axis.set_title(title, fontsize=10)
        axis.grid(alpha=0.3)
    axes[0].set_yscale("log")
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=6.5, ncol=1)
    figure.suptitle("Shipped LUT-2D against STE, 15 EvoApprox 8x8 multipliers (dashed: signed)")
    figure.tight_layout()
    figure.savefig(RESULTS / "diagnostics.png", dpi=90)


def _panel_rows() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(RUNS.glob("*.json"))]


def retrain_by_dev(diag: dict) -> list[dict]:
    rows = [r for r in _panel_rows() if not r["variant"] and r["epochs"] == 3 and r["ranges"] == "frozen"]
    summary = {(s["multiplier"], s["label"]): s for s in summarize(rows)}
    out = []
    for (name, label), s in sorted(summary.items()):
        if not label.startswith(("LUT-2D", "LUT-1D")):
            continue
        h = int(label.rsplit("h=", 1)[1])
        d = diag[name, "lut2d", h]
        out.append(
            {
                "multiplier": name,
                "nmed_percent": 100 * float(d["nmed"]),
                "kind": label.split(" h=")[0],
                "h": h,
                "dev_a": float(d["dev_a"]),
                "dev_b": float(d["dev_b"]),
                "flip_max": max(float(d["flip_a"]), float(d["flip_b"])),
                "peak_a": float(d["peak_a"]),
                "seeds": s["seeds"],
                "ste_after": summary[name, "STE"]["after_mean"],
                "after": s["after_mean"],
                "gain": s["gain_mean"],
                "gain_std": s["gain_std"],
                "wins": s["wins"],
            }
        )
    write_csv(RESULTS / "retrain_by_dev.csv", out)
    return out


def plot_gain(rows: list[dict]) -> None:
    rule = _rule_h()
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    lut2d = [r for r in rows if r["kind"] == "LUT-2D"]
    for label, pick, marker in (
        ("LUT-2D, h = 4 (N // 64)", lambda r: r["h"] == 4, "o"),
        ("LUT-2D, sqrt(MED) rule's h", lambda r: r["h"] == rule[r["multiplier"]], "s"),
    ):
        chosen = [r for r in lut2d if pick(r)]
        axes[0].errorbar(
            [r["nmed_percent"] for r in chosen],
            [100 * r["gain"] for r in chosen],
            yerr=[100 * r["gain_std"] for r in chosen],
            fmt=marker,
            capsize=3,
            label=label,
        )
        for r in chosen:
            axes[0].annotate(
                r["multiplier"].removeprefix("mul8"),
                (r["nmed_percent"], 100 * r["gain"]),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
    axes[0].set_xscale("log")
    axes[0].set_xlabel("NMED (%)")
    axes[0].set_ylabel("accuracy gain over STE (points, paired by seed)")
    axes[0].axhline(0, color="grey", lw=0.8)
    axes[0].legend(fontsize=8)
    axes[0].set_title("frozen ranges, MNIST-5k 14x14, deep network, 3 epochs", fontsize=10)
    dev = [max(r["dev_a"], r["dev_b"]) for r in lut2d]
    axes[1].errorbar(
        dev, [100 * r["gain"] for r in lut2d], yerr=[100 * r["gain_std"] for r in lut2d], fmt="o", capsize=3
    )
    for r, x in zip(lut2d, dev, strict=True):
        axes[1].annotate(
            f"{r['multiplier'].removeprefix('mul8')} h={r['h']}",
            (x, 100 * r["gain"]),
            fontsize=6.5,
            xytext=(3, 3),
            textcoords="offset points",
        )
    axes[1].set_xscale("log")
    axes[1].axhline(0, color="grey", lw=0.8)
    axes[1].set_xlabel("table deviation from STE, max(dev_a, dev_b)")
    axes[1].set_title("every LUT-2D run of the panel", fontsize=10)
    figure.tight_layout()
    figure.savefig(RESULTS / "retrain_gain.png", dpi=90)


def root_cause() -> list[dict]:
    """The root-cause variants (and the shipped LUT-2D at h = 4) with their gains over the same seeds' STE."""
    rows = [r for r in _panel_rows() if r["epochs"] == 3 and r["ranges"] == "frozen"]
    summary = summarize(rows)
    chosen = [
        s
        for s in summary
        if s["multiplier"] in ("mul8u_L40", "mul8u_18DU")
        and (s["label"] in ("STE", "LUT-2D h=4") or not s["label"].startswith(("LUT-", "STE")))
    ]
    chosen.sort(key=lambda s: (s["multiplier"], s["label"] != "STE", s["label"]))
    write_csv(RESULTS / "root_cause.csv", chosen)
    return chosen


def main() -> None:
    diag = _diagnostics()
    plot_diagnostics(diag)
    rows = retrain_by_dev(diag)
    plot_gain(rows)
    print(format_summary(root_cause()), end="\n\n")
    print(f"{'multiplier':<11} {'kind':<22} {'h':>3} {'dev_a':>6} {'dev_b':>6} {'flip%':>6} {'gain':>14}")
    for r in sorted(rows, key=lambda r: (r["multiplier"], r["kind"], r["h"])):
        print(
            f"{r['multiplier']:<11} {r['kind']:<22} {r['h']:>3} {r['dev_a']:6.2f} {r['dev_b']:6.2f} "
            f"{100 * r['flip_max']:6.1f} {100 * r['gain']:+6.1f} ± {100 * r['gain_std']:4.1f} "
            f"({r['wins']}/{r['seeds']})"
        )


if __name__ == "__main__":
    main()
