"""Type stubs for the compiled core (bindings/src). Checked by mypy.stubtest."""

import os
import pathlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final, SupportsIndex, final, overload

import numpy as np
from typing_extensions import disjoint_base

__all__ = [
    "COMMAND_RECORD_SIZE",
    "EVENT_RECORD_SIZE",
    "ORDER_RECORD_BYTES",
    "Engine",
    "Event",
    "EventRecords",
    "Events",
    "FixDisconnect",
    "FixFramer",
    "FixGarbled",
    "FixMessage",
    "FixSessionReject",
    "InvariantError",
    "JournalError",
    "Order",
    "__version__",
    "encode_fix",
    "generate_workload",
    "journal_inspect",
    "journal_replay",
    "workload_names",
]

__version__: Final[str]
COMMAND_RECORD_SIZE: Final[int]
EVENT_RECORD_SIZE: Final[int]
ORDER_RECORD_BYTES: Final[int]

class JournalError(Exception):
    """A journal or snapshot is damaged or cannot be recovered; the message names the file and offset."""

class InvariantError(AssertionError):
    """Raised by Engine.check_invariants() when an internal invariant is broken."""

class FixDisconnect(Exception):
    """The FIX byte stream cannot be framed: the session must disconnect. The message says why."""

class FixGarbled(Exception):
    """A garbled FIX message (bad CheckSum or BodyLength) was dropped: send no Reject, consume no sequence number.

    Attributes (set when raised by FixFramer): kind (str), bytes_dropped (int).
    """

    kind: str
    bytes_dropped: int

class FixSessionReject(Exception):
    """A well-framed FIX message broke a session-level rule: answer with Reject (35=3).

    args is (reason, ref_tag, ref_msg_type, ref_seq_num, text); when raised by FixFramer the same values are
    also the attributes below.
    """

    reason: int
    ref_tag: int | None
    ref_msg_type: str | None
    ref_seq_num: int | None
    text: str

@final
class FixMessage:
    """One checked FIX message: its fields in wire order, header (8, 9, 35, ...) and trailer (10) included."""

    @property
    def msg_type(self) -> str: ...
    @property
    def seq_num(self) -> int | None: ...
    @property
    def poss_dup(self) -> bool: ...
    @property
    def fields(self) -> list[tuple[int, bytes]]: ...
    @property
    def raw(self) -> bytes: ...
    def get(self, tag: int) -> str | None: ...
    def get_int(self, tag: int) -> int | None: ...
    def get_decimal(self, tag: int) -> tuple[int, int] | None: ...
    def __len__(self) -> int: ...

@final
class FixFramer:
    """Splits a received FIX 4.4 byte stream into checked FixMessages."""

    def __new__(
        cls,
        max_message_size: int = 65536,
        validate: bool = True,
        sender_comp_id: str | None = None,
        target_comp_id: str | None = None,
    ) -> FixFramer: ...
    def push(self, data: bytes) -> None: ...
    def next(self) -> FixMessage | None: ...
    @property
    def buffered(self) -> int: ...

def encode_fix(
    msg_type: str,
    fields: list[tuple[int, str | int | bytes]],
    *,
    seq: int,
    sender: str,
    target: str,
    sending_time_ns: int,
) -> bytes: ...

_Quote = tuple[int, int] | None
_Depth = list[tuple[int, int, int]]

