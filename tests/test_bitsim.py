"""The bitsim backend agrees bit for bit with the Icarus reference, and says what it cannot do.

Each hand-written design below exercises one construct (or one corner of
Verilog's width and signedness rules) and is compared exhaustively with
Icarus; so are the fixture netlists and the built-in library. 12-bit designs
are checked against the exact product, and against Icarus on a random sample
of operand pairs (exhaustively only under the ``slow`` marker).
"""

from __future__ import annotations

import re
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest

from appmult.characterize import characterize, discover
from appmult.characterize.backends.bitsim import BitsimBackend
from appmult.characterize.signedness import read_words
from appmult.core.errors import NetlistError, SimulationError, UnsupportedConstruct
from appmult.core.manifest import load_manifest
from appmult.core.operands import operand_values

FIXTURES = Path(__file__).parent / "fixtures" / "netlists"

_FULL_ADDER = """
module fa(a, b, ci, s, co);
  input a, b, ci;
  output s, co;
  assign s = a ^ b ^ ci;
  assign co = (a & b) | (ci & (a ^ b));
endmodule
"""

#: A 3-bit ripple-carry adder of ``fa`` cells with positional ports: O = A + B.
_RIPPLE_ADDER = """
module m(A, B, O);
  input [2:0] A, B;
  output [3:0] O;
  wire c0, c1;
  fa f0 (A[0], B[0], 1'b0, O[0], c0);
  fa f1 (A[1], B[1], c0, O[1], c1);
  fa f2 (A[2], B[2], c1, O[2], O[3]);
endmodule
"""

