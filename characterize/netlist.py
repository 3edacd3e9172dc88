"""Finding a multiplier's top module and its two operand ports and one output port.

Operand ``a`` is the first input in the module's port list and ``b`` the
second; the output may have any name (``O``, ``Z``, ``P``, ``Y``, ...). Both
ANSI (``module m(input [7:0] a, ...)``) and non-ANSI port lists
(``input [7:0] A, B;``) are read, with widths given by constant expressions
over the module's parameters.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from appmult.characterize.safety import check_safety
from appmult.characterize.verilog import ModuleSource, constant_value, parse_modules
from appmult.core.errors import NetlistError, ParameterError
from appmult.core.operands import check_width

__all__ = ["Interface", "Port", "discover", "find_top", "MAX_OUTPUT_WIDTH"]

#: Outputs are read as 32-bit words; wider ones cannot be stored in int32 anyway.
MAX_OUTPUT_WIDTH = 32


@dataclass(frozen=True)
class Port:
    """A port of the top module. ``signed`` is the ``signed`` keyword of its declaration."""

    name: str
    direction: str
    width: int
    signed: bool = False


@dataclass(frozen=True)
class Interface:
    """The multiplier to characterize: sources, top module, operand ports and output port.

    ``signed_a``/``signed_b`` say how each operand is read (two's complement
    or unsigned); the output is read as two's complement when either is.
    """

    sources: tuple[Path, ...]
    top: str
    a: Port
    b: Port
    out: Port
    signed_a: bool
    signed_b: bool

    @property
    def output_signed(self) -> bool:
        return self.signed_a or self.signed_b


def _parameters(module: ModuleSource) -> dict[str, int]:
    """Default values of the module's parameters and localparams, in declaration order."""
    values: dict[str, int] = {}
    definition = module.definition
    declarations = list(getattr(definition.paramlist, "params", ()) or ())
    declarations += [item for item in definition.items if type(item).__name__ == "Decl"]
    for decl in declarations:
        for node in getattr(decl, "list", ()):
            if type(node).__name__ in ("Parameter", "Localparam"):
                try:
                    values[node.name] = constant_value(node.value, values)
                except ValueError:
                    continue  # a parameter that is not an integer constant cannot size a port
    return values


def _ports(module: ModuleSource) -> list[Port]:
    """The module's ports in port-list order, with evaluated widths."""
    definition = module.definition
    parameters = _parameters(module)
    declared: dict[str, object] = {}
    for item in definition.items:
        if type(item).__name__ == "Decl":
            for node in item.list:
                if type(node).__name__ in ("Input", "Output", "Inout"):
                    declared[node.name] = node
    ports = []
    for entry in definition.portlist.ports:
        node = entry.first if type(entry).__name__ == "Ioport" else declared.get(entry.name)
        if node is None:
            raise NetlistError(
                f"{module.where(entry)}: port {entry.name} of {module.name} has no direction declared"
            )
        width = 1
        if node.width is not None:
            try:
                msb = constant_value(node.width.msb, parameters)
                lsb = constant_value(node.width.lsb, parameters)
            except ValueError as exc:
                raise NetlistError(
                    f"{module.where(node)}: cannot evaluate the width of port {node.name} ({exc})"
                ) from exc
            width = abs(msb - lsb) + 1
        direction = type(node).__name__.lower()
        ports.append(Port(node.name, direction, width, bool(getattr(node, "signed", False))))
    return ports


def _instantiated(module: ModuleSource) -> set[str]:
    """Names of the modules that ``module`` instantiates."""
    names = set()
    for item in module.definition.items:
        if type(item).__name__ == "InstanceList":
            names.add(item.module)
    return names


#: Verilog gate primitives, which are instantiated like modules but need no definition.
_PRIMITIVES = frozenset(
    "and nand or nor xor xnor buf not bufif0 bufif1 notif0 notif1 pullup pulldown".split()
)


