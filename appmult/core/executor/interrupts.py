"""Ctrl-C and SIGTERM during a session: noticed at once, acted on where it is safe.

While a session is open, SIGINT and SIGTERM run :func:`_on_signal`, which
only records the signal while jobs run elsewhere: the client checks
(:func:`check`) at least every :data:`POLL` seconds, between outcomes, so a
signal never lands in the middle of writing an output or inside a callback
of Dask's (where Python would drop the exception with a traceback on
stderr), nor while a session starts (an exception raised inside ``fork``'s
callbacks is dropped with a traceback; a Dask cluster cut short could not be
closed): :mod:`.cluster` watches :func:`stopping` while its cluster starts.
Only while a job runs in the client itself (:data:`raise_at_once`) does the
handler raise :class:`KeyboardInterrupt` at once, which stops a simulator
there (``subprocess.run`` kills its child on any exception). A session may
also act at once through :func:`on_stop`: the local pool kills its workers,
so that the client, if it is writing an output, has the machine to itself.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator

__all__ = [
    "POLL",
    "SIGNALS",
    "check",
    "handling_signals",
    "last_signal",
    "on_stop",
    "raise_at_once",
    "stopping",
]

#: Seconds between checks for a signal while the client waits for jobs.
POLL = 0.2

#: The signals that stop a run: Ctrl-C and a polite kill (Slurm's time limit, systemd, ``kill``).
SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: Set by the handler of an open session; cleared when the next session opens.
_STOP = threading.Event()
#: Whether the handler raises at once: only while a job runs in the client.
raise_at_once = threading.Event()
#: The signal that stopped the last session (SIGINT when none did).
_received = [signal.SIGINT]
#: Run by the handler when a signal arrives (:func:`on_stop`).
_actions: list[Callable[[], None]] = []


def _on_signal(signum: int, _frame: object) -> None:
    _received[0] = signum
    _STOP.set()
    for action in list(_actions):
        action()
    if raise_at_once.is_set():
        raise KeyboardInterrupt


@contextlib.contextmanager
def on_stop(action: Callable[[], None]) -> Iterator[None]:
    """Run ``action()`` from the handler when a signal arrives during the block (it must not raise)."""
    _actions.append(action)
    try:
        yield
    finally:
        _actions.remove(action)


def stopping() -> bool:
    """Whether a signal asked the open session to stop."""
    return _STOP.is_set()


def check() -> None:
    """Raise KeyboardInterrupt when a signal asked the open session to stop."""
    if _STOP.is_set():
        raise KeyboardInterrupt


def last_signal() -> int:
    """The signal that stopped the last session: ``signal.SIGINT`` or ``signal.SIGTERM``."""
    return _received[0]


@contextlib.contextmanager
def handling_signals() -> Iterator[None]:
    """Route SIGINT and SIGTERM to :func:`_on_signal` for the block (main thread only), then restore."""
    _STOP.clear()
    _received[0] = signal.SIGINT
    raise_at_once.clear()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {signum: signal.signal(signum, _on_signal) for signum in SIGNALS}
    try:
        yield
    finally:
        raise_at_once.clear()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
