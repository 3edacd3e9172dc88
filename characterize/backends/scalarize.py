"""Scalarizing bit-driven vectors, so Icarus simulates such netlists at normal speed.

Some netlists (the EvoApprox "N-bus" style) declare one wide internal vector
and drive each of its bits separately (``wire [185:0] N; assign N[7] = ...``).
Icarus propagates the whole vector to every reader on each bit update, so
such a netlist runs some 50x slower, or never finishes an 8x8 sweep within
a minute. Renaming each bit ``N[k]`` to a scalar wire ``N__k`` removes the
effect without changing the function.

The same holds for an output port driven bit by bit, and worse when the
netlist reads those bits back (``assign O[10] = sig_613 | O[13];``, as in
EvoApprox's ``mul11u_*`` files): every update of one bit re-evaluates every
reader of any bit. Such a port keeps its name, but its bits become scalar
wires ``O__k`` joined by one ``assign O = {O__msb, ..., O__lsb};``. On an 8x8
gate-level netlist whose low output bits are read back eight times, the
Icarus run took 3.5 s instead of 2.3 s before this rewrite.

The pass is textual and conservative: it rewrites an internal vector only
when it is declared alone as ``wire [msb:lsb] NAME;`` with numeric bounds and
every other use in the file is a constant bit-select ``NAME[k]``; an output
port only when it is declared non-ANSI as ``output [msb:lsb] NAME;`` (and
perhaps ``wire [msb:lsb] NAME;``) and every other use in its module is a
constant bit-select. Line numbers are kept, so messages about the rewritten
file still point at the user's lines.
"""

from __future__ import annotations

import re

__all__ = ["scalarize"]

_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_DECLARATION = re.compile(r"\bwire\s*\[\s*(\d+)\s*:\s*(\d+)\s*\]\s*([A-Za-z_]\w*)\s*;")
_OUTPUT = re.compile(r"\boutput\s*\[\s*(\d+)\s*:\s*(\d+)\s*\]\s*([A-Za-z_]\w*)\s*;")


def scalarize(text: str) -> tuple[str, list[str]]:
    """Return ``text`` with every bit-driven internal vector split into scalar wires.

    Returns the new text, with comments blanked out (newlines kept), and the
    names of the vectors rewritten (empty when nothing qualified).
    """
    text = _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    rewritten = []
    for match in list(_DECLARATION.finditer(text)):
        msb, lsb, name = int(match.group(1)), int(match.group(2)), match.group(3)
        whole_uses = re.findall(rf"(?<![\w$\\]){name}\b(?!\s*\[\s*\d+\s*\])", text)
        if len(whole_uses) != 1 or re.search(rf"\b{name}__\d+\b", text):
            continue  # used as a vector somewhere, or the scalar names are taken
        low, high = min(msb, lsb), max(msb, lsb)
        scalars = ", ".join(f"{name}__{k}" for k in range(low, high + 1))
        text = text.replace(match.group(0), f"wire {scalars};", 1)
        text = re.sub(
            rf"(?<![\w$\\]){name}\s*\[\s*(\d+)\s*\]",
            lambda m, n=name: f"{n}__{m.group(1)}",
            text,
        )
        rewritten.append(name)
    return _scalarize_outputs(text, rewritten)


def _scalarize_outputs(text: str, rewritten: list[str]) -> tuple[str, list[str]]:
    """Split bit-driven output ports (module docstring), one module span at a time."""
    for match in list(_OUTPUT.finditer(text)):
        msb, lsb, name = int(match.group(1)), int(match.group(2)), match.group(3)
        start = text.rfind("module", 0, match.start())
        end = text.find("endmodule", match.end())
        if start < 0 or end < 0:
            continue
        body = text[start:end]
        whole = re.findall(rf"(?<![\w$\\]){name}\b(?!\s*\[\s*\d+\s*\])", body)
        redeclared = len(re.findall(rf"\bwire\s*\[\s*{msb}\s*:\s*{lsb}\s*\]\s*{name}\s*;", body))
        if len(whole) != 2 + redeclared or re.search(rf"\b{name}__\d+\b", body):
            continue  # used whole somewhere besides the port list and its declarations
        low, high = min(msb, lsb), max(msb, lsb)
        body = re.sub(rf"(?<![\w$\\]){name}\s*\[\s*(\d+)\s*\]", lambda m, n=name: f"{n}__{m.group(1)}", body)
        declaration = _OUTPUT.search(body)
        scalars = ", ".join(f"{name}__{k}" for k in range(low, high + 1))
        body = body[: declaration.end()] + f" wire {scalars};" + body[declaration.end() :]
        joined = ", ".join(f"{name}__{k}" for k in range(high, low - 1, -1))
        text = text[:start] + body + f"assign {name} = {{{joined}}}; " + text[end:]
        rewritten.append(name)
    return text, rewritten
