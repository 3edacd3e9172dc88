#!/usr/bin/env python3
"""Generate the gate-level netlists of the built-in multiplier library.

``python scripts/generate_rtl.py`` rewrites every generated ``rtl/*.v`` file and the
generated fixture netlists under ``tests/fixtures/netlists/`` byte for byte;
``python scripts/generate_rtl.py --check`` only reports files that differ from what it
would write (exit status 1). Standard library only.

Hand-written designs (``mul8u_drum4.v``, ``mul8u_mitchell.v``) and the small
hand-written fixtures are not touched.

Netlist conventions (the library's coding rules, see ``rtl/manifest.toml``):
flat Verilog-2005, one top module per file with inputs ``A``, ``B`` and output
``O``; only continuous assigns over ``& | ^ ~`` and instances of the helper
cells defined after the top in the same file. Helper cells are named after
the top (``<top>_fa``) so that any set of library files can be compiled
together.

Building blocks
---------------
* partial products ``pp<i>_<j> = A[i] & B[j]`` (operand ``A`` bit ``i``,
  operand ``B`` bit ``j``, weight ``2**(i+j)``);
* :func:`carry_save_array` -- the rows ``j = 0, 1, ...`` of partial products
  (one row per bit of ``B``) accumulated by rows of full/half adders into a
  sum vector and a carry vector (a Braun array);
* :func:`wallace` -- column-wise reduction in stages until every column holds
  at most two bits, optionally with approximate 4:2 compressors in the low
  columns (the schedule is written out as a specification in the docstring of
  the reference model ``appmult.characterize.reference_models.compressor``, which
  is implemented from that specification, not from this code);
* :func:`ripple` -- the final two-row carry-propagate (ripple-carry) adder.

Carries out of the most significant output column are never produced: a cell
whose carry would leave the output is replaced by a sum-only XOR, which is the
modulo-``2**width`` arithmetic the output width implies.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
RTL_DIR = REPOSITORY / "rtl"
FIXTURE_DIR = REPOSITORY / "tests" / "fixtures" / "netlists"

ONE = "1'b1"
ZERO = "1'b0"

Bit = str  # a Verilog expression of one bit: a wire name or a constant


# --------------------------------------------------------------------------- netlist


class Netlist:
    """A flat netlist under construction: wires, continuous assigns and cell instances."""

    def __init__(self, top: str) -> None:
        self.top = top
        self.wires: list[str] = []
        self.body: list[str] = []
        self.cells: dict[str, str] = {}  # cell module name -> definition text
        self._counter: dict[str, int] = {}

    # -- wires
    def fresh(self, stem: str) -> str:
        n = self._counter.get(stem, 0)
        self._counter[stem] = n + 1
        name = f"{stem}{n}"
        self.wires.append(name)
        return name

    def named(self, name: str, expr: str) -> Bit:
        self.wires.append(name)
        self.body.append(f"  assign {name} = {expr};")
        return name

    def assign(self, stem: str, expr: str) -> Bit:
        name = self.fresh(stem)
        self.body.append(f"  assign {name} = {expr};")
        return name

    # -- cells
    def _cell(self, kind: str, ports: list[tuple[str, str]]) -> None:
        module = f"{self.top}_{kind}"
        self.cells.setdefault(module, CELL_DEFINITIONS[kind].format(module=module))
        n = self._counter.get(f"u_{kind}", 0)
        self._counter[f"u_{kind}"] = n + 1
        connections = ", ".join(f".{port}({net})" for port, net in ports)
        self.body.append(f"  {module} {kind}{n} ({connections});")

    def add(self, bits: list[Bit], carry: bool) -> tuple[Bit, Bit | None]:
        """Add two or three bits of one column: (sum, carry) with a half or full adder.

        With ``carry=False`` (the carry would leave the output) only the sum is
        built, as an XOR.
        """
        if not carry:
            return self.assign("x", " ^ ".join(bits)), None
        s, c = self.fresh("s"), self.fresh("c")
        if len(bits) == 2:
            self._cell("ha", [("a", bits[0]), ("b", bits[1]), ("s", s), ("co", c)])
        else:
            self._cell("fa", [("a", bits[0]), ("b", bits[1]), ("ci", bits[2]), ("s", s), ("co", c)])
        return s, c

    def compress42(self, bits: list[Bit], carry: bool) -> tuple[Bit, Bit | None]:
        """Approximate 4:2 compressor (no carry-in/out): (sum, carry); see CELL_DEFINITIONS."""
        s = self.fresh("s")
        c = self.fresh("c") if carry else None
        ports = [("x1", bits[0]), ("x2", bits[1]), ("x3", bits[2]), ("x4", bits[3]), ("sum", s)]
        if carry:
            ports.append(("carry", c))
            self._cell("c42", ports)
        else:
            self._cell("c42s", ports)
        return s, c

    def block2x2(self, a: tuple[Bit, Bit], b: tuple[Bit, Bit]) -> tuple[Bit, Bit, Bit]:
        """Kulkarni's approximate 2x2 multiplier block: (p0, p1, p2), weights 1, 2, 4."""
        p = [self.fresh("k") for _ in range(3)]
        self._cell(
            "k2x2",
            [("a0", a[0]), ("a1", a[1]), ("b0", b[0]), ("b1", b[1])] + [(f"p{i}", p[i]) for i in range(3)],
        )
        return p[0], p[1], p[2]

    # -- text
    def render(self, header: str, width_a: int, width_b: int, outputs: list[Bit]) -> str:
        width_o = len(outputs)
        lines = [f"// {line}".rstrip() for line in header.strip("\n").splitlines()]
        lines.append("// Generated by scripts/generate_rtl.py: edit the generator, not this file.")
        lines.append("")
        lines.append(f"module {self.top} (")
        lines.append(f"  input  [{width_a - 1}:0] A,")
        lines.append(f"  input  [{width_b - 1}:0] B,")
        lines.append(f"  output [{width_o - 1}:0] O")
        lines.append(");")
        lines.extend(wrap_line("  wire ", self.wires, ", ", ";"))
        lines.append("")
        lines.extend(self.body)
        lines.append("")
        lines.extend(wrap_line("  assign O = {", list(reversed(outputs)), ", ", "};"))
        lines.append("endmodule")
        for module in sorted(self.cells):
            lines.append("")
            lines.append(self.cells[module].rstrip("\n"))
        return "\n".join(lines) + "\n"


