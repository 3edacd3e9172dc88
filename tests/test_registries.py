"""One home per concept: registries own their names, and capabilities are asked of their owner.

The gradient methods' names (``appmult.lutgen.methods``) are the group names of
the artifact file, the command line's choices and the consumer's kinds; every
other module of the package derives them from the registry (``STE.name``,
``NAMES``, ...), so a new method is one record in one file. Checked over the
string constants of every module of the installed package (docstrings aside,
where prose may name a method, and ``__all__``, which lists the estimator
functions ``lut2d`` and ``lut1d``). Tests and benchmarks name methods freely:
they check behaviour by name.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from appmult.characterize.backends import BACKENDS, Backend
from appmult.lutgen.methods import METHODS, NAMES
from tests.test_layers import MODULES, REPOSITORY, _imports

REGISTRY = REPOSITORY / "lutgen" / "methods.py"
NAME_PATTERN = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, NAMES)) + r")(?![\w-])")


def _not_names(tree: ast.AST) -> set[int]:
    """ids of the strings that are not data: docstrings, and the identifiers listed in ``__all__``."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            found.update(id(element) for element in ast.walk(node.value))
    return found


def _spelled_names(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    skip = _not_names(tree)
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            hits.extend(f"line {node.lineno}: {match!r}" for match in NAME_PATTERN.findall(node.value))
    return hits


def test_the_registry_holds_every_method_once() -> None:
    assert list(METHODS) == list(NAMES) and len(set(NAMES)) == len(NAMES)
    assert all(method.name == name for name, method in METHODS.items())


@pytest.mark.parametrize(
    "path", [p for p in MODULES if p != REGISTRY], ids=lambda p: str(p.relative_to(REPOSITORY))
)
def test_no_gradient_name_is_spelled_out_outside_its_registry(path: Path) -> None:
    hits = _spelled_names(path)
    assert not hits, f"{path.name} spells gradient names; derive them from appmult.lutgen.methods: {hits}"


def test_the_check_finds_a_spelled_name(tmp_path: Path) -> None:
    """The scan itself: a name in code is found, the same name in a docstring is not."""
    module = tmp_path / "m.py"
    module.write_text(
        f'"""Mentions {NAMES[1]} in prose."""\n__all__ = ["{NAMES[1]}"]\n'
        f'KIND = "{NAMES[1]}"\nHELP = "a,{NAMES[2]}:x"\n'
    )
    assert _spelled_names(module) == [f"line 3: {NAMES[1]!r}", f"line 4: {NAMES[2]!r}"]


# ---------------------------------------------------------------- backends


def test_backends_are_asked_not_named() -> None:
    """Outside characterize/backends/, no module of the package imports a concrete backend."""
    concrete = {f"appmult.characterize.backends.{name}" for name in BACKENDS}
    backends_dir = REPOSITORY / "characterize" / "backends"
    naming = {
        str(path.relative_to(REPOSITORY)): sorted(_imports(path) & concrete)
        for path in MODULES
        if not path.is_relative_to(backends_dir)
    }
    assert not {module: names for module, names in naming.items() if names}


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_a_backend_that_slices_sweeps_slices(name: str) -> None:
    """``slice_pairs`` promises ``sweep``; ``runs_simulator`` decides the sandbox note."""
    backend = BACKENDS[name]()
    if backend.slice_pairs is not None:
        assert type(backend).sweep is not Backend.sweep
    note = backend.sandbox_description()
    assert note.startswith("not needed") != backend.runs_simulator
