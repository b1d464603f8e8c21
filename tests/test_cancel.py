"""Cancel and mass cancel."""

from __future__ import annotations

from scenario import E, Script, rejected

from pyengine import Event


def test_cancel_resting_order(s: Script) -> None:
    s.rest("ACME", 1, "a", "buy", 10, 100)
    s.rest("ACME", 2, "a", "buy", 3, 100)
    s.cancel(
        "ACME",
        1,
        expect=[
            E(
                "cancelled",
                order_id=1,
                reason="user",
                qty=10,
                leaves_qty=0,
                price=100,
                side="buy",
                account="a",
                symbol="ACME",
            )
        ],
    )
    assert s.eng.order("ACME", 1) is None
    assert s.eng.depth("ACME") == ([(100, 3, 1)], [])
    s.cancel("ACME", 2)
    assert s.eng.bbo("ACME") == (None, None) and s.eng.live_orders == 0


def test_cancel_partially_filled_reports_the_remainder(s: Script) -> None:
    s.rest("ACME", 1, "a", "sell", 10, 100)
    s.submit("ACME", 2, "b", "buy", 4, 100)
    s.cancel("ACME", 1, expect=[E("cancelled", order_id=1, reason="user", qty=6, leaves_qty=0)])


def test_cancel_rejects(s: Script) -> None:
    s.cancel("ACME", 1, expect=[rejected("unknown_order", order_id=1, symbol="ACME", side=None, account=None)])
    s.cancel("NOPE", 1, expect=[rejected("unknown_instrument", order_id=1, symbol="NOPE")])
    s.rest("ACME", 1, "a", "buy", 1, 100)
    s.cancel("LOT", 1, expect=[rejected("unknown_order")])  # ids are per instrument
    s.cancel("ACME", 1, expect=[E("cancelled")])
    s.cancel("ACME", 1, expect=[rejected("unknown_order")])  # twice
    s.rest("ACME", 2, "a", "buy", 1, 100)
    s.submit("ACME", 3, "b", "sell", 1, 100)
    s.cancel("ACME", 2, expect=[rejected("unknown_order")])  # filled
    s.cancel("ACME", 3, expect=[rejected("unknown_order")])  # the taker never rested


def populate(s: Script) -> None:
    """Account "a" has orders in every instrument, both sides, and a waiting stop; "b" has some too."""
    s.rest("BAND", 7, "a", "sell", 1, 200)
    s.rest("ACME", 9, "a", "buy", 1, 100)
    s.rest("ACME", 3, "a", "sell", 1, 110)
    s.rest("LOT", 4, "a", "buy", 20, 100)
    s.submit("ACME", 5, "a", "buy", 1, type="stop", stop_price=150, expect=[E("accepted")])
    s.rest("BAND", 2, "a", "buy", 1, 100)
    s.rest("ACME", 1, "b", "buy", 1, 99)
    s.rest("LOT", 8, "b", "sell", 20, 300)


def cancelled(events: list[Event]) -> list[tuple[str, int]]:
    assert all(e.kind == "cancelled" and e.reason == "mass_cancel" and e.account == "a" for e in events), events
    return [(e.symbol, e.order_id) for e in events]


def test_mass_cancel_all_of_an_account_in_instrument_then_id_order(s: Script) -> None:
    populate(s)
    evs = s.mass_cancel("a")
    assert cancelled(evs) == [("ACME", 3), ("ACME", 5), ("ACME", 9), ("LOT", 4), ("BAND", 2), ("BAND", 7)]
    stop = next(e for e in evs if e.order_id == 5)
    assert stop.qty == 1 and stop.price is None
    assert s.eng.open_orders("a") == []
    assert [(o.symbol, o.order_id) for o in s.eng.open_orders("b")] == [("ACME", 1), ("LOT", 8)]
    s.mass_cancel("a", expect=[])


def test_mass_cancel_by_symbol(s: Script) -> None:
    populate(s)
    assert cancelled(s.mass_cancel("a", symbol="ACME")) == [("ACME", 3), ("ACME", 5), ("ACME", 9)]
    assert [o.symbol for o in s.eng.open_orders("a")] == ["LOT", "BAND", "BAND"]


def test_mass_cancel_by_side(s: Script) -> None:
    populate(s)
    assert cancelled(s.mass_cancel("a", side="sell")) == [("ACME", 3), ("BAND", 7)]
    assert cancelled(s.mass_cancel("a", side="buy")) == [("ACME", 5), ("ACME", 9), ("LOT", 4), ("BAND", 2)]


def test_mass_cancel_by_symbol_and_side(s: Script) -> None:
    populate(s)
    assert cancelled(s.mass_cancel("a", symbol="ACME", side="buy")) == [("ACME", 5), ("ACME", 9)]
    assert cancelled(s.mass_cancel("a", symbol="LOT", side="sell")) == []
    assert [(o.symbol, o.order_id) for o in s.eng.open_orders("a")] == [
        ("ACME", 3),
        ("LOT", 4),
        ("BAND", 2),
        ("BAND", 7),
    ]


def test_mass_cancel_edge_cases(s: Script) -> None:
    s.mass_cancel("nobody", expect=[])
    s.mass_cancel("nobody", symbol="ACME", side="buy", expect=[])
    s.mass_cancel("nobody", symbol="NOPE", expect=[rejected("unknown_instrument", symbol="NOPE", order_id=0)])
    populate(s)
    s.mass_cancel("a", symbol="NOPE", expect=[rejected("unknown_instrument", symbol="NOPE")])
    s.mass_cancel("a", symbol="NOPE", side="buy", expect=[rejected("unknown_instrument")])
    assert len(s.eng.open_orders("a")) == 6
    # Cancelled ids are free again.
    s.mass_cancel("a")
    s.rest("ACME", 9, "c", "buy", 1, 100)
