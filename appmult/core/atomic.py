"""Writing files so that an existing one is never half-overwritten.

Every file the tool writes (artifacts, exported tables, plots, reports) goes
through :func:`replacing`: the content is written to a temporary file in the
target's directory, which is renamed over the target only when writing
succeeded. On any failure the target is left as it was and the temporary
file is removed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from appmult.core.errors import AppMultError

__all__ = ["replacing"]


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
        raise error(f"{path}: output directory {directory} does not exist; create it or choose another -o")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise error(f"{path}: cannot write to {directory} ({exc.strerror}); choose a writable -o") from exc
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
