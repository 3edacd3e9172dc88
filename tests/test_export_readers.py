"""Every ``appmult export`` format read back by an independent reader, on asymmetric tables.

Each reader below is written from the loader rules of its framework in
``formats.md`` (index order, dtype, endianness, headers, scaling) and parses
the bytes or text itself with numpy, ``re``, ``struct`` or ``csv``; none uses
the project's own loaders. The multiplier is ``AM(a, b) = a*b + 3*a - b``
(floored at 0 when both operands are unsigned, which keeps an unsigned 8x8
table within uint16), so ``AM(a, b) != AM(b, a)`` whenever ``a != b``: a file
whose rows and columns are swapped, or whose gradient files or sections are
swapped, reads the wrong value at the probed points. Operand widths differ
where a format allows it, and both signednesses are used where allowed.

The import direction is tested the same way: each table is written here from
the format's rules, imported with ``appmult import`` and probed in the
resulting artifact, so a writer and a loader that share one mistake are caught.
"""

from __future__ import annotations

import csv
import re
import struct
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from click.testing import CliRunner

import appmult
from appmult.cli import cli
from appmult.core.artifact import Artifact
from appmult.core.artifact_file import save
from appmult.lutgen import gradient_tables
from appmult.lutgen.methods import GradientParameters

# ------------------------------------------------------------------ the asymmetric multiplier


class Shape(NamedTuple):
    """Operand widths and signedness of one test table."""

    width_a: int
    width_b: int
    signed_a: bool
    signed_b: bool

    @property
    def id(self) -> str:
        return f"{'s' if self.signed_a else 'u'}{self.width_a}x{'s' if self.signed_b else 'u'}{self.width_b}"

    @property
    def values_a(self) -> range:
        return _values(self.width_a, self.signed_a)

    @property
    def values_b(self) -> range:
        return _values(self.width_b, self.signed_b)

    @property
    def unsigned(self) -> bool:
        return not (self.signed_a or self.signed_b)


def _values(width: int, signed: bool) -> range:
    return range(-(1 << (width - 1)), 1 << (width - 1)) if signed else range(1 << width)


def am(a, b, floor: bool):
    """The asymmetric test multiplier; ``floor`` keeps it non-negative for unsigned operands."""
    value = a * b + 3 * a - b
    return np.maximum(value, 0) if floor else value


def u8(v: int) -> int:
    """Raw 8-bit two's-complement pattern of an int8 value."""
    return v & 0xFF


#: Operand values probed, filtered to each shape's ranges (both orientations where both fit).
CANDIDATES = (-128, -100, -9, -8, -3, -1, 0, 1, 2, 5, 7, 13, 31, 64, 100, 127, 128, 200, 254, 255, 1000)


def points(shape: Shape) -> list[tuple[int, int]]:
    return [
        (x, y)
        for x in CANDIDATES
        if x in shape.values_a
        for y in CANDIDATES
        if y in shape.values_b and x != y
    ]


def check_product(read: Callable[[int, int], int], shape: Shape) -> None:
    """``read(a, b)`` gives AM(a, b), and not AM(b, a), at every probed point."""
    probed = points(shape)
    got = {(x, y): int(read(x, y)) for x, y in probed}
    assert got == {(x, y): int(am(x, y, shape.unsigned)) for x, y in probed}
    differ = [(x, y) for x, y in probed if am(x, y, shape.unsigned) != am(y, x, shape.unsigned)]
    assert differ and any((y, x) in got for x, y in differ)  # the points tell (a, b) from (b, a)
    assert all(got[(x, y)] != am(y, x, shape.unsigned) for x, y in differ)


