"""Preprocessing Verilog with Icarus's own preprocessor, keeping track of where every line came from.

A file with compiler directives (`` `define``, `` `include``, `` `ifdef``) is
expanded by ``ivlpp`` (the program ``iverilog -E`` runs) with line
directives, so that

- every line of the expanded text maps back to ``file:line`` of the file it
  came from, and messages about code that came from an include or a macro
  name the right place;
- every file an `` `include`` pulled in is known, including names built by
  macros, and one that lies outside the directories of the given sources is
  refused.

Include files are searched only in the directories of the given sources
(``include_dirs``); ``ivlpp`` runs in an empty scratch folder, inside the
sandbox when there is one (:mod:`appmult.characterize.sandbox`), so it
cannot read anything else. A file without a backquote is used as it is.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from appmult.characterize import sandbox
from appmult.core.errors import NetlistError

__all__ = ["Preprocessed", "preprocess"]

_LINE = re.compile(r'^`line\s+(\d+)\s+"((?:[^"\\]|\\.)*)"\s+(\d+)\s*$')
_NOT_FOUND = re.compile(r"^(?P<where>.*?:\d+): Include file (?P<name>.+) not found")


@dataclass(frozen=True)
class Preprocessed:
    """The text pyverilog parses, where each of its lines came from, and the files included.

    ``origins[k]`` is ``(file, line)`` of line ``k + 1`` of ``text``;
    ``included`` holds the resolved paths of every included file.
    """

    text: str
    origins: tuple[tuple[str, int], ...]
    included: tuple[Path, ...] = ()

    def where(self, lineno: int) -> str:
        """``file:line`` of line ``lineno`` (1-based) of :attr:`text`."""
        if 1 <= lineno <= len(self.origins):
            name, line = self.origins[lineno - 1]
            return f"{name}:{line}"
        return f"{self.origins[0][0] if self.origins else '?'}:{lineno}"


@functools.cache
def _ivlpp() -> str:
    """Path of Icarus's preprocessor, as the iverilog driver reports it."""
    if shutil.which("iverilog") is None:
        raise NetlistError("compiler directives need Icarus Verilog's preprocessor; install iverilog")
    result = subprocess.run(
        ["iverilog", "-v", "-E", "-o", os.devnull, os.devnull], capture_output=True, text=True, check=False
    )
    match = re.search(r"preprocess: (\S*ivlpp)", result.stdout + result.stderr)
    if not match:
        raise NetlistError("cannot find Icarus Verilog's preprocessor ivlpp (iverilog -v does not name it)")
    return match.group(1)


def preprocess(path: Path, include_dirs: Sequence[Path]) -> Preprocessed:
    """Expand ``path``'s directives (module docstring); the text as it is when it has none.

    Raises :class:`NetlistError` naming ``file:line`` for an include that is
    not found in ``include_dirs`` or resolves outside them, and for any
    other preprocessor error.
    """
    text = path.read_text(errors="replace")
    lines = text.count("\n") + 1
    if "`" not in text:
        return Preprocessed(text, tuple((str(path), k) for k in range(1, lines + 1)))
    allowed = [Path(os.path.realpath(d)) for d in include_dirs]
    with tempfile.TemporaryDirectory(prefix="appmult-pp-") as scratch:
        flags = Path(scratch) / "flags"
        flags.write_text("".join(f"I:{d}\n" for d in allowed))
        command = [_ivlpp(), "-L", f"-F{flags}", str(path)]
        result = subprocess.run(
            sandbox.wrap(command, scratch, readable=[*allowed, flags]),
            capture_output=True,
            text=True,
            check=False,
            cwd=scratch,
            env=sandbox.environment(),
        )
    if result.returncode != 0:
        message = result.stderr.strip().splitlines()
        found = _NOT_FOUND.match(message[0]) if message else None
        if found:
            name, line = found["where"].rsplit(":", 1)  # ivlpp counts the directive's own newline
            raise NetlistError(
                f"{name}:{int(line) - 1}: `include {found['name']} is not a file in the directories of the "
                "given sources; an include may only read files beside the sources (give the file, or copy "
                "it there)"
            )
        raise NetlistError(f"{path}: preprocessing failed: {'; '.join(message[:3]) or result.returncode}")
    return _with_origins(path, result.stdout, allowed)


def _with_origins(path: Path, output: str, allowed: list[Path]) -> Preprocessed:
    """Map each output line to its origin from ivlpp's `` `line N "file" level`` directives."""
    origins: list[tuple[str, int]] = []
    included: list[Path] = []
    current, line = str(path), 1
    for raw in output.splitlines():
        directive = _LINE.match(raw)
        if directive:
            including = f"{current}:{line - 1}"  # the `include's line, when this directive enters a file
            current, line = directive.group(2), int(directive.group(1))
            origins.append((current, line))  # the directive line itself parses as nothing
            if directive.group(3) == "1":
                resolved = Path(os.path.realpath(current))
                if not any(resolved.is_relative_to(d) for d in allowed):
                    raise NetlistError(
                        f"{including}: `include of {current} reaches outside the directories of the "
                        "given sources; an include may only read files beside the sources"
                    )
                included.append(resolved)
            continue
        origins.append((current, line))
        line += 1
    return Preprocessed(output, tuple(origins), tuple(dict.fromkeys(included)))
