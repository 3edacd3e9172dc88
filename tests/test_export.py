"""Exports to retraining frameworks and imports of their tables.

Round trips go through each format's own ``load`` (and ``import_artifact``).
The ``read_*`` helpers below are written independently from the loader rules
in formats.md, so an exporter and its ``load`` cannot share one mistake.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from appmult.cli import cli, main
from appmult.core.artifact import Artifact, sha256_of
from appmult.core.artifact_file import load as load_artifact
from appmult.core.artifact_file import save
from appmult.core.errors import ExportError, ParameterError
from appmult.core.gradient import AxesGradient, GradientTable, SeparableGradient
from appmult.core.operands import operand_values
from appmult.lutgen.exporters import (
    FORMATS,
    AsymmetryWarning,
    ExportOptions,
    ExportWarning,
    Layout,
    default_output,
    export,
    get_format,
    import_artifact,
    read_tables,
)

# --------------------------------------------------------------------------- artifacts


def make_artifact(
    width_a: int,
    width_b: int,
    signed_a: bool = False,
    signed_b: bool | None = None,
    *,
    offset=None,
    gradients: bool = True,
) -> Artifact:
    """Exact multiplier (plus ``offset(a, b)``) with synthetic gradient groups.

    ste: d_a = b, d_b = a. lut2d: d_a = b + 8.5/16, d_b = a - 4.5/16, so x16
    rounding (half to even) is exercised in both directions. lut1d:
    d_a(b) = b + 0.25, d_b(a) = a - 0.75.
    """
    signed_b = signed_a if signed_b is None else signed_b
    a = operand_values(width_a, signed_a).astype(np.int64)[:, None]
    b = operand_values(width_b, signed_b).astype(np.int64)[None, :]
    product = a * b + (0 if offset is None else offset(a, b))

    def full(values):
        return np.broadcast_to(values, product.shape).astype(np.float32)

    groups = {
        "ste": AxesGradient(a[:, 0], b[0]),
        "lut2d": GradientTable(d_a=full(b + 8.5 / 16), d_b=full(a - 4.5 / 16)),
        "lut1d": SeparableGradient(
            np.ones((1, a.size)),
            b + 0.25,
            a.T - 0.75,
            np.ones((1, b.size)),
            attrs={"form": "mean", "rank": 1},
        ),
    }
    sign = ("s" if signed_a else "u") + ("s" if signed_b else "u")
    return Artifact(
        name=f"mul{width_a}x{width_b}{sign}",
        top="mul",
        width_a=width_a,
        width_b=width_b,
        width_out=width_a + width_b,
        signed_a=signed_a,
        signed_b=signed_b,
        product=product,
        gradients=groups if gradients else {},
    )


def odd_a(a, b):
    """Makes AM(a, b) != AM(b, a) wherever a and b differ in parity."""
    return a & 1


def write(fmt: str, art: Artifact, tmp_path: Path, **options) -> list[Path]:
    path = tmp_path / f"{art.name}{FORMATS[fmt].suffix}"
    return export(art, fmt, path, ExportOptions(**options))


# ---------------------------------------------------------- readers from the loader rules

AMR_HEADERS = (
    "LUT for approximate multiplier:",
    "LUT for the gradient of the approximate multiplier w.r.t. the first operand:",
    "LUT for the gradient of the approximate multiplier w.r.t. the second operand:",
)


def read_amr(path: Path, n: int) -> list[np.ndarray]:
    """init_lookup_tables (n bits): skip to the first header, sections by startswith, place by (a, b)."""
    tables = [np.zeros((1 << n, 1 << n), dtype=np.int64) for _ in AMR_HEADERS]
    section = None
    for line in path.read_text().split("\n")[:-1]:
        starts = [line.startswith(h) for h in AMR_HEADERS]
        if any(starts):
            section = starts.index(True)
        elif section is not None:
            a, b, value = line.split()  # a blank line would fail here, as in the framework
            tables[section][int(a), int(b)] = int(value)
    assert 0 <= tables[0].min() and tables[0].max() < 65536
    return tables


def read_lut_header(path: Path) -> np.ndarray:
    """The 65,536 integers of ``lut[256][256] = {...};`` (TransAxx/AdaPT)."""
    body = path.read_text().split("lut[256][256] =")[1].split(";")[0]
    return np.array(re.findall(r"-?\d+", body), dtype=np.int64).reshape(256, 256)


def read_tfapprox(path: Path) -> tuple[int, ...]:
    """LoadLookupTable: exactly 65,536 little-endian uint16, index (a << 8) | b."""
    data = path.read_bytes()
    assert len(data) >= 131072
    return struct.unpack("<65536H", data[:131072])


def read_approxtorch(path: Path) -> np.ndarray:
    """load_lut: np.loadtxt(dtype=int32).reshape(256, 256), then flattened."""
    return np.loadtxt(path, dtype=np.int32).reshape(256, 256).flatten()


def read_approxflow(path: Path) -> list[list[int]]:
    rows = [[int(v) for v in line.split()] for line in path.read_text().splitlines()]
    assert len(rows) == 256 and {len(r) for r in rows} == {256}
    return rows


def u8(v: int) -> int:
    return v & 0xFF


# ------------------------------------------------------------------------- registry


def test_registry_names_every_format():
    assert set(FORMATS) == {
        "amr",
        "transaxx",
        "adapt",
        "tfapprox",
        "torchapprox",
        "approxtorch",
        "approxflow",
        "npz",
        "csv",
        "npy",
        "cfactors",
    }
    with pytest.raises(ParameterError, match=r"unknown format 'onnx'; valid formats: amr, transaxx"):
        get_format("onnx")


# ------------------------------------------------------------------------ round trips

ROUND_TRIPS = [
    pytest.param("amr", 8, 8, False, False, {}, id="amr-u8x8"),
    pytest.param("amr", 7, 7, False, False, {}, id="amr-u7x7"),
    pytest.param("amr", 4, 4, False, False, {"gradient": "ste"}, id="amr-u4x4-ste"),
    pytest.param("transaxx", 8, 8, True, True, {}, id="transaxx-s8x8"),
    pytest.param("transaxx", 4, 4, True, True, {}, id="transaxx-s4x4"),
    pytest.param("adapt", 8, 8, True, True, {}, id="adapt-s8x8"),
    pytest.param("adapt", 7, 7, False, False, {}, id="adapt-u7x7"),
    pytest.param("torchapprox", 8, 8, True, True, {}, id="torchapprox-s8x8"),
    pytest.param("torchapprox", 7, 8, False, True, {}, id="torchapprox-u7xs8"),
    pytest.param("torchapprox", 3, 5, True, True, {}, id="torchapprox-s3x5"),
    pytest.param("tfapprox", 8, 8, False, False, {}, id="tfapprox-u8x8"),
    pytest.param("approxtorch", 8, 8, True, True, {}, id="approxtorch-int8"),
    pytest.param("approxtorch", 8, 8, False, False, {}, id="approxtorch-uint8"),
    pytest.param("approxtorch", 5, 5, True, True, {"approxtorch_grad": "lre"}, id="approxtorch-s5-lre"),
    pytest.param("approxtorch", 4, 6, False, False, {"approxtorch_grad": "none"}, id="approxtorch-u4x6"),
    pytest.param("approxtorch", 7, 7, False, False, {"qtype": "int8"}, id="approxtorch-u7-as-int8"),
    pytest.param("approxflow", 8, 8, False, False, {}, id="approxflow-u8x8"),
    pytest.param("approxflow", 5, 3, False, False, {}, id="approxflow-u5x3"),
    pytest.param("npz", 8, 8, True, True, {}, id="npz-s8x8"),
    pytest.param("npz", 10, 3, False, False, {"gradient": "lut1d"}, id="npz-u10x3-lut1d"),
    pytest.param("csv", 6, 4, True, True, {}, id="csv-s6x4"),
    pytest.param("csv", 4, 4, False, False, {"gradient": "lut2d"}, id="csv-u4x4-lut2d"),
    pytest.param("npy", 8, 8, True, True, {}, id="npy-s8x8"),
    pytest.param("npy", 12, 2, False, False, {}, id="npy-u12x2"),
]


def carried_methods(fmt: str, options: dict) -> set[str]:
    """Gradient groups a format's file holds for ``options``."""
    chosen = options.get("gradient")
    if fmt in ("npz", "csv"):
        return {chosen} if chosen else {"ste", "lut2d", "lut1d"}
    kind = options.get("approxtorch_grad", "custom") if fmt == "approxtorch" else None
    if fmt == "amr" or kind == "custom":
        return {chosen or "lut2d"}
    return {"lut1d"} if kind == "lre" else set()