#: name -> (Verilog source, characterize options). Operands A, B; output O.
CONSTRUCTS: dict[str, tuple[str, dict]] = {
    "vector-add-concat-lhs": (
        """
        module m(input [3:0] A, input [3:0] B, output [7:0] O);
          wire c; wire [3:0] s;
          assign {c, s} = A + B;
          assign {O[7:5], O[4:0]} = {A[2:0], c, s} ^ {B, A};
        endmodule
        """,
        {},
    ),
    "instance-expression-ports": (
        """
        module fa(input a, input b, input ci, output s, output co);
          assign s = a ^ b ^ ci;
          assign co = (a & b) | (ci & (a ^ b));
        endmodule
        module m(input [3:0] A, input [3:0] B, output [3:0] O);
          fa u0 (.a(A[0] & B[1]), .b(~(A[1] | B[0])), .ci(1'b1), .s(O[0]), .co(O[1]));
          fa u1 (.co(O[3]), .s(O[2]), .ci(^A), .b(B[3:2] == A[1:0]), .a(A[3]));
        endmodule
        """,
        {},
    ),
    "positional-ports": (_FULL_ADDER + _RIPPLE_ADDER, {}),
    "output-read-back": (
        """
        module m(input [3:0] A, input [3:0] B, output [5:0] O);
          assign O[0] = A[0] & B[0];
          assign O[1] = O[0] ^ A[1];
          assign O[5:4] = {O[1], O[0]} + B[1:0] + O[3:2];
          assign O[3:2] = A[3:2] | B[1:0];
        endmodule
        """,
        {},
    ),
    "non-square": (
        """
        module m(input [4:0] A, input [2:0] B, output [7:0] O);
          assign O = A * B;
        endmodule
        """,
        {},
    ),
    "signed-ports": (
        """
        module m(input signed [3:0] A, input signed [3:0] B, output signed [7:0] O);
          assign O = A * B - (A >>> 1);
        endmodule
        """,
        {},
    ),
    "dollar-signed": (
        """
        module m(input [3:0] A, input [3:0] B, output [7:0] O);
          wire signed [7:0] p = $signed(A) * $signed(B);
          assign O = p + $signed(A[1:0]) + $unsigned($signed(B[3:2]));
        endmodule
        """,
        {"signed": True},
    ),
    "mixed-signedness": (
        """
        module m(input signed [3:0] A, input [3:0] B, output [7:0] O);
          assign O = (A + B) ^ (A * $signed(B)) ^ {A < $signed(B), A < B, A >>> 2};
        endmodule
        """,
        {},
    ),
    "parameters": (
        """
        module m #(parameter W = 4) (input [W-1:0] A, input [W-1:0] B, output [2*W-1:0] O);
          localparam K = 3;
          localparam [3:0] M = 4'b1010;
          parameter S = K + 1;
          assign O = A * K + (B ^ M) + {S};
        endmodule
        """,
        {},
    ),
    "parameter-override": (
        """
        module add #(parameter N = 8) (input [N-1:0] x, input [N-1:0] y, output [N:0] z);
          assign z = x + y;
        endmodule
        module m(input [3:0] A, input [3:0] B, output [5:0] O);
          wire [4:0] s; wire [3:0] t;
          add #(4) u0 (A, B, s);
          add #(.N(3)) u1 (.x(A[3:1]), .y(B[2:0]), .z(t));
          assign O = s + t;
        endmodule
        """,
        {},
    ),
    "repetition": (
        """
        module m(input [3:0] A, input [3:0] B, output [7:0] O);
          assign O = ({4{A[0]}} & B) | {{2{A[3:2]}}, B} ^ {8{B[1]}};
        endmodule
        """,
        {},
    ),
    "part-selects": (
        """
        module m(input [3:0] A, input [0:3] B, output [7:0] O);
          wire [7:0] v = {A, B};
          assign O = {A[3:2] + B[2:3], v[5+:2], v[4-:3], B[0:1] * A[1:0]};
        endmodule
        """,
        {},
    ),
    "conditional": (
        """
        module m(input [3:0] A, input [3:0] B, output [7:0] O);
          assign O = A > B ? A - B : (B == 4'd0 ? 8'hff : (A[0] ? {A, B} : -B));
        endmodule
        """,
        {},
    ),
    "shifts": (
        """
        module m(input [3:0] A, input [3:0] B, output [7:0] O);
          wire signed [7:0] s = $signed({A, B});
          assign O = (A << B[1:0]) ^ ({4'b0, B} >> A[1:0]) ^ (s >>> A[2:0]) ^ (A <<< 3) ^ (B >> 9);
        endmodule
        """,
        {},
    ),
    "comparisons": (
        """
        module m(input [3:0] A, input [3:0] B, output [9:0] O);
          assign O = {A < B, A <= B, A > B, A >= B, A == B, A != B, A === B, A !== B,
                      $signed(A) < $signed(B), $signed(A) >= $signed(B)};
        endmodule
        """,
        {},
    ),
    "reductions-logical": (
        """
        module m(input [3:0] A, input [3:0] B, output [8:0] O);
          assign O = {&A, |B, ^A, ~&B, ~|A, ~^B, A && B, !A || B[0], !(A & B)};
        endmodule
        """,
        {},
    ),
    "width-rules": (
        """
        module m(input [3:0] A, input [3:0] B, output [7:0] O);
          wire [3:0] t = A + B;
          wire [7:0] u = (A + B) >> 1;
          assign O = u ^ ~A ^ -B ^ {4'd0, t} ^ (A + 1) ^ (B - 'd1);
        endmodule
        """,
        {},
    ),
    "gate-primitives": (
        """
        module m(input [3:0] A, input [3:0] B, output [7:0] O);
          and g0 (O[0], A[0], B[0]);
          xor g1 (O[1], A[1], B[1], A[0]);
          not g2 (O[2], O[3], B[2]);
          nand g3 (O[4], A[3], B[3]);
          nor g4 (O[5], A[2], B[1]);
          xnor g5 (O[6], A[1], B[2]);
          or g6 (n, A[0], B[3]);
          buf g7 (O[7], n);
        endmodule
        """,
        {},
    ),
    "wide-internal-vector": (
        """
        module m(input [3:0] A, input [3:0] B, output [7:0] O);
          wire [31:0] w;
          assign w[31:8] = 0;
          assign w[7:0] = A * B;
          assign O = w[7:0] + w[31:24];
        endmodule
        """,
        {},
    ),
    "sign-extension-through-ports": (
        """
        module neg(input signed [3:0] x, output signed [3:0] y, output [4:0] z);
          assign y = -x;
          assign z = x;
        endmodule
        module m(input [3:0] A, input [3:0] B, output [15:0] O);
          wire signed [7:0] y8; wire [7:0] z8;
          localparam signed [3:0] NEG = -3;
          parameter P = 2;
          neg u (.x($signed(B)), .y(y8), .z(z8));
          assign O = {y8, z8} ^ ~A[0] ^ (A + -1) ^ {A + B} ^ {&(A + B), 7'd0} ^ (NEG * $signed(A))
                   ^ ($signed(A) > B) ^ {P{A}} ^ (P > 1 ? -$signed(B) : B) ^ ({B, A} >>> 2)
                   ^ ($signed(B) ? $signed(A) : B) ^ (-$signed(A) >>> 1);
        endmodule
        """,
        {},
    ),
    "signed-context": (
        """
        module m(input signed [3:0] A, input signed [3:0] B, output signed [9:0] O);
          wire signed [9:0] w = A * B;
          wire [9:0] u = A * B;
          assign O = w + u[9:1] + (A <<< 2) + (B >>> A[1:0]) + ((A < 0) ? -A : A) + $unsigned(A)
                   + (A >> 1);
        endmodule
        """,
        {},
    ),
    "masked-undriven-net": (
        """
        module m(input [3:0] A, input [3:0] B, output [7:0] O);
          wire t;
          assign O = (A * B) | {7'd0, t & 1'b0};
        endmodule
        """,
        {},
    ),
}


