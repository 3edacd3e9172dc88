"""verify: exhaustive comparison against exact, model, artifact and the other backend."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from appmult.characterize.verify import Mismatch, verify
from appmult.cli import cli
from appmult.core.artifact_file import save
from appmult.core.errors import AppMultError, ParameterError
from appmult.core.manifest import RTL_DIR, find_design
from tests.conftest import FIXTURES

pytestmark = pytest.mark.icarus

WRONG = """\
module wrong4(input [3:0] A, input [3:0] B, output [7:0] O);
  // exact except two deliberately wrong pairs
  assign O = (A == 4'd3 && B == 4'd5) ? 8'd0 : (A == 4'd15 && B == 4'd1) ? 8'd16 : A * B;
endmodule
"""


@pytest.fixture
def wrong_netlist(tmp_path):
    path = tmp_path / "wrong4.v"
    path.write_text(WRONG)
    return path


def test_wrong_netlist_is_caught_with_first_mismatches(wrong_netlist):
    report = verify([wrong_netlist], "exact", backend="icarus")
    assert report.pairs == 256 and report.mismatches == 2
    assert report.first == (Mismatch(3, 5, 15, 0), Mismatch(15, 1, 15, 16))


def test_against_artifact(tmp_path, wrong_netlist, characterized):
    exact = characterized([FIXTURES / "ansi_exact4.v"])
    reference = save(exact, tmp_path / "exact4.h5")
    report = verify([wrong_netlist], str(reference), backend="icarus")
    assert report.mismatches == 2 and report.first[0] == Mismatch(3, 5, 15, 0)


@pytest.mark.parametrize(
    ("backend", "against", "sources", "pairs"),
    [
        pytest.param("bitsim", "icarus", ["pdkgen_style_8x8.v"], 65536, id="bitsim-vs-icarus-8x8"),
        pytest.param(
            "icarus", "bitsim", ["two_files_top.v", "two_files_cells.v"], 256, id="icarus-vs-bitsim-4x4"
        ),
    ],
)
def test_other_backend_agrees_on_a_real_netlist(backend, against, sources, pairs):
    """The two backends on real gate-level fixtures, each in turn the other's reference."""
    report = verify([FIXTURES / f for f in sources], against, backend=backend)
    assert report.ok and report.pairs == pairs
    assert report.backend.startswith(backend) and report.against == against


def test_the_bitsim_side_of_the_cross_check_does_find_errors(wrong_netlist):
    """bitsim, the subject of the cross-check above, is not blind: it finds the planted errors."""
    wrong = verify([wrong_netlist], "exact", backend="bitsim")
    assert wrong.backend.startswith("bitsim")
    assert wrong.mismatches == 2 and wrong.first == (Mismatch(3, 5, 15, 0), Mismatch(15, 1, 15, 16))


@pytest.mark.parametrize(("against", "other"), [("bitsim", "icarus"), ("icarus", "bitsim")])
def test_auto_against_a_backend_means_the_other_one(against, other):
    """bitsim supports this netlist, so plain auto would pick bitsim and compare it with itself."""
    report = verify([FIXTURES / "ansi_exact4.v"], against, backend="auto")
    assert report.ok and report.backend.startswith(other)


@pytest.mark.parametrize("backend", ["icarus", "bitsim"])
def test_a_backend_against_itself_is_refused(backend):
    with pytest.raises(ParameterError, match="compares a simulation with itself"):
        verify([FIXTURES / "ansi_exact4.v"], backend, backend=backend)


def test_artifact_with_other_operands_is_refused(tmp_path, wrong_netlist, characterized):
    other = save(characterized([FIXTURES / "nonsquare_6x3.v"]), tmp_path / "x.h5")
    with pytest.raises(AppMultError, match=r"x.h5: operands are 6x3-bit u/u but the netlist's are 4x4"):
        verify([wrong_netlist], str(other), backend="icarus")


