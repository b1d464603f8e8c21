"""Stop and stop-limit orders: waiting, triggering on the last trade price, order, cascades, cancel, amend."""

from __future__ import annotations

from scenario import E, Script, kinds, rejected


def test_buy_stop_waits_off_book_then_enters_as_market(s: Script) -> None:
    s.rest("ACME", 1, "m", "sell", 5, 101)
    s.rest("ACME", 2, "m", "sell", 5, 102)
    s.submit(
        "ACME",
        10,
        "st",
        "buy",
        6,
        type="stop",
        stop_price=101,
        expect=[E("accepted", order_id=10, price=None, qty=6, leaves_qty=6, side="buy", account="st")],
    )
    o = s.eng.order("ACME", 10)
    assert o is not None and (o.status, o.type, o.stop_price, o.price, o.visible_qty) == (
        "pending_trigger",
        "stop",
        101,
        None,
        0,
    )
    assert s.eng.depth("ACME") == ([], [(101, 5, 1), (102, 5, 1)])  # not in the book
    # A trade below the stop price does not trigger it.
    s.rest("ACME", 3, "x", "buy", 1, 100)
    s.submit("ACME", 4, "y", "sell", 1, 100, expect=[E("accepted"), E("trade", price=100)])
    assert s.eng.order("ACME", 10) is not None
    # A trade at the stop price does, within the same command.
    s.submit(
        "ACME",
        5,
        "t",
        "buy",
        1,
        101,
        expect=[
            E("accepted", order_id=5),
            E("trade", order_id=5, maker_order_id=1, price=101, qty=1),
            E("triggered", order_id=10, price=101, qty=6, leaves_qty=6, side="buy", account="st"),
            E("trade", order_id=10, maker_order_id=1, price=101, qty=4, leaves_qty=2),
            E("trade", order_id=10, maker_order_id=2, price=102, qty=2, leaves_qty=0, maker_leaves_qty=3),
        ],
    )
    assert s.eng.order("ACME", 10) is None
    assert s.eng.last_trade_price("ACME") == 102


def test_sell_stop_triggers_at_or_below(s: Script) -> None:
    s.rest("ACME", 1, "m", "buy", 5, 100)
    s.rest("ACME", 2, "m", "buy", 5, 99)
    s.rest("ACME", 3, "m", "buy", 5, 98)
    s.submit("ACME", 10, "st", "sell", 3, type="stop", stop_price=99, expect=[E("accepted")])
    s.submit("ACME", 4, "t", "sell", 1, 100, expect=[E("accepted"), E("trade", price=100)])  # last 100 > 99
    assert s.eng.order("ACME", 10) is not None
    s.submit(
        "ACME",
        5,
        "t",
        "sell",
        5,
        98,
        expect=[
            E("accepted"),
            E("trade", maker_order_id=1, price=100, qty=4),
            E("trade", maker_order_id=2, price=99, qty=1),
            E("triggered", order_id=10, price=99, side="sell"),
            E("trade", order_id=10, maker_order_id=2, price=99, qty=3, leaves_qty=0),
        ],
    )


def test_stop_without_liquidity_is_cancelled(s: Script) -> None:
    s.submit("ACME", 10, "st", "buy", 3, type="stop", stop_price=100, expect=[E("accepted")])
    s.trade_at("ACME", 100)
    assert kinds(s.log[-2:]) == ["triggered", "cancelled"]
    assert s.log[-1].reason == "no_liquidity" and s.log[-1].qty == 3 and s.log[-1].order_id == 10


def test_stop_limit_enters_as_limit_with_its_tif(s: Script) -> None:
    s.rest("ACME", 1, "m", "sell", 2, 101)
    s.rest("ACME", 2, "m", "sell", 5, 103)
    s.submit(
        "ACME",
        10,
        "st",
        "buy",
        5,
        102,
        type="stop_limit",
        stop_price=101,
        expect=[E("accepted", price=102, qty=5)],
    )
    s.submit(
        "ACME",
        11,
        "st",
        "buy",
        5,
        102,
        type="stop_limit",
        stop_price=101,
        tif="ioc",
        expect=[E("accepted", price=102)],
    )
    s.submit(
        "ACME",
        3,
        "t",
        "buy",
        1,
        101,
        expect=[
            E("accepted"),
            E("trade", maker_order_id=1, qty=1, price=101),
            E("triggered", order_id=10, price=101, qty=5, leaves_qty=5),
            E("trade", order_id=10, maker_order_id=1, qty=1, price=101, leaves_qty=4),
            # 10 rests at 102 (its limit; 103 is beyond it). Then 11 triggers (same stop, later arrival).
            E("triggered", order_id=11, price=101),
            E("cancelled", order_id=11, reason="ioc", qty=5, price=102),
        ],
    )
    o = s.eng.order("ACME", 10)
    assert o is not None
    assert (o.type, o.tif, o.price, o.stop_price, o.qty, o.leaves_qty, o.status) == (
        "stop_limit",
        "gtc",
        102,
        None,
        5,
        4,
        "partially_filled",
    )
    assert s.eng.depth("ACME") == ([(102, 4, 1)], [(103, 5, 1)])
    s.cancel("ACME", 10, expect=[E("cancelled", reason="user", price=102, qty=4)])


