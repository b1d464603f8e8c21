"""OrderStates: done orders leave the garbage collector's view but stay answerable."""

from __future__ import annotations

import gc

from pyengine.gateway.orderlog import OrderState
from pyengine.gateway.orderstates import OrderStates


def _state(order_id: int, **kw: object) -> OrderState:
    return OrderState(order_id, "S1", f"C{order_id}", "ACME", "buy", "acc", 10, **kw)  # type: ignore[arg-type]


def test_a_finished_order_is_compacted_at_retire_and_rebuilt_on_lookup() -> None:
    states = OrderStates()
    s = _state(7)
    states.add(s)
    assert states.get(7) is s and 7 in states and len(states) == 1
    s.cum_qty, s.notional, s.status, s.done = 10, 1000, "2", True
    states.finished(s)
    assert states.live[7] is s, "still live until retire: its reports are being built"
    states.retire()
    assert 7 not in states.live and 7 in states and len(states) == 1
    copy = states.get(7)
    assert copy is not None and copy is not s
    assert (copy.order_id, copy.cl_ord_id, copy.cum_qty, copy.notional, copy.status, copy.done) == (
        7, "C7", 10, 1000, "2", True,
    )  # fmt: skip
    copy.status = "X"
    assert states.get(7).status == "2", "a copy: changing it changes nothing"  # type: ignore[union-attr]


def test_done_orders_are_not_tracked_by_the_collector() -> None:
    states = OrderStates()
    for i in range(1000):
        s = _state(i)
        states.add(s)
        s.done = True
        states.finished(s)
    states.retire()
    gc.collect()
    assert not states.live
    assert not any(gc.is_tracked(t) for t in states._done.values())


def test_restored_done_orders_go_straight_to_the_compact_form_and_ids_keep_growing() -> None:
    states = OrderStates()
    assert states.max_order_id() is None
    states.add(_state(5, done=True, status="4"))
    states.add(_state(9))
    assert list(states.live) == [9] and states.max_order_id() == 9
    done = states.get(5)
    assert done is not None and done.done and done.status == "4"
    assert states.get(6) is None


def test_an_order_finished_twice_or_replaced_is_retired_once() -> None:
    states = OrderStates()
    s = _state(1)
    states.add(s)
    s.done = True
    states.finished(s)
    states.finished(s)
    states.retire()
    states.retire()
    assert states.get(1) is not None and not states.live
