"""The built-in design library: ``rtl/manifest.toml`` (``appmult.rtl``) loaded into :class:`Design` records.

The library ships inside the package (package data), so it is found through
:mod:`importlib.resources` wherever appmult is installed.

Each ``[[design]]`` table has:

``name``        artifact name (``artifacts/<name>.h5``)
``files``       Verilog files, relative to ``rtl/``
``top``         top module
``width_a``, ``width_b``   operand widths in bits
``signed``      both operands two's complement (``true``) or unsigned
``family``      design family (exact, truncated, drum, ...)
``parameters``  the family's parameters, passed to the reference model
``model``       name of the reference model in ``appmult.characterize.reference_models``
``citation``    where the design is published
``hws``         default LUT-2D half-window for both operands, or ``hws_a``/``hws_b``
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from appmult.core.errors import ParameterError
from appmult.core.operands import check_width

__all__ = ["RTL_DIR", "Design", "find_design", "load_manifest", "select_designs"]

#: The built-in library folder, ``rtl/`` (``appmult.rtl`` installed): a real directory, Icarus and
#: pyverilog read its files.
RTL_DIR = Path(str(resources.files("appmult.rtl")))


@dataclass(frozen=True)
class Design:
    """One built-in multiplier design. Paths in ``files`` are absolute."""

    name: str
    files: tuple[Path, ...]
    top: str
    width_a: int
    width_b: int
    signed: bool
    family: str
    model: str
    citation: str
    hws_a: int
    hws_b: int
    parameters: dict[str, object] = field(default_factory=dict)


_REQUIRED = ("name", "files", "top", "width_a", "width_b", "signed", "family", "model", "citation")


def load_manifest(path: str | Path | None = None) -> list[Design]:
    """Read the manifest (default ``rtl/manifest.toml``) and check every entry."""
    path = Path(path) if path is not None else RTL_DIR / "manifest.toml"
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ParameterError(f"{path}: design manifest not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{path}: invalid TOML ({exc})") from exc
    designs = []
    for index, entry in enumerate(data.get("design", [])):
        where = f"{path}: design #{index + 1} ({entry.get('name', '?')})"
        missing = [key for key in _REQUIRED if key not in entry]
        if missing:
            raise ParameterError(f"{where}: missing {', '.join(missing)}")
        hws = entry.get("hws", 1)
        designs.append(
            Design(
                name=entry["name"],
                files=tuple((path.parent / f).resolve() for f in entry["files"]),
                top=entry["top"],
                width_a=check_width(entry["width_a"], f"{where}: width_a"),
                width_b=check_width(entry["width_b"], f"{where}: width_b"),
                signed=bool(entry["signed"]),
                family=entry["family"],
                model=entry["model"],
                citation=entry["citation"],
                hws_a=int(entry.get("hws_a", hws)),
                hws_b=int(entry.get("hws_b", hws)),
                parameters=dict(entry.get("parameters", {})),
            )
        )
    names = [d.name for d in designs]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ParameterError(f"{path}: duplicate design names: {', '.join(duplicated)}")
    return designs


def select_designs(names: Iterable[str] = (), path: str | Path | None = None) -> list[Design]:
    """The designs called ``names``, in that order (all designs when none are named).

    The manifest is read once; the error names every unknown design and lists the valid names.
    """
    designs = load_manifest(path)
    names = list(names)
    if not names:
        return designs
    known = {d.name: d for d in designs}
    unknown = [repr(n) for n in names if n not in known]
    if unknown:
        raise ParameterError(f"no built-in design named {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names]


def find_design(name: str, path: str | Path | None = None) -> Design:
    """The design called ``name``; the error lists the valid names."""
    return select_designs([name], path)[0]
