"""Confining the simulator: Icarus's programs see only their run's folder and the toolchain.

A netlist is data from a stranger. The constructs that reach outside a
simulation are refused before anything runs (:mod:`appmult.characterize.safety`);
this module is the second line. Every ``ivlpp``, ``iverilog`` and ``vvp``
process the tool starts

- runs in a private scratch folder that holds copies of the given sources,
  with a scrubbed environment (:func:`environment`: a fixed ``PATH``, no
  ``HOME``, no user variables);
- where Debian's bubblewrap (``bwrap``) is installed and works, runs inside
  it: a new mount namespace in which only the toolchain folders (``/usr``,
  ``/lib*``, ``/bin``, the Python installation cocotb runs in) are visible,
  read-only, plus the folders the run needs (the scratch folder read-write,
  the sources read-only); no network, no other processes, and it dies with
  the tool (``--die-with-parent``). Without bubblewrap it runs unconfined,
  and the artifact's provenance says so.

:func:`describe` is what an artifact records as ``sandbox``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["available", "describe", "environment", "wrap"]

#: Folders every sandboxed program may read: the system toolchain and this Python installation.
_TOOLCHAIN = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/alternatives", "/etc/ld.so.cache")


def _python_roots() -> list[str]:
    """The Python installation and virtual environment cocotb's embedded interpreter needs."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sysconfig.get_paths()["stdlib"]}
    roots.update(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    resolved = sorted({Path(root).resolve() for root in roots if root})
    return [str(r) for r in resolved if not any(r != o and r.is_relative_to(o) for o in resolved)]


@functools.cache
def available() -> bool:
    """True when ``bwrap`` is installed and can start a confined process on this machine."""
    if shutil.which("bwrap") is None:
        return False
    probe = subprocess.run(
        [*_bwrap_prefix("/", []), "/bin/true"], capture_output=True, check=False, env=environment()
    )
    return probe.returncode == 0


def describe() -> str:
    """The sandbox the simulator runs in, for an artifact's provenance."""
    if available():
        return "bubblewrap: toolchain read-only, sources read-only, run folder writable, no network"
    return "none (bubblewrap is missing or cannot start here): scrubbed environment, private folder"


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A scrubbed environment: a fixed PATH and locale, plus ``extra``; nothing of the user's."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    env.update(extra or {})
    return env


def _bwrap_prefix(workdir: str, readable: Iterable[str | os.PathLike]) -> list[str]:
    command = ["bwrap", "--die-with-parent", "--unshare-all", "--new-session"]
    for folder in _TOOLCHAIN:  # as named: /lib may be a link to /usr/lib, and the loader wants /lib
        if os.path.exists(folder):
            command += ["--ro-bind", folder, folder]
    command += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    # After the empty /tmp, which would hide a virtual environment or a source under it.
    for path in (*_python_roots(), *readable):
        resolved = os.path.realpath(path)
        if os.path.exists(resolved):
            command += ["--ro-bind", resolved, resolved]
    if workdir != "/":
        command += ["--bind", os.path.realpath(workdir), os.path.realpath(workdir)]
    return [*command, "--chdir", os.path.realpath(workdir)]


def wrap(
    command: Sequence[str], workdir: str | os.PathLike, readable: Iterable[str | os.PathLike] = ()
) -> list[str]:
    """``command`` run confined (module docstring) when bubblewrap works, else ``command`` itself.

    ``workdir`` is the only writable folder; ``readable`` lists further
    files and folders it may read. The program inherits the ``env`` the
    caller passes to :mod:`subprocess` (use :func:`environment`).
    """
    if not available():
        return list(command)
    return [*_bwrap_prefix(str(workdir), readable), *command]
