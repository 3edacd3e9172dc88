"""Benchmark: bitsim against cocotb + Icarus and against a bare Icarus sweep.

Run with ``pytest bench -s -o python_files='bench_*.py'``. For every built-in
design (``appmult/rtl/manifest.toml``) and the 8x8 gate-level fixture netlists, the
first table gives the wall time of a whole characterization (simulation,
checks, metrics; the parser already warm) with bitsim and with the icarus
backend, and the Icarus floor: a plain ``iverilog`` + ``vvp`` run of a
generated sweep testbench writing raw ``%u`` words, without cocotb, over the
same (scalarized) sources the icarus backend compiles. The floor's output is
checked against bitsim's. Icarus columns are skipped for 12-bit designs
(minutes each).

The second table is for one 8x8 gate-level netlist and one 12x12 design:
bitsim's own stages in this process (parse + flatten + schedule, then
evaluation), and fresh interpreters (``python -c "from appmult.characterize import
..."``) that either only tabulate with the bitsim backend or build the whole
artifact (with its metrics), with their wall time and peak resident memory
(``VmHWM``, so Linux only).

Nothing here asserts a time.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from appmult.characterize import characterize, discover
from appmult.characterize.backends.bitsim import BitsimBackend
from appmult.characterize.backends.scalarize import scalarize
from appmult.characterize.bitsim.elaborate import elaborate
from appmult.characterize.bitsim.evaluate import evaluate
from appmult.characterize.bitsim.program import compile_program
from appmult.characterize.netlist import Interface
from appmult.characterize.verilog import parse_modules
from appmult.core.manifest import load_manifest
from appmult.core.operands import value_range

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "netlists"
#: Gate-level 8x8 fixtures, one per EvoApprox coding style.
GATE_LEVEL_FIXTURES = ("evo_sig_style_8x8.v", "pdkgen_style_8x8.v", "nbus_style_8x8.v")
#: Widest operand for which the Icarus columns are measured.
ICARUS_MAX_WIDTH = 8
#: Designs also run in a fresh interpreter: one 8x8 gate-level netlist and one 12x12 design.
FRESH_PROCESS_DESIGNS = ("evo_sig_style_8x8", "mul12u_exact")
REPEATS = 3

_FLOOR_SWEEP = """\
module floor_sweep;
  reg [{wa}:0] a;
  reg [{wb}:0] b;
  wire [{wo}:0] o;
  integer ia, ib, fd;
  {top} dut (.{port_a}(a), .{port_b}(b), .{port_o}(o));
  initial begin
    fd = $fopen("out.u32", "wb");
    for (ia = {a_low}; ia <= {a_high}; ia = ia + 1) begin
      a = ia;
      for (ib = {b_low}; ib <= {b_high}; ib = ib + 1) begin
        b = ib;
        #1 $fwrite(fd, "%u", o);
      end
    end
    $fclose(fd);
  end
endmodule
"""

#: A fresh interpreter: argv = mode ("table" or "artifact"), top, files; prints seconds and peak MB.
_FRESH_PROCESS = """\
import sys, time
start = time.perf_counter()
from appmult.characterize import characterize, discover
from appmult.characterize.backends.bitsim import BitsimBackend
from appmult.characterize.backends.scalarize import scalarize
mode, top, files = sys.argv[1], sys.argv[2], sys.argv[3:]
if mode == "table":
    BitsimBackend().raw_words(discover(files, top=top))
else:
    characterize(files, top=top, backend="bitsim")
