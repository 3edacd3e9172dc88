"""Benchmark: the hardware cost of one netlist, and of a 300-netlist library.

Run with ``make bench``. Nothing here asserts a time; each figure comes with
a baseline from the same run.

1. Whole processes (best of 3): ``appmult cost NETLIST.v`` on the built-in
   exact 8x8 and 12x12 multipliers and on a gate-level 8x8 fixture, against
   Yosys alone running the same script in the same kind of private folder
   (the floor: what the tool adds is the interpreter, the screening and the
   reading of Yosys's output). Targets: an 8x8 netlist within 1.5 s, the
   12x12 within 10 s.
2. A library of 300 netlists (renamed copies of the built-in designs of up
   to 8x8 bits, and 6 copies of the 12x12 one) on the local process pool
   with every core: wall time and netlists per second, against one worker in
   this process on the first 30 netlists (the serial baseline, scaled).
3. Where one netlist's time goes, summed over one copy of each design (in
   this process): reading the sources, screening (parse + allow-list),
   Yosys itself, reading its statistics and the depth; and the client's
   rewrite of an artifact that receives its cost.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from appmult.characterize import characterize
from appmult.characterize import synthesis as syn
from appmult.characterize.cost import cost_many
from appmult.characterize.netlist import find_top
from appmult.characterize.sources import Sources
from appmult.core.artifact_file import load, save
from appmult.core.manifest import find_design, load_manifest

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "netlists"
APPMULT = [sys.executable, "-m", "appmult"]


def _best(function, repeats: int = 3) -> float:  # noqa: ANN001
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def _yosys_alone(path: Path, top: str) -> float:
    """Yosys on the tool's script for ``path``, in a private folder, without the tool around it."""
    cost = syn.synthesize([path], top=top)
    with tempfile.TemporaryDirectory() as folder:
        shutil.copyfile(path, Path(folder) / "source.v")
        script = re.sub(r"read_verilog .*\n", "read_verilog source.v\n", cost.script)
        (Path(folder) / "script.ys").write_text(script)
        command = ["yosys", "-q", "-s", "script.ys"]
        return _best(lambda: subprocess.run(command, cwd=folder, check=True, capture_output=True))


def test_bench_one_netlist_whole_process():
    print("\nappmult cost NETLIST.v, whole process, best of 3, seconds (targets: 8x8 <= 1.5, 12x12 <= 10)")
    print(f"  {'netlist':<22} {'cells':>6} {'appmult':>8} {'yosys alone':>11} {'x yosys':>8}")
    cases = [(d.files[0], d.top) for d in map(find_design, ("mul8u_exact", "mul12u_exact"))]
    cases.append((FIXTURES / "evo_sig_style_8x8.v", None))
    for path, top in cases:
        cells = syn.synthesize([path], top=top).cells
        command = [*APPMULT, "cost", str(path), "-q", *(["--top", top] if top else [])]
        whole = _best(lambda: subprocess.run(command, check=True, capture_output=True))  # noqa: B023
        floor = _yosys_alone(path, top)
        print(f"  {path.stem:<22} {cells:>6} {whole:8.2f} {floor:11.2f} {whole / floor:8.2f}")


def _library(folder: Path) -> list[Path]:
    """300 renamed copies of the built-in designs (6 of them 12x12), one netlist per file."""
    folder.mkdir()
    small = [d for d in load_manifest() if max(d.width_a, d.width_b) <= 8]
    designs = [small[k % len(small)] for k in range(294)] + [find_design("mul12u_exact")] * 6
    paths = []
    for index, design in enumerate(designs):
        name = f"{design.top}_{index:03d}"
        text = "\n".join(path.read_text() for path in design.files)
        paths.append(folder / f"{name}.v")
        paths[-1].write_text(re.sub(rf"\b{design.top}\b", name, text))
    return paths


def _timed_run(paths: list[Path], **session: object) -> tuple[float, float]:
    """Wall seconds of costing ``paths``, and the summed seconds of the jobs."""
    start = time.perf_counter()
    done = list(cost_many(paths, **session))
    assert all(c.ok for c in done), [c.error for c in done if not c.ok]
    return time.perf_counter() - start, sum(c.seconds for c in done)


def test_bench_library(tmp_path):
    paths = _library(tmp_path / "library")
    cores = os.cpu_count() or 1
    serial, _ = _timed_run(paths[:30], workers=1)
    wall, jobs = _timed_run(paths, workers=cores)
    print(f"\n300 netlists (294 of up to 8x8 bits, 6 of 12x12), {cores} cores, seconds")
    print(f"  one worker, first 30 netlists: {serial:.1f} (x10: {10 * serial:.1f})")
    print(f"  process pool, all 300:         {wall:.1f} ({300 / wall:.1f} netlists/s; jobs summed {jobs:.1f};"
          f" {10 * serial / wall:.2f}x the serial estimate)")  # fmt: skip


def test_bench_stages(tmp_path):
    designs = load_manifest()
    stages = dict.fromkeys(
        ("read sources", "screen (parse + allow-list)", "yosys", "statistics + depth"), 0.0
    )
    for design in designs:
        start = time.perf_counter()
        bundle = Sources.read(design.files)
        stages["read sources"] += time.perf_counter() - start
        with bundle.placed() as placement:
            start = time.perf_counter()
            module = find_top(placement.paths, design.top)
            stages["screen (parse + allow-list)"] += time.perf_counter() - start
            script, _, _ = syn._script(placement, module.name)
            start = time.perf_counter()
            syn._run(syn.find_yosys(), placement.root, script, design.name, None)
            stages["yosys"] += time.perf_counter() - start
            start = time.perf_counter()
            stats = json.loads((placement.root / "stat.json").read_text())
            netlist = json.loads((placement.root / "netlist.json").read_text())
            syn._cost(stats, netlist, module.name, design.name, Path("yosys"), script)
            stages["statistics + depth"] += time.perf_counter() - start
    total = sum(stages.values())
    print(f"\nwhere the time goes, summed over the {len(designs)} built-in designs (one worker), seconds")
    for stage, seconds in stages.items():
        print(f"  {stage:<28} {seconds:7.2f}  {100 * seconds / total:5.1f} %")
    for name in ("mul8u_exact", "mul12u_exact"):
        design = find_design(name)
        path = save(characterize(design.files, top=design.top, name=name), tmp_path / f"{name}.h5")
        artifact = load(path).materialize()
        artifact.cost = syn.synthesize(design.files, top=design.top)
        print(f"  rewrite of {name}.h5 with its cost (client): {_best(lambda: save(artifact, path)):.3f}")  # noqa: B023
