"""Hardware cost by synthesis: a netlist's sources through Yosys, technology-independently.

:func:`synthesize` reads the sources (a :class:`~appmult.characterize.sources.Sources`
bundle), screens them as the simulators' inputs are screened
(:func:`~appmult.characterize.netlist.find_top`: system tasks outside the
allow-list are refused before Yosys runs) and runs :data:`SCRIPT` on a
private copy, confined like Icarus (:mod:`appmult.characterize.sandbox`) and
stopped after ``timeout`` seconds:

- ``read_verilog`` each source; ``synth -flatten -noabc -top TOP``: elaborate,
  flatten the hierarchy, optimize and map to Yosys's internal gates;
- ``abc -g`` :data:`GATES`: map with ABC to a fixed set of simple gates (the
  two-input gates and a 2:1 multiplexer, plus the inverter ABC always adds),
  the same for every design, so counts compare across a library;
- ``opt_clean``; ``stat -json -tech cmos``: cells by type and Yosys's
  static-CMOS transistor estimate; ``write_json``: the mapped netlist, whose
  longest path (:func:`logic_depth`) is the logic depth.

The result is a :class:`~appmult.core.artifact.HardwareCost`, recording the
Yosys that ran and the exact script with the sources as the user named them.
Yosys is Debian's ``yosys`` package (``make setup`` installs it where it
can); the first ``yosys`` on ``PATH`` runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from appmult.characterize import sandbox
from appmult.characterize.netlist import find_top
from appmult.characterize.sources import Placement, Sources
from appmult.core.artifact import HardwareCost
from appmult.core.errors import SynthesisError

__all__ = ["DEFAULT_TIMEOUT", "GATES", "SCRIPT", "find_yosys", "logic_depth", "synthesize"]

#: The gate set ABC maps to (``abc -g``); ABC adds the inverter ($_NOT_) itself.
GATES = "AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX"

#: The Yosys script after the ``read_verilog`` lines; ``{top}`` is the top module.
SCRIPT = f"""\
synth -flatten -noabc -top {{top}}
abc -g {GATES}
opt_clean
tee -q -o stat.json stat -json -tech cmos
write_json netlist.json
"""

#: Seconds before a synthesis is stopped (a 12x12 array multiplier takes a few).
DEFAULT_TIMEOUT = 300.0

#: The cell types the mapped netlist may hold: the gate set, the inverter and a buffer.
_MAPPED = frozenset(f"$_{gate}_" for gate in (*GATES.split(","), "NOT", "BUF"))


def find_yosys() -> Path:
    """The ``yosys`` executable on ``PATH``; :class:`SynthesisError` saying how to install it when missing."""
    found = shutil.which("yosys")
    if found is None:
        raise SynthesisError(
            "yosys not found on PATH: install it (Debian/Ubuntu: `sudo apt-get install yosys`; "
            "`make setup` does where it can); characterization without --cost does not need it"
        )
    return Path(found)


def synthesize(
    sources: Sources | Iterable[str | os.PathLike],
    *,
    top: str | None = None,
    trust: bool = False,
    timeout: float | None = None,
) -> HardwareCost:
    """Synthesize ``sources`` with Yosys and return their hardware cost (module docstring).

    Parameters
    ----------
    sources : the Verilog files of one design, or a :class:`Sources` bundle of them
    top : top module (default: the one module no other instantiates)
    trust : skip the refusal of system tasks and functions outside the allow-list
    timeout : seconds before Yosys is stopped (default :data:`DEFAULT_TIMEOUT`)

    Raises
    ------
    NetlistError
        The sources cannot be read or parsed, or are refused by the screening.
    SynthesisError
        Yosys is missing, rejects the netlist, or runs past ``timeout``; the
        message names the files and carries Yosys's own first error.
    """
    executable = find_yosys()
    bundle = sources if isinstance(sources, Sources) else Sources.read(sources)
    with bundle.placed() as placement, placement.messages():
        module = find_top(placement.paths, top, trust=trust)
        script, recorded, aliases = _script(placement, module.name)
        files = ", ".join(bundle.paths)
        try:
            _run(executable, placement.root, script, files, timeout)
            stats = json.loads((placement.root / "stat.json").read_text())
            netlist = json.loads((placement.root / "netlist.json").read_text())
        except SynthesisError as exc:
            raise SynthesisError(_restore(str(exc), aliases, placement)) from exc
        except (OSError, ValueError) as exc:
            raise SynthesisError(f"{files}: Yosys wrote no readable statistics ({exc})") from exc
        return _cost(stats, netlist, module.name, files, executable, recorded)


def _script(placement: Placement, top: str) -> tuple[str, str, dict[str, str]]:
    """The script run in ``placement.root``, the same script as the user's files name it, and the
    aliases it reads (alias -> the user's path).

    Each source is read through a copy named ``appmult-source-N.v`` beside it,
    so no file name of the user's ever becomes part of a Yosys command.
    Includes are searched in the sources' folders, as Icarus searches them.
    """
    given = dict(zip(placement.paths, placement.sources.paths, strict=True))
    folders = {placed.parent: str(Path(given[placed]).parent) for placed in placement.paths}
    run_flags = "".join(f"-I {folder.relative_to(placement.root)} " for folder in folders)
    user_flags = "".join(f"-I {folder} " for folder in dict.fromkeys(folders.values()))
    aliases, run_lines, user_lines = {}, [], []
    for index, placed in enumerate(placement.paths):
        alias = placed.with_name(f"appmult-source-{index}.v")
        while alias.exists():  # a source of the user's that happens to have that name
            alias = alias.with_name(f"_{alias.name}")
        shutil.copyfile(placed, alias)
        relative = alias.relative_to(placement.root).as_posix()
        aliases[relative] = given[placed]
        run_lines.append(f"read_verilog {run_flags}{relative}\n")
        user_lines.append(f"read_verilog {user_flags}{given[placed]}\n")
    rest = SCRIPT.format(top=top)
    return "".join(run_lines) + rest, "".join(user_lines) + rest, aliases


def _restore(text: str, aliases: dict[str, str], placement: Placement) -> str:
    """``text`` with every alias and placed path replaced by the path the user gave."""
    for alias, given in sorted(aliases.items(), key=lambda item: -len(item[0])):
        text = text.replace(alias, given)
    return placement.restore(text)


def _run(executable: Path, workdir: Path, script: str, files: str, timeout: float | None) -> None:
    """Run ``script`` with Yosys in ``workdir``, confined; SynthesisError with Yosys's first error line."""
    (workdir / "script.ys").write_text(script)
    limit = DEFAULT_TIMEOUT if timeout is None else timeout
    prefix = executable.resolve().parent.parent
    readable = [prefix if prefix not in (Path("/"), Path.home()) else executable.resolve().parent]
    path = f"{executable.parent}{os.pathsep}{sandbox.environment()['PATH']}"
    command = sandbox.wrap([str(executable), "-q", "-s", "script.ys"], workdir, readable=readable)
    try:
        result = subprocess.run(
            command, cwd=workdir, env=sandbox.environment({"PATH": path}), capture_output=True,
            text=True, errors="replace", check=False, timeout=limit,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise SynthesisError(
            f"{files}: Yosys did not finish within {limit:g} s (raise the limit with --timeout)"
        ) from exc
    if result.returncode != 0:
        lines = [line.strip() for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        errors = [line for line in lines if "ERROR" in line] or lines[-1:] or ["no output"]
        raise SynthesisError(f"{files}: Yosys rejects the netlist: {errors[0].replace('ERROR: ', '')}")


def _cost(stats: dict, netlist: dict, top: str, files: str, executable: Path, script: str) -> HardwareCost:
    """The :class:`HardwareCost` of Yosys's statistics and mapped netlist (JSON, as Yosys wrote them).

    ``yosys`` records the version line Yosys wrote into its statistics and the executable that ran.
    """
    design = stats.get("design") or next(iter(stats["modules"].values()))
    by_type = {str(k): int(v) for k, v in sorted(design["num_cells_by_type"].items())}
    unmapped = sorted(set(by_type) - _MAPPED)
    if unmapped:
        raise SynthesisError(
            f"{files}: the synthesized netlist holds {', '.join(unmapped)}, not only gates; "
            "a multiplier here is combinational (no flip-flops, latches or undefined modules)"
        )
    return HardwareCost(
        cells_by_type=by_type,
        cells=int(design["num_cells"]),
        transistors=int(design["estimated_num_transistors"]),
        depth=logic_depth(netlist["modules"][top], files),
        yosys=f"{stats.get('creator', 'Yosys (version unknown)')} at {executable}",
        script=script,
    )


def logic_depth(module: dict, where: str = "netlist") -> int:
    """The most cells on any path from an input or constant to an output of a combinational netlist.

    ``module`` is one module of Yosys's JSON netlist (``write_json``): its
    ``ports`` and ``cells`` with ``port_directions`` and ``connections``
    (lists of bit numbers; constants are strings). A netlist without cells
    has depth 0. Raises :class:`SynthesisError` naming ``where`` for a
    combinational loop.
    """
    cells = module.get("cells", {})
    driver: dict[int, str] = {}
    for name, cell in cells.items():
        for port, direction in cell["port_directions"].items():
            if direction == "output":
                driver.update((bit, name) for bit in cell["connections"][port] if isinstance(bit, int))
    fanin = {
        name: {
            driver[bit]
            for port, direction in cell["port_directions"].items()
            if direction == "input"
            for bit in cell["connections"][port]
            if bit in driver
        }
        for name, cell in cells.items()
    }
    fanout: dict[str, list[str]] = {name: [] for name in cells}
    for name, inputs in fanin.items():
        for cell in inputs:
            fanout[cell].append(name)
    waiting = {name: len(inputs) for name, inputs in fanin.items()}
    ready = [name for name, count in waiting.items() if count == 0]
    levels = dict.fromkeys(ready, 1)
    while ready:  # in topological order: a cell once all its drivers have their level
        name = ready.pop()
        for user in fanout[name]:
            levels[user] = max(levels.get(user, 0), levels[name] + 1)
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    looped = sorted(name for name, count in waiting.items() if count > 0)
    if looped:
        raise SynthesisError(
            f"{where}: the synthesized netlist has a combinational loop ({len(looped)} cells on or behind it)"
        )
    outputs = [
        bit
        for port in module.get("ports", {}).values()
        if port["direction"] != "input"
        for bit in port["bits"]
    ]
    return max((levels[driver[bit]] for bit in outputs if bit in driver), default=0)
