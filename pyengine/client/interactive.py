"""``python -m pyengine.client interactive`` (alias ``shell``): one logged-on FIX session driven from a prompt.

::

    pyengine> buy ACME 10 100.00            # GTC limit; add ioc|fok, post, stop=PX, display=N, account=A, id=X
    pyengine> sell ACME 4 market ioc
    pyengine> replace C1 8 99.50            # ClOrdID, new quantity, new price
    pyengine> cancel C1
    pyengine> status C1
    pyengine> orders                        # what this session sent, with the last known state
    pyengine> quit                          # or end of input (Ctrl-D): logs out

A reader thread prints every message from the gateway as it arrives (fills of resting orders too), so the
prompt never blocks on the network; a request waits (up to ``--timeout``) for its own reply before the next
prompt, so a scripted session (commands piped on stdin) prints its replies in order. A mistyped command
prints ``error: ...`` and the session goes on; losing the connection ends the shell with status 1.
"""

from __future__ import annotations

import cmd
import secrets
import shlex
import sys
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final, TextIO

from pyengine.client.fixclient import Fields, FixClient, FixClientError, describe, reply_outcome, transact_time
from pyengine.fix import FixMessage

__all__ = ["ClientShell", "OrderRecord", "ShellInputError"]

SIDES: Final = {"buy": "1", "sell": "2"}
TIFS: Final = {"gtc": "1", "ioc": "3", "fok": "4"}
STP: Final = {"cancel_newest": "N", "cancel_oldest": "O", "cancel_both": "B", "decrement": "D"}
ORD_STATUS: Final = {
    "0": "new",
    "1": "partially filled",
    "2": "filled",
    "4": "cancelled",
    "5": "replaced",
    "6": "pending cancel",
    "8": "rejected",
    "A": "pending new",
    "E": "pending replace",
}
_RECV_POLL: Final = 0.2
_COMMANDS: Final = ["buy", "sell", "cancel", "replace", "status", "orders", "help", "quit"]
_ORDER_OPTIONS: Final = "gtc|ioc|fok, post, stop=PX, display=N, account=A, id=CLORDID, stp=MODE"


class ShellInputError(ValueError):
    """A command the shell cannot send; the message says what to type instead."""


@dataclass
class OrderRecord:
    """An order this session sent, updated from its ExecutionReports."""

    cl_ord_id: str
    symbol: str
    side: str
    qty: int
    price: str
    tif: str
    status: str = "sent"
    cum_qty: int = 0
    leaves_qty: int | None = None


@dataclass
class _Waiter:
    """The request whose reply the prompt is waiting for."""

    cl: str
    msg_type: str
    seq: int = -1
    result: str | None = None

    def __post_init__(self) -> None:
        self.done = threading.Event()


