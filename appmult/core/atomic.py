"""Writing files so that an existing one is never half-overwritten, and checking outputs first.

Every file the tool writes (artifacts, exported tables, plots, reports) goes
through :func:`replacing`: the content is written to a temporary file in the
target's directory, which is renamed over the target only when writing
succeeded. On any failure (a full disk, a removed folder, a quota) the
target is left as it was, the temporary file is removed, and the error is
one line naming the file and the cause. Ctrl-C and SIGTERM that arrive
while the file is written (in the main thread) take effect once it is
renamed into place or removed, so a signal never leaves a stray temporary
file behind.

A verb that rewrites a file in place (reads it, computes, writes a
replacement) names it with :func:`rewritable_in_place` before reading it;
:func:`replacing` then refuses to rename over that file if another process
changed it meanwhile (:mod:`appmult.core.changes`), with one line saying
which change it would have undone, instead of silently undoing it.

Long work checks its outputs before it starts (:func:`writable_directory`,
:func:`writable_file`), so an unwritable ``-o`` is reported at once, not
after minutes of simulation or training.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from appmult.core.changes import Outline, Snapshot
from appmult.core.errors import AppMultError, ParameterError

__all__ = ["replacing", "rewritable_in_place", "writable_directory", "writable_file", "write_error"]


#: Files named by :func:`rewritable_in_place`, by resolved path: the verb and what the file was.
_READ_FOR_REWRITE: dict[Path, tuple[str, Snapshot]] = {}
_READ_LOCK = threading.Lock()


def _cause(exc: OSError) -> str:
    """The cause of an I/O error in a few words (``No space left on device``), never several lines."""
    if exc.errno:
        return os.strerror(exc.errno)
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the block (main thread only), then deliver them as they came.

    Only Python's defaults are held (SIGTERM ends the process, SIGINT raises
    KeyboardInterrupt); a handler the program installed (a many-job session's,
    which only notes the signal) runs as usual.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) in (signal.SIG_DFL, signal.default_int_handler):
            previous[signum] = signal.signal(signum, lambda number, _frame: caught.append(number))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(caught):
            signal.raise_signal(signum)


def _refuse_undoing(path: Path, error: type[AppMultError]) -> None:
    """Raise ``error`` when ``path`` was read by a rewriting verb and changed by another process since."""
    with _READ_LOCK:
        read = _READ_FOR_REWRITE.pop(path.resolve(), None)
    if read is None:
        return
    verb, snapshot = read
    changes = snapshot.changes()
    if changes:
        raise error(
            f"{path}: changed by another process since {verb} read it ({'; '.join(changes)}); "
            f"writing now would undo that, so nothing was written; run {verb} again"
        )


@contextmanager
def replacing(path: str | os.PathLike, error: type[AppMultError] = AppMultError) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` when the block succeeds.

    ``error`` is the exception class raised (naming ``path``, the cause and
    what to do) when the directory is missing or not writable, the write
    fails with an :class:`OSError`, or ``path`` was named by
    :func:`rewritable_in_place` and another process changed it since. The
    new file gets mode 0644. SIGINT and SIGTERM wait for the block and the
    rename (module docstring).
    """
    path = Path(path)
    directory = path.parent
    if not directory.is_dir():
        raise error(f"{path}: output directory {directory} does not exist; create it or write elsewhere")
    with _signals_deferred():
        try:
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        except OSError as exc:
            raise error(f"{path}: cannot write to {directory} ({_cause(exc)}); write elsewhere") from exc
        os.close(fd)
        tmp = Path(name)
        try:
            yield tmp
            os.chmod(tmp, 0o644)
            _refuse_undoing(path, error)
            os.replace(tmp, path)
        except OSError as exc:
            raise error(f"{path}: cannot write ({_cause(exc)}); nothing was changed") from exc
        finally:
            tmp.unlink(missing_ok=True)


def write_error(directory: str | os.PathLike) -> str | None:
    """Why a file cannot be created in ``directory`` (``"Permission denied"``), or None when it can."""
    try:
        with tempfile.TemporaryFile(dir=directory):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)


def rewritable_in_place(path: str | os.PathLike, verb: str, outline_of: Outline | None = None) -> Path:
    """``path``, a file that ``verb`` rewrites in place; ParameterError when its folder is not writable.

    A replacement is written beside the file and renamed over it, so the
    folder, not the file, must be writable. Call it before reading the file:
    it records what the file is now, and the next :func:`replacing` of
    ``path`` in this process refuses to rename over it if another process
    changed it in between (module docstring).
    """
    path = Path(path)
    cause = write_error(path.parent)
    if cause is not None:
        raise ParameterError(
            f"{path}: cannot be rewritten in place, {path.parent} is not writable ({cause}); "
            f"copy the artifact to a writable folder and run {verb} there"
        )
    snapshot = Snapshot.take(path, outline_of) if outline_of is not None else Snapshot.take(path)
    if snapshot is not None:
        with _READ_LOCK:
            _READ_FOR_REWRITE[path.resolve()] = (verb, snapshot)
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
