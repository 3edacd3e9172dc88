"""Shared pieces of the issue-19 measurements: the panel, its published figures, result caching.

Every script of this folder reads the 15 EvoApprox 8x8 artifacts from
``bench/research_19/artifacts`` (built by ``characterize_panel.py`` from
``tests/fixtures/evoapprox``) and caches each finished measurement in a JSON
file named by its parameters, so a rerun skips what is already done.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "evoapprox"
ARTIFACTS = HERE / "artifacts"
RESULTS = HERE / "results"
CACHE = HERE / "cache"

#: The 15 8x8 netlists, unsigned then signed, each in NMED order.
PANEL = (
    "mul8u_LM7", "mul8u_2AC", "mul8u_7C1", "mul8u_DM1", "mul8u_RCG", "mul8u_1CMB", "mul8u_FTA",
    "mul8u_JQQ", "mul8u_L40", "mul8u_18DU", "mul8u_YX7",
    "mul8s_1KVB", "mul8s_1L2H", "mul8s_1L2D", "mul8s_1L1G",
)  # fmt: skip

#: The half-window grid of the DATE paper's search.
GRID = (1, 2, 4, 8, 16, 32, 64)

_HEADER = re.compile(
    r"^// (MAE%|MAE|WCE%|WCE|WCRE%|EP%|MRE%|MSE|PDK45_PWR|PDK45_AREA|PDK45_DELAY) = ([0-9.e+-]+)"
)


def header_figures(name: str) -> dict[str, float]:
    """The published figures in the header of ``tests/fixtures/evoapprox/<name>.v``.

    Keys as in the header (``MAE``, ``MAE%``, ``WCE``, ``EP%``, ``MRE%``, ``MSE``,
    ``PDK45_PWR`` in mW, ``PDK45_AREA`` in um^2, ``PDK45_DELAY`` in ns, ...).
    """
    figures = {}
    for line in (FIXTURES / f"{name}.v").read_text().splitlines():
        match = _HEADER.match(line)
        if match:
            figures[match.group(1)] = float(match.group(2))
    return figures


def artifact_path(name: str) -> Path:
    """The artifact file of panel multiplier ``name``."""
    return ARTIFACTS / f"{name}.h5"


def cached(path: Path, compute):  # noqa: ANN001, ANN201
    """The JSON value stored at ``path``, or ``compute()`` written there atomically first."""
    if path.is_file():
        return json.loads(path.read_text())
    value = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(value, indent=1, sort_keys=True))
    os.replace(temporary, path)
    return value
