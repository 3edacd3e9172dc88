"""Table diagnostics of the 15 EvoApprox 8x8 multipliers at every half-window, and the default-h rules.

For each multiplier, each h in {1, 2, 4, ..., 64} with 2h + 2 < N and each
estimator of :mod:`tables` (the shipped LUT-2D and the candidate changes),
the diagnostics of d_a and d_b against STE (definitions in :mod:`tables`)
go to ``results/diagnostics.csv``.

``results/default_rules.csv`` gives, per multiplier, the h each candidate
default rule picks and the shipped LUT-2D's diagnostics there:

``n64``
    today's default ``max(1, N // 64)`` (4 at 8 bits);
``sqrtmed``
    the manifest's rule, reproduced on the built-in designs below:
    ``2 ** round(log2(MED) / 2)`` (the power of two nearest to sqrt(MED) on a
    log scale), limited to 2..32 as the manifest does;
``sqrtmed_grid``
    the same, limited instead to the grid 1..64 and the valid range
    ``2h + 2 < N`` (MED = 0 gives 1);
``flipX``
    the smallest grid h whose shipped LUT-2D has at most X % of entries of
    opposite sign to STE in both d_a and d_b (X = 0.5, 1, 2, 5); 64 when none;
``devY``
    the smallest grid h whose shipped LUT-2D deviates from STE by at most Y
    (relative Frobenius norm) in both d_a and d_b (Y = 0.1, 0.2, 0.3, 0.5); 64 when none;
``h_a_dev0.3``, ``h_b_dev0.3``
    the same per operand: h_a from d_a's deviation alone, h_b from d_b's.

The script first checks that the sqrtmed rule reproduces every value of
``rtl/manifest.toml`` that the manifest says came from it (the designs
whose h is not the DATE paper's own choice and not an exact design), from
the MED of the built-in artifacts characterized into ``cache/builtin``.

Usage: ``.venv/bin/python bench/research_19/diagnostics.py``
"""

from __future__ import annotations

import csv
import math
import subprocess

from common import CACHE, GRID, PANEL, RESULTS, ROOT, artifact_path
from tables import ESTIMATORS, diagnostics, estimate, ste_tables

from appmult.core.artifact import load
from appmult.core.manifest import load_manifest
from appmult.lutgen.gradients import default_hws

#: Built-in designs whose manifest h the manifest attributes to the sqrt(MED) rule.
SQRTMED_DESIGNS = (
    "mul8s_trunc6",
    "mul8u_bam_h1v6",
    "mul8u_drum4",
    "mul8u_mitchell",
    "mul8u_kulkarni",
    "mul8u_cmp42",
)
#: And those it attributes to the DATE paper's own files (the rule agrees for the 8-bit one).
PAPER_DESIGNS = {"mul8u_trunc8": 16, "mul7u_trunc6": 2, "mul6u_trunc4": 2}
FLIP_LIMITS = (0.5, 1.0, 2.0, 5.0)
DEV_LIMITS = (0.1, 0.2, 0.3, 0.5)
#: The recommended rule, per operand: each of h_a, h_b the smallest grid h with its own dev <= this.
PER_OPERAND_LIMIT = 0.3


def sqrtmed_h(med: float, low: int = 2, high: int = 32) -> int:
    """``2 ** round(log2(MED) / 2)`` limited to ``low .. high`` (``low`` when MED is 0)."""
    if med <= 0:
        return low
    return int(min(high, max(low, 2 ** round(math.log2(med) / 2))))


def _builtin_check() -> list[str]:
    folder = CACHE / "builtin"
    if not folder.is_dir():
        subprocess.run(
            [
                str(ROOT / ".venv/bin/appmult"),
                "characterize",
                "--library",
                "-o",
                str(folder),
                "-j",
                "2",
                "-q",
            ],
            check=True,
        )
    lines = []
    for design in load_manifest():
        med = load(folder / f"{design.name}.h5").metrics["med"]
        rule = sqrtmed_h(med)
        source = (
            "rule" if design.name in SQRTMED_DESIGNS else "paper" if design.name in PAPER_DESIGNS else "exact"
        )
        agrees = rule == design.hws_a
        lines.append(
            f"{design.name:15s} MED {med:8.2f}  sqrt {math.sqrt(med):6.2f}  rule {rule:2d}  "
            f"manifest {design.hws_a:2d}"
            f"  ({source}{'' if agrees else ', differs'})"
        )
        if source == "rule" and not agrees:
            raise SystemExit(f"sqrt(MED) rule does not reproduce the manifest for {design.name}")
    return lines


