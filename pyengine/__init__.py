"""pyengine: a low-latency exchange matching engine.

A compiled Rust price-time-priority order book with a typed Python API::

    from pyengine import Engine
    eng = Engine()
    eng.add_instrument("ACME", tick_size=1, lot_size=1)
    eng.submit("ACME", order_id=1, account="acc-1", side="buy", qty=10, price=100)

The fast per-call API takes integer ids and codes, all positional, and returns
one compact ``Events`` sequence (``Event`` objects are built only when looked at)::

    acme, acc = eng.instrument_id("ACME"), eng.account_id("acc-1")
    events = eng.submit_limit(acme, 2, acc, BUY, 10, 100, GTC, ts)
    eng.cancel_order(acme, 2, ts + 1)

``Engine.submit_batch(commands, out=events)`` applies a whole numpy command array.
"""

from collections.abc import Sequence as _Sequence

from pyengine._engine import (
    COMMAND_RECORD_SIZE,
    EVENT_RECORD_SIZE,
    ORDER_RECORD_BYTES,
    Engine,
    Event,
    Events,
    InvariantError,
    JournalError,
    JournalSync,
    JournalSyncer,
    Order,
    __version__,
)
from pyengine._records import COMMAND_DTYPE, EVENT_DTYPE, SIDES, TIFS

#: Integer codes of the fast per-call API (``Engine.submit_limit`` and friends), as in the command records.
BUY, SELL = SIDES["buy"], SIDES["sell"]
GTC, IOC, FOK = TIFS["gtc"], TIFS["ioc"], TIFS["fok"]

_Sequence.register(Events)

__all__ = [
    "BUY",
    "COMMAND_DTYPE",
    "COMMAND_RECORD_SIZE",
    "EVENT_DTYPE",
    "EVENT_RECORD_SIZE",
    "FOK",
    "GTC",
    "IOC",
    "ORDER_RECORD_BYTES",
    "SELL",
    "Engine",
    "Event",
    "Events",
    "InvariantError",
    "JournalError",
    "JournalSync",
    "JournalSyncer",
    "Order",
    "__version__",
]