def check_gradients(
    read_da: Callable[[int, int], float],
    read_db: Callable[[int, int], float],
    art: Artifact,
    method: str,
    stored: Callable[[float], float],
    rel: float = 0.0,
) -> None:
    """The file's dAM/da and dAM/db at every probed point are the artifact's, as ``stored`` writes them.

    Values agree exactly, or within ``rel`` (relative) for tables that a file
    stores as factors. The points must tell d_a from d_b and (a, b) from
    (b, a), so a swapped section or a transposed table fails.
    """
    gradient = art.gradients[method]
    a0, b0 = int(art.operand_a[0]), int(art.operand_b[0])
    shape = Shape(art.width_a, art.width_b, art.signed_a, art.signed_b)

    def expected(table: np.ndarray, x: int, y: int) -> float:
        return stored(table[x - a0, y - b0])

    def close(found: float, wanted: float) -> bool:
        return abs(found - wanted) <= rel * max(1.0, abs(wanted))

    probed = points(shape)
    for x, y in probed:
        assert close(read_da(x, y), expected(gradient.d_a, x, y)), ("d_a", x, y)
        assert close(read_db(x, y), expected(gradient.d_b, x, y)), ("d_b", x, y)
    margin = 1e-3 + 2 * rel
    assert any(abs(expected(gradient.d_a, x, y) - expected(gradient.d_b, x, y)) > margin for x, y in probed)
    both = [(x, y) for x, y in probed if (y, x) in probed]
    for table in (gradient.d_a, gradient.d_b):
        assert any(abs(expected(table, x, y) - expected(table, y, x)) > margin for x, y in both)


def value_table(shape: Shape) -> np.ndarray:
    """AM as a value-ordered int64 table [Na, Nb]."""
    a = np.array(shape.values_a, dtype=np.int64)[:, None]
    b = np.array(shape.values_b, dtype=np.int64)[None, :]
    return am(a, b, shape.unsigned)


def build_artifact(shape: Shape, lut1d_form: str) -> Artifact:
    art = Artifact(
        name=f"asym_{shape.id}",
        top="asym",
        width_a=shape.width_a,
        width_b=shape.width_b,
        width_out=shape.width_a + shape.width_b + 2,
        signed_a=shape.signed_a,
        signed_b=shape.signed_b,
        product=value_table(shape),
    )
    art.gradients.update(
        gradient_tables(art, parameters=GradientParameters(hws_a=1, hws_b=2, form=lut1d_form))
    )
    return art


@pytest.fixture(scope="module")
def artifact(tmp_path_factory) -> Callable[..., tuple[Artifact, Path]]:
    """``artifact(shape, lut1d_form="mean")`` -> (artifact, saved .h5), built once per module.

    The lut1d group is the one-operand ``mean`` form unless a test asks for the
    rank-2 ``separable`` form (slower to compute, so used on small tables).
    """
    cache: dict[tuple[Shape, str], tuple[Artifact, Path]] = {}

    def get(shape: Shape, lut1d_form: str = "mean") -> tuple[Artifact, Path]:
        if (shape, lut1d_form) not in cache:
            art = build_artifact(shape, lut1d_form)
            path = save(art, tmp_path_factory.mktemp("artifacts") / f"{art.name}.h5")
            cache[shape, lut1d_form] = (art, path)
        return cache[shape, lut1d_form]

    return get


def export(h5: Path, fmt: str, out: Path, *options: str) -> list[Path]:
    """``appmult export``; the files it reports writing."""
    result = CliRunner().invoke(cli, ["export", str(h5), "--to", fmt, "-o", str(out), "-q", *options])
    assert result.exit_code == 0, result.output
    return [Path(line) for line in result.stdout.splitlines()]


def import_table(path: Path, fmt: str, shape: Shape) -> Artifact:
    """``appmult import`` of ``path``; the artifact it saved."""
    assert shape.signed_a == shape.signed_b
    out = path.with_name(f"{path.name}.h5")
    args = ["import", str(path), "--format", fmt, "--width-a", str(shape.width_a)]
    args += ["--width-b", str(shape.width_b), "-o", str(out), "-q"] + (["--signed"] if shape.signed_a else [])
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    imported = appmult.load(out)
    assert (imported.width_a, imported.width_b) == (shape.width_a, shape.width_b)
    assert (imported.signed_a, imported.signed_b) == (shape.signed_a, shape.signed_b)
    return imported


