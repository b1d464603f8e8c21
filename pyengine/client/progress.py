"""A progress line on stderr for long client runs, in the house style of ``python -m pyengine.journal``.

On a terminal the line is redrawn in place (carriage return); otherwise (CI logs, files) one plain line is
written every ``interval`` seconds, so logs stay readable. The caller supplies the counts and any extra text;
this class only decides when and how to draw them.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar"]

_WIDTH = 30


class ProgressBar:
    """``bar(done, total, extra)``: a one-line progress bar, or periodic lines when ``stream`` is not a TTY."""

    def __init__(self, label: str, unit: str = "records", stream: TextIO | None = None, interval: float = 2.0) -> None:
        self.label = label
        self.unit = unit
        self.stream = sys.stderr if stream is None else stream
        self.interval = interval
        self.tty = self.stream.isatty()
        self.start = time.monotonic()
        self._last_line = -interval
        self._finished = False

    def __call__(self, done: int, total: int, extra: str = "") -> None:
        if self._finished:
            return
        elapsed = max(time.monotonic() - self.start, 1e-9)
        frac = min(done / total, 1.0) if total else 1.0
        tail = f" {extra}" if extra else ""
        finished = done >= total
        if self.tty:
            bar = "#" * int(frac * _WIDTH)
            line = f"\r{self.label} [{bar:<{_WIDTH}}] {frac:6.1%} {done:,} {self.unit}{tail}"
            self.stream.write(line + ("\n" if finished else "\x1b[K"))
        elif finished or elapsed - self._last_line >= self.interval:
            self._last_line = elapsed
            self.stream.write(f"{self.label}: {done:,}/{total:,} {self.unit} ({frac:.0%}){tail}\n")
        else:
            return
        self._finished = finished
        self.stream.flush()

    def close(self) -> None:
        """End an unfinished bar's line (e.g. after an error) so the next message starts on its own line."""
        if self.tty and not self._finished:
            self.stream.write("\n")
            self.stream.flush()
        self._finished = True
