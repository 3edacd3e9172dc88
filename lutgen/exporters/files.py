"""Reading and writing the files of the export formats: atomic writes, text matrices, ``.npy``.

Readers are bounded by the table the caller declares (``appmult import``'s
widths): a file larger than such a table can take in its format is refused
from its size before it is read (:func:`read_bytes`, :func:`text_limit`),
and a ``.npy`` array from the shape and dtype in its header before its data
are read (:func:`read_npy_array`).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import BinaryIO

import numpy as np

from appmult.core.atomic import replacing
from appmult.core.errors import ExportError

__all__ = [
    "atomic_write",
    "default_filename",
    "matrix_text",
    "npy_bytes",
    "read_bytes",
    "read_matrix",
    "read_npy",
    "read_npy_array",
    "read_text",
    "text_limit",
]

#: Most characters a number takes in a text table, separator included (a float64 written in full,
#: ``-1.2345678901234567e-308,``, takes 25).
CHARS_PER_NUMBER = 32
#: Room a text format may take around its numbers: headers, comments, a C declaration.
TEXT_OVERHEAD = 1 << 16


def default_filename(name: str, suffix: str) -> str:
    """``<stem><suffix>``, the stem being ``name`` made a C identifier (TransAxx needs one)."""
    stem = re.sub(r"\W", "_", name, flags=re.ASCII) or "appmult"
    return f"m{stem}{suffix}" if stem[0].isdigit() else f"{stem}{suffix}"


def atomic_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` (text as UTF-8 with the given line endings) to ``path`` atomically.

    See :func:`appmult.core.atomic.replacing`; on any failure ``path`` is left as it was.
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


def text_limit(numbers: int) -> int:
    """Most bytes a text file of ``numbers`` numbers may take (:data:`CHARS_PER_NUMBER` each + overhead)."""
    return numbers * CHARS_PER_NUMBER + TEXT_OVERHEAD


def read_bytes(path: str | os.PathLike, limit: int, *, prefix: bool = False) -> bytes:
    """The bytes of ``path``, at most ``limit`` of them; :class:`ExportError` if it cannot be read.

    A file of more than ``limit`` bytes is refused from its size, unread;
    with ``prefix`` its first ``limit`` bytes are read instead (a target
    whose loader ignores the rest).
    """
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            data = b"" if size > limit and not prefix else handle.read(limit + 1)
    except OSError as exc:
        raise ExportError(f"{path}: cannot read ({exc.strerror})") from exc
    if prefix:
        return data[:limit]
    if size > limit or len(data) > limit:
        raise ExportError(
            f"{path}: {max(size, len(data)):,} bytes, more than the {limit:,} a table of the given widths "
            "takes in this format; check --format, --width-a and --width-b"
        )
    return data


def read_text(path: str | os.PathLike, limit: int) -> str:
    """The text of ``path`` (UTF-8), at most ``limit`` bytes (:func:`read_bytes`)."""
    try:
        return read_bytes(path, limit).decode()
    except UnicodeDecodeError as exc:
        raise ExportError(f"{path}: not a text file ({exc.reason})") from exc


def read_matrix(path: str | os.PathLike, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """Read whitespace-separated numbers as ``np.loadtxt(...).reshape(shape)`` would.

    Lines starting with ``#`` are comments (``np.loadtxt``'s default) and are
    skipped. Every other non-blank line must have the same number of columns and the total
    must be ``prod(shape)``; values must parse as ``dtype``. A file larger than
    :func:`text_limit` of that count is refused unread.
    """
    count = int(np.prod(shape))
    text = read_text(path, text_limit(count))
    rows = [line.split() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    columns = {len(row) for row in rows}
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
    """An integer ``.npy`` array of exactly ``shape``, as int64; its header is checked before its data."""
    try:
        with open(path, "rb") as handle:
            if handle.read(6) != b"\x93NUMPY":
                raise ExportError(
                    f"{path}: not a .npy file (it does not start with numpy's header); give the --format it "
                    "was written in"
                )
            handle.seek(0)
            array = read_npy_array(handle, path, "the file", int(np.prod(shape)) * 8)
    except OSError as exc:
        raise ExportError(f"{path}: cannot read ({exc.strerror})") from exc
    if array.shape != shape or array.dtype.kind not in "iu":
        raise ExportError(
            f"{path}: holds {array.dtype} {array.shape}, expected an integer array of shape {shape}"
        )
    return array.astype(np.int64)


def read_npy_array(handle: BinaryIO, path: str | os.PathLike, label: str, limit: int) -> np.ndarray:
    """The ``.npy`` array at ``handle``, refused from its header when its data would exceed ``limit`` bytes.

    ``label`` names the array in messages (a member of an archive). Object
    arrays are refused (numpy's ``allow_pickle=False``).
    """
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    try:
        version = np.lib.format.read_magic(handle)
        shape, fortran_order, dtype = readers[version](handle)
    except (KeyError, ValueError) as exc:
        raise ExportError(f"{path}: {label} is not a readable .npy array ({exc})") from exc
    size = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if dtype.hasobject or size > limit:
        raise ExportError(
            f"{path}: {label} declares {dtype} {list(shape)} ({size:,} bytes), more than the {limit:,} "
            "a table of the given widths takes; check --width-a and --width-b"
        )
    data = bytearray(size)
    if handle.readinto(data) != size:
        raise ExportError(f"{path}: {label} holds fewer bytes than its header says; the file is cut short")
    return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran_order else "C")