def value_reader(table: np.ndarray, shape: Shape) -> Callable[[int, int], int]:
    """Read a value-ordered [Na, Nb] table at operand values (a, b)."""
    a0, b0 = shape.values_a[0], shape.values_b[0]
    return lambda x, y: table[x - a0, y - b0]


S8x8 = Shape(8, 8, True, True)
U8x8 = Shape(8, 8, False, False)

# ------------------------------------------------------------ AppMult-Aware-Retraining (amr)

AMR_HEADERS = (
    "LUT for approximate multiplier:",
    "LUT for the gradient of the approximate multiplier w.r.t. the first operand:",
    "LUT for the gradient of the approximate multiplier w.r.t. the second operand:",
)


#: One ``a b value`` line: three whitespace-separated decimal integers.
_AMR_LINE = r"[ \t]*[+-]?\d+[ \t]+[+-]?\d+[ \t]+[+-]?\d+[ \t]*\n"


def read_amr(path: Path, n: int) -> list[np.ndarray]:
    """init_lookup_tables: skip lines to the first header, sections by ``startswith``, place by (a, b).

    Returns the forward table and the two stored (x16) gradient tables, raw.
    """
    text = path.read_text()
    assert "\r" not in text  # LF line endings
    size = 1 << n
    tables = [np.zeros((size, size), dtype=np.int64) for _ in AMR_HEADERS]
    filled = [np.zeros((size, size), dtype=bool) for _ in AMR_HEADERS]
    lines = text.splitlines()
    starts = [k for k, line in enumerate(lines) if line.startswith(AMR_HEADERS)]  # earlier lines: preamble
    for first, stop in zip(starts, [*starts[1:], len(lines)], strict=True):
        section = next(k for k, header in enumerate(AMR_HEADERS) if lines[first].startswith(header))
        body = "".join(line + "\n" for line in lines[first + 1 : stop])
        # a blank line (or anything but three integers) crashes the loader's 3-way unpack
        assert re.fullmatch(f"(?:{_AMR_LINE})*", body), f"section {section}: not `a b value` lines"
        a, b, value = np.array(list(map(int, body.split())), dtype=np.int64).reshape(-1, 3).T
        assert a.min() >= 0 and b.min() >= 0 and a.max() < size and b.max() < size  # 2**n: sentinel
        assert not filled[section][a, b].any() and np.unique(a * size + b).size == a.size
        tables[section][a, b] = value
        filled[section][a, b] = True
    assert all(f.all() for f in filled)  # every section present and complete
    assert 0 <= tables[0].min() and tables[0].max() < 1 << 16  # uint16 forward values
    for grad in tables[1:]:
        assert -(1 << 15) <= grad.min() and grad.max() < 1 << 15  # int16
    return tables


@pytest.mark.parametrize(
    ("n", "gradient"),
    [(8, None), (4, None), (6, "lut1d"), (7, "ste")],
    ids=["u8-lut2d", "u4-lut2d", "u6-lut1d", "u7-ste"],
)
def test_amr_forward_and_x16_gradient_sections(artifact, tmp_path, n, gradient):
    shape = Shape(n, n, False, False)
    art, h5 = artifact(shape, lut1d_form="separable" if gradient == "lut1d" else "mean")
    options = ["--gradient", gradient] if gradient else []
    (path,) = export(h5, "amr", tmp_path / "m_lutfp+bp.txt", *options)
    forward, grad_a, grad_b = read_amr(path, n)
    check_product(lambda x, y: forward[x, y], shape)
    check_gradients(
        lambda x, y: grad_a[x, y],
        lambda x, y: grad_b[x, y],
        art,
        gradient or "lut2d",
        lambda g: int(np.round(16 * float(g))),  # round(16 * grad), half to even
    )


