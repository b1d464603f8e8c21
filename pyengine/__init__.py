"""pyengine: a low-latency exchange matching engine.

A compiled Rust price-time-priority order book with a typed Python API::

    from pyengine import Engine
    eng = Engine()
    eng.add_instrument("ACME", tick_size=1, lot_size=1)
    eng.submit("ACME", order_id=1, account="acc-1", side="buy", qty=10, price=100)
"""

from pyengine._engine import (
    COMMAND_RECORD_SIZE,
    EVENT_RECORD_SIZE,
    ORDER_RECORD_BYTES,
    Engine,
    Event,
    InvariantError,
    JournalError,
    JournalSync,
    JournalSyncer,
    Order,
    __version__,
)
from pyengine._records import COMMAND_DTYPE, EVENT_DTYPE

__all__ = [
    "COMMAND_DTYPE",
    "COMMAND_RECORD_SIZE",
    "EVENT_DTYPE",
    "EVENT_RECORD_SIZE",
    "ORDER_RECORD_BYTES",
    "Engine",
    "Event",
    "InvariantError",
    "JournalError",
    "JournalSync",
    "JournalSyncer",
    "Order",
    "__version__",
]
