"""Hostile netlists: refused before anything is simulated, and nothing reaches outside the run.

Each netlist of the corpus tries to write a canary file, read a secret file
into its table, or run a command, in a different place of the design (top
module, submodule, function, task, generate block, macro, included file,
second "cell library" file). Each must end with exit 1, one line naming
``file:line`` and the construct, no artifact, the canary absent and the
secret's contents nowhere in the output. Clean netlists of every style pass
(the other test modules), and ``--trust-netlist`` lets a trusted file through.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest

from appmult.characterize import sandbox
from appmult.cli import main
from appmult.core.artifact_file import load

HEADER = "module hostile(input [3:0] A, input [3:0] B, output [7:0] O);\n"


def _case(body: str, *, extra: str = "", cells: str = "") -> dict:
    return {"body": body, "extra": extra, "cells": cells}


#: name -> (Verilog around the multiplier, expected construct in the message, line of it in hostile.v).
CORPUS = {
    "fopen-fdisplay": (
        _case('  integer f;\n  initial begin f = $fopen("{canary}", "w"); $fdisplay(f, "pwned"); end\n'),
        r"\$fopen",
        3,
    ),
    "fwrite": (_case('  integer f;\n  initial $fwrite(f, "x");\n'), r"\$fwrite", 3),
    "readmemh": (
        _case('  reg [7:0] m [0:255];\n  initial $readmemh("{secret}", m);\n', extra=" + m[{A, B}]"),
        r"\$readmemh",
        3,
    ),
    "readmemb": (_case('  reg [7:0] m [0:255];\n  initial $readmemb("{secret}", m);\n'), r"\$readmemb", 3),
    "system": (_case('  initial $system("touch {canary}");\n'), r"\$system", 2),
    "dumpfile": (_case('  initial begin $dumpfile("{canary}"); $dumpvars; end\n'), r"\$dumpfile", 2),
    "display": (_case('  initial $display("hello");\n'), r"\$display", 2),
    "random": (_case("  wire [7:0] r = $random;\n", extra=" + r"), r"\$random", 2),
    "finish": (_case("  initial $finish;\n"), r"\$finish", 2),
    "in-function": (
        _case(
            '  function [7:0] f; input x; begin\n    $fopen("{canary}", "w"); f = 0;\n  end endfunction\n',
            extra=" + f(A[0])",
        ),
        r"\$fopen",
        3,
    ),
    "in-task": (  # a task nothing calls is refused all the same
        _case('  task t; input x; begin $system("touch {canary}"); end endtask\n'),
        r"\$system",
        2,
    ),
    "in-generate": (
        _case(
            "  genvar i;\n  generate for (i = 0; i < 1; i = i + 1) begin : g\n"
            '    initial $fopen("{canary}", "w");\n  end endgenerate\n'
        ),
        r"\$fopen",
        4,
    ),
    "in-macro": (
        _case('`define PAYLOAD $fopen("{canary}", "w")\n  initial `PAYLOAD;\n'),
        r"\$fopen",
        3,
    ),
    "in-submodule": (
        _case(
            "  helper h(.x(A[0]));\n",
            cells='module helper(input x);\n  initial $system("touch {canary}");\nendmodule\n',
        ),
        r"\$system",
        None,
    ),
    "include-absolute": (_case('`include "{secret}"\n'), r"`include", 2),
    "include-parent": (_case('`include "../../{secret_name}"\n'), r"`include", 2),
}


def _write(tmp_path: Path, name: str) -> tuple[list[Path], Path, Path, str]:
    """The case's files in a folder of their own, a canary path and a secret file with a fresh token."""
    case, _, _ = CORPUS[name]
    secret_token = secrets.token_hex(16)
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{secret_token}\n")
    canary = tmp_path / "canary.txt"
    folder = tmp_path / "a" / "b"
    folder.mkdir(parents=True)
    fill = {"canary": canary, "secret": secret, "secret_name": secret.name}
    body = case["body"]
    for key, value in fill.items():
        body = body.replace(f"{{{key}}}", str(value))
    extra = case["extra"]
    text = HEADER + body + f"  assign O = A * B{extra};\nendmodule\n"
    files = [folder / "hostile.v"]
    files[0].write_text(text)
    if case["cells"]:
        cells = case["cells"]
        for key, value in fill.items():
            cells = cells.replace(f"{{{key}}}", str(value))
        files.append(folder / "cells.v")
        files[1].write_text(cells)
    return files, canary, secret, secret_token