@pytest.mark.parametrize(("fmt", "width_a", "width_b", "signed_a", "signed_b", "options"), ROUND_TRIPS)
def test_round_trip(tmp_path, fmt, width_a, width_b, signed_a, signed_b, options):
    art = make_artifact(width_a, width_b, signed_a, signed_b, offset=odd_a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AsymmetryWarning)
        written = write(fmt, art, tmp_path, **options)
    assert all(p.is_file() for p in written)
    loaded = read_tables(written[0], fmt, Layout.of(art), ExportOptions(**options))
    np.testing.assert_array_equal(loaded.product, art.product)
    for method, table in loaded.gradients.items():
        original = art.gradients[method]
        for label in ("d_a", "d_b"):
            expected = getattr(original, label)
            if fmt == "amr":
                expected = np.round(16 * expected.astype(np.float64)) / 16
            np.testing.assert_array_equal(getattr(table, label), expected, err_msg=f"{method} {label}")
    assert set(loaded.gradients) == carried_methods(fmt, options)
    if signed_a == signed_b:
        imported = import_artifact(
            written[0],
            fmt,
            width_a=width_a,
            width_b=width_b,
            signed=signed_a,
            options=ExportOptions(**options),
        )
        np.testing.assert_array_equal(imported.product, art.product)
        assert imported.metrics == pytest.approx(art.metrics)


