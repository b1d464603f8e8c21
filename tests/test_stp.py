"""Self-trade prevention: the incoming order's mode, all five modes, decrement sizes."""

from __future__ import annotations

import pytest
from scenario import E, Script, queue_ids


def book(s: Script) -> None:
    """Own order 1 (5) ahead of another account's order 2 (5), both selling at 100; more at 101."""
    s.rest("ACME", 1, "me", "sell", 5, 100)
    s.rest("ACME", 2, "other", "sell", 5, 100)
    s.rest("ACME", 3, "other", "sell", 5, 101)


def test_none_trades_with_own_orders(s: Script) -> None:
    book(s)
    s.submit(
        "ACME",
        10,
        "me",
        "buy",
        5,
        100,
        expect=[E("accepted"), E("trade", order_id=10, maker_order_id=1, account="me", maker_account="me")],
    )


def test_other_accounts_are_not_affected(s: Script) -> None:
    book(s)
    for i, mode in enumerate(("cancel_newest", "cancel_oldest", "cancel_both", "decrement")):
        s.submit(
            "ACME",
            10 + i,
            "third",
            "buy",
            1,
            100,
            stp=mode,
            expect=[E("accepted"), E("trade", maker_order_id=1, qty=1, maker_leaves_qty=4 - i)],
        )


def test_cancel_newest_cancels_the_incoming_remainder(s: Script) -> None:
    s.rest("ACME", 1, "other", "sell", 2, 100)
    s.rest("ACME", 2, "me", "sell", 5, 100)
    s.rest("ACME", 3, "other", "sell", 5, 100)
    s.submit(
        "ACME",
        10,
        "me",
        "buy",
        10,
        100,
        stp="cancel_newest",
        expect=[
            E("accepted"),
            E("trade", maker_order_id=1, qty=2, leaves_qty=8),
            E("cancelled", order_id=10, reason="stp", qty=8, leaves_qty=0, price=100),
        ],
    )
    assert s.eng.depth("ACME")[1] == [(100, 10, 2)]  # the resting own order stays
    assert s.eng.order("ACME", 10) is None


def test_cancel_oldest_cancels_resting_and_keeps_matching(s: Script) -> None:
    book(s)
    s.rest("ACME", 4, "me", "sell", 5, 101)
    s.submit(
        "ACME",
        10,
        "me",
        "buy",
        12,
        101,
        stp="cancel_oldest",
        expect=[
            E("accepted"),
            E(
                "cancelled",
                order_id=1,
                reason="stp",
                qty=5,
                leaves_qty=0,
                account="me",
                side="sell",
                price=100,
            ),
            E("trade", maker_order_id=2, qty=5, leaves_qty=7),
            E("trade", maker_order_id=3, qty=5, leaves_qty=2),
            E("cancelled", order_id=4, reason="stp", qty=5),
        ],
    )
    assert s.eng.depth("ACME") == ([(101, 2, 1)], [])


def test_cancel_both(s: Script) -> None:
    book(s)
    s.submit(
        "ACME",
        10,
        "me",
        "buy",
        12,
        101,
        stp="cancel_both",
        expect=[
            E("accepted"),
            E("cancelled", order_id=1, reason="stp", qty=5, leaves_qty=0),
            E("cancelled", order_id=10, reason="stp", qty=12, leaves_qty=0),
        ],
    )
    assert s.eng.depth("ACME")[1] == [(100, 5, 1), (101, 5, 1)]


def test_decrement_incoming_smaller(s: Script) -> None:
    book(s)
    s.submit(
        "ACME",
        10,
        "me",
        "buy",
        3,
        100,
        stp="decrement",
        expect=[
            E("accepted"),
            E("cancelled", order_id=1, reason="stp", qty=3, leaves_qty=2),  # the reduction of the resting order
            E("cancelled", order_id=10, reason="stp", qty=3, leaves_qty=0),
        ],
    )
    # The reduced resting order keeps its place at the front.
    assert s.eng.depth("ACME")[1] == [(100, 7, 2), (101, 5, 1)]
    o = s.eng.order("ACME", 1)
    assert o is not None and o.leaves_qty == 2
    assert queue_ids(s.submit("ACME", 11, "x", "buy", 2, 100)) == [1]


