"""FIX 4.4 application mapping: NewOrderSingle / OrderCancelRequest → engine calls → ExecutionReports.

Transport-agnostic: :class:`OrderRouter` takes a delivered application message from one session and returns
``(session_key, msg_type, fields)`` tuples to send — the reports of makers go to the makers' own sessions.
The caller encodes them with that session's :meth:`~pyengine.gateway.session.FixSession.send_app`, and must
make the engine's journal durable (``Engine.commit``) before writing them.

Supported: D (NewOrderSingle), F (OrderCancelRequest), G (OrderCancelReplaceRequest), H (OrderStatusRequest) and
q (OrderMassCancelRequest → OrderMassCancelReport r). Every other application message gets a
BusinessMessageReject (j) with BusinessRejectReason 3 (unsupported message type).

An existing order is found by OrigClOrdID (41; ClOrdID 11 for H) among the session's own ClOrdIDs, or by OrderID (37).
A session may act only on orders of its user's accounts: another account's order gets an OrderCancelReject (9) with
CxlRejReason 3, or for H an ExecutionReport with OrdStatus 8 (Rejected).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from pyengine import BUY, FOK, GTC, IOC, SELL
from pyengine._engine import Engine, Event
from pyengine.fix import FixMessage
from pyengine.gateway.config import GatewayConfig, Instrument, User
from pyengine.gateway.orderlog import OrderLog, OrderState
from pyengine.gateway.orderstates import OrderStates
from pyengine.gateway.risk import KillSwitch, RiskGate, RiskReject

__all__ = ["OrderRouter", "OrderState", "Outbound"]

Fields = list[tuple[int, str | int | bytes]]
#: (session key, MsgType, fields) of one message to send.
Outbound = tuple[str, str, Fields]

ORD_TYPES: Final = {"1": "market", "2": "limit", "3": "stop", "4": "stop_limit"}
TIFS: Final = {"0": "gtc", "1": "gtc", "3": "ioc", "4": "fok"}
#: SelfTradePreventionMode (tag 7928, user-defined range): what happens when the order would trade with an
#: order of its own account. Absent = no prevention.
STP_TAG: Final = 7928
STP_MODES: Final = {"N": "cancel_newest", "O": "cancel_oldest", "B": "cancel_both", "D": "decrement"}
SIDES: Final = {"1": "buy", "2": "sell"}
#: The string fields of a NewOrderSingle, fetched in one call: ClOrdID, Symbol, Side, Account, OrdType,
#: TimeInForce, ExecInst, SelfTradePreventionMode.
_NOS_TAGS: Final = (11, 55, 54, 1, 40, 59, 18, STP_TAG)
_FIX_SIDE: Final = {"buy": "1", "sell": "2"}
_FAST_SIDES: Final = {"buy": BUY, "sell": SELL}
_FAST_TIFS: Final = {"gtc": GTC, "ioc": IOC, "fok": FOK}


class _Reject(Exception):
    """A request refused before it reaches the engine; ``reason`` is OrdRejReason (103)."""

    def __init__(self, text: str, reason: int = 99) -> None:
        super().__init__(text)
        self.text = text
        self.reason = reason


@dataclass(slots=True)
class _SessionOrders:
    by_cl_ord_id: dict[str, int] = field(default_factory=dict)
    live: set[int] = field(default_factory=set)  # order ids not done yet, for cancel-on-disconnect


class OrderRouter:
    """Maps FIX application messages of authenticated sessions onto one :class:`Engine`."""

    def __init__(
        self,
        engine: Engine,
        config: GatewayConfig,
        *,
        first_order_id: int | None = None,
        kill_switch: KillSwitch | None = None,
        order_log: OrderLog | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.risk = RiskGate(config, kill_switch or KillSwitch(config.journal.data_dir / "kill_switch.json"))
        self.instruments: dict[str, Instrument] = {i.symbol: i for i in config.instruments}
        # Internal order ids are unique across restarts: start from the clock in microseconds.
        self._next_order_id = first_order_id if first_order_id is not None else time.time_ns() // 1000
        self._next_exec = 0
        self.orders = OrderStates(config.journal.done_orders_kept)
        self._sessions: dict[str, _SessionOrders] = {}
        self._instrument_ids: dict[str, int] = {}
        self._account_ids: dict[str, int] = {}
        self.orders_received = 0
        self.events = 0
        self.risk_rejects = 0
        self.log = order_log
        if order_log is not None:
            self._restore(order_log)

    # --- restart ------------------------------------------------------------------------------------

    def _restore(self, log: OrderLog) -> None:
        """Rebuild ClOrdID maps and open-order counts from the order log, reconciled with the engine."""
        for state in log.states.values():
            if not state.done:
                live = self.engine.order(state.symbol, state.order_id)
                if live is None:  # the log ran ahead of a journal that lost its tail: never acknowledged
                    state.done = True
                else:
                    state.cum_qty = live.filled_qty
                    if state.status == "A":  # logged at entry; the ack is not logged
                        state.status = "1" if live.filled_qty else "0"
                    self.risk.opened(state.account)
                    self._orders_of(state.session).live.add(state.order_id)
            self.orders.add(state)
            self._orders_of(state.session).by_cl_ord_id[state.cl_ord_id] = state.order_id
        for session, cl_ord_id, order_id in log.aliases:
            self._orders_of(session).by_cl_ord_id[cl_ord_id] = order_id
        for account in self.risk.limits:
            for o in self.engine.open_orders(account):
                if o.order_id not in self.orders:  # journaled, but its log lines were lost in a crash
                    state = OrderState(o.order_id, "", str(o.order_id), o.symbol, o.side, o.account, o.qty)
                    state.cum_qty, state.status = o.filled_qty, "1" if o.filled_qty else "0"
                    self.orders.add(state)
                    if self.log is not None:  # logged from now on, so its fills have an S line to follow
                        self.log.state(state)
                    self.risk.opened(o.account)
        log.states.clear()  # the router holds them now (done ones compacted); don't keep a second copy
        log.aliases.clear()
        self._retire()
        last = self.orders.max_order_id()
        if last is not None:
            self._next_order_id = max(self._next_order_id, last + 1)

    def _instrument_id(self, symbol: str) -> int:
        iid = self._instrument_ids.get(symbol)
        if iid is None:
            iid = self._instrument_ids[symbol] = self.engine.instrument_id(symbol)
        return iid

    def _account_id(self, account: str) -> int:
        aid = self._account_ids.get(account)
        if aid is None:  # registers (and journals) the account on its first order, as submit() does
            aid = self._account_ids[account] = self.engine.account_id(account)
        return aid

    def _orders_of(self, session: str) -> _SessionOrders:
        orders = self._sessions.get(session)
        if orders is None:
            orders = self._sessions[session] = _SessionOrders()
        return orders

    def _alias(self, orders: _SessionOrders, session: str, cl_ord_id: str, order_id: int) -> None:
        orders.by_cl_ord_id[cl_ord_id] = order_id
        if self.log is not None:
            self.log.alias(session, cl_ord_id, order_id)

    # --- entry point ------------------------------------------------------------------------------

    def handle(self, session: str, user: User, msg: FixMessage) -> list[Outbound]:
        """One application message delivered by ``session`` (logged on as ``user``)."""
        out = self._handle(session, user, msg)
        self._retire()
        return out

    def _retire(self) -> None:
        """Compact the orders that finished; drop the ClOrdIDs of those forgotten for good."""
        orders = self.orders
        orders.retire()
        if orders.forgotten:
            for session, cl_ord_id, order_id in orders.forgotten:
                names = self._sessions.get(session)
                if names is not None and names.by_cl_ord_id.get(cl_ord_id) == order_id:
                    del names.by_cl_ord_id[cl_ord_id]
            orders.forgotten.clear()

    def _handle(self, session: str, user: User, msg: FixMessage) -> list[Outbound]:
        t = msg.msg_type
        if t == "D":
            self.orders_received += 1
            return self._new_order(session, user, msg)
        if t == "F":
            return self._cancel(session, user, msg)
        if t == "G":
            return self._replace(session, user, msg)
        if t == "H":
            return self._status(session, user, msg)
        if t == "q":
            return self._mass_cancel(session, user, msg)
        return [self._business_reject(session, msg, 3, f"unsupported MsgType {t}")]

    # --- NewOrderSingle ---------------------------------------------------------------------------

    def _new_order(self, session: str, user: User, msg: FixMessage) -> list[Outbound]:
        orders = self._orders_of(session)
        cl_ord_id, symbol, side_code, account, ord_type_code, tif_code, exec_inst, stp_code = msg.get_many(_NOS_TAGS)
        if not cl_ord_id:
            return [self._business_reject(session, msg, 5, "ClOrdID(11) missing")]
        if not cl_ord_id.isprintable() or "\t" in cl_ord_id:
            return [self._business_reject(session, msg, 0, "ClOrdID(11) must be printable characters")]
        symbol = symbol or ""
        inst = self.instruments.get(symbol)
        if inst is None:
            return [self._business_reject(session, msg, 2, f"unknown Symbol(55) {symbol!r}", ref_id=cl_ord_id)]
        side_code = side_code or ""
        try:
            if cl_ord_id in orders.by_cl_ord_id:
                raise _Reject(f"duplicate ClOrdID {cl_ord_id}", 6)
            side = SIDES.get(side_code)
            if side is None:
                raise _Reject(f"unsupported Side(54) {side_code!r}")
            account = account or (user.accounts[0] if user.accounts else "")
            if account not in user.accounts:
                raise _Reject(f"account {account!r} is not one of user {user.username}'s accounts")
            qty = _get_int(msg, 38, "OrderQty")
            if qty is None or qty <= 0:
                raise _Reject("OrderQty(38) missing or not positive", 13)
            ord_type = ORD_TYPES.get(ord_type_code or "")
            if ord_type is None:
                raise _Reject(f"unsupported OrdType(40) {ord_type_code!r}")
            tif = TIFS.get(tif_code or "0")
            if tif is None:
                raise _Reject(f"unsupported TimeInForce(59) {tif_code!r}")
            post_only = exec_inst is not None and "6" in exec_inst.split()
            display_qty = _get_int(msg, 111, "MaxFloor")
            price = _price(inst, msg, 44, "Price")
            stop_px = _price(inst, msg, 99, "StopPx")
            stp = STP_MODES.get(stp_code or "", "none")
            if stp_code is not None and stp_code not in STP_MODES:
                raise _Reject(f"unsupported SelfTradePreventionMode({STP_TAG}) {stp_code!r} (N, O, B or D)")
            self.risk.check_order(
                account,
                inst,
                qty,
                price,
                stop_px,
                last_trade=self.engine.last_trade_price(symbol),
                far_touch=self._far_touch(symbol, side) if price is None else None,
                new_order=True,
            )
        except (_Reject, RiskReject) as r:
            if isinstance(r, RiskReject):
                self.risk_rejects += 1
            return [(session, "8", self._reject_fields(cl_ord_id, symbol, side_code, msg, r.text, r.reason))]
        order_id = self._next_order_id
        self._next_order_id += 1
        state = OrderState(order_id, session, cl_ord_id, symbol, side, account, qty)
        orders.by_cl_ord_id[cl_ord_id] = order_id
        if self.log is not None:  # this line also records the ClOrdID; the ack adds nothing to it
            self.log.state(state)
        self.orders.add(state)
        orders.live.add(order_id)
        self.risk.opened(account)
        try:
            if ord_type == "limit" and price is not None and not post_only and display_qty is None and stp == "none":
                # the common order through the positional fast path (same matching, same events)
                events: Sequence[Event] = self.engine.submit_limit(
                    self._instrument_id(symbol),
                    order_id,
                    self._account_id(account),
                    _FAST_SIDES[side],
                    qty,
                    price,
                    _FAST_TIFS[tif],
                    time.time_ns(),
                )
            else:
                events = self.engine.submit(
                    symbol,
                    order_id,
                    account,
                    side,
                    qty,
                    price,
                    type=ord_type,
                    tif=tif,
                    post_only=post_only,
                    display_qty=display_qty,
                    stop_price=stop_px,
                    stp=stp,
                )
        except ValueError as e:  # the engine refused the arguments (e.g. a market order with a price)
            self._finish(state, "8")
            if self.log is not None:
                self.log.state(state)
            return [(session, "8", self._reject_fields(cl_ord_id, symbol, side_code, msg, str(e), 99, order_id))]
        return self._events(events)

    # --- OrderCancelRequest -----------------------------------------------------------------------

    def _lookup(self, session: str, cl_ord_id: str, msg: FixMessage) -> tuple[int | None, OrderState | None]:
        """The order named by ``cl_ord_id`` in this session, else by OrderID (37)."""
        orders = self._orders_of(session)
        order_id = orders.by_cl_ord_id.get(cl_ord_id) if cl_ord_id else None
        if order_id is None:
            text = msg.get(37) or ""
            if text.isdigit():
                order_id = int(text)
        state = self.orders.get(order_id) if order_id is not None else None
        return (order_id, state) if state is not None else (None, None)

    def _cancel(self, session: str, user: User, msg: FixMessage) -> list[Outbound]:
        orders = self._orders_of(session)
        cl_ord_id = msg.get(11) or ""
        orig = msg.get(41) or ""
        order_id, state = self._lookup(session, orig, msg)
        if not cl_ord_id:
            return [self._business_reject(session, msg, 5, "ClOrdID(11) missing")]
        if state is None or order_id is None:
            return [self._cancel_reject(session, cl_ord_id, orig, None, "8", 1, f"unknown order {orig!r}")]
        if state.account not in user.accounts:
            return [self._cancel_reject(session, cl_ord_id, orig, state, state.status, 3, "not your order")]
        if cl_ord_id in orders.by_cl_ord_id:
            return [self._cancel_reject(session, cl_ord_id, orig, state, state.status, 6, "duplicate ClOrdID")]
        if state.done:
            return [self._cancel_reject(session, cl_ord_id, orig, state, state.status, 0, "order is done")]
        self._alias(orders, session, cl_ord_id, order_id)
        events = self.engine.cancel(state.symbol, order_id)
        out: list[Outbound] = []
        for ev in events:
            if ev.kind == "rejected" and ev.order_id == order_id:
                self.events += 1
                out.append(self._cancel_reject(session, cl_ord_id, orig, state, state.status, 99, ev.reason or ""))
            else:
                out.extend(self._events([ev], cancel_ids=(cl_ord_id, orig)))
        return out

    # --- OrderCancelReplaceRequest ---------------------------------------------------------------

    def _replace(self, session: str, user: User, msg: FixMessage) -> list[Outbound]:
        orders = self._orders_of(session)
        cl_ord_id = msg.get(11) or ""
        orig = msg.get(41) or ""
        if not cl_ord_id:
            return [self._business_reject(session, msg, 5, "ClOrdID(11) missing")]
        order_id, state = self._lookup(session, orig, msg)

        def reject(reason: int, text: str) -> list[Outbound]:
            status = state.status if state is not None else "8"
            return [self._cancel_reject(session, cl_ord_id, orig, state, status, reason, text, response_to=2)]

        if state is None or order_id is None:
            return reject(1, f"unknown order {orig!r}")
        if state.account not in user.accounts:
            return reject(3, "not your order")
        if cl_ord_id in orders.by_cl_ord_id:
            return reject(6, "duplicate ClOrdID")
        if state.done:
            return reject(0, "order is done")
        symbol = msg.get(55)
        if symbol and symbol != state.symbol:
            return reject(99, f"Symbol(55) {symbol!r} does not match the order's {state.symbol!r}")
        side = msg.get(54)
        if side and SIDES.get(side) != state.side:
            return reject(99, f"Side(54) {side!r} does not match the order's")
        inst = self.instruments[state.symbol]
        try:
            qty = _get_int(msg, 38, "OrderQty")
            price = _price(inst, msg, 44, "Price")
            stop_px = _price(inst, msg, 99, "StopPx")
        except _Reject as r:
            return reject(99, r.text)
        if qty is not None and qty <= 0:
            return reject(99, "OrderQty(38) not positive")
        if qty is not None and qty < state.cum_qty:
            return reject(99, f"OrderQty(38) {qty} is below CumQty {state.cum_qty}")
        if qty is None and price is None and stop_px is None:
            return reject(99, "nothing to replace: OrderQty(38), Price(44) or StopPx(99) required")
        live = self.engine.order(state.symbol, order_id)
        try:
            self.risk.check_order(
                state.account,
                inst,
                qty if qty is not None else state.qty,
                price if price is not None else (live.price if live is not None else None),
                stop_px,
                last_trade=self.engine.last_trade_price(state.symbol),
                far_touch=None,
                new_order=False,
            )
        except RiskReject as r:
            self.risk_rejects += 1
            return reject(99, r.text)
        try:
            events = self.engine.amend(state.symbol, order_id, qty=qty, price=price, stop_price=stop_px)
        except ValueError as e:
            return reject(99, str(e))
        out: list[Outbound] = []
        for ev in events:
            if ev.order_id != order_id or ev.kind not in ("amended", "rejected", "cancelled"):
                out.extend(self._events([ev]))
                continue
            self.events += 1
            if ev.kind == "rejected":
                out.append(
                    self._cancel_reject(
                        session, cl_ord_id, orig, state, state.status, 99, ev.reason or "", response_to=2
                    )
                )
                continue
            if ev.kind == "cancelled" and ev.reason != "amend_filled":
                out.extend(self._events([ev]))
                continue
            # Replaced: the new ClOrdID now names the order; the old one stays taken.
            if self.log is not None:
                self.log.alias(state.session, state.cl_ord_id, order_id)
            self._alias(orders, session, cl_ord_id, order_id)
            state.cl_ord_id = cl_ord_id
            state.qty = qty if qty is not None else ev.qty
            leaves = ev.leaves_qty if ev.kind == "amended" else 0
            if leaves == 0:
                self._finish(state, "2" if state.cum_qty else "4")
            else:
                state.status = "1" if state.cum_qty else "0"
            extra: Fields = [(41, orig)]
            if ev.price is not None:
                extra.append((44, inst.price_text(ev.price)))
            out.append(self._report(state, "5", ev, leaves=leaves, extra=extra))
        return out

    # --- OrderStatusRequest ---------------------------------------------------------------------

    def _status(self, session: str, user: User, msg: FixMessage) -> list[Outbound]:
        cl_ord_id = msg.get(11) or ""
        order_id, state = self._lookup(session, cl_ord_id, msg)
        req_id = msg.get(790)
        tail: Fields = [(60, _now())]
        if req_id:
            tail.append((790, req_id))
        if state is None or order_id is None or state.account not in user.accounts:
            text = "unknown order" if state is None else "not your order"
            fields: Fields = [
                (37, msg.get(37) or "NONE"),
                (11, cl_ord_id or "NONE"),
                (17, self._exec_id()),
                (150, "I"),
                (39, "8"),
                (55, msg.get(55) or "NONE"),
                (54, msg.get(54) or "1"),
                (151, 0),
                (14, 0),
                (6, "0"),
                *tail,
                (58, text),
            ]
            return [(session, "8", fields)]
        live = None if state.done else self.engine.order(state.symbol, order_id)
        leaves = live.leaves_qty if live is not None else 0
        inst = self.instruments[state.symbol]
        avg = inst.price_text(state.notional // state.cum_qty) if state.cum_qty else "0"
        fields = [
            (37, str(order_id)),
            (11, state.cl_ord_id),
            (17, self._exec_id()),
            (150, "I"),
            (39, state.status if state.status != "A" else "0"),
            (1, state.account),
            (55, state.symbol),
            (54, _FIX_SIDE[state.side]),
            (38, state.qty),
        ]
        if live is not None and live.price is not None:
            fields.append((44, inst.price_text(live.price)))
        fields += [(151, leaves), (14, state.cum_qty), (6, avg), *tail]
        return [(session, "8", fields)]

    # --- OrderMassCancelRequest -----------------------------------------------------------------

    def _mass_cancel(self, session: str, user: User, msg: FixMessage) -> list[Outbound]:
        cl_ord_id = msg.get(11) or ""
        if not cl_ord_id:
            return [self._business_reject(session, msg, 5, "ClOrdID(11) missing")]
        req_type = msg.get(530) or ""
        symbol = msg.get(55) or None
        side_code = msg.get(54)
        report_id = f"MC-{self._exec_id()}"

        def report(response: str, affected: int, reject_reason: int | None = None, text: str = "") -> Outbound:
            fields: Fields = [(37, report_id), (11, cl_ord_id), (530, req_type or "0"), (531, response)]
            if reject_reason is not None:
                fields.append((532, reject_reason))
            fields.append((533, affected))
            if symbol:
                fields.append((55, symbol))
            if side_code:
                fields.append((54, side_code))
            if text:
                fields.append((58, text))
            return (session, "r", fields)

        if req_type not in ("1", "7"):
            return [report("0", 0, 0, f"unsupported MassCancelRequestType(530) {req_type!r}")]
        if req_type == "1" and (symbol is None or symbol not in self.instruments):
            return [report("0", 0, 1, f"unknown Symbol(55) {symbol!r}")]
        side = None
        if side_code:
            side = SIDES.get(side_code)
            if side is None:
                return [report("0", 0, 99, f"unsupported Side(54) {side_code!r}")]
        account = msg.get(1)
        if account is not None and account not in user.accounts:
            return [report("0", 0, 99, f"account {account!r} is not one of user {user.username}'s accounts")]
        accounts = [account] if account is not None else list(user.accounts)
        events: list[Event] = []
        for acct in accounts:
            events.extend(self.engine.mass_cancel(acct, symbol=symbol if req_type == "1" else None, side=side))
        affected = sum(1 for ev in events if ev.kind == "cancelled")
        return [report(req_type, affected), *self._events(events)]

    # --- engine events → ExecutionReports ---------------------------------------------------------

    def _events(self, events: Sequence[Event], cancel_ids: tuple[str, str] | None = None) -> list[Outbound]:
        out: list[Outbound] = []
        for ev in events:
            self.events += 1
            state = self.orders.live.get(ev.order_id)
            if state is None:
                continue
            kind = ev.kind
            if kind == "accepted":
                state.status = "0"
                out.append(self._report(state, "0", ev))
            elif kind == "trade":
                price, qty = ev.price, ev.qty  # each attribute is a call into the extension: read once
                assert price is not None
                last = (price, qty)
                self._fill(state, qty, price, ev.leaves_qty)
                out.append(self._report(state, "F", ev, last=last))
                maker_id = ev.maker_order_id
                maker = self.orders.live.get(maker_id) if maker_id is not None else None
                if maker is not None:
                    self._fill(maker, qty, price, ev.maker_leaves_qty or 0)
                    out.append(self._report(maker, "F", ev, last=last, maker=True))
            elif kind == "cancelled":
                self._finish(state, "4")
                extra: Fields = []
                cl = state.cl_ord_id
                if cancel_ids is not None and ev.reason == "user":
                    cl = cancel_ids[0]
                    extra.append((41, cancel_ids[1]))
                if ev.reason:
                    extra.append((58, ev.reason))
                out.append(self._report(state, "4", ev, leaves=0, cl_ord_id=cl, extra=extra))
            elif kind == "rejected":
                self._finish(state, "8")
                extra = [(103, 99), (58, ev.reason or "rejected")]
                out.append(self._report(state, "8", ev, leaves=0, extra=extra))
            elif kind == "triggered":
                out.append(self._report(state, "L", ev))
            # other kinds (e.g. amendments) are not reported by this slice
        return out

    def _fill(self, state: OrderState, qty: int, price: int, leaves: int) -> None:
        state.cum_qty += qty
        state.notional += qty * price
        if leaves == 0:
            self._finish(state, "2")
        else:
            state.status = "1"

    def _finish(self, state: OrderState, status: str) -> None:
        """The order is done (filled, cancelled, rejected): it stops counting as open."""
        state.status = status
        if not state.done:
            state.done = True
            self.orders.finished(state)
            self.risk.closed(state.account)
            orders = self._sessions.get(state.session)
            if orders is not None:
                orders.live.discard(state.order_id)

    def _far_touch(self, symbol: str, side: str) -> int | None:
        """The best opposite price a market order would meet first (None when that side is empty)."""
        bid, ask = self.engine.bbo(symbol)
        quote = ask if side == "buy" else bid
        return quote[0] if quote is not None else None

    def _exec_id(self) -> str:
        self._next_exec += 1
        return f"{self._next_order_id:x}-{self._next_exec}"

    def _report(
        self,
        state: OrderState,
        exec_type: str,
        ev: Event,
        *,
        last: tuple[int, int] | None = None,
        maker: bool = False,
        leaves: int | None = None,
        cl_ord_id: str | None = None,
        extra: Fields | None = None,
    ) -> Outbound:
        inst = self.instruments[state.symbol]
        if leaves is None:
            leaves = (ev.maker_leaves_qty or 0) if maker else ev.leaves_qty
        cum_qty = state.cum_qty
        avg = inst.price_text(state.notional // cum_qty) if cum_qty else "0"
        fields: Fields = [
            (37, str(state.order_id)),
            (11, cl_ord_id or state.cl_ord_id),
            (17, f"{ev.seq}M" if maker else str(ev.seq)),
            (150, exec_type),
            (39, state.status),
            (1, state.account),
            (55, state.symbol),
            (54, _FIX_SIDE[state.side]),
            (38, state.qty),
        ]
        if last is not None:
            fields += [(31, inst.price_text(last[0])), (32, last[1])]
        fields += [(151, leaves), (14, cum_qty), (6, avg), (60, _now())]
        if extra:
            fields += extra
        if self.log is not None and exec_type != "0":  # an ack changes nothing the log keeps
            if exec_type == "F":
                self.log.fill(state)
            else:
                self.log.state(state)
        return (state.session, "8", fields)

    def _reject_fields(
        self, cl_ord_id: str, symbol: str, side: str, msg: FixMessage, text: str, reason: int, order_id: int = 0
    ) -> Fields:
        fields: Fields = [
            (37, str(order_id) if order_id else "NONE"),
            (11, cl_ord_id),
            (17, self._exec_id()),
            (150, "8"),
            (39, "8"),
            (55, symbol),
            (54, side or "1"),
        ]
        qty = msg.get(38)
        if qty:
            fields.append((38, qty))
        fields += [(151, 0), (14, 0), (6, "0"), (60, _now()), (103, reason), (58, text)]
        return fields

    @staticmethod
    def _cancel_reject(
        session: str,
        cl_ord_id: str,
        orig: str,
        state: OrderState | None,
        status: str,
        reason: int,
        text: str,
        *,
        response_to: int = 1,
    ) -> Outbound:
        fields: Fields = [
            (37, str(state.order_id) if state is not None else "NONE"),
            (11, cl_ord_id),
            (41, orig),
            (39, status if status != "A" else "0"),
            (434, response_to),
            (102, reason),
            (58, text),
        ]
        return (session, "9", fields)

    @staticmethod
    def _business_reject(session: str, msg: FixMessage, reason: int, text: str, ref_id: str | None = None) -> Outbound:
        fields: Fields = [(45, msg.seq_num or 0), (372, msg.msg_type)]
        if ref_id:
            fields.append((379, ref_id))
        fields += [(380, reason), (58, text)]
        return (session, "j", fields)

    # --- kill switch, cancel-on-disconnect, throttling ---------------------------------------------

    def kill(self, account: str) -> tuple[int, list[Outbound]]:
        """Disable ``account`` (persisted) and cancel all its orders, stops included; (cancelled, reports)."""
        if account not in self.risk.limits:
            raise KeyError(account)
        self.risk.kill_switch.set(account, True)
        events = self.engine.mass_cancel(account)
        out = self._events(events)
        self._retire()
        return sum(1 for ev in events if ev.kind == "cancelled"), out

    def enable(self, account: str) -> None:
        if account not in self.risk.limits:
            raise KeyError(account)
        self.risk.kill_switch.set(account, False)

    def cancel_session_orders(self, session: str) -> list[Outbound]:
        """Cancel every live order the session entered (cancel-on-disconnect); reports go to the owners."""
        orders = self._sessions.get(session)
        if orders is None:
            return []
        out: list[Outbound] = []
        for order_id in sorted(orders.live):  # sorted: the journal order must not depend on set iteration
            state = self.orders.live[order_id]
            out.extend(self._events(self.engine.cancel(state.symbol, order_id)))
        self._retire()
        return out

    def sessions_with_live_orders(self) -> list[str]:
        return sorted(key for key, orders in self._sessions.items() if orders.live and key)

    def throttled(self, session: str, msg: FixMessage, text: str) -> Outbound:
        """The answer to an application message refused by the session's rate limit."""
        t = msg.msg_type
        cl_ord_id = msg.get(11) or ""
        if t == "D" and cl_ord_id:
            fields = self._reject_fields(cl_ord_id, msg.get(55) or "", msg.get(54) or "", msg, text, 99)
            return (session, "8", fields)
        if t in ("F", "G") and cl_ord_id:
            return self._cancel_reject(
                session, cl_ord_id, msg.get(41) or "", None, "8", 99, text, response_to=1 if t == "F" else 2
            )
        return self._business_reject(session, msg, 0, text, ref_id=cl_ord_id or None)

    def forget_session(self, session: str) -> None:
        """Drop a session's ClOrdID map (e.g. on a sequence reset); orders stay known to the engine."""
        self._sessions.pop(session, None)


class _TransactTime:
    """TransactTime (60) in UTC with milliseconds, formatted once per millisecond rather than once per report."""

    __slots__ = ("ms", "text")

    def __init__(self) -> None:
        self.ms = -1
        self.text = ""

    def __call__(self) -> str:
        ms = time.time_ns() // 1_000_000
        if ms != self.ms:
            secs, rest = divmod(ms, 1000)
            self.ms = ms
            self.text = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(secs)) + f".{rest:03d}"
        return self.text


_now = _TransactTime()


def _get_int(msg: FixMessage, tag: int, name: str) -> int | None:
    try:
        return msg.get_int(tag)
    except ValueError as e:
        raise _Reject(f"{name}({tag}) is not an integer") from e


def _price(inst: Instrument, msg: FixMessage, tag: int, name: str) -> int | None:
    text = msg.get(tag)
    if text is None:
        return None
    try:
        return inst.price_units(text)
    except ValueError as e:
        raise _Reject(f"{name}({tag}): {e}", 5 if tag == 44 else 99) from e
