"""appmult: approximate-multiplier RTL to product and gradient lookup tables.

The shared core: the artifact schema (:mod:`appmult.artifact`, the only module
that touches HDF5), error types, operand axes, error metrics, the built-in
design manifest and the ``appmult`` command line.
"""

from __future__ import annotations

__version__ = "0.1.0"

from appmult.artifact import Artifact, GradientTable, load, save  # noqa: E402
from appmult.errors import AppMultError  # noqa: E402

__all__ = ["AppMultError", "Artifact", "GradientTable", "__version__", "load", "save"]
