"""The built-in multiplier library: Verilog netlists and ``manifest.toml``, as package data.

Installed as ``appmult.rtl``; :mod:`appmult.core.manifest` reads it. The
gate-level netlists are written by ``scripts/generate_rtl.py`` (a development
tool, not installed).
"""
