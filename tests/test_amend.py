"""Amend: total-quantity semantics, priority rules, re-entry that trades, amend_filled, rejects."""

from __future__ import annotations

from scenario import E, Script, queue_ids, rejected

I64_MAX = 2**63 - 1


def two_at_100(s: Script) -> None:
    s.rest("ACME", 1, "a", "sell", 10, 100)
    s.rest("ACME", 2, "b", "sell", 10, 100)


def test_qty_decrease_keeps_priority(s: Script) -> None:
    two_at_100(s)
    s.amend(
        "ACME",
        1,
        qty=4,
        expect=[E("amended", order_id=1, qty=4, leaves_qty=4, price=100, side="sell", account="a")],
    )
    assert s.eng.depth("ACME")[1] == [(100, 14, 2)]
    assert queue_ids(s.submit("ACME", 3, "t", "buy", 5, 100)) == [1, 2]


def test_same_qty_and_price_is_an_amend_that_keeps_priority(s: Script) -> None:
    two_at_100(s)
    s.amend("ACME", 1, qty=10, price=100, expect=[E("amended", qty=10, leaves_qty=10)])
    assert queue_ids(s.submit("ACME", 3, "t", "buy", 10, 100)) == [1]


def test_qty_increase_loses_priority(s: Script) -> None:
    two_at_100(s)
    s.amend("ACME", 1, qty=12, expect=[E("amended", order_id=1, qty=12, leaves_qty=12, price=100)])
    assert s.eng.depth("ACME")[1] == [(100, 22, 2)]
    assert queue_ids(s.submit("ACME", 3, "t", "buy", 11, 100)) == [2, 1]


def test_price_change_loses_priority(s: Script) -> None:
    two_at_100(s)
    s.amend("ACME", 1, price=101, expect=[E("amended", price=101, qty=10)])
    s.amend("ACME", 1, price=100, expect=[E("amended", price=100)])
    assert queue_ids(s.submit("ACME", 3, "t", "buy", 11, 100)) == [2, 1]


def test_price_change_may_trade_like_a_new_order(s: Script) -> None:
    s.rest("ACME", 1, "m", "sell", 3, 101)
    s.rest("ACME", 2, "m", "sell", 3, 102)
    s.rest("ACME", 3, "b", "buy", 10, 99)
    s.amend(
        "ACME",
        3,
        price=102,
        expect=[
            E("amended", order_id=3, price=102, qty=10, leaves_qty=10),
            E("trade", order_id=3, maker_order_id=1, price=101, qty=3, leaves_qty=7),
            E("trade", order_id=3, maker_order_id=2, price=102, qty=3, leaves_qty=4),
        ],
    )
    assert s.eng.depth("ACME") == ([(102, 4, 1)], [])
    o = s.eng.order("ACME", 3)
    assert o is not None and (o.qty, o.leaves_qty, o.filled_qty) == (10, 4, 6)


def test_amend_fully_filled_by_reentry(s: Script) -> None:
    s.rest("ACME", 1, "m", "sell", 10, 101)
    s.rest("ACME", 2, "b", "buy", 4, 99)
    s.amend(
        "ACME",
        2,
        qty=5,
        price=101,
        expect=[E("amended", qty=5, leaves_qty=5, price=101), E("trade", order_id=2, qty=5, leaves_qty=0)],
    )
    assert s.eng.order("ACME", 2) is None
    s.amend("ACME", 2, qty=6, expect=[rejected("unknown_order", order_id=2)])


def test_qty_is_the_total_including_fills(s: Script) -> None:
    s.rest("ACME", 1, "a", "sell", 10, 100)
    s.submit("ACME", 2, "t", "buy", 4, 100)
    # 4 filled, 6 open. New total 8: 4 open.
    s.amend("ACME", 1, qty=8, expect=[E("amended", qty=8, leaves_qty=4)])
    # New total 12: 8 open, back of the queue.
    s.rest("ACME", 3, "b", "sell", 1, 100)
    s.amend("ACME", 1, qty=12, expect=[E("amended", qty=12, leaves_qty=8)])
    assert s.eng.depth("ACME")[1] == [(100, 9, 2)]
    assert queue_ids(s.submit("ACME", 4, "t", "buy", 2, 100)) == [3, 1]
    o = s.eng.order("ACME", 1)
    assert o is not None and (o.qty, o.leaves_qty, o.filled_qty, o.status) == (12, 7, 5, "partially_filled")