def test_triggered_stop_limit_that_would_overflow_its_level_does_not_rest(s: Script) -> None:
    """The entry check for overflow passed when the stop arrived; the level filled up while it waited."""
    big = 2**63 - 1
    s.submit("ACME", 3, "st", "buy", 2, 100, type="stop_limit", stop_price=101, expect=[E("accepted")])
    s.rest("ACME", 1, "a", "buy", big, 100)
    s.rest("ACME", 2, "a", "buy", big, 100)  # the level shows 2**64 - 2
    events = s.trade_at("ACME", 101)
    assert [(e.kind, e.order_id, e.reason, e.qty) for e in events[2:]] == [
        ("triggered", 3, None, 2),
        ("cancelled", 3, "overflow", 2),
    ]
    assert s.eng.depth("ACME") == ([(100, 2**64 - 2, 2)], [])
    assert s.eng.order("ACME", 3) is None


def test_stop_limit_iceberg_rests_as_iceberg(s: Script) -> None:
    s.submit(
        "ACME",
        10,
        "st",
        "sell",
        30,
        95,
        type="stop_limit",
        stop_price=100,
        display_qty=10,
        expect=[E("accepted")],
    )
    s.trade_at("ACME", 100)
    assert kinds(s.log[-1:]) == ["triggered"]
    assert s.eng.depth("ACME") == ([], [(95, 10, 1)])


def test_stop_fok_when_triggered(s: Script) -> None:
    s.rest("ACME", 1, "m", "sell", 3, 105)
    s.submit("ACME", 10, "st", "buy", 5, type="stop", stop_price=100, tif="fok", expect=[E("accepted")])
    s.submit("ACME", 11, "st", "buy", 3, 104, type="stop_limit", stop_price=100, tif="fok", expect=[E("accepted")])
    s.submit("ACME", 12, "st", "buy", 3, 105, type="stop_limit", stop_price=100, tif="fok", expect=[E("accepted")])
    events = s.trade_at("ACME", 100)
    assert [(e.kind, e.order_id, e.reason) for e in events[2:]] == [
        ("triggered", 10, None),
        ("cancelled", 10, "fok"),
        ("triggered", 11, None),
        ("cancelled", 11, "fok"),
        ("triggered", 12, None),
        ("trade", 12, None),
    ]


def test_stop_triggers_at_entry_when_already_due(s: Script) -> None:
    s.trade_at("ACME", 100)
    s.rest("ACME", 1, "m", "sell", 10, 102)
    s.submit(
        "ACME",
        10,
        "st",
        "buy",
        2,
        type="stop",
        stop_price=100,
        expect=[
            E("accepted", order_id=10),
            E("triggered", order_id=10, price=100),
            E("trade", order_id=10, maker_order_id=1, price=102, qty=2),
        ],
    )
    s.submit("ACME", 11, "st", "buy", 2, type="stop", stop_price=103, expect=[E("accepted")])  # 102 < 103
    s.submit(
        "ACME",
        12,
        "st",
        "sell",
        2,
        type="stop",
        stop_price=105,
        expect=[
            E("accepted"),
            E("triggered", order_id=12, price=105),
            E("cancelled", order_id=12, reason="no_liquidity"),
        ],
    )
    s.submit("ACME", 13, "st", "sell", 2, type="stop", stop_price=101, expect=[E("accepted")])


def test_trigger_order_buys_lowest_first_then_sells_highest_first_ties_by_arrival(s: Script) -> None:
    for order_id, side, stop in [
        (11, "buy", 99),
        (21, "sell", 101),
        (12, "buy", 100),
        (22, "sell", 100),
        (13, "buy", 98),
        (14, "buy", 99),
        (23, "sell", 102),
        (24, "sell", 101),
    ]:
        s.submit("ACME", order_id, "st", side, 1, type="stop", stop_price=stop, expect=[E("accepted")])
    events = s.trade_at("ACME", 100)  # leaves no liquidity: every stop is cancelled after triggering
    triggered = [(e.order_id, e.price) for e in events if e.kind == "triggered"]
    assert triggered == [(13, 98), (11, 99), (14, 99), (12, 100), (23, 102), (21, 101), (24, 101), (22, 100)]
    assert kinds(events[2:]) == ["triggered", "cancelled"] * 8
    assert s.eng.live_orders == 0