# ------------------------------------------------ known entries, read by loader rules


def test_amr_file_follows_the_loader_rules(tmp_path):
    art = make_artifact(8, 8)
    (path,) = write("amr", art, tmp_path)
    text = path.read_text()
    assert "\n\n" not in text and text.endswith("\n") and "\r" not in text
    lines = text.split("\n")
    assert [lines.index(h) for h in AMR_HEADERS] == [2, 2 + 65537, 2 + 2 * 65537]
    forward, grad_a, grad_b = read_amr(path, 8)
    assert forward[3, 7] == 21 and forward[255, 255] == 65025
    assert grad_a[3, 7] == 120  # round(16 * 7.53125) = round(120.5), half to even
    assert grad_b[3, 7] == 44  # round(16 * 2.71875) = round(43.5), half to even
    assert lines[3] == "0 0 0" and lines[4] == "0 1 0"


def test_amr_narrow_and_ste(tmp_path):
    art = make_artifact(4, 4)
    (path,) = write("amr", art, tmp_path, gradient="ste")
    forward, grad_a, grad_b = read_amr(path, 4)
    assert len(path.read_text().splitlines()) == 2 + 3 * (1 + 256)
    assert forward[3, 7] == 21 and grad_a[3, 7] == 7 * 16 and grad_b[3, 7] == 3 * 16


def test_amr_lut1d_is_the_expanded_separable_table(tmp_path):
    art = make_artifact(6, 6)
    (path,) = write("amr", art, tmp_path, gradient="lut1d")
    _, grad_a, grad_b = read_amr(path, 6)
    assert grad_a[3, 7] == 16 * 7 + 4 and grad_a[50, 7] == 16 * 7 + 4
    assert grad_b[3, 7] == 16 * 3 - 12 and grad_b[3, 60] == 16 * 3 - 12


@pytest.mark.parametrize("fmt", ["transaxx", "adapt"])
def test_c_header_indexes_raw_int8_bit_patterns(tmp_path, fmt):
    art = make_artifact(8, 8, True)
    (path,) = write(fmt, art, tmp_path)
    assert path.name == f"mul8x8ss_{fmt}.h"
    lut = read_lut_header(path)
    assert lut[255][1] == -1 and lut[128][128] == 16384 and lut[u8(-3)][u8(5)] == -15
    assert lut[3][7] == 21
    text = path.read_text()
    assert "#include <stdint.h>" in text
    assert ("const __device__ int16_t lut[256][256]" in text) == (fmt == "transaxx")
    assert ("__device__" in text) == (fmt == "transaxx")


