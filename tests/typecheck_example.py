"""A short, type-correct tour of the pyengine API.

Checked by ``python -m mypy pyengine tests/typecheck_example.py`` (strict) and
run by tests/test_api_example.py; also runnable on its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import pyengine
from pyengine import COMMAND_DTYPE, EVENT_DTYPE, Engine, Event, Order
from pyengine.batch import commands, event_dicts


def fills(events: list[Event]) -> list[tuple[int, int]]:
    """(price, qty) of every trade."""
    out: list[tuple[int, int]] = []
    for ev in events:
        if ev.kind == "trade" and ev.price is not None:
            out.append((ev.price, ev.qty))
    return out


def main() -> None:
    eng: Engine = Engine()
    acme: int = eng.add_instrument("ACME", tick_size=1, lot_size=1)
    eng.add_instrument("LOT", tick_size=5, lot_size=10, min_qty=20, max_qty=1000, price_band=50)
    assert acme == eng.instrument_id("ACME") == 0

    eng.submit("ACME", order_id=1, account="acc-1", side="buy", qty=10, price=100, ts=1)
    evs: list[Event] = eng.submit("ACME", order_id=2, account="acc-2", side="sell", qty=4, type="market", ts=2)
    assert fills(evs) == [(100, 4)]
    maker: int | None = evs[-1].maker_order_id
    assert maker == 1
    eng.submit("ACME", 3, "acc-3", "buy", 5, type="stop", stop_price=101, ts=3)
    eng.submit("ACME", 4, "acc-3", "sell", 30, 105, display_qty=10, stp="decrement", ts=4)
    eng.amend("ACME", 1, qty=8, ts=5)
    eng.amend("ACME", 3, stop_price=102, ts=6)

    bid, ask = eng.bbo("ACME")
    assert bid == (100, 4) and ask == (105, 10)
    bids, asks = eng.depth("ACME", levels=5)
    best_price, shown, count = asks[0]
    assert (best_price, shown, count) == (105, 10, 1) and len(bids) == 1

    order: Order | None = eng.order("ACME", 1)
    assert order is not None and order.filled_qty == 4 and order.status == "partially_filled"
    stop_price: int | None = None if order is None else order.stop_price
    assert stop_price is None
    open_orders: list[Order] = eng.open_orders("acc-3")
    assert [o.order_id for o in open_orders] == [3, 4]
    done = eng.mass_cancel("acc-3", symbol="ACME", side="sell", ts=7)
    assert [e.reason for e in done] == ["mass_cancel"]
    assert eng.cancel("ACME", 1, ts=8)[0].reason == "user"

    what_if: Engine = eng.clone()
    what_if.submit("ACME", 9, "acc-9", "buy", 1, 1, ts=9)
    assert what_if.state_hash() != eng.state_hash()
    eng.check_invariants()

    rows: list[dict[str, Any]] = [
        {
            "op": "submit",
            "symbol": "LOT",
            "order_id": 1,
            "account": "acc-1",
            "side": "sell",
            "qty": 20,
            "price": 200,
            "ts": 10,
        },
        {
            "op": "submit",
            "symbol": "LOT",
            "order_id": 2,
            "account": "acc-2",
            "side": "buy",
            "qty": 30,
            "price": 200,
            "ts": 11,
        },
        {"op": "cancel", "symbol": "LOT", "order_id": 2, "ts": 12},
    ]
    arr = commands(eng, rows)
    assert arr.dtype == COMMAND_DTYPE and arr.itemsize == pyengine.COMMAND_RECORD_SIZE
    out = eng.submit_batch(arr)
    assert out.dtype == EVENT_DTYPE and out.itemsize == pyengine.EVENT_RECORD_SIZE
    dicts: list[dict[str, Any]] = event_dicts(eng, out)
    assert [d["kind"] for d in dicts] == ["accepted", "accepted", "trade", "cancelled"]
    seqs: np.ndarray[Any, np.dtype[Any]] = out["seq"]
    assert int(seqs[-1]) == eng.seq


if __name__ == "__main__":
    main()