@final
class Event:
    """One engine event; fields that do not apply are None."""

    @property
    def seq(self) -> int: ...
    @property
    def ts(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def symbol(self) -> str: ...
    @property
    def order_id(self) -> int: ...
    @property
    def side(self) -> str | None: ...
    @property
    def account(self) -> str | None: ...
    @property
    def price(self) -> int | None: ...
    @property
    def qty(self) -> int: ...
    @property
    def leaves_qty(self) -> int: ...
    @property
    def maker_order_id(self) -> int | None: ...
    @property
    def maker_account(self) -> str | None: ...
    @property
    def maker_leaves_qty(self) -> int | None: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class Order:
    """A live order: resting, or a stop waiting for its trigger."""

    @property
    def symbol(self) -> str: ...
    @property
    def order_id(self) -> int: ...
    @property
    def account(self) -> str: ...
    @property
    def side(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def tif(self) -> str: ...
    @property
    def stp(self) -> str: ...
    @property
    def post_only(self) -> bool: ...
    @property
    def price(self) -> int | None: ...
    @property
    def stop_price(self) -> int | None: ...
    @property
    def qty(self) -> int: ...
    @property
    def leaves_qty(self) -> int: ...
    @property
    def filled_qty(self) -> int: ...
    @property
    def display_qty(self) -> int | None: ...
    @property
    def visible_qty(self) -> int: ...
    @property
    def status(self) -> str: ...

@final
class EventRecords:
    """Packed event records returned by submit_batch, lent to numpy without a copy."""

    def __len__(self) -> int: ...

@final
class Events(Sequence[Event]):
    """The events of one fast per-call command, in order: a read-only sequence of Event.

    Kept in native form; each Event object is built when it is accessed.
    """

    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, key: SupportsIndex, /) -> Event: ...
    @overload
    def __getitem__(self, key: slice, /) -> list[Event]: ...
    def __iter__(self) -> Iterator[Event]: ...
    def __contains__(self, item: object, /) -> bool: ...
    def index(self, value: Any, start: int = 0, stop: int = ..., /) -> int: ...
    def count(self, value: Any, /) -> int: ...
    def to_list(self) -> list[Event]: ...
    def __eq__(self, other: object, /) -> bool: ...

@disjoint_base
class Engine:
    """A multi-instrument price-time-priority matching engine."""

    def __new__(cls) -> Engine: ...
    def add_instrument(
        self,
        symbol: str,
        tick_size: int = 1,
        lot_size: int = 1,
        min_qty: int | None = None,
        max_qty: int | None = None,
        price_band: int | None = None,
    ) -> int: ...
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
    ) -> list[Event]: ...
    def cancel(self, symbol: str, order_id: int, *, ts: int | None = None) -> list[Event]: ...
    def amend(
        self,
        symbol: str,
        order_id: int,
        *,
        qty: int | None = None,
        price: int | None = None,
        stop_price: int | None = None,
        ts: int | None = None,
    ) -> list[Event]: ...
    def mass_cancel(
        self, account: str, *, symbol: str | None = None, side: str | None = None, ts: int | None = None
    ) -> list[Event]: ...
    def bbo(self, symbol: str) -> tuple[_Quote, _Quote]: ...
    def depth(self, symbol: str, levels: int = 10) -> tuple[_Depth, _Depth]: ...
    def last_trade_price(self, symbol: str) -> int | None: ...
    def order(self, symbol: str, order_id: int) -> Order | None: ...
    def open_orders(self, account: str) -> list[Order]: ...
    def state_hash(self) -> int: ...
    def check_invariants(self) -> None: ...
    def instruments(self) -> list[str]: ...
    def accounts(self) -> list[str]: ...
    def instrument_id(self, symbol: str) -> int: ...
    def account_id(self, account: str) -> int: ...
    @property
    def seq(self) -> int: ...
    @property
    def live_orders(self) -> int: ...
    @property
    def memory_bytes(self) -> int: ...
    def submit_batch(
        self, commands: Any, out: np.ndarray[Any, np.dtype[np.void]] | None = None
    ) -> np.ndarray[Any, np.dtype[np.void]]: ...
    def submit_limit(
        self,
        instrument: int,
        order_id: int,
        account: int,
        side: int,
        qty: int,
        price: int,
        tif: int,
        ts: int,
        /,
    ) -> Events: ...
    def submit_market(
        self, instrument: int, order_id: int, account: int, side: int, qty: int, tif: int, ts: int, /
    ) -> Events: ...
    def cancel_order(self, instrument: int, order_id: int, ts: int, /) -> Events: ...
    def amend_price(self, instrument: int, order_id: int, price: int, ts: int, /) -> Events: ...
    def amend_qty(self, instrument: int, order_id: int, qty: int, ts: int, /) -> Events: ...
    def clone(self) -> Engine: ...
    @staticmethod
    def open(
        path: str | os.PathLike[str],
        *,
        fsync: str = "batch",
        segment_max_bytes: int | None = None,
        batch_max_records: int | None = None,
        batch_interval_ms: float | None = None,
    ) -> Engine: ...
    def commit(self) -> int: ...
    def snapshot(self) -> pathlib.Path: ...
    def close(self) -> None: ...
    @property
    def journal_seq(self) -> int | None: ...
    @property
    def durable_seq(self) -> int | None: ...
    def __enter__(self) -> Engine: ...
    def __exit__(self, *_exc: object) -> bool: ...

def generate_workload(name: str, seed: int, size: int) -> dict[str, Any]: ...
def workload_names() -> list[str]: ...
def journal_inspect(
    path: str | os.PathLike[str], progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]: ...
def journal_replay(
    path: str | os.PathLike[str], *, from_snapshot: bool = False, progress: Callable[[int, int], None] | None = None
) -> tuple[Engine, dict[str, Any]]: ...
