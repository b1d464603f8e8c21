"""nanobook (Rust + PyO3): ``Exchange.submit_limit/submit_market/cancel/modify``.

nanobook numbers orders itself (1, 2, 3, ... per ``Exchange``, one per submit, including
IOC and market orders, and one per successful ``modify``). On workloads without amends
the adapter predicts those ids before timing, so every timed call is nanobook's own bound
method with precomputed arguments. ``modify`` is a cancel/replace that gives the order a
new id, so with amends a small glue function keeps our id -> nanobook id at run time.
One ``Exchange`` per instrument.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import nanobook

from pyengine.workloads import Workload

from .base import AMEND_PRICE, AMEND_QTY, CANCEL, GTC, IOC, MARKET, Adapter, Call, CommandArray, Op, Outcome, symbols

SIDES = ("buy", "sell")


@dataclass
class Book:
    exchanges: list[Any]
    #: our order id -> nanobook order id, per instrument.
    ids: list[dict[int, int]]
    #: the next id each exchange gives (while every call so far was compiled direct).
    next_id: list[int]
    glue: bool = False


def _glue(ex: Any, ids: dict[int, int]) -> dict[int, Callable[..., Any]]:
    submit_limit, submit_market, cancel, modify = ex.submit_limit, ex.submit_market, ex.cancel, ex.modify

    def limit(oid: int, side: str, price: int, qty: int, tif: str) -> Any:
        r = submit_limit(side, price, qty, tif)
        ids[oid] = r.order_id
        return r

    def market(oid: int, side: str, qty: int) -> Any:
        return submit_market(side, qty)

    def cxl(oid: int) -> Any:
        return cancel(ids.pop(oid, 0))

    def amend(oid: int, price: int | None, leaves: int) -> Any:
        nid = ids.get(oid, 0)
        if price is None:  # a reduce keeps the price; nanobook's modify needs both
            o = ex.get_order(nid)
            if o is None:
                return None
            price = o.price
        r = modify(nid, price, leaves)
        if r.success:
            ids[oid] = r.new_order_id
        return r

    return {GTC: limit, IOC: limit, MARKET: market, CANCEL: cxl, AMEND_PRICE: amend, AMEND_QTY: amend}


@dataclass
class NanobookAdapter(Adapter):
    name: str = "nanobook"
    dist: str = "nanobook"
    kind: str = "Rust + PyO3"
    native: frozenset[int] = frozenset({GTC, IOC, MARKET, CANCEL, AMEND_PRICE, AMEND_QTY})
    emulated: dict[int, str] = field(default_factory=dict)
    notes: tuple[str, ...] = (
        "`modify` is cancel/replace with a new id: a price amend loses priority as in our engine, "
        "a quantity reduce loses it too (ours keeps it), so ec_single books drift apart slightly",
        "amend glue passes the open quantity our engine had after the amend (nanobook's modify takes the "
        "new open quantity, ours the new total)",
        "records every event and trade in the Exchange (its design; that cost is in its figures)",
    )

    python_heap: bool = False

    def new_book(self, workload: Workload) -> Book:
        syms = symbols(workload)
        return Book([nanobook.Exchange() for _ in syms], [{} for _ in syms], [1 for _ in syms])

    def compile(self, book: Book, ops: Sequence[Op], commands: CommandArray) -> list[Call]:
        if book.glue or any(op.kind in (AMEND_PRICE, AMEND_QTY) for op in ops):
            book.glue = True
            return self._compile_glue(book, ops)
        return self._compile_direct(book, ops)

    def _compile_glue(self, book: Book, ops: Sequence[Op]) -> list[Call]:
        glue = [_glue(ex, ids) for ex, ids in zip(book.exchanges, book.ids, strict=True)]
        calls: list[Call] = []
        for op in ops:
            fns = glue[op.instrument]
            k = op.kind
            if k in (GTC, IOC):
                calls.append((fns[k], (op.order_id, SIDES[op.side], op.price, op.qty, "gtc" if k == GTC else "ioc")))
            elif k == MARKET:
                calls.append((fns[k], (op.order_id, SIDES[op.side], op.qty)))
            elif k == CANCEL:
                calls.append((fns[k], (op.order_id,)))
            else:  # amend: the new open quantity is ours after the amend (a rejected amend: a no-op modify)
                price = op.price if k == AMEND_PRICE else None
                calls.append((fns[k], (op.order_id, price, op.leaves if op.leaves is not None else 0)))
        return calls

    def _compile_direct(self, book: Book, ops: Sequence[Op]) -> list[Call]:
        """Calls to nanobook's own methods; its ids predicted: one per submit, per exchange."""
        nxt = book.next_id
        calls: list[Call] = []
        for op in ops:
            ex, ids = book.exchanges[op.instrument], book.ids[op.instrument]
            k = op.kind
            if k in (GTC, IOC, MARKET):
                ids[op.order_id] = nxt[op.instrument]
                nxt[op.instrument] += 1
                if k == MARKET:
                    calls.append((ex.submit_market, (SIDES[op.side], op.qty)))
                else:
                    calls.append((ex.submit_limit, (SIDES[op.side], op.price, op.qty, "gtc" if k == GTC else "ioc")))
            elif k == CANCEL:
                calls.append((ex.cancel, (ids.get(op.order_id, 0),)))
            else:
                raise AssertionError("amends are compiled in glue mode")
        return calls

    def outcome(self, book: Book, tallied: tuple[int, int]) -> Outcome:
        trades = volume = resting = 0
        for ex in book.exchanges:
            ts = ex.trades()
            trades += len(ts)
            volume += sum(t.quantity for t in ts)
            snap = ex.full_book()
            resting += sum(lv.order_count for lv in [*snap.bids, *snap.asks])
        return Outcome(trades, volume, resting)
