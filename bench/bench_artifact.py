"""Benchmark: artifact size, write time and full-read time, format version 1 against version 2.

Run with ``make bench``. For every built-in design of up to 8x8 bits and for
the 12x12 exact multiplier, the product table is characterized with bitsim and
given its STE, LUT-2D (the manifest's half-windows) and LUT-1D groups; then
the same artifact is written twice in this process:

- version 1, the baseline: every dataset uncompressed and unchunked, the STE
  tables stored in full, LUT-1D as two vectors (the ``mean`` form), written
  here with plain h5py exactly as version 1 laid it out; read back by reading
  every attribute and every dataset, as the version-1 reader did;
- version 2, :func:`appmult.save`: chunked, shuffled, deflate-compressed
  tables, no STE tables, separable LUT-1D factors; read back with
  :func:`appmult.load` followed by what version 1 held: the product, the
  LUT-2D tables, the LUT-1D factors and the STE tables (materialized).

Reads are timed warm (the file in the page cache, best of three) and cold
(its pages dropped with ``posix_fadvise(DONTNEED)`` first), since an
uncompressed file read from the page cache is a memory copy.

Targets (issue 15): 8-bit artifacts <= 0.2 MB, the 12x12 <= 40 MB, its write
time at most 1.5 s above version 1's, full reads no slower than 2x version 1's.
Nothing here asserts a time.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import h5py

from appmult.characterize import characterize
from appmult.core.artifact import Artifact
from appmult.core.artifact_file import load, save
from appmult.core.manifest import load_manifest
from appmult.lutgen import gradient_tables, lut1d
from appmult.lutgen.methods import GradientParameters, gradient_of


def _write_v1(artifact: Artifact, path: Path) -> None:
    """The version-1 layout: uncompressed datasets, full STE tables, LUT-1D vectors."""
    with h5py.File(path, "w") as h5:
        h5.attrs["format"], h5.attrs["format_version"] = "appmult-lut", 1
        for key in ("name", "top", "simulator", "tool_version", "created_utc"):
            h5.attrs[key] = getattr(artifact, key)
        for key in ("width_a", "width_b", "width_out", "signed_a", "signed_b"):
            h5.attrs[key] = getattr(artifact, key)
        h5["operand_a"], h5["operand_b"], h5["product"] = (
            artifact.operand_a,
            artifact.operand_b,
            artifact.product,
        )
        metrics = h5.create_group("metrics")
        for key, value in artifact.metrics.items():
            metrics.attrs[key] = value
        ste = gradient_of(artifact, "ste")
        h5["grad/ste/d_a"], h5["grad/ste/d_b"] = ste.d_a, ste.d_b
        lut2d = artifact.gradients["lut2d"]
        h5["grad/lut2d/d_a"], h5["grad/lut2d/d_b"] = lut2d.d_a, lut2d.d_b
        hws = lut2d.attrs["hws_a"], lut2d.attrs["hws_b"]
        _, g_a, g_b, _ = lut1d(
            artifact.product, artifact.operand_a, artifact.operand_b, "mean", hws_a=hws[0], hws_b=hws[1]
        )
        h5["grad/lut1d/d_a"], h5["grad/lut1d/d_b"] = g_a[0], g_b[0]


def _read_v1(path: Path) -> int:
    """Read every attribute and every dataset, as the version-1 reader did; returns the bytes read."""
    total = 0
    with h5py.File(path, "r") as h5:
        attributes = [dict(h5.attrs)]

        def visit(_name: str, node: object) -> None:
            nonlocal total
            attributes.append(dict(node.attrs))
            if isinstance(node, h5py.Dataset):
                total += node[()].nbytes

        h5.visititems(visit)
    return total


def _read_v2(path: Path) -> int:
    """``appmult.load`` and what version 1 held; returns the bytes materialized."""
    artifact = load(path)
    ste, lut2d, lut1d_group = (gradient_of(artifact, m) for m in ("ste", "lut2d", "lut1d"))
    arrays = [artifact.product, ste.d_a, ste.d_b, lut2d.d_a, lut2d.d_b, lut1d_group.u_a, lut1d_group.v_b]
    return sum(array.nbytes for array in arrays)


def _timed(function, *args) -> float:  # noqa: ANN001
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def _cold(path: Path) -> Path:
    """Drop ``path``'s pages from the page cache (they are clean once synced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return path


def _artifacts() -> list[Artifact]:
    designs = [d for d in load_manifest() if d.width_a <= 8 and d.width_b <= 8 or d.name == "mul12u_exact"]
    artifacts = []
    for design in designs:
        artifact = characterize(
            design.files, top=design.top, signed=design.signed, name=design.name, backend="bitsim"
        )
        artifact.gradients.update(
            gradient_tables(artifact, parameters=GradientParameters(hws_a=design.hws_a, hws_b=design.hws_b))
        )
        artifacts.append(artifact)
    return artifacts


def test_bench_artifact(tmp_path):
    print("\nartifact files: version 1 (uncompressed, STE stored) against version 2 (gzip + shuffle, no STE)")
    print(
        f"  {'design':<16} {'v1 MB':>8} {'v2 MB':>7} {'smaller':>7} {'write s: v1':>11} {'v2':>6} "
        f"{'warm read s: v1':>15} {'v2':>6} {'x':>5} {'cold read s: v1':>15} {'v2':>6} {'x':>5}"
    )
    for artifact in _artifacts():
        old, new = tmp_path / f"{artifact.name}_v1.h5", tmp_path / f"{artifact.name}_v2.h5"
        write_old = _timed(_write_v1, artifact, old)
        write_new = _timed(save, artifact, new)
        warm_old = min(_timed(_read_v1, old) for _ in range(3))
        warm_new = min(_timed(_read_v2, new) for _ in range(3))
        cold_old = _timed(_read_v1, _cold(old))
        cold_new = _timed(_read_v2, _cold(new))
        size_old, size_new = old.stat().st_size / 1e6, new.stat().st_size / 1e6
        print(
            f"  {artifact.name:<16} {size_old:8.3f} {size_new:7.3f} {size_old / size_new:6.1f}x "
            f"{write_old:11.3f} {write_new:6.3f} {warm_old:15.3f} {warm_new:6.3f} {warm_new / warm_old:5.1f} "
            f"{cold_old:15.3f} {cold_new:6.3f} {cold_new / cold_old:5.1f}"
        )
