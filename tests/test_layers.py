"""The house stays a house: which layer of ``appmult`` may import which.

``appmult.core`` is the ground floor and imports no stage; the stages
(``characterize``, ``lutgen``) stand on it and never import each other; the
consumer (``retrain``) stands on the core and on lutgen, whose estimators
make the tables it trains with; the command line (``appmult.cli``) is the
roof and the only code that imports every stage. Checked over the static
imports of every module of the package, including imports inside functions.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "appmult"

#: Layer -> the layers its modules may import (itself included).
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "characterize": {"core", "characterize"},
    "lutgen": {"core", "lutgen"},
    "retrain": {"core", "lutgen", "retrain"},
    "cli": {"core", "characterize", "lutgen", "retrain", "cli"},
    "root": {"core", "cli"},  # appmult/__init__.py and __main__.py
}
STAGES = {"characterize", "lutgen", "retrain"}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else "root"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of the appmult modules ``path`` imports (relative imports resolved)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
    return {name for name in found if name == "appmult" or name.startswith("appmult.")}


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_layer_of_the_package_is_checked() -> None:
    layers = {_layer(_module_name(path)) for path in MODULES}
    assert layers == set(ALLOWED)
    assert len(MODULES) > 60  # the walk found the package, not an empty folder


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_module_imports_only_the_layers_below_it(path: Path) -> None:
    layer = _layer(_module_name(path))
    imported = _imports(path) - {"appmult"}  # the root only for __version__
    wrong = sorted(name for name in imported if _layer(name) not in ALLOWED[layer])
    assert not wrong, f"{layer} may import {sorted(ALLOWED[layer])} only"


def test_only_the_command_line_imports_every_stage() -> None:
    importers: dict[str, set[str]] = {}
    for path in MODULES:
        layer = _layer(_module_name(path))
        importers.setdefault(layer, set()).update(_layer(name) for name in _imports(path))
    assert [layer for layer, used in importers.items() if STAGES <= used] == ["cli"]


def test_import_appmult_loads_no_stage_and_no_heavy_dependency() -> None:
    """``import appmult`` is light: stages, pyverilog, cocotb and torch load on first use."""
    code = (
        "import sys, appmult; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'torch', 'pyverilog', 'cocotb', 'matplotlib'} or m.startswith(('appmult.characterize', "
        "'appmult.lutgen', 'appmult.retrain', 'appmult.cli'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_stage_packages_are_reachable_from_the_root() -> None:
    import appmult

    assert callable(appmult.characterize)
    assert appmult.characterize.discover.__module__ == "appmult.characterize.netlist"
    assert hasattr(appmult.lutgen, "gradient_tables")
