"""A progress bar on stderr for bench/run.py: one line redrawn on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 24


class Progress:
    """``total`` steps; :meth:`status` shows what runs now, :meth:`advance` ends a step, :meth:`log` prints a line."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total, self.done, self.stream = max(total, 1), 0, stream
        self.tty = stream.isatty()
        self.t0 = time.perf_counter()
        self.text = ""
        self.shown = False

    def _elapsed(self) -> str:
        return f"{time.perf_counter() - self.t0:6.1f}s"

    def _clear(self) -> None:
        if self.tty and self.shown:
            self.stream.write("\r\033[K")
            self.shown = False

    def _draw(self) -> None:
        if not self.tty:
            return
        filled = int(WIDTH * self.done / self.total)
        line = f"[{'#' * filled}{'-' * (WIDTH - filled)}] {self.done}/{self.total} {self._elapsed()} {self.text}"
        self.stream.write("\r\033[K" + line[:160])
        self.stream.flush()
        self.shown = True

    def log(self, msg: str) -> None:
        """A line that stays (above the bar on a terminal)."""
        self._clear()
        self.stream.write(f"[{self._elapsed()}] {msg}\n")
        self.stream.flush()
        self._draw()

    def status(self, text: str) -> None:
        """What the current step does now (redraws the bar; no output off a terminal)."""
        self.text = text
        self._draw()

    def advance(self, msg: str = "") -> None:
        """Ends a step; ``msg`` is logged with the step count."""
        self.done = min(self.done + 1, self.total)
        if msg:
            self.log(f"({self.done}/{self.total}) {msg}")
        else:
            self._draw()

    def close(self) -> None:
        self._clear()
        self.stream.flush()
