"""Stage 1: exhaustive simulation of a multiplier netlist into a product table.

The package itself is callable: ``appmult.characterize(sources, ...)`` is
:func:`appmult.characterize.api.characterize`, while its modules stay
reachable as ``appmult.characterize.netlist``, ``.backends`` and so on.
"""

from __future__ import annotations

import sys
import types

from appmult.characterize.api import characterize
from appmult.characterize.backends import BACKENDS, get_backend
from appmult.characterize.netlist import Interface, Port, discover

__all__ = ["BACKENDS", "Interface", "Port", "characterize", "discover", "get_backend"]


class _CallablePackage(types.ModuleType):
    """This package, callable as :func:`characterize` (``appmult.characterize([...])``)."""

    def __call__(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN204
        return characterize(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
