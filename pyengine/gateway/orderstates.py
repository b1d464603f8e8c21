"""The gateway's order states: live orders as :class:`OrderState` objects, done ones compacted.

A done order is still looked up — an OrderStatusRequest, a late cancel naming it, a reused ClOrdID — but
never changes again. Keeping it as an ``OrderState`` object would keep one garbage-collected object per
order ever seen, and a full collection walks all of them: at tens of thousands of orders a second that grew
into pauses of tens of milliseconds. A done order is therefore kept as a tuple of strings and ints, which
the collector stops tracking after its first pass, and rebuilt as an ``OrderState`` when it is asked for.

At most ``max_done`` done orders are kept (the configuration's ``done_orders_kept``), the oldest forgotten
first, so memory stays bounded however long the gateway runs.
"""

from __future__ import annotations

from pyengine.gateway.orderlog import OrderState

__all__ = ["OrderStates"]

# (session, cl_ord_id, symbol, side, account, qty, cum_qty, notional, status): OrderState without
# order_id (the key) and done (always True).
_Done = tuple[str, str, str, str, str, int, int, int, str]


class OrderStates:
    def __init__(self, max_done: int = 1_000_000) -> None:
        if max_done < 0:
            raise ValueError(f"max_done must be >= 0, got {max_done}")
        self.max_done = max_done
        self.live: dict[int, OrderState] = {}
        self._done: dict[int, _Done] = {}
        self._finished: list[OrderState] = []
        self.forgotten: list[tuple[str, str, int]] = []  # (session, cl_ord_id, order_id) evicted, for the caller

    def __len__(self) -> int:
        return len(self.live) + len(self._done)

    def __contains__(self, order_id: int) -> bool:
        return order_id in self.live or order_id in self._done

    def add(self, state: OrderState) -> None:
        if state.done:
            self._done[state.order_id] = _compact(state)
            self._evict()
        else:
            self.live[state.order_id] = state

    def get(self, order_id: int) -> OrderState | None:
        """The order's state; for a done order a fresh copy (changing it changes nothing)."""
        state = self.live.get(order_id)
        if state is not None:
            return state
        done = self._done.get(order_id)
        return OrderState(order_id, *done, done=True) if done is not None else None

    def finished(self, state: OrderState) -> None:
        """``state`` became done; it is compacted at the next :meth:`retire` (its reports may still be built)."""
        self._finished.append(state)

    def retire(self) -> None:
        """Compact the orders that finished since the last call."""
        for state in self._finished:
            if state.done and self.live.pop(state.order_id, None) is state:
                self._done[state.order_id] = _compact(state)
        self._finished.clear()
        self._evict()

    def _evict(self) -> None:
        """Forget the oldest done orders beyond ``max_done`` (dicts keep insertion order: oldest first)."""
        done = self._done
        while len(done) > self.max_done:
            order_id = next(iter(done))
            session, cl_ord_id = done.pop(order_id)[:2]
            self.forgotten.append((session, cl_ord_id, order_id))

    def max_order_id(self) -> int | None:
        ids = [max(d) for d in (self.live, self._done) if d]
        return max(ids) if ids else None


def _compact(s: OrderState) -> _Done:
    return (s.session, s.cl_ord_id, s.symbol, s.side, s.account, s.qty, s.cum_qty, s.notional, s.status)
