"""Shared glue of akhil4n-orderbook and cython-orderbook, which have the same API.

Both keep a ``SortedDict`` of price levels per side, each an ``OrderedDict`` of orders:
``OrderBook.add_limit_order(order)``, ``add_market_order(order)``, ``cancel_order(order_id)``,
with ``Order`` objects that number themselves from a module-wide counter (string ids) and
a ``trade_log`` list the book appends a ``Trade`` (with ``datetime.now()``) to per fill.
Neither has IOC or amend: the adapter emulates IOC as add + cancel of the rest, and an
amend as cancel + add (a new order at the back of the queue, which is what a price amend
does in our engine; a quantity reduce keeps its place in ours). A small glue function per
operation keeps our order id -> their order object; one ``OrderBook`` per instrument.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyengine.workloads import Workload

from .base import AMEND_PRICE, AMEND_QTY, CANCEL, GTC, IOC, MARKET, Adapter, Call, CommandArray, Op, Outcome, symbols

#: (side, price, qty) -> a limit order; (side, qty) -> a market order.
LimitFactory = Callable[[Any, int, int], Any]
MarketFactory = Callable[[Any, int], Any]


def _glue(ob: Any, live: dict[int, Any], limit_order: LimitFactory, market_order: MarketFactory) -> dict[int, Any]:
    add_limit, add_market, cancel_order = ob.add_limit_order, ob.add_market_order, ob.cancel_order

    def gtc(oid: int, side: Any, price: int, qty: int) -> None:
        o = limit_order(side, price, qty)
        add_limit(o)
        if o.remaining_quantity:
            live[oid] = o

    def ioc(oid: int, side: Any, price: int, qty: int) -> None:  # emulated: add, then cancel the rest
        o = limit_order(side, price, qty)
        add_limit(o)
        if o.remaining_quantity:
            cancel_order(o.order_id)

    def market(oid: int, side: Any, price: int, qty: int) -> None:
        add_market(market_order(side, qty))

    def cancel(oid: int, side: Any, price: int, qty: int) -> None:
        o = live.pop(oid, None)
        if o is not None:
            cancel_order(o.order_id)

    def amend(oid: int, side: Any, price: int, leaves: int) -> None:  # emulated: cancel + add
        o = live.pop(oid, None)
        if o is None or not cancel_order(o.order_id):
            return
        n = limit_order(o.side, price or o.price, leaves or o.remaining_quantity)
        add_limit(n)
        if n.remaining_quantity:
            live[oid] = n

    return {GTC: gtc, IOC: ioc, MARKET: market, CANCEL: cancel, AMEND_PRICE: amend, AMEND_QTY: amend}


@dataclass
class Book:
    books: list[Any]
    live: list[dict[int, Any]]


@dataclass
class SortedDictBookAdapter(Adapter):
    """Adapter of an akhil4n-style order book; subclasses give the module's classes."""

    native: frozenset[int] = frozenset({GTC, MARKET, CANCEL})
    emulated: dict[int, str] = field(
        default_factory=lambda: {
            IOC: "add_limit_order, then cancel_order of the rest",
            AMEND_PRICE: "cancel_order + add_limit_order (back of the queue, as in our engine)",
            AMEND_QTY: "cancel_order + add_limit_order (loses queue priority; ours keeps it)",
        }
    )
    notes: tuple[str, ...] = ("appends a `Trade` with `datetime.now()` to `trade_log` per fill (its design)",)

    def classes(self) -> tuple[type, tuple[Any, Any], LimitFactory, MarketFactory]:
        """(OrderBook class, (bid side, ask side), limit order factory, market order factory)."""
        raise NotImplementedError

    def new_book(self, workload: Workload) -> Book:
        syms = symbols(workload)
        book_cls = self.classes()[0]
        return Book([book_cls() for _ in syms], [{} for _ in syms])

    def compile(self, book: Book, ops: Sequence[Op], commands: CommandArray) -> list[Call]:
        _, sides, limit_order, market_order = self.classes()
        glue = [_glue(ob, live, limit_order, market_order) for ob, live in zip(book.books, book.live, strict=True)]
        calls: list[Call] = []
        for op in ops:
            k = op.kind
            if k in (AMEND_PRICE, AMEND_QTY):
                leaves = op.leaves if k == AMEND_QTY and op.leaves is not None else 0
                calls.append((glue[op.instrument][k], (op.order_id, None, op.price, leaves)))
            else:
                calls.append((glue[op.instrument][k], (op.order_id, sides[op.side], op.price, op.qty)))
        return calls

    def outcome(self, book: Book, tallied: tuple[int, int]) -> Outcome:
        trades = sum(len(ob.trade_log) for ob in book.books)
        volume = sum(t.quantity_filled for ob in book.books for t in ob.trade_log)
        return Outcome(trades, volume, sum(len(ob.orders) for ob in book.books))
