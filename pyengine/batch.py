"""Helpers for the batch API: build command arrays, read event arrays.

``Engine.submit_batch(commands)`` takes a numpy array of :data:`COMMAND_DTYPE`
and returns a numpy array of :data:`EVENT_DTYPE`. Symbols and accounts travel
as numeric ids (``Engine.instrument_id``, ``Engine.account_id``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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

__all__ = ["COMMAND_DTYPE", "EVENT_DTYPE", "commands", "event_dicts"]

_SUBMIT_KEYS = {"symbol", "order_id", "account", "side", "qty", "price", "type", "tif", "post_only",
                "display_qty", "stop_price", "stp", "ts"}


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
            rec["account"] = engine.account_id(row["account"])
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
        (seq, ts, order_id, maker_order_id, price, qty, leaves, maker_leaves,
         instrument, account, maker_account, kind, reason, side, flags) = rec
        kind_name = KINDS[kind]
        is_order, is_trade = kind_name != "rejected", kind_name == "trade"
        out.append({
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
        })
    return out