peak_kb = next(line for line in open("/proc/self/status") if line.startswith("VmHWM")).split()[1]
print(time.perf_counter() - start, int(peak_kb) / 1024)
"""


def _designs() -> list[tuple[str, list[Path], dict]]:
    """(name, files, characterize options) of the library designs and the gate-level fixtures."""
    designs = [(d.name, list(d.files), {"top": d.top, "signed": d.signed}) for d in load_manifest()]
    fixtures = [FIXTURES / name for name in GATE_LEVEL_FIXTURES]
    designs += [(path.stem, [path], {}) for path in fixtures if path.exists()]
    return designs


def _seconds(function: Callable[[], object], repeats: int = 1) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def _floor(interface: Interface, workdir: Path) -> tuple[float, np.ndarray]:
    """Seconds for iverilog + vvp on a plain sweep (by bit pattern) of the scalarized sources; its words."""
    a_low, a_high = value_range(interface.a.width, False)
    b_low, b_high = value_range(interface.b.width, False)
    bench = workdir / "floor_sweep.v"
    bench.write_text(
        _FLOOR_SWEEP.format(
            wa=interface.a.width - 1,
            wb=interface.b.width - 1,
            wo=interface.out.width - 1,
            top=interface.top,
            port_a=interface.a.name,
            port_b=interface.b.name,
            port_o=interface.out.name,
            a_low=a_low,
            a_high=a_high,
            b_low=b_low,
            b_high=b_high,
        )
    )
    sources = []
    for index, path in enumerate(interface.sources):
        text, _ = scalarize(path.read_text())
        copy = workdir / f"{index}_{path.name}"
        copy.write_text(text)
        sources.append(copy.name)

    def run() -> None:
        subprocess.run(
            ["iverilog", "-g2005", "-o", "floor.vvp", bench.name, *sources], cwd=workdir, check=True
        )
        subprocess.run(["vvp", "-n", "floor.vvp"], cwd=workdir, check=True, capture_output=True)

    seconds = _seconds(run)
    return seconds, np.fromfile(workdir / "out.u32", dtype="<u4")


def _bitsim_stages(interface: Interface) -> tuple[float, float]:
    """Seconds to parse, flatten and schedule, and seconds to evaluate (best of a few)."""
    prepared = {}

    def prepare() -> None:
        netlist = elaborate(parse_modules(list(interface.sources)), interface)
        prepared["program"] = compile_program(netlist)

    return _seconds(prepare, REPEATS), _seconds(lambda: evaluate(prepared["program"]), REPEATS)


def _fresh_process(mode: str, files: list[Path], top: str) -> tuple[float, float]:
    """Wall seconds of a fresh interpreter running ``mode`` with bitsim, and its peak MB."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS, mode, top, *map(str, files)],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    return wall, float(result.stdout.split()[1])


_MAIN_COLUMNS = [
    ("design", "<22", ""),
    ("size", ">6", ""),
    ("bitsim s", ">9", ".3f"),
    ("icarus s", ">9", ".3f"),
    ("floor s", ">8", ".3f"),
    ("cocotb/floor", ">13", ".1f"),
    ("icarus/bitsim", ">14", ".1f"),
    ("bitsim pairs/s", ">15", ",.0f"),
    ("icarus pairs/s", ">15", ",.0f"),
]
_PROCESS_COLUMNS = [
    ("design", "<22", ""),
    ("prepare s", ">10", ".3f"),
    ("evaluate s", ">11", ".4f"),
    ("table process s", ">16", ".2f"),
    ("peak MB", ">8", ".0f"),
    ("artifact process s", ">19", ".2f"),
    ("peak MB", ">8", ".0f"),
]


def _line(columns: list[tuple[str, str, str]], values: list | None = None) -> str:
    """One table line: the header when ``values`` is None; a None value prints as ``-``."""
    if values is None:
        return " ".join(f"{title:{align}}" for title, align, _ in columns)
    cells = ("-" if v is None else format(v, form) for v, (_, _, form) in zip(values, columns, strict=True))
    return " ".join(f"{cell:{align}}" for cell, (_, align, _) in zip(cells, columns, strict=True))


def _compare(name: str, files: list[Path], options: dict, workdir: Path) -> list:
    """One row of the main table: bitsim, and for narrow designs icarus and the floor."""
    interface = discover(files, top=options.get("top"), signed=options.get("signed"))
    pairs = 1 << (interface.a.width + interface.b.width)
    bitsim = _seconds(lambda: characterize(files, backend="bitsim", **options), REPEATS)
    size = f"{interface.a.width}x{interface.b.width}"
    if max(interface.a.width, interface.b.width) > ICARUS_MAX_WIDTH:
        return [name, size, bitsim, None, None, None, None, pairs / bitsim, None]
    icarus = _seconds(lambda: characterize(files, backend="icarus", **options))
    workdir.mkdir()
    floor, words = _floor(interface, workdir)
    raw = BitsimBackend().raw_words(interface)
    assert np.array_equal(words, raw.ravel()), f"{name}: the floor sweep disagrees with bitsim"
    ratios = [icarus / floor, icarus / bitsim]
    return [name, size, bitsim, icarus, floor, *ratios, pairs / bitsim, pairs / icarus]


def test_bench_backends(tmp_path):
    designs = _designs()
    discover(designs[0][1], top=designs[0][2].get("top"))  # construct the parser before timing
    print("\n\nWhole characterization, wall seconds (bitsim best of 3; icarus and floor once)")
    print(_line(_MAIN_COLUMNS))
    for name, files, options in designs:
        print(_line(_MAIN_COLUMNS, _compare(name, files, options, tmp_path / name)))

    print("\nbitsim stages (best of 3 in this process), and fresh interpreters: table only, whole artifact")
    print(_line(_PROCESS_COLUMNS))
    for name, files, options in designs:
        if name in FRESH_PROCESS_DESIGNS:
            interface = discover(files, top=options.get("top"))
            prepare, evaluation = _bitsim_stages(interface)
            table = _fresh_process("table", files, interface.top)
            artifact = _fresh_process("artifact", files, interface.top)
            print(_line(_PROCESS_COLUMNS, [name, prepare, evaluation, *table, *artifact]))