CELL_DEFINITIONS = {
    "ha": """\
// Half adder.
module {module} (input a, input b, output s, output co);
  assign s = a ^ b;
  assign co = a & b;
endmodule
""",
    "fa": """\
// Full adder.
module {module} (input a, input b, input ci, output s, output co);
  assign s = a ^ b ^ ci;
  assign co = (a & b) | (ci & (a ^ b));
endmodule
""",
    "c42": """\
// Approximate 4:2 compressor without carry-in and carry-out:
// sum = (x1 ^ x2) | (x3 ^ x4), carry = (x1 & x2) | (x3 & x4).
// Against the exact count x1+x2+x3+x4 it returns 1 instead of 2 when exactly one
// bit of each pair is set, and 2 instead of 4 when all four are set.
module {module} (input x1, input x2, input x3, input x4, output sum, output carry);
  assign sum = (x1 ^ x2) | (x3 ^ x4);
  assign carry = (x1 & x2) | (x3 & x4);
endmodule
""",
    "c42s": """\
// The approximate 4:2 compressor's sum output alone (its carry would leave the product).
module {module} (input x1, input x2, input x3, input x4, output sum);
  assign sum = (x1 ^ x2) | (x3 ^ x4);
endmodule
""",
    "k2x2": """\
// Kulkarni's approximate 2x2 multiplier: {{p2, p1, p0}} = {{a1, a0}} * {{b1, b0}}
// except 3 * 3 = 7 (3'b111 instead of 4'b1001).
module {module} (input a0, input a1, input b0, input b1, output p0, output p1, output p2);
  assign p0 = a0 & b0;
  assign p1 = (a1 & b0) | (a0 & b1);
  assign p2 = a1 & b1;
endmodule
""",
}