def write_amr(path: Path, shape: Shape) -> None:
    """An AMR file listing b outer and a inner (the loader places lines by (a, b), not by order).

    Gradient sections hold 16 * (b + 3) and 16 * (a - 1), the x16 slopes of AM.
    """
    forward = value_table(shape)
    lines = ["INFO: written by the test from the format's rules"]
    for header, value in zip(
        AMR_HEADERS,
        (lambda a, b: forward[a, b], lambda a, b: 16 * (b + 3), lambda a, b: 16 * (a - 1)),
        strict=True,
    ):
        lines.append(header)
        lines.extend(f"{a} {b} {value(a, b)}" for b in shape.values_b for a in shape.values_a)
    path.write_text("\n".join(lines) + "\n")


# ------------------------------------------------------------------ TransAxx and AdaPT headers


def read_c_lut(path: Path, device: bool) -> np.ndarray:
    """The ``lut[256][256]`` initializer as a C compiler sees it: 256 braced rows of 256 integers.

    TransAxx needs ``const __device__ int16_t``; AdaPT is built by g++ and
    must not mention ``__device__`` at all.
    """
    text = path.read_text()
    assert "#include <stdint.h>" in text
    code = re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.DOTALL)
    qualifier = r"const\s+__device__\s+(?:int16_t|short)" if device else r"const\s+(?:int16_t|short)"
    match = re.search(qualifier + r"\s+lut\s*\[\s*256\s*\]\s*\[\s*256\s*\]\s*=\s*\{", code)
    assert match is not None
    assert device or "__device__" not in code
    body = code[match.end() : code.index("};", match.end())]
    rows = re.findall(r"\{([^{}]*)\}", body)
    assert len(rows) == 256
    lut = np.array([[int(item) for item in row.split(",") if item.strip()] for row in rows], dtype=np.int64)
    assert lut.shape == (256, 256)
    assert -(1 << 15) <= lut.min() and lut.max() < 1 << 15
    return lut


def bit_pattern_reader(lut: np.ndarray, transpose: bool) -> Callable[[int, int], int]:
    """AM(act, w) from lut[u8(act)][u8(w)] (Linear) or lut[u8(w)][u8(act)] (Conv2d)."""
    if transpose:
        return lambda act, w: lut[u8(w)][u8(act)]
    return lambda act, w: lut[u8(act)][u8(w)]


HEADER_SHAPES = [S8x8, Shape(8, 4, True, True), Shape(7, 5, False, False)]


@pytest.mark.parametrize("transpose", [False, True], ids=["linear", "conv2d"])
@pytest.mark.parametrize("shape", HEADER_SHAPES, ids=[s.id for s in HEADER_SHAPES])
@pytest.mark.parametrize("fmt", ["transaxx", "adapt"])
def test_c_header_lut_by_raw_int8_patterns(artifact, tmp_path, fmt, shape, transpose):
    _, h5 = artifact(shape)
    (path,) = export(h5, fmt, tmp_path / "mul_asym.h", *(["--transpose"] if transpose else []))
    lut = read_c_lut(path, device=fmt == "transaxx")
    check_product(bit_pattern_reader(lut, transpose), shape)
    rows = {u8(v) for v in (shape.values_b if transpose else shape.values_a)}
    assert not lut[[r for r in range(256) if r not in rows]].any()  # entries no operand reaches stay 0


def write_c_lut(path: Path, shape: Shape, device: bool) -> None:
    lut = np.zeros((256, 256), dtype=np.int64)
    for a in shape.values_a:
        for b in shape.values_b:
            lut[u8(a), u8(b)] = am(a, b, shape.unsigned)
    qualifier = "const __device__ int16_t" if device else "const int16_t"
    rows = ",\n".join("  {" + ", ".join(str(v) for v in row) + "}" for row in lut.tolist())
    path.write_text(
        f"#ifndef MUL_ASYM_H\n#define MUL_ASYM_H\n#include <stdint.h>\n"
        f"{qualifier} lut[256][256] = {{\n{rows}\n}};\n#endif\n"
    )