def test_narrow_signed_table_fills_its_bit_pattern_positions(tmp_path):
    art = make_artifact(4, 4, True)
    (path,) = write("transaxx", art, tmp_path)
    lut = read_lut_header(path)
    assert lut[u8(-8)][u8(7)] == -56 and lut[255][255] == 1 and lut[7][7] == 49
    used = [*range(8), *range(248, 256)]
    unused = np.ones((256, 256), dtype=bool)
    unused[np.ix_(used, used)] = False
    assert not lut[unused].any()


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
@pytest.mark.parametrize("fmt", ["transaxx", "adapt"])
def test_c_header_compiles(tmp_path, fmt):
    art = make_artifact(8, 8, True)
    (header,) = write(fmt, art, tmp_path)
    program = tmp_path / "main.cpp"
    program.write_text(
        f'#include <cstdio>\n#include "{header.name}"\n'
        'int main() { std::printf("%d %d\\n", lut[255][1], lut[128][128]); return 0; }\n'
    )
    binary = tmp_path / "main"

    def compile_with(*flags: str) -> subprocess.CompletedProcess:
        command = ["g++", "-std=c++11", *flags, str(program), "-o", str(binary)]
        return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)

    if fmt == "transaxx":
        assert compile_with().returncode != 0  # __device__ needs nvcc
        built = compile_with("-D__device__=")
    else:
        built = compile_with("-Wall", "-Werror")
    assert built.returncode == 0, built.stderr
    assert subprocess.run([str(binary)], capture_output=True, text=True).stdout == "-1 16384\n"


def test_tfapprox_binary(tmp_path):
    (path,) = write("tfapprox", make_artifact(8, 8), tmp_path)
    assert path.stat().st_size == 131072
    table = read_tfapprox(path)
    assert table[(3 << 8) | 7] == 21 and table[(255 << 8) | 255] == 65025 and table[(7 << 8) | 3] == 21


def test_torchapprox_npy(tmp_path):
    (path,) = write("torchapprox", make_artifact(8, 8, True), tmp_path)
    lut = np.load(path)
    assert lut.shape == (256, 256) and lut.dtype == np.int32
    assert lut[255, 1] == -1 and lut[128, 128] == 16384 and lut[u8(-3), u8(5)] == -15


def test_torchapprox_sign_magnitude_of_an_unsigned_multiplier(tmp_path):
    unsigned, signed = make_artifact(8, 8), make_artifact(8, 8, True)
    (sm_path,) = write("torchapprox", unsigned, tmp_path, sign_magnitude=True)
    (reference,) = export(signed, "torchapprox", tmp_path / "exact_signed.npy")
    lut = np.load(sm_path)
    np.testing.assert_array_equal(lut, np.load(reference))  # exact: sign(x)sign(y)|x||y| = xy
    assert lut[128, 128] == 16384  # |-128| = 128


def test_approxtorch_int8_is_value_ordered_with_gradient_files(tmp_path):
    art = make_artifact(8, 8, True)
    paths = write("approxtorch", art, tmp_path)
    assert [p.name for p in paths] == [
        "mul8x8ss_approxtorch.txt",
        "mul8x8ss_approxtorch_dx.txt",
        "mul8x8ss_approxtorch_dw.txt",
    ]
    lut = read_approxtorch(paths[0])
    assert lut[(-1 + 128) * 256 + (1 + 128)] == -1 and lut[(3 + 128) * 256 + (7 + 128)] == 21
    assert lut[0] == 16384  # (-128) * (-128)
    dx, dw = (np.loadtxt(p, dtype=np.float32) for p in paths[1:])
    assert dx.shape == dw.shape == (256, 256)
    assert dx[3 + 128, 7 + 128] == np.float32(7 + 8.5 / 16)  # unscaled, dx = dAM/d(act)
    assert dw[3 + 128, 7 + 128] == np.float32(3 - 4.5 / 16)