def wrap_line(prefix: str, items: list[str], sep: str, end: str, width: int = 96) -> list[str]:
    """``prefix item, item, ...end`` broken into lines of at most ``width`` characters."""
    if not items:
        return []
    lines, line = [], prefix
    indent = " " * len(prefix)
    for k, item in enumerate(items):
        piece = item + (end if k == len(items) - 1 else sep.rstrip())
        if len(line) + len(piece) > width and line.strip():
            lines.append(line.rstrip())
            line = indent
        line += piece + (" " if k < len(items) - 1 else "")
    lines.append(line.rstrip())
    return lines


class GateNetlist:
    """A netlist of two-input gate assigns whose wire names come from ``name(k)``."""

    def __init__(self, name: Callable[[int], str]) -> None:
        self.name = name
        self.count = 0
        self.body: list[str] = []
        self.wires: list[str] = []

    def gate(self, expr: str) -> Bit:
        wire = self.name(self.count)
        self.count += 1
        self.wires.append(wire)
        self.body.append(f"  assign {wire} = {expr};")
        return wire

    def add(self, bits: list[Bit], carry: bool) -> tuple[Bit, Bit | None]:
        if len(bits) == 2:
            x, y = bits
            return self.gate(f"{x} ^ {y}"), (self.gate(f"{x} & {y}") if carry else None)
        x, y, z = bits
        t = self.gate(f"{x} ^ {y}")
        s = self.gate(f"{t} ^ {z}")
        if not carry:
            return s, None
        g = self.gate(f"{x} & {y}")
        p = self.gate(f"{t} & {z}")
        return s, self.gate(f"{g} | {p}")


# What the structures below need is ``add(bits, carry)``; BusNetlist (fixtures) has it too.
Builder = Netlist | GateNetlist


# --------------------------------------------------------------------------- structures


def partial_products(
    net: Netlist,
    width_a: int,
    width_b: int,
    keep: Callable[[int, int], bool] = lambda i, j: True,
    signed: bool = False,
) -> dict[tuple[int, int], Bit]:
    """Partial-product wires ``pp<i>_<j>`` for every kept (i, j), in row order (j, then i).

    With ``signed=True`` the bits are those of the modified Baugh-Wooley matrix:
    ``~(A[i] & B[j])`` where exactly one of i, j is the sign position.
    """
    pps = {}
    for j in range(width_b):
        for i in range(width_a):
            if not keep(i, j):
                continue
            expr = f"A[{i}] & B[{j}]"
            if signed and ((i == width_a - 1) != (j == width_b - 1)):
                expr = f"~({expr})"
            pps[i, j] = net.named(f"pp{i}_{j}", expr)
    return pps


def carry_save_array(
    net: Builder, rows: list[dict[int, Bit]], width: int
) -> tuple[dict[int, Bit], dict[int, Bit]]:
    """Accumulate partial-product rows with rows of adders (carry-save array).

    ``rows[r]`` maps column -> bit. The first non-empty row is the initial sum
    vector; each further row is added to the (sum, carry) vectors column by
    column: three bits (partial product, sum, carry) -> full adder, two -> half
    adder, one -> passed on. Returns the final sum and carry vectors.
    """
    sums: dict[int, Bit] = {}
    carries: dict[int, Bit] = {}
    started = False
    for row in rows:
        if not row:
            continue
        if not started:
            sums, started = dict(row), True
            continue
        new_sums: dict[int, Bit] = {}
        new_carries: dict[int, Bit] = {}
        for col in sorted(set(row) | set(sums) | set(carries)):
            bits = [x for x in (row.get(col), sums.get(col), carries.get(col)) if x is not None]
            if len(bits) == 1:
                new_sums[col] = bits[0]
                continue
            s, c = net.add(bits, carry=col + 1 < width)
            new_sums[col] = s
            if c is not None:
                new_carries[col + 1] = c
        sums, carries = new_sums, new_carries
    return sums, carries


