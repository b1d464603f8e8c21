"""The README / issue example, exactly as written, with every event checked."""

from __future__ import annotations

import runpy
import time
from pathlib import Path

from scenario import E, check_step, verify

import pyengine
from pyengine import Engine


def test_readme_example() -> None:
    t0 = time.time_ns()
    eng = Engine()
    eng.add_instrument("ACME", tick_size=1, lot_size=1)
    log: list[pyengine.Event] = []

    def step(evs: list[pyengine.Event], expect: list[dict[str, object]]) -> None:
        check_step(eng, evs, len(log), None)
        verify(evs, expect)
        log.extend(evs)

    none = {"reason": None, "maker_order_id": None, "maker_account": None, "maker_leaves_qty": None}

    evs = eng.submit("ACME", order_id=1, account="acc-1", side="buy", qty=10, price=100)  # limit, gtc
    step(
        evs,
        [
            E(
                "accepted",
                seq=1,
                symbol="ACME",
                order_id=1,
                side="buy",
                account="acc-1",
                price=100,
                qty=10,
                leaves_qty=10,
                **none,
            )
        ],
    )
    evs = eng.submit("ACME", order_id=2, account="acc-2", side="sell", qty=4, type="market")
    step(
        evs,
        [
            E(
                "accepted",
                seq=2,
                symbol="ACME",
                order_id=2,
                side="sell",
                account="acc-2",
                price=None,
                qty=4,
                leaves_qty=4,
                **none,
            ),
            E(
                "trade",
                seq=3,
                symbol="ACME",
                order_id=2,
                side="sell",
                account="acc-2",
                reason=None,
                price=100,
                qty=4,
                leaves_qty=0,
                maker_order_id=1,
                maker_account="acc-1",
                maker_leaves_qty=6,
            ),
        ],
    )
    evs = eng.submit("ACME", order_id=3, account="acc-2", side="sell", qty=5, price=101, tif="ioc", stp="cancel_newest")
    step(
        evs,
        [
            E("accepted", seq=4, symbol="ACME", order_id=3, price=101, qty=5, leaves_qty=5, **none),
            E(
                "cancelled",
                seq=5,
                symbol="ACME",
                order_id=3,
                reason="ioc",
                price=101,
                qty=5,
                leaves_qty=0,
                maker_order_id=None,
            ),
        ],
    )
    evs = eng.submit("ACME", order_id=4, account="acc-3", side="sell", qty=50, price=105, display_qty=10)
    step(evs, [E("accepted", seq=6, symbol="ACME", order_id=4, price=105, qty=50, leaves_qty=50, **none)])
    evs = eng.submit(
        "ACME", order_id=5, account="acc-4", side="buy", qty=5, type="stop_limit", stop_price=104, price=106
    )
    step(evs, [E("accepted", seq=7, symbol="ACME", order_id=5, price=106, qty=5, leaves_qty=5, **none)])
    evs = eng.submit("ACME", order_id=6, account="acc-5", side="buy", qty=5, price=99, post_only=True)
    step(evs, [E("accepted", seq=8, symbol="ACME", order_id=6, price=99, qty=5, leaves_qty=5, **none)])
    evs = eng.amend("ACME", order_id=1, qty=6)  # or price=..., or both
    step(evs, [E("amended", seq=9, symbol="ACME", order_id=1, price=100, qty=6, leaves_qty=2, **none)])
    evs = eng.cancel("ACME", order_id=1)
    step(
        evs,
        [
            E(
                "cancelled",
                seq=10,
                symbol="ACME",
                order_id=1,
                reason="user",
                price=100,
                qty=2,
                leaves_qty=0,
                maker_order_id=None,
            )
        ],
    )
    evs = eng.mass_cancel(account="acc-2")
    step(evs, [])  # acc-2's orders are all finished
    bids, asks = eng.depth("ACME", levels=5)
    assert bids == [(99, 5, 1)]
    assert asks == [(105, 10, 1)]  # the iceberg shows its display only
    assert eng.bbo("ACME") == ((99, 5), (105, 10))
    assert eng.order("ACME", 1) is None
    assert eng.open_orders("acc-2") == []
    assert isinstance(eng.state_hash(), int)
    eng.check_invariants()
    t1 = time.time_ns()

    # Every command above ran without ts: each was stamped from the clock, in order.
    assert all(t0 <= e.ts <= t1 for e in log)
    assert [e.ts for e in log] == sorted(e.ts for e in log)

    stop = eng.order("ACME", 5)
    assert stop is not None and stop.status == "pending_trigger" and stop.stop_price == 104 and stop.price == 106
    ice = eng.order("ACME", 4)
    assert ice is not None and ice.display_qty == 10 and ice.visible_qty == 10 and ice.leaves_qty == 50
    assert eng.last_trade_price("ACME") == 100
    assert eng.seq == 10
    assert eng.live_orders == 3


def test_package_exports() -> None:
    for name in pyengine.__all__:
        assert hasattr(pyengine, name), name
    assert isinstance(pyengine.__version__, str) and pyengine.__version__
    assert issubclass(pyengine.InvariantError, AssertionError)


def test_typecheck_example_runs() -> None:
    """tests/typecheck_example.py (checked by mypy --strict) also runs correctly."""
    runpy.run_path(str(Path(__file__).with_name("typecheck_example.py")), run_name="__main__")
