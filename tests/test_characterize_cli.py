"""The characterize command end to end, and bad input: one clear line, non-zero exit, nothing lost."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from appmult.cli import cli
from appmult.core.artifact_file import load
from tests.conftest import FIXTURES

pytestmark = pytest.mark.icarus


def _appmult(*args: str, cwd) -> subprocess.CompletedProcess:
    """Run the real entry point in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "appmult", *args], capture_output=True, text=True, cwd=cwd)


def test_help_runs_as_a_command(tmp_path):
    proc = _appmult("--help", cwd=tmp_path)
    assert proc.returncode == 0
    for verb in ("characterize", "info", "list"):
        assert verb in proc.stdout


def test_characterize_writes_artifact_and_summary(tmp_path):
    out = tmp_path / "m.h5"
    result = CliRunner().invoke(
        cli,
        [
            "characterize",
            str(FIXTURES / "nonansi_shared_decl.v"),
            "-o",
            str(out),
            "--backend",
            "icarus",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    header, row = result.stdout.strip().splitlines()
    assert header.split()[:4] == ["artifact", "widths", "sign", "ER"]
    assert row.split()[:3] == ["m", "4x4", "uu"]
    art = load(out)
    a, b = np.meshgrid(art.operand_a, art.operand_b, indexing="ij")
    np.testing.assert_array_equal(art.product, a * b)
    assert art.simulator.startswith("icarus")
    info = CliRunner().invoke(cli, ["info", str(out)])
    assert info.exit_code == 0 and "er          0" in info.stdout


@pytest.mark.parametrize(
    "args, match",
    [
        pytest.param(
            ["missing.v", "--backend", "icarus"], r"missing.v: no such Verilog file", id="missing-file"
        ),
        pytest.param(["bad_syntax.v"], r"bad_syntax.v:\d+: syntax error", id="syntax"),
        pytest.param(["bad_two_tops.v"], r"bad_two_tops.v: cannot tell the top module", id="ambiguous"),
        pytest.param(["ansi_exact4.v", "--top", "nope"], r"top module 'nope' not found", id="no-top"),
        pytest.param(["bad_three_inputs.v"], r"bad_three_inputs.v:\d+: .*exactly two inputs", id="ports"),
        pytest.param(["wide17.v"], r"wide17.v:\d+: operand a .*17 bits wide", id="too-wide"),
        pytest.param(["bad_xout.v", "--backend", "icarus"], r"X or Z bits for a=3, b=5", id="x-output"),
        pytest.param(
            ["bad_loop.v", "--backend", "icarus", "--timeout", "5"],
            r"did not finish within 5 s.*combinational loop",
            id="never-settles",
        ),
    ],
)
def test_bad_input_gives_one_line_and_leaves_existing_artifact(tmp_path, args, match):
    existing = tmp_path / "out.h5"
    existing.write_bytes(b"previous artifact")
    source = str(FIXTURES / args[0]) if args[0] != "missing.v" else "missing.v"
    proc = _appmult("characterize", source, *args[1:], "-o", str(existing), "-q", cwd=tmp_path)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and re.search(match, lines[0]), lines[0]
    assert existing.read_bytes() == b"previous artifact"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.h5"]


def test_unwritable_output_is_a_clear_error(tmp_path):
    proc = _appmult(
        "characterize",
        str(FIXTURES / "ansi_exact4.v"),
        "-o",
        str(tmp_path / "no" / "x.h5"),
        "-q",
        "--backend",
        "icarus",
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    assert re.fullmatch(
        r"error: -o \S+x.h5: directory \S+ does not exist; create it or choose another\n", proc.stderr
    )
