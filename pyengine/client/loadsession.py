"""One FIX session of the load generator: an asyncio protocol that sends NewOrderSingles and times their acks.

The protocol never waits for an answer before sending the next order (open loop): the driver in
:mod:`pyengine.client.loadgen` calls :meth:`LoadSession.add_order` when an order is due and
:meth:`LoadSession.flush` once per batch; replies are parsed with the Rust framer as they arrive. An order is
*acknowledged* by the first ExecutionReport (35=8) carrying its ClOrdID (or a BusinessMessageReject naming
it); its latency is that reply's arrival time minus the order's *scheduled* send time, so a client or
gateway that falls behind shows up in the figures instead of hiding as a lower send rate (no coordinated
omission). Every time is ``time.perf_counter_ns()``, one clock for the whole worker process.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import cast

from pyengine.client.histogram import LatencyHistogram
from pyengine.fix import FixDisconnect, FixFramer, FixGarbled, FixMessage, FixSessionReject, encode_fix

__all__ = ["TARGET_COMP_ID", "LoadSession", "LoadStats"]

TARGET_COMP_ID = "PYENGINE"
#: Reject texts are counted with every word holding a digit (ids, prices, counts) replaced by ``#``, so that
#: ``duplicate ClOrdID L1-5`` and ``duplicate ClOrdID L1-6`` count as one reason; at most this many reasons.
_MAX_REASONS = 20
_NUMBERISH = re.compile(r"\S*\d\S*")
#: At most this many distinct error messages are kept (the rest only counted).
_MAX_ERRORS = 20


@dataclass
class LoadStats:
    """What one worker process measured; orders scheduled before ``measure_start`` (warm-up) are not counted."""

    measure_start: int = 0
    sent_total: int = 0  # warm-up included, for the progress line
    answered_total: int = 0
    sent: int = 0
    acked: int = 0
    rejected: int = 0
    not_sent: int = 0
    last_send: int = 0
    last_ack: int = 0
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    wire: LatencyHistogram = field(default_factory=LatencyHistogram)
    send_lag: LatencyHistogram = field(default_factory=LatencyHistogram)
    reject_reasons: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    errors_dropped: int = 0

    def error(self, text: str) -> None:
        if text in self.errors:
            return
        if len(self.errors) < _MAX_ERRORS:
            self.errors.append(text)
        else:
            self.errors_dropped += 1

    def answered(self, scheduled: int, sent_at: int, now: int, reject_text: str | None) -> None:
        self.answered_total += 1
        if scheduled < self.measure_start:
            return
        self.acked += 1
        self.latency.record((now - scheduled) // 1000)
        self.wire.record((now - sent_at) // 1000)
        if now > self.last_ack:
            self.last_ack = now
        if reject_text is not None:
            self.rejected += 1
            reason = _NUMBERISH.sub("#", reject_text)
            if reason not in self.reject_reasons and len(self.reject_reasons) >= _MAX_REASONS:
                reason = "(other reasons)"
            self.reject_reasons[reason] += 1


class LoadSession(asyncio.Protocol):
    """A FIX initiator session that logs on once, then sends limit orders at the driver's pace."""

    def __init__(self, comp_id: str, stats: LoadStats) -> None:
        self.comp_id = comp_id
        self.stats = stats
        self.seq = 1
        self.transport: asyncio.Transport | None = None
        self.framer = FixFramer()
        self.pending: dict[str, tuple[int, int]] = {}  # ClOrdID -> (scheduled, sent) perf_counter_ns
        self._out: list[bytes] = []
        loop = asyncio.get_running_loop()
        #: Set once the Logon is answered: None when accepted, else why it failed.
        self.logged_on: asyncio.Future[str | None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.logging_out = False

    # --- asyncio.Protocol -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.logged_on.done():
            self.logged_on.set_result("logon failed: the gateway closed the connection")
        elif not self.logging_out:
            self.stats.error(f"{self.comp_id}: connection to the gateway lost during the run")
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter_ns()
        framer = self.framer
        framer.push(data)
        pending = self.pending
        stats = self.stats
        while True:
            try:
                msg = framer.next()
            except FixGarbled:
                stats.error(f"{self.comp_id}: garbled message from the gateway dropped")
                continue
            except FixSessionReject as e:
                stats.error(f"{self.comp_id}: invalid message from the gateway: {e.text}")
                continue
            except FixDisconnect as e:
                stats.error(f"{self.comp_id}: unreadable data from the gateway: {e}")
                self.close()
                return
            if msg is None:
                return
            if msg.msg_type == "8":
                cl = msg.get(11)
                entry = pending.pop(cl, None) if cl is not None else None
                if entry is not None:
                    stats.answered(
                        entry[0], entry[1], now, (msg.get(58) or "rejected") if msg.get(150) == "8" else None
                    )
            else:
                self._on_other(msg, now)

    def _on_other(self, msg: FixMessage, now: int) -> None:
        t = msg.msg_type
        if t == "A":
            if not self.logged_on.done():
                self.logged_on.set_result(None)
        elif t == "1":
            self.send("0", [(112, msg.get(112) or "")])
        elif t == "5":
            text = msg.get(58) or "no reason given"
            if not self.logged_on.done():
                self.logged_on.set_result(f"logon refused: {text}")
            elif not self.logging_out:
                self.stats.error(f"{self.comp_id}: logged out by the gateway: {text}")
                self.send("5", [])
        elif t == "j":
            cl = msg.get(379)
            entry = self.pending.pop(cl, None) if cl else None
            text = f"business reject: {msg.get(58) or 'no reason given'}"
            if entry is not None:
                self.stats.answered(entry[0], entry[1], now, text)
            else:
                self.stats.error(f"{self.comp_id}: {text}")
        elif t == "3":
            self.stats.error(f"{self.comp_id}: session-level Reject: {msg.get(58) or 'no reason given'}")

    # --- sending ----------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def send(self, msg_type: str, fields: list[tuple[int, str | int | bytes]]) -> None:
        """Encode and write one message at once (session-level messages)."""
        if not self.is_open:
            return
        assert self.transport is not None
        self.transport.write(self._encode(msg_type, fields, time.time_ns()))

    def _encode(self, msg_type: str, fields: list[tuple[int, str | int | bytes]], wall_ns: int) -> bytes:
        data = encode_fix(
            msg_type, fields, seq=self.seq, sender=self.comp_id, target=TARGET_COMP_ID, sending_time_ns=wall_ns
        )
        self.seq += 1
        return data

    def logon(self, username: str, password: str, heartbeat: int = 30) -> None:
        self.send("A", [(98, 0), (108, heartbeat), (141, "Y"), (553, username), (554, password)])

    def add_order(
        self, cl: str, fields: list[tuple[int, str | int | bytes]], scheduled: int, now: int, wall_ns: int
    ) -> None:
        """Queue one NewOrderSingle (``fields`` start with ClOrdID ``cl``); :meth:`flush` writes the batch."""
        stats = self.stats
        if not self.is_open:
            if scheduled >= stats.measure_start:
                stats.not_sent += 1
            return
        self._out.append(self._encode("D", fields, wall_ns))
        self.pending[cl] = (scheduled, now)
        stats.sent_total += 1
        if scheduled >= stats.measure_start:
            stats.sent += 1
            stats.last_send = now

    def flush(self) -> None:
        if self._out:
            if self.transport is not None and not self.transport.is_closing():
                self.transport.write(b"".join(self._out))
            self._out.clear()

    def unanswered(self) -> int:
        """Measured orders sent but never answered."""
        start = self.stats.measure_start
        return sum(1 for scheduled, _ in self.pending.values() if scheduled >= start)

    def logout(self) -> None:
        self.logging_out = True
        self.send("5", [])

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
