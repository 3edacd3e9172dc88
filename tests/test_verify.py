"""verify: exhaustive comparison against exact, model, artifact and the other backend."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from appmult.characterize.verify import Mismatch, verify
from appmult.cli import cli
from appmult.core.artifact import save
from appmult.core.errors import AppMultError, ParameterError
from appmult.core.manifest import find_design
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


def test_against_artifact_and_against_other_backend(tmp_path, wrong_netlist, characterized):
    exact = characterized([FIXTURES / "ansi_exact4.v"])
    reference = save(exact, tmp_path / "exact4.h5")
    report = verify([wrong_netlist], str(reference), backend="icarus")
    assert report.mismatches == 2 and report.first[0] == Mismatch(3, 5, 15, 0)
    wrong = verify([wrong_netlist], "exact", backend="bitsim")
    assert wrong.mismatches == 2  # the cross-backend path below can find a difference
    across = verify([FIXTURES / "pdkgen_style_8x8.v"], "icarus", backend="bitsim")
    assert across.ok and across.pairs == 65536 and across.backend.startswith("bitsim")
    with pytest.raises(ParameterError, match="compares a simulation with itself"):
        verify([FIXTURES / "ansi_exact4.v"], "icarus", backend="icarus")


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
