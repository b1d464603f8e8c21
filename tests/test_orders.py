"""New orders: instruments, limit/market/IOC/FOK, post-only, rejects, seq and ts, queries, hashing, clone."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from conftest import make_engine
from scenario import E, Script, check_step, kinds, queue_ids, rejected, trades

from pyengine import Engine, Event, InvariantError

U64_MAX = 2**64 - 1
I64_MAX = 2**63 - 1
I64_MIN = -(2**63)


# ---- instruments ---------------------------------------------------------------------------


def test_instruments_are_dense_and_named(eng: Engine) -> None:
    assert eng.instruments() == ["ACME", "LOT", "BAND"]
    assert [eng.instrument_id(s) for s in eng.instruments()] == [0, 1, 2]
    assert eng.add_instrument("NEW", 2, 3) == 3
    assert eng.instruments()[-1] == "NEW"
    assert eng.bbo("NEW") == (None, None)
    assert eng.depth("NEW") == ([], [])
    assert eng.last_trade_price("NEW") is None


def test_instrument_defaults_min_one_lot_max_unbounded() -> None:
    eng = Engine()
    eng.add_instrument("X", lot_size=7)
    s = Script(eng)
    s.submit("X", 1, "a", "buy", 7, 10, expect=[E("accepted")])
    s.submit("X", 2, "a", "buy", 14, 10, expect=[E("accepted")])
    s.submit("X", 3, "a", "buy", 3, 10, expect=[rejected("qty_off_lot")])
    big = I64_MAX - I64_MAX % 7
    s.submit("X", 4, "a", "buy", big, 9, expect=[E("accepted", qty=big)])
    eng2 = Engine()
    eng2.add_instrument("Y")  # tick 1, lot 1
    Script(eng2).submit("Y", 1, "a", "buy", 1, -5, expect=[E("accepted", price=-5)])  # negative prices are prices


def test_same_order_id_in_different_instruments_is_independent(s: Script) -> None:
    s.rest("ACME", 1, "a", "buy", 10, 100)
    s.rest("LOT", 1, "a", "buy", 20, 100)
    s.rest("BAND", 1, "a", "sell", 5, 100)
    # A sell in ACME only meets ACME's bid.
    s.submit(
        "ACME",
        2,
        "b",
        "sell",
        3,
        100,
        expect=[E("accepted"), E("trade", symbol="ACME", maker_order_id=1, qty=3)],
    )
    assert s.eng.bbo("LOT") == ((100, 20), None)
    assert s.eng.bbo("BAND") == (None, (100, 5))
    assert s.eng.last_trade_price("LOT") is None
    s.cancel("LOT", 1, expect=[E("cancelled", symbol="LOT", order_id=1, qty=20)])
    assert s.eng.order("ACME", 1) is not None and s.eng.order("BAND", 1) is not None


# ---- limit orders ----------------------------------------------------------------------------


def test_limit_price_then_time_priority_and_resting_price(s: Script) -> None:
    s.rest("ACME", 1, "m1", "sell", 5, 102)
    s.rest("ACME", 2, "m2", "sell", 5, 101)
    s.rest("ACME", 3, "m3", "sell", 5, 101)
    s.rest("ACME", 4, "m4", "sell", 5, 103)
    assert s.eng.depth("ACME") == ([], [(101, 10, 2), (102, 5, 1), (103, 5, 1)])
    evs = s.submit(
        "ACME",
        10,
        "t",
        "buy",
        12,
        102,
        expect=[
            E("accepted", order_id=10, side="buy", account="t", price=102, qty=12, leaves_qty=12),
            E(
                "trade",
                order_id=10,
                maker_order_id=2,
                maker_account="m2",
                price=101,
                qty=5,
                leaves_qty=7,
                maker_leaves_qty=0,
                side="buy",
                account="t",
            ),
            E("trade", order_id=10, maker_order_id=3, price=101, qty=5, leaves_qty=2, maker_leaves_qty=0),
            E("trade", order_id=10, maker_order_id=1, price=102, qty=2, leaves_qty=0, maker_leaves_qty=3),
        ],
    )
    assert trades(evs) == [(10, 2, 101, 5), (10, 3, 101, 5), (10, 1, 102, 2)]
    assert s.eng.depth("ACME") == ([], [(102, 3, 1), (103, 5, 1)])
    assert s.eng.last_trade_price("ACME") == 102
    maker = s.eng.order("ACME", 1)
    assert maker is not None and maker.status == "partially_filled" and maker.filled_qty == 2
    assert s.eng.order("ACME", 10) is None  # filled: not live


def test_limit_remainder_rests_and_does_not_trade_through_limit(s: Script) -> None:
    s.rest("ACME", 1, "m", "buy", 5, 100)
    s.rest("ACME", 2, "m", "buy", 5, 98)
    s.submit(
        "ACME",
        3,
        "t",
        "sell",
        8,
        99,
        expect=[
            E("accepted"),
            E("trade", maker_order_id=1, price=100, qty=5, leaves_qty=3),
        ],
    )
    assert s.eng.bbo("ACME") == ((98, 5), (99, 3))
    o = s.eng.order("ACME", 3)
    assert o is not None
    assert (o.type, o.tif, o.price, o.qty, o.leaves_qty, o.filled_qty, o.status) == (
        "limit",
        "gtc",
        99,
        8,
        3,
        5,
        "partially_filled",
    )


def test_ioc_limit(s: Script) -> None:
    s.rest("ACME", 1, "m", "sell", 5, 100)
    s.submit(
        "ACME",
        2,
        "t",
        "buy",
        8,
        100,
        tif="ioc",
        expect=[
            E("accepted"),
            E("trade", qty=5, leaves_qty=3),
            E("cancelled", order_id=2, reason="ioc", qty=3, leaves_qty=0, price=100),
        ],
    )
    s.submit(
        "ACME",
        3,
        "t",
        "buy",
        8,
        99,
        tif="ioc",
        expect=[E("accepted"), E("cancelled", reason="ioc", qty=8, leaves_qty=0)],
    )
    s.rest("ACME", 4, "m", "sell", 5, 100)
    s.submit("ACME", 5, "t", "buy", 5, 101, tif="ioc", expect=[E("accepted"), E("trade", price=100, qty=5)])
    assert s.eng.bbo("ACME") == (None, None)
    assert s.eng.open_orders("t") == []


def test_market_orders_sweep_and_never_rest(s: Script) -> None:
    s.rest("ACME", 1, "m", "buy", 5, 100)
    s.rest("ACME", 2, "m", "buy", 5, 50)
    s.submit(
        "ACME",
        3,
        "t",
        "sell",
        12,
        type="market",
        expect=[
            E("accepted", price=None, qty=12, leaves_qty=12),
            E("trade", maker_order_id=1, price=100, qty=5, leaves_qty=7),
            E("trade", maker_order_id=2, price=50, qty=5, leaves_qty=2),
            E("cancelled", order_id=3, reason="no_liquidity", qty=2, leaves_qty=0, price=None),
        ],
    )
    for tif in ("gtc", "ioc"):
        s.submit(
            "ACME",
            4,
            "t",
            "sell",
            1,
            type="market",
            tif=tif,
            expect=[E("accepted"), E("cancelled", reason="no_liquidity", qty=1)],
        )
    assert s.eng.live_orders == 0


def test_market_fok(s: Script) -> None:
    s.rest("ACME", 1, "m", "sell", 5, 100)
    s.rest("ACME", 2, "m", "sell", 5, 200)
    s.submit(
        "ACME",
        3,
        "t",
        "buy",
        11,
        type="market",
        tif="fok",
        expect=[E("accepted"), E("cancelled", reason="fok", qty=11, leaves_qty=0)],
    )
    s.submit(
        "ACME",
        4,
        "t",
        "buy",
        10,
        type="market",
        tif="fok",
        expect=[E("accepted"), E("trade", price=100), E("trade", price=200, leaves_qty=0)],
    )


def test_fok_fills_completely_or_not_at_all(s: Script) -> None:
    s.rest("ACME", 1, "m", "sell", 5, 100)
    s.rest("ACME", 2, "m", "sell", 5, 101)
    s.rest("ACME", 3, "m", "sell", 5, 103)
    h = s.eng.state_hash()
    # 15 is available, but only 10 within the limit.
    s.submit(
        "ACME",
        10,
        "t",
        "buy",
        11,
        102,
        tif="fok",
        expect=[E("accepted", qty=11), E("cancelled", order_id=10, reason="fok", qty=11, leaves_qty=0)],
    )
    assert s.eng.depth("ACME")[1] == [(100, 5, 1), (101, 5, 1), (103, 5, 1)]
    assert s.eng.state_hash() != h  # seq moved
    s.submit(
        "ACME",
        11,
        "t",
        "buy",
        10,
        102,
        tif="fok",
        expect=[
            E("accepted"),
            E("trade", maker_order_id=1, qty=5),
            E("trade", maker_order_id=2, qty=5, leaves_qty=0),
        ],
    )
    assert s.eng.depth("ACME")[1] == [(103, 5, 1)]


def test_fok_counts_iceberg_reserve(s: Script) -> None:
    s.rest("ACME", 1, "m", "sell", 50, 100, display_qty=5)
    assert s.eng.depth("ACME")[1] == [(100, 5, 1)]
    s.submit(
        "ACME",
        2,
        "t",
        "buy",
        50,
        100,
        tif="fok",
        expect=[E("accepted")] + [E("trade", maker_order_id=1, qty=5, leaves_qty=50 - 5 * i) for i in range(1, 11)],
    )
    assert s.eng.bbo("ACME") == (None, None)


def test_fok_with_stp(s: Script) -> None:
    s.rest("ACME", 1, "me", "sell", 5, 100)
    s.rest("ACME", 2, "other", "sell", 5, 100)
    s.rest("ACME", 3, "other", "sell", 5, 101)
    # cancel_oldest: own orders do not count, the rest suffices; the own order is cancelled.
    s.submit(
        "ACME",
        10,
        "me",
        "buy",
        10,
        101,
        tif="fok",
        stp="cancel_oldest",
        expect=[
            E("accepted"),
            E("cancelled", order_id=1, reason="stp", qty=5),
            E("trade", maker_order_id=2, qty=5),
            E("trade", maker_order_id=3, qty=5, leaves_qty=0),
        ],
    )
    s.rest("ACME", 4, "me", "sell", 5, 102)
    s.rest("ACME", 5, "other", "sell", 5, 102)
    s.rest("ACME", 6, "other", "sell", 50, 102)
    s.rest("ACME", 7, "me", "sell", 5, 103)
    s.rest("ACME", 8, "other", "sell", 5, 104)
    for mode in ("cancel_newest", "cancel_both", "decrement"):
        # An own order at a level the FOK reaches makes it unfillable, even with plenty of other quantity.
        s.submit(
            "ACME",
            20,
            "me",
            "buy",
            5,
            102,
            tif="fok",
            stp=mode,
            expect=[E("accepted"), E("cancelled", order_id=20, reason="fok", qty=5)],
        )
    assert s.eng.order("ACME", 4) is not None
    # cancel_oldest, but not enough without the own orders: nothing happens.
    s.submit(
        "ACME",
        21,
        "me",
        "buy",
        66,
        104,
        tif="fok",
        stp="cancel_oldest",
        expect=[E("accepted"), E("cancelled", reason="fok", qty=66)],
    )
    # STP none: own orders count and trade.
    s.submit(
        "ACME",
        22,
        "me",
        "buy",
        5,
        102,
        tif="fok",
        stp="none",
        expect=[E("accepted"), E("trade", maker_order_id=4, qty=5, leaves_qty=0)],
    )


def test_fok_own_order_beyond_limit_is_irrelevant(s: Script) -> None:
    s.rest("ACME", 1, "other", "sell", 5, 100)
    s.rest("ACME", 2, "me", "sell", 5, 101)
    s.submit(
        "ACME",
        3,
        "me",
        "buy",
        5,
        100,
        tif="fok",
        stp="cancel_newest",
        expect=[E("accepted"), E("trade", maker_order_id=1, leaves_qty=0)],
    )


# ---- post only -------------------------------------------------------------------------------


def test_post_only(s: Script) -> None:
    s.rest("ACME", 1, "m", "sell", 5, 101)
    s.submit("ACME", 2, "pm", "buy", 5, 100, post_only=True, expect=[E("accepted", order_id=2)])
    o = s.eng.order("ACME", 2)
    assert o is not None and o.post_only
    s.submit("ACME", 3, "pm", "buy", 5, 101, post_only=True, expect=[rejected("would_take", order_id=3)])
    s.submit("ACME", 4, "pm", "sell", 5, 100, post_only=True, expect=[rejected("would_take")])
    s.submit(
        "ACME", 5, "m", "sell", 5, 100, post_only=True, stp="cancel_oldest", expect=[rejected("would_take")]
    )  # whatever its STP mode
    assert s.eng.depth("ACME") == ([(100, 5, 1)], [(101, 5, 1)])
    s.submit("ACME", 6, "pm", "sell", 5, 102, post_only=True, expect=[E("accepted")])


def test_post_only_needs_gtc_limit(s: Script) -> None:
    s.submit("ACME", 1, "a", "buy", 5, 100, post_only=True, tif="ioc", expect=[rejected("invalid_order")])
    s.submit("ACME", 1, "a", "buy", 5, 100, post_only=True, tif="fok", expect=[rejected("invalid_order")])
    s.submit("ACME", 1, "a", "buy", 5, post_only=True, type="market", expect=[rejected("invalid_order")])
    s.submit(
        "ACME",
        1,
        "a",
        "buy",
        5,
        post_only=True,
        type="stop",
        stop_price=100,
        expect=[rejected("invalid_order")],
    )
    s.submit(
        "ACME",
        1,
        "a",
        "buy",
        5,
        100,
        post_only=True,
        type="stop_limit",
        stop_price=100,
        expect=[rejected("invalid_order")],
    )
    assert s.eng.live_orders == 0


def test_reject_precedence(s: Script) -> None:
    """When several checks fail, the first in the documented order names the reason."""
    s.rest("ACME", 1, "a", "sell", 5, 100)
    # duplicate_order_id before invalid_order, invalid_order before invalid_qty ...
    s.submit("ACME", 1, "a", "buy", 0, 99, post_only=True, tif="ioc", expect=[rejected("duplicate_order_id")])
    s.submit("ACME", 2, "a", "buy", 0, 99, post_only=True, tif="ioc", expect=[rejected("invalid_order")])
    # ... invalid_qty before invalid_display, invalid_display before the price checks ...
    s.submit("LOT", 2, "a", "buy", 0, 101, display_qty=30, expect=[rejected("invalid_qty")])
    s.submit("LOT", 2, "a", "buy", 20, 101, display_qty=30, expect=[rejected("invalid_display")])
    # ... price_off_tick before price_band (see test_price_band) and would_take.
    s.submit("LOT", 2, "a", "buy", 20, 101, post_only=True, expect=[rejected("price_off_tick")])
    s.submit("ACME", 2, "a", "buy", 5, 100, post_only=True, expect=[rejected("would_take")])


# ---- rejects -----------------------------------------------------------------------------------


def test_unknown_instrument(s: Script) -> None:
    s.submit(
        "NOPE",
        1,
        "a",
        "buy",
        5,
        100,
        expect=[rejected("unknown_instrument", symbol="NOPE", order_id=1, side=None, account=None, qty=0)],
    )
    # Checked first: a duplicate id, zero qty or bad tick is not reported.
    s.submit("NOPE", 1, "a", "buy", 0, 7, post_only=True, tif="ioc", expect=[rejected("unknown_instrument")])


def test_duplicate_order_id_and_reuse_of_finished_ids(s: Script) -> None:
    s.rest("ACME", 1, "a", "buy", 5, 100)
    s.submit("ACME", 1, "b", "sell", 5, 200, expect=[rejected("duplicate_order_id", order_id=1)])
    # A waiting stop is live too.
    s.submit("ACME", 2, "a", "buy", 5, type="stop", stop_price=150, expect=[E("accepted")])
    s.submit("ACME", 2, "a", "sell", 5, 300, expect=[rejected("duplicate_order_id", order_id=2)])
    # duplicate_order_id comes before invalid_order and the quantity checks.
    s.submit("ACME", 1, "a", "buy", 0, 100, post_only=True, tif="ioc", expect=[rejected("duplicate_order_id")])
    # Ids of finished orders (cancelled, filled, ioc-cancelled, rejected) may be reused.
    s.cancel("ACME", 1, expect=[E("cancelled", reason="user")])
    s.rest("ACME", 1, "a", "buy", 5, 100)
    s.submit("ACME", 3, "b", "sell", 5, 100, expect=[E("accepted"), E("trade", maker_order_id=1, leaves_qty=0)])
    s.submit("ACME", 1, "c", "sell", 1, 90, tif="ioc", expect=[E("accepted"), E("cancelled", reason="ioc")])
    s.rest("ACME", 1, "c", "sell", 1, 90)
    s.rest("ACME", 3, "c", "sell", 1, 91)


def test_quantity_rejects(s: Script) -> None:
    s.submit("ACME", 1, "a", "buy", 0, 100, expect=[rejected("invalid_qty", order_id=1)])
    s.submit("LOT", 1, "a", "buy", 0, 100, expect=[rejected("invalid_qty")])
    s.submit("LOT", 1, "a", "buy", 25, 100, expect=[rejected("qty_off_lot")])
    s.submit("LOT", 1, "a", "buy", 5, 100, expect=[rejected("qty_off_lot")])  # off lot before below min
    s.submit("LOT", 1, "a", "buy", 10, 100, expect=[rejected("qty_below_min")])
    s.submit("LOT", 1, "a", "buy", 1010, 100, expect=[rejected("qty_above_max")])
    s.submit("LOT", 1, "a", "buy", 1005, 100, expect=[rejected("qty_off_lot")])
    s.submit("LOT", 1, "a", "buy", 20, 100, expect=[E("accepted")])
    s.submit("LOT", 2, "a", "buy", 1000, 100, expect=[E("accepted")])
    # The checks apply to every order type.
    s.submit("LOT", 3, "a", "sell", 10, type="market", expect=[rejected("qty_below_min")])
    s.submit("LOT", 3, "a", "sell", 15, type="stop", stop_price=50, expect=[rejected("qty_off_lot")])
    s.submit("LOT", 3, "a", "sell", 2000, 50, type="stop_limit", stop_price=50, expect=[rejected("qty_above_max")])


def test_invalid_display(s: Script) -> None:
    s.submit("ACME", 1, "a", "buy", 10, 100, display_qty=11, expect=[rejected("invalid_display")])
    s.submit("ACME", 1, "a", "buy", 10, 100, display_qty=5, tif="ioc", expect=[rejected("invalid_display")])
    s.submit("ACME", 1, "a", "buy", 10, 100, display_qty=5, tif="fok", expect=[rejected("invalid_display")])
    s.submit("ACME", 1, "a", "buy", 10, display_qty=5, type="market", expect=[rejected("invalid_display")])
    s.submit(
        "ACME",
        1,
        "a",
        "buy",
        10,
        display_qty=5,
        type="stop",
        stop_price=100,
        expect=[rejected("invalid_display")],
    )
    s.submit("LOT", 1, "a", "buy", 100, 100, display_qty=25, expect=[rejected("invalid_display")])
    # Quantity checks come first.
    s.submit("LOT", 1, "a", "buy", 15, 100, display_qty=25, expect=[rejected("qty_off_lot")])
    # Display before price checks.
    s.submit("ACME", 1, "a", "buy", 10, 100, display_qty=11, tif="ioc", expect=[rejected("invalid_display")])
    s.submit("LOT", 1, "a", "buy", 100, 101, display_qty=25, expect=[rejected("invalid_display")])
    # Valid icebergs: display == qty, and a GTC stop-limit (it can rest once triggered).
    s.submit("ACME", 1, "a", "buy", 10, 100, display_qty=10, expect=[E("accepted")])
    s.submit("LOT", 2, "a", "buy", 100, 100, display_qty=20, expect=[E("accepted")])
    s.submit(
        "ACME",
        3,
        "a",
        "buy",
        10,
        100,
        display_qty=5,
        type="stop_limit",
        stop_price=200,
        expect=[E("accepted")],
    )
    o = s.eng.order("ACME", 3)
    assert o is not None and o.display_qty == 5 and o.status == "pending_trigger"


def test_price_off_tick_and_overflow_price(s: Script) -> None:
    s.submit("LOT", 1, "a", "buy", 20, 101, expect=[rejected("price_off_tick")])
    s.submit("LOT", 1, "a", "buy", 20, -3, expect=[rejected("price_off_tick")])
    s.submit("LOT", 1, "a", "buy", 20, type="stop", stop_price=102, expect=[rejected("price_off_tick")])
    s.submit("LOT", 1, "a", "buy", 20, 100, type="stop_limit", stop_price=102, expect=[rejected("price_off_tick")])
    s.submit("LOT", 1, "a", "buy", 20, 101, type="stop_limit", stop_price=100, expect=[rejected("price_off_tick")])
    s.submit("LOT", 1, "a", "buy", 20, -5, expect=[E("accepted", price=-5)])
    s.submit("ACME", 1, "a", "buy", 1, I64_MIN, expect=[rejected("overflow")])
    s.submit("ACME", 1, "a", "buy", 1, type="stop", stop_price=I64_MIN, expect=[rejected("overflow")])
    s.submit("ACME", 1, "a", "buy", 1, I64_MIN, type="stop_limit", stop_price=5, expect=[rejected("overflow")])
    s.submit("ACME", 1, "a", "sell", 1, I64_MAX, expect=[E("accepted", price=I64_MAX)])
    s.submit("ACME", 2, "a", "buy", 1, I64_MIN + 1, expect=[E("accepted", price=I64_MIN + 1)])
    assert s.eng.bbo("ACME") == ((I64_MIN + 1, 1), (I64_MAX, 1))
    # Market orders carry no price to check.
    s.submit("LOT", 3, "a", "sell", 20, type="market", expect=[E("accepted"), E("trade", price=-5)])


def test_price_band(s: Script) -> None:
    # No band check before the first trade.
    s.submit("BAND", 1, "a", "sell", 1, 1000, expect=[E("accepted")])
    s.cancel("BAND", 1)
    s.trade_at("BAND", 100)
    s.submit("BAND", 2, "a", "buy", 1, 89, expect=[rejected("price_band", order_id=2)])
    s.submit("BAND", 2, "a", "sell", 1, 111, expect=[rejected("price_band")])
    s.submit("BAND", 2, "a", "buy", 1, 90, expect=[E("accepted")])
    s.submit("BAND", 3, "a", "sell", 1, 110, expect=[E("accepted")])
    # The limit price of a stop-limit is checked; the stop price is not; market orders are not.
    s.submit("BAND", 4, "a", "buy", 1, 150, type="stop_limit", stop_price=105, expect=[rejected("price_band")])
    s.submit("BAND", 4, "a", "buy", 1, 105, type="stop_limit", stop_price=500, expect=[E("accepted")])
    s.submit("BAND", 5, "a", "buy", 1, type="stop", stop_price=500, expect=[E("accepted")])
    s.submit("BAND", 6, "b", "buy", 1, type="market", expect=[E("accepted"), E("trade", price=110)])
    # The band follows the last trade.
    s.submit("BAND", 7, "a", "buy", 1, 95, expect=[rejected("price_band")])
    s.submit("BAND", 7, "a", "buy", 1, 120, tif="ioc", expect=[E("accepted"), E("cancelled", reason="ioc")])
    # price_off_tick comes before price_band, price_band before would_take.
    other = Engine()
    other.add_instrument("B5", tick_size=5, price_band=10)
    o = Script(other)
    o.trade_at("B5", 100)
    o.submit("B5", 1, "a", "buy", 1, 203, expect=[rejected("price_off_tick")])
    o.rest("B5", 2, "a", "sell", 1, 105)
    o.submit("B5", 3, "a", "buy", 1, 115, post_only=True, expect=[rejected("price_band")])
    o.submit("B5", 3, "a", "buy", 1, 105, post_only=True, expect=[rejected("would_take")])


def test_overflow_of_level_shown_quantity(s: Script) -> None:
    """Two resting orders whose quantities sum past 2**64-1 at one level (default max_qty)."""
    s.rest("ACME", 1, "a", "buy", 2**63, 100)
    s.submit("ACME", 2, "b", "buy", 2**63, 100, expect=[rejected("overflow", order_id=2)])
    s.submit("ACME", 2, "b", "buy", 2**63 - 1, 100, expect=[E("accepted")])
    assert s.eng.bbo("ACME") == ((100, U64_MAX), None)


def test_overflow_with_python_sized_quantities(s: Script) -> None:
    s.rest("ACME", 1, "a", "buy", I64_MAX, 100)
    s.rest("ACME", 2, "a", "buy", I64_MAX, 100)  # shown 2**64 - 2
    s.submit("ACME", 3, "a", "buy", 2, 100, expect=[rejected("overflow", order_id=3)])
    # Only shown quantity counts: an iceberg showing 1 fits, whatever its size.
    s.submit("ACME", 3, "a", "buy", I64_MAX, 100, display_qty=1, expect=[E("accepted")])
    assert s.eng.bbo("ACME") == ((100, U64_MAX), None)
    s.submit("ACME", 4, "a", "buy", 1, 100, expect=[rejected("overflow")])
    # Other levels are unaffected, and a crossing order that fills completely never rests.
    s.rest("ACME", 5, "a", "buy", I64_MAX, 99)
    s.submit("ACME", 6, "b", "sell", 10, 100, expect=[E("accepted"), E("trade", maker_order_id=1, qty=10)])
    s.submit("ACME", 7, "a", "buy", 10, 100, expect=[E("accepted")])  # room again
    # The level's total after trades still reflects exactly what is shown.
    assert s.eng.depth("ACME")[0] == [(100, U64_MAX, 4), (99, I64_MAX, 1)]


# ---- sequencing and time ---------------------------------------------------------------------------


def test_seq_strictly_increasing_engine_wide(s: Script) -> None:
    assert s.eng.seq == 0
    s.submit("ACME", 1, "a", "buy", 5, 100, expect=[E("accepted", seq=1)])
    s.submit("LOT", 1, "a", "buy", 5, 100, expect=[rejected("qty_off_lot", seq=2)])
    s.cancel("BAND", 9, expect=[rejected("unknown_order", seq=3)])
    s.submit("ACME", 2, "b", "sell", 10, 100, expect=[E("accepted", seq=4), E("trade", seq=5)])
    assert s.eng.seq == 5
    s.mass_cancel("b", expect=[E("cancelled", seq=6, reason="mass_cancel")])
    seqs = [e.seq for e in s.log]
    assert seqs == list(range(1, len(seqs) + 1))


def test_ts_passed_through(eng: Engine) -> None:
    evs = eng.submit("ACME", 1, "a", "sell", 5, 100, ts=42)
    evs += eng.submit("ACME", 2, "b", "buy", 7, 100, ts=7)  # ts need not increase: it is the caller's
    evs += eng.amend("ACME", 2, qty=6, ts=2**64 - 1)
    evs += eng.cancel("ACME", 2, ts=0)
    evs += eng.cancel("ACME", 2, ts=5)
    evs += eng.mass_cancel("a", ts=9)
    assert [(e.kind, e.ts) for e in evs] == [
        ("accepted", 42),
        ("accepted", 7),
        ("trade", 7),
        ("amended", 2**64 - 1),
        ("cancelled", 0),
        ("rejected", 5),
    ]


def test_ts_defaults_to_wall_clock(eng: Engine) -> None:
    calls: list[Callable[[], list[Event]]] = [
        lambda: eng.submit("ACME", 1, "a", "sell", 5, 100),
        lambda: eng.submit("ACME", 2, "b", "buy", 7, 100),
        lambda: eng.amend("ACME", 2, price=99),
        lambda: eng.cancel("ACME", 2),
        lambda: eng.cancel("ACME", 2),
        lambda: eng.submit("ACME", 3, "a", "buy", 1, type="stop", stop_price=300),
        lambda: eng.mass_cancel("a"),
    ]
    for call in calls:
        before = time.time_ns()
        evs = call()
        after = time.time_ns()
        assert evs
        assert len({e.ts for e in evs}) == 1  # one command, one timestamp
        assert before <= evs[0].ts <= after


# ---- queries -------------------------------------------------------------------------------------


def test_bbo_and_depth(s: Script) -> None:
    assert s.eng.bbo("ACME") == (None, None)
    for i, (side, price, qty) in enumerate(
        [
            ("buy", 99, 5),
            ("buy", 98, 1),
            ("buy", 99, 2),
            ("buy", 97, 3),
            ("buy", 90, 1),
            ("sell", 101, 4),
            ("sell", 103, 1),
            ("sell", 101, 1),
            ("sell", 102, 6),
        ],
        start=1,
    ):
        s.rest("ACME", i, "a", side, qty, price)
    assert s.eng.bbo("ACME") == ((99, 7), (101, 5))
    assert s.eng.depth("ACME") == (
        [(99, 7, 2), (98, 1, 1), (97, 3, 1), (90, 1, 1)],
        [(101, 5, 2), (102, 6, 1), (103, 1, 1)],
    )
    assert s.eng.depth("ACME", levels=2) == ([(99, 7, 2), (98, 1, 1)], [(101, 5, 2), (102, 6, 1)])
    assert s.eng.depth("ACME", 1) == ([(99, 7, 2)], [(101, 5, 2)])
    assert s.eng.depth("ACME", levels=0) == ([], [])
    assert s.eng.depth("ACME", levels=100) == s.eng.depth("ACME")  # default 10 covers all 4


def test_depth_default_is_ten_levels(s: Script) -> None:
    for i in range(12):
        s.rest("ACME", i + 1, "a", "buy", 1, 100 - i)
    bids, asks = s.eng.depth("ACME")
    assert [p for p, _, _ in bids] == list(range(100, 90, -1)) and asks == []
    assert len(s.eng.depth("ACME", 12)[0]) == 12


def test_order_query(s: Script) -> None:
    s.rest("ACME", 1, "a", "sell", 50, 105, display_qty=10, stp="cancel_both")
    o = s.eng.order("ACME", 1)
    assert o is not None
    assert (o.symbol, o.order_id, o.account, o.side, o.type, o.tif, o.stp, o.post_only) == (
        "ACME",
        1,
        "a",
        "sell",
        "limit",
        "gtc",
        "cancel_both",
        False,
    )
    assert (
        o.price,
        o.stop_price,
        o.qty,
        o.leaves_qty,
        o.filled_qty,
        o.display_qty,
        o.visible_qty,
        o.status,
    ) == (105, None, 50, 50, 0, 10, 10, "new")
    s.submit("ACME", 2, "b", "buy", 13, 105)
    o = s.eng.order("ACME", 1)
    assert o is not None
    assert (o.leaves_qty, o.filled_qty, o.visible_qty, o.status) == (37, 13, 7, "partially_filled")
    s.submit("ACME", 3, "c", "buy", 5, type="stop", stop_price=110, tif="fok", stp="decrement")
    st = s.eng.order("ACME", 3)
    assert st is not None
    assert (st.type, st.tif, st.stp, st.price, st.stop_price, st.status, st.display_qty, st.leaves_qty) == (
        "stop",
        "fok",
        "decrement",
        None,
        110,
        "pending_trigger",
        None,
        5,
    )
    assert "Order(" in repr(st)
    # None: unknown id, filled, cancelled.
    assert s.eng.order("ACME", 99) is None
    s.rest("ACME", 4, "d", "buy", 1, 100)
    s.submit("ACME", 5, "e", "sell", 1, 100)
    assert s.eng.order("ACME", 4) is None
    s.cancel("ACME", 1)
    assert s.eng.order("ACME", 1) is None
    assert s.eng.order("LOT", 3) is None  # ids are per instrument


def test_open_orders_order_and_content(s: Script) -> None:
    s.rest("BAND", 5, "a", "buy", 1, 100)
    s.rest("ACME", 9, "a", "buy", 1, 100)
    s.rest("LOT", 2, "a", "sell", 20, 200)
    s.rest("ACME", 3, "a", "sell", 1, 200)
    s.submit("ACME", 7, "a", "buy", 1, type="stop", stop_price=300, expect=[E("accepted")])
    s.rest("BAND", 1, "a", "buy", 1, 99)
    s.rest("ACME", 4, "b", "buy", 1, 100)
    got = [(o.symbol, o.order_id) for o in s.eng.open_orders("a")]
    assert got == [("ACME", 3), ("ACME", 7), ("ACME", 9), ("LOT", 2), ("BAND", 1), ("BAND", 5)]
    assert all(o.account == "a" for o in s.eng.open_orders("a"))
    assert [o.order_id for o in s.eng.open_orders("b")] == [4]
    assert s.eng.open_orders("nobody") == []
    assert s.eng.live_orders == 7


def test_accounts_first_seen_order(s: Script) -> None:
    assert s.eng.accounts() == []
    s.submit("ACME", 1, "z", "buy", 1, 1)
    s.submit("NOPE", 1, "y", "buy", 1, 1)  # a rejected order still names its account
    s.submit("ACME", 2, "z", "buy", 1, 1)
    assert s.eng.accounts() == ["z", "y"]
    assert s.eng.account_id("y") == 1
    assert s.eng.account_id("x") == 2
    assert s.eng.accounts() == ["z", "y", "x"]


def test_memory_and_repr(s: Script) -> None:
    s.rest("ACME", 1, "a", "buy", 1, 1)
    assert isinstance(s.eng.memory_bytes, int) and s.eng.memory_bytes > 0
    assert repr(s.eng) == "Engine(instruments=3, live_orders=1, seq=1)"
    ev = s.eng.cancel("ACME", 1, ts=5)[0]
    assert repr(ev).startswith('Event(seq=2, kind="cancelled"')


def test_event_equality() -> None:
    a, b = make_engine(), make_engine()
    ea = a.submit("ACME", 1, "x", "buy", 1, 1, ts=3)
    eb = b.submit("ACME", 1, "x", "buy", 1, 1, ts=3)
    assert ea == eb
    assert ea[0] != b.submit("ACME", 2, "x", "buy", 1, 1, ts=3)[0]
    assert ea[0] != "accepted"


# ---- state hash, clone, invariants -------------------------------------------------------------


Step = tuple[str, tuple[Any, ...], dict[str, Any]]


def build(routes: Sequence[Step]) -> Engine:
    eng = make_engine()
    for method, args, kwargs in routes:
        before = eng.seq
        evs = getattr(eng, method)(*args, ts=1, **kwargs)
        check_step(eng, evs, before, 1)
    return eng


def test_state_hash_equal_for_equal_states_by_different_routes() -> None:
    # Same book, same seq count, same accounts, reached differently (other slab slots, amend vs direct).
    a = build(
        [
            ("submit", ("ACME", 1, "x", "buy", 10, 100), {}),
            ("submit", ("ACME", 2, "x", "buy", 5, 99), {}),
            ("submit", ("LOT", 1, "x", "sell", 20, 200), {}),
            ("amend", ("ACME", 1), {"qty": 7}),
        ]
    )
    b = build(
        [
            ("submit", ("LOT", 7, "x", "sell", 20, 200), {}),
            ("cancel", ("LOT", 7), {}),
            ("submit", ("ACME", 2, "x", "buy", 5, 99), {}),
            ("submit", ("ACME", 1, "x", "buy", 7, 100), {}),
            ("submit", ("LOT", 1, "x", "sell", 20, 200), {}),
        ]
    )
    assert a.depth("ACME") == b.depth("ACME") and a.depth("LOT") == b.depth("LOT")
    assert (a.seq, b.seq) == (4, 5)
    assert a.state_hash() != b.state_hash()  # seq is part of the state
    a.cancel("ACME", 99, ts=1)  # a reject: only seq moves
    assert a.state_hash() == b.state_hash()
    assert a.clone().state_hash() == a.state_hash()


def test_state_hash_equal_with_waiting_stops_reached_by_different_routes() -> None:
    """Waiting stops enter the hash in trigger order; when they arrived (their seq) does not."""
    stop_a: Step = ("submit", ("ACME", 1, "x", "buy", 5), {"type": "stop", "stop_price": 110})
    stop_b: Step = ("submit", ("ACME", 2, "x", "buy", 5), {"type": "stop", "stop_price": 110})
    reject: Step = ("cancel", ("ACME", 99), {})
    a = build([stop_a, stop_b, reject])
    b = build([reject, stop_a, stop_b])
    assert [o.order_id for o in a.open_orders("x")] == [o.order_id for o in b.open_orders("x")] == [1, 2]
    assert a.seq == b.seq
    assert a.state_hash() == b.state_hash()
    # Trigger order is state: the same stops queued the other way round hash differently.
    c = build([reject, stop_b, stop_a])
    assert c.state_hash() != a.state_hash()


def test_state_hash_differs_for_different_states() -> None:
    first: Step = ("submit", ("ACME", 1, "x", "buy", 10, 100), {})

    def second(*args: Any, **kwargs: Any) -> list[Step]:
        return [first, ("submit", args, kwargs)]

    base = second("ACME", 2, "x", "buy", 5, 100)
    variants = {
        "base": base,
        "other price": second("ACME", 2, "x", "buy", 5, 99),
        "other qty": second("ACME", 2, "x", "buy", 6, 100),
        "other side": second("ACME", 2, "x", "sell", 5, 101),
        "other id": second("ACME", 3, "x", "buy", 5, 100),
        "other account": second("ACME", 2, "y", "buy", 5, 100),
        "queue order": base[::-1],
        "other instrument": second("BAND", 2, "x", "buy", 5, 100),
        "iceberg": second("ACME", 2, "x", "buy", 5, 100, display_qty=1),
        "stp": second("ACME", 2, "x", "buy", 5, 100, stp="decrement"),
        "post only": second("ACME", 2, "x", "buy", 5, 100, post_only=True),
        "tif": second("ACME", 2, "x", "buy", 5, type="stop", stop_price=200, tif="ioc"),
        "stop": second("ACME", 2, "x", "buy", 5, type="stop", stop_price=200),
        "stop price": second("ACME", 2, "x", "buy", 5, type="stop", stop_price=201),
        "one more seq": [*base, ("cancel", ("ACME", 3), {})],
    }
    hashes = {name: build(route).state_hash() for name, route in variants.items()}
    assert len(set(hashes.values())) == len(hashes), hashes
    # Last trade price is state too.
    a = build([("submit", ("ACME", 1, "x", "buy", 1, 100), {}), ("submit", ("ACME", 2, "y", "sell", 1, 100), {})])
    b = build([("submit", ("ACME", 1, "x", "buy", 1, 101), {}), ("submit", ("ACME", 2, "y", "sell", 1, 101), {})])
    assert a.depth("ACME") == b.depth("ACME") == ([], [])
    assert a.state_hash() != b.state_hash()


def test_state_hash_is_deterministic_across_engines() -> None:
    route: list[Step] = [
        ("submit", ("ACME", i, f"acc{i % 3}", "buy" if i % 2 else "sell", i, 100 + i % 5), {}) for i in range(1, 30)
    ]
    assert build(route).state_hash() == build(route).state_hash()


def test_clone_is_independent(s: Script) -> None:
    s.rest("ACME", 1, "a", "sell", 10, 100)
    s.submit("ACME", 2, "b", "buy", 5, type="stop", stop_price=100)
    c = s.eng.clone()
    assert c.state_hash() == s.eng.state_hash()
    assert c.instruments() == s.eng.instruments() and c.accounts() == s.eng.accounts()
    h = s.eng.state_hash()
    # Changing the clone leaves the original alone.
    cs = Script(c)
    cs.submit(
        "ACME",
        3,
        "c",
        "buy",
        1,
        100,
        expect=[
            E("accepted"),
            E("trade", maker_order_id=1),
            E("triggered", order_id=2, price=100),
            E("trade", order_id=2, maker_order_id=1, qty=5),
        ],
    )
    c.add_instrument("ONLY_IN_CLONE")
    assert s.eng.state_hash() == h
    assert s.eng.order("ACME", 2) is not None and c.order("ACME", 2) is None
    assert s.eng.instruments() == ["ACME", "LOT", "BAND"]
    with pytest.raises(KeyError):
        s.eng.bbo("ONLY_IN_CLONE")
    # And the other way round.
    s.cancel("ACME", 1)
    assert c.order("ACME", 1) is not None
    # The same command on equal engines gives equal events.
    d = s.eng.clone()
    assert d.submit("ACME", 5, "x", "sell", 1, 100, ts=3) == s.eng.submit("ACME", 5, "x", "sell", 1, 100, ts=3)
    assert d.state_hash() == s.eng.state_hash()
    c.check_invariants()
    d.check_invariants()


def test_check_invariants_passes_on_a_busy_book(s: Script) -> None:
    s.eng.check_invariants()
    for i in range(1, 200):
        side = "buy" if i % 2 else "sell"
        price = 100 + (i * 7) % 11 - 5
        kwargs: dict[str, Any] = {}
        if i % 5 == 0:
            kwargs["display_qty"] = 2
        if i % 7 == 0:
            kwargs["stp"] = "decrement"
        s.submit("ACME", i, f"acc{i % 4}", side, 1 + i % 9, price, **kwargs)
        if i % 6 == 0:
            s.amend("ACME", i - 3, qty=1 + i % 4)
        if i % 10 == 0:
            s.cancel("ACME", i - 5)
    assert "trade" in kinds(s.log) and "cancelled" in kinds(s.log)
    with pytest.raises(AssertionError):
        raise InvariantError("InvariantError is an AssertionError")


def test_queue_helper_sanity(s: Script) -> None:
    s.rest("ACME", 1, "a", "sell", 1, 100)
    s.rest("ACME", 2, "a", "sell", 1, 100)
    assert queue_ids(s.submit("ACME", 3, "b", "buy", 2, 100)) == [1, 2]