def _write(directory: Path, name: str, source: str) -> Path:
    path = directory / f"{name}.v"
    path.write_text(textwrap.dedent(source))
    return path


def _assert_same(bitsim, icarus) -> None:
    assert bitsim.simulator.startswith("bitsim (pyverilog")
    assert icarus.simulator.startswith("icarus")
    mismatched = np.argwhere(bitsim.product != icarus.product)
    detail = [(bitsim.operand_a[i], bitsim.operand_b[j]) for i, j in mismatched[:5]]
    assert mismatched.size == 0, f"{len(mismatched)} pairs differ, first (a, b): {detail}"


@pytest.mark.icarus
@pytest.mark.parametrize(
    ("source", "options"), [pytest.param(*CONSTRUCTS[name], id=name) for name in CONSTRUCTS]
)
def test_construct_matches_icarus(tmp_path, characterized, source, options):
    path = _write(tmp_path, "design", source)
    _assert_same(characterize([path], backend="bitsim", **options), characterized([path], **options))


def test_helper_module_in_another_file(tmp_path):
    top = _write(tmp_path, "top", _RIPPLE_ADDER)
    cells = _write(tmp_path, "cells", _FULL_ADDER)
    art = characterize([top, cells], backend="bitsim")
    a, b = np.meshgrid(art.operand_a, art.operand_b, indexing="ij")
    assert np.array_equal(art.product, a + b)


# -- the fixture netlists and the built-in library ---------------------------------------------


def _fixtures() -> list:
    """The valid multipliers of the fixtures' README.md ("Valid multipliers" table).

    Each row names the file(s), the top's file first, and whether the
    operands are signed (the ports are plain vectors there).
    """
    section = (FIXTURES / "README.md").read_text().split("## Valid multipliers")[1].split("\n## ")[0]
    params = []
    for row in section.splitlines():
        cells = row.strip("| ").split("|")
        files = re.findall(r"`([\w.]+\.v)`", cells[0]) if row.startswith("|") else []
        if files:
            options = {"signed": "yes" in cells[3]}
            params.append(
                pytest.param([FIXTURES / f for f in files], options, id=files[0].removesuffix(".v"))
            )
    return params


@pytest.mark.icarus
@pytest.mark.parametrize(("sources", "options"), _fixtures())
def test_fixture_matches_icarus(characterized, sources, options):
    _assert_same(characterize(sources, backend="bitsim", **options), characterized(sources, **options))


def _library_params() -> list:
    """Every built-in design; 12-bit ones need minutes in Icarus, hence ``slow``."""
    designs = load_manifest()
    return [
        pytest.param(d, id=d.name, marks=[pytest.mark.slow] if max(d.width_a, d.width_b) >= 12 else [])
        for d in designs
    ]


@pytest.mark.icarus
@pytest.mark.parametrize("design", _library_params())
def test_library_design_matches_icarus(characterized, design):
    options = {"top": design.top, "signed": design.signed}
    _assert_same(
        characterize(design.files, backend="bitsim", **options), characterized(design.files, **options)
    )


# -- 12-bit designs ------------------------------------------------------------------------------

_MUL12S = """
module mul12s(input signed [11:0] A, input signed [11:0] B, output signed [23:0] O);
  assign O = A * B;
endmodule
"""