def test_approxtorch_uint8_and_lre_vectors(tmp_path):
    art = make_artifact(8, 8)
    paths = write("approxtorch", art, tmp_path, approxtorch_grad="lre")
    assert [p.name for p in paths][1:] == [
        "mul8x8uu_approxtorch_lre_dx.txt",
        "mul8x8uu_approxtorch_lre_dw.txt",
    ]
    assert read_approxtorch(paths[0])[3 * 256 + 7] == 21
    dx, dw = (np.loadtxt(p, dtype=np.float32) for p in paths[1:])
    assert dx.shape == dw.shape == (256,)
    assert dx[7] == np.float32(7.25) and dw[3] == np.float32(2.25)  # dx by w, dw by act


def test_approxflow_text(tmp_path):
    (path,) = write("approxflow", make_artifact(8, 8), tmp_path)
    rows = read_approxflow(path)
    assert rows[3][7] == 21 and rows[255][255] == 65025


def test_npz_and_csv_hold_every_table_with_its_axes(tmp_path):
    art = make_artifact(4, 3, True)
    (npz_path,) = write("npz", art, tmp_path)
    with np.load(npz_path) as data:
        assert sorted(data.files) == sorted(
            ["operand_a", "operand_b", "product", "grad_lut2d_d_a", "grad_lut2d_d_b"]
            + [f"grad_{m}_{f}_{x}" for m in ("ste", "lut1d") for f in "uv" for x in "ab"]
            + [f"grad_{m}_attrs" for m in ("ste", "lut2d", "lut1d")]
        )
        i, j = int(np.flatnonzero(data["operand_a"] == 3)[0]), int(np.flatnonzero(data["operand_b"] == -2)[0])
        assert data["product"][i, j] == -6 and data["grad_lut1d_v_a"][0, j] == np.float32(-1.75)
        assert data["grad_lut1d_u_b"][0, i] == np.float32(3 - 0.75)
        assert str(data["grad_lut1d_attrs"]) == '{"form": "mean", "rank": 1}'
    (csv_path,) = write("csv", art, tmp_path)
    header, *rows = csv_path.read_text().splitlines()
    columns = header.split(",")
    assert columns[:3] == ["a", "b", "product"] and len(rows) == 16 * 8
    row = dict(zip(columns, next(r.split(",") for r in rows if r.startswith("3,-2,")), strict=True))
    assert row["product"] == "-6" and float(row["lut2d_d_a"]) == -2 + 8.5 / 16
    assert float(row["lut1d_d_b"]) == 3 - 0.75


# ------------------------------------------------------------------- operand roles


@pytest.mark.parametrize("fmt", ["transaxx", "adapt", "torchapprox"])
def test_asymmetric_multiplier_warns_and_transpose_swaps_roles(tmp_path, fmt):
    art = make_artifact(8, 8, True, offset=odd_a)
    with pytest.warns(AsymmetryWarning, match=r"50\.0% of operand pairs.*with --transpose for Conv2d"):
        write(fmt, art, tmp_path)
    with pytest.warns(AsymmetryWarning, match=r"right for Conv2d layers only"):
        (path,) = write(fmt, art, tmp_path, transpose=True)
    lut = np.load(path) if fmt == "torchapprox" else read_lut_header(path)
    act, w = 3, -6  # Conv2d reads lut[u8(w)][u8(act)]
    assert lut[u8(w)][u8(act)] == art.product[act + 128, w + 128] == -17
    loaded = read_tables(path, fmt, Layout.of(art), ExportOptions(transpose=True))
    np.testing.assert_array_equal(loaded.product, art.product)


