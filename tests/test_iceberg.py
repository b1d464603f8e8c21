"""Iceberg orders: only the display shows, refills join the back of the queue, takers trade in full."""

from __future__ import annotations

from scenario import E, Script, queue_ids, rejected


def test_depth_shows_only_the_display(s: Script) -> None:
    s.rest("ACME", 1, "ice", "sell", 100, 101, display_qty=10)
    s.rest("ACME", 2, "m", "sell", 5, 101)
    assert s.eng.depth("ACME") == ([], [(101, 15, 2)])
    assert s.eng.bbo("ACME") == (None, (101, 15))
    o = s.eng.order("ACME", 1)
    assert o is not None and (o.qty, o.leaves_qty, o.display_qty, o.visible_qty) == (100, 100, 10, 10)
    plain = s.eng.order("ACME", 2)
    assert plain is not None and plain.display_qty is None and plain.visible_qty == 5


def test_refill_goes_to_the_back_of_the_queue(s: Script) -> None:
    s.rest("ACME", 1, "ice", "sell", 25, 100, display_qty=10)
    s.rest("ACME", 2, "m", "sell", 10, 100)
    # Taking exactly the shown slice refills the iceberg behind order 2.
    s.submit(
        "ACME",
        10,
        "t",
        "buy",
        10,
        100,
        expect=[E("accepted"), E("trade", maker_order_id=1, qty=10, maker_leaves_qty=15, leaves_qty=0)],
    )
    assert s.eng.depth("ACME")[1] == [(100, 20, 2)]
    assert queue_ids(s.submit("ACME", 11, "t", "buy", 10, 100)) == [2]
    # The last slice is min(display, leaves): 10, then 5.
    evs = s.submit(
        "ACME",
        12,
        "t",
        "buy",
        20,
        100,
        expect=[
            E("accepted"),
            E("trade", maker_order_id=1, qty=10, maker_leaves_qty=5, leaves_qty=10),
            E("trade", maker_order_id=1, qty=5, maker_leaves_qty=0, leaves_qty=5),
        ],
    )
    assert queue_ids(evs) == [1, 1]
    assert s.eng.depth("ACME") == ([(100, 5, 1)], [])


def test_one_taker_walks_the_queue_with_refills(s: Script) -> None:
    s.rest("ACME", 1, "ice", "sell", 30, 100, display_qty=10)
    s.rest("ACME", 2, "m", "sell", 4, 100)
    s.rest("ACME", 3, "ice2", "sell", 9, 100, display_qty=3)
    s.rest("ACME", 4, "m", "sell", 50, 101)
    evs = s.submit("ACME", 10, "t", "buy", 50, 100)
    # 1 (10), 2 (4), 3 (3), 1 refilled (10), 3 refilled (3), 1 (10), 3 (3)
    assert [(e.maker_order_id, e.qty) for e in evs if e.kind == "trade"] == [
        (1, 10),
        (2, 4),
        (3, 3),
        (1, 10),
        (3, 3),
        (1, 10),
        (3, 3),
    ]
    assert s.eng.depth("ACME") == ([(100, 7, 1)], [(101, 50, 1)])


def test_iceberg_as_taker_trades_its_full_quantity_then_rests_showing_display(s: Script) -> None:
    s.rest("ACME", 1, "m", "sell", 25, 100)
    s.submit(
        "ACME",
        2,
        "ice",
        "buy",
        40,
        100,
        display_qty=5,
        expect=[E("accepted", qty=40, leaves_qty=40), E("trade", maker_order_id=1, qty=25, leaves_qty=15)],
    )
    assert s.eng.depth("ACME") == ([(100, 5, 1)], [])
    o = s.eng.order("ACME", 2)
    assert o is not None and (o.leaves_qty, o.visible_qty, o.filled_qty) == (15, 5, 25)


def test_hidden_quantity_is_cancelled_too(s: Script) -> None:
    s.rest("ACME", 1, "ice", "sell", 25, 100, display_qty=10)
    s.submit("ACME", 2, "t", "buy", 12, 100)
    s.cancel("ACME", 1, expect=[E("cancelled", order_id=1, reason="user", qty=13, leaves_qty=0)])
    assert s.eng.depth("ACME") == ([], [])


def test_iceberg_amend_down_keeps_priority_and_trims_the_shown_slice(s: Script) -> None:
    s.rest("ACME", 1, "ice", "sell", 30, 100, display_qty=10)
    s.rest("ACME", 2, "m", "sell", 5, 100)
    s.amend("ACME", 1, qty=6, expect=[E("amended", order_id=1, qty=6, leaves_qty=6, price=100)])
    assert s.eng.depth("ACME")[1] == [(100, 11, 2)]
    o = s.eng.order("ACME", 1)
    assert o is not None and o.visible_qty == 6
    assert queue_ids(s.submit("ACME", 3, "t", "buy", 6, 100)) == [1]


def test_iceberg_amend_up_loses_priority_and_shows_a_fresh_slice(s: Script) -> None:
    s.rest("ACME", 1, "ice", "sell", 30, 100, display_qty=10)
    s.rest("ACME", 2, "m", "sell", 5, 100)
    s.submit("ACME", 3, "t", "buy", 4, 100)  # 1 shows 6 of 26
    s.amend("ACME", 1, qty=40, expect=[E("amended", qty=40, leaves_qty=36)])
    assert s.eng.depth("ACME")[1] == [(100, 15, 2)]
    assert queue_ids(s.submit("ACME", 4, "t", "buy", 6, 100)) == [2, 1]


def test_lot_sized_iceberg(s: Script) -> None:
    s.rest("LOT", 1, "ice", "buy", 100, 200, display_qty=20)
    s.submit("LOT", 2, "ice", "buy", 100, 200, display_qty=15, expect=[rejected("invalid_display")])
    s.submit(
        "LOT",
        3,
        "t",
        "sell",
        30,
        200,
        expect=[
            E("accepted"),
            E("trade", qty=20, maker_leaves_qty=80),
            E("trade", qty=10, maker_leaves_qty=70),
        ],
    )
    assert s.eng.depth("LOT") == ([(200, 10, 1)], [])
