"""Helpers shared by the format modules: options, operand domains, checks, atomic writes.

Index conventions
-----------------
An artifact holds value-ordered tables ``P[i, j] = AM(a_i, b_j)``: operand
``a`` (the activation) on rows, ``b`` (the weight) on columns, both ascending
by numeric value. A 256x256 target reaches an operand value ``v`` through the
index rule of its :class:`Domain`:

``INT8_BITS``
    raw two's-complement bit pattern, ``u8(v) = v & 0xFF``: 0..127 hold
    values 0..127, 128..255 hold -128..-1 (TransAxx, AdaPT, TorchApprox).
``INT8_VALUES``
    value order, ``v + 128`` (ApproxTorch int8 mode).
``UINT8``
    ``v`` itself, 0..255 (TFApprox, ApproxFlow, ApproxTorch uint8 mode).

Narrower tables
---------------
Every operand value must be a value of the target's domain (a signed 4-bit
operand -8..7 or an unsigned 7-bit one 0..127 fits int8; an unsigned 8-bit
one does not). Each value's row or column goes to the index of that value,
so ``lut[u8(-1)] = lut[255]`` holds ``a = -1`` whatever the width; entries no
operand value reaches are 0. A framework quantising to the narrower range
then reads the right entries.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from appmult.artifact import Artifact, GradientTable
from appmult.atomic import replacing
from appmult.errors import ExportError, ParameterError
from appmult.operands import OperandAxes

__all__ = [
    "GRADIENT_CHOICES",
    "INT8_BITS",
    "INT8_VALUES",
    "SIZE",
    "UINT8",
    "AsymmetryWarning",
    "Domain",
    "ExportOptions",
    "ExportWarning",
    "Format",
    "Layout",
    "Tables",
    "atomic_write",
    "broadcast_lut1d",
    "check_axes",
    "check_operands",
    "check_options",
    "check_range",
    "default_filename",
    "embed",
    "embed_product",
    "extract",
    "gradient_2d",
    "gradient_group",
    "int8_bit_pattern_block",
    "matrix_text",
    "npy_bytes",
    "read_block",
    "read_bytes",
    "read_matrix",
    "read_npy",
    "read_text",
    "selected_gradients",
]

SIZE = 256
GRADIENT_CHOICES = ("ste", "lut2d", "lut1d")
QTYPES = ("int8", "uint8")
APPROXTORCH_GRADS = ("custom", "lre", "none")


class ExportWarning(UserWarning):
    """An export succeeded but the file needs care (broadcast tables, operand roles)."""


class AsymmetryWarning(ExportWarning):
    """AM(a, b) != AM(b, a) and the target swaps operand roles between layer kinds."""


@dataclass(frozen=True)
class ExportOptions:
    """Options of one export or import; ``None``/``False`` means "not given".

    Attributes
    ----------
    gradient : {"ste", "lut2d", "lut1d"} or None
        Gradient group for formats that carry gradients (amr, approxtorch,
        npz, csv); None means the format's default.
    transpose : bool
        Write ``AM(b, a)`` at ``lut[u8(a)][u8(b)]``, i.e. ``lut[u8(w)][u8(act)] =
        AM(act, w)``, for the Conv2d layers of TransAxx, AdaPT and TorchApprox.
    sign_magnitude : bool
        Put an unsigned multiplier into a signed int8 target as
        ``sign(x) * sign(y) * AM(|x|, |y|)`` (TorchApprox's convention, sign(0) = +1).
    qtype : {"int8", "uint8"} or None
        ApproxTorch mode; None picks int8 when either operand is signed, else uint8.
    approxtorch_grad : {"custom", "lre", "none"} or None
        ApproxTorch gradient files; None means custom.
    """

    gradient: str | None = None
    transpose: bool = False
    sign_magnitude: bool = False
    qtype: str | None = None
    approxtorch_grad: str | None = None

    def __post_init__(self) -> None:
        for name, choices in (
            ("gradient", GRADIENT_CHOICES),
            ("qtype", QTYPES),
            ("approxtorch_grad", APPROXTORCH_GRADS),
        ):
            value = getattr(self, name)
            if value is not None and value not in choices:
                raise ParameterError(f"--{_flag(name)} {value!r} is not one of: {', '.join(choices)}")


def _flag(field_name: str) -> str:
    return field_name.replace("_", "-")


def check_options(options: ExportOptions, fmt: str, accepted: frozenset[str]) -> None:
    """Raise :class:`ParameterError` when ``options`` sets a field ``fmt`` does not take."""
    for item in dataclasses.fields(options):
        if getattr(options, item.name) not in (None, False) and item.name not in accepted:
            takes = ", ".join(f"--{_flag(n)}" for n in sorted(accepted)) or "no options"
            raise ParameterError(
                f"{fmt} does not take --{_flag(item.name)} (it takes {takes}); drop the option"
            )


@dataclass(frozen=True)
class Layout(OperandAxes):
    """Operand widths and signedness of a table, without the table.

    ``Layout.of(artifact)`` describes an artifact; the import path builds one
    from ``--width-a``, ``--width-b`` and ``--signed``.
    """

    name: str
    width_a: int
    width_b: int
    signed_a: bool
    signed_b: bool

    @classmethod
    def of(cls, artifact: Artifact) -> Layout:
        """The layout of ``artifact``."""
        return cls(artifact.name, artifact.width_a, artifact.width_b, artifact.signed_a, artifact.signed_b)

    def transposed(self) -> Layout:
        """The layout of the transposed table (operand roles swapped)."""
        return Layout(self.name, self.width_b, self.width_a, self.signed_b, self.signed_a)

    def describe(self, operand: str) -> str:
        """E.g. ``"8-bit signed (-128..127)"`` for ``operand`` "a" or "b"."""
        values = self.operand_a if operand == "a" else self.operand_b
        width = self.width_a if operand == "a" else self.width_b
        sign = "signed" if (self.signed_a if operand == "a" else self.signed_b) else "unsigned"
        return f"{width}-bit {sign} ({values[0]}..{values[-1]})"


@dataclass
class Tables:
    """What a format's ``load`` read back, in value order.

    ``product`` is int64 [Na, Nb] with ``product[i, j] = AM(a_i, b_j)``.
    ``gradients`` maps a method name to the unscaled tables as the file
    stores them (2-D, or 1-D for ApproxTorch ``lre``); formats that do not
    record the method file them under the method the options select.
    """

    product: np.ndarray
    gradients: dict[str, GradientTable] = field(default_factory=dict)


@dataclass(frozen=True)
class Format:
    """One export format, as listed in the registry.

    ``check(artifact, options)`` raises when the target cannot represent the
    artifact; ``write(artifact, path, options)`` checks, writes atomically
    and returns the files written (main file first);
    ``load(path, layout, options, *, gradients=True)`` reads a file back by
    the target's own loader rules.
    """

    name: str
    description: str
    suffix: str
    check: Callable[..., None]
    write: Callable[..., list[Path]]
    load: Callable[..., Tables]


@dataclass(frozen=True)
class Domain:
    """How a 256-entry target axis indexes operand values ``low..high``."""

    label: str
    low: int
    high: int
    index: Callable[[np.ndarray], np.ndarray]


INT8_BITS = Domain("int8 bit patterns", -128, 127, lambda v: v & 0xFF)
INT8_VALUES = Domain("int8 in value order", -128, 127, lambda v: v + 128)
UINT8 = Domain("uint8", 0, 255, lambda v: v)


def check_operands(layout: Layout, domain: Domain, fmt: str, remedy: str) -> None:
    """Raise :class:`ExportError` unless every operand value lies in ``domain``."""
    for operand, values in (("a", layout.operand_a), ("b", layout.operand_b)):
        if values[0] < domain.low or values[-1] > domain.high:
            raise ExportError(
                f"{layout.name}: {fmt} indexes operands as {domain.label} "
                f"({domain.low}..{domain.high}), but operand {operand} is "
                f"{layout.describe(operand)}; {remedy}"
            )


def check_range(values: np.ndarray, dtype: type, what: str, name: str, remedy: str) -> None:
    """Raise :class:`ExportError` if integer ``values`` do not fit ``dtype`` (no wrapping)."""
    limits = np.iinfo(dtype)
    low, high = int(np.min(values)), int(np.max(values))
    if low < limits.min or high > limits.max:
        raise ExportError(
            f"{name}: {what} span {low}..{high}, outside {np.dtype(dtype).name} "
            f"{limits.min}..{limits.max}; {remedy}"
        )


def embed(table: np.ndarray, axes: tuple[np.ndarray, ...], domain: Domain) -> np.ndarray:
    """Scatter a value-ordered table into a 256 (or 256x256) block; other entries 0.

    ``axes`` gives the operand values along each dimension of ``table``.
    """
    table = np.asarray(table)
    block = np.zeros((SIZE,) * len(axes), dtype=table.dtype)
    block[np.ix_(*(domain.index(np.asarray(v, dtype=np.int64)) for v in axes))] = table
    return block


def extract(block: np.ndarray, axes: tuple[np.ndarray, ...], domain: Domain) -> np.ndarray:
    """Inverse of :func:`embed`: the value-ordered table at ``axes``."""
    return block[np.ix_(*(domain.index(np.asarray(v, dtype=np.int64)) for v in axes))]


def embed_product(
    table: np.ndarray,
    layout: Layout,
    domain: Domain,
    fmt: str,
    remedy: str,
    *,
    transpose: bool = False,
) -> np.ndarray:
    """Check the operands fit ``domain`` and embed ``table`` [Na, Nb] as a 256x256 block.

    With ``transpose``, block row ``index(b)`` and column ``index(a)`` hold ``AM(a, b)``.
    """
    check_operands(layout, domain, fmt, remedy)
    if transpose:
        table, layout = np.asarray(table).T, layout.transposed()
    return embed(table, (layout.operand_a, layout.operand_b), domain)


def read_block(
    block: np.ndarray,
    layout: Layout,
    domain: Domain,
    fmt: str,
    remedy: str,
    *,
    transpose: bool = False,
) -> np.ndarray:
    """Inverse of :func:`embed_product`: the value-ordered [Na, Nb] table in ``block``."""
    check_operands(layout, domain, fmt, remedy)
    if transpose:
        flipped = layout.transposed()
        return extract(block, (flipped.operand_a, flipped.operand_b), domain).T
    return extract(block, (layout.operand_a, layout.operand_b), domain)


def _sign_magnitude(artifact: Artifact, layout: Layout) -> tuple[np.ndarray, Layout]:
    """Signed 8x8 table ``sign(x) * sign(y) * AM(|x|, |y|)`` of an unsigned multiplier.

    sign(v) is -1 for v < 0, else +1, and |-128| = 128 (TorchApprox's
    ``utils.evoapprox.lut``). Pairs with |x| or |y| beyond the operand's
    unsigned range stay 0.
    """
    if layout.output_signed:
        raise ParameterError(
            f"{layout.name}: --sign-magnitude wraps an unsigned multiplier, but its operands "
            f"are a: {layout.describe('a')}, b: {layout.describe('b')}; drop --sign-magnitude"
        )
    values = np.arange(-128, 128)
    magnitude, sign = np.abs(values), np.where(values < 0, -1, 1)
    fits_a, fits_b = magnitude < (1 << layout.width_a), magnitude < (1 << layout.width_b)
    product = artifact.product.astype(np.int64)
    table = np.zeros((SIZE, SIZE), dtype=np.int64)
    table[np.ix_(fits_a, fits_b)] = (
        product[np.ix_(magnitude[fits_a], magnitude[fits_b])] * sign[fits_a][:, None] * sign[fits_b][None, :]
    )
    return table, Layout(layout.name, 8, 8, True, True)


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


def int8_bit_pattern_block(artifact: Artifact, options: ExportOptions, fmt: str, dtype: type) -> np.ndarray:
    """The 256x256 block ``lut[u8(a)][u8(b)] = AM(a, b)`` for a signed int8 target.

    Shared by TransAxx, AdaPT and TorchApprox. Applies ``sign_magnitude``
    and ``transpose``, refuses operands outside int8 and values outside
    ``dtype``, and warns when the multiplier is not commutative (those
    targets use lut[act][w] in Linear and lut[w][act] in Conv2d layers).
    """
    check_options(options, fmt, frozenset({"transpose", "sign_magnitude"}))
    layout = Layout.of(artifact)
    table = artifact.product.astype(np.int64)
    if options.sign_magnitude:
        table, layout = _sign_magnitude(artifact, layout)
    block = embed_product(
        table,
        layout,
        INT8_BITS,
        fmt,
        "only int8 operands fit (signed up to 8 bits, unsigned up to 7 bits); "
        "for an unsigned multiplier pass --sign-magnitude",
        transpose=options.transpose,
    )
    check_range(
        table,
        dtype,
        "product values",
        layout.name,
        f"{fmt} stores {np.dtype(dtype).name} entries and cannot hold this multiplier",
    )
    _warn_if_asymmetric(table, layout, fmt, options.transpose)
    return block


def gradient_group(artifact: Artifact, method: str, fmt: str) -> GradientTable:
    """The artifact's ``/grad/<method>`` tables; raise if absent or not finite."""
    name = artifact.name
    table = artifact.gradients.get(method)
    if table is None:
        have = ", ".join(artifact.gradients) or "none"
        raise ExportError(
            f"{name}: {fmt} needs the {method} gradient tables, but the artifact holds "
            f"{have}; run `appmult lutgen` on it first, or choose --gradient among those it holds"
        )
    for label in ("d_a", "d_b"):
        if not np.all(np.isfinite(getattr(table, label))):
            raise ExportError(
                f"{name}: /grad/{method}/{label} contains NaN or infinity; "
                "re-run `appmult lutgen` on the artifact"
            )
    return table


def selected_gradients(artifact: Artifact, options: ExportOptions, fmt: str) -> dict[str, GradientTable]:
    """The ``--gradient`` group alone, or every group the artifact holds when not given."""
    methods = [options.gradient] if options.gradient else list(artifact.gradients)
    return {method: gradient_group(artifact, method, fmt) for method in methods}


def check_axes(path: object, layout: Layout, operand_a: object, operand_b: object) -> None:
    """Raise unless a file's stored operand axes are those of ``layout``."""
    for operand, found, expected in (
        ("a", operand_a, layout.operand_a),
        ("b", operand_b, layout.operand_b),
    ):
        if not np.array_equal(np.asarray(found), expected):
            raise ExportError(
                f"{path}: operand {operand} axis does not match {layout.describe(operand)}; "
                "pass the widths and signedness the file was written with"
            )


def broadcast_lut1d(table: GradientTable, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """LUT-1D vectors as [Na, Nb] tables: ``d_a[i, j] = d_a(b_j)``, ``d_b[i, j] = d_b(a_i)``."""
    d_a = np.broadcast_to(np.asarray(table.d_a)[None, :], shape)
    d_b = np.broadcast_to(np.asarray(table.d_b)[:, None], shape)
    return d_a, d_b


def gradient_2d(artifact: Artifact, method: str, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    """``(d_a, d_b)`` of ``method`` as [Na, Nb] float32 tables, value order.

    A ``lut1d`` group is broadcast with :func:`broadcast_lut1d`, and an
    :class:`ExportWarning` says so.
    """
    table = gradient_group(artifact, method, fmt)
    if method != "lut1d":
        return table.d_a, table.d_b
    layout = Layout.of(artifact)
    warnings.warn(
        ExportWarning(
            f"{layout.name}: {fmt} stores 2-D gradient tables; the lut1d vectors are broadcast "
            "(d_a[a][b] = d_a(b), d_b[a][b] = d_b(a))"
        ),
        stacklevel=3,
    )
    return broadcast_lut1d(table, layout.shape)


def default_filename(name: str, suffix: str) -> str:
    """``<stem><suffix>``, the stem being ``name`` made a C identifier (TransAxx needs one)."""
    stem = re.sub(r"\W", "_", name, flags=re.ASCII) or "appmult"
    return f"m{stem}{suffix}" if stem[0].isdigit() else f"{stem}{suffix}"


def atomic_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` (text as UTF-8 with the given line endings) to ``path`` atomically.

    See :func:`appmult.atomic.replacing`; on any failure ``path`` is left as it was.
    """
    payload = data.encode() if isinstance(data, str) else data
    with replacing(path, ExportError) as tmp:
        tmp.write_bytes(payload)
    return Path(path)


def matrix_text(block: np.ndarray, number_format: str) -> str:
    """Rows of space-separated numbers, one line per row (a vector: one value a line)."""
    buffer = io.StringIO()
    np.savetxt(buffer, block, fmt=number_format, delimiter=" ")
    return buffer.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    """``array`` serialised as a ``.npy`` file."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def read_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of ``path``; :class:`ExportError` if it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ExportError(f"{path}: cannot read ({exc.strerror})") from exc


def read_text(path: str | os.PathLike) -> str:
    """The text of ``path`` (UTF-8); :class:`ExportError` if it cannot be read."""
    try:
        return read_bytes(path).decode()
    except UnicodeDecodeError as exc:
        raise ExportError(f"{path}: not a text file ({exc.reason})") from exc


def read_matrix(path: str | os.PathLike, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """Read whitespace-separated numbers as ``np.loadtxt(...).reshape(shape)`` would.

    Every non-blank line must have the same number of columns and the total
    must be ``prod(shape)``; values must parse as ``dtype``.
    """
    rows = [line.split() for line in read_text(path).splitlines() if line.strip()]
    columns = {len(row) for row in rows}
    count = int(np.prod(shape))
    if len(columns) > 1:
        raise ExportError(f"{path}: lines have different numbers of columns {sorted(columns)}")
    total = len(rows) * (columns.pop() if columns else 0)
    if total != count:
        raise ExportError(f"{path}: holds {total} values, expected {count} ({shape})")
    try:
        return np.array(rows, dtype=dtype).reshape(shape)
    except (ValueError, OverflowError) as exc:
        raise ExportError(f"{path}: not a table of {np.dtype(dtype).name} ({exc})") from exc


def read_npy(path: str | os.PathLike, shape: tuple[int, int]) -> np.ndarray:
    """An integer ``.npy`` array of exactly ``shape``, as int64."""
    try:
        array = np.load(Path(path), allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ExportError(f"{path}: not a readable .npy file ({exc})") from exc
    if array.shape != shape or array.dtype.kind not in "iu":
        raise ExportError(
            f"{path}: holds {array.dtype} {array.shape}, expected an integer array of shape {shape}"
        )
    return array.astype(np.int64)
