"""ApproxTorch (woshimark666/ApproxTorch) product table and gradient files.

Product: ``<stem>.txt``, 256 lines of 256 integers, read by ``load_lut`` with
``np.loadtxt``. ``qtype`` int8: row ``act + 128``, column ``w + 128`` (value
order); uint8: row ``act``, column ``w`` (raw codes). Operand ``a`` is the
activation and ``b`` the weight. Default qtype: int8 when either operand is
signed, else uint8. Narrower tables fill the rows and columns of their values
and leave the rest 0 (use ApproxTorch's ``weight_bits`` to match).

Gradients (unscaled float32 text, ``%.9g``), chosen by ``approxtorch_grad``:

``custom`` (default)
    ``<stem>_dx.txt`` and ``<stem>_dw.txt``, 256 x 256 each, indexed like the
    product: dx = dAM/d(act), dw = dAM/dw from ``--gradient`` (default
    ``lut2d``; a separable ``lut1d`` group is expanded to the 2-D tables it stands for).
``lre``
    ``<stem>_lre_dx.txt`` and ``<stem>_lre_dw.txt``, 256 values one per line:
    dx indexed by w, dw by act, from a ``lut1d`` group that has this form
    (``--lut1d-form mean``, ``lsq`` or ``range``); a ``separable`` one depends
    on both operands and is refused.
``none``
    the product table only (ApproxTorch ``grad='ste'``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from appmult.core.artifact import Artifact
from appmult.core.errors import ParameterError
from appmult.core.gradient import GradientTable, SeparableGradient
from appmult.lutgen.exporters.domains import (
    INT8_VALUES,
    SIZE,
    UINT8,
    Domain,
    corner_note,
    embed,
    embed_product,
    extract,
    read_block,
)
from appmult.lutgen.exporters.files import atomic_write, matrix_text, read_matrix
from appmult.lutgen.exporters.format import Format, Tables
from appmult.lutgen.exporters.gradient_groups import gradient_2d, other_operand_vectors
from appmult.lutgen.exporters.layout import Layout
from appmult.lutgen.exporters.options import ExportOptions, check_options
from appmult.lutgen.methods import LUT1D, LUT2D

__all__ = ["FORMAT", "check", "gradient_paths", "load", "write"]

NAME = "approxtorch"
DEFAULT_GRADIENT = LUT2D.name
_DOMAINS = {"int8": INT8_VALUES, "uint8": UINT8}
_SUFFIXES = {"custom": ("_dx", "_dw"), "lre": ("_lre_dx", "_lre_dw")}
_FLOAT = "%.9g"  # enough digits to give back every float32 exactly
_LRE_REMEDY = (
    "export it with --approxtorch-grad custom (2-D tables), or make a one-operand LUT-1D with "
    f"`appmult lutgen FILE --methods {LUT1D.name} --lut1d-form mean`"
)
_REMEDY = "choose --qtype int8 for signed operands (up to 8 bits), uint8 for unsigned ones"


def _mode(layout: Layout, options: ExportOptions) -> tuple[Domain, str]:
    """``(domain, gradient kind)`` for ``options``: the qtype's index rule and custom/lre/none."""
    qtype = options.qtype or ("int8" if layout.output_signed else "uint8")
    return _DOMAINS[qtype], options.approxtorch_grad or "custom"


def gradient_paths(path: Path, kind: str) -> tuple[Path, ...]:
    """The dx and dw files written next to the product file ``path`` for ``kind``."""
    path = Path(path)
    suffix = path.suffix or ".txt"
    return tuple(path.with_name(f"{path.stem}{tag}{suffix}") for tag in _SUFFIXES.get(kind, ()))


def _files(artifact: Artifact, options: ExportOptions) -> list[str]:
    """Texts of the product file, then the dx and dw files the options ask for."""
    check_options(options, NAME, frozenset({"gradient", "qtype", "approxtorch_grad", "corner"}))
    layout = Layout.of(artifact)
    domain, kind = _mode(layout, options)
    block = embed_product(artifact.product, layout, domain, NAME, _REMEDY, corner=options.corner)
    note = corner_note(layout, domain) if options.corner else None
    header = f"# This file holds {note}.\n" if note else ""  # np.loadtxt skips '#' lines
    texts = [header + matrix_text(block, "%d")]
    if kind == "none":
        if options.gradient:
            raise ParameterError("--approxtorch-grad none writes no gradient files; drop --gradient")
        return texts
    if kind == "lre":
        if options.gradient not in (None, LUT1D.name):
            raise ParameterError(
                f"ApproxTorch lre gradients are 1-D and come from the {LUT1D.name} group, not "
                f"{options.gradient}; drop --gradient or use --approxtorch-grad custom"
            )
        g_a, g_b = other_operand_vectors(artifact, LUT1D.name, NAME, _LRE_REMEDY)
        pairs = [(g_a, layout.operand_b), (g_b, layout.operand_a)]
        return texts + [header + matrix_text(embed(g, (axis,), domain), _FLOAT) for g, axis in pairs]
    axes = (layout.operand_a, layout.operand_b)
    d_a, d_b = gradient_2d(artifact, options.gradient or DEFAULT_GRADIENT, NAME)
    return texts + [header + matrix_text(embed(g, axes, domain), _FLOAT) for g in (d_a, d_b)]


def check(artifact: Artifact, options: ExportOptions) -> None:
    """Raise unless the operands fit the chosen qtype and the gradient group exists."""
    _files(artifact, options)


def write(artifact: Artifact, path: Path, options: ExportOptions) -> list[Path]:
    """Write the product table to ``path`` and the gradient files next to it."""
    texts = _files(artifact, options)
    _, kind = _mode(Layout.of(artifact), options)
    targets = (Path(path), *gradient_paths(path, kind))
    return [atomic_write(target, text) for target, text in zip(targets, texts, strict=True)]


def load(
    path: Path, layout: Layout, options: ExportOptions | None = None, *, gradients: bool = True
) -> Tables:
    """Read the product table (``load_lut``) and, with ``gradients``, the dx/dw files.

    Gradients are filed under ``lut1d`` for ``lre``, else under
    ``options.gradient`` (default ``lut2d``), as the files store them.
    """
    options = options or ExportOptions()
    domain, kind = _mode(layout, options)
    block = read_matrix(path, (SIZE, SIZE), np.int64)
    result = Tables(product=read_block(block, layout, domain, NAME, _REMEDY))
    if not gradients or kind == "none":
        return result
    if kind == "lre":
        axes: list[tuple[np.ndarray, ...]] = [(layout.operand_b,), (layout.operand_a,)]
        shape: tuple[int, ...] = (SIZE,)
        method = LUT1D.name
    else:
        axes = [(layout.operand_a, layout.operand_b)] * 2
        shape = (SIZE, SIZE)
        method = options.gradient or DEFAULT_GRADIENT
    d_a, d_b = (
        extract(read_matrix(grad_path, shape, np.float32), axis, domain)
        for grad_path, axis in zip(gradient_paths(path, kind), axes, strict=True)
    )
    if kind == "lre":  # dx(w) and dw(act): a rank-1 separable gradient
        ones_a, ones_b = np.ones((1, layout.shape[0])), np.ones((1, layout.shape[1]))
        result.gradients[method] = SeparableGradient(ones_a, d_a, d_b, ones_b)
    else:
        result.gradients[method] = GradientTable(d_a=d_a, d_b=d_b)
    return result


FORMAT = Format(
    name=NAME,
    description="ApproxTorch text: 256x256 product table (int8 or uint8) plus custom/lre gradient files",
    suffix="_approxtorch.txt",
    check=check,
    write=write,
    load=load,
)
