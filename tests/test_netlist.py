"""Port discovery on hand-written netlists in each coding style."""

from __future__ import annotations

import pytest

from appmult.characterize.netlist import discover
from appmult.core.errors import NetlistError
from tests.conftest import FIXTURES


@pytest.mark.parametrize(
    "files, top, a, b, out",
    [
        pytest.param(["ansi_exact4.v"], None, ("a", 4), ("b", 4), ("p", 8), id="ansi"),
        pytest.param(["nonansi_shared_decl.v"], None, ("A", 4), ("B", 4), ("Z", 8), id="shared-decl"),
        pytest.param(["helpers_after_top.v"], None, ("A", 4), ("B", 4), ("Y", 8), id="helpers-after-top"),
        pytest.param(
            ["two_files_top.v", "two_files_cells.v"], None, ("A", 4), ("B", 4), ("O", 8), id="two-files"
        ),
        pytest.param(["evo_sig_style_8x8.v"], None, ("A", 8), ("B", 8), ("O", 16), id="sig-style"),
        pytest.param(["pdkgen_style_8x8.v"], None, ("A", 8), ("B", 8), ("O", 16), id="pdkgen-style"),
        pytest.param(["nbus_style_8x8.v"], None, ("A", 8), ("B", 8), ("O", 16), id="nbus-style"),
        pytest.param(["nonsquare_6x3.v"], None, ("A", 6), ("B", 3), ("O", 9), id="non-square"),
    ],
)
def test_ports_found_in_each_style(files, top, a, b, out):
    interface = discover([FIXTURES / f for f in files], top=top)
    assert (interface.a.name, interface.a.width) == a
    assert (interface.b.name, interface.b.width) == b
    assert (interface.out.name, interface.out.width) == out
    assert not interface.signed_a and not interface.signed_b


def test_signed_keyword_and_override(tmp_path):
    src = tmp_path / "s.v"
    src.write_text(
        "module s(input signed [3:0] x, input signed [3:0] y, output signed [7:0] p);\n"
        "  assign p = x * y;\nendmodule\n"
    )
    assert discover([src]).signed_a and discover([src]).signed_b
    assert not discover([src], signed=False).signed_a


def test_parameterized_widths_and_several_modules(tmp_path):
    src = tmp_path / "p.v"
    src.write_text(
        "module helper(input [1:0] i, output [1:0] o); assign o = i; endmodule\n"
        "module mul #(parameter W = 5) (A, B, O);\n"
        "  localparam OW = 2 * W;\n"
        "  input [W-1:0] A; input [W-1:0] B; output [OW-1:0] O;\n"
        "  wire [1:0] t; helper h(.i(A[1:0]), .o(t));\n"
        "  assign O = A * B;\nendmodule\n"
    )
    interface = discover([src])
    assert interface.top == "mul" and interface.a.width == 5 and interface.out.width == 10


def test_top_named_explicitly_among_two_roots():
    interface = discover([FIXTURES / "bad_two_tops.v"], top="second_top")
    assert interface.top == "second_top"


@pytest.mark.parametrize(
    "files, top, match",
    [
        pytest.param(["missing.v"], None, r"missing.v: no such Verilog file", id="missing-file"),
        pytest.param(["bad_syntax.v"], None, r"bad_syntax.v:\d+: syntax error", id="syntax"),
        pytest.param(["bad_two_tops.v"], None, r"cannot tell the top module .*--top", id="ambiguous-top"),
        pytest.param(["ansi_exact4.v"], "nope", r"top module 'nope' not found", id="missing-top"),
        pytest.param(["bad_three_inputs.v"], None, r"exactly two inputs .* and one output", id="3-inputs"),
        pytest.param(["bad_two_outputs.v"], None, r"exactly two inputs .* and one output", id="2-outputs"),
        pytest.param(["wide17.v"], None, r"wide17.v:\d+: operand a .* is 17 bits wide", id="too-wide"),
        pytest.param(["two_files_top.v"], None, r"instantiates \w+, which none of the given", id="no-cells"),
    ],
)
def test_bad_netlists_are_named_with_their_cause(files, top, match):
    with pytest.raises(NetlistError, match=match):
        discover([FIXTURES / f for f in files], top=top)


def test_form_icarus_accepts_but_pyverilog_refuses_is_named(tmp_path):
    src = tmp_path / "multi.v"
    src.write_text(
        "module m(input [1:0] A, input [1:0] B, output [3:0] O);\n"
        "  wire x, y;\n  assign x = A[0], y = B[0];\n  assign O = A * B + x + y;\nendmodule\n"
    )
    with pytest.raises(NetlistError, match=r"multi.v: pyverilog cannot parse .*line:3.*Icarus accepts it"):
        discover([src])