def test_decrement_incoming_larger_keeps_matching(s: Script) -> None:
    book(s)
    s.submit(
        "ACME",
        10,
        "me",
        "buy",
        8,
        100,
        stp="decrement",
        expect=[
            E("accepted"),
            E("cancelled", order_id=1, reason="stp", qty=5, leaves_qty=0),
            E("cancelled", order_id=10, reason="stp", qty=5, leaves_qty=3),  # the reduction of the incoming order
            E("trade", order_id=10, maker_order_id=2, qty=3, leaves_qty=0, maker_leaves_qty=2),
        ],
    )


def test_decrement_equal_sizes_cancel_both(s: Script) -> None:
    book(s)
    s.submit(
        "ACME",
        10,
        "me",
        "buy",
        5,
        100,
        stp="decrement",
        expect=[
            E("accepted"),
            E("cancelled", order_id=1, reason="stp", qty=5, leaves_qty=0),
            E("cancelled", order_id=10, reason="stp", qty=5, leaves_qty=0),
        ],
    )
    assert s.eng.depth("ACME")[1] == [(100, 5, 1), (101, 5, 1)]


def test_decrement_against_several_own_orders_then_rest(s: Script) -> None:
    s.rest("ACME", 1, "me", "sell", 2, 100)
    s.rest("ACME", 2, "me", "sell", 3, 100)
    s.rest("ACME", 3, "other", "sell", 1, 100)
    s.submit(
        "ACME",
        10,
        "me",
        "buy",
        10,
        100,
        stp="decrement",
        expect=[
            E("accepted"),
            E("cancelled", order_id=1, qty=2, leaves_qty=0),
            E("cancelled", order_id=10, qty=2, leaves_qty=8),
            E("cancelled", order_id=2, qty=3, leaves_qty=0),
            E("cancelled", order_id=10, qty=3, leaves_qty=5),
            E("trade", order_id=10, maker_order_id=3, qty=1, leaves_qty=4),
        ],
    )
    o = s.eng.order("ACME", 10)
    assert o is not None and o.leaves_qty == 4 and s.eng.depth("ACME")[0] == [(100, 4, 1)]


def test_decrement_against_an_iceberg_reduces_hidden_first(s: Script) -> None:
    s.rest("ACME", 1, "me", "sell", 30, 100, display_qty=10)
    s.submit(
        "ACME",
        10,
        "me",
        "buy",
        25,
        100,
        stp="decrement",
        expect=[
            E("accepted"),
            E("cancelled", order_id=1, qty=25, leaves_qty=5),
            E("cancelled", order_id=10, qty=25),
        ],
    )
    o = s.eng.order("ACME", 1)
    assert o is not None and (o.leaves_qty, o.visible_qty) == (5, 5)
    assert s.eng.depth("ACME")[1] == [(100, 5, 1)]


def test_mode_of_the_incoming_order_applies(s: Script) -> None:
    s.rest("ACME", 1, "me", "sell", 5, 100, stp="cancel_both")
    s.submit(
        "ACME",
        10,
        "me",
        "buy",
        5,
        100,
        stp="none",
        expect=[E("accepted"), E("trade", maker_order_id=1, qty=5)],
    )


def test_stp_on_amend_reentry(s: Script) -> None:
    s.rest("ACME", 1, "me", "sell", 5, 101)
    s.rest("ACME", 2, "me", "buy", 5, 99, stp="cancel_newest")
    s.amend(
        "ACME",
        2,
        price=101,
        expect=[E("amended", order_id=2, price=101), E("cancelled", order_id=2, reason="stp", qty=5)],
    )
    assert s.eng.order("ACME", 2) is None and s.eng.order("ACME", 1) is not None


@pytest.mark.parametrize("taker_qty", [3, 8])
def test_decrement_is_not_a_fill(s: Script, taker_qty: int) -> None:
    """STP reductions are not trades: filled_qty counts traded quantity only."""
    s.rest("ACME", 1, "me", "sell", 5, 100)
    s.submit("ACME", 10, "me", "buy", taker_qty, 100, stp="decrement")
    assert "trade" not in [e.kind for e in s.log]
    live = s.eng.order("ACME", 1) or s.eng.order("ACME", 10)
    assert live is not None and live.leaves_qty == abs(taker_qty - 5)
    assert live.filled_qty == 0, f"order {live.order_id} reports filled_qty={live.filled_qty} with no trade"
    assert live.status == "new"
