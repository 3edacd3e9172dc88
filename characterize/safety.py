"""A netlist is data, not a program: refusing what could reach outside its own simulation.

Before anything is simulated, every module of every given file (helper
modules and cell libraries included, with the code of generate blocks,
functions, tasks and initial blocks, after macro expansion) is walked and
each call of a system task or function is checked against an allow-list of
pure ones, which compute a value from their arguments and nothing else:

``$signed``, ``$unsigned``
    reinterpret a value's signedness (no effect outside the expression);
``$clog2``
    the ceiling of log2 of a constant (used for widths and parameters).

Everything else is refused, naming ``file:line`` and the call: file and
memory I/O (``$fopen``, ``$fwrite``, ``$fdisplay``, ``$readmemh``,
``$readmemb``, ``$dumpfile``, ``$dumpvars``, ...), ``$system``, output
(``$display``), time and randomness (``$time``, ``$random``) and control
(``$finish``, ``$stop``), none of which a multiplier's function needs.
Includes that resolve outside the sources' directories are refused by the
preprocessor (:mod:`appmult.characterize.preprocess`). ``--trust-netlist``
skips this check for a file the user trusts; the simulator still runs in its
sandbox (:mod:`appmult.characterize.sandbox`).
"""

from __future__ import annotations

from collections.abc import Iterable

from appmult.characterize.verilog import ModuleSource
from appmult.core.errors import NetlistError

__all__ = ["ALLOWED_SYSTEM_CALLS", "TRUST_FLAG", "check_safety"]

#: The system functions a netlist may call: pure functions of their arguments (module docstring).
ALLOWED_SYSTEM_CALLS = frozenset({"signed", "unsigned", "clog2"})

#: The command-line flag that skips the check.
TRUST_FLAG = "--trust-netlist"


def _system_calls(node: object) -> Iterable[object]:
    """Every ``SystemCall`` node below ``node`` (tasks and functions alike), in source order."""
    pending = [node]
    while pending:
        current = pending.pop()
        if type(current).__name__ == "SystemCall":
            yield current
        pending.extend(reversed(current.children()))


def check_safety(modules: Iterable[ModuleSource]) -> None:
    """Raise :class:`NetlistError` for the first module that calls a system task or function
    outside the allow-list.

    The message names ``file:line`` of the first such call, every such call
    of the module, and the flag that skips the check.
    """
    for module in modules:
        refused = [
            call for call in _system_calls(module.definition) if call.syscall not in ALLOWED_SYSTEM_CALLS
        ]
        if refused:
            first = min(refused, key=lambda call: call.lineno)
            names = ", ".join(dict.fromkeys(f"${call.syscall}" for call in refused))
            raise NetlistError(
                f"{module.where(first)}: {names} in module {module.name} could act outside the simulation "
                f"(only ${', $'.join(sorted(ALLOWED_SYSTEM_CALLS))} are allowed); the netlist is refused; "
                f"if you trust this file, pass {TRUST_FLAG}"
            )
