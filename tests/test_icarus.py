"""The cocotb + Icarus reference backend on the fixture netlists, against independent models.

Each fixture covers one coding style; the expected function is written here
from the fixture's documented definition, not from its Verilog.
"""

from __future__ import annotations

import numpy as np
import pytest

from appmult.characterize.backends.scalarize import scalarize
from tests.conftest import FIXTURES


def _truncated(a, b, width_a, width_b, k):
    """Sum of a_i b_j 2^(i+j) over partial products with i + j >= k (unsigned)."""
    total = np.zeros(np.broadcast(a, b).shape, dtype=np.int64)
    for i in range(width_a):
        for j in range(width_b):
            if i + j >= k:
                total += (((a >> i) & 1) * ((b >> j) & 1)) << (i + j)
    return total


def _readback(a, b):
    p = a * b
    return p | (((p >> 3) & 1) << 5)


FIXTURE_FUNCTIONS = [
    # file(s), signed, expected(a, b) -- style covered
    pytest.param(["ansi_exact4.v"], None, lambda a, b: a * b, id="ansi-behavioural"),
    pytest.param(["nonansi_shared_decl.v"], None, lambda a, b: a * b, id="non-ansi-Z-output"),
    pytest.param(["helpers_after_top.v"], None, lambda a, b: a * b, id="cells-after-top"),
    pytest.param(["two_files_top.v", "two_files_cells.v"], None, lambda a, b: a * b, id="two-files"),
    pytest.param(["evo_sig_style_8x8.v"], None, lambda a, b: a * b, id="evo-sig-8x8"),
    pytest.param(["pdkgen_style_8x8.v"], True, lambda a, b: a * b, id="evo-pdkgen-signed-8x8"),
    pytest.param(["nbus_style_8x8.v"], None, lambda a, b: _truncated(a, b, 8, 8, 8), id="evo-nbus-8x8"),
    pytest.param(["output_readback.v"], None, _readback, id="output-read-back"),
    pytest.param(["signed_exact4.v"], True, lambda a, b: a * b, id="signed-4x4"),
    pytest.param(["nonsquare_6x3.v"], None, lambda a, b: a * b, id="non-square-6x3"),
]


@pytest.mark.icarus
@pytest.mark.parametrize("files, signed, expected", FIXTURE_FUNCTIONS)
def test_icarus_matches_the_documented_function(characterized, files, signed, expected):
    art = characterized([FIXTURES / f for f in files], signed=signed)
    a = art.operand_a.astype(np.int64)[:, None]
    b = art.operand_b.astype(np.int64)[None, :]
    np.testing.assert_array_equal(art.product, expected(a, b))
    assert art.simulator.startswith("icarus")


@pytest.mark.icarus
def test_signed_axes_are_in_value_order(characterized):
    art = characterized([FIXTURES / "signed_exact4.v"], signed=True)
    assert list(art.operand_a) == list(range(-8, 8))
    assert art.product[0, -1] == -8 * 7  # a = -8, b = 7: negative products are negative
    assert art.product[0, 0] == 64


def test_scalarize_splits_only_bit_driven_internal_vectors():
    text = (
        "module m(input [1:0] A, input [1:0] B, output [3:0] O);\n"
        "  wire [2:0] N;  // N[0] per bit\n"
        "  wire [1:0] v;\n"
        "  assign N[0] = A[0] & B[0];\n"
        "  assign N[2] = A[1];\n"
        "  assign v = A;\n"
        "  assign O = {v, N[2], N[0]};\n"
        "endmodule\n"
    )
    out, names = scalarize(text)
    assert names == ["N"]
    assert "wire N__0, N__1, N__2;" in out and "assign N__2 = A[1];" in out
    assert "wire [1:0] v;" in out  # used whole: left alone
    assert out.count("\n") == text.count("\n")


def test_scalarize_splits_a_bit_driven_output_port_that_is_read_back():
    text = (
        "module m(A, B, O);\n"
        "  input [1:0] A, B;\n"
        "  output [3:0] O;\n"
        "  wire [3:0] O;\n"
        "  assign O[0] = A[0] & B[0];\n"
        "  assign O[1] = O[0] | A[1];\n"
        "  assign O[2] = B[1];\n"
        "  assign O[3] = O[1];\n"
        "endmodule\n"
        "module cell(input [1:0] x, output [1:0] O);\n"
        "  assign O = x;\n"
        "endmodule\n"
    )
    out, names = scalarize(text)
    assert names == ["O"]
    assert "output [3:0] O; wire O__0, O__1, O__2, O__3;" in out
    assert "assign O__1 = O__0 | A[1];" in out and "assign O__3 = O__1;" in out
    assert "assign O = {O__3, O__2, O__1, O__0}; endmodule" in out
    assert "assign O = x;" in out  # the cell's port is used whole: left alone
    assert out.count("\n") == text.count("\n")