# ---------------------------------------------------------------------------------- TFApprox


def read_tfapprox(path: Path) -> Callable[[int, int], int]:
    """LoadLookupTable: 65,536 little-endian uint16, entry (act << 8) | w."""
    data = path.read_bytes()
    assert len(data) == 65536 * 2
    return lambda act, w: struct.unpack_from("<H", data, 2 * ((act << 8) | w))[0]


def test_tfapprox_little_endian_act_major(artifact, tmp_path):
    _, h5 = artifact(U8x8)
    (path,) = export(h5, "tfapprox", tmp_path / "mul8u_asym.bin")
    check_product(read_tfapprox(path), U8x8)


def write_tfapprox(path: Path, shape: Shape) -> None:
    entries = [0] * 65536
    for act in shape.values_a:
        for w in shape.values_b:
            entries[(act << 8) | w] = int(am(act, w, True))
    path.write_bytes(struct.pack("<65536H", *entries))


# ------------------------------------------------------------------------------- TorchApprox

TORCHAPPROX_SHAPES = [S8x8, Shape(4, 8, True, True), Shape(7, 8, False, True)]


@pytest.mark.parametrize("transpose", [False, True], ids=["linear", "conv2d"])
@pytest.mark.parametrize("shape", TORCHAPPROX_SHAPES, ids=[s.id for s in TORCHAPPROX_SHAPES])
def test_torchapprox_int32_bit_pattern_npy(artifact, tmp_path, shape, transpose):
    _, h5 = artifact(shape)
    (path,) = export(h5, "torchapprox", tmp_path / "lut.npy", *(["--transpose"] if transpose else []))
    lut = np.load(path, allow_pickle=False)  # what the user assigns to module.lut
    assert lut.shape == (256, 256) and lut.dtype == np.int32  # the lut setter's assertions
    check_product(bit_pattern_reader(lut, transpose), shape)


def write_torchapprox(path: Path, shape: Shape) -> None:
    lut = np.zeros((256, 256), dtype=np.int32)
    for a in shape.values_a:
        for b in shape.values_b:
            lut[u8(a), u8(b)] = am(a, b, shape.unsigned)
    np.save(path, lut)


# ------------------------------------------------------------------------------- ApproxTorch


def approxtorch_index(qtype: str) -> Callable[[int], int]:
    """int8 mode: value order v + 128; uint8 mode: the raw code."""
    return (lambda v: v + 128) if qtype == "int8" else (lambda v: v)


def read_approxtorch_table(path: Path, dtype: type) -> np.ndarray:
    """load_lut / load_custom_grad_lut: ``np.loadtxt(...).reshape(256, 256)`` of 256 lines of 256."""
    lines = path.read_text().splitlines()
    assert len(lines) == 256 and {len(line.split()) for line in lines} == {256}
    return np.loadtxt(path, dtype=dtype).reshape(256, 256)


APPROXTORCH_CASES = [
    pytest.param(S8x8, None, "int8", id="s8x8-int8"),
    pytest.param(Shape(8, 5, True, True), None, "int8", id="s8x5-int8"),
    pytest.param(Shape(7, 8, False, True), None, "int8", id="u7xs8-int8"),
    pytest.param(Shape(7, 6, False, False), "int8", "int8", id="u7x6-as-int8"),
    pytest.param(U8x8, None, "uint8", id="u8x8-uint8"),
    pytest.param(Shape(6, 8, False, False), None, "uint8", id="u6x8-uint8"),
]


