"""Writing files so that an existing one is never half-overwritten, and checking outputs first.

Every file the tool writes (artifacts, exported tables, plots, reports) goes
through :func:`replacing`: the content is written to a temporary file in the
target's directory, which is renamed over the target only when writing
succeeded. On any failure the target is left as it was and the temporary
file is removed.

Long work checks its outputs before it starts (:func:`writable_directory`,
:func:`writable_file`), so an unwritable ``-o`` is reported at once, not
after minutes of simulation or training.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from appmult.core.errors import AppMultError, ParameterError

__all__ = ["replacing", "rewritable_in_place", "writable_directory", "writable_file", "write_error"]


@contextmanager
def replacing(path: str | os.PathLike, error: type[AppMultError] = AppMultError) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` when the block succeeds.

    ``error`` is the exception class raised (naming ``path``, the cause and
    what to do) when the directory is missing or not writable or the write
    fails with an :class:`OSError`. The new file gets mode 0644.
    """
    path = Path(path)
    directory = path.parent
    if not directory.is_dir():
        raise error(f"{path}: output directory {directory} does not exist; create it or write elsewhere")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise error(f"{path}: cannot write to {directory} ({exc.strerror}); write elsewhere") from exc
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        raise error(f"{path}: cannot write ({exc}); nothing was changed") from exc
    finally:
        tmp.unlink(missing_ok=True)


def write_error(directory: str | os.PathLike) -> str | None:
    """Why a file cannot be created in ``directory`` (``"Permission denied"``), or None when it can."""
    try:
        with tempfile.TemporaryFile(dir=directory):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)


def rewritable_in_place(path: str | os.PathLike, verb: str) -> Path:
    """``path``, a file that ``verb`` rewrites in place; ParameterError when its folder is not writable.

    A replacement is written beside the file and renamed over it, so the
    folder, not the file, must be writable.
    """
    path = Path(path)
    cause = write_error(path.parent)
    if cause is not None:
        raise ParameterError(
            f"{path}: cannot be rewritten in place, {path.parent} is not writable ({cause}); "
            f"copy the artifact to a writable folder and run {verb} there"
        )
    return path


def _probe(directory: Path, what: str) -> None:
    cause = write_error(directory)
    if cause is not None:
        raise ParameterError(f"{what}: cannot write to {directory} ({cause}); choose another")


def writable_directory(path: str | os.PathLike, option: str = "-o", *, create: bool = True) -> Path:
    """``path`` as a directory that exists (created, with parents) and can be written; else ParameterError.

    With ``create=False`` nothing is created: a missing ``path`` passes when
    its nearest existing ancestor is a writable directory (for a command that
    checks its output before long work and writes only at the end).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ParameterError(f"{option} {path}: is a file, expected a directory; choose another")
    if not create and not path.exists():
        ancestor = next(parent for parent in path.absolute().parents if parent.exists())
        if not ancestor.is_dir():
            raise ParameterError(f"{option} {path}: {ancestor} is a file, not a directory; choose another")
        _probe(ancestor, f"{option} {path}")
        return path
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(
            f"{option} {path}: cannot create this directory ({exc.strerror}); choose another"
        ) from exc
    _probe(path, f"{option} {path}")
    return path


def writable_file(path: str | os.PathLike, option: str = "-o") -> Path:
    """``path`` as a file that can be written: not a directory, in an existing writable directory."""
    path = Path(path)
    if path.is_dir():
        raise ParameterError(f"{option} {path}: is a directory, expected a file name; choose another")
    if not path.parent.is_dir():
        raise ParameterError(
            f"{option} {path}: directory {path.parent} does not exist; create it or choose another"
        )
    _probe(path.parent, f"{option} {path}")
    return path