def test_amend_to_or_below_filled_cancels_the_rest(s: Script) -> None:
    for order_id, new_qty in ((1, 4), (2, 3), (3, 0)):
        s.rest("ACME", order_id, "a", "sell", 10, 100 + order_id)
        s.submit("ACME", 10 + order_id, "t", "buy", 4, 100 + order_id)
        s.amend(
            "ACME",
            order_id,
            qty=new_qty,
            expect=[
                E(
                    "cancelled",
                    order_id=order_id,
                    reason="amend_filled",
                    qty=6,
                    leaves_qty=0,
                    price=100 + order_id,
                )
            ],
        )
        assert s.eng.order("ACME", order_id) is None
    # An unfilled order amended to zero is cancelled the same way.
    s.rest("ACME", 4, "a", "sell", 10, 110)
    s.amend("ACME", 4, qty=0, expect=[E("cancelled", reason="amend_filled", qty=10)])
    # amend_filled wins over a price change in the same amend.
    s.rest("ACME", 5, "a", "sell", 10, 110)
    s.submit("ACME", 15, "t", "buy", 5, 110)
    s.amend("ACME", 5, qty=5, price=90, expect=[E("cancelled", reason="amend_filled", qty=5, price=110)])
    assert s.eng.depth("ACME") == ([], [])


def test_amend_rejects(s: Script) -> None:
    s.rest("LOT", 1, "a", "buy", 100, 200)
    s.amend("LOT", 2, qty=20, expect=[rejected("unknown_order", order_id=2, symbol="LOT")])
    s.amend("NOPE", 1, qty=20, expect=[rejected("unknown_instrument", order_id=1, symbol="NOPE")])
    s.amend("ACME", 1, qty=20, expect=[rejected("unknown_order")])  # ids are per instrument
    s.amend("LOT", 1, qty=25, expect=[rejected("qty_off_lot")])
    s.amend("LOT", 1, qty=10, expect=[rejected("qty_below_min")])
    s.amend("LOT", 1, qty=1010, expect=[rejected("qty_above_max")])
    s.amend("LOT", 1, price=203, expect=[rejected("price_off_tick")])
    s.amend("LOT", 1, stop_price=150, expect=[rejected("invalid_amend")])
    s.amend("LOT", 1, price=-(2**63), expect=[rejected("overflow")])
    # A rejected amend leaves the order as it was.
    o = s.eng.order("LOT", 1)
    assert o is not None and (o.qty, o.price, o.leaves_qty) == (100, 200, 100)
    assert s.eng.depth("LOT") == ([(200, 100, 1)], [])


def test_amend_price_band(s: Script) -> None:
    s.trade_at("BAND", 100)
    s.rest("BAND", 1, "a", "buy", 5, 95)
    s.amend("BAND", 1, price=89, expect=[rejected("price_band")])
    s.amend("BAND", 1, qty=6, expect=[E("amended")])  # no price: no band check
    s.amend("BAND", 1, price=90, expect=[E("amended", price=90)])


def test_post_only_amend_through_the_touch_is_rejected_and_unchanged(s: Script) -> None:
    s.rest("ACME", 1, "m", "sell", 5, 101)
    s.rest("ACME", 2, "p", "buy", 5, 99, post_only=True)
    s.rest("ACME", 3, "q", "buy", 5, 99)
    s.amend("ACME", 2, price=101, expect=[rejected("would_take", order_id=2)])
    s.amend("ACME", 2, price=102, qty=3, expect=[rejected("would_take")])
    o = s.eng.order("ACME", 2)
    assert o is not None and (o.price, o.qty, o.post_only) == (99, 5, True)
    assert queue_ids(s.submit("ACME", 4, "t", "sell", 5, 99)) == [2]  # priority untouched
    s.rest("ACME", 5, "p", "buy", 5, 99, post_only=True)
    s.amend("ACME", 5, price=100, expect=[E("amended", price=100)])
    s.amend("ACME", 5, qty=8, expect=[E("amended", qty=8)])


def test_amend_overflow(s: Script) -> None:
    s.rest("ACME", 1, "a", "buy", I64_MAX, 100)
    s.rest("ACME", 2, "a", "buy", I64_MAX, 100)  # level shows 2**64 - 2
    s.rest("ACME", 3, "a", "buy", 2, 99)
    s.amend("ACME", 3, price=100, expect=[rejected("overflow", order_id=3)])
    s.amend("ACME", 3, qty=1, expect=[E("amended", qty=1)])
    s.amend("ACME", 3, price=100, expect=[E("amended", price=100)])
    assert s.eng.bbo("ACME") == ((100, 2**64 - 1), None)
    # Re-entering at its own level counts only the other orders there.
    s.amend("ACME", 3, qty=2, expect=[rejected("overflow")])
    s.amend("ACME", 1, qty=I64_MAX, price=100, expect=[E("amended")])  # unchanged: no re-entry, no overflow


def test_amend_keeps_order_attributes(s: Script) -> None:
    s.rest("ACME", 1, "a", "sell", 30, 100, display_qty=5, stp="decrement")
    s.amend("ACME", 1, price=101, qty=40)
    o = s.eng.order("ACME", 1)
    assert o is not None
    assert (o.type, o.tif, o.stp, o.display_qty, o.visible_qty, o.account, o.side) == (
        "limit",
        "gtc",
        "decrement",
        5,
        5,
        "a",
        "sell",
    )
