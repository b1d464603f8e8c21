"""`python -m pyengine.journal inspect|verify|replay PATH`.

inspect  validate every record and summarise segments, seq range and snapshots
verify   the same, exiting 1 on corruption (a torn tail is reported, exit 0: recovery truncates it)
replay   rebuild the engine from the journal and print records, seq range and state hash
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO

from pyengine.journal import JournalError, inspect, replay


class ProgressBar:
    """A one-line progress bar on stderr (periodic lines when stderr is not a terminal)."""

    def __init__(self, label: str, stream: TextIO = sys.stderr) -> None:
        self.label, self.stream = label, stream
        self.start = time.monotonic()
        self.tty = stream.isatty()
        self.last_line = 0.0

    def __call__(self, done: int, total: int) -> None:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        frac = min(done / total, 1.0) if total else 1.0
        rate = done / elapsed
        if self.tty:
            bar = "#" * int(frac * 30)
            self.stream.write(f"\r{self.label} [{bar:<30}] {frac:6.1%} {done:,} records {rate:,.0f}/s")
            if done >= total:
                self.stream.write("\n")
        elif done >= total or elapsed - self.last_line >= 2.0:
            self.last_line = elapsed
            self.stream.write(f"{self.label}: {done:,}/{total:,} records ({frac:.0%}), {rate:,.0f}/s\n")
        self.stream.flush()


def _seq_range(info: dict[str, Any]) -> str:
    if info.get("first_seq") is None and info.get("last_seq") is None:
        return "empty"
    return f"{info.get('first_seq', '?')}..{info['last_seq']}"


def _print_inspect(info: dict[str, Any]) -> None:
    print(f"journal {info['path']}")
    for name, size in info["segments"]:
        print(f"  segment {name}  {size:,} bytes")
    print(f"records {info['records']:,} ({info['commands']:,} commands), seq {_seq_range(info)}")
    if info["torn_tail"]:
        print(f"torn tail (recovery truncates it): {info['torn_tail']}")
    for seq, path in info["snapshots"]:
        print(f"  snapshot {path} (covers journal seq {seq})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pyengine.journal", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("inspect", "verify", "replay"))
    parser.add_argument("path", help="journal directory (as given to Engine.open)")
    parser.add_argument("--from-snapshot", action="store_true", help="replay: start at the newest valid snapshot")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    progress = None if args.quiet else ProgressBar(args.command)
    try:
        if args.command in ("inspect", "verify"):
            info = inspect(args.path, progress)
            _print_inspect(info)
            if args.command == "verify":
                print("verify: ok" + (" (torn tail present)" if info["torn_tail"] else ""))
            return 0
        start = time.monotonic()
        engine, summary = replay(args.path, from_snapshot=args.from_snapshot, progress=progress)
        elapsed = time.monotonic() - start
        if summary.get("snapshot"):
            print(f"snapshot {summary['snapshot'][0]} (journal seq {summary['snapshot'][1]})")
        print(f"replayed {summary['records']:,} records in {elapsed:.3f} s, journal seq up to {summary['last_seq']}")
        if summary.get("torn_tail"):
            print(f"torn tail ignored: {summary['torn_tail']}")
        print(f"engine seq {engine.seq:,}, live orders {engine.live_orders:,}, state hash {summary['state_hash']:016x}")
        engine.check_invariants()
        return 0
    except JournalError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