@pytest.mark.parametrize(("shape", "option", "qtype"), APPROXTORCH_CASES)
def test_approxtorch_table_and_custom_dx_dw(artifact, tmp_path, shape, option, qtype):
    art, h5 = artifact(shape)
    paths = export(h5, "approxtorch", tmp_path / "m.txt", *(["--qtype", option] if option else []))
    assert [p.name for p in paths] == ["m.txt", "m_dx.txt", "m_dw.txt"]
    index = approxtorch_index(qtype)
    lut = read_approxtorch_table(paths[0], np.int32)
    check_product(lambda act, w: lut[index(act), index(w)], shape)
    dx, dw = (read_approxtorch_table(p, np.float32) for p in paths[1:])
    check_gradients(  # unscaled float32: dx = dAM/d(act), dw = dAM/dw, indexed like the product
        lambda act, w: dx[index(act), index(w)],
        lambda act, w: dw[index(act), index(w)],
        art,
        "lut2d",
        np.float32,
    )


LRE_CASES = [
    pytest.param(Shape(8, 5, True, True), "int8", id="s8x5-int8"),
    pytest.param(Shape(8, 6, False, False), "uint8", id="u8x6-uint8"),
]


@pytest.mark.parametrize(("shape", "qtype"), LRE_CASES)
def test_approxtorch_lre_vectors(artifact, tmp_path, shape, qtype):
    art, h5 = artifact(shape)
    paths = export(h5, "approxtorch", tmp_path / "m.txt", "--approxtorch-grad", "lre")
    assert [p.name for p in paths] == ["m.txt", "m_lre_dx.txt", "m_lre_dw.txt"]
    index = approxtorch_index(qtype)
    lut = read_approxtorch_table(paths[0], np.int32)
    check_product(lambda act, w: lut[index(act), index(w)], shape)
    dx, dw = (np.loadtxt(p, dtype=np.float32) for p in paths[1:])  # np.savetxt vectors: one per line
    assert dx.shape == dw.shape == (256,)
    # load_lre_grad_lut: dx is indexed by w, dw by act; lut1d "mean" has d_a a function of b alone
    # and d_b a function of a alone.
    d_a, d_b = art.gradients["lut1d"].d_a, art.gradients["lut1d"].d_b
    assert np.ptp(d_a, axis=0).max() == 0 and np.ptp(d_b, axis=1).max() == 0
    a0, b0 = shape.values_a[0], shape.values_b[0]
    for v in sorted({v for pair in points(shape) for v in pair}):
        if v in shape.values_b:
            assert dx[index(v)] == pytest.approx(d_a[0, v - b0], rel=1e-6), ("dx", v)
        if v in shape.values_a:
            assert dw[index(v)] == pytest.approx(d_b[v - a0, 0], rel=1e-6), ("dw", v)
    assert abs(d_a[0, 5 - b0] - d_b[5 - a0, 0]) > 1  # swapped files would read the other vector
    reached_b = [index(v) for v in shape.values_b]
    assert not np.delete(dx, reached_b).any()  # dx is indexed by w, the narrower operand


# ----------------------------------------------------------------------------------- ApproxFlow

APPROXFLOW_SHAPES = [U8x8, Shape(8, 5, False, False), Shape(5, 7, False, False)]


def read_approxflow(path: Path) -> np.ndarray:
    """256 lines of 256 space-separated unsigned integers, row = a, column = b."""
    rows = [[int(item) for item in line.split()] for line in path.read_text().splitlines()]
    assert len(rows) == 256 and {len(row) for row in rows} == {256}
    table = np.array(rows, dtype=np.int64)
    assert table.min() >= 0
    return table


@pytest.mark.parametrize("shape", APPROXFLOW_SHAPES, ids=[s.id for s in APPROXFLOW_SHAPES])
def test_approxflow_rows_are_a(artifact, tmp_path, shape):
    _, h5 = artifact(shape)
    (path,) = export(h5, "approxflow", tmp_path / "LUT_asym.txt")
    table = read_approxflow(path)
    check_product(lambda a, b: table[a, b], shape)
    assert not table[len(shape.values_a) :].any() and not table[:, len(shape.values_b) :].any()


