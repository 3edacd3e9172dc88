"""Signedness from the table itself, when neither the ports nor a flag say.

EvoApprox's ``mul8s_*`` netlists declare plain ``input [7:0] A`` ports; read as
unsigned, mul8s_1KR3 would get MAE 25,960 instead of its published 2,016.
The four readings of one simulation are compared with the exact product; the
clear winner is taken, a close call keeps the declared (unsigned) reading.
"""

from __future__ import annotations

import numpy as np
import pytest

from appmult.characterize import characterize
from appmult.characterize.reference_models import reference_product
from appmult.core.manifest import find_design
from tests.conftest import FIXTURES


def _netlist(tmp_path, name: str, body: str, width_a: int = 4, width_b: int = 4, out: int = 8):
    path = tmp_path / f"{name}.v"
    path.write_text(
        f"module {name}(A, B, O);\n  input [{width_a - 1}:0] A;\n  input [{width_b - 1}:0] B;\n"
        f"  output [{out - 1}:0] O;\n  {body}\nendmodule\n"
    )
    return path


def _exact(art) -> np.ndarray:  # noqa: ANN001
    return np.multiply.outer(art.operand_a.astype(np.int64), art.operand_b)


@pytest.mark.parametrize(
    ("source", "signed_a", "signed_b"),
    [
        pytest.param(FIXTURES / "pdkgen_style_8x8.v", True, True, id="signed-exact-8x8-gate-level"),
        pytest.param(FIXTURES / "evo_sig_style_8x8.v", False, False, id="unsigned-exact-8x8"),
        pytest.param(FIXTURES / "nonsquare_6x3.v", False, False, id="unsigned-exact-6x3"),
    ],
)
def test_exact_netlists_without_signed_ports(source, signed_a, signed_b):
    art = characterize([source], backend="bitsim")
    assert (art.signed_a, art.signed_b) == (signed_a, signed_b)
    np.testing.assert_array_equal(art.product, _exact(art))
    expected = (
        "inferred signed x signed" if signed_a else "declared unsigned (no signed keyword), as the table"
    )
    assert art.signedness.startswith(expected), art.signedness


@pytest.mark.parametrize(
    ("design", "signed"),
    [
        pytest.param("mul8s_trunc6", True, id="signed-approximate-8x8"),
        pytest.param("mul8u_drum4", False, id="unsigned-approximate-8x8"),
        pytest.param("mul8u_kulkarni", False, id="unsigned-approximate-kulkarni"),
    ],
)
def test_approximate_library_designs_without_a_flag(design, signed):
    built_in = find_design(design)
    art = characterize(
        built_in.files, top=built_in.top, backend="bitsim"
    )  # no --signed: the ports say nothing
    assert (art.signed_a, art.signed_b) == (signed, signed) == (built_in.signed, built_in.signed)
    np.testing.assert_array_equal(art.product, reference_product(built_in))


def test_signed_non_square_and_mixed_designs(tmp_path):
    square = _netlist(tmp_path, "s6x3", "assign O = $signed(A) * $signed(B);", 6, 3, 9)
    mixed = _netlist(tmp_path, "su6x3", "assign O = $signed(A) * $signed({1'b0, B});", 6, 3, 9)
    for path, expected in ((square, (True, True)), (mixed, (True, False))):
        art = characterize([path], backend="bitsim")
        assert (art.signed_a, art.signed_b) == expected, art.signedness
        np.testing.assert_array_equal(art.product, _exact(art))
        assert art.signedness.startswith("inferred")


def test_a_close_call_keeps_the_declared_reading_and_says_which_flag_settles_it(tmp_path):
    # a multiplier that always outputs 0: mean |0 - a*b| is 16 read signed x signed and 30 for the
    # mixed readings, less than twice apart
    zero = _netlist(tmp_path, "zero4", "assign O = 8'd0;")
    art = characterize([zero], backend="bitsim")
    assert (art.signed_a, art.signed_b) == (False, False)
    assert art.signedness.startswith("undecided") and "pass --signed or --unsigned" in art.signedness
    assert "signed x signed 16, signed x unsigned 30, unsigned x signed 30, unsigned x unsigned 56.25" in (
        art.signedness
    )


def test_flags_and_signed_keywords_always_win(tmp_path):
    signed_ports = tmp_path / "kw.v"
    signed_ports.write_text(
        "module kw(input signed [3:0] A, input [3:0] B, output [7:0] O);\n  assign O = A * B;\nendmodule\n"
    )
    declared = characterize([signed_ports], backend="bitsim")
    assert (declared.signed_a, declared.signed_b) == (True, False)
    assert declared.signedness == "declared by the ports' signed keyword"
    flagged = characterize([FIXTURES / "pdkgen_style_8x8.v"], backend="bitsim", signed=False)
    assert (flagged.signed_a, flagged.signed_b) == (False, False) and flagged.signedness == "flag --unsigned"
    assert flagged.metrics["med"] > 1000  # read as unsigned, the signed table is far from a*b


@pytest.mark.icarus
def test_icarus_reads_the_same_words_the_same_way():
    art = characterize([FIXTURES / "pdkgen_style_8x8.v"], backend="icarus")
    assert (art.signed_a, art.signed_b) == (True, True)
    np.testing.assert_array_equal(art.product, _exact(art))
