"""Checks that a table fits its target's value range, and that a file's axes are the expected ones."""

from __future__ import annotations

import numpy as np

from appmult.core.errors import ExportError
from appmult.lutgen.exporters.layout import Layout

__all__ = ["check_axes", "check_range"]


def check_range(values: np.ndarray, dtype: type, what: str, name: str, remedy: str) -> None:
    """Raise :class:`ExportError` if integer ``values`` do not fit ``dtype`` (no wrapping)."""
    limits = np.iinfo(dtype)
    low, high = int(np.min(values)), int(np.max(values))
    if low < limits.min or high > limits.max:
        raise ExportError(
            f"{name}: {what} span {low}..{high}, outside {np.dtype(dtype).name} "
            f"{limits.min}..{limits.max}; {remedy}"
        )


def check_axes(path: object, layout: Layout, operand_a: object, operand_b: object) -> None:
    """Raise unless a file's stored operand axes are those of ``layout``."""
    for operand, found, expected in (
        ("a", operand_a, layout.operand_a),
        ("b", operand_b, layout.operand_b),
    ):
        if not np.array_equal(np.asarray(found), expected):
            raise ExportError(
                f"{path}: operand {operand} axis does not match {layout.describe(operand)}; "
                "pass the widths and signedness the file was written with"
            )