def write_text_table(path: Path, table: np.ndarray) -> None:
    path.write_text("".join(" ".join(str(v) for v in row) + "\n" for row in table.tolist()))


# ---------------------------------------------------------------------------- npz, csv, npy

NPZ_SHAPES = [Shape(7, 5, True, True), Shape(6, 8, False, False)]


@pytest.mark.parametrize("shape", NPZ_SHAPES, ids=[s.id for s in NPZ_SHAPES])
def test_npz_arrays_by_their_operand_axes(artifact, tmp_path, shape):
    art, h5 = artifact(shape, lut1d_form="separable")  # rank 2: u and v have two rows
    (path,) = export(h5, "npz", tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    assert arrays["operand_a"].tolist() == list(shape.values_a)
    assert arrays["operand_b"].tolist() == list(shape.values_b)

    def at(x: int, y: int) -> tuple[int, int]:
        """The array position of operand values (x, y), found on the file's own axes."""
        i = int(np.flatnonzero(arrays["operand_a"] == x)[0])
        return i, int(np.flatnonzero(arrays["operand_b"] == y)[0])

    check_product(lambda x, y: arrays["product"][at(x, y)], shape)
    check_gradients(
        lambda x, y: arrays["grad_lut2d_d_a"][at(x, y)],
        lambda x, y: arrays["grad_lut2d_d_b"][at(x, y)],
        art,
        "lut2d",
        np.float32,
    )
    for method in ("lut1d", "ste"):  # separable: dAM/da ~ u_a.T @ v_a, dAM/db ~ u_b.T @ v_b

        def factor(side: str, x: int, y: int, method: str = method) -> float:
            i, j = at(x, y)
            u, v = arrays[f"grad_{method}_u_{side}"], arrays[f"grad_{method}_v_{side}"]
            return float(np.dot(u[:, i].astype(np.float64), v[:, j]))

        check_gradients(
            lambda x, y, f=factor: f("a", x, y),
            lambda x, y, f=factor: f("b", x, y),
            art,
            method,
            float,
            rel=1e-6,
        )


CSV_SHAPES = [Shape(6, 4, True, True), Shape(5, 7, False, False)]


@pytest.mark.parametrize("shape", CSV_SHAPES, ids=[s.id for s in CSV_SHAPES])
def test_csv_rows_by_operand_values(artifact, tmp_path, shape):
    art, h5 = artifact(shape, lut1d_form="separable")
    (path,) = export(h5, "csv", tmp_path / "m.csv")
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames[:3] == ["a", "b", "product"]
        rows = {(int(row["a"]), int(row["b"])): row for row in reader}
    assert len(rows) == len(shape.values_a) * len(shape.values_b)
    check_product(lambda x, y: int(rows[x, y]["product"]), shape)
    for method in ("lut2d", "lut1d", "ste"):  # unscaled; a separable group as its value at (a, b)
        check_gradients(
            lambda x, y, m=method: float(rows[x, y][f"{m}_d_a"]),
            lambda x, y, m=method: float(rows[x, y][f"{m}_d_b"]),
            art,
            method,
            float,
            rel=1e-6,
        )


NPY_SHAPES = [Shape(7, 5, True, True), Shape(10, 3, False, False), Shape(4, 8, False, True)]


@pytest.mark.parametrize("shape", NPY_SHAPES, ids=[s.id for s in NPY_SHAPES])
def test_npy_value_order(artifact, tmp_path, shape):
    _, h5 = artifact(shape)
    (path,) = export(h5, "npy", tmp_path / "m.npy")
    table = np.load(path, allow_pickle=False)
    assert table.shape == (len(shape.values_a), len(shape.values_b)) and table.dtype.kind == "i"
    check_product(value_reader(table, shape), shape)


def write_npz(path: Path, shape: Shape) -> None:
    np.savez(
        path,
        operand_a=np.array(shape.values_a, dtype=np.int32),
        operand_b=np.array(shape.values_b, dtype=np.int32),
        product=value_table(shape).astype(np.int32),
    )


def write_csv(path: Path, shape: Shape) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["a", "b", "product"])
        writer.writerows((a, b, am(a, b, shape.unsigned)) for a in shape.values_a for b in shape.values_b)


