"""Flattening a multiplier's module hierarchy into one gate graph.

The top module is elaborated recursively through its instances: each
instance gets a scope whose nets are named hierarchically (``u1.sum[3]``),
parameters take their defaults or the instance's overrides, and port
connections become continuous assignments (an input port is driven by the
parent's expression, an output port drives the parent's left-hand side).
Accepted: ``input``/``output``/``wire`` declarations (with initializers),
``parameter``/``localparam``, continuous assigns, instances of modules from
the given files with named or positional ports, and the gate primitives
``and nand or nor xor xnor buf not``. Anything else raises
:class:`~appmult.core.errors.UnsupportedConstruct` naming the construct and its
``file:line``.

The operands drive the top module's inputs from the operand-pair index (see
:mod:`appmult.characterize.bitsim.evaluate`): pair ``p`` has ``a``'s bit
pattern ``p >> width_b`` and ``b``'s ``p & (2**width_b - 1)``; reading the
patterns as signed or unsigned values comes later
(:mod:`appmult.characterize.signedness`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from appmult.characterize.bitsim.arithmetic import extend, reduce_bits
from appmult.characterize.bitsim.expressions import Expressions, constant_bits
from appmult.characterize.bitsim.gates import Graph
from appmult.characterize.bitsim.scope import Scope, Vector, unsupported
from appmult.characterize.netlist import Interface
from appmult.characterize.verilog import ModuleSource
from appmult.core.errors import NetlistError

__all__ = ["FlatNetlist", "elaborate"]

#: Gate primitives: (gate across the inputs, inverted output). ``buf``/``not`` have one input.
_PRIMITIVES = {
    "and": (Graph.and_, False),
    "nand": (Graph.and_, True),
    "or": (Graph.or_, False),
    "nor": (Graph.or_, True),
    "xor": (Graph.xor, False),
    "xnor": (Graph.xor, True),
    "buf": (None, False),
    "not": (None, True),
}

#: Primitives with Z outputs or pull strengths, which bitsim does not evaluate.
_TRISTATE_PRIMITIVES = frozenset({"bufif0", "bufif1", "notif0", "notif1", "pullup", "pulldown"})

#: Module items and declarations bitsim does not evaluate, as named in messages.
_UNSUPPORTED_ITEMS = {
    "Always": "`always` blocks",
    "AlwaysComb": "`always_comb` blocks",
    "AlwaysFF": "`always_ff` blocks",
    "AlwaysLatch": "`always_latch` blocks",
    "Initial": "`initial` blocks",
    "GenerateStatement": "`generate` blocks",
    "Function": "functions",
    "Task": "tasks",
    "Reg": "`reg` variables",
    "Integer": "`integer` variables",
    "Real": "`real` variables",
    "Genvar": "`genvar`s",
    "Inout": "`inout` ports",
    "Tri": "`tri` nets",
    "Supply": "supply nets",
}

_NET_KINDS = {"Input": "input", "Output": "output", "Wire": None}


@dataclass(frozen=True)
class FlatNetlist:
    """The flattened multiplier: gates, the output port's bits and the index width.

    ``outputs`` are the top output's net bits, least significant first;
    ``index_bits`` is ``width_a + width_b``, the width of the operand-pair index.
    """

    top: str
    graph: Graph
    outputs: tuple[int, ...]
    index_bits: int


def elaborate(modules: dict[str, ModuleSource], interface: Interface) -> FlatNetlist:
    """Flatten ``interface.top`` and everything it instantiates into one :class:`Graph`.

    Raises :class:`~appmult.core.errors.UnsupportedConstruct` for constructs
    outside the accepted subset and :class:`~appmult.core.errors.NetlistError`
    for netlists that are wrong (an undeclared name, a missing module, a
    port that does not exist).
    """
    graph = Graph()
    elaborator = _Elaborator(graph, modules)
    top = elaborator.instantiate(modules[interface.top], "", [], ())
    width_b = interface.b.width
    elaborator.drive_operand(top, interface.a.name, width_b)
    elaborator.drive_operand(top, interface.b.name, 0)
    outputs = top.symbols[interface.out.name].bits
    return FlatNetlist(interface.top, graph, outputs, interface.a.width + width_b)


@dataclass(frozen=True)
class _Override:
    """A parameter value given by an instance (``#(.W(8))``), evaluated in the parent's scope."""

    name: str | None
    value: object
    scope: Scope


class _Elaborator:
    """Builds the gates of module instances into one graph, remembering where each net is driven."""

    def __init__(self, graph: Graph, modules: dict[str, ModuleSource]) -> None:
        self.graph = graph
        self.modules = modules
        self.expressions = Expressions(graph)
        self._driven_at: dict[int, str] = {}

    def drive_operand(self, top: Scope, port: str, first_bit: int) -> None:
        """Drive input ``port`` with its bit pattern, bits ``first_bit..`` of the pair index."""
        vector = top.symbols[port]
        bits = [self.graph.input(first_bit + k) for k in range(vector.width)]
        self._drive(list(vector.bits), bits, f"{top.where()} (operand {port})")

    def instantiate(
        self, module: ModuleSource, prefix: str, overrides: list[_Override], stack: tuple[str, ...]
    ) -> Scope:
        """Elaborate one instance of ``module``; its nets are named ``prefix + name``."""
        scope = Scope(module, prefix)
        _check_items(scope)
        self._parameters(scope, overrides)
        self._nets(scope)
        for item in _statements(module):
            kind = type(item).__name__
            if kind == "Assign":
                self._assign(scope, item)
            elif kind == "InstanceList":
                for instance in item.instances:
                    self._instance(scope, instance, stack + (module.name,))
        return scope

    # -- declarations -----------------------------------------------------------------------

    def _parameters(self, scope: Scope, overrides: list[_Override]) -> None:
        kinds = ("Parameter", "Localparam")
        declared = [node for node in _declarations(scope.module) if type(node).__name__ in kinds]
        overridable = [node.name for node in declared if type(node).__name__ == "Parameter"]
        given: dict[str, _Override] = {}
        for position, override in enumerate(overrides):
            name = override.name
            if name is None:
                if position >= len(overridable):
                    raise NetlistError(
                        f"{override.scope.where(override.value)}: too many parameter values for "
                        f"module {scope.module.name}"
                    )
                name = overridable[position]
            if name not in overridable:
                raise NetlistError(
                    f"{override.scope.where(override.value)}: module {scope.module.name} has no "
                    f"parameter {name}"
                )
            given[name] = override
        for node in declared:
            override = given.get(node.name)
            source_scope, expression = (override.scope, override.value) if override else (scope, node.value)
            value = source_scope.constant(expression, f"the value of parameter {node.name}")
            if node.width is not None:
                msb, lsb = self._range(scope, node.width)
                signed = bool(node.signed)
            else:
                width, signed = self.expressions.size(source_scope, expression)
                msb, lsb = width - 1, 0
            bits = tuple(constant_bits(value, abs(msb - lsb) + 1))
            vector = Vector(scope.prefix + node.name, bits, msb, lsb, signed, is_net=False)
            scope.symbols[node.name] = vector
            scope.values[node.name] = _integer(bits, signed)

    def _nets(self, scope: Scope) -> None:
        """Declare every net: ports, wires, and implicit one-bit nets of port connections."""
        ranges: dict[str, tuple[int, int] | None] = {}
        signed: dict[str, bool] = {}
        for node in _declarations(scope.module):
            kind = type(node).__name__
            if kind in _UNSUPPORTED_ITEMS:
                raise unsupported(scope.where(node), _UNSUPPORTED_ITEMS[kind])
            if kind not in _NET_KINDS:
                continue
            if node.dimensions is not None:
                raise unsupported(scope.where(node), "arrays of nets")
            declared = self._range(scope, node.width) if node.width is not None else None
            if ranges.get(node.name) is not None and declared is not None and declared != ranges[node.name]:
                raise NetlistError(f"{scope.where(node)}: {node.name} is declared with two different ranges")
            ranges[node.name] = declared or ranges.get(node.name)
            signed[node.name] = signed.get(node.name, False) or bool(node.signed)
            if _NET_KINDS[kind] is not None:
                scope.ports[node.name] = _NET_KINDS[kind]
        for name in _implicit_nets(scope.module, ranges):
            ranges[name], signed[name] = None, False
        for name, bounds in ranges.items():
            if name in scope.symbols:
                raise NetlistError(f"{scope.where()}: {name} is declared both as a parameter and a net")
            msb, lsb = bounds or (0, 0)
            shape = Vector(scope.prefix + name, (), msb, lsb, signed[name], scalar=bounds is None)
            bits = tuple(self.graph.wire(shape.bit_label(p)) for p in range(abs(msb - lsb) + 1))
            scope.symbols[name] = replace(shape, bits=bits)

    def _range(self, scope: Scope, width) -> tuple[int, int]:
        return scope.constant(width.msb, "a range bound"), scope.constant(width.lsb, "a range bound")

    # -- statements ---------------------------------------------------------------------------

    def _assign(self, scope: Scope, item) -> None:
        if item.ldelay is not None or item.rdelay is not None:
            raise unsupported(scope.where(item), "delays")
        targets = self.expressions.targets(scope, item.left)
        bits = self.expressions.assigned(scope, item.right, len(targets))
        self._drive(targets, bits, scope.where(item))

    def _drive(self, targets: list[int], bits: list[int], where: str) -> None:
        """Connect net bits ``targets`` to ``bits`` (a statement at ``where``)."""
        for wire, bit in zip(targets, bits, strict=True):
            if wire in self._driven_at:
                detail = f"{self.graph.labels[wire]} is also driven at {self._driven_at[wire]}; "
                raise unsupported(where, "nets with several drivers", detail)
            self.graph.drive(wire, bit)
            self._driven_at[wire] = where

    def _instance(self, scope: Scope, instance, stack: tuple[str, ...]) -> None:
        where = scope.where(instance)
        if instance.array is not None:
            raise unsupported(where, "arrays of instances")
        if instance.module in _PRIMITIVES:
            self._primitive(scope, instance)
            return
        if instance.module in _TRISTATE_PRIMITIVES:
            raise unsupported(where, f"the `{instance.module}` primitive")
        definition = self.modules.get(instance.module)
        if definition is None:
            raise NetlistError(
                f"{where}: module {instance.module} (instance {instance.name}) is defined in none of "
                "the given files; add the file that defines it"
            )
        if instance.module in stack:
            raise NetlistError(f"{where}: module {instance.module} instantiates itself")
        overrides = [_Override(p.paramname, p.argname, scope) for p in instance.parameterlist or ()]
        child = self.instantiate(definition, f"{scope.prefix}{instance.name}.", overrides, stack)
        for port, argument in self._connections(scope, instance, definition):
            if argument is None:
                continue
            direction = child.ports.get(port)
            if direction is None:
                raise NetlistError(f"{definition.where()}: port {port} of {definition.name} has no direction")
            vector = child.symbols[port]
            if direction == "input":
                bits = self.expressions.assigned(scope, argument, vector.width)
                self._drive(list(vector.bits), bits, where)
            else:
                targets = self.expressions.targets(scope, argument)
                self._drive(targets, extend(list(vector.bits), len(targets), vector.signed), where)

    def _connections(self, scope: Scope, instance, definition: ModuleSource) -> Iterator[tuple[str, object]]:
        """(port name, argument expression or None) of each connection of ``instance``."""
        ports = [_port_name(entry) for entry in definition.definition.portlist.ports]
        where = scope.where(instance)
        for position, connection in enumerate(instance.portlist):
            name = connection.portname
            if name is None:
                if position >= len(ports):
                    raise NetlistError(
                        f"{where}: instance {instance.name} has more connections than "
                        f"module {definition.name} has ports ({len(ports)})"
                    )
                name = ports[position]
            elif name not in ports:
                raise NetlistError(f"{where}: module {definition.name} has no port {name}")
            yield name, connection.argname

    def _primitive(self, scope: Scope, instance) -> None:
        """``and (y, a, b, ...)``, ``not (y1, y2, a)``: outputs first, one bit each."""
        where = scope.where(instance)
        if instance.parameterlist:
            raise unsupported(where, "delays")
        gate, inverted = _PRIMITIVES[instance.module]
        arguments = [connection.argname for connection in instance.portlist]
        if any(c.portname is not None for c in instance.portlist) or None in arguments or len(arguments) < 2:
            raise NetlistError(f"{where}: gate {instance.name} needs positional output and input connections")
        outputs, inputs = (arguments[:-1], arguments[-1:]) if gate is None else (arguments[:1], arguments[1:])
        bits = [self.expressions.assigned(scope, argument, 1)[0] for argument in inputs]
        result = reduce_bits(self.graph, gate, bits) if gate is not None else bits[0]
        if inverted:
            result = self.graph.not_(result)
        for argument in outputs:
            targets = self.expressions.targets(scope, argument)
            self._drive(targets, extend([result], len(targets), False), where)


def _check_items(scope: Scope) -> None:
    """Raise for a module item other than declarations, assigns and instances.

    Checked before the declarations, so a process (``always``) is named
    rather than the ``reg`` it drives.
    """
    for item in scope.module.definition.items:
        kind = type(item).__name__
        if kind not in ("Decl", "Assign", "InstanceList", "Pragma"):
            raise unsupported(scope.where(item), _UNSUPPORTED_ITEMS.get(kind, f"`{kind}` items"))


def _statements(module: ModuleSource) -> Iterator[object]:
    """Module items, with the initializer assigns of ``wire x = ...;`` declarations."""
    for item in module.definition.items:
        yield item
        if type(item).__name__ == "Decl":
            yield from (node for node in item.list if type(node).__name__ == "Assign")


def _declarations(module: ModuleSource) -> Iterator[object]:
    """Declared names in source order: the ANSI header's parameters and ports, then the body's."""
    definition = module.definition
    for decl in getattr(definition.paramlist, "params", ()) or ():
        yield from decl.list
    for entry in definition.portlist.ports:
        if type(entry).__name__ == "Ioport":
            yield from (node for node in (entry.first, entry.second) if node is not None)
    for item in definition.items:
        if type(item).__name__ == "Decl":
            yield from item.list


def _implicit_nets(module: ModuleSource, declared: dict) -> list[str]:
    """Undeclared names used as whole port connections or assignment targets (implicit wires)."""
    names = []
    for item in _statements(module):
        kind = type(item).__name__
        if kind == "Assign":
            candidates = [item.left.var]
        elif kind == "InstanceList":
            candidates = [c.argname for instance in item.instances for c in instance.portlist]
        else:
            continue
        for node in candidates:
            if type(node).__name__ == "Identifier" and node.name not in declared and node.name not in names:
                names.append(node.name)
    return names


def _port_name(entry) -> str:
    return entry.first.name if type(entry).__name__ == "Ioport" else entry.name


def _integer(bits: tuple[int, ...], signed: bool) -> int:
    """The integer constant bits stand for (two's complement when ``signed``).

    Relies on the constant nodes' ids being their values (``ZERO == 0``, ``ONE == 1``).
    """
    value = sum(bit << k for k, bit in enumerate(bits))
    if signed and bits and bits[-1]:
        value -= 1 << len(bits)
    return value
