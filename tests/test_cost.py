"""Hardware cost by real Yosys: known small circuits, the built-in library, EvoApprox's published
area, artifacts that carry their cost, and bad input."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scipy.stats import spearmanr

from appmult.characterize import characterize
from appmult.characterize.cost import cost_many
from appmult.characterize.synthesis import logic_depth, synthesize
from appmult.cli import main
from appmult.core.artifact_file import load, save
from appmult.core.errors import NetlistError, SynthesisError
from appmult.core.manifest import find_design
from tests.conftest import FIXTURES

pytestmark = [
    pytest.mark.yosys,
    pytest.mark.skipif(
        shutil.which("yosys") is None, reason="Yosys is not installed (make setup installs it)"
    ),
]

ROOT = Path(__file__).resolve().parents[1]

#: Static-CMOS transistors of a two-input gate (textbook counts: NAND2/NOR2 4, AND2/OR2 = NAND2/NOR2
#: plus an inverter 6, XOR2/XNOR2 12 in the complementary form with input inverters).
_TEXTBOOK = {"$_AND_": 6, "$_XOR_": 12, "$_XNOR_": 12}


def _evoapprox() -> Path | None:
    """The EvoApprox netlists: the repository's fixtures, else the shared folder beside the repository."""
    for folder in (ROOT / "tests" / "fixtures" / "evoapprox", ROOT.parent / "shared" / "evoapprox"):
        if folder.is_dir() and list(folder.glob("mul8*.v")):
            return folder
    return None


