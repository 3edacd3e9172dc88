"""Index rules of the 256-entry targets, from the README ("Export to retraining frameworks")
and formats.md.

``u8(v) = v & 0xFF`` (TransAxx, AdaPT, TorchApprox), value order ``v + 128`` (ApproxTorch
int8) and ``v`` itself (uint8 targets); narrower tables keep each value's own row and
column and leave every other entry 0; ``--transpose`` swaps the roles (row = weight);
``--sign-magnitude`` writes ``sign(x) sign(y) AM(|x|, |y|)`` with sign(0) = +1 and
|-128| = 128; wider tables need ``--corner``. Expected blocks are built here entry by
entry from those rules.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from appmult.core.artifact import Artifact
from appmult.core.errors import ExportError, ParameterError
from appmult.core.operands import operand_values
from appmult.lutgen.exporters import AsymmetryWarning, ExportOptions, ExportWarning, Layout, export
from appmult.lutgen.exporters.domains import (
    INT8_BITS,
    INT8_VALUES,
    UINT8,
    check_operands,
    corner_note,
    embed,
    embed_product,
    extract,
    read_block,
)

INT8 = range(-128, 128)
WIDE = (
    "pass --corner to write only the part of the table it can index, "
    "or export the whole table to npz, csv or npy"
)


def make_artifact(
    width_a: int, width_b: int, signed_a: bool, signed_b: bool, am: Callable, name: str = "mul_t"
) -> Artifact:
    a = operand_values(width_a, signed_a).astype(np.int64)[:, None]
    b = operand_values(width_b, signed_b).astype(np.int64)[None, :]
    return Artifact(
        name=name,
        top="mul",
        width_a=width_a,
        width_b=width_b,
        width_out=width_a + width_b + 2,
        signed_a=signed_a,
        signed_b=signed_b,
        product=np.broadcast_to(am(a, b), (a.size, b.size)),
    )


def int8_block(entry: Callable[[int, int], int | None]) -> np.ndarray:
    """``lut[u8(x)][u8(y)] = entry(x, y)`` over int8 x, y; 0 where ``entry`` gives None."""
    block = np.zeros((256, 256), dtype=np.int64)
    for x in INT8:
        for y in INT8:
            value = entry(x, y)
            if value is not None:
                block[x & 0xFF, y & 0xFF] = value
    return block


def torchapprox_block(art: Artifact, tmp_path: Path, **options) -> np.ndarray:
    (path,) = export(art, "torchapprox", tmp_path / f"{art.name}_torchapprox.npy", ExportOptions(**options))
    block = np.load(path)
    assert block.dtype == np.int32 and block.shape == (256, 256)
    return block.astype(np.int64)


def sign(v: int) -> int:
    return -1 if v < 0 else 1


# ---------------------------------------------------------------- the three index rules


def test_each_domain_indexes_a_value_by_its_own_rule():
    values = np.array([-128, -1, 0, 1, 127])
    assert INT8_BITS.index(values).tolist() == [128, 255, 0, 1, 127]
    assert INT8_VALUES.index(values).tolist() == [0, 127, 128, 129, 255]
    assert UINT8.index(np.array([0, 1, 128, 255])).tolist() == [0, 1, 128, 255]
    assert (INT8_BITS.low, INT8_BITS.high) == (INT8_VALUES.low, INT8_VALUES.high) == (-128, 127)
    assert (UINT8.low, UINT8.high) == (0, 255)


@pytest.mark.parametrize(
    ("domain", "width", "signed", "index"),
    [
        (INT8_BITS, 4, True, lambda v: v % 256),
        (INT8_VALUES, 4, True, lambda v: v + 128),
        (INT8_BITS, 7, False, lambda v: v),
        (UINT8, 5, False, lambda v: v),
    ],
)
def test_a_narrow_axis_keeps_each_value_at_its_own_index(domain, width, signed, index):
    values = operand_values(width, signed)
    table = 10 * values.astype(np.int64) + 1000
    block = embed(table, (values,), domain)
    want = np.zeros(256, dtype=np.int64)
    for v in values.tolist():
        want[index(v)] = 10 * v + 1000
    np.testing.assert_array_equal(block, want)
    np.testing.assert_array_equal(extract(block, (values,), domain), table)


@pytest.mark.parametrize("domain", [INT8_BITS, INT8_VALUES])
def test_axes_of_a_narrow_integer_dtype_index_like_any_other(domain):
    # An int8 operand held as np.int8: u8(v) and v + 128 leave the int8 range, yet index the same.
    values = operand_values(4, True)
    table = np.arange(16, dtype=np.int64) * 3 - 7
    narrow = values.astype(np.int8)
    block = embed(table, (values,), domain)
    np.testing.assert_array_equal(embed(table, (narrow,), domain), block)
    np.testing.assert_array_equal(extract(block, (narrow,), domain), table)


def test_a_signed_four_bit_minus_one_sits_in_row_255(tmp_path):
    # README: "A signed 4-bit a = -1 therefore sits in row 255 of a TransAxx table."
    art = make_artifact(4, 4, True, True, lambda a, b: a * b + 3 * a + 100)
    with pytest.warns(AsymmetryWarning):
        block = torchapprox_block(art, tmp_path)
    assert block[255, 2] == -1 * 2 + 3 * -1 + 100
    want = int8_block(lambda x, y: x * y + 3 * x + 100 if -8 <= x < 8 and -8 <= y < 8 else None)
    np.testing.assert_array_equal(block, want)


def test_transpose_puts_the_weight_on_rows():
    layout = Layout("m", 3, 5, True, False)
    a, b = layout.operand_a.astype(np.int64), layout.operand_b.astype(np.int64)
    table = 100 * a[:, None] + b[None, :]
    block = embed_product(table, layout, INT8_BITS, "fmt", "remedy", transpose=True)
    want = np.zeros((256, 256), dtype=np.int64)
    for x in a.tolist():
        for y in b.tolist():
            want[y & 0xFF, x & 0xFF] = 100 * x + y
    np.testing.assert_array_equal(block, want)
    np.testing.assert_array_equal(
        read_block(block, layout, INT8_BITS, "fmt", "remedy", transpose=True), table
    )
    np.testing.assert_array_equal(
        read_block(
            embed_product(table, layout, INT8_BITS, "fmt", "remedy"), layout, INT8_BITS, "fmt", "remedy"
        ),
        table,
    )


# ---------------------------------------------------------------- which operands fit


def test_every_operand_is_checked_even_when_the_first_fits():
    # An unsigned operand fits int8 with at most 7 bits: a (7 bits) fits, b (8 bits) does not.
    with pytest.raises(ExportError) as info:
        check_operands(Layout("m", 7, 8, False, False), INT8_BITS, "transaxx", "REMEDY")
    assert str(info.value) == (
        "m: transaxx indexes operands as int8 bit patterns (-128..127), but operand b is "
        "8-bit unsigned (0..255); REMEDY"
    )


def test_the_operand_that_does_not_fit_is_the_one_described():
    with pytest.raises(ExportError) as info:
        check_operands(Layout("m", 8, 4, False, True), INT8_VALUES, "approxtorch", "REMEDY")
    assert str(info.value) == (
        "m: approxtorch indexes operands as int8 in value order (-128..127), but operand a is "
        "8-bit unsigned (0..255); REMEDY"
    )
    with pytest.raises(ExportError, match=r"operand a is 4-bit signed \(-8\.\.7\); REMEDY$"):
        check_operands(Layout("m", 4, 4, True, False), UINT8, "tfapprox", "REMEDY")


def test_a_wider_operand_needs_the_corner_unless_asked_for():
    layout = Layout("m", 9, 4, True, True)
    with pytest.raises(ExportError) as info:
        check_operands(layout, INT8_BITS, "transaxx", "REMEDY")
    assert str(info.value) == (
        f"m: transaxx indexes operands as int8 bit patterns (-128..127), but operand a is "
        f"9-bit signed (-256..255); {WIDE}"
    )
    check_operands(layout, INT8_BITS, "transaxx", "REMEDY", corner=True)
    check_operands(Layout("m", 8, 8, True, True), INT8_BITS, "transaxx", "REMEDY")


def test_the_corner_note_names_only_the_operands_that_were_cut():
    assert corner_note(Layout("m", 8, 8, True, True), INT8_BITS) is None
    assert corner_note(Layout("m", 9, 4, True, True), INT8_BITS) == (
        "only the corner a in -128..127 of the 9x4-bit multiplier m (--corner); "
        "the rest of its table is not in this file"
    )
    assert corner_note(Layout("m", 3, 12, False, False), UINT8) == (
        "only the corner b in 0..255 of the 3x12-bit multiplier m (--corner); "
        "the rest of its table is not in this file"
    )
    assert corner_note(Layout("w", 12, 10, False, False), UINT8) == (
        "only the corner a in 0..255 and b in 0..255 of the 12x10-bit multiplier w (--corner); "
        "the rest of its table is not in this file"
    )


def test_embedding_and_reading_refuse_a_wider_table_by_default():
    layout = Layout("m", 9, 8, False, False)
    table = np.zeros(layout.shape, dtype=np.int64)
    with pytest.raises(
        ExportError, match=r"^m: tfapprox indexes operands as uint8 \(0\.\.255\), but operand a is 9-bit"
    ):
        embed_product(table, layout, UINT8, "tfapprox", "REMEDY")
    with pytest.raises(
        ExportError, match=r"^m: tfapprox indexes .* operand a is 9-bit unsigned \(0\.\.511\); pass --corner"
    ):
        read_block(np.zeros((256, 256)), layout, UINT8, "tfapprox", "REMEDY")
    with pytest.raises(
        ExportError,
        match=r"^m: approxflow indexes operands as uint8 .*operand b is 5-bit signed \(-16\.\.15\); REMEDY$",
    ):
        read_block(np.zeros((256, 256)), Layout("m", 4, 5, False, True), UINT8, "approxflow", "REMEDY")


def test_a_corner_embeds_the_values_the_domain_reaches_and_says_so():
    layout = Layout("m", 10, 3, False, False)
    a, b = layout.operand_a.astype(np.int64), layout.operand_b.astype(np.int64)
    table = a[:, None] * 8 + b[None, :]
    with pytest.warns(ExportWarning) as caught:
        block = embed_product(table, layout, UINT8, "approxflow", "REMEDY", corner=True)
    assert [str(w.message) for w in caught] == [
        "approxflow file holds only the corner a in 0..255 of the 10x3-bit multiplier m (--corner); "
        "the rest of its table is not in this file"
    ]
    want = np.zeros((256, 256), dtype=np.int64)
    for x in range(256):
        for y in range(8):
            want[x, y] = 8 * x + y
    np.testing.assert_array_equal(block, want)


# ---------------------------------------------------------------- the int8 bit-pattern targets


def test_an_unsigned_eight_bit_operand_is_pointed_to_sign_magnitude(tmp_path):
    art = make_artifact(8, 8, False, False, lambda a, b: a * b)
    with pytest.raises(ExportError) as info:
        torchapprox_block(art, tmp_path)
    assert str(info.value) == (
        "mul_t: torchapprox indexes operands as int8 bit patterns (-128..127), but operand a is "
        "8-bit unsigned (0..255); only int8 operands fit (signed up to 8 bits, unsigned up to 7 bits); "
        "for an unsigned multiplier pass --sign-magnitude"
    )


def test_sign_magnitude_of_a_narrow_multiplier(tmp_path):
    # |x| must be a value of the operand: |x| < 16 for a, |y| < 32 for b; other pairs stay 0.
    def am(a, b):
        return a * b + a + 2 * b + 1  # AM(0, 0) = 1, so the sign of 0 shows

    art = make_artifact(4, 5, False, False, am)
    with pytest.warns(AsymmetryWarning):
        block = torchapprox_block(art, tmp_path, sign_magnitude=True)

    def entry(x, y):
        if abs(x) >= 16 or abs(y) >= 32:
            return None
        return sign(x) * sign(y) * am(abs(x), abs(y))

    np.testing.assert_array_equal(block, int8_block(entry))
    assert block[0, 0] == 1 and block[0, 255] == -am(0, 1) and block[255, 0] == -am(1, 0)


def test_sign_magnitude_of_an_eight_bit_multiplier_needs_no_note(tmp_path):
    art = make_artifact(8, 8, False, False, lambda a, b: a * b + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExportWarning)
        block = torchapprox_block(art, tmp_path, sign_magnitude=True)
    want = int8_block(lambda x, y: sign(x) * sign(y) * (abs(x) * abs(y) + 1))
    np.testing.assert_array_equal(block, want)
    assert block[128, 128] == 128 * 128 + 1  # |-128| = 128
    header = tmp_path / "mul_t_transaxx.h"
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExportWarning)
        export(art, "transaxx", header, ExportOptions(sign_magnitude=True))
    assert "This file holds" not in header.read_text()


def test_sign_magnitude_of_a_wider_multiplier_needs_the_corner(tmp_path):
    art = make_artifact(9, 8, False, False, lambda a, b: a * b)
    with pytest.raises(ExportError) as info:
        torchapprox_block(art, tmp_path, sign_magnitude=True)
    assert str(info.value) == (
        "mul_t: --sign-magnitude of a 9x8-bit multiplier uses only |x|, |y| <= 128 of its table; "
        "add --corner to write that corner, or export the whole table to npz, csv or npy"
    )
    note = (
        "only |a|, |b| <= 128 of the 9x8-bit multiplier mul_t, in sign-magnitude form (--corner); "
        "the rest of its table is not in this file"
    )
    header = tmp_path / "mul_t_transaxx.h"
    with pytest.warns(ExportWarning) as caught:
        export(art, "transaxx", header, ExportOptions(sign_magnitude=True, corner=True))
    assert [str(w.message) for w in caught if not isinstance(w.message, AsymmetryWarning)] == [
        f"transaxx file holds {note}"
    ]
    assert f" * This file holds {note}.\n" in header.read_text()
    with pytest.warns(ExportWarning):
        block = torchapprox_block(art, tmp_path, sign_magnitude=True, corner=True)
    np.testing.assert_array_equal(block, int8_block(lambda x, y: x * y))


def test_sign_magnitude_is_for_unsigned_multipliers_only(tmp_path):
    art = make_artifact(4, 6, True, False, lambda a, b: a * b)
    with pytest.raises(ParameterError) as info:
        torchapprox_block(art, tmp_path, sign_magnitude=True)
    assert str(info.value) == (
        "mul_t: --sign-magnitude wraps an unsigned multiplier, but its operands are "
        "a: 4-bit signed (-8..7), b: 6-bit unsigned (0..63); drop --sign-magnitude"
    )


def test_sign_magnitude_values_must_fit_the_file_dtype(tmp_path):
    def am(a, b):
        return a * b + 20000

    art = make_artifact(8, 8, False, False, am)
    want = int8_block(lambda x, y: sign(x) * sign(y) * am(abs(x), abs(y)))
    low, high = int(want.min()), int(want.max())
    assert (low, high) == (-(128 * 127 + 20000), 128 * 128 + 20000)
    with pytest.raises(ExportError) as info:
        export(art, "transaxx", tmp_path / "t.h", ExportOptions(sign_magnitude=True))
    assert str(info.value) == (
        f"mul_t: product values span {low}..{high}, outside int16 -32768..32767; "
        "transaxx stores int16 entries and cannot hold this multiplier"
    )
    np.testing.assert_array_equal(torchapprox_block(art, tmp_path, sign_magnitude=True), want)


@pytest.mark.parametrize(
    ("transpose", "advice"),
    [
        (False, "this file is right for Linear layers only; export again with --transpose for Conv2d layers"),
        (
            True,
            "this file is right for Conv2d layers only; export again without --transpose for Linear layers",
        ),
    ],
)
def test_operands_of_different_kinds_warn_about_the_layer_order(tmp_path, transpose, advice):
    # TorchApprox's default quantisation: activations 0..127, weights int8 (README).
    art = make_artifact(7, 8, False, True, lambda a, b: a * b)
    with pytest.warns(AsymmetryWarning) as caught:
        block = torchapprox_block(art, tmp_path, transpose=transpose)
    assert [str(w.message) for w in caught] == [
        "mul_t: its operands differ (a: 7-bit unsigned (0..127), b: 8-bit signed (-128..127)), and "
        f"torchapprox indexes lut[act][w] in Linear layers but lut[w][act] in Conv2d layers; {advice}"
    ]
    if transpose:
        want = int8_block(lambda w, x: x * w if 0 <= x < 128 else None)  # row u8(w), column u8(act)
    else:
        want = int8_block(lambda x, w: x * w if 0 <= x < 128 else None)
    np.testing.assert_array_equal(block, want)


def test_a_corner_of_a_signed_table_is_written_and_noted(tmp_path):
    def am(a, b):
        return a * b - b

    art = make_artifact(9, 4, True, True, am)
    with pytest.raises(ExportError, match=r"operand a is 9-bit signed \(-256\.\.255\); pass --corner"):
        torchapprox_block(art, tmp_path)
    note = (
        "only the corner a in -128..127 of the 9x4-bit multiplier mul_t (--corner); "
        "the rest of its table is not in this file"
    )
    header = tmp_path / "mul_t_transaxx.h"
    with pytest.warns(ExportWarning) as caught:
        export(art, "transaxx", header, ExportOptions(corner=True))
    assert f"transaxx file holds {note}" in [str(w.message) for w in caught]
    assert f" * This file holds {note}.\n" in header.read_text()
    with pytest.warns(ExportWarning):
        block = torchapprox_block(art, tmp_path, corner=True)
    np.testing.assert_array_equal(block, int8_block(lambda x, y: am(x, y) if -8 <= y < 8 else None))


def test_an_option_the_target_does_not_take_is_named_with_the_target(tmp_path):
    art = make_artifact(8, 8, True, True, lambda a, b: a * b)
    with pytest.raises(ParameterError) as info:
        export(art, "transaxx", tmp_path / "t.h", ExportOptions(gradient="lut2d"))
    assert str(info.value) == (
        "transaxx does not take --gradient (it takes --corner, --sign-magnitude, --transpose); "
        "drop the option"
    )
