"""What a user installs: the wheel in a fresh virtual environment, used from another directory.

The wheel is built from this checkout and installed (with its dependencies,
from the package index) into a temporary virtual environment; every command
then runs in an empty directory with a scrubbed environment, so nothing of
the clone can be imported or read by accident.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.install


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The built wheel, and a virtual environment with it installed."""
    root = tmp_path_factory.mktemp("install")
    wheels = root / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(REPOSITORY)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("appmult-*.whl")
    environment = root / "venv"
    venv.create(environment, with_pip=True)
    subprocess.run(
        [str(environment / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )
    workdir = root / "elsewhere"
    workdir.mkdir()
    return {"wheel": wheel, "bin": environment / "bin", "cwd": workdir}


def _run(installed: dict[str, Path], *command: str) -> str:
    """Run ``command`` from the empty directory with only the venv's bin and the system tools on PATH."""
    env = {
        "PATH": f"{installed['bin']}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
        "HOME": str(installed["cwd"]),
        "LANG": "C.UTF-8",
    }
    result = subprocess.run(command, cwd=installed["cwd"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_wheel_installs_one_top_level_package_with_the_library(installed: dict[str, Path]) -> None:
    names = zipfile.ZipFile(installed["wheel"]).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"appmult"}
    assert "appmult/rtl/manifest.toml" in names
    assert "appmult/rtl/mul8u_drum4.v" in names


def test_installed_tool_works_outside_the_clone(installed: dict[str, Path]) -> None:
    """--help, list, characterize, lutgen, export and import appmult, all from the installed copy."""
    assert "characterize" in _run(installed, "appmult", "--help")
    listing = _run(installed, "appmult", "list")
    assert "mul8u_drum4" in listing and "mul12u_exact" in listing
    _run(installed, "appmult", "characterize", "--library", "--design", "mul6u_trunc4", "-o", "arts", "-q")
    _run(installed, "appmult", "lutgen", "arts/mul6u_trunc4.h5", "-q")
    exported = _run(installed, "appmult", "export", "arts/mul6u_trunc4.h5", "--to", "npz")
    assert exported.strip().endswith(".npz")
    where = _run(
        installed,
        "python",
        "-c",
        "import numpy, appmult; from appmult.core.manifest import find_design; "
        "from appmult.characterize.reference_models import reference_product; "
        "art = appmult.load('arts/mul6u_trunc4.h5'); print(appmult.__file__); print(sorted(art.gradients)); "
        "print(numpy.array_equal(art.product, reference_product(find_design('mul6u_trunc4'))))",
    ).split("\n")
    assert str(installed["bin"].parent) in where[0] and str(REPOSITORY) not in where[0]
    assert where[1] == "['lut1d', 'lut2d', 'ste']"
    assert where[2] == "True"  # the installed library's netlist against its reference model
