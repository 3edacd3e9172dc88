"""Benchmark: what the artifact gate costs, against plain h5py reads measured in the same run.

Run with ``make bench``. A 12x12 artifact (exact product, LUT-2D with h = 1,
separable LUT-1D and STE groups; three 4096 x 4096 tables of 64 chunks each)
and an 8x8 one are written with :func:`appmult.save`, then, warm (best of five):

- the metadata gate, :func:`admit_header` and :func:`admit`, against opening
  the file and reading its root attributes (what ``load`` did before it);
- ``load`` (what ``appmult info`` does), whose share the gate is;
- every table read through :func:`appmult.core.artifact_gate.read` (each chunk
  inflated once into a buffer of its declared size first), against the same
  reads with plain h5py.

Nothing here asserts a time.
"""

from __future__ import annotations

import time
from pathlib import Path

import h5py
import numpy as np

from appmult.core import artifact_gate
from appmult.core.artifact import Artifact
from appmult.core.artifact_file import load, save
from appmult.core.operands import operand_values
from appmult.lutgen import gradient_tables
from appmult.lutgen.methods import GradientParameters

TABLES = ("product", "grad/lut2d/d_a", "grad/lut2d/d_b")


def _artifact(width: int) -> Artifact:
    values = operand_values(width, False).astype(np.int64)
    artifact = Artifact(
        name=f"exact{width}", top="exact", width_a=width, width_b=width, width_out=2 * width,
        signed_a=False, signed_b=False, product=np.outer(values, values),
    )  # fmt: skip
    artifact.gradients.update(gradient_tables(artifact, parameters=GradientParameters(hws_a=1, hws_b=1)))
    return artifact


def _best(function, *args) -> float:  # noqa: ANN001
    times = []
    for _ in range(5):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def _header_only(path: Path) -> None:
    with h5py.File(path, "r") as h5:
        dict(h5.attrs.items())


def _gate(path: Path) -> None:
    with h5py.File(path, "r") as h5:
        header = {
            k: v.item() if isinstance(v, np.generic) else v
            for k, v in artifact_gate.admit_header(path, h5).items()
        }
        artifact_gate.admit(path, h5, int(header["format_version"]), header)


def _plain_reads(path: Path) -> None:
    with h5py.File(path, "r") as h5:
        for name in TABLES:
            h5[name][()]


def _gated_reads(path: Path) -> None:
    with h5py.File(path, "r") as h5:
        for name in TABLES:
            artifact_gate.read(path, h5[name])


def test_bench_gate(tmp_path):
    print(
        "\nartifact gate: metadata checks and chunk-checked table reads, against plain h5py (warm, best of 5)"
    )
    print(
        f"  {'artifact':<9} {'header s':>9} {'gate s':>8} {'load s':>8} "
        f"{'reads s: h5py':>13} {'gated':>7} {'x':>5}"
    )
    for width in (8, 12):
        path = save(_artifact(width), tmp_path / f"exact{width}.h5")
        header, gate, loading = _best(_header_only, path), _best(_gate, path), _best(load, path)
        plain, gated = _best(_plain_reads, path), _best(_gated_reads, path)
        print(
            f"  {f'{width}x{width}':<9} {header:9.4f} {gate:8.4f} {loading:8.4f} "
            f"{plain:13.3f} {gated:7.3f} {gated / plain:5.2f}"
        )