def _decimal(text: str, what: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ShellInputError(f"{what} must be a decimal number, got {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise ShellInputError(f"{what} must be positive, got {text!r}")
    return text


def _count(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ShellInputError(f"{what} must be a whole number, got {text!r}") from None
    if value <= 0:
        raise ShellInputError(f"{what} must be positive, got {text!r}")
    return value


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as e:
        raise ShellInputError(str(e)) from None


class ClientShell(cmd.Cmd):
    """The prompt: one ``do_*`` method per command; their docstrings are what ``help`` prints."""

    def __init__(self, client: FixClient, timeout: float, stdin: TextIO | None = None, stdout: TextIO | None = None):
        stdin = sys.stdin if stdin is None else stdin
        stdout = sys.stdout if stdout is None else stdout
        super().__init__(stdin=stdin, stdout=stdout)
        self.client = client
        self.timeout = timeout
        self.interactive = stdin.isatty()
        self.prompt = "pyengine> " if self.interactive else ""
        self.use_rawinput = stdin is sys.stdin
        self.orders: dict[str, OrderRecord] = {}  # by every ClOrdID that named it (replaces add names)
        self.sent: list[OrderRecord] = []
        self.lost: str | None = None  # why the connection ended, once it has
        self._tag = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(3))
        self._next_id = 0
        self._lock = threading.Lock()  # orders, waiter, output
        self._waiter: _Waiter | None = None
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read_loop, name="fix-reader", daemon=True)

    # --- running ----------------------------------------------------------------------------------

    def run(self) -> int:
        """Read commands until quit or end of input, then log out; 0, or 1 if the gateway ended the session."""
        self._reader.start()
        if self.interactive:
            self.say("type help for the commands, quit (or Ctrl-D) to log out")
        while True:
            try:
                self.cmdloop()
                break
            except KeyboardInterrupt:
                self.say("^C (type quit to log out)")
        self._stop.set()
        self._reader.join()
        if self.lost is None:
            self.client.logout()
            self.say("logged out")
            return 0
        self.client.close()
        return 1

    def say(self, text: str, err: bool = False) -> None:
        with self._lock:
            stream = sys.stderr if err else self.stdout
            stream.write(text + "\n")
            stream.flush()

    def onecmd(self, line: str) -> bool:
        try:
            return super().onecmd(line)
        except ShellInputError as e:
            self.say(f"error: {e}", err=True)
        except FixClientError as e:
            self.say(f"error: {e}", err=True)
            self.lost = self.lost or str(e)
            return True
        return False

    def postcmd(self, stop: bool, line: str) -> bool:
        return stop or self.lost is not None

    def emptyline(self) -> bool:
        return False

    def default(self, line: str) -> None:
        raise ShellInputError(f"unknown command {line.split()[0]!r} (type help)")

    # --- the reader thread ------------------------------------------------------------------------

    def _read_loop(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self.client.recv(_RECV_POLL)
            except FixClientError as e:
                self._connection_ended(str(e))
                return
            if msg is None or msg.msg_type == "0":
                continue
            self.say(describe(msg))
            self._track(msg)
            if msg.msg_type == "5":
                self._connection_ended(f"logged out by the gateway: {msg.get(58) or 'no reason given'}")
                return

    def _connection_ended(self, why: str) -> None:
        with self._lock:
            self.lost = why
            waiter = self._waiter
        if waiter is not None:
            waiter.result = why
            waiter.done.set()
        if not self._stop.is_set():
            self.say(f"error: {why}; the session is over (press Enter or type quit)", err=True)

    def _track(self, msg: FixMessage) -> None:
        """Update the order table from a report and wake the prompt if this answers its request."""
        with self._lock:
            if msg.msg_type == "8":
                self._update_order(msg)
            waiter = self._waiter
            if waiter is not None:
                outcome = reply_outcome(msg, waiter.cl, waiter.seq, waiter.msg_type)
                if outcome is not None:
                    waiter.result = outcome
                    waiter.done.set()

    def _update_order(self, msg: FixMessage) -> None:
        cl, orig = msg.get(11), msg.get(41)
        rec = self.orders.get(cl or "")
        if rec is None and orig:
            rec = self.orders.get(orig)
            if rec is not None and cl:
                self.orders[cl] = rec  # a cancel or replace names the order by its new ClOrdID
        if rec is None:
            return
        exec_type = msg.get(150)
        if exec_type == "5" and cl:
            rec.cl_ord_id = cl
            rec.qty = msg.get_int(38) or rec.qty
            rec.price = msg.get(44) or rec.price
        status = msg.get(39)
        if status is not None:
            rec.status = ORD_STATUS.get(status, status)
        rec.cum_qty = msg.get_int(14) or rec.cum_qty
        leaves = msg.get_int(151)
        if leaves is not None:
            rec.leaves_qty = leaves

    # --- requests ---------------------------------------------------------------------------------

    def _new_cl(self) -> str:
        self._next_id += 1
        return f"{self._tag}{self._next_id}"

    def _request(self, msg_type: str, cl: str, fields: Fields) -> None:
        """Send, then wait for the reply (the reader thread prints it); a failure is printed as an error."""
        if self.lost is not None:
            raise FixClientError(self.lost)
        waiter = _Waiter(cl, msg_type)
        with self._lock:
            self._waiter = waiter
        try:
            waiter.seq = self.client.send(msg_type, fields)
            if not waiter.done.wait(self.timeout):
                self.say(f"error: no reply to ClOrdID {cl} within {self.timeout:g}s (it may still come)", err=True)
                return
        finally:
            with self._lock:
                self._waiter = None
        if waiter.result:
            self.say(f"error: {waiter.result}", err=True)

    def _order(self, side: str, line: str) -> None:
        words = _words(line)
        if len(words) < 3:
            raise ShellInputError(f"usage: {side} SYMBOL QTY PRICE|market [{_ORDER_OPTIONS}]")
        symbol, qty_text, price_text, *options = words
        qty = _count(qty_text, "QTY")
        market = price_text.lower() in ("market", "mkt")
        price = None if market else _decimal(price_text, "PRICE")
        tif, post, stop, display, account, cl, stp = "gtc", False, None, None, None, None, None
        for opt in options:
            key, eq, value = opt.partition("=")
            key = key.lower()
            if not eq and key in TIFS:
                tif = key
            elif not eq and key in ("post", "post_only"):
                post = True
            elif eq and key == "stop":
                stop = _decimal(value, "stop")
            elif eq and key == "display":
                display = _count(value, "display")
            elif eq and key == "account" and value:
                account = value
            elif eq and key == "id" and value:
                cl = value
            elif eq and key == "stp" and value in STP:
                stp = STP[value]
            else:
                raise ShellInputError(f"unknown order option {opt!r} (options: {_ORDER_OPTIONS})")
        cl = cl or self._new_cl()
        if cl in self.orders:
            raise ShellInputError(f"ClOrdID {cl} was already used in this session")
        ord_type = ("3" if stop else "1") if market else ("4" if stop else "2")
        fields: Fields = [(11, cl)]
        if account:
            fields.append((1, account))
        fields += [(55, symbol), (54, SIDES[side]), (38, qty), (40, ord_type)]
        if price is not None:
            fields.append((44, price))
        if stop is not None:
            fields.append((99, stop))
        fields.append((59, TIFS[tif]))
        if post:
            fields.append((18, "6"))
        if display is not None:
            fields.append((111, display))
        if stp is not None:
            fields.append((7928, stp))
        fields.append((60, transact_time()))
        rec = OrderRecord(cl, symbol, side, qty, price or "market", tif)
        with self._lock:
            self.orders[cl] = rec
            self.sent.append(rec)
        self.say(f"-> NewOrderSingle ClOrdID={cl} {side} {qty} {symbol} @ {price or 'market'} {tif}")
        self._request("D", cl, fields)

    def _known(self, cl: str, extra: list[str], usage: str) -> tuple[str, str]:
        """(symbol, side) of order ``cl``: from this session's records, else from the command line."""
        rec = self.orders.get(cl)
        if rec is not None and not extra:
            return rec.symbol, rec.side
        if len(extra) == 2 and extra[1].lower() in SIDES:
            return extra[0], extra[1].lower()
        if rec is None and not extra:
            raise ShellInputError(f"ClOrdID {cl!r} was not sent by this session; give its SYMBOL and SIDE: {usage}")
        raise ShellInputError(f"usage: {usage}")

    # --- commands ---------------------------------------------------------------------------------

    def do_buy(self, line: str) -> None:
        """buy SYMBOL QTY PRICE|market [gtc|ioc|fok] [post] [stop=PX] [display=N] [account=A] [id=CLORDID]
        [stp=cancel_newest|cancel_oldest|cancel_both|decrement]: send a buy order (default GTC limit)."""
        self._order("buy", line)

    def do_sell(self, line: str) -> None:
        """sell SYMBOL QTY PRICE|market [options as for buy]: send a sell order."""
        self._order("sell", line)

    def do_cancel(self, line: str) -> None:
        """cancel CLORDID [SYMBOL SIDE]: cancel an order (SYMBOL and SIDE only for orders of an earlier run)."""
        words = _words(line)
        if not words:
            raise ShellInputError("usage: cancel CLORDID [SYMBOL SIDE]")
        orig, *extra = words
        symbol, side = self._known(orig, extra, "cancel CLORDID [SYMBOL SIDE]")
        cl = self._new_cl()
        fields: Fields = [(11, cl), (41, orig), (55, symbol), (54, SIDES[side]), (38, 1), (60, transact_time())]
        self.say(f"-> OrderCancelRequest ClOrdID={cl} OrigClOrdID={orig}")
        self._request("F", cl, fields)

    def do_replace(self, line: str) -> None:
        """replace CLORDID QTY PRICE [SYMBOL SIDE]: change an order's quantity (new total) and price."""
        usage = "replace CLORDID QTY PRICE [SYMBOL SIDE]"
        words = _words(line)
        if len(words) < 3:
            raise ShellInputError(f"usage: {usage}")
        orig, qty_text, price_text, *extra = words
        qty, price = _count(qty_text, "QTY"), _decimal(price_text, "PRICE")
        symbol, side = self._known(orig, extra, usage)
        cl = self._new_cl()
        fields: Fields = [(11, cl), (41, orig), (55, symbol), (54, SIDES[side]), (40, "2"), (38, qty), (44, price)]
        fields.append((60, transact_time()))
        self.say(f"-> OrderCancelReplaceRequest ClOrdID={cl} OrigClOrdID={orig} qty {qty} @ {price}")
        self._request("G", cl, fields)

    def do_status(self, line: str) -> None:
        """status CLORDID [SYMBOL]: ask the gateway for an order's state (OrderStatusRequest)."""
        words = _words(line)
        if not words or len(words) > 2:
            raise ShellInputError("usage: status CLORDID [SYMBOL]")
        cl = words[0]
        rec = self.orders.get(cl)
        fields: Fields = [(11, cl)]
        symbol = words[1] if len(words) == 2 else (rec.symbol if rec is not None else None)
        if symbol is None:
            raise ShellInputError(f"ClOrdID {cl!r} was not sent by this session; give its SYMBOL: status {cl} SYMBOL")
        fields.append((55, symbol))
        fields.append((54, SIDES[rec.side] if rec is not None else "1"))  # required; informational here
        self._request("H", cl, fields)

    def do_orders(self, line: str) -> None:
        """orders: list the orders this session sent, with the last state reported by the gateway."""
        if line.strip():
            raise ShellInputError("usage: orders")
        with self._lock:
            rows = [
                (
                    r.cl_ord_id,
                    r.side,
                    r.symbol,
                    str(r.qty),
                    r.price,
                    r.tif,
                    r.status,
                    str(r.cum_qty),
                    "" if r.leaves_qty is None else str(r.leaves_qty),
                )
                for r in self.sent
            ]
        if not rows:
            self.say("no orders sent in this session")
            return
        head = ("ClOrdID", "Side", "Symbol", "Qty", "Price", "TIF", "Status", "Cum", "Leaves")
        widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
        for row in [head, *rows]:
            self.say("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())

    def do_help(self, line: str) -> None:
        """help [COMMAND]: list the commands, or describe one."""
        names = [line.strip()] if line.strip() else _COMMANDS
        for name in names:
            method = getattr(self, f"do_{name}", None)
            if name not in _COMMANDS or method is None or not method.__doc__:
                raise ShellInputError(f"no command {name!r}; commands: {', '.join(_COMMANDS)}")
            self.say(" ".join(method.__doc__.split()))

    def do_quit(self, line: str) -> bool:
        """quit: log out and leave (also exit, or end of input)."""
        return True

    do_exit = do_quit

    def do_EOF(self, line: str) -> bool:
        """End of input (Ctrl-D): log out and leave."""
        if self.interactive:
            self.say("")
        return True