def _run(capsys, *args: str) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of the command line's entry point."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_info:
        code = exit_info.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("backend", ["auto", "icarus", "bitsim"])
@pytest.mark.parametrize("name", list(CORPUS))
def test_hostile_netlist_is_refused_before_simulation(tmp_path, capsys, name, backend):
    files, canary, secret, token = _write(tmp_path, name)
    output = tmp_path / "out.h5"
    code, out, err = _run(
        capsys, "characterize", *map(str, files), "--backend", backend, "-o", str(output), "-q"
    )
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    _, construct, line = CORPUS[name]
    assert re.search(construct, lines[0]), lines[0]
    if line is not None:
        assert f"hostile.v:{line}:" in lines[0], lines[0]
    else:
        assert "cells.v:2:" in lines[0], lines[0]
    assert ("--trust-netlist" in lines[0]) == (construct != "`include")
    assert not output.exists() and not canary.exists()
    assert token not in out + err
    assert secret.read_text().strip() == token  # the secret file is still there, unchanged


def test_verify_goes_through_the_same_check(tmp_path, capsys):
    files, canary, _, _ = _write(tmp_path, "fopen-fdisplay")
    code, out, err = _run(capsys, "verify", str(files[0]), "--against", "exact", "--backend", "icarus", "-q")
    assert code == 1 and "$fopen" in out + err and "--trust-netlist" in out + err and not canary.exists()


@pytest.mark.icarus
def test_trust_flag_lets_a_trusted_file_through(tmp_path, capsys):
    files, canary, _, _ = _write(tmp_path, "display")
    output = tmp_path / "out.h5"
    code, _, err = _run(capsys, "characterize", str(files[0]), "--trust-netlist", "-o", str(output), "-q")
    assert code == 0, err
    art = load(output)
    a, b = np.meshgrid(art.operand_a, art.operand_b, indexing="ij")
    np.testing.assert_array_equal(art.product, a * b)
    assert art.simulator.startswith("icarus")  # bitsim refuses `initial`; auto fell back
    assert art.sandbox == sandbox.describe()


@pytest.mark.icarus
def test_a_trusted_netlist_still_cannot_write_outside_its_run(tmp_path, capsys):
    """With the check skipped, the sandbox (where bubblewrap works) keeps the file from being written."""
    if not sandbox.available():
        pytest.skip("bubblewrap is not available on this machine")
    files, canary, _, _ = _write(tmp_path, "fopen-fdisplay")
    code, _, err = _run(
        capsys, "characterize", str(files[0]), "--trust-netlist", "-o", str(tmp_path / "o.h5"), "-q"
    )
    assert not canary.exists(), err


def test_a_python_installation_under_tmp_stays_visible_in_the_sandbox(tmp_path, monkeypatch):
    """The sandbox's empty /tmp must not hide a virtual environment under /tmp (cocotb's VPI is in it)."""
    if not sandbox.available():
        pytest.skip("bubblewrap is not available on this machine")
    venv = tmp_path / "clone" / ".venv"
    (venv / "lib").mkdir(parents=True)
    (venv / "lib" / "libcocotbvpi.so").write_text("vpi")
    monkeypatch.setattr(sandbox, "_python_roots", lambda: [str(venv)])
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    command = sandbox.wrap(["/bin/cat", str(venv / "lib" / "libcocotbvpi.so")], run_dir)
    result = subprocess.run(command, capture_output=True, text=True, env=sandbox.environment(), check=False)
    assert (result.returncode, result.stdout) == (0, "vpi"), result.stderr
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    hidden = sandbox.wrap(["/bin/cat", str(outside)], run_dir)
    assert subprocess.run(hidden, capture_output=True, env=sandbox.environment(), check=False).returncode != 0


def test_allow_list_is_documented_and_small():
    from appmult.characterize.safety import ALLOWED_SYSTEM_CALLS

    assert ALLOWED_SYSTEM_CALLS == {"signed", "unsigned", "clog2"}
    text = textwrap.dedent(Path(sandbox.__file__).with_name("safety.py").read_text())
    for name in ALLOWED_SYSTEM_CALLS:
        assert f"``${name}``" in text
