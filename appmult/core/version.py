"""The version of appmult: one leaf module that every layer may import.

``pyproject.toml`` reads the package version from here (``[tool.setuptools.dynamic]``),
so the wheel, ``appmult --version``, artifact provenance and the headers the
exporters write all carry the same string.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