def test_cascade_in_one_command(s: Script) -> None:
    s.rest("ACME", 1, "m", "sell", 1, 101)
    s.rest("ACME", 2, "m", "sell", 1, 102)
    s.rest("ACME", 3, "m", "sell", 5, 103)
    s.submit("ACME", 10, "st", "buy", 1, type="stop", stop_price=101)
    s.submit("ACME", 11, "st", "buy", 1, type="stop", stop_price=102)
    s.submit("ACME", 12, "st", "buy", 1, 104, type="stop_limit", stop_price=103)
    s.submit("ACME", 13, "st", "buy", 1, type="stop", stop_price=104)
    s.submit(
        "ACME",
        20,
        "t",
        "buy",
        1,
        101,
        expect=[
            E("accepted", order_id=20),
            E("trade", order_id=20, maker_order_id=1, price=101),
            E("triggered", order_id=10, price=101),
            E("trade", order_id=10, maker_order_id=2, price=102),
            E("triggered", order_id=11, price=102),
            E("trade", order_id=11, maker_order_id=3, price=103),
            E("triggered", order_id=12, price=103),
            E("trade", order_id=12, maker_order_id=3, price=103),
        ],
    )
    assert s.eng.order("ACME", 13) is not None  # 103 < 104: still waiting
    assert s.eng.last_trade_price("ACME") == 103


def test_cascade_across_sides(s: Script) -> None:
    s.trade_at("ACME", 95)
    s.submit("ACME", 10, "st", "buy", 1, type="stop", stop_price=98, expect=[E("accepted")])
    s.rest("ACME", 1, "m", "buy", 1, 100)  # no asks: a bid above the last trade
    # A sell stop due at entry sells into the 100 bid; the trade at 100 makes the buy stop due.
    s.submit(
        "ACME",
        11,
        "st",
        "sell",
        1,
        type="stop",
        stop_price=96,
        expect=[
            E("accepted", order_id=11),
            E("triggered", order_id=11, price=96),
            E("trade", order_id=11, maker_order_id=1, price=100),
            E("triggered", order_id=10, price=98),
            E("cancelled", order_id=10, reason="no_liquidity"),
        ],
    )


def test_stops_trigger_only_in_their_instrument(s: Script) -> None:
    s.submit("BAND", 10, "st", "buy", 1, type="stop", stop_price=100, expect=[E("accepted")])
    s.trade_at("ACME", 100)
    assert s.eng.order("BAND", 10) is not None
    s.trade_at("BAND", 100)
    assert s.eng.order("BAND", 10) is None


def test_amend_that_trades_triggers_stops(s: Script) -> None:
    s.rest("ACME", 1, "m", "sell", 1, 101)
    s.rest("ACME", 2, "b", "buy", 1, 99)
    s.submit("ACME", 10, "st", "buy", 1, type="stop", stop_price=101)
    s.amend(
        "ACME",
        2,
        price=101,
        expect=[
            E("amended", order_id=2, price=101),
            E("trade", order_id=2, maker_order_id=1, price=101),
            E("triggered", order_id=10),
            E("cancelled", order_id=10, reason="no_liquidity"),
        ],
    )


def test_stp_applies_to_a_triggered_stop(s: Script) -> None:
    s.rest("ACME", 1, "st", "sell", 5, 101)
    s.rest("ACME", 2, "m", "sell", 5, 101)
    s.submit("ACME", 10, "st", "buy", 5, type="stop", stop_price=100, stp="cancel_oldest")
    events = s.trade_at("ACME", 100)
    assert [(e.kind, e.order_id, e.reason, e.maker_order_id) for e in events[2:]] == [
        ("triggered", 10, None, None),
        ("cancelled", 1, "stp", None),
        ("trade", 10, None, 2),
    ]


def test_cancel_waiting_stop(s: Script) -> None:
    s.submit("ACME", 10, "st", "buy", 3, type="stop", stop_price=100)
    s.submit("ACME", 11, "st", "sell", 4, 90, type="stop_limit", stop_price=95)
    s.cancel("ACME", 10, expect=[E("cancelled", order_id=10, reason="user", qty=3, leaves_qty=0, price=None)])
    s.cancel("ACME", 11, expect=[E("cancelled", order_id=11, reason="user", qty=4, price=90)])
    s.cancel("ACME", 10, expect=[rejected("unknown_order", order_id=10)])
    assert s.eng.order("ACME", 10) is None and s.eng.open_orders("st") == []
    events = s.trade_at("ACME", 100)
    assert len(events) == 2  # nothing left to trigger
    s.submit(
        "ACME",
        10,
        "st",
        "buy",
        3,
        type="stop",
        stop_price=100,
        expect=[E("accepted"), E("triggered"), E("cancelled")],
    )  # the id is free again


