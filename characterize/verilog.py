"""Parsing Verilog source files with pyverilog, once per process.

pyverilog rebuilds its PLY parse tables (about 1 s, with warnings on stderr)
every time a parser is constructed, and its ``parse()`` helper writes
``preprocess.output`` into the current directory. This module constructs one
parser per process, silences PLY's table messages, preprocesses a file that
uses compiler directives with Icarus's own preprocessor
(:mod:`appmult.characterize.preprocess`, which keeps every line's origin), and
returns module definitions keyed by name with the file they came from.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from appmult.characterize import sandbox
from appmult.characterize.preprocess import Preprocessed, preprocess
from appmult.core.errors import NetlistError

__all__ = ["ModuleSource", "constant_value", "icarus_errors", "parse_int_const", "parse_modules"]


@dataclass(frozen=True)
class ModuleSource:
    """A parsed module definition (``pyverilog.vparser.ast.ModuleDef``), its file and preprocessed text."""

    name: str
    definition: object
    path: Path
    preprocessed: Preprocessed

    def where(self, node: object | None = None) -> str:
        """``file:line`` of ``node`` (or of the module header), in the file the line came from."""
        return self.preprocessed.where(getattr(node if node is not None else self.definition, "lineno", 0))


@cache
def _parser():
    from pyverilog.vparser import parser as vparser

    # Reuse PLY's cached tables when pyverilog's own package folder is
    # writable (the table module resolves as pyverilog.vparser.parsetab);
    # otherwise build them in a temporary folder, once per process.
    outputdir = Path(vparser.__file__).parent
    if not _writable(outputdir):
        outputdir = Path(tempfile.mkdtemp(prefix="appmult-ply-"))
    with contextlib.redirect_stderr(io.StringIO()):
        return vparser.VerilogParser(outputdir=str(outputdir), debug=False)


def _writable(directory: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False


def icarus_errors(paths: list[Path]) -> str | None:
    """Icarus's own error messages for ``paths`` (``file:line: ...``), or None if they compile.

    Used to report syntax errors in Icarus's words, which name the file and
    line the way users expect.
    """
    if shutil.which("iverilog") is None:
        return None
    folders = sorted({os.path.realpath(p.parent) for p in paths})
    with tempfile.TemporaryDirectory(prefix="appmult-check-") as scratch:
        command = ["iverilog", "-g2005", "-t", "null", *(f"-I{f}" for f in folders), *map(str, paths)]
        result = subprocess.run(
            sandbox.wrap(command, scratch, readable=folders),
            capture_output=True,
            text=True,
            check=False,
            cwd=scratch,
            env=sandbox.environment(),
        )
    if result.returncode == 0:
        return None
    lines = [
        line
        for line in dict.fromkeys((result.stderr + result.stdout).splitlines())
        if line.strip() and "I give up" not in line and "warning:" not in line
    ]
    return "; ".join(lines[:3]) if lines else f"iverilog exited with status {result.returncode}"


@lru_cache(maxsize=64)
def _parse_file(path: Path, mtime_ns: int, size: int, include_dirs: tuple[Path, ...]):
    """The pyverilog AST of one file and its preprocessed text; cached per file version.

    Discovery, the safety check and the bit-parallel backend all need the
    tree; the cache key (path, modification time, size, include folders)
    makes an edited file parse again.
    """
    preprocessed = preprocess(path, include_dirs)
    parser = _parser()
    parser.lexer.lexer.lineno = 1  # PLY keeps counting lines across parses otherwise
    return parser.parse(preprocessed.text), preprocessed


def parse_modules(paths: list[Path]) -> dict[str, ModuleSource]:
    """Parse every file and return its module definitions by name.

    Raises :class:`NetlistError` naming the file for a missing or unreadable
    file, a syntax error (in Icarus's words when Icarus is installed) or a
    module defined twice.
    """
    from pyverilog.vparser.ast import ModuleDef

    modules: dict[str, ModuleSource] = {}
    include_dirs = tuple(sorted({Path(os.path.realpath(p.parent)) for p in paths}))
    for path in paths:
        if not path.is_file():
            raise NetlistError(f"{path}: no such Verilog file")
        try:
            status = path.stat()
            tree, preprocessed = _parse_file(path, status.st_mtime_ns, status.st_size, include_dirs)
        except NetlistError:
            raise
        except OSError as exc:
            raise NetlistError(f"{path}: cannot read ({exc.strerror})") from exc
        except Exception as exc:  # pyverilog raises ParseError and PLY internals
            if not re.search(r"\bmodule\b", path.read_text(errors="replace")):
                raise NetlistError(f"{path}: holds no module definition (is it empty?)") from exc
            icarus = icarus_errors(paths)
            if icarus:
                located = icarus if str(path) in icarus else f"{path}: {icarus}"
                raise NetlistError(f"{located} (fix the Verilog and run again)") from exc
            raise NetlistError(
                f"{path}: pyverilog cannot parse this file ({exc}), although Icarus accepts it; "
                "rewrite that line in plain Verilog-2005 (docs/02-characterize.md, Parsing)"
            ) from exc
        for definition in tree.description.definitions:
            if not isinstance(definition, ModuleDef):
                continue
            if definition.name in modules:
                other = modules[definition.name].path
                raise NetlistError(
                    f"{path}: module {definition.name} is also defined in {other}; give each module once"
                )
            modules[definition.name] = ModuleSource(definition.name, definition, path, preprocessed)
    return modules


_SIZED = re.compile(r"^(?:(\d+)\s*)?'\s*([sS]?)([bBoOdDhH])\s*([0-9a-fA-FxXzZ_?]+)$")
_BASES = {"b": 2, "o": 8, "d": 10, "h": 16}


def parse_int_const(text: str) -> tuple[int, int | None, bool]:
    """Value, width (None when unsized) and signedness of a Verilog integer literal.

    Raises :class:`ValueError` for literals with x/z digits, which have no
    integer value.
    """
    text = text.replace("_", "").strip()
    if text.isdigit():
        return int(text), None, True
    match = _SIZED.match(text)
    if not match:
        raise ValueError(f"not an integer literal: {text!r}")
    size, signed, base, digits = match.groups()
    if re.search(r"[xXzZ?]", digits):
        raise ValueError(f"literal {text!r} has x/z digits")
    value = int(digits, _BASES[base.lower()])
    width = int(size) if size else None
    if width is not None:
        value &= (1 << width) - 1
    return value, width, bool(signed)


_BINARY = {
    "Plus": lambda x, y: x + y,
    "Minus": lambda x, y: x - y,
    "Times": lambda x, y: x * y,
    "Divide": lambda x, y: int(x / y),
    "Mod": lambda x, y: x % y,
    "Power": lambda x, y: x**y,
    "Sll": lambda x, y: x << y,
    "Srl": lambda x, y: x >> y,
    "Sla": lambda x, y: x << y,
    "Sra": lambda x, y: x >> y,
}


def constant_value(node: object, parameters: dict[str, int]) -> int:
    """Integer value of a constant expression (literals, parameters, + - * / % ** << >>).

    Raises :class:`ValueError` for anything else; used for port widths and
    parameter values.
    """
    kind = type(node).__name__
    if kind == "IntConst":
        return parse_int_const(node.value)[0]
    if kind == "Identifier":
        if node.name in parameters:
            return parameters[node.name]
        raise ValueError(f"unknown parameter {node.name}")
    if kind == "Rvalue":
        return constant_value(node.var, parameters)
    if kind == "Uminus":
        return -constant_value(node.right, parameters)
    if kind == "Uplus":
        return constant_value(node.right, parameters)
    if kind in _BINARY:
        left = constant_value(node.left, parameters)
        right = constant_value(node.right, parameters)
        return _BINARY[kind](left, right)
    if kind == "Cond":
        chosen = node.true_value if constant_value(node.cond, parameters) else node.false_value
        return constant_value(chosen, parameters)
    raise ValueError(f"not a constant expression: {kind}")
