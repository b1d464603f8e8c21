"""A pure-Python reference model of the matching engine.

:class:`ReferenceEngine` implements the rules of ``docs/semantics.md`` exactly as
the Rust core (``engine/``) does, written for obviousness rather than speed:
a price level is a plain list of orders (oldest first), a side of a book is a
dict ``price -> level``, waiting stops are a plain list, and everything that
needs an order is sorted on demand. It is the oracle of the differential tests
(``pyengine._differential``, ``tests/test_differential.py``).

Its public methods mirror :class:`pyengine.Engine` (``add_instrument``,
``submit``, ``cancel``, ``amend``, ``mass_cancel``, ``bbo``, ``depth``,
``order``, ``open_orders``, ``seq``, ``instruments``, ``accounts``,
``account_id``, ``last_trade_price``), but events are plain dicts with the keys
of ``Event.to_dict()`` and orders are plain dicts with the fields of
:class:`pyengine.Order`. Only business semantics are modelled: malformed
arguments (which the compiled engine refuses with ValueError/TypeError) are not
checked. ``state_hash`` is not reproduced.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ReferenceEngine"]

U64_MAX = 2**64 - 1
I64_MIN = -(2**63)

#: An event, with the keys of ``pyengine.Event.to_dict()``.
EventDict = dict[str, Any]
#: An order view, with the fields of ``pyengine.Order``.
OrderDict = dict[str, Any]
Quote = tuple[int, int] | None
DepthLevels = list[tuple[int, int, int]]

PRICED_TYPES = ("limit", "stop_limit")
STOP_TYPES = ("stop", "stop_limit")


def opposite(side: str) -> str:
    return "sell" if side == "buy" else "buy"


def crosses(side: str, limit: int | None, price: int) -> bool:
    """Whether an order on `side` limited at `limit` (None = market) may trade at `price`."""
    if limit is None:
        return True
    return price <= limit if side == "buy" else price >= limit


@dataclass
class Instrument:
    """Trading parameters of one instrument and the entry checks they imply."""

    symbol: str
    tick_size: int
    lot_size: int
    min_qty: int
    max_qty: int
    price_band: int | None

    def check_qty(self, qty: int) -> str | None:
        if qty == 0:
            return "invalid_qty"
        if qty % self.lot_size != 0:
            return "qty_off_lot"
        if qty < self.min_qty:
            return "qty_below_min"
        if qty > self.max_qty:
            return "qty_above_max"
        return None

    def check_tick(self, price: int) -> str | None:
        if price == I64_MIN:
            return "overflow"
        if price % self.tick_size != 0:
            return "price_off_tick"
        return None

    def check_band(self, price: int, last_trade: int | None) -> str | None:
        if self.price_band is None or last_trade is None:
            return None
        return "price_band" if abs(price - last_trade) > self.price_band else None


@dataclass(eq=False)
class Order:
    """A live order: resting in a level, or a stop waiting for its trigger.

    Compared by identity (``eq=False``) so that ``level.remove(order)`` removes this very order.
    """

    instrument: Instrument
    instrument_index: int
    order_id: int
    account: str
    side: str
    type: str
    tif: str
    stp: str
    post_only: bool
    price: int | None  # limit price; None for market and stop orders
    stop_price: int | None  # None for limit and market orders
    qty: int  # total quantity; qty - leaves is the filled quantity
    leaves: int  # open quantity, shown and hidden
    display: int  # iceberg display size; 0 = all shown
    visible: int = 0  # shown quantity in the queue now
    waiting: bool = False  # a stop waiting for its trigger
    arrival: int = 0  # seq when it joined the waiting stops

    @property
    def priced(self) -> bool:
        return self.type in PRICED_TYPES

    @property
    def trigger_price(self) -> int:
        """The stop price of a stop order."""
        assert self.stop_price is not None, "not a stop order"
        return self.stop_price

    @property
    def filled(self) -> int:
        return self.qty - self.leaves

    def slice(self) -> int:
        """The shown size of a fresh (or refilled) slice."""
        return self.leaves if self.display == 0 else min(self.display, self.leaves)

    def view(self) -> OrderDict:
        filled = self.filled
        return {
            "symbol": self.instrument.symbol,
            "order_id": self.order_id,
            "account": self.account,
            "side": self.side,
            "type": self.type,
            "tif": self.tif,
            "stp": self.stp,
            "post_only": self.post_only,
            "price": self.price if self.priced else None,
            "stop_price": self.stop_price if self.waiting else None,
            "qty": self.qty,
            "leaves_qty": self.leaves,
            "filled_qty": filled,
            "display_qty": self.display or None,
            "visible_qty": self.visible,
            "status": "pending_trigger" if self.waiting else ("partially_filled" if filled > 0 else "new"),
        }


@dataclass
class Book:
    """One instrument: both sides (price -> queue of orders), waiting stops, live orders by id."""

    instrument: Instrument
    index: int
    bids: dict[int, list[Order]] = field(default_factory=dict)
    asks: dict[int, list[Order]] = field(default_factory=dict)
    stops: list[Order] = field(default_factory=list)
    live: dict[int, Order] = field(default_factory=dict)
    last_trade: int | None = None

    def side(self, side: str) -> dict[int, list[Order]]:
        return self.bids if side == "buy" else self.asks

    def prices_best_first(self, side: str) -> list[int]:
        return sorted(self.side(side), reverse=(side == "buy"))

    def best_price(self, side: str) -> int | None:
        prices = self.prices_best_first(side)
        return prices[0] if prices else None

    def shown(self, side: str, price: int) -> int:
        """Shown quantity of the level at `price` (0 if there is none)."""
        return sum(o.visible for o in self.side(side).get(price, []))

    def would_take(self, side: str, limit: int | None) -> bool:
        best = self.best_price(opposite(side))
        return best is not None and crosses(side, limit, best)

    def would_overflow(self, side: str, price: int, qty: int) -> bool:
        """Whether adding `qty` shown at `price` would overflow the level's (u64) shown total."""
        return price in self.side(side) and self.shown(side, price) + qty > U64_MAX

    def rest(self, order: Order) -> None:
        """Puts `order` (price and visible set) at the back of its level."""
        assert order.price is not None
        self.side(order.side).setdefault(order.price, []).append(order)

    def unrest(self, order: Order) -> None:
        assert order.price is not None
        levels = self.side(order.side)
        levels[order.price].remove(order)
        if not levels[order.price]:
            del levels[order.price]

    def next_due_stop(self) -> Order | None:
        """Buy stops first (lowest stop first), then sell stops (highest first); ties by arrival."""
        last = self.last_trade
        if last is None:
            return None
        buys = [s for s in self.stops if s.side == "buy" and s.trigger_price <= last]
        if buys:
            return min(buys, key=lambda s: (s.trigger_price, s.arrival))
        sells = [s for s in self.stops if s.side == "sell" and s.trigger_price >= last]
        if sells:
            return min(sells, key=lambda s: (-s.trigger_price, s.arrival))
        return None

    def depth(self, side: str, levels: int) -> DepthLevels:
        book = self.side(side)
        return [(p, self.shown(side, p), len(book[p])) for p in self.prices_best_first(side)[:levels]]