def main() -> None:
    for line in _builtin_check():
        print(line)
    rows = []
    for name in PANEL:
        artifact = load(artifact_path(name)).materialize()
        ste_a, ste_b = ste_tables(artifact)
        largest = (min(artifact.shape) - 3) // 2
        for estimator in ESTIMATORS:
            for h in (h for h in GRID if h <= largest):
                table = estimate(artifact, estimator, h)
                row = {
                    "name": name,
                    "signed": artifact.output_signed,
                    "med": artifact.metrics["med"],
                    "nmed": artifact.metrics["nmed"],
                    "estimator": estimator,
                    "h": h,
                }
                for label, d, ste in (("a", table.d_a, ste_a), ("b", table.d_b, ste_b)):
                    row.update({f"{key}_{label}": value for key, value in diagnostics(d, ste).items()})
                rows.append(row)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "diagnostics.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(
            {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()} for row in rows
        )

    shipped = {(r["name"], r["h"]): r for r in rows if r["estimator"] == "lut2d"}
    rules = []
    for name in PANEL:
        artifact = load(artifact_path(name))
        med = artifact.metrics["med"]
        largest = (min(artifact.shape) - 3) // 2
        chosen = {
            "n64": default_hws(artifact)[0],
            "sqrtmed": sqrtmed_h(med),
            "sqrtmed_grid": sqrtmed_h(med, 1, min(64, largest)) if med > 0 else 1,
        }
        for limit in FLIP_LIMITS:
            passing = [
                h
                for h in GRID
                if h <= largest and max(shipped[name, h]["flip_a"], shipped[name, h]["flip_b"]) <= limit / 100
            ]
            chosen[f"flip{limit:g}"] = passing[0] if passing else max(h for h in GRID if h <= largest)
        for limit in DEV_LIMITS:
            passing = [
                h
                for h in GRID
                if h <= largest and max(shipped[name, h]["dev_a"], shipped[name, h]["dev_b"]) <= limit
            ]
            chosen[f"dev{limit:g}"] = passing[0] if passing else max(h for h in GRID if h <= largest)
        row = {"name": name, "med": med, "nmed_percent": 100 * artifact.metrics["nmed"]}
        for operand in ("a", "b"):
            passing = [
                h for h in GRID if h <= largest and shipped[name, h][f"dev_{operand}"] <= PER_OPERAND_LIMIT
            ]
            row[f"h_{operand}_dev{PER_OPERAND_LIMIT:g}"] = (
                passing[0] if passing else max(h for h in GRID if h <= largest)
            )
        for rule, h in chosen.items():
            diag = shipped[name, h]
            row[f"h_{rule}"] = h
            row[f"dev_max_{rule}"] = max(diag["dev_a"], diag["dev_b"])
            row[f"flip_max_{rule}"] = max(diag["flip_a"], diag["flip_b"])
        rules.append(row)
    with open(RESULTS / "default_rules.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rules[0]))
        writer.writeheader()
        writer.writerows(
            {k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in row.items()} for row in rules
        )

    print(
        "\nShipped LUT-2D against STE: dev_a / dev_b (relative Frobenius), flip_a / flip_b (%), "
        "peak_a (max|d_a| / max|b|)"
    )
    print(f"{'name':<11} {'NMED%':>6} " + " ".join(f"{'h=' + str(h):>17}" for h in GRID))
    for name in PANEL:
        cells = []
        for h in GRID:
            r = shipped.get((name, h))
            cells.append(
                f"{r['dev_a']:4.2f}/{r['dev_b']:4.2f} "
                f"{100 * max(r['flip_a'], r['flip_b']):4.1f}%{r['peak_a']:4.1f}"
                if r
                else "-"
            )
        print(
            f"{name:<11} {100 * rows[[x['name'] for x in rows].index(name)]['nmed']:6.3f} "
            + " ".join(f"{c:>17}" for c in cells)
        )
    print("\nh chosen by each rule (shipped LUT-2D's worst dev and worst flip % at that h)")
    names = [key[2:] for key in rules[0] if key.startswith("h_") and not key.startswith(("h_a_", "h_b_"))]
    print(f"{'name':<11} {'MED':>7} " + " ".join(f"{n:>16}" for n in names))
    for row in rules:
        cells = [
            f"{row['h_' + n]:2d}({row['dev_max_' + n]:4.2f},{100 * row['flip_max_' + n]:4.1f})" for n in names
        ]
        print(f"{row['name']:<11} {row['med']:7.1f} " + " ".join(f"{c:>16}" for c in cells))
    print(
        f"\nper operand, dev <= {PER_OPERAND_LIMIT}: "
        + ", ".join(
            f"{row['name']} {row[f'h_a_dev{PER_OPERAND_LIMIT:g}']}/{row[f'h_b_dev{PER_OPERAND_LIMIT:g}']}"
            for row in rules
        )
    )


if __name__ == "__main__":
    main()