def _twelve_bit_designs(tmp_path: Path) -> list:
    """The signed behavioural design above and the library's gate-level mul12u_exact, as interfaces."""
    interfaces = [discover([_write(tmp_path, "mul12s", _MUL12S)])]
    interfaces += [discover(d.files, top=d.top) for d in load_manifest() if d.name == "mul12u_exact"]
    return interfaces


def _table(interface, **options) -> np.ndarray:
    """bitsim's output words read as the product table of the interface's declared signedness."""
    raw = BitsimBackend().raw_words(interface, **options)
    return read_words(raw, interface.out.width, interface.signed_a, interface.signed_b)


def _exact(interface) -> np.ndarray:
    a = operand_values(interface.a.width, interface.signed_a).astype(np.int64)
    b = operand_values(interface.b.width, interface.signed_b).astype(np.int64)
    return a[:, None] * b[None, :]


def test_twelve_bit_exact_product(tmp_path):
    for interface in _twelve_bit_designs(tmp_path):
        fractions = []
        product = _table(interface, progress=fractions.append)
        assert np.array_equal(product, _exact(interface)), interface.top
        assert fractions == sorted(fractions) and len(fractions) > 2 and fractions[-1] == 1.0


_PAIRS_BENCH = """\
module pairs_bench;
  reg [{wa}:0] a;
  reg [{wb}:0] b;
  wire [{wo}:0] o;
  reg [{wa}:0] a_values [0:{last}];
  reg [{wb}:0] b_values [0:{last}];
  integer k, fd, undefined = 0;
  {top} dut (.{port_a}(a), .{port_b}(b), .{port_o}(o));
  initial begin
    $readmemh("a.hex", a_values);
    $readmemh("b.hex", b_values);
    fd = $fopen("out.u32", "wb");
    for (k = 0; k <= {last}; k = k + 1) begin
      a = a_values[k];
      b = b_values[k];
      #1;
      if (^o === 1'bx) undefined = undefined + 1;
      $fwrite(fd, "%u", o);
    end
    $fclose(fd);
    $display("undefined outputs: %0d", undefined);
  end
endmodule
"""


def _icarus_on_pairs(interface, rows: np.ndarray, columns: np.ndarray, workdir: Path) -> np.ndarray:
    """Output bit patterns a plain Icarus run (no cocotb) gives for (operand_a[rows], operand_b[columns]).

    A generated testbench reads the operands' bit patterns from hex files,
    applies each pair for 1 ns and writes the output as a raw 32-bit word;
    an X or Z output bit fails the test.
    """
    for name, indices, port, signed in (
        ("a", rows, interface.a, interface.signed_a),
        ("b", columns, interface.b, interface.signed_b),
    ):
        patterns = indices ^ (1 << (port.width - 1) if signed else 0)
        (workdir / f"{name}.hex").write_text("".join(f"{p:x}\n" for p in patterns))
    bench = workdir / "pairs_bench.v"
    bench.write_text(
        _PAIRS_BENCH.format(
            wa=interface.a.width - 1,
            wb=interface.b.width - 1,
            wo=interface.out.width - 1,
            last=len(rows) - 1,
            top=interface.top,
            port_a=interface.a.name,
            port_b=interface.b.name,
            port_o=interface.out.name,
        )
    )
    sources = [str(p.resolve()) for p in interface.sources]
    subprocess.run(["iverilog", "-g2005", "-o", "bench.vvp", bench.name, *sources], cwd=workdir, check=True)
    log = subprocess.run(["vvp", "-n", "bench.vvp"], cwd=workdir, check=True, capture_output=True, text=True)
    assert "undefined outputs: 0" in log.stdout
    return np.fromfile(workdir / "out.u32", dtype="<u4")


@pytest.mark.icarus
def test_twelve_bit_sample_matches_icarus(tmp_path):
    rng = np.random.default_rng(12)
    for interface in _twelve_bit_designs(tmp_path):
        product = _table(interface)
        rows = rng.integers(0, product.shape[0], 2000)
        columns = rng.integers(0, product.shape[1], 2000)
        expected = product[rows, columns] & ((1 << interface.out.width) - 1)
        assert np.array_equal(_icarus_on_pairs(interface, rows, columns, tmp_path), expected), interface.top


