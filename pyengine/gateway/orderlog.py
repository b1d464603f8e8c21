"""What the gateway knows about orders beyond the engine — ClOrdIDs, owning session, fills for AvgPx — kept
across restarts.

The engine's journal holds every order, but not the FIX identities around it. Without this log a restarted
gateway would not recognise an OrigClOrdID, would accept a ClOrdID again, and could not route a fill to the
session that entered the order. Records are tab-separated text lines, appended in the gateway's group
commit (flushed to the OS once per event-loop iteration, fsync'd per the journal's fsync policy: every flush
with ``always``, once a second otherwise):

- ``S order_id session cl_ord_id symbol side account qty cum_qty notional status done`` — an order's state
  (the last one for an order id wins);
- ``A session cl_ord_id order_id`` — a ClOrdID that names an order (new, cancel and replace requests);
- ``F order_id cum_qty notional status done`` — a fill: what changes of an order already logged by an S line
  (most lines at full speed are fills, so they carry only that).

A torn last line (a crash mid-write) is ignored on load. On start the log is compacted: rewritten with one
state per order, atomically. If a crash under ``fsync=batch`` loses the newest lines while the engine's
journal kept the orders, the gateway adopts the engine's live orders it has no record of (see
:meth:`~pyengine.gateway.orders.OrderRouter.adopt_live_orders`): they stay cancellable by OrderID (37).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

__all__ = ["OrderLog", "OrderState"]

_SEP: Final = "\t"


@dataclass(slots=True)
class OrderState:
    """What the gateway knows of one order it sent to the engine."""

    order_id: int
    session: str
    cl_ord_id: str
    symbol: str
    side: str
    account: str
    qty: int
    cum_qty: int = 0
    notional: int = 0  # sum of price units * qty over fills, for AvgPx
    status: str = "A"  # OrdStatus; A = pending new
    done: bool = False


def _state_line(s: OrderState) -> str:
    return (
        f"S\t{s.order_id}\t{s.session}\t{s.cl_ord_id}\t{s.symbol}\t{s.side}\t{s.account}\t{s.qty}\t"
        f"{s.cum_qty}\t{s.notional}\t{s.status}\t{int(s.done)}\n"
    )


class OrderLog:
    """Append-only order-state log at ``path``; :attr:`states` and :attr:`aliases` hold what was loaded."""

    def __init__(self, path: Path, *, fsync_every_flush: bool = False, keep_done: int | None = None) -> None:
        self.path = path
        self.fsync_every_flush = fsync_every_flush
        self.keep_done = keep_done  # compaction keeps every live order and the newest keep_done done ones
        self.states: dict[int, OrderState] = {}
        self.aliases: list[tuple[str, str, int]] = []
        self._load()
        self._compact()
        self._file: IO[str] = open(path, "a", encoding="utf-8", newline="\n")  # noqa: SIM115
        self._dirty = False

    def state(self, s: OrderState) -> None:
        self._file.write(_state_line(s))
        self._dirty = True

    def fill(self, s: OrderState) -> None:
        """A fill of an order whose S line is already in the log: only what a fill changes."""
        self._file.write(f"F\t{s.order_id}\t{s.cum_qty}\t{s.notional}\t{s.status}\t{int(s.done)}\n")
        self._dirty = True

    def alias(self, session: str, cl_ord_id: str, order_id: int) -> None:
        self._file.write(f"A\t{session}\t{cl_ord_id}\t{order_id}\n")
        self._dirty = True

    def flush(self) -> None:
        """Hand what was written to the OS (once per event-loop iteration); fsync under ``fsync=always``."""
        if self._dirty:
            self._file.flush()
            if self.fsync_every_flush:
                os.fsync(self._file.fileno())
            self._dirty = False

    def fileno(self) -> int:
        return self._file.fileno()

    def sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self.sync()
            self._file.close()

    # --- loading ----------------------------------------------------------------------------------

    def _lines(self) -> Iterator[list[str]]:
        try:
            with open(self.path, encoding="utf-8", newline="\n") as f:
                for line in f:
                    if line.endswith("\n"):  # a line without its newline was torn by a crash
                        yield line[:-1].split(_SEP)
        except FileNotFoundError:
            return

    def _load(self) -> None:
        for number, parts in enumerate(self._lines(), 1):
            try:
                if parts[0] == "S" and len(parts) == 12:
                    oid = int(parts[1])
                    self.states[oid] = OrderState(
                        oid, parts[2], parts[3], parts[4], parts[5], parts[6], int(parts[7]), int(parts[8]),
                        int(parts[9]), parts[10], parts[11] == "1",
                    )  # fmt: skip
                elif parts[0] == "F" and len(parts) == 6:
                    filled = self.states.get(int(parts[1]))
                    cum_qty, notional, status, done = int(parts[2]), int(parts[3]), parts[4], parts[5] == "1"
                    if filled is not None:  # else: forgotten by an earlier compaction (done_orders_kept)
                        filled.cum_qty, filled.notional, filled.status, filled.done = cum_qty, notional, status, done
                elif parts[0] == "A" and len(parts) == 4:
                    self.aliases.append((parts[1], parts[2], int(parts[3])))
                else:
                    raise ValueError("unknown record")
            except ValueError:
                raise ValueError(f"order log {self.path}, line {number}: malformed record {parts!r}") from None

    def _compact(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        if self.keep_done is not None:
            done = [oid for oid, s in self.states.items() if s.done]
            for oid in done[: max(0, len(done) - self.keep_done)]:
                del self.states[oid]
            self.aliases = [a for a in self.aliases if a[2] in self.states]
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            for s in self.states.values():
                f.write(_state_line(s))
            for session, cl, oid in self.aliases:
                f.write(f"A\t{session}\t{cl}\t{oid}\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
