"""appmult: approximate-multiplier RTL to product and gradient lookup tables.

One import namespace, layered like a house:

``appmult.core``
    the ground floor: the artifact model (:mod:`appmult.core.artifact`) and
    its file format (:mod:`appmult.core.artifact_file` and its gate
    :mod:`appmult.core.artifact_gate`, the only modules that touch HDF5),
    error types, operand axes, error metrics, the built-in design manifest,
    progress and the executor that runs many independent jobs. It imports
    no stage.
``appmult.characterize``, ``appmult.lutgen``
    stage 1 (netlist -> product table) and stage 2 (product table ->
    gradient tables, exports, reports). They import the core, never each other.
``appmult.retrain``
    the PyTorch consumer of the tables (needs the ``torch`` extra).
``appmult.cli``
    the roof: the ``appmult`` command line, the only code that imports every stage.
``appmult.rtl``
    the built-in multiplier library (Verilog and ``manifest.toml``), package data.

In the repository the stages and the library sit at the root, as the design
card draws the pipeline (``rtl/``, ``characterize/``, ``lutgen/``);
``pyproject.toml`` maps them into this namespace, so the wheel has the one
top-level package ``appmult``.

Short entry points::

    import appmult

    art = appmult.characterize(["mult.v"])     # an appmult.Artifact
    appmult.save(art, "mult.h5")
    art = appmult.load("mult.h5")
    from appmult.retrain import convert         # needs PyTorch

The stage packages are imported on first use, so ``import appmult`` stays
light (no pyverilog, cocotb or torch).
"""

from __future__ import annotations

import importlib

from appmult.core.artifact import Artifact
from appmult.core.artifact_file import load, save
from appmult.core.errors import AppMultError
from appmult.core.gradient import GradientTable
from appmult.core.version import __version__

__all__ = [
    "AppMultError",
    "Artifact",
    "GradientTable",
    "__version__",
    "characterize",
    "load",
    "lutgen",
    "retrain",
    "save",
]

#: Subpackages made available as attributes on first access.
_STAGES = ("characterize", "lutgen", "retrain")


def __getattr__(name: str) -> object:
    if name in _STAGES:
        return importlib.import_module(f"appmult.{name}")
    raise AttributeError(f"module 'appmult' has no attribute {name!r}")