def _write(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.v"
    path.write_text(body)
    return path


def _run(argv: list[str], capsys) -> tuple[int, str, str]:  # noqa: ANN001
    """The real entry point in this process: exit status, stdout, stderr."""
    try:
        main(argv)
        code = 0
    except SystemExit as exit_info:
        code = exit_info.code
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- small circuits


@pytest.mark.parametrize(
    "body, cells, depth",
    [
        pytest.param(
            "module m(input a, input b, output y);\n  assign y = a & b;\nendmodule\n", 1, 1, id="and2"
        ),
        # Four inputs need three two-input gates, at least two levels deep.
        pytest.param(
            "module m(input [3:0] a, output y);\n  assign y = a[0] & a[1] & a[2] & a[3];\nendmodule\n",
            3, 2, id="and4",
        ),
        # Parity of eight bits: seven XOR/XNOR gates, at best a balanced tree three levels deep.
        pytest.param("module m(input [7:0] a, output y);\n  assign y = ^a;\nendmodule\n", 7, 3, id="parity8"),
    ],
)  # fmt: skip
def test_small_circuits_cost_what_a_hand_count_says(tmp_path, body, cells, depth):
    cost = synthesize([_write(tmp_path, "m", body)])
    assert (cost.cells, cost.depth) == (cells, depth)
    assert set(cost.cells_by_type) <= set(_TEXTBOOK), cost.cells_by_type
    assert cost.transistors == sum(_TEXTBOOK[kind] * n for kind, n in cost.cells_by_type.items())
    assert cost.yosys.startswith("Yosys ") and " at /" in cost.yosys


def test_logic_depth_of_hand_made_netlists():
    def gate(a: object, b: object, y: int) -> dict:
        directions = {"A": "input", "B": "input", "Y": "output"}
        return {
            "type": "$_AND_",
            "port_directions": directions,
            "connections": {"A": [a], "B": [b], "Y": [y]},
        }

    ports = {"a": {"direction": "input", "bits": [2, 3]}, "y": {"direction": "output", "bits": [6]}}
    # 4 = a0 & a1; 5 = 4 & "1" (a constant); 6 = 4 & 5: the longest path is 4 -> 5 -> 6.
    chain = {"ports": ports, "cells": {"g4": gate(2, 3, 4), "g5": gate(4, "1", 5), "g6": gate(4, 5, 6)}}
    assert logic_depth(chain) == 3
    assert logic_depth({"ports": ports, "cells": {}}) == 0
    ring = {"ports": ports, "cells": {"g5": gate(2, 6, 5), "g6": gate(5, 3, 6)}}
    with pytest.raises(SynthesisError, match=r"here: .*combinational loop"):
        logic_depth(ring, "here")


def test_depth_agrees_with_yosys_longest_path(tmp_path):
    """Our longest path over the mapped netlist against Yosys's own ``ltp`` on the same netlist."""
    for name in ("mul8u_trunc8", "mul4u_exact"):
        design = find_design(name)
        cost = synthesize(design.files, top=design.top)
        script = cost.script.replace("write_json netlist.json\n", "tee -o ltp.txt ltp -noff\n")
        subprocess.run(["yosys", "-q", "-p", script.replace("\n", "; ")], cwd=tmp_path, check=True)
        length = re.search(r"length=(\d+)", (tmp_path / "ltp.txt").read_text())
        assert int(length.group(1)) == cost.depth, name


# --------------------------------------------------------------------------- the library


def test_exact_8x8_costs_the_same_every_time_and_more_than_a_truncated_one():
    exact, truncated = find_design("mul8u_exact"), find_design("mul8u_trunc8")
    first = synthesize(exact.files, top=exact.top)
    assert synthesize(exact.files, top=exact.top) == first
    cheap = synthesize(truncated.files, top=truncated.top)
    assert first.transistors > cheap.transistors and first.cells > cheap.cells
    # An 8x8 array needs at least the 64 partial-product ANDs and 7 rows of 8 adders.
    assert first.cells > 64 + 7 * 8


def test_transistors_rank_evoapprox_as_their_published_area():
    """Spearman >= 0.95 between the transistor estimate and the 45 nm area EvoApprox publishes."""
    folder = _evoapprox()
    if folder is None:
        pytest.skip("the EvoApprox netlists are in neither tests/fixtures/evoapprox nor ../shared/evoapprox")
    netlists = sorted(folder.glob("mul8*.v"))
    area = {p.stem: float(re.search(r"PDK45_AREA = ([\d.]+)", p.read_text()).group(1)) for p in netlists}
    costs = {c.name: c.cost.transistors for c in cost_many(netlists, workers=2)}
    assert sorted(costs) == sorted(area)
    names = sorted(area)
    rho = spearmanr([costs[n] for n in names], [area[n] for n in names]).statistic
    assert rho >= 0.95, f"Spearman {rho:.3f} over {len(names)} netlists"


# --------------------------------------------------------------------------- artifacts


def test_characterize_with_cost_and_cost_of_an_artifact_agree(tmp_path, capsys):
    source = tmp_path / "exact4.v"
    shutil.copyfile(FIXTURES / "ansi_exact4.v", source)
    made = tmp_path / "made.h5"
    code, out, err = _run(
        ["characterize", str(source), "-o", str(made), "--cost", "--backend", "bitsim", "-q"], capsys
    )
    assert code == 0, err
    assert out.splitlines()[0].split()[6:9] == ["cells", "transistors", "depth"]
    expected = synthesize([source])
    recorded = load(made).cost
    assert recorded == expected
    assert recorded.script.startswith(f"read_verilog -I {tmp_path} {source}\n")

    later = tmp_path / "later.h5"
    save(characterize([source], backend="bitsim"), later)
    assert load(later).cost is None
    code, out, err = _run(["cost", str(later), "-q"], capsys)
    assert code == 0, err
    assert load(later).cost == expected
    row = [load(later).name, str(expected.cells), str(expected.transistors), str(expected.depth)]
    assert out.splitlines()[1].split()[:4] == row
    code, out, _ = _run(["info", str(later)], capsys)
    assert f"cost          {expected.cells} cells, {expected.transistors} transistors" in out
    code, out, _ = _run(["report", str(later)], capsys)
    header, row = (line.split() for line in out.splitlines()[:2])
    assert row[header.index("transistors")] == str(expected.transistors)


def test_hostile_file_names_never_reach_a_yosys_command(tmp_path):
    name = 'a b;shell touch PWNED #"x'
    path = _write(tmp_path, name, "module m(input a, input b, output y);\n  assign y = a ^ b;\nendmodule\n")
    cost = synthesize([path])
    assert cost.cells_by_type in ({"$_XOR_": 1}, {"$_XNOR_": 1, "$_NOT_": 1})
    assert not list(tmp_path.rglob("PWNED")) and not Path("PWNED").exists()


def test_a_source_named_like_the_tools_own_copies_is_read_as_itself(tmp_path):
    top = _write(
        tmp_path,
        "top",
        "module top(input a, input b, output y);\n  cell u(.a(a), .b(b), .y(y));\nendmodule\n",
    )
    cell = _write(
        tmp_path,
        "appmult-source-0",
        "module cell(input a, input b, output y);\n  assign y = a | b;\nendmodule\n",
    )
    assert synthesize([top, cell], top="top").cells_by_type == {"$_OR_": 1}


def test_ctrl_c_stops_a_library_and_keeps_the_costs_written(tmp_path):
    exact = find_design("mul8u_exact")
    source = tmp_path / "exact.v"
    shutil.copyfile(exact.files[0], source)
    artifact = characterize([source], backend="bitsim")
    paths = [save(artifact, tmp_path / f"m{k}.h5") for k in range(12)]
    stamps = {path: path.stat().st_mtime_ns for path in paths}
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "appmult", "cost", *map(str, paths), "-j", "2", "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while all(p.stat().st_mtime_ns == stamps[p] for p in paths) and time.monotonic() < deadline:
        time.sleep(0.05)  # until the first artifact has its cost
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, stderr = proc.communicate(timeout=30)
    latency, first = time.monotonic() - sent, sent - started
    assert proc.returncode == 130, stderr
    assert latency < max(2.0, 0.5 * first), (latency, first)  # the bound follows the machine's present load
    costed = [p for p in paths if load(p).cost is not None]
    assert costed and len(costed) < len(paths)
    assert stderr.startswith("interrupted: ") and "Traceback" not in stderr
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# --------------------------------------------------------------------------- bad input


def _one_line_error(capsys, argv: list[str]) -> str:  # noqa: ANN001
    code, out, err = _run(argv, capsys)
    assert code == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_without_yosys_on_path_cost_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    source = _write(tmp_path, "m", "module m(input a, input b, output y);\n  assign y = a & b;\nendmodule\n")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    line = _one_line_error(capsys, ["cost", str(source), "-q"])
    assert re.fullmatch(
        r"error: yosys not found on PATH: install it \(Debian/Ubuntu: .*apt-get install yosys.*", line
    )
    out = tmp_path / "never.h5"
    line = _one_line_error(
        capsys, ["characterize", str(FIXTURES / "ansi_exact4.v"), "--cost", "-o", str(out), "-q"]
    )
    assert "yosys not found on PATH" in line and not out.exists()


def test_a_netlist_yosys_rejects_is_one_line_naming_the_file(tmp_path, capsys):
    source = _write(
        tmp_path, "bad",
        "module g(input a, output y);\n  assign y = ~a;\nendmodule\n"
        "module bad(input a, output y);\n  g u(.nope(a), .y(y));\nendmodule\n",
    )  # fmt: skip
    line = _one_line_error(capsys, ["cost", str(source), "-q"])
    assert re.fullmatch(
        rf"error: {re.escape(str(source))}: Yosys rejects the netlist: .*port named 'nope'.*", line
    )


def test_a_combinational_loop_and_a_timeout_are_one_line(capsys):
    line = _one_line_error(capsys, ["cost", str(FIXTURES / "bad_loop.v"), "-q"])
    assert "bad_loop.v: the synthesized netlist has a combinational loop" in line
    line = _one_line_error(capsys, ["cost", str(ROOT / "rtl" / "mul8u_exact.v"), "--timeout", "0.01", "-q"])
    assert re.search(
        r"mul8u_exact.v: Yosys did not finish within 0.01 s \(raise the limit with --timeout\)", line
    )


def test_hostile_netlist_is_refused_before_yosys_runs(tmp_path, capsys, monkeypatch):
    """The screening comes first: a stand-in ``yosys`` that would leave a mark is never started."""
    tools = tmp_path / "bin"
    tools.mkdir()
    probe = tools / "yosys"
    probe.write_text(f"#!/bin/sh\ntouch {tmp_path}/yosys-ran\n")
    probe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:/usr/bin:/bin")
    source = _write(
        tmp_path, "hostile",
        "module h(input [3:0] A, B, output [7:0] O);\n  integer f;\n"
        f'  initial f = $fopen("{tmp_path}/canary", "w");\n  assign O = A * B;\nendmodule\n',
    )  # fmt: skip
    line = _one_line_error(capsys, ["cost", str(source), "-q"])
    assert re.search(r"hostile.v:3: \$fopen in module h could act outside .* pass --trust-netlist", line)
    assert not (tmp_path / "yosys-ran").exists() and not (tmp_path / "canary").exists()
    with pytest.raises(NetlistError, match=r"\$fopen"):
        synthesize([source])


@pytest.mark.parametrize("change", ["gone", "changed"])
def test_an_artifact_whose_sources_are_gone_or_changed_is_refused(tmp_path, capsys, change):
    source = tmp_path / "exact4.v"
    shutil.copyfile(FIXTURES / "ansi_exact4.v", source)
    artifact = save(characterize([source], backend="bitsim"), tmp_path / "a.h5")
    before = artifact.read_bytes()
    if change == "gone":
        source.unlink()
        pattern = rf"its source {re.escape(str(source))} is gone; .*restore it"
    else:
        source.write_text(source.read_text() + "// edited\n")
        pattern = rf"its source {re.escape(str(source))} is not the file it was made from \(SHA-256 "
    line = _one_line_error(capsys, ["cost", str(artifact), "-q"])
    assert re.fullmatch(rf"error: {re.escape(str(artifact))}: {pattern}.*", line), line
    assert artifact.read_bytes() == before
