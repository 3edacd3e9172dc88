"""Noticing that another process changed a file since this one read it, and saying what changed.

A verb that rewrites a file in place (read, compute for seconds to hours,
write a replacement) would undo any change another process made to the file
meanwhile. :meth:`Snapshot.take` records what the file was when the verb read
it: its identity (inode, size, modification and change times), a SHA-256 of
its bytes and, for HDF5, an outline (every group's and dataset's attributes,
shapes and types). :meth:`Snapshot.changes` compares the file as it is now:
the same identity means unchanged (no read); otherwise the same bytes
mean unchanged (a rewrite with the same content undoes nothing); otherwise
it lists the objects that differ, ``/grad/lut2d: hws_a 4 -> 32`` or
``/tuning added``, from an *outline* of the file that the caller supplies
(:func:`appmult.core.artifact_file.outline` for artifacts: this module reads
no file format itself).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Snapshot"]

#: Differences named in a message; more are counted.
_NAMED = 3


def _identity(path: Path) -> tuple[int, ...]:
    stat = path.stat()
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def _digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _difference(name: str, before: dict[str, str] | None, after: dict[str, str] | None) -> str | None:
    if before == after:
        return None
    if before is None:
        return f"{name} added"
    if after is None:
        return f"{name} removed"
    # parameters (integers, text) before measured figures (floats), shapes last
    keys = sorted(
        set(before) | set(after),
        key=lambda key: (key.startswith("("), "." in before.get(key, "") + after.get(key, ""), key),
    )
    changed = [
        f"{key} {before.get(key, '(none)')} -> {after.get(key, '(none)')}"
        for key in keys
        if before.get(key) != after.get(key)
    ]
    return f"{name}: {', '.join(changed[:_NAMED])}{', ...' if len(changed) > _NAMED else ''}"


#: A file -> object path -> its attributes as short strings (empty when the file has no outline).
Outline = Callable[[Path], dict[str, dict[str, str]]]


def _no_outline(path: Path) -> dict[str, dict[str, str]]:
    return {}


@dataclass(frozen=True)
class Snapshot:
    """What a file was when a verb read it (module docstring); :meth:`take` it before reading."""

    path: Path
    identity: tuple[int, ...]
    digest: str
    outline: dict[str, dict[str, str]] = field(repr=False)
    outline_of: Outline = field(default=_no_outline, repr=False)

    @classmethod
    def take(cls, path: str | os.PathLike, outline_of: Outline = _no_outline) -> Snapshot | None:
        """The file's snapshot, or None when it cannot be read (the verb's own read will say why).

        ``outline_of`` describes the file's objects for the message of :meth:`changes`.
        """
        path = Path(path)
        try:
            return cls(path, _identity(path), _digest(path), outline_of(path), outline_of)
        except OSError:
            return None

    def changes(self) -> list[str]:
        """What differs in the file now, one short phrase each; empty when it is as it was.

        A file removed since is a change (``the file was removed``); so is one
        whose bytes differ but whose outline does not (``its data changed``).
        """
        try:
            if _identity(self.path) == self.identity or _digest(self.path) == self.digest:
                return []
            now = self.outline_of(self.path)
        except FileNotFoundError:
            return ["the file was removed"]
        except OSError as exc:
            return [f"it cannot be read now ({exc.strerror or exc})"]
        found = [
            difference
            for name in sorted(set(self.outline) | set(now))
            if (difference := _difference(name, self.outline.get(name), now.get(name))) is not None
        ]
        if not found:
            return ["its data changed"]
        return found[:_NAMED] + ([f"{len(found) - _NAMED} more"] if len(found) > _NAMED else [])
