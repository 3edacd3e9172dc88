"""What a format is: its registry record, what its loader returns, and its caveats.

Each format module builds one :class:`Format` (``check``, ``write``,
``load``). Writers refuse what a target cannot represent with
:class:`~appmult.core.errors.ExportError` and report caveats as
:class:`ExportWarning`, never printing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from appmult.core.gradient import Gradient

__all__ = ["AsymmetryWarning", "ExportWarning", "Format", "Tables"]


class ExportWarning(UserWarning):
    """An export succeeded but the file needs care (operand roles, embedded corners)."""


class AsymmetryWarning(ExportWarning):
    """AM(a, b) != AM(b, a) and the target swaps operand roles between layer kinds."""


@dataclass
class Tables:
    """What a format's ``load`` read back, in value order.

    ``product`` is int64 [Na, Nb] with ``product[i, j] = AM(a_i, b_j)``.
    ``gradients`` maps a method name to the unscaled gradient the file
    stores (full tables, or a separable group for npz factors and ApproxTorch
    ``lre`` vectors); formats that do not
    record the method file them under the method the options select.
    """

    product: np.ndarray | None  # None for a format without a table (cfactors)
    gradients: dict[str, Gradient] = field(default_factory=dict)


@dataclass(frozen=True)
class Format:
    """One export format, as listed in the registry.

    ``check(artifact, options)`` raises when the target cannot represent the
    artifact; ``write(artifact, path, options)`` checks, writes atomically
    and returns the files written (main file first);
    ``load(path, layout, options, *, gradients=True)`` reads a file back by
    the target's own loader rules. ``needs_table``: the file holds the
    product table (or tables as large), so a wide artifact, which has none,
    cannot be exported to it.
    """

    name: str
    description: str
    suffix: str
    check: Callable[..., None]
    write: Callable[..., list[Path]]
    load: Callable[..., Tables]
    streams: bool = False  # write takes ``progress=`` and writes a large file in parts
    needs_table: bool = True
