"""C header of a separable gradient's factors, for a framework's own backward pass.

The file ``<name>_factors.h`` holds one group (``--gradient``, default the
LUT-1D group) as ``static const float`` arrays in value order, after
``#define``s of its shape and operand ranges (``SYM`` is the file stem in
capitals)::

    SYM_RANK, SYM_NA, SYM_NB, SYM_A_MIN, SYM_B_MIN
    static const float sym_u_a[SYM_RANK][SYM_NA], sym_v_a[SYM_RANK][SYM_NB];
    static const float sym_u_b[SYM_RANK][SYM_NA], sym_v_b[SYM_RANK][SYM_NB];

with ``dAM/da(a, b) ~ sum_r u_a[r][a - A_MIN] * v_a[r][b - B_MIN]`` and
``dAM/db(a, b) ~ sum_r u_b[r][a - A_MIN] * v_b[r][b - B_MIN]``: u is a
function of operand a (the activation), v of operand b (the weight), for any
widths and signedness. Values are written with nine significant digits, so
they read back as the same float32. No product table: the header serves wide
(13..16-bit) multipliers, whose forward the framework computes itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from appmult.core.artifact import Artifact
from appmult.core.artifact_file import SEPARABLE_FACTORS
from appmult.core.errors import ExportError
from appmult.core.gradient import SeparableGradient
from appmult.core.version import __version__
from appmult.lutgen.estimators import MAX_RANK
from appmult.lutgen.exporters.files import atomic_write, read_text, text_limit
from appmult.lutgen.exporters.format import Format, Tables
from appmult.lutgen.exporters.gradient_groups import gradient_group
from appmult.lutgen.exporters.layout import Layout
from appmult.lutgen.exporters.options import ExportOptions, check_options
from appmult.lutgen.methods import LUT1D

__all__ = ["FORMAT", "check", "load", "write"]

NAME = "cfactors"
SUFFIX = "_factors.h"
_VALUES_PER_LINE = 8
_ARRAY = re.compile(r"static const float (\w+)\[(\d+)\]\[(\d+)\] = \{(?P<body>[^;]*)\};")


def _group(artifact: Artifact, options: ExportOptions) -> tuple[str, SeparableGradient]:
    check_options(options, NAME, frozenset({"gradient"}))
    method = options.gradient or LUT1D.name
    gradient = gradient_group(artifact, method, NAME)
    if not isinstance(gradient, SeparableGradient):
        raise ExportError(
            f"{artifact.name}: {NAME} writes separable factors, but /grad/{method} holds full tables; "
            f"choose --gradient {LUT1D.name} (or another separable group)"
        )
    return method, gradient


def check(artifact: Artifact, options: ExportOptions) -> None:
    """Raise unless the chosen group exists and is separable."""
    _group(artifact, options)


def _symbol(path: Path) -> str:
    stem = path.name.removesuffix(SUFFIX) if path.name.endswith(SUFFIX) else path.stem
    symbol = re.sub(r"\W", "_", stem, flags=re.ASCII) or "appmult"
    return f"m{symbol}" if symbol[0].isdigit() else symbol


def _array(name: str, values: np.ndarray) -> str:
    rows = []
    for row in np.asarray(values, dtype=np.float32):
        numbers = [f"{float(v):.9g}f" for v in row]
        lines = [
            ", ".join(numbers[k : k + _VALUES_PER_LINE]) for k in range(0, len(numbers), _VALUES_PER_LINE)
        ]
        rows.append("  {\n    " + ",\n    ".join(lines) + "\n  }")
    return (
        f"static const float {name}[{values.shape[0]}][{values.shape[1]}] = {{\n"
        + ",\n".join(rows)
        + "\n};\n"
    )


def write(artifact: Artifact, path: Path, options: ExportOptions) -> list[Path]:
    """Write the header of the chosen separable group."""
    method, gradient = _group(artifact, options)
    symbol = _symbol(Path(path))
    upper = symbol.upper()
    params = json.dumps(gradient.attrs, sort_keys=True)
    lines = [
        f"/* {symbol}: gradient factors of approximate multiplier {artifact.name} "
        f"({artifact.width_a}x{artifact.width_b} bits, a {'signed' if artifact.signed_a else 'unsigned'}, "
        f"b {'signed' if artifact.signed_b else 'unsigned'}), group /grad/{method} {params},",
        f" * written by appmult {__version__}. Value order: ia = a - {upper}_A_MIN, ib = b - {upper}_B_MIN.",
        f" * dAM/da(a, b) ~ sum_r {symbol}_u_a[r][ia] * {symbol}_v_a[r][ib]",
        f" * dAM/db(a, b) ~ sum_r {symbol}_u_b[r][ia] * {symbol}_v_b[r][ib]",
        " */",
        f"#ifndef APPMULT_{upper}_FACTORS_H",
        f"#define APPMULT_{upper}_FACTORS_H",
        "",
        f"#define {upper}_RANK {gradient.rank}",
        f"#define {upper}_NA {artifact.shape[0]}",
        f"#define {upper}_NB {artifact.shape[1]}",
        f"#define {upper}_A_MIN ({int(artifact.operand_a[0])})",
        f"#define {upper}_B_MIN ({int(artifact.operand_b[0])})",
        "",
    ]
    arrays = [_array(f"{symbol}_{label}", getattr(gradient, label)) for label in SEPARABLE_FACTORS]
    text = "\n".join(lines) + "\n" + "\n".join(arrays) + "\n#endif\n"
    return [atomic_write(path, text)]


def load(
    path: Path, layout: Layout, options: ExportOptions | None = None, *, gradients: bool = True
) -> Tables:
    """Read the factors back (a C compiler's view: the four arrays by name); no product table.

    The file may hold at most four arrays of MAX_RANK rows of the layout's sides.
    """
    n_a, n_b = layout.shape
    text = read_text(path, text_limit(2 * MAX_RANK * (n_a + n_b)))
    found = {}
    for match in _ARRAY.finditer(text):
        label = match.group(1).rsplit("_", 2)[-2:]
        values = re.findall(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf", match["body"])
        shape = (int(match.group(2)), int(match.group(3)))
        found["_".join(label)] = np.array(values, dtype=np.float32).reshape(shape)
    missing = [label for label in SEPARABLE_FACTORS if label not in found]
    if missing:
        raise ExportError(f"{path}: no array for {', '.join(missing)}")
    n_a, n_b = 1 << layout.width_a, 1 << layout.width_b
    if found["u_a"].shape[1] != n_a or found["v_a"].shape[1] != n_b:
        raise ExportError(f"{path}: factors of [{found['u_a'].shape[1]}, {found['v_a'].shape[1]}] values, "
                          f"expected [{n_a}, {n_b}]")  # fmt: skip
    method = (options or ExportOptions()).gradient or LUT1D.name
    result = Tables(product=None)
    if gradients:
        result.gradients[method] = SeparableGradient(*(found[label] for label in SEPARABLE_FACTORS))
    return result


FORMAT = Format(
    name=NAME,
    description="C header of a separable gradient's factors (LUT-1D), float arrays in value order",
    suffix=SUFFIX,
    check=check,
    write=write,
    load=load,
    needs_table=False,
)
