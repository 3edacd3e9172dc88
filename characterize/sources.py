"""Verilog sources as data, so that a characterization can run where the files are not.

The client reads the given files, and every file they `` `include`` from
their own directories, into a :class:`Sources` bundle; a job carries the
bundle to a worker, which writes it into a private scratch folder
(:meth:`Sources.placed`) and simulates there. The worker needs no shared
filesystem, the simulator sees only copies of the sources, and messages
about the copies are mapped back to the paths the user gave.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from appmult.characterize.preprocess import preprocess
from appmult.core.errors import AppMultError, NetlistError

__all__ = ["Placement", "Sources"]


@dataclass(frozen=True)
class Sources:
    """The given Verilog files and the files they include, as bytes.

    ``paths`` are the files as the user named them (they appear in
    messages and in an artifact's provenance); ``folders[i]`` is the index of
    the directory ``paths[i]`` is in (sources of one directory share it);
    ``included`` holds ``(folder index, path relative to that directory,
    bytes)`` for every included file.
    """

    paths: tuple[str, ...]
    contents: tuple[bytes, ...]
    folders: tuple[int, ...]
    included: tuple[tuple[int, str, bytes], ...] = ()

    @classmethod
    def read(cls, paths: Iterable[str | os.PathLike]) -> Sources:
        """Read ``paths`` and their includes; :class:`NetlistError` naming the file when one cannot be read
        or includes a file outside the sources' directories."""
        paths = [Path(p) for p in paths]
        if not paths:
            raise NetlistError("no Verilog files given")
        directories: list[Path] = []
        contents, folders = [], []
        for path in paths:
            if path.is_dir():
                raise NetlistError(
                    f"{path}: is a directory; give its .v files, or use --batch for one design per file"
                )
            if not path.is_file():
                raise NetlistError(f"{path}: no such Verilog file")
            try:
                contents.append(path.read_bytes())
            except OSError as exc:
                raise NetlistError(f"{path}: cannot read ({exc.strerror})") from exc
            directory = Path(os.path.realpath(path.parent))
            if directory not in directories:
                directories.append(directory)
            folders.append(directories.index(directory))
        included: dict[Path, tuple[int, str, bytes]] = {}
        for path, content in zip(paths, contents, strict=True):
            if b"`include" not in content:
                continue
            for found in preprocess(path, directories).included:
                index = next(k for k, d in enumerate(directories) if found.is_relative_to(d))
                relative = found.relative_to(directories[index]).as_posix()
                included[found] = (index, relative, found.read_bytes())
        return cls(tuple(map(str, paths)), tuple(contents), tuple(folders), tuple(included.values()))

    def sha256(self) -> tuple[str, ...]:
        """Hex SHA-256 of each source's bytes."""
        return tuple(hashlib.sha256(content).hexdigest() for content in self.contents)

    @contextlib.contextmanager
    def placed(self) -> Iterator[Placement]:
        """Write the bundle into a fresh scratch folder, one subfolder per source directory; removed after."""
        with tempfile.TemporaryDirectory(prefix="appmult-src-") as scratch:
            root = Path(scratch)
            local = []
            for path, content, folder in zip(self.paths, self.contents, self.folders, strict=True):
                target = root / f"d{folder}" / Path(path).name
                target.parent.mkdir(exist_ok=True)
                target.write_bytes(content)
                local.append(target)
            for folder, relative, content in self.included:
                target = root / f"d{folder}" / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            yield Placement(self, tuple(local), root)


@dataclass(frozen=True)
class Placement:
    """Where a bundle's files were written: ``paths[i]`` holds ``sources.paths[i]``."""

    sources: Sources
    paths: tuple[Path, ...]
    root: Path

    @property
    def directories(self) -> list[Path]:
        """The folders of the placed sources (where includes are searched)."""
        return sorted({p.parent for p in self.paths})

    @contextlib.contextmanager
    def messages(self) -> Iterator[None]:
        """Re-raise the tool's errors with every placed path replaced by the user's path."""
        try:
            yield
        except AppMultError as exc:
            restored = copy.copy(exc)
            restored.args = (self.restore(str(exc)),)
            for key, value in vars(exc).items():  # e.g. UnsupportedConstruct.location
                if isinstance(value, str):
                    setattr(restored, key, self.restore(value))
            raise restored from exc

    def restore(self, text: str) -> str:
        """``text`` with every placed path replaced by the path the user gave."""
        pairs = sorted(zip(self.paths, self.sources.paths, strict=True), key=lambda p: -len(str(p[0])))
        for local, given in pairs:
            text = text.replace(str(local), given)
        return text.replace(f"{self.root}/", "")
