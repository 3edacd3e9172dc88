"""Characterize the 15 EvoApprox 8x8 netlists with bitsim and check them against their headers.

Runs ``appmult characterize --batch ... --backend bitsim`` (skipped when every
artifact exists), then compares, per netlist, the signedness the tool
inferred with the name (``mul8s_*`` two's complement, ``mul8u_*`` unsigned)
and the error metrics, recomputed here in numpy from the product table, with
the figures printed in the netlist's header: MAE (MED), MAE% (NMED), WCE,
EP% (ER), MRE% and MSE. A figure matches when it agrees with the header to
the header's printed precision (half a unit of its last digit). Writes
``results/panel_metrics.csv`` and prints the table.

Usage: ``.venv/bin/python bench/research_19/characterize_panel.py``
"""

from __future__ import annotations

import csv
import subprocess
import sys
from decimal import Decimal

import numpy as np
from common import ARTIFACTS, FIXTURES, PANEL, RESULTS, ROOT, artifact_path, header_figures

from appmult.core.artifact import load


def _characterize() -> None:
    if all(artifact_path(name).is_file() for name in PANEL):
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sources = [str(FIXTURES / f"{name}.v") for name in PANEL]
    command = [str(ROOT / ".venv/bin/appmult"), "characterize", "--batch", *sources]
    subprocess.run([*command, "--backend", "bitsim", "-o", str(ARTIFACTS), "-j", "2"], check=True)


def _printed_tolerance(name: str, key: str) -> float:
    """Half a unit of the last digit the header prints for ``key``."""
    for line in (FIXTURES / f"{name}.v").read_text().splitlines():
        if line.startswith(f"// {key} = "):
            text = line.split("=", 1)[1].split()[0]
            mantissa, _, exponent = text.lower().partition("e")
            decimals = -Decimal(mantissa).as_tuple().exponent
            return 0.5 * 10.0 ** (-decimals + int(exponent or 0))
    raise KeyError(key)


def _metrics(product: np.ndarray, a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Error metrics from their definitions (independent of appmult.core.metrics)."""
    exact = np.multiply.outer(a.astype(np.int64), b.astype(np.int64))
    error = product.astype(np.int64) - exact
    nonzero = exact != 0
    return {
        "MAE": float(np.abs(error).mean()),
        "MAE%": 100 * float(np.abs(error).mean()) / 2**16,
        "WCE": float(np.abs(error).max()),
        "EP%": 100 * float((error != 0).mean()),
        "MRE%": 100 * float((np.abs(error)[nonzero] / np.abs(exact[nonzero])).mean()),
        "MSE": float((error.astype(np.float64) ** 2).mean()),
    }


def main() -> None:
    _characterize()
    rows = []
    for name in PANEL:
        artifact = load(artifact_path(name))
        header = header_figures(name)
        measured = _metrics(artifact.product, artifact.operand_a, artifact.operand_b)
        expected_signed = name.startswith("mul8s")
        row = {
            "name": name,
            "signed_a": artifact.signed_a,
            "signed_b": artifact.signed_b,
            "signedness_ok": artifact.signed_a == artifact.signed_b == expected_signed,
            "tool_med": artifact.metrics["med"],
            "tool_er": artifact.metrics["er"],
            "tool_wce": artifact.metrics["wce"],
            "note": "",
        }
        matches = []
        for key, value in measured.items():
            tolerance = _printed_tolerance(name, key)
            row[f"{key}_header"] = header[key]
            row[f"{key}_measured"] = round(value, 6)
            ok = abs(value - header[key]) <= tolerance * (1 + 1e-9)
            if not ok and key == "MAE%":
                # Some headers derive MAE% from their already rounded MAE.
                ok = abs(100 * header["MAE"] / 2**16 - header[key]) <= tolerance
                row["note"] = "header MAE% = 100 * (its rounded MAE) / 2**16" if ok else ""
            row[f"{key}_ok"] = ok
            matches.append(ok)
        row["tool_equals_numpy"] = bool(
            np.isclose(artifact.metrics["med"], measured["MAE"], rtol=1e-12)
            and artifact.metrics["wce"] == measured["WCE"]
            and np.isclose(100 * artifact.metrics["er"], measured["EP%"], rtol=1e-12)
        )
        row["all_ok"] = all(matches)
        rows.append(row)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "panel_metrics.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    keys = ("MAE", "MAE%", "WCE", "EP%", "MRE%", "MSE")
    print(f"{'name':<11} sign  " + "  ".join(f"{k:>22}" for k in keys))
    for row in rows:
        sign = "ss" if row["signed_a"] else "uu"
        cells = [
            f"{row[f'{k}_measured']:>11.5g}/{row[f'{k}_header']:<8g}{'' if row[f'{k}_ok'] else '!'}"
            for k in keys
        ]
        print(
            f"{row['name']:<11} {sign}{'' if row['signedness_ok'] else '!'}   "
            + "  ".join(f"{c:>22}" for c in cells)
        )
    for row in rows:
        if row["note"]:
            print(f"note: {row['name']}: {row['note']}")
    bad = [
        row["name"]
        for row in rows
        if not (row["all_ok"] and row["signedness_ok"] and row["tool_equals_numpy"])
    ]
    print(
        f"{len(rows) - len(bad)} of {len(rows)} match their headers"
        + (f"; differ: {', '.join(bad)}" if bad else "")
    )
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