def wallace(net: Netlist, columns: list[list[Bit]], approx_columns: int = 0) -> list[list[Bit]]:
    """Reduce bit columns in stages until every column holds at most two bits.

    Schedule (each stage works on the column lists as they were at its start):

    * a column with at most two bits is passed on unchanged;
    * otherwise its bits are consumed in list order: if the column index is
      below ``approx_columns``, groups of four go to approximate 4:2
      compressors while at least four remain; then groups of three go to full
      adders while at least three remain; a remaining pair goes to a half
      adder and a single remaining bit is passed on;
    * column ``c`` of the next stage lists the sum outputs of column ``c``'s
      cells (in creation order), then the carry outputs of column ``c-1``'s
      cells (in creation order), then the bits passed on.
    """
    width = len(columns)
    while max(len(col) for col in columns) > 2:
        sums: list[list[Bit]] = [[] for _ in range(width)]
        carries: list[list[Bit]] = [[] for _ in range(width)]
        passed: list[list[Bit]] = [[] for _ in range(width)]
        for col, bits in enumerate(columns):
            if len(bits) <= 2:
                passed[col] = list(bits)
                continue
            rest = list(bits)
            out = col + 1 < width
            while col < approx_columns and len(rest) >= 4:
                s, c = net.compress42(rest[:4], carry=out)
                rest = rest[4:]
                sums[col].append(s)
                if c is not None:
                    carries[col + 1].append(c)
            while len(rest) >= 2:
                group, rest = rest[:3], rest[3:]
                s, c = net.add(group, carry=out)
                sums[col].append(s)
                if c is not None:
                    carries[col + 1].append(c)
            passed[col].extend(rest)
        columns = [sums[k] + carries[k] + passed[k] for k in range(width)]
    return columns


def ripple(net: Builder, columns: list[list[Bit]]) -> list[Bit]:
    """Final carry-propagate adder over columns of at most two bits: the output bits."""
    out: list[Bit] = []
    carry: Bit | None = None
    width = len(columns)
    for col in range(width):
        bits = list(columns[col]) + ([carry] if carry is not None else [])
        carry = None
        if not bits:
            out.append(ZERO)
        elif len(bits) == 1:
            out.append(bits[0])
        else:
            s, carry = net.add(bits, carry=col + 1 < width)
            out.append(s)
    return out


def columns_of(pps: dict[tuple[int, int], Bit], width: int) -> list[list[Bit]]:
    """Partial products grouped by column ``i + j``, each column in order of increasing ``i``."""
    columns: list[list[Bit]] = [[] for _ in range(width)]
    for i, j in sorted(pps, key=lambda ij: (ij[0] + ij[1], ij[0])):
        columns[i + j].append(pps[i, j])
    return columns


# --------------------------------------------------------------------------- designs


def array_multiplier(
    top: str,
    header: str,
    width_a: int,
    width_b: int,
    keep: Callable[[int, int], bool] = lambda i, j: True,
    signed: bool = False,
) -> str:
    """AND partial products, one row per bit of B, carry-save array, ripple-carry adder.

    ``signed=True`` builds the modified Baugh-Wooley array (square only): the
    sign-position partial products are inverted and constant ones are added at
    columns ``n`` and ``2n-1``.
    """
    width = width_a + width_b
    net = Netlist(top)
    pps = partial_products(net, width_a, width_b, keep, signed)
    rows: list[dict[int, Bit]] = [
        {i + j: pps[i, j] for i in range(width_a) if (i, j) in pps} for j in range(width_b)
    ]
    if signed:
        assert width_a == width_b, "the Baugh-Wooley generator is written for square arrays"
        constant_row = next(r for r in rows if r)
        for col in (width_a, width - 1):
            assert col not in constant_row
            constant_row[col] = ONE
    sums, carries = carry_save_array(net, rows, width)
    columns = [[x for x in (sums.get(c), carries.get(c)) if x is not None] for c in range(width)]
    return net.render(header, width_a, width_b, ripple(net, columns))


