"""Scenario helpers: run engine commands like a script and check every step.

Every command goes through :class:`Script`, which passes an explicit, increasing
``ts`` and then checks the rules that hold after *any* command: the events carry
the next engine-wide seqs with no gaps, they carry the command's ``ts``, fields
that do not apply to a kind are None, and ``check_invariants()`` passes.

Expected events are written with :func:`E` (or :func:`rejected`); only the
fields given are compared::

    s.submit("ACME", 2, "b", "sell", 4, 100, expect=[
        E("accepted", order_id=2, qty=4, leaves_qty=4, price=100),
        E("trade", order_id=2, maker_order_id=1, price=100, qty=4, leaves_qty=0),
    ])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pyengine import Engine, Event

KINDS = {"accepted", "rejected", "trade", "cancelled", "amended", "triggered"}
CANCEL_REASONS = {"user", "ioc", "no_liquidity", "fok", "stp", "mass_cancel", "amend_filled", "overflow"}
EVENT_KEYS = {
    "seq",
    "ts",
    "kind",
    "reason",
    "symbol",
    "side",
    "order_id",
    "account",
    "price",
    "qty",
    "leaves_qty",
    "maker_order_id",
    "maker_account",
    "maker_leaves_qty",
}


def E(kind: str, **fields: Any) -> dict[str, Any]:
    """An expected event: its kind plus the fields to compare."""
    unknown = set(fields) - EVENT_KEYS
    assert not unknown, f"not event fields: {unknown}"
    return {"kind": kind, **fields}


def rejected(reason: str, **fields: Any) -> dict[str, Any]:
    return E("rejected", reason=reason, **fields)


def kinds(events: Sequence[Event]) -> list[str]:
    return [e.kind for e in events]


def reasons(events: Sequence[Event]) -> list[str | None]:
    return [e.reason for e in events]


def trades(events: Sequence[Event]) -> list[tuple[int, int | None, int | None, int]]:
    """(taker id, maker id, price, qty) of each trade event."""
    return [(e.order_id, e.maker_order_id, e.price, e.qty) for e in events if e.kind == "trade"]


def describe(events: Sequence[Event]) -> str:
    return "\n".join(f"  {e!r}" for e in events) or "  (no events)"


def verify(events: Sequence[Event], expect: Sequence[dict[str, Any]]) -> None:
    """Checks `events` against `expect`, one expected dict per event, in order."""
    assert len(events) == len(expect), (
        f"expected {len(expect)} events {[x['kind'] for x in expect]}, got {len(events)}:\n{describe(events)}"
    )
    for i, (ev, exp) in enumerate(zip(events, expect, strict=True)):
        got = ev.to_dict()
        for key, value in exp.items():
            assert got[key] == value, (
                f"event {i} field {key!r}: expected {value!r}, got {got[key]!r}\n{describe(events)}"
            )


def check_event_shape(ev: Event) -> None:
    """Field presence by kind, as documented on Event and in docs/semantics.md."""
    d = ev.to_dict()
    assert set(d) == EVENT_KEYS
    assert d["kind"] in KINDS
    assert isinstance(d["symbol"], str)
    for key in ("seq", "ts", "order_id", "qty", "leaves_qty"):
        assert isinstance(d[key], int) and d[key] >= 0, (key, ev)
    if ev.kind == "rejected":
        assert ev.reason is not None
        assert ev.side is None and ev.account is None
    else:
        assert ev.side in ("buy", "sell") and isinstance(ev.account, str)
    if ev.kind == "trade":
        assert ev.maker_order_id is not None and ev.maker_account is not None
        assert ev.maker_leaves_qty is not None and ev.price is not None and ev.qty > 0
    else:
        assert ev.maker_order_id is None and ev.maker_account is None and ev.maker_leaves_qty is None
    if ev.kind == "cancelled":
        # "overflow": a triggered stop-limit whose remainder cannot rest on its (full) level.
        assert ev.reason in CANCEL_REASONS, ev
        assert ev.qty > 0
    if ev.kind in ("accepted", "trade", "amended", "triggered"):
        assert ev.reason is None
    if ev.kind == "triggered":
        assert ev.price is not None


def check_step(eng: Engine, events: Sequence[Event], seq_before: int, ts: int | None) -> None:
    """The rules every command obeys, whatever it did."""
    seqs = [e.seq for e in events]
    assert seqs == list(range(seq_before + 1, seq_before + 1 + len(events))), f"seqs {seqs} after {seq_before}"
    assert eng.seq == seq_before + len(events)
    if ts is not None:
        assert all(e.ts == ts for e in events), describe(events)
    for ev in events:
        check_event_shape(ev)
    eng.check_invariants()


class Script:
    """Drives one engine with explicit timestamps, checking each step."""

    def __init__(self, eng: Engine, ts: int = 1_000_000) -> None:
        self.eng = eng
        self.ts = ts
        self.log: list[Event] = []

    def _run(self, call: Callable[[int], list[Event]], expect: Sequence[dict[str, Any]] | None) -> list[Event]:
        before = self.eng.seq
        self.ts += 7
        events = call(self.ts)
        check_step(self.eng, events, before, self.ts)
        if expect is not None:
            verify(events, expect)
        self.log.extend(events)
        return events

    def submit(
        self,
        symbol: str,
        order_id: int,
        account: str,
        side: str,
        qty: int,
        price: int | None = None,
        *,
        expect: Sequence[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> list[Event]:
        return self._run(
            lambda ts: self.eng.submit(symbol, order_id, account, side, qty, price, ts=ts, **kwargs), expect
        )

    def cancel(self, symbol: str, order_id: int, *, expect: Sequence[dict[str, Any]] | None = None) -> list[Event]:
        return self._run(lambda ts: self.eng.cancel(symbol, order_id, ts=ts), expect)

    def amend(
        self, symbol: str, order_id: int, *, expect: Sequence[dict[str, Any]] | None = None, **kwargs: Any
    ) -> list[Event]:
        return self._run(lambda ts: self.eng.amend(symbol, order_id, ts=ts, **kwargs), expect)

    def mass_cancel(
        self, account: str, *, expect: Sequence[dict[str, Any]] | None = None, **kwargs: Any
    ) -> list[Event]:
        return self._run(lambda ts: self.eng.mass_cancel(account, ts=ts, **kwargs), expect)

    # Short forms for building books.
    def rest(self, symbol: str, order_id: int, account: str, side: str, qty: int, price: int, **kwargs: Any) -> None:
        """Submits an order that must rest untouched (accepted and nothing else)."""
        self.submit(
            symbol,
            order_id,
            account,
            side,
            qty,
            price,
            **kwargs,
            expect=[E("accepted", order_id=order_id, qty=qty, leaves_qty=qty, price=price)],
        )

    def trade_at(self, symbol: str, price: int, *, ids: tuple[int, int] = (900_001, 900_002)) -> list[Event]:
        """Makes one trade at `price` between two outside accounts, leaving the book as it was.

        The book must have nothing at `price` or better on either side. Returns the
        taker's events: accepted, the trade, then whatever the trade triggered.
        """
        qty = 20 if symbol == "LOT" else 1
        self.rest(symbol, ids[0], "tape-maker", "sell", qty, price)
        events = self.submit(symbol, ids[1], "tape-taker", "buy", qty, price)
        verify(events[:2], [E("accepted"), E("trade", price=price, qty=qty, maker_order_id=ids[0], leaves_qty=0)])
        assert self.eng.last_trade_price(symbol) == price or len(events) > 2
        return events


def queue_ids(events: Sequence[Event]) -> list[int]:
    """Maker ids of the trades in `events`, in fill order."""
    return [e.maker_order_id for e in events if e.kind == "trade" and e.maker_order_id is not None]