def test_symmetric_multiplier_does_not_warn(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write("transaxx", make_artifact(8, 8, True), tmp_path)


def test_operands_of_different_widths_warn(tmp_path):
    with pytest.warns(AsymmetryWarning, match=r"its operands differ"):
        write("torchapprox", make_artifact(4, 8, True), tmp_path)


# ------------------------------------------------------------------------- refusals

REFUSALS = [
    pytest.param("amr", (8, 8, True), {}, ExportError, r"unsigned operands only", id="amr-signed"),
    pytest.param("amr", (5, 5), {}, ExportError, r"n in 4, 6, 7, 8 .*not 5 x 5", id="amr-width"),
    pytest.param("amr", (8, 6), {}, ExportError, r"not 8 x 6", id="amr-unequal"),
    pytest.param(
        "transaxx",
        (8, 8),
        {},
        ExportError,
        r"8-bit unsigned \(0\.\.255\).*--sign-magnitude",
        id="transaxx-u8",
    ),
    pytest.param("adapt", (9, 9, True), {}, ExportError, r"int8 bit patterns .* 9-bit signed", id="adapt-s9"),
    pytest.param(
        "torchapprox",
        (8, 8, True),
        {"sign_magnitude": True},
        ParameterError,
        r"drop --sign-magnitude",
        id="sm-signed",
    ),
    pytest.param("tfapprox", (8, 8, True), {}, ExportError, r"unsigned uint8 codes", id="tfapprox-signed"),
    pytest.param(
        "tfapprox", (7, 7), {}, ExportError, r"quantises both operands to 8 bits.* 7x7", id="tfapprox-width"
    ),
    pytest.param(
        "tfapprox",
        (8, 8),
        {"gradient": "lut2d"},
        ParameterError,
        r"tfapprox does not take --gradient",
        id="tfapprox-gradient",
    ),
    pytest.param(
        "approxflow",
        (8, 8, True),
        {},
        ExportError,
        r"operand a is 8-bit signed \(-128\.\.127\)",
        id="approxflow-signed",
    ),
    pytest.param(
        "approxtorch",
        (8, 8, True),
        {"qtype": "uint8"},
        ExportError,
        r"choose --qtype int8",
        id="approxtorch-qtype",
    ),
    pytest.param(
        "approxtorch",
        (8, 8),
        {"qtype": "int8"},
        ExportError,
        r"int8 in value order",
        id="approxtorch-u8-int8",
    ),
    pytest.param(
        "approxtorch",
        (8, 8),
        {"approxtorch_grad": "lre", "gradient": "lut2d"},
        ParameterError,
        r"lut1d group, not lut2d",
        id="lre-lut2d",
    ),
    pytest.param(
        "amr",
        (8, 8),
        {"transpose": True},
        ParameterError,
        r"amr does not take --transpose",
        id="amr-transpose",
    ),
]


@pytest.mark.parametrize(("fmt", "shape", "options", "error", "message"), REFUSALS)
def test_refusals(tmp_path, fmt, shape, options, error, message):
    art = make_artifact(*shape)
    with pytest.raises(error, match=message):
        get_format(fmt).check(art, ExportOptions(**options))
    with pytest.raises(error, match=message):
        write(fmt, art, tmp_path, **options)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("fmt", "signed", "cell", "value", "message"),
    [
        pytest.param("amr", False, (255, 255), 70000, r"outside uint16 0\.\.65535", id="amr-uint16"),
        pytest.param("tfapprox", False, (0, 0), 65536, r"outside uint16 0\.\.65535", id="tfapprox-uint16"),
        pytest.param("transaxx", True, (0, 0), 40000, r"outside int16 -32768\.\.32767", id="transaxx-int16"),
        pytest.param("adapt", True, (1, 1), -32769, r"outside int16 -32768\.\.32767", id="adapt-int16"),
        pytest.param("approxflow", False, (0, 1), -1, r"outside uint32", id="approxflow-negative"),
    ],
)
def test_values_outside_the_target_dtype_are_refused(fmt, signed, cell, value, message):
    art = make_artifact(8, 8, signed)
    art.product[cell] = value
    with pytest.raises(ExportError, match=message):
        get_format(fmt).check(art, ExportOptions())


