"""The signed int8 bit-pattern table shared by TransAxx, AdaPT and TorchApprox.

These targets index ``lut[u8(x)][u8(y)]`` with ``x = act, y = w`` in Linear
layers and ``x = w, y = act`` in Conv2d layers; unsigned multipliers enter
them through TorchApprox's sign-magnitude convention.
"""

from __future__ import annotations

import warnings

import numpy as np

from appmult.core.artifact import Artifact
from appmult.core.errors import ExportError, ParameterError
from appmult.lutgen.exporters.checks import check_range
from appmult.lutgen.exporters.domains import INT8_BITS, SIZE, corner_note, embed_product
from appmult.lutgen.exporters.format import AsymmetryWarning, ExportWarning
from appmult.lutgen.exporters.layout import Layout
from appmult.lutgen.exporters.options import ExportOptions, check_options

__all__ = ["int8_bit_pattern_block"]


def _sign_magnitude(
    artifact: Artifact, layout: Layout, corner: bool
) -> tuple[np.ndarray, Layout, str | None]:
    """Signed 8x8 table ``sign(x) * sign(y) * AM(|x|, |y|)`` of an unsigned multiplier, and its corner note.

    sign(v) is -1 for v < 0, else +1, and |-128| = 128 (TorchApprox's
    ``utils.evoapprox.lut``). Pairs with |x| or |y| beyond the operand's
    unsigned range stay 0. An operand wider than 8 bits contributes only
    |x| <= 128, which needs ``corner``.
    """
    if layout.output_signed:
        raise ParameterError(
            f"{layout.name}: --sign-magnitude wraps an unsigned multiplier, but its operands "
            f"are a: {layout.describe('a')}, b: {layout.describe('b')}; drop --sign-magnitude"
        )
    wide = max(layout.width_a, layout.width_b) > 8
    if wide and not corner:
        raise ExportError(
            f"{layout.name}: --sign-magnitude of a {layout.width_a}x{layout.width_b}-bit multiplier uses "
            "only |x|, |y| <= 128 of its table; add --corner to write that corner, or export the whole "
            "table to npz, csv or npy"
        )
    note = (
        f"only |a|, |b| <= 128 of the {layout.width_a}x{layout.width_b}-bit multiplier {layout.name}, "
        "in sign-magnitude form (--corner); the rest of its table is not in this file"
        if wide
        else None
    )
    values = np.arange(-128, 128)
    magnitude, sign = np.abs(values), np.where(values < 0, -1, 1)
    fits_a, fits_b = magnitude < (1 << layout.width_a), magnitude < (1 << layout.width_b)
    product = artifact.product.astype(np.int64)
    table = np.zeros((SIZE, SIZE), dtype=np.int64)
    table[np.ix_(fits_a, fits_b)] = (
        product[np.ix_(magnitude[fits_a], magnitude[fits_b])] * sign[fits_a][:, None] * sign[fits_b][None, :]
    )
    return table, Layout(layout.name, 8, 8, True, True), note


def _warn_if_asymmetric(table: np.ndarray, layout: Layout, fmt: str, transpose: bool) -> None:
    """Warn with :class:`AsymmetryWarning` unless ``AM(a, b) == AM(b, a)`` everywhere."""
    if (layout.width_a, layout.signed_a) == (layout.width_b, layout.signed_b):
        differ = float(np.mean(table != table.T))
        if differ == 0.0:
            return
        cause = f"AM(a, b) != AM(b, a) on {differ:.1%} of operand pairs"
    else:
        cause = f"its operands differ (a: {layout.describe('a')}, b: {layout.describe('b')})"
    right, other = ("Conv2d", "Linear") if transpose else ("Linear", "Conv2d")
    flag = "without" if transpose else "with"
    warnings.warn(
        AsymmetryWarning(
            f"{layout.name}: {cause}, and {fmt} indexes lut[act][w] in Linear layers but "
            f"lut[w][act] in Conv2d layers; this file is right for {right} layers only; "
            f"export again {flag} --transpose for {other} layers"
        ),
        stacklevel=4,
    )


def int8_bit_pattern_block(
    artifact: Artifact, options: ExportOptions, fmt: str, dtype: type
) -> tuple[np.ndarray, str | None]:
    """The 256x256 block ``lut[u8(a)][u8(b)] = AM(a, b)`` for a signed int8 target, and its corner note.

    Shared by TransAxx, AdaPT and TorchApprox. Applies ``sign_magnitude``,
    ``transpose`` and ``corner``, refuses operands outside int8 and values
    outside ``dtype``, and warns when the multiplier is not commutative (those
    targets use lut[act][w] in Linear and lut[w][act] in Conv2d layers). The
    note (None for a whole table) says which part of a wider table is in the file.
    """
    check_options(options, fmt, frozenset({"transpose", "sign_magnitude", "corner"}))
    layout = Layout.of(artifact)
    table = artifact.product.astype(np.int64)
    note = None
    if options.sign_magnitude:
        table, layout, note = _sign_magnitude(artifact, layout, options.corner)
        if note:
            warnings.warn(ExportWarning(f"{fmt} file holds {note}"), stacklevel=3)
    else:
        note = corner_note(layout, INT8_BITS) if options.corner else None
    block = embed_product(
        table,
        layout,
        INT8_BITS,
        fmt,
        "only int8 operands fit (signed up to 8 bits, unsigned up to 7 bits); "
        "for an unsigned multiplier pass --sign-magnitude",
        transpose=options.transpose,
        corner=options.corner,
    )
    check_range(
        block,
        dtype,
        "product values",
        layout.name,
        f"{fmt} stores {np.dtype(dtype).name} entries and cannot hold this multiplier",
    )
    _warn_if_asymmetric(table, layout, fmt, options.transpose)
    return block, note
