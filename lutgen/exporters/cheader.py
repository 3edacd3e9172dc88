"""C headers for TransAxx (CUDA) and AdaPT (CPU), from one emitter.

The file ``<name>.h`` defines ``const __device__ int16_t lut[256][256]``
(TransAxx) or ``const int16_t lut[256][256]`` (AdaPT, compiled by g++, which
rejects ``__device__``) after ``#include <stdint.h>``, inside an include
guard. The framework compiles it with ``-DAXX_MULT=<name>``, so the file
stem must be a C identifier.

Index: raw int8 bit patterns, ``lut[u8(x)][u8(y)] = AM(x, y)`` with
``u8(v) = v & 0xFF`` (entries 128..255 hold -128..-1). Linear layers use
``x = act, y = w``; Conv2d layers ``x = w, y = act``. By default the file holds
``lut[u8(a)][u8(b)] = AM(a, b)`` (right for Linear layers); ``--transpose``
writes ``lut[u8(b)][u8(a)] = AM(a, b)`` (right for Conv2d layers), and a
non-commutative multiplier gets an :class:`~appmult.lutgen.exporters.format.AsymmetryWarning`.
Operands must be int8 values (signed up to 8 bits, unsigned up to 7 bits; an
unsigned 8-bit multiplier needs ``--sign-magnitude``); narrower tables fill
their values' bit-pattern positions and leave the rest 0. Values must fit
int16. Neither framework reads gradient tables (STE backward).
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import numpy as np

from appmult.core.artifact import Artifact
from appmult.core.errors import ExportError
from appmult.core.version import __version__
from appmult.lutgen.exporters.checks import check_range
from appmult.lutgen.exporters.domains import INT8_BITS, read_block
from appmult.lutgen.exporters.files import atomic_write, read_text, text_limit
from appmult.lutgen.exporters.format import Format, Tables
from appmult.lutgen.exporters.int8_block import int8_bit_pattern_block
from appmult.lutgen.exporters.layout import Layout
from appmult.lutgen.exporters.options import ExportOptions

__all__ = ["ADAPT", "TRANSAXX", "check", "emit", "load", "write"]

SUFFIX = ".h"
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*\Z", re.ASCII)
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)
_DEFINITION = re.compile(r"\blut\s*\[\s*256\s*\]\s*\[\s*256\s*\]\s*=\s*\{(?P<body>[^;]*)\}\s*;")
_BODY = re.compile(r"[\s\d,{}+-]*\Z")


def check(artifact: Artifact, options: ExportOptions, *, target: str) -> None:
    """Raise unless ``artifact`` fits a signed int8, int16-valued ``lut[256][256]``."""
    int8_bit_pattern_block(artifact, options, target, np.int16)  # raises what write would


def _symbol(path: Path, target: str) -> str:
    if path.suffix != SUFFIX or not _IDENTIFIER.match(path.stem):
        raise ExportError(
            f"{path}: {target} compiles axx_mults/<name>.h as -DAXX_MULT=<name>, so the file "
            "name must be a C identifier followed by .h (for example mul8s_approx.h); choose "
            "another -o"
        )
    return path.stem


def emit(
    block: np.ndarray,
    symbol: str,
    artifact: Artifact,
    *,
    device: bool,
    transpose: bool,
    note: str | None = None,
) -> str:
    """The header text for a 256x256 int16 ``block`` already in bit-pattern order; ``note`` says
    which corner of a wider table it holds."""
    qualifier = "const __device__ int16_t" if device else "const int16_t"
    guard = f"APPMULT_{symbol.upper()}_H"
    layer, index = ("Conv2d", "lut[u8(w)][u8(act)]") if transpose else ("Linear", "lut[u8(act)][u8(w)]")
    rows = ",\n".join("    {" + ", ".join(map(str, row)) + "}" for row in block.tolist())
    return (
        f"/* {symbol}: approximate multiplier {artifact.name} "
        f"({artifact.width_a}x{artifact.width_b} bits), written by appmult {__version__}.\n"
        f" * {index} = AM(act, w) with u8(v) = v & 0xFF (for {layer} layers).\n"
        + (f" * This file holds {note}.\n" if note else "")
        + " */\n"
        f"#ifndef {guard}\n#define {guard}\n\n#include <stdint.h>\n\n"
        f"{qualifier} lut[256][256] = {{\n{rows}\n}};\n\n#endif\n"
    )


def write(artifact: Artifact, path: Path, options: ExportOptions, *, target: str, device: bool) -> list[Path]:
    """Write the header; ``device`` adds ``__device__`` (TransAxx)."""
    block, note = int8_bit_pattern_block(artifact, options, target, np.int16)
    symbol = _symbol(Path(path), target)
    text = emit(block, symbol, artifact, device=device, transpose=options.transpose, note=note)
    return [atomic_write(path, text)]


def load(
    path: Path,
    layout: Layout,
    options: ExportOptions | None = None,
    *,
    target: str,
    device: bool,
    gradients: bool = True,
) -> Tables:
    """Read ``lut[256][256]`` back as the value-ordered table of ``layout``.

    ``options.transpose`` reads a Conv2d-oriented file. The header must
    carry ``__device__`` exactly when ``device`` (TransAxx) is set. There are
    no gradient tables to read, so ``gradients`` has no effect.
    """
    options = options or ExportOptions()
    text = _COMMENT.sub(" ", read_text(path, text_limit(256 * 256)))
    if ("__device__" in text) != device:
        need = "the CUDA kernels need `const __device__ int16_t lut`" if device else "g++ rejects __device__"
        raise ExportError(f"{path}: not a header for {target}: {need}")
    match = _DEFINITION.search(text)
    if match is None or not _BODY.match(match["body"]):
        raise ExportError(f"{path}: no `lut[256][256] = {{...}};` definition of integers")
    values = re.findall(r"[+-]?\d+", match["body"])
    if len(values) != 256 * 256:
        raise ExportError(f"{path}: lut holds {len(values)} values, expected 65536")
    block = np.array(values, dtype=np.int64).reshape(256, 256)
    check_range(block, np.int16, "lut values", str(path), "the header is not int16")
    product = read_block(
        block,
        layout,
        INT8_BITS,
        target,
        "the table is indexed by int8 operands (pass --signed)",
        transpose=options.transpose,
    )
    return Tables(product=product)


def _format(name: str, device: bool, description: str) -> Format:
    return Format(
        name=name,
        description=description,
        suffix=f"_{name}{SUFFIX}",  # distinct defaults: the two targets read different headers
        check=partial(check, target=name),
        write=partial(write, target=name, device=device),
        load=partial(load, target=name, device=device),
    )


TRANSAXX = _format("transaxx", True, "TransAxx CUDA header: const __device__ int16_t lut[256][256]")
ADAPT = _format("adapt", False, "AdaPT C++ header: const int16_t lut[256][256]")
