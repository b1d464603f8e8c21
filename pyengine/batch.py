"""Helpers for the batch API: build command arrays, read event arrays.

``Engine.submit_batch(commands)`` takes a numpy array of :data:`COMMAND_DTYPE`
and returns a numpy array of :data:`EVENT_DTYPE`. Symbols and accounts travel
as numeric ids (``Engine.instrument_id``, ``Engine.account_id``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

import numpy as np

from pyengine._engine import Engine
from pyengine._records import (
    COMMAND_DTYPE,
    EVENT_DTYPE,
    EVENT_HAS_PRICE,
    FLAG_HAS_INSTRUMENT,
    FLAG_HAS_PRICE,
    FLAG_HAS_QTY,
    FLAG_HAS_SIDE,
    FLAG_HAS_STOP_PRICE,
    FLAG_POST_ONLY,
    KINDS,
    OPS,
    REASONS,
    SIDES,
    STPS,
    TIFS,
    TYPES,
)

__all__ = ["COMMAND_DTYPE", "EVENT_DTYPE", "bind_calls", "commands", "event_dicts", "to_calls", "to_fast_calls"]

_NO_ACCOUNT = 0xFFFF_FFFF
_SUBMIT_KEYS = {
    "symbol",
    "order_id",
    "account",
    "side",
    "qty",
    "price",
    "type",
    "tif",
    "post_only",
    "display_qty",
    "stop_price",
    "stp",
    "ts",
}


def _code(table: Mapping[str, int], what: str, value: str) -> int:
    try:
        return table[value]
    except KeyError:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(table)}") from None


def commands(engine: Engine, items: Iterable[Mapping[str, Any]]) -> np.ndarray[Any, np.dtype[np.void]]:
    """Builds a command array from dicts shaped like the per-call API's arguments.

    Each dict has ``op`` ("submit", "cancel", "amend", "mass_cancel") and the
    keyword arguments of the matching ``Engine`` method, e.g.
    ``{"op": "submit", "symbol": "ACME", "order_id": 1, "account": "a", "side": "buy",
    "qty": 10, "price": 100, "ts": 1}``. Accounts are registered as needed.
    """
    rows = list(items)
    out = np.zeros(len(rows), dtype=COMMAND_DTYPE)
    for i, row in enumerate(rows):
        rec = out[i]
        op = _code(OPS, "op", row["op"])
        rec["op"] = op
        rec["ts"] = row.get("ts", 0)
        if "symbol" in row and row["symbol"] is not None:
            rec["instrument"] = engine.instrument_id(row["symbol"])
        flags = 0
        if op == OPS["submit"]:
            unknown = set(row) - _SUBMIT_KEYS - {"op"}
            if unknown:
                raise ValueError(f"unknown submit fields: {sorted(unknown)}")
            rec["order_id"] = row["order_id"]
            rec["account"] = engine.account_id(row["account"])
            rec["side"] = _code(SIDES, "side", row["side"])
            rec["type"] = _code(TYPES, "order type", row.get("type", "limit"))
            rec["tif"] = _code(TIFS, "time in force", row.get("tif", "gtc"))
            rec["stp"] = _code(STPS, "self-trade prevention mode", row.get("stp", "none"))
            rec["qty"] = row["qty"]
            rec["price"] = row.get("price") or 0
            rec["stop_price"] = row.get("stop_price") or 0
            rec["display_qty"] = row.get("display_qty") or 0
            flags |= FLAG_POST_ONLY if row.get("post_only") else 0
        elif op == OPS["cancel"]:
            rec["order_id"] = row["order_id"]
        elif op == OPS["amend"]:
            rec["order_id"] = row["order_id"]
            for key, flag in (("qty", FLAG_HAS_QTY), ("price", FLAG_HAS_PRICE), ("stop_price", FLAG_HAS_STOP_PRICE)):
                if row.get(key) is not None:
                    rec[key] = row[key]
                    flags |= flag
        else:
            # Like the per-call API, a mass cancel never registers an account:
            # an unknown one gets an id that matches no account, so nothing is cancelled.
            known = engine.accounts()
            rec["account"] = known.index(row["account"]) if row["account"] in known else _NO_ACCOUNT
            if row.get("symbol") is not None:
                flags |= FLAG_HAS_INSTRUMENT
            if row.get("side") is not None:
                rec["side"] = _code(SIDES, "side", row["side"])
                flags |= FLAG_HAS_SIDE
        rec["flags"] = flags
    return out


def event_dicts(engine: Engine, events: np.ndarray[Any, np.dtype[np.void]]) -> list[dict[str, Any]]:
    """Converts an event array to dicts with the keys of ``Event.to_dict()``."""
    if events.dtype != EVENT_DTYPE:
        raise TypeError(f"events must have dtype EVENT_DTYPE, got {events.dtype!r}")
    symbols = engine.instruments()
    accounts = engine.accounts()
    out = []
    for rec in events.tolist():
        (
            seq,
            ts,
            order_id,
            maker_order_id,
            price,
            qty,
            leaves,
            maker_leaves,
            instrument,
            account,
            maker_account,
            kind,
            reason,
            side,
            flags,
        ) = rec
        kind_name = KINDS[kind]
        is_order, is_trade = kind_name != "rejected", kind_name == "trade"
        out.append(
            {
                "seq": seq,
                "ts": ts,
                "kind": kind_name,
                "reason": REASONS[reason],
                "symbol": symbols[instrument] if instrument < len(symbols) else None,
                "side": ("buy", "sell")[side] if is_order else None,
                "order_id": order_id,
                "account": accounts[account] if is_order else None,
                "price": price if flags & EVENT_HAS_PRICE else None,
                "qty": qty,
                "leaves_qty": leaves,
                "maker_order_id": maker_order_id if is_trade else None,
                "maker_account": accounts[maker_account] if is_trade else None,
                "maker_leaves_qty": maker_leaves if is_trade else None,
            }
        )
    return out


_SIDE_NAMES = {v: k for k, v in SIDES.items()}
_TYPE_NAMES = {v: k for k, v in TYPES.items()}
_TIF_NAMES = {v: k for k, v in TIFS.items()}
_STP_NAMES = {v: k for k, v in STPS.items()}
Call = tuple[str, tuple[Any, ...], dict[str, Any]]


def _submit_call(symbol: str, account: str, rec: tuple[Any, ...]) -> Call:
    ts, order_id, price, stop_price, qty, display, _i, _a, _op, side, otype, tif, stp, flags, _pad = rec
    type_name = _TYPE_NAMES.get(otype)
    if type_name is None or side not in _SIDE_NAMES or tif not in _TIF_NAMES or stp not in _STP_NAMES:
        raise ValueError(f"command record with invalid codes: {rec!r}")
    kwargs: dict[str, Any] = {"ts": ts}
    if type_name != "limit":
        kwargs["type"] = type_name
    if tif:
        kwargs["tif"] = _TIF_NAMES[tif]
    if stp:
        kwargs["stp"] = _STP_NAMES[stp]
    if flags & FLAG_POST_ONLY:
        kwargs["post_only"] = True
    if display:
        kwargs["display_qty"] = display
    if type_name in ("stop", "stop_limit"):
        kwargs["stop_price"] = stop_price
    priced = type_name in ("limit", "stop_limit")
    args = (symbol, order_id, account, _SIDE_NAMES[side], qty, price if priced else None)
    return "submit", args, kwargs


def to_calls(engine: Engine, commands: np.ndarray[Any, np.dtype[np.void]]) -> list[Call]:
    """Translates a command array into per-call API calls ``(method, args, kwargs)``.

    ``getattr(engine, method)(*args, **kwargs)`` for each gives exactly the
    events ``engine.submit_batch(commands)`` gives. Used by the benchmarks to
    drive the per-call API with the shared workloads.
    """
    if commands.dtype != COMMAND_DTYPE:
        raise TypeError(f"commands must have dtype COMMAND_DTYPE, got {commands.dtype!r}")
    symbols = engine.instruments()
    accounts = engine.accounts()
    calls: list[Call] = []
    for rec in commands.tolist():
        ts, order_id, price, stop_price, qty, _d, instrument, account, op, side = rec[:10]
        flags = rec[13]
        if instrument >= len(symbols):
            raise ValueError(f"command for unknown instrument id {instrument}")
        symbol = symbols[instrument]
        if op == OPS["submit"]:
            calls.append(_submit_call(symbol, accounts[account], rec))
        elif op == OPS["cancel"]:
            calls.append(("cancel", (symbol, order_id), {"ts": ts}))
        elif op == OPS["amend"]:
            kw: dict[str, Any] = {"ts": ts}
            for key, flag, value in (
                ("qty", FLAG_HAS_QTY, qty),
                ("price", FLAG_HAS_PRICE, price),
                ("stop_price", FLAG_HAS_STOP_PRICE, stop_price),
            ):
                if flags & flag:
                    kw[key] = value
            calls.append(("amend", (symbol, order_id), kw))
        elif op == OPS["mass_cancel"]:
            kw = {"ts": ts}
            if flags & FLAG_HAS_INSTRUMENT:
                kw["symbol"] = symbol
            if flags & FLAG_HAS_SIDE:
                kw["side"] = _SIDE_NAMES[side]
            calls.append(("mass_cancel", (accounts[account],), kw))
        else:
            raise ValueError(f"command record with invalid op {op}")
    return calls


def to_fast_calls(engine: Engine, commands: np.ndarray[Any, np.dtype[np.void]]) -> list[Call]:
    """Like :func:`to_calls`, but in the fast per-call API where a command fits it.

    GTC/IOC/FOK limit orders become ``("submit_limit", (instrument, order_id, account,
    side, qty, price, tif, ts), {})``, IOC/FOK market orders ``submit_market``, cancels
    ``cancel_order``, amends of only the price or only the quantity ``amend_price`` /
    ``amend_qty``; ids and codes are the command record's own. Anything else (stops,
    icebergs, post-only, self-trade prevention, combined amends, mass cancels) keeps the
    keyword call of :func:`to_calls`. Either way the events equal ``submit_batch``'s.
    """
    slow = to_calls(engine, commands)
    submit, cancel, amend = OPS["submit"], OPS["cancel"], OPS["amend"]
    limit, market = TYPES["limit"], TYPES["market"]
    out: list[Call] = []
    for call, rec in zip(slow, commands.tolist(), strict=True):
        ts, order_id, price, _stop, qty, display, instrument, account, op, side, otype, tif, stp, flags, _ = rec
        if op == submit and not display and not stp and not flags:
            if otype == limit:
                out.append(("submit_limit", (instrument, order_id, account, side, qty, price, tif, ts), {}))
                continue
            if otype == market and tif:
                out.append(("submit_market", (instrument, order_id, account, side, qty, tif, ts), {}))
                continue
        elif op == cancel:
            out.append(("cancel_order", (instrument, order_id, ts), {}))
            continue
        elif op == amend and flags == FLAG_HAS_PRICE:
            out.append(("amend_price", (instrument, order_id, price, ts), {}))
            continue
        elif op == amend and flags == FLAG_HAS_QTY:
            out.append(("amend_qty", (instrument, order_id, qty, ts), {}))
            continue
        out.append(call)
    return out


def bind_calls(engine: Engine, calls: Iterable[Call]) -> list[tuple[Callable[..., Any], tuple[Any, ...]]]:
    """Binds ``(method, args, kwargs)`` calls to ``engine`` as ``(fn, args)`` pairs.

    ``for fn, args in bind_calls(eng, to_fast_calls(eng, commands)): fn(*args)`` replays
    the commands; a call with keyword arguments is bound with :func:`functools.partial`.
    """
    methods: dict[str, Callable[..., Any]] = {}
    out: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
    for name, args, kwargs in calls:
        fn = methods.get(name)
        if fn is None:
            fn = methods[name] = getattr(engine, name)
        out.append((partial(fn, *args, **kwargs), ()) if kwargs else (fn, args))
    return out