def test_builtin_design_matches_its_model():
    design = find_design("mul6u_trunc4")
    report = verify(design.files, "model", backend="icarus")
    assert report.ok and report.design == "mul6u_trunc4" and report.pairs == 4096


def test_model_needs_a_builtin_design(wrong_netlist):
    with pytest.raises(ParameterError, match=r"wrong4.v: not a built-in design"):
        verify([wrong_netlist], "model", backend="icarus")


def test_cli_prints_mismatches_and_exits_1(wrong_netlist):
    result = CliRunner().invoke(
        cli, ["verify", str(wrong_netlist), "--against", "exact", "--backend", "icarus", "-q"]
    )
    assert result.exit_code == 1
    assert "a=3 b=5: expected 15, got 0" in result.stdout
    assert "1 of 1 verifications found mismatches or failed" in result.stderr


# -- a built-in design edited: the reference model finds it ------------------------------------

DRUM_UNBIASING = "assign ma = wa ? ((A >> sa) | 8'd1) : A[3:0];"

# mul8u_drum4 without the unbiasing bit of operand A. A reduced a (a >= 16) changes exactly
# when bit s of a is 0 (s = leading one - 3): half of each octave 16..31 (s = 1), 32..63,
# 64..127, 128..255, i.e. 8 + 16 + 32 + 64 = 120 values of a, each wrong for all 255 b != 0.
# First differences in value order: a = 16 -> (8 | 1) << 1 = 18 in the model, 16 in the copy.
DRUM_MISMATCHES = 120 * 255
DRUM_FIRST = (Mismatch(16, 1, 18, 16), Mismatch(16, 2, 36, 32), Mismatch(16, 3, 54, 48))


@pytest.fixture
def edited_drum(tmp_path):
    """A copy of mul8u_drum4.v (same top) whose operand A loses DRUM's unbiasing bit."""
    design = find_design("mul8u_drum4")
    (source,) = design.files
    text = source.read_text()
    assert text.count(DRUM_UNBIASING) == 1
    path = tmp_path / "mul8u_drum4.v"
    path.write_text(text.replace(DRUM_UNBIASING, "assign ma = wa ? (A >> sa) : A[3:0];"))
    return design, path


def test_edited_design_against_its_model_reports_mismatches(edited_drum):
    design, path = edited_drum
    report = verify([path], "model", backend="bitsim", design=design, limit=3)
    assert report.backend.startswith("bitsim") and report.pairs == 65536
    assert report.first == DRUM_FIRST and report.mismatches == DRUM_MISMATCHES


def test_cli_edited_design_against_model(edited_drum, monkeypatch):
    """``appmult verify FILE --against model --backend bitsim`` on a library whose drum4 file was edited.

    The CLI finds a file's model through the manifest entry that lists exactly that
    file; the library folder is pointed at a copy of the manifest next to the edited file.
    """
    design, path = edited_drum
    shutil.copy(RTL_DIR / "manifest.toml", path.parent / "manifest.toml")
    monkeypatch.setattr("appmult.core.manifest.RTL_DIR", path.parent)
    argv = ["verify", str(path), "--against", "model", "--backend", "bitsim", "--show", "3", "-j", "1", "-q"]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 1, result.output
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("mul8u_drum4")]
    assert row.split()[-3:] == ["model", "65536", str(DRUM_MISMATCHES)]
    for m in DRUM_FIRST:
        assert f"a={m.a} b={m.b}: expected {m.expected}, got {m.actual}" in result.stdout
    assert "1 of 1 verifications found mismatches or failed" in result.stderr


def test_cli_builtin_design_against_model_passes():
    (source,) = find_design("mul8u_drum4").files
    argv = ["verify", str(source), "--against", "model", "--backend", "bitsim", "-j", "1", "-q"]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0, result.output
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("mul8u_drum4")]
    assert row.split()[-3:] == ["model", "65536", "0"]
