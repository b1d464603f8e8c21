"""pyorderbook (pure Python): ``Book.match(Order(side, symbol, price, qty))``, ``Book.cancel(order)``.

One ``Book`` holds every symbol; orders carry a ``uuid4`` id and a ``Decimal`` price (built
in ``Order.__init__``, so inside the timed call). ``cancel`` takes the order object and
raises ``KeyError`` for an order no longer in the book, so the glue keeps our id -> order
and checks ``order_map`` first. pyorderbook has no IOC, market orders or amend: IOC is
emulated as match + cancel of the rest, a market order as a limit at an unreachable price
+ cancel of the rest, an amend as cancel + a new order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyorderbook  # type: ignore[import-not-found, unused-ignore]

from pyengine.workloads import Workload

from .base import AMEND_PRICE, AMEND_QTY, CANCEL, GTC, IOC, MARKET, Adapter, Call, CommandArray, Op, Outcome, symbols

#: Market orders are limits at these prices (buy, sell): every resting order crosses them.
MARKET_PRICES = (10**15, -(10**15))


@dataclass
class Book:
    book: Any
    symbols: Sequence[str]
    live: dict[tuple[int, int], Any]


def _glue(b: Book) -> dict[int, Any]:
    Order, live = pyorderbook.Order, b.live
    match, cancel_order, order_map = b.book.match, b.book.cancel, b.book.order_map

    def gtc(key: tuple[int, int], side: Any, symbol: str, price: int, qty: int) -> Any:
        o = Order(side, symbol, price, qty)
        blotter = match(o)
        if o.quantity:
            live[key] = o
        return blotter

    def ioc(key: tuple[int, int], side: Any, symbol: str, price: int, qty: int) -> Any:  # emulated
        o = Order(side, symbol, price, qty)
        blotter = match(o)
        if o.quantity:
            cancel_order(o)
        return blotter

    def cancel(key: tuple[int, int], side: Any, symbol: str, price: int, qty: int) -> None:
        o = live.pop(key, None)
        if o is not None and o.id in order_map:
            cancel_order(o)

    def amend(key: tuple[int, int], side: Any, symbol: str, price: int, leaves: int) -> Any:  # emulated
        o = live.pop(key, None)
        if o is None or o.id not in order_map:
            return None
        cancel_order(o)
        n = Order(o.side, symbol, price or o.price, leaves or o.quantity)
        blotter = match(n)
        if n.quantity:
            live[key] = n
        return blotter

    return {GTC: gtc, IOC: ioc, MARKET: ioc, CANCEL: cancel, AMEND_PRICE: amend, AMEND_QTY: amend}


@dataclass
class PyorderbookAdapter(Adapter):
    name: str = "pyorderbook"
    dist: str = "pyorderbook"
    kind: str = "pure Python"
    native: frozenset[int] = frozenset({GTC, CANCEL})
    emulated: dict[int, str] = field(
        default_factory=lambda: {
            IOC: "match, then cancel of the rest",
            MARKET: "match at an unreachable limit price, then cancel of the rest",
            AMEND_PRICE: "cancel + match of a new order (back of the queue, as in our engine)",
            AMEND_QTY: "cancel + match of a new order (loses queue priority; ours keeps it)",
        }
    )
    notes: tuple[str, ...] = ("builds a `uuid4` id and a `Decimal` price per order (its design)",)

    def new_book(self, workload: Workload) -> Book:
        syms = symbols(workload)
        return Book(pyorderbook.Book(), syms, {})

    def compile(self, book: Book, ops: Sequence[Op], commands: CommandArray) -> list[Call]:
        fns = _glue(book)
        sides = (pyorderbook.Side.BID, pyorderbook.Side.ASK)
        calls: list[Call] = []
        for op in ops:
            k, key, symbol = op.kind, (op.instrument, op.order_id), book.symbols[op.instrument]
            if k == MARKET:
                calls.append((fns[k], (key, sides[op.side], symbol, MARKET_PRICES[op.side], op.qty)))
            elif k in (AMEND_PRICE, AMEND_QTY):
                leaves = op.leaves if k == AMEND_QTY and op.leaves is not None else 0
                calls.append((fns[k], (key, None, symbol, op.price, leaves)))
            else:
                calls.append((fns[k], (key, sides[op.side], symbol, op.price, op.qty)))
        return calls

    def tally(self, result: Any) -> tuple[int, int]:
        if result is None:  # a cancel
            return 0, 0
        return len(result.trades), sum(t.fill_quantity for t in result.trades)

    def outcome(self, book: Book, tallied: tuple[int, int]) -> Outcome:
        return Outcome(*tallied, len(book.book.order_map))
