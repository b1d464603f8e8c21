"""The durable command journal: inspection, verification and replay.

Writing happens through :meth:`pyengine.Engine.open`, which recovers the engine
from the newest valid snapshot plus the journal tail and then journals every
state change before applying it. This package reads journals without changing
them; ``python -m pyengine.journal`` is its command line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyengine._engine import Engine, JournalError, journal_inspect, journal_replay

__all__ = ["JournalError", "inspect", "replay"]

Progress = Callable[[int, int], None]


def inspect(path: str | Path, progress: Progress | None = None) -> dict[str, Any]:
    """Validates every record and returns a summary: segments, records, seq range,
    torn tail (if any) and snapshots. Raises :class:`JournalError` on corruption."""
    return journal_inspect(Path(path), progress)


def replay(
    path: str | Path, *, from_snapshot: bool = False, progress: Progress | None = None
) -> tuple[Engine, dict[str, Any]]:
    """Rebuilds the engine from the journal (from its first record, or from the
    newest valid snapshot with ``from_snapshot=True``) without changing any file."""
    return journal_replay(Path(path), from_snapshot=from_snapshot, progress=progress)