def _check_hierarchy(modules: dict[str, ModuleSource], top: ModuleSource) -> None:
    """Raise if a module reachable from ``top`` instantiates one defined in no given file."""
    seen, pending = set(), [top]
    while pending:
        module = pending.pop()
        seen.add(module.name)
        for name in _instantiated(module) - _PRIMITIVES:
            if name not in modules:
                raise NetlistError(
                    f"{module.path}: module {module.name} instantiates {name}, which none of the "
                    "given files defines; add the file that defines it"
                )
            if name not in seen:
                pending.append(modules[name])


def _choose_top(modules: dict[str, ModuleSource], top: str | None, files: str) -> ModuleSource:
    if not modules:
        raise NetlistError(f"{files}: no module definitions found")
    if top is not None:
        if top not in modules:
            raise NetlistError(
                f"{files}: top module {top!r} not found; modules defined: {', '.join(sorted(modules))}"
            )
        return modules[top]
    used = set().union(*(_instantiated(m) for m in modules.values()))
    roots = [name for name in modules if name not in used]
    if len(roots) != 1:
        names = ", ".join(sorted(roots or modules))
        raise NetlistError(f"{files}: cannot tell the top module (candidates: {names}); name it with --top")
    return modules[roots[0]]


def find_top(
    sources: Iterable[str | os.PathLike], top: str | None = None, *, trust: bool = False
) -> ModuleSource:
    """The top module of ``sources``, after the safety screening; whatever its ports.

    Parses every file, refuses system tasks and functions outside the
    allow-list unless ``trust`` (:mod:`appmult.characterize.safety`), picks
    ``top`` (by default the one module no other instantiates) and checks that
    every module it reaches is defined. Raises :class:`NetlistError` naming
    the file.
    """
    paths = [Path(s) for s in sources]
    if not paths:
        raise NetlistError("no Verilog files given")
    modules = parse_modules(paths)
    if not trust:
        check_safety(modules.values())
    module = _choose_top(modules, top, ", ".join(map(str, paths)))
    _check_hierarchy(modules, module)
    return module


def discover(
    sources: Iterable[str | os.PathLike],
    top: str | None = None,
    signed: bool | None = None,
    *,
    trust: bool = False,
) -> Interface:
    """Find the multiplier in ``sources``.

    Parameters
    ----------
    sources : paths of Verilog files (the top and every module it instantiates)
    top : name of the top module; by default the one module no other instantiates
    signed : read both operands as two's complement (True) or unsigned (False);
        by default each operand follows the ``signed`` keyword of its port
    trust : skip the check that refuses system tasks and functions outside
        the allow-list (:mod:`appmult.characterize.safety`)

    Raises
    ------
    NetlistError
        Missing file, syntax error, a construct that could act outside the
        simulation, missing or ambiguous top, not exactly two inputs and one
        output, an operand wider than 16 bits or an output wider than 32 bits.
        (Operands of 13..16 bits are accepted: they are characterized by
        streaming, :mod:`appmult.characterize.streaming`.)
        The message names the file.
    """
    paths = tuple(Path(s) for s in sources)
    module = find_top(paths, top, trust=trust)
    ports = _ports(module)
    inputs = [p for p in ports if p.direction == "input"]
    outputs = [p for p in ports if p.direction == "output"]
    others = [p for p in ports if p.direction not in ("input", "output")]
    if len(inputs) != 2 or len(outputs) != 1 or others:
        listing = ", ".join(f"{p.direction} {p.name}[{p.width}]" for p in ports) or "none"
        raise NetlistError(
            f"{module.where()}: module {module.name} must have exactly two inputs (operands a, b) "
            f"and one output (the product); it has {listing}"
        )
    a, b = inputs
    (out,) = outputs
    for port, role in ((a, "a"), (b, "b")):
        try:
            check_width(port.width, f"operand {role} (input {port.name})", streamed=True)
        except ParameterError as exc:
            raise NetlistError(f"{module.where()}: {exc}") from exc
    if out.width > MAX_OUTPUT_WIDTH:
        raise NetlistError(
            f"{module.where()}: output {out.name} is {out.width} bits wide; "
            f"at most {MAX_OUTPUT_WIDTH} bits can be tabulated"
        )
    signed_a = a.signed if signed is None else signed
    signed_b = b.signed if signed is None else signed
    return Interface(paths, module.name, a, b, out, signed_a, signed_b)
