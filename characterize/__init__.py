"""Stage 1: exhaustive simulation of a multiplier netlist into a product table."""

from __future__ import annotations

from characterize.api import characterize
from characterize.backends import BACKENDS, get_backend
from characterize.netlist import Interface, Port, discover

__all__ = ["BACKENDS", "Interface", "Port", "characterize", "discover", "get_backend"]