def test_gradient_refusals():
    art = make_artifact(8, 8)
    art.gradients["lut2d"].d_a[0, 0] = 3000.0
    with pytest.raises(ExportError, match=r"first operand:' span .*outside int16"):
        get_format("amr").check(art, ExportOptions())
    art.gradients["lut2d"].d_b[1, 1] = np.nan
    with pytest.raises(ExportError, match=r"/grad/lut2d/d_b contains NaN"):
        get_format("approxtorch").check(art, ExportOptions())
    bare = make_artifact(8, 8, gradients=False)
    for fmt in ("amr", "approxtorch"):
        with pytest.raises(
            ExportError, match=r"needs the lut2d gradient tables.*holds none; run `appmult lutgen`"
        ):
            get_format(fmt).check(bare, ExportOptions())
    with pytest.raises(ExportError, match=r"needs the lut1d gradient tables"):
        get_format("approxtorch").check(bare, ExportOptions(approxtorch_grad="lre"))
    get_format("approxtorch").check(bare, ExportOptions(approxtorch_grad="none"))
    with pytest.raises(ParameterError, match=r"--gradient 'lut3d' is not one of: ste, lut2d, lut1d"):
        ExportOptions(gradient="lut3d")


def test_header_name_must_be_a_c_identifier(tmp_path):
    with pytest.raises(ExportError, match=r"must be a C identifier followed by \.h"):
        export(make_artifact(8, 8, True), "transaxx", tmp_path / "8-bit mult.h")
    with pytest.raises(ExportError, match=r"output directory .* does not exist"):
        export(make_artifact(8, 8, True), "adapt", tmp_path / "missing" / "mult.h")
    assert list(tmp_path.iterdir()) == []


def test_loaders_refuse_files_their_framework_rejects(tmp_path):
    art = make_artifact(8, 8, True)
    (transaxx,) = write("transaxx", art, tmp_path)
    adapt = tmp_path / "adapt.h"
    adapt.write_text(transaxx.read_text().replace("__device__ ", ""))
    layout = Layout.of(art)
    with pytest.raises(ExportError, match=r"not a header for adapt: g\+\+ rejects __device__"):
        read_tables(transaxx, "adapt", layout)
    with pytest.raises(ExportError, match=r"need `const __device__ int16_t lut`"):
        read_tables(adapt, "transaxx", layout)
    short = tmp_path / "short.bin"
    short.write_bytes(bytes(131070))
    with pytest.raises(ExportError, match=r"131070 bytes, TFApprox needs 131072"):
        read_tables(short, "tfapprox", Layout("t", 8, 8, False, False))
    blank = tmp_path / "blank.txt"
    blank.write_text(f"{AMR_HEADERS[0]}\n\n0 0 0\n")
    with pytest.raises(ExportError, match=r"blank.txt:2: expected `a b value`"):
        read_tables(blank, "amr", Layout("t", 4, 4, False, False))
    (npz_path,) = write("npz", art, tmp_path)
    with pytest.raises(ExportError, match=r"operand a axis does not match 8-bit unsigned"):
        read_tables(npz_path, "npz", Layout("t", 8, 8, False, False))


# ------------------------------------------------------------------------------ CLI