def kulkarni_multiplier(top: str, header: str, width: int) -> str:
    """Sum of all 2x2 digit products (Kulkarni blocks), reduced exactly."""
    net = Netlist(top)
    columns: list[list[Bit]] = [[] for _ in range(2 * width)]
    for p in range(width // 2):
        for q in range(width // 2):
            bits = net.block2x2((f"A[{2 * p}]", f"A[{2 * p + 1}]"), (f"B[{2 * q}]", f"B[{2 * q + 1}]"))
            for k, bit in enumerate(bits):
                columns[2 * (p + q) + k].append(bit)
    return net.render(header, width, width, ripple(net, wallace(net, columns)))


def compressor_multiplier(top: str, header: str, width: int, approx_columns: int) -> str:
    """AND partial products, :func:`wallace` with approximate 4:2 compressors, ripple adder."""
    net = Netlist(top)
    pps = partial_products(net, width, width)
    columns = wallace(net, columns_of(pps, 2 * width), approx_columns)
    return net.render(header, width, width, ripple(net, columns))


MENG_DATE25 = (
    'C. Meng, W. Burleson, W. Qian and G. De Micheli, "Gradient approximation of approximate\n'
    'multipliers for high-accuracy deep neural network retraining", DATE 2025, Table I.'
)


def _exact_header(name: str, wa: int, wb: int) -> str:
    return f"""\
{name}: exact unsigned {wa}x{wb}-bit array multiplier.
Function: O = A * B.
Structure: AND partial products, one row per bit of B accumulated by a carry-save
array of full/half adders (Braun array), ripple-carry final adder."""


def _trunc_header(name: str, w: int, k: int) -> str:
    return f"""\
{name}: unsigned {w}x{w}-bit multiplier with the {k} least significant columns of
partial products removed (column truncation, no compensation).
Function: O = sum of A[i]*B[j]*2^(i+j) over all i+j >= {k}; O[{k - 1}:0] = 0.
Reference: {MENG_DATE25}
Structure: AND partial products, carry-save array, ripple-carry final adder."""


def designs() -> dict[str, Callable[[], str]]:
    """File name (relative to rtl/) -> function returning its text."""
    table: dict[str, Callable[[], str]] = {}
    for name, wa, wb in [
        ("mul4u_exact", 4, 4),
        ("mul7u_exact", 7, 7),
        ("mul8u_exact", 8, 8),
        ("mul8x4u_exact", 8, 4),
        ("mul12u_exact", 12, 12),
    ]:
        table[f"{name}.v"] = lambda name=name, wa=wa, wb=wb: array_multiplier(
            name, _exact_header(name, wa, wb), wa, wb
        )
    for name, w, k in [("mul8u_trunc8", 8, 8), ("mul7u_trunc6", 7, 6), ("mul6u_trunc4", 6, 4)]:
        table[f"{name}.v"] = lambda name=name, w=w, k=k: array_multiplier(
            name, _trunc_header(name, w, k), w, w, keep=lambda i, j: i + j >= k
        )
    table["mul8s_exact.v"] = lambda: array_multiplier(
        "mul8s_exact",
        """\
mul8s_exact: exact signed (two's complement) 8x8-bit Baugh-Wooley array multiplier.
Function: O = $signed(A) * $signed(B), as a 16-bit two's complement value.
Reference: C. R. Baugh and B. A. Wooley, "A two's complement parallel array
multiplication algorithm", IEEE Trans. Computers C-22(12):1045-1047, 1973
(modified form: partial products A[i]&B[7] and A[7]&B[j] for i, j < 7 inverted,
constant ones added at columns 8 and 15).
Structure: carry-save array of full/half adders, ripple-carry final adder.""",
        8,
        8,
        signed=True,
    )
    table["mul8s_trunc6.v"] = lambda: array_multiplier(
        "mul8s_trunc6",
        """\
mul8s_trunc6: signed (two's complement) 8x8-bit Baugh-Wooley multiplier with the 6
least significant columns of the partial-product matrix removed (direct truncation,
no correction constant).
Function: O = $signed(A)*$signed(B) - sum of A[i]*B[j]*2^(i+j) over i+j < 6
(all removed bits are non-inverted magnitude bits), 16-bit two's complement; O[5:0] = 0.
References: C. R. Baugh and B. A. Wooley, IEEE Trans. Computers C-22(12):1045-1047,
1973; M. J. Schulte and E. E. Swartzlander Jr., "Truncated multiplication with
correction constant", VLSI Signal Processing VI, IEEE, 1993, pp. 388-396 (here
without the correction constant).
Structure: carry-save array of full/half adders, ripple-carry final adder.""",
        8,
        8,
        keep=lambda i, j: i + j >= 6,
        signed=True,
    )
    table["mul8u_bam_h1v6.v"] = lambda: array_multiplier(
        "mul8u_bam_h1v6",
        """\
mul8u_bam_h1v6: unsigned 8x8-bit broken-array multiplier (BAM), horizontal break
level hbl = 1, vertical break level vbl = 6.
Function: the carry-save array with the cells of the first hbl rows (B[0]) and of
the columns right of vbl removed: O = sum of A[i]*B[j]*2^(i+j) over j >= 1 and
i+j >= 6; O[5:0] = 0.
Reference: H. R. Mahdiani, A. Ahmadi, S. M. Fakhraie and C. Lucas, "Bio-inspired
imprecise computational blocks for efficient VLSI implementation of soft-computing
applications", IEEE Trans. Circuits and Systems I 57(4):850-862, 2010.
Structure: AND partial products, carry-save array, ripple-carry final adder.""",
        8,
        8,
        keep=lambda i, j: j >= 1 and i + j >= 6,
    )
    table["mul8u_kulkarni.v"] = lambda: kulkarni_multiplier(
        "mul8u_kulkarni",
        """\
mul8u_kulkarni: unsigned 8x8-bit multiplier built from Kulkarni's approximate 2x2
block (3*3 = 7, all other 2x2 products exact).
Function: with 2-bit digits A = sum a_p*4^p, B = sum b_q*4^q (p, q = 0..3),
O = sum over p, q of M2(a_p, b_q)*4^(p+q), M2(x, y) = x*y except M2(3, 3) = 7;
equivalently the paper's recursive 4x4 and 8x8 composition with exact adders.
Reference: P. Kulkarni, P. Gupta and M. Ercegovac, "Trading accuracy for power with
an underdesigned multiplier architecture", 24th Int. Conf. VLSI Design (VLSID),
2011, pp. 346-351.
Structure: 16 2x2 blocks; their output bits summed exactly by a Wallace-style
full/half-adder tree and a ripple-carry final adder.""",
        8,
    )
    table["mul8u_cmp42.v"] = lambda: compressor_multiplier(
        "mul8u_cmp42",
        """\
mul8u_cmp42: unsigned 8x8-bit multiplier with approximate 4:2 compressors in the 8
least significant product columns (columns 0..7) of a Wallace-style reduction tree.
This project's own design: the paper below defines the compressor cell, not the tree.
Compressor (no carry-in, no carry-out): sum = (x1^x2)|(x3^x4),
carry = (x1&x2)|(x3&x4), after A. Momeni, J. Han, P. Montuschi and F. Lombardi,
"Design and analysis of approximate compressors for multiplication", IEEE Trans.
Computers 64(4):984-994, 2015 (approximate compressor "Design 2").
Reduction schedule (specified in reference_models.compressor()): per stage, a column with
more than two bits is consumed in order: groups of four by compressors (columns
0..7 only), then groups of three by full adders, a last pair by a half adder;
sums stay in the column, carries move one column left. Columns 8..15 are exact.
Partial products of a column are listed by increasing A index.
Function: never above A*B (each compressor under-counts by 1 or 2 or is exact).""",
        8,
        8,
    )
    return table


# --------------------------------------------------------------------------- main


def outputs() -> dict[Path, Callable[[], str]]:
    """Every generated file -> the function returning its text: the library and the fixture styles."""
    sys.path.insert(0, str(FIXTURE_DIR.parent))
    from netlist_styles import fixtures  # tests/fixtures/netlist_styles.py: builds on this module

    files = {RTL_DIR / name: make for name, make in designs().items()}
    files.update({FIXTURE_DIR / name: make for name, make in fixtures().items()})
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="only report files that are missing or differ")
    args = parser.parse_args(argv)
    stale = []
    for path, make in outputs().items():
        text = make()
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in stale:
        verb = "differs" if args.check else "written"
        print(f"{path.relative_to(REPOSITORY)}: {verb}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
