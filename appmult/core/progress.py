"""Progress reporting for long work, on stderr.

Library functions take an optional ``progress`` callable receiving the
fraction done (0.0 .. 1.0); they never print. The command line passes a
:class:`StderrProgress` unless ``--quiet`` is given.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["ProgressCallback", "StderrProgress"]

ProgressCallback = Callable[[float], None]


class StderrProgress:
    """Prints ``label: 42% (3.1 s)`` at most every ``interval`` seconds.

    On a terminal the line is redrawn in place; otherwise one line is written
    per update so logs stay readable.
    """

    def __init__(self, label: str, interval: float = 0.5, stream: TextIO | None = None) -> None:
        self.label = label
        self.interval = interval
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.monotonic()
        self._last = -float("inf")
        self._tty = getattr(self.stream, "isatty", lambda: False)()

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last < self.interval:
            return
        self._last = now
        percent = 100 * min(max(fraction, 0.0), 1.0)
        text = f"{self.label}: {percent:3.0f}% ({now - self.start:.1f} s)"
        if self._tty:
            end = "\n" if fraction >= 1.0 else ""
            self.stream.write(f"\r{text}{end}")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