def test_cli_export_writes_next_to_the_artifact(tmp_path):
    path = save(make_artifact(8, 8, True, offset=odd_a), tmp_path / "mul.h5")
    result = CliRunner().invoke(cli, ["export", str(path), "--to", "torchapprox"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(tmp_path / "mul8x8ss_torchapprox.npy")
    assert "warning:" in result.stderr and "--transpose" in result.stderr
    out = tmp_path / "out" / "m.txt"
    out.parent.mkdir()
    result = CliRunner().invoke(
        cli, ["export", str(path), "--to", "approxtorch", "--gradient", "ste", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [str(out), str(out.parent / "m_dx.txt"), str(out.parent / "m_dw.txt")]


def test_cli_export_refusal_is_one_error_line(tmp_path, capsys):
    path = save(make_artifact(8, 8, True), tmp_path / "mul.h5")
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(path), "--to", "tfapprox"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: mul8x8ss: TFApprox indexes unsigned uint8 codes") and err.count("\n") == 1
    result = CliRunner().invoke(cli, ["export", str(path), "--to", "onnx"])
    assert result.exit_code == 2 and "'onnx' is not one of" in result.output


def test_cli_import_builds_an_artifact(tmp_path):
    art = make_artifact(8, 8)
    (table,) = write("tfapprox", art, tmp_path)
    runner = CliRunner()
    out = tmp_path / "imported.h5"
    args = ["import", str(table), "--format", "tfapprox", "--width-a", "8", "--width-b", "8", "-o", str(out)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    imported = load_artifact(out)
    np.testing.assert_array_equal(imported.product, art.product)
    assert imported.name == "mul8x8uu" and imported.top == "" and imported.width_out == 16
    assert imported.simulator == f"imported from {table} (tfapprox)"
    assert imported.source_files == (str(table),) and imported.source_sha256 == (sha256_of(table),)
    assert imported.gradients == {}
    again = runner.invoke(cli, [*args, "--name", "renamed"])  # one rule: replaced, and said so
    assert again.exit_code == 0 and f"replaced {out}" in again.stderr
    assert load_artifact(out).name == "renamed"


def test_cli_import_signed_tables_default_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    art = make_artifact(8, 8, True)
    paths = write("approxtorch", art, tmp_path, approxtorch_grad="none")
    args = ["import", str(paths[0]), "--format", "approxtorch", "--width-a", "8", "--width-b", "8"]
    result = CliRunner().invoke(cli, [*args, "--signed"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "mul8x8ss_approxtorch.h5"  # the table's file stem
    np.testing.assert_array_equal(load_artifact(tmp_path / "mul8x8ss_approxtorch.h5").product, art.product)
    unsigned = CliRunner().invoke(cli, [*args, "-o", "u.h5"])
    assert isinstance(unsigned.exception, ExportError)
    assert "negative products (-16256) but the operands were given as unsigned" in str(unsigned.exception)
    assert not (tmp_path / "u.h5").exists()


def test_import_refuses_negative_products_without_signed(tmp_path):
    path = tmp_path / "table.npy"
    np.save(path, make_artifact(4, 4, True).product)
    with pytest.raises(ExportError, match=r"negative products \(-56\).*pass --signed"):
        import_artifact(path, "npy", width_a=4, width_b=4)
    art = import_artifact(path, "npy", width_a=4, width_b=4, signed=True, name="s4")
    assert art.width_out == 8 and art.name == "s4"


# ------------------------------------------------------------------ wider tables, names


def _twelve_bit() -> Artifact:
    a = operand_values(12, False).astype(np.int64)
    product = np.outer(a, a) - (np.outer(a, a) & 15)  # an approximate 12x12: the low four bits cleared
    return Artifact(
        name="m12", top="m12", width_a=12, width_b=12, width_out=24, signed_a=False, signed_b=False,
        product=product,
    )  # fmt: skip


def test_a_wider_table_is_refused_unless_its_corner_is_asked_for(tmp_path):
    art = _twelve_bit()
    with pytest.raises(ExportError, match=r"operand a is 12-bit unsigned .*pass --corner"):
        write("approxflow", art, tmp_path)
    with pytest.warns(ExportWarning, match=r"only the corner a in 0..255 and b in 0..255 of the 12x12-bit"):
        (path,) = write("approxflow", art, tmp_path, corner=True)
    block = np.loadtxt(path, dtype=np.int64)  # ApproxFlow's reader: 256 lines of 256 integers
    np.testing.assert_array_equal(block, art.product[:256, :256])


def test_a_corner_says_so_in_the_file_header(tmp_path):
    art = _twelve_bit()
    with pytest.warns(ExportWarning, match=r"\|a\|, \|b\| <= 128 of the 12x12-bit multiplier m12"):
        (header,) = write("transaxx", art, tmp_path, sign_magnitude=True, corner=True)
    assert "This file holds only |a|, |b| <= 128 of the 12x12-bit multiplier m12" in header.read_text()
    lut = read_lut_header(header)
    assert lut[u8(-3)][u8(5)] == -art.product[3, 5] and lut[u8(-128)][u8(-128)] == art.product[128, 128]
    with pytest.warns(ExportWarning, match=r"approxtorch file holds only the corner"):
        paths = write("approxtorch", art, tmp_path, corner=True, approxtorch_grad="none")
    assert paths[0].read_text().startswith("# This file holds only the corner a in 0..255 and b in 0..255")
    np.testing.assert_array_equal(np.loadtxt(paths[0], dtype=np.int64), art.product[:256, :256])


def test_default_file_names_never_collide():
    art = make_artifact(8, 8, True)
    names = [default_output(art, fmt).name for fmt in FORMATS]
    assert len(set(names)) == len(names), names
