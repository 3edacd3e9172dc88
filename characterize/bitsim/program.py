"""From a flattened netlist to a straight-line program over numbered word slots.

Compiling resolves every net bit to its driver, keeps only the gates the
output needs, folds constants once more (a net may turn out to be driven by
a constant), and orders the gates so each comes after its operands. It fails
with a clear message on a combinational loop (Icarus would oscillate or
hang) and on an output bit that depends on a net nobody drives (Icarus would
give Z or X). Slots are reused once their value is dead, so the number of
slots, not the number of gates, sets the memory per chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

from appmult.characterize.bitsim.elaborate import FlatNetlist
from appmult.characterize.bitsim.gates import ONE, ZERO, Graph, Op
from appmult.core.errors import NetlistError, SimulationError

__all__ = ["Program", "compile_program"]

#: Loop members named in a combinational-loop message.
_LOOP_NAMES = 8


@dataclass(frozen=True)
class Program:
    """Steps ``(op, out_slot, operand_slot, ...)``; an ``INPUT`` step is ``(INPUT, out_slot, index_bit)``.

    Slot 0 holds all-zero words and slot 1 all-one words (the constants);
    ``outputs`` gives the slot of each output bit, least significant first,
    after the last step. ``index_bits`` is the width of the operand-pair index.
    """

    steps: tuple[tuple[int, ...], ...]
    outputs: tuple[int, ...]
    slots: int
    index_bits: int


def compile_program(netlist: FlatNetlist) -> Program:
    """Resolve, check and schedule ``netlist``.

    Raises
    ------
    NetlistError
        A combinational loop, naming the nets on it.
    SimulationError
        An output bit without a defined value, naming the net it depends on.
    """
    graph, outputs = _resolve(netlist)
    _check_defined(netlist, graph, outputs)
    return _schedule(graph, outputs, netlist.index_bits)


def _resolve(netlist: FlatNetlist) -> tuple[Graph, list[int]]:
    """A new graph of the output cone with wires replaced by their drivers (depth-first)."""
    source = netlist.graph
    result = Graph()
    mapped: dict[int, int] = {ZERO: ZERO, ONE: ONE}
    for root in netlist.outputs:
        if root in mapped:
            continue
        path, progress, on_path = [root], [0], {root}
        while path:
            node = path[-1]
            dependencies = source.dependencies(node)
            if progress[-1] < len(dependencies):
                child = dependencies[progress[-1]]
                progress[-1] += 1
                if child in mapped:
                    continue
                if child in on_path:
                    raise _loop_error(netlist, path[path.index(child) :])
                path.append(child)
                progress.append(0)
                on_path.add(child)
                continue
            mapped[node] = result.rebuild(source, node, [mapped[d] for d in dependencies])
            path.pop()
            progress.pop()
            on_path.discard(node)
    return result, [mapped[root] for root in netlist.outputs]


def _loop_error(netlist: FlatNetlist, cycle: list[int]) -> NetlistError:
    labels = netlist.graph.labels
    names = [labels[node] for node in reversed(cycle) if node in labels]
    if len(names) > _LOOP_NAMES:
        shown = " -> ".join(names[:_LOOP_NAMES]) + " -> ..."
    else:
        shown = " -> ".join(names + names[:1])
    return NetlistError(
        f"{netlist.top}: combinational loop through {shown}; the output would never settle (break the loop)"
    )


def _check_defined(netlist: FlatNetlist, graph: Graph, outputs: list[int]) -> None:
    """Raise if an output bit depends on an ``UNDEF`` bit (an undriven net or out-of-range select)."""
    undefined: dict[int, int] = {}
    for node in range(len(graph)):
        if graph.ops[node] == Op.UNDEF:
            undefined[node] = node
        else:
            reached = [undefined[d] for d in graph.dependencies(node) if d in undefined]
            if reached:
                undefined[node] = reached[0]
    for original, node in zip(netlist.outputs, outputs, strict=True):
        if node not in undefined:
            continue
        output = netlist.graph.labels[original]
        if original not in netlist.graph.drivers:
            raise SimulationError(
                f"{netlist.top}: output bit {output} is never driven (Icarus would give Z); "
                "every output bit needs a driver"
            )
        raise SimulationError(
            f"{netlist.top}: output bit {output} depends on {graph.labels[undefined[node]]}, "
            "which has no value (Icarus would give X or Z)"
        )


def _schedule(graph: Graph, outputs: list[int], index_bits: int) -> Program:
    """Steps in node order (a topological order) with slots reused after their last reader."""
    needed = bytearray(len(graph))
    for node in outputs:
        needed[node] = 1
    last_use = dict.fromkeys(outputs, len(graph))
    for node in range(len(graph) - 1, ONE, -1):
        if needed[node]:
            for operand in graph.dependencies(node):
                needed[operand] = 1
                last_use.setdefault(operand, node)
    slot_of = {ZERO: 0, ONE: 1}
    free: list[int] = []
    slots = 2
    steps = []
    for node in range(ONE + 1, len(graph)):
        if not needed[node]:
            continue
        operands = graph.dependencies(node)
        for operand in set(operands):
            if last_use[operand] == node and operand > ONE:
                free.append(slot_of[operand])
        if free:
            slot = free.pop()
        else:
            slot, slots = slots, slots + 1
        slot_of[node] = slot
        if graph.ops[node] == Op.INPUT:
            steps.append((Op.INPUT, slot, graph.args[node][0]))
        else:
            steps.append((graph.ops[node], slot, *(slot_of[operand] for operand in operands)))
    return Program(tuple(steps), tuple(slot_of[node] for node in outputs), slots, index_bits)