# ---------------------------------------------------------------------------------- imports


def write_value_ordered(path: Path, shape: Shape) -> None:
    np.save(path, value_table(shape).astype(np.int32))


def write_approxtorch(path: Path, shape: Shape) -> None:
    """int8 mode (signed operands: row act + 128, column w + 128) or uint8 mode (raw codes)."""
    index = approxtorch_index("int8" if shape.signed_a else "uint8")
    table = np.zeros((256, 256), dtype=np.int64)
    for a in shape.values_a:
        for b in shape.values_b:
            table[index(a), index(b)] = am(a, b, shape.unsigned)
    write_text_table(path, table)


def write_approxflow(path: Path, shape: Shape) -> None:
    table = np.zeros((256, 256), dtype=np.int64)
    table[: len(shape.values_a), : len(shape.values_b)] = value_table(shape)
    write_text_table(path, table)


IMPORTS = [
    pytest.param("amr", Shape(7, 7, False, False), "t_lutfp+bp.txt", write_amr, id="amr-u7x7"),
    pytest.param("amr", Shape(4, 4, False, False), "t.txt", write_amr, id="amr-u4x4"),
    pytest.param("transaxx", S8x8, "t.h", lambda p, s: write_c_lut(p, s, True), id="transaxx-s8x8"),
    pytest.param(
        "transaxx", Shape(4, 6, True, True), "t.h", lambda p, s: write_c_lut(p, s, True), id="transaxx-s4x6"
    ),
    pytest.param("adapt", S8x8, "t.h", lambda p, s: write_c_lut(p, s, False), id="adapt-s8x8"),
    pytest.param(
        "adapt", Shape(7, 5, False, False), "t.h", lambda p, s: write_c_lut(p, s, False), id="adapt-u7x5"
    ),
    pytest.param("tfapprox", U8x8, "t.bin", write_tfapprox, id="tfapprox-u8x8"),
    pytest.param("torchapprox", S8x8, "t.npy", write_torchapprox, id="torchapprox-s8x8"),
    pytest.param("torchapprox", Shape(6, 8, True, True), "t.npy", write_torchapprox, id="torchapprox-s6x8"),
    pytest.param("approxtorch", S8x8, "t.txt", write_approxtorch, id="approxtorch-int8-s8x8"),
    pytest.param("approxtorch", Shape(6, 8, False, False), "t.txt", write_approxtorch, id="approxtorch-u6x8"),
    pytest.param("approxflow", U8x8, "t.txt", write_approxflow, id="approxflow-u8x8"),
    pytest.param("approxflow", Shape(5, 7, False, False), "t.txt", write_approxflow, id="approxflow-u5x7"),
    pytest.param("npz", Shape(7, 5, True, True), "t.npz", write_npz, id="npz-s7x5"),
    pytest.param("csv", Shape(6, 4, True, True), "t.csv", write_csv, id="csv-s6x4"),
    pytest.param("csv", Shape(5, 7, False, False), "t.csv", write_csv, id="csv-u5x7"),
    pytest.param("npy", Shape(7, 5, True, True), "t.npy", write_value_ordered, id="npy-s7x5"),
    pytest.param("npy", Shape(10, 3, False, False), "t.npy", write_value_ordered, id="npy-u10x3"),
]


@pytest.mark.parametrize(("fmt", "shape", "filename", "writer"), IMPORTS)
def test_import_reads_a_table_written_from_the_format_rules(tmp_path, fmt, shape, filename, writer):
    path = tmp_path / filename
    writer(path, shape)
    imported = import_table(path, fmt, shape)
    check_product(value_reader(imported.product, shape), shape)
