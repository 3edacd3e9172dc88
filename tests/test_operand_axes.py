"""Operand axes and layouts, from the ordering rules of design.md ("Operands and ordering").

An unsigned n-bit axis is 0 .. 2**n - 1 and a signed one -2**(n-1) .. 2**(n-1) - 1, in
value order, as int32; widths are 2..12 bits and anything else is refused with a message
that says why. A layout describes a table's operands without the table.
"""

from __future__ import annotations

import numpy as np
import pytest

from appmult.core.errors import ParameterError
from appmult.core.operands import check_width, operand_values, to_bit_pattern, value_range
from appmult.lutgen.exporters.layout import Layout

# ---------------------------------------------------------------- widths


@pytest.mark.parametrize("width", [2, 7, 12, np.int64(8)])
def test_widths_two_to_twelve_are_accepted(width):
    assert check_width(width) == int(width)
    assert type(check_width(width)) is int


@pytest.mark.parametrize("width", [8.0, 7.5, "8", True, None])
def test_a_width_that_is_not_an_integer_is_refused(width):
    with pytest.raises(ParameterError, match=rf"^operand width must be an integer, got {width!r}$"):
        check_width(width)


def test_one_bit_is_a_gate_not_a_multiplier():
    message = (
        "operand is 1 bit wide; the tool tabulates operands of 2..12 bits "
        "(a 1-bit operand is a gate, not a multiplier)"
    )
    with pytest.raises(ParameterError) as info:
        check_width(1)
    assert str(info.value) == message


@pytest.mark.parametrize("width", [0, -3])
def test_zero_or_fewer_bits_are_plural(width):
    with pytest.raises(ParameterError) as info:
        check_width(width)
    assert str(info.value).startswith(
        f"operand is {width} bits wide; the tool tabulates operands of 2..12 bits"
    )


def test_the_operand_is_named_in_the_message():
    with pytest.raises(ParameterError, match=r"^operand b \(--width-b\) is 1 bit wide"):
        check_width(1, "operand b (--width-b)")


@pytest.mark.parametrize(("width", "entries"), [(13, 2**26), (16, 2**32)])
def test_a_wide_operand_is_refused_with_its_table_size(width, entries):
    # design.md: "a 16x16 table has 4*10^9 entries"; a w x w table has 2**(2w).
    with pytest.raises(ParameterError) as info:
        check_width(width)
    assert str(info.value) == (
        f"operand is {width} bits wide; the tool tabulates operands of 2..12 bits "
        f"(a {width}x{width} table would have {entries:,} entries)"
    )


# ---------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("width", "signed", "low", "high"),
    [(2, False, 0, 3), (2, True, -2, 1), (8, False, 0, 255), (8, True, -128, 127), (12, True, -2048, 2047)],
)
def test_axes_are_every_value_in_ascending_order_as_int32(width, signed, low, high):
    values = operand_values(width, signed)
    assert value_range(width, signed) == (low, high)
    assert values.dtype == np.int32
    assert values.tolist() == list(range(low, high + 1))


def test_operand_values_check_the_width():
    # Axes exist up to the streamed width (16 bits); wider ones are refused.
    assert operand_values(16, True)[[0, -1]].tolist() == [-(2**15), 2**15 - 1]
    with pytest.raises(ParameterError, match="17 bits wide; the tool characterizes operands of 2..16 bits"):
        operand_values(17, False)


@pytest.mark.parametrize("width", [13, 16])
def test_streamed_widths_are_accepted_only_when_asked(width):
    assert check_width(width, streamed=True) == width
    with pytest.raises(ParameterError, match=f"{width} bits wide; the tool tabulates"):
        check_width(width)


def test_bit_patterns_are_the_values_modulo_two_to_the_width():
    # Two's complement: -1 -> all ones, -2**(n-1) -> only the top bit.
    patterns = to_bit_pattern(np.array([-128, -1, 0, 1, 127], dtype=np.int32), 8)
    assert patterns.dtype == np.int64
    assert patterns.tolist() == [128, 255, 0, 1, 127]
    assert to_bit_pattern(operand_values(4, True), 4).tolist() == [
        8,
        9,
        10,
        11,
        12,
        13,
        14,
        15,
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
    ]
    assert to_bit_pattern([3, -4], 3).tolist() == [3, 4]  # any sequence of ints
    assert to_bit_pattern(operand_values(12, False), 12).tolist() == list(range(4096))


# ---------------------------------------------------------------- layouts


def test_a_layout_has_the_axes_and_shape_of_its_widths():
    layout = Layout("m", 4, 6, True, False)
    assert layout.operand_a.tolist() == list(range(-8, 8))
    assert layout.operand_b.tolist() == list(range(64))
    assert layout.shape == (16, 64)
    assert layout.output_signed


@pytest.mark.parametrize(
    ("signed_a", "signed_b", "output"), [(False, False, False), (True, False, True), (False, True, True)]
)
def test_the_output_is_signed_when_either_operand_is(signed_a, signed_b, output):
    assert Layout("m", 3, 3, signed_a, signed_b).output_signed is output


def test_transposing_swaps_the_operand_roles_of_the_same_multiplier():
    layout = Layout("mul_x", 4, 6, True, False)
    assert layout.transposed() == Layout("mul_x", 6, 4, False, True)
    assert layout.transposed().transposed() == layout


def test_describe_names_each_operand_by_its_own_width_signedness_and_range():
    layout = Layout("m", 4, 6, True, False)
    assert layout.describe("a") == "4-bit signed (-8..7)"
    assert layout.describe("b") == "6-bit unsigned (0..63)"
    flipped = Layout("m", 7, 3, False, True)
    assert flipped.describe("a") == "7-bit unsigned (0..127)"
    assert flipped.describe("b") == "3-bit signed (-4..3)"