class ReferenceEngine:
    """The reference model; see the module docstring."""

    def __init__(self) -> None:
        self._books: list[Book] = []
        self._by_symbol: dict[str, Book] = {}
        self._accounts: list[str] = []
        self._seq = 0
        self._ts = 0
        self._out: list[EventDict] = []

    # ---- set-up and identity ---------------------------------------------------

    def add_instrument(
        self,
        symbol: str,
        tick_size: int = 1,
        lot_size: int = 1,
        min_qty: int | None = None,
        max_qty: int | None = None,
        price_band: int | None = None,
    ) -> int:
        spec = Instrument(
            symbol=symbol,
            tick_size=tick_size,
            lot_size=lot_size,
            min_qty=lot_size if min_qty is None else min_qty,
            max_qty=U64_MAX - U64_MAX % max(lot_size, 1) if max_qty is None else max_qty,
            price_band=price_band,
        )
        if not symbol or symbol in self._by_symbol:
            raise ValueError(f"bad or duplicate symbol {symbol!r}")
        if tick_size <= 0 or lot_size <= 0 or spec.min_qty <= 0 or (price_band is not None and price_band <= 0):
            raise ValueError("tick_size, lot_size, min_qty and price_band must be positive")
        if spec.min_qty % lot_size or spec.max_qty % lot_size or spec.min_qty > spec.max_qty:
            raise ValueError("min_qty/max_qty must be multiples of lot_size with min <= max")
        book = Book(spec, len(self._books))
        self._books.append(book)
        self._by_symbol[symbol] = book
        return book.index

    def account_id(self, account: str) -> int:
        """The id of `account`, registering it on first use."""
        if account not in self._accounts:
            self._accounts.append(account)
        return self._accounts.index(account)

    def instruments(self) -> list[str]:
        return [b.instrument.symbol for b in self._books]

    def accounts(self) -> list[str]:
        return list(self._accounts)

    def instrument_id(self, symbol: str) -> int:
        return self._book(symbol).index

    @property
    def seq(self) -> int:
        return self._seq

    # ---- queries -----------------------------------------------------------------

    def _book(self, symbol: str) -> Book:
        if symbol not in self._by_symbol:
            raise KeyError(f"unknown instrument {symbol!r}")
        return self._by_symbol[symbol]

    def bbo(self, symbol: str) -> tuple[Quote, Quote]:
        book = self._book(symbol)
        bids, asks = book.depth("buy", 1), book.depth("sell", 1)
        return (bids[0][:2] if bids else None, asks[0][:2] if asks else None)

    def depth(self, symbol: str, levels: int = 10) -> tuple[DepthLevels, DepthLevels]:
        book = self._book(symbol)
        return book.depth("buy", levels), book.depth("sell", levels)

    def last_trade_price(self, symbol: str) -> int | None:
        return self._book(symbol).last_trade

    def order(self, symbol: str, order_id: int) -> OrderDict | None:
        o = self._book(symbol).live.get(order_id)
        return o.view() if o is not None else None

    def open_orders(self, account: str) -> list[OrderDict]:
        """An account's live orders by instrument (registration order), then order id."""
        mine = [o for b in self._books for o in b.live.values() if o.account == account]
        mine.sort(key=lambda o: (o.instrument_index, o.order_id))
        return [o.view() for o in mine]

    def order_ids(self, symbol: str) -> list[int]:
        """Ids of the live orders of `symbol` (resting and waiting), oldest entry first."""
        return list(self._book(symbol).live)

    @property
    def live_orders(self) -> int:
        return sum(len(b.live) for b in self._books)

    # ---- events ------------------------------------------------------------------

    def _start(self, ts: int | None) -> None:
        self._ts = time.time_ns() if ts is None else ts
        self._out = []

    def _emit(
        self,
        kind: str,
        symbol: str,
        order_id: int,
        order: Order | None = None,
        *,
        reason: str | None = None,
        price: int | None = None,
        qty: int = 0,
        leaves: int = 0,
        maker: Order | None = None,
    ) -> None:
        self._seq += 1
        self._out.append(
            {
                "seq": self._seq,
                "ts": self._ts,
                "kind": kind,
                "reason": reason,
                "symbol": symbol,
                "side": order.side if order else None,
                "order_id": order_id,
                "account": order.account if order else None,
                "price": price,
                "qty": qty,
                "leaves_qty": leaves,
                "maker_order_id": maker.order_id if maker else None,
                "maker_account": maker.account if maker else None,
                "maker_leaves_qty": maker.leaves if maker else None,
            }
        )

    def _reject(self, symbol: str, order_id: int, reason: str) -> list[EventDict]:
        self._emit("rejected", symbol, order_id, reason=reason)
        return self._out

    def _order_event(self, kind: str, o: Order, **fields: Any) -> None:
        self._emit(kind, o.instrument.symbol, o.order_id, o, **fields)

    def _emit_cancel(self, o: Order, qty: int, reason: str) -> None:
        """`cancelled` for `qty` of `o`; leaves_qty is what `o` still holds."""
        price = o.price if o.priced else None
        self._order_event("cancelled", o, reason=reason, qty=qty, leaves=o.leaves, price=price)

    def _emit_amended(self, o: Order) -> None:
        self._order_event("amended", o, price=o.price if o.priced else None, qty=o.qty, leaves=o.leaves)

    # ---- new orders ----------------------------------------------------------------

    def submit(
        self,
        symbol: str,
        order_id: int,
        account: str,
        side: str,
        qty: int,
        price: int | None = None,
        *,
        type: str = "limit",
        tif: str = "gtc",
        post_only: bool = False,
        display_qty: int | None = None,
        stop_price: int | None = None,
        stp: str = "none",
        ts: int | None = None,
    ) -> list[EventDict]:
        self._start(ts)
        self.account_id(account)  # the Python layer registers the account before anything else
        book = self._by_symbol.get(symbol)
        if book is None:
            return self._reject(symbol, order_id, "unknown_instrument")
        o = Order(
            instrument=book.instrument,
            instrument_index=book.index,
            order_id=order_id,
            account=account,
            side=side,
            type=type,
            tif=tif,
            stp=stp,
            post_only=post_only,
            price=price if type in PRICED_TYPES else None,
            stop_price=stop_price if type in STOP_TYPES else None,
            qty=qty,
            leaves=qty,
            display=display_qty or 0,
        )
        reason = self._check_new(book, o)
        if reason is not None:
            return self._reject(symbol, order_id, reason)
        self._order_event("accepted", o, qty=qty, leaves=qty, price=o.price)
        if o.type in STOP_TYPES:
            self._park_stop(book, o)
        else:
            self._execute(book, o)
        self._run_triggers(book)
        return self._out

    def _check_new(self, book: Book, o: Order) -> str | None:
        """Order-entry checks in the documented order; the first failure is the reason."""
        spec = book.instrument
        if o.order_id in book.live:
            return "duplicate_order_id"
        if o.post_only and (o.type != "limit" or o.tif != "gtc"):
            return "invalid_order"
        reason = spec.check_qty(o.qty)
        if reason:
            return reason
        can_rest = o.priced and o.tif == "gtc"
        if o.display and (not can_rest or o.display > o.qty or o.display % spec.lot_size):
            return "invalid_display"
        if o.price is not None and (reason := spec.check_tick(o.price)):
            return reason
        if o.stop_price is not None and (reason := spec.check_tick(o.stop_price)):
            return reason
        if o.price is not None and (reason := spec.check_band(o.price, book.last_trade)):
            return reason
        if o.post_only and book.would_take(o.side, o.price):
            return "would_take"
        if can_rest and o.price is not None and book.would_overflow(o.side, o.price, o.display or o.qty):
            return "overflow"
        return None

    def _park_stop(self, book: Book, o: Order) -> None:
        """Adds a stop to the waiting stops; it queues behind stops parked earlier (by seq)."""
        o.waiting = True
        o.arrival = self._seq
        book.stops.append(o)
        book.live[o.order_id] = o

    def _forget(self, book: Book, o: Order) -> None:
        book.live.pop(o.order_id, None)

    def _execute(self, book: Book, o: Order) -> None:
        """Runs `o` (in no level) as a taker, then rests, cancels or forgets what is left."""
        limit = o.price if o.priced else None
        if o.tif == "fok" and not self._fok_fillable(book, o, limit):
            leaves, o.leaves = o.leaves, 0
            self._emit_cancel(o, leaves, "fok")
            return self._forget(book, o)
        if not self._match(book, o, limit):
            return self._forget(book, o)
        if o.leaves == 0:
            return self._forget(book, o)
        rests = limit is not None and o.tif == "gtc"
        overflows = rests and o.price is not None and book.would_overflow(o.side, o.price, o.slice())
        if rests and not overflows:
            o.visible = o.slice()
            book.rest(o)
            book.live[o.order_id] = o
            return None
        reason = "overflow" if overflows else ("no_liquidity" if limit is None else "ioc")
        leaves, o.leaves = o.leaves, 0
        self._emit_cancel(o, leaves, reason)
        return self._forget(book, o)

    def _fok_fillable(self, book: Book, t: Order, limit: int | None) -> bool:
        """All open quantity at crossing levels counts; own orders are skipped under
        cancel_oldest and make the order unfillable (at any level reached) under other STP modes."""
        need = t.leaves
        side = opposite(t.side)
        for price in book.prices_best_first(side):
            if not crosses(t.side, limit, price):
                break
            available = 0
            for m in book.side(side)[price]:
                if t.stp != "none" and m.account == t.account:
                    if t.stp != "cancel_oldest":
                        return False
                else:
                    available += m.leaves
            if available >= need:
                return True
            need -= available
        return False

    def _match(self, book: Book, t: Order, limit: int | None) -> bool:
        """The price-time match loop. False if self-trade prevention cancelled the taker."""
        side = opposite(t.side)
        while t.leaves > 0:
            price = book.best_price(side)
            if price is None or not crosses(t.side, limit, price):
                break
            m = book.side(side)[price][0]
            if t.stp != "none" and m.account == t.account:
                if not self._prevent_self_trade(book, t, m):
                    return False
                continue
            fill = min(t.leaves, m.visible)
            m.visible -= fill
            m.leaves -= fill
            t.leaves -= fill
            book.last_trade = price
            self._order_event("trade", t, price=price, qty=fill, leaves=t.leaves, maker=m)
            if m.visible == 0:
                book.unrest(m)
                if m.leaves == 0:
                    self._forget(book, m)
                else:  # iceberg refill: a new slice at the back of the queue
                    m.visible = m.slice()
                    book.rest(m)
        return True

    def _prevent_self_trade(self, book: Book, t: Order, m: Order) -> bool:
        """Applies the taker's STP mode against its own resting order `m`. False if the taker is cancelled."""
        tl, ml = t.leaves, m.leaves
        cancel_taker, cancel_maker = {
            "cancel_newest": (True, False),
            "cancel_oldest": (False, True),
            "cancel_both": (True, True),
            "decrement": (tl <= ml, ml <= tl),
        }[t.stp]
        if cancel_maker:
            self._cancel_live(book, m, "stp")
        elif t.stp == "decrement":  # the maker is larger: reduced by the taker's size, keeps its place
            self._reduce(m, tl)
            self._emit_cancel(m, tl, "stp")
        if cancel_taker:
            t.leaves = 0
            self._emit_cancel(t, tl, "stp")
            return False
        if t.stp == "decrement":  # the taker is larger: reduced, not filled, and keeps matching
            t.qty -= ml
            t.leaves -= ml
            self._emit_cancel(t, ml, "stp")
        return True

    def _reduce(self, o: Order, by: int) -> None:
        """Lowers total and open quantity (not the filled part); the shown part shrinks if needed."""
        o.qty -= by
        o.leaves -= by
        o.visible = min(o.visible, o.leaves)

    def _cancel_live(self, book: Book, o: Order, reason: str) -> None:
        """Removes a live order (resting or waiting) and reports its open quantity cancelled."""
        if o.waiting:
            book.stops.remove(o)
        else:
            book.unrest(o)
        leaves, o.leaves = o.leaves, 0
        self._emit_cancel(o, leaves, reason)
        self._forget(book, o)

    def _run_triggers(self, book: Book) -> None:
        """Triggers due stops one at a time; each may trade and make more stops due."""
        while (o := book.next_due_stop()) is not None:
            book.stops.remove(o)
            o.waiting = False
            self._order_event("triggered", o, price=o.stop_price, qty=o.qty, leaves=o.leaves)
            self._execute(book, o)

    # ---- changes to live orders --------------------------------------------------------

    def _live(self, symbol: str, order_id: int) -> tuple[Book, Order] | None:
        book = self._by_symbol.get(symbol)
        if book is None:
            self._reject(symbol, order_id, "unknown_instrument")
            return None
        o = book.live.get(order_id)
        if o is None:
            self._reject(symbol, order_id, "unknown_order")
            return None
        return book, o

    def cancel(self, symbol: str, order_id: int, *, ts: int | None = None) -> list[EventDict]:
        self._start(ts)
        found = self._live(symbol, order_id)
        if found is not None:
            self._cancel_live(*found, "user")
        return self._out

    def amend(
        self,
        symbol: str,
        order_id: int,
        *,
        qty: int | None = None,
        price: int | None = None,
        stop_price: int | None = None,
        ts: int | None = None,
    ) -> list[EventDict]:
        self._start(ts)
        found = self._live(symbol, order_id)
        if found is None:
            return self._out
        book, o = found
        reason = self._check_amend(book, o, qty, price, stop_price)
        if reason is not None:
            return self._reject(symbol, order_id, reason)
        new_qty = o.qty if qty is None else qty
        new_price = o.price if price is None else price
        filled = o.filled
        if new_qty <= filled:
            self._cancel_live(book, o, "amend_filled")
        elif o.waiting:
            # A waiting stop stays waiting, behind the stops already at its (new) stop price.
            book.stops.remove(o)
            o.qty = o.leaves = new_qty
            o.price = new_price
            if stop_price is not None:
                o.stop_price = stop_price
            self._emit_amended(o)
            book.live.pop(o.order_id)
            self._park_stop(book, o)
            self._run_triggers(book)
        elif new_price == o.price and new_qty <= o.qty:
            self._reduce(o, o.qty - new_qty)  # keeps its place in the queue
            self._emit_amended(o)
        else:
            # A new price or a larger quantity: leaves the book and re-enters at the back.
            book.unrest(o)
            o.price = new_price
            o.qty = new_qty
            o.leaves = new_qty - filled
            self._emit_amended(o)
            self._execute(book, o)
            self._run_triggers(book)
        return self._out

    def _check_amend(
        self, book: Book, o: Order, qty: int | None, price: int | None, stop_price: int | None
    ) -> str | None:
        spec = book.instrument
        if (
            (qty is None and price is None and stop_price is None)
            or (price is not None and not o.priced)
            or (stop_price is not None and not o.waiting)
        ):
            return "invalid_amend"
        if qty is not None:
            if qty % spec.lot_size != 0:
                return "qty_off_lot"
            if qty > o.filled and (reason := spec.check_qty(qty)):
                return reason
        if price is not None and (reason := spec.check_tick(price)):
            return reason
        if stop_price is not None and (reason := spec.check_tick(stop_price)):
            return reason
        if price is not None:
            if reason := spec.check_band(price, book.last_trade):
                return reason
            if o.post_only and price != o.price and book.would_take(o.side, price):
                return "would_take"
        new_qty = o.qty if qty is None else qty
        new_price = o.price if price is None else price
        requeues = new_price != o.price or new_qty > o.qty
        if not o.waiting and requeues and new_qty > o.filled and new_price is not None:
            open_qty = new_qty - o.filled
            slice_ = open_qty if o.display == 0 else min(o.display, open_qty)
            # The order leaves its own level first, so only the other orders count.
            others = book.shown(o.side, new_price) - (o.visible if new_price == o.price else 0)
            if others + slice_ > U64_MAX:
                return "overflow"
        return None

    def mass_cancel(
        self, account: str, *, symbol: str | None = None, side: str | None = None, ts: int | None = None
    ) -> list[EventDict]:
        """Cancels the account's live orders (waiting stops included) in (instrument, order id) order."""
        self._start(ts)
        if symbol is not None and symbol not in self._by_symbol:
            return self._reject(symbol, 0, "unknown_instrument")
        victims = [
            o
            for b in self._books
            for o in b.live.values()
            if o.account == account and symbol in (None, b.instrument.symbol) and side in (None, o.side)
        ]
        victims.sort(key=lambda o: (o.instrument_index, o.order_id))
        for o in victims:
            self._cancel_live(self._books[o.instrument_index], o, "mass_cancel")
        return self._out
