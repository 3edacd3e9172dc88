"""Mutation testing (``make mutation``, tests/MUTATION.md) on the package as it is installed.

mutmut 3.8 names a mutated module after its file's path below the folder it runs in, and
the tests import ``appmult.lutgen.estimators``. The repository keeps ``lutgen/``,
``characterize/`` and ``rtl/`` at its root and maps them into the ``appmult`` namespace
(``[tool.setuptools] package-dir`` in pyproject.toml), so from the root mutmut would call
``lutgen/estimators.py`` module ``lutgen.estimators``, which no test imports, and stop.

This script therefore lays the package out as the wheel has it (each ``package-dir`` folder
copied to the folder its dotted name gives: ``lutgen/`` to ``appmult/lutgen/``), with
``tests/`` and ``pyproject.toml`` beside it, in ``build/mutation/`` (ignored by git, deleted
first so every run starts fresh), and runs mutmut there. ``[tool.mutmut]`` names the files
to mutate by their staged paths. It then prints the mutants that were not killed and the
counts.

Usage: ``python scripts/mutation.py [--jobs N] [MUTANT ...]``; MUTANT is a mutant name or
an fnmatch pattern of mutmut's (``'appmult.core.operands*'``) restricting the run.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGE = ROOT / "build" / "mutation"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


def stage_installed_layout(root: Path, stage: Path) -> None:
    """Copy the package into ``stage`` in its installed layout, with tests/ and pyproject.toml.

    Parameters
    ----------
    root : Path
        The repository root (holds pyproject.toml).
    stage : Path
        The folder to create; an existing one is deleted first.
    """
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    package_dir = pyproject["tool"]["setuptools"]["package-dir"]
    shutil.rmtree(stage, ignore_errors=True)
    # Parents before children, so that a mapped subpackage lands inside its parent's copy.
    for package, folder in sorted(package_dir.items(), key=lambda item: item[0].count(".")):
        shutil.copytree(root / folder, stage / package.replace(".", "/"), ignore=IGNORE, dirs_exist_ok=True)
    shutil.copytree(root / "tests", stage / "tests", ignore=IGNORE)
    shutil.copy2(root / "pyproject.toml", stage / "pyproject.toml")


def main(argv: list[str] | None = None) -> int:
    """Stage the package, run mutmut in the stage, print survivors and counts; return mutmut's status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1, help="mutants tested at a time (default 1)")
    parser.add_argument("mutants", nargs="*", help="mutant names or fnmatch patterns (default: all)")
    args = parser.parse_args(argv)

    stage_installed_layout(ROOT, STAGE)
    mutmut = str(Path(sys.executable).parent / "mutmut")
    status = subprocess.call([mutmut, "run", "--max-children", str(args.jobs), *args.mutants], cwd=STAGE)
    subprocess.call([mutmut, "results"], cwd=STAGE)
    subprocess.call([mutmut, "export-cicd-stats"], cwd=STAGE)
    stats = STAGE / "mutants" / "mutmut-cicd-stats.json"
    if stats.is_file():
        print(stats.read_text())
    return status


if __name__ == "__main__":
    sys.exit(main())