def test_amend_waiting_stop_fields(s: Script) -> None:
    s.submit("LOT", 10, "st", "buy", 20, 150, type="stop_limit", stop_price=120)
    s.amend("LOT", 10, qty=40, expect=[E("amended", order_id=10, qty=40, leaves_qty=40, price=150)])
    s.amend("LOT", 10, price=155, expect=[E("amended", price=155, qty=40)])
    s.amend("LOT", 10, stop_price=125, expect=[E("amended", price=155)])
    s.amend("LOT", 10, qty=20, price=140, stop_price=130, expect=[E("amended", price=140, qty=20, leaves_qty=20)])
    o = s.eng.order("LOT", 10)
    assert o is not None
    assert (o.qty, o.leaves_qty, o.price, o.stop_price, o.status) == (20, 20, 140, 130, "pending_trigger")
    # The checks of new orders apply.
    s.amend("LOT", 10, qty=25, expect=[rejected("qty_off_lot")])
    s.amend("LOT", 10, qty=10, expect=[rejected("qty_below_min")])
    s.amend("LOT", 10, qty=2000, expect=[rejected("qty_above_max")])
    s.amend("LOT", 10, price=141, expect=[rejected("price_off_tick")])
    s.amend("LOT", 10, stop_price=131, expect=[rejected("price_off_tick")])
    s.submit("LOT", 11, "st", "sell", 20, type="stop", stop_price=50)
    s.amend("LOT", 11, price=50, expect=[rejected("invalid_amend")])  # a stop (market) has no price
    s.amend("LOT", 11, qty=30, stop_price=45, expect=[E("amended", order_id=11, qty=30, price=None)])
    o = s.eng.order("LOT", 11)
    assert o is not None and (o.qty, o.stop_price, o.price) == (30, 45, None)
    # qty at or below the filled quantity (0) cancels it.
    s.amend("LOT", 11, qty=0, expect=[E("cancelled", order_id=11, reason="amend_filled", qty=30, leaves_qty=0)])


def test_amend_stop_price_on_a_resting_order_is_invalid(s: Script) -> None:
    s.rest("ACME", 1, "a", "buy", 1, 100)
    s.amend("ACME", 1, stop_price=90, expect=[rejected("invalid_amend", order_id=1)])
    s.submit("ACME", 2, "a", "sell", 1, 110, type="stop_limit", stop_price=120)
    s.trade_at("ACME", 120)  # triggers 2, which rests at 110 (the only bid is 100)
    o = s.eng.order("ACME", 2)
    assert o is not None and o.status == "new" and o.stop_price is None
    s.amend("ACME", 2, stop_price=130, expect=[rejected("invalid_amend")])  # no longer waiting


def test_amended_stop_waits_behind_stops_at_its_stop_price(s: Script) -> None:
    s.submit("ACME", 1, "st", "buy", 1, type="stop", stop_price=101)
    s.submit("ACME", 2, "st", "buy", 1, type="stop", stop_price=101)
    s.submit("ACME", 3, "st", "buy", 1, type="stop", stop_price=105)
    s.amend("ACME", 1, qty=2)  # re-parked: now behind 2
    s.amend("ACME", 3, stop_price=101)  # behind 2 and 1
    events = s.trade_at("ACME", 101)
    assert [e.order_id for e in events if e.kind == "triggered"] == [2, 1, 3]


def test_amended_stop_triggers_at_once_if_due(s: Script) -> None:
    s.trade_at("ACME", 100)
    s.submit("ACME", 1, "st", "buy", 1, type="stop", stop_price=105)
    s.submit("ACME", 2, "st", "sell", 1, 90, type="stop_limit", stop_price=95)
    s.amend(
        "ACME",
        1,
        stop_price=100,
        expect=[
            E("amended", order_id=1),
            E("triggered", order_id=1, price=100),
            E("cancelled", reason="no_liquidity"),
        ],
    )
    s.amend("ACME", 2, stop_price=100, expect=[E("amended", order_id=2, price=90), E("triggered", order_id=2)])
    o = s.eng.order("ACME", 2)
    assert o is not None and o.status == "new" and o.price == 90


def test_stop_limit_band_check_on_amend(s: Script) -> None:
    s.trade_at("BAND", 100)
    s.submit("BAND", 1, "st", "buy", 1, 105, type="stop_limit", stop_price=108)
    s.amend("BAND", 1, price=111, expect=[rejected("price_band")])
    s.amend("BAND", 1, price=110, expect=[E("amended", price=110)])
    s.amend("BAND", 1, stop_price=500, expect=[E("amended")])  # the stop price has no band
