"""The project's exception types.

Library code raises these and never prints or exits; the command line turns
one into a single-line message on stderr and a non-zero exit status. Every
message names the file (when there is one), the cause and what to do.
"""

from __future__ import annotations

__all__ = [
    "AppMultError",
    "ArtifactError",
    "ExportError",
    "NetlistError",
    "ParameterError",
    "SimulationError",
    "SynthesisError",
    "UnsupportedConstruct",
]


class AppMultError(Exception):
    """Base class of every error the tool reports to the user."""


class ParameterError(AppMultError, ValueError):
    """A parameter is out of range (operand width, half-window, option value)."""


class NetlistError(AppMultError):
    """A Verilog netlist is missing, does not compile, or has unusable ports."""


class UnsupportedConstruct(NetlistError):
    """The bit-parallel backend met a Verilog construct it does not evaluate.

    ``construct`` names it and ``location`` gives ``file:line``; the ``auto``
    backend catches this and falls back to Icarus.
    """

    def __init__(self, message: str, construct: str = "", location: str = "") -> None:
        super().__init__(message)
        self.construct = construct
        self.location = location


class SimulationError(AppMultError):
    """The simulator failed, timed out, or produced X/Z on an output bit."""


class SynthesisError(AppMultError):
    """Yosys is missing, rejected the netlist, or did not finish in time."""


class ArtifactError(AppMultError):
    """An artifact file is missing, corrupt, foreign or of another format version."""


class ExportError(AppMultError):
    """A table cannot be represented in the requested export format."""
