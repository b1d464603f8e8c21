"""Numpy views of the packed command and event records used by the batch API.

The layouts mirror ``engine/src/records.rs`` byte for byte; the test suite
checks the sizes against the compiled module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

COMMAND_DTYPE = np.dtype(
    [
        ("ts", "<u8"),
        ("order_id", "<u8"),
        ("price", "<i8"),
        ("stop_price", "<i8"),
        ("qty", "<u8"),
        ("display_qty", "<u8"),
        ("instrument", "<u4"),
        ("account", "<u4"),
        ("op", "u1"),
        ("side", "u1"),
        ("type", "u1"),
        ("tif", "u1"),
        ("stp", "u1"),
        ("flags", "u1"),
        ("_pad", "V2"),
    ]
)

EVENT_DTYPE = np.dtype(
    [
        ("seq", "<u8"),
        ("ts", "<u8"),
        ("order_id", "<u8"),
        ("maker_order_id", "<u8"),
        ("price", "<i8"),
        ("qty", "<u8"),
        ("leaves_qty", "<u8"),
        ("maker_leaves_qty", "<u8"),
        ("instrument", "<u4"),
        ("account", "<u4"),
        ("maker_account", "<u4"),
        ("kind", "u1"),
        ("reason", "u1"),
        ("side", "u1"),
        ("flags", "u1"),
    ]
)

# Codes shared with the Rust core (engine/src/types.rs, event.rs, records.rs).
OPS = {"submit": 0, "cancel": 1, "amend": 2, "mass_cancel": 3}
SIDES = {"buy": 0, "sell": 1}
TYPES = {"limit": 0, "market": 1, "stop": 2, "stop_limit": 3}
TIFS = {"gtc": 0, "ioc": 1, "fok": 2}
STPS = {"none": 0, "cancel_newest": 1, "cancel_oldest": 2, "cancel_both": 3, "decrement": 4}
FLAG_POST_ONLY, FLAG_HAS_QTY, FLAG_HAS_PRICE, FLAG_HAS_STOP_PRICE = 1, 2, 4, 8
FLAG_HAS_INSTRUMENT, FLAG_HAS_SIDE = 16, 32
EVENT_HAS_PRICE = 1

KINDS = ("accepted", "rejected", "trade", "cancelled", "amended", "triggered")
REASONS: dict[int, str | None] = {
    0: None,
    1: "unknown_instrument",
    2: "duplicate_order_id",
    3: "unknown_order",
    4: "price_off_tick",
    5: "qty_off_lot",
    6: "qty_below_min",
    7: "qty_above_max",
    8: "price_band",
    9: "would_take",
    10: "overflow",
    11: "invalid_qty",
    12: "invalid_display",
    13: "invalid_order",
    14: "invalid_amend",
    15: "invalid_command",
    32: "user",
    33: "ioc",
    34: "no_liquidity",
    35: "fok",
    36: "stp",
    37: "mass_cancel",
    38: "amend_filled",
}


def events_from_buffer(raw: Any) -> np.ndarray[Any, np.dtype[np.void]]:
    """Wraps a buffer of packed event records (called by the compiled module)."""
    return np.frombuffer(raw, dtype=EVENT_DTYPE)