@pytest.mark.icarus
@pytest.mark.slow
def test_twelve_bit_exhaustive_matches_icarus(tmp_path, characterized):
    """The signed 12x12 design, all 16.7 M pairs (the library's are in test_library_design_matches_icarus)."""
    path = _write(tmp_path, "mul12s", _MUL12S)
    _assert_same(characterize([path], backend="bitsim"), characterized([path], timeout=1800.0))


# -- what bitsim refuses, and how ------------------------------------------------------------------

#: name -> (module body after the port declarations, construct named, line of the construct).
UNSUPPORTED = {
    "always": ("reg [3:0] r = 4'd0;\n  always @* r = A * B;\n  assign O = r;", "`always` blocks", 6),
    "reg": ("reg [3:0] r = 4'd0;\n  assign O = r;", "`reg` variables", 5),
    "division": ("wire [3:0] q;\n  assign O = A / B;", "the `/` operator", 6),
    "x-literal": ("assign O = {A, B} ^ 4'bx;", "the literal 4'bx (x/z digits)", 5),
    "function": (
        "function [3:0] f;\n    input [1:0] x;\n    f = x;\n  endfunction\n  assign O = f(A);",
        "functions",
        5,
    ),
    "variable-index": ("assign O = {3'd0, A[B]};", "a bit-select index that is not a constant expression", 5),
}


def _module(tmp_path: Path, body: str) -> Path:
    header = "module m(A, B, O);\n  input [1:0] A, B;\n  output [3:0] O;\n"
    return _write(tmp_path, "design", f"// line 1\n{header}  {body}\nendmodule\n")


@pytest.mark.parametrize(
    ("body", "construct", "line"), [pytest.param(*UNSUPPORTED[n], id=n) for n in UNSUPPORTED]
)
def test_unsupported_construct_is_named_with_its_line(tmp_path, body, construct, line):
    path = _module(tmp_path, body)
    with pytest.raises(UnsupportedConstruct) as caught:
        characterize([path], backend="bitsim")
    location = f"{path}:{line}"
    assert str(caught.value).startswith(f"{location}: bitsim does not support {construct}")
    assert str(caught.value).endswith("; use --backend icarus")
    assert (caught.value.construct, caught.value.location) == (construct, location)


@pytest.mark.icarus
def test_auto_falls_back_to_icarus_and_says_why(tmp_path):
    path = _module(tmp_path, UNSUPPORTED["always"][0])
    art = characterize([path])
    assert art.simulator.startswith("icarus ")
    assert art.simulator.endswith(f"(auto: bitsim does not support `always` blocks at {path}:6)")
    a, b = np.meshgrid(art.operand_a, art.operand_b, indexing="ij")
    assert np.array_equal(art.product, a * b)


def test_auto_prefers_bitsim(tmp_path):
    art = characterize([_module(tmp_path, "assign O = A * B;")])
    assert art.simulator.startswith("bitsim (pyverilog ")


def test_several_drivers_are_unsupported(tmp_path):
    path = _module(tmp_path, "assign O = A * B;\n  assign O[0] = 1'b0;")
    where = re.escape(str(path))
    message = rf"^{where}:6: O\[0\] is also driven at {where}:5; bitsim does not support nets with several"
    with pytest.raises(UnsupportedConstruct, match=message):
        characterize([path], backend="bitsim")


def test_combinational_loop_is_named(tmp_path):
    path = _module(
        tmp_path, "wire x, y;\n  assign x = y ^ A[0];\n  assign y = x | B[0];\n  assign O = {A, x, y};"
    )
    with pytest.raises(
        NetlistError, match=r"^m: combinational loop through x -> y -> x; the output would never settle"
    ):
        characterize([path], backend="bitsim")


def test_undriven_output_bit_is_named(tmp_path):
    path = _module(tmp_path, "assign O[2:0] = A + B;")
    with pytest.raises(
        SimulationError, match=r"^m: output bit O\[3\] is never driven \(Icarus would give Z\)"
    ):
        characterize([path], backend="bitsim")


def test_output_depending_on_undriven_net_is_named(tmp_path):
    path = _module(tmp_path, "wire [1:0] t;\n  assign O = A * B + t;")
    with pytest.raises(SimulationError, match=r"^m: output bit O\[0\] depends on t\[0\], which has no value"):
        characterize([path], backend="bitsim")
