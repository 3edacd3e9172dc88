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
import tomllib
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
SETUPTOOLS = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["tool"]["setuptools"]
#: Import package -> repository folder, as pyproject.toml maps them (the design card's root).
PACKAGE_DIRS: dict[str, Path] = {
    name: REPOSITORY / folder for name, folder in SETUPTOOLS["package-dir"].items()
}

#: Layer -> the layers its modules may import (itself included).
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "rtl": {"rtl"},
    "characterize": {"core", "characterize"},
    "lutgen": {"core", "lutgen"},
    "retrain": {"core", "lutgen", "retrain"},
    "cli": {"core", "characterize", "lutgen", "retrain", "cli"},
    "root": {"core"},  # appmult/__init__.py
    "main": {"cli"},  # appmult/__main__.py, the only importer of the command line besides the entry point
}
STAGES = {"characterize", "lutgen", "retrain"}


def _layer(module: str) -> str:
    if module == "appmult.__main__":
        return "main"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else "root"


def _owner(path: Path) -> tuple[str, Path]:
    """The mapped package whose folder holds ``path`` (the deepest one) and that folder."""
    owners = [(name, folder) for name, folder in PACKAGE_DIRS.items() if path.is_relative_to(folder)]
    return max(owners, key=lambda owner: len(owner[1].parts))


def _module_name(path: Path) -> str:
    package, folder = _owner(path)
    parts = [*package.split("."), *path.relative_to(folder).with_suffix("").parts]
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
            # ``from package import module`` imports the module; the package only for other names
            submodules = {f"{base}.{alias.name}" for alias in node.names} & MODULE_NAMES
            found.update(submodules or {base})
    return {name for name in found if name == "appmult" or name.startswith("appmult.")}


def _module_names() -> set[str]:
    return {_module_name(path) for path in _python_files()}


def _python_files() -> list[Path]:
    roots = [folder for folder in PACKAGE_DIRS.values()]
    files = {path for root in roots for path in root.rglob("*.py")}
    return sorted(path for path in files if "__pycache__" not in path.parts)


MODULES = _python_files()
MODULE_NAMES = _module_names()
NAMES = {_module_name(path): path for path in MODULES}


def test_every_layer_of_the_package_is_checked() -> None:
    layers = {_layer(_module_name(path)) for path in MODULES}
    assert layers == set(ALLOWED)
    assert len(MODULES) > 60  # the walk found the package, not an empty folder


def test_the_repository_root_is_the_design_card() -> None:
    """rtl/, characterize/ and lutgen/ sit at the root and install as appmult.rtl, .characterize, .lutgen."""
    assert SETUPTOOLS["package-dir"] == {
        "appmult": "appmult",
        "appmult.rtl": "rtl",
        "appmult.characterize": "characterize",
        "appmult.lutgen": "lutgen",
    }
    for folder in ("rtl", "characterize", "lutgen", "artifacts", "tests"):
        assert (REPOSITORY / folder).is_dir()
    assert (REPOSITORY / "Makefile").is_file()


def test_every_package_folder_is_installed() -> None:
    """Each folder with an __init__.py is in pyproject's package list, and nothing else is."""
    packages = {_module_name(path) for path in MODULES if path.name == "__init__.py"}
    assert packages == set(SETUPTOOLS["packages"])


def test_no_import_cycle() -> None:
    """No module reaches itself through static imports (a package's __init__ counts as the package)."""
    graph = {
        name: {dep for dep in _imports(path) if dep in NAMES and dep != name} for name, path in NAMES.items()
    }
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    cycles = []

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph[name]):
            if state.get(dep) == 1:
                cycles.append(" -> ".join([*trail[trail.index(dep) :], dep]))
            elif dep not in state:
                visit(dep, [*trail, dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REPOSITORY)))
def test_module_imports_only_the_layers_below_it(path: Path) -> None:
    layer = _layer(_module_name(path))
    imported = _imports(path)
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
