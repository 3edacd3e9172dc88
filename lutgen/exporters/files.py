"""Reading and writing the files of the export formats: atomic writes, text matrices, ``.npy``."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

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
    "read_text",
]


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

    Lines starting with ``#`` are comments (``np.loadtxt``'s default) and are
    skipped. Every other non-blank line must have the same number of columns and the total
    must be ``prod(shape)``; values must parse as ``dtype``.
    """
    rows = [
        line.split() for line in read_text(path).splitlines() if line.strip() and not line.startswith("#")
    ]
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
    if not read_bytes(path).startswith(b"\x93NUMPY"):
        raise ExportError(
            f"{path}: not a .npy file (it does not start with numpy's header); give the --format it was "
            "written in"
        )
    try:
        array = np.load(Path(path), allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ExportError(f"{path}: not a readable .npy file ({exc})") from exc
    if array.shape != shape or array.dtype.kind not in "iu":
        raise ExportError(
            f"{path}: holds {array.dtype} {array.shape}, expected an integer array of shape {shape}"
        )
    return array.astype(np.int64)
