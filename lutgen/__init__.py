"""Stage 2: gradient lookup tables (STE, LUT-2D, LUT-1D) from an artifact's product table.

:mod:`appmult.lutgen.estimators` holds the pure estimators,
:mod:`appmult.lutgen.methods` the registry of gradient methods (name ->
builder) and their typed parameters, :mod:`appmult.lutgen.gradients` the
default half-windows and the atomic update of an artifact file; :mod:`appmult.lutgen.exporters` writes the
tables in other frameworks' formats and :mod:`appmult.lutgen.report` plots them.

A training script needs no API beyond :func:`appmult.load`: the returned
:class:`~appmult.core.artifact.Artifact` holds the operand axes, the product table
and the gradient groups::

    import appmult

    art = appmult.load("artifacts/NAME.h5")
    a, b = art.operand_a, art.operand_b        # int32 [Na], [Nb], value order
    product = art.product                      # int32 [Na, Nb]: AM(a[i], b[j])
    lut2d = art.gradients["lut2d"]
    d_a, d_b = lut2d.d_a, lut2d.d_b            # float32 [Na, Nb]: dAM/da, dAM/db
    lut1d = art.gradients["lut1d"]             # separable: dAM/da ~ lut1d.u_a.T @ lut1d.v_a
    print(lut2d.attrs, lut1d.attrs)            # half-windows, edge rule; form, rank

Index a table at operand value ``v`` of ``a`` with ``v - a[0]``.
"""

from __future__ import annotations

from appmult.lutgen.estimators import (
    DEFAULT_FORM,
    DEFAULT_RANK,
    FORMS,
    MAX_RANK,
    check_hws,
    lut1d,
    lut2d,
)
from appmult.lutgen.gradients import add_gradients, gradient_tables, library_artifacts
from appmult.lutgen.half_window import HalfWindows, default_hws
from appmult.lutgen.methods import METHODS, NAMES, GradientParameters, gradient_of, parse_methods

__all__ = [
    "DEFAULT_FORM",
    "DEFAULT_RANK",
    "FORMS",
    "MAX_RANK",
    "METHODS",
    "NAMES",
    "GradientParameters",
    "HalfWindows",
    "add_gradients",
    "check_hws",
    "default_hws",
    "gradient_of",
    "gradient_tables",
    "library_artifacts",
    "lut1d",
    "lut2d",
    "parse_methods",
]
