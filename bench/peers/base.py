"""The common interface of the peer adapters.

A workload (``pyengine.workloads``) is a packed command array. :func:`ops_from_commands`
turns it into a list of :class:`Op`, a peer-neutral form (order kind, instrument index,
our order id, side, price, quantity); an adapter then *compiles* the ops into calls bound
to one fresh book of its peer, ``[(callable, args), ...]``, and the benchmark times only::

    for fn, args in calls:
        fn(*args)

which is the loop our own per-call API is timed with. Where the peer's API takes the
command as it is, ``callable`` is the peer's own bound method and ``args`` were computed
before timing; where the peer needs glue (its own order ids, an order object to build,
an operation it lacks emulated from the ones it has), ``callable`` is a small function of
the adapter, and that glue is timed as part of the peer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, NamedTuple

import numpy as np

from pyengine._records import FLAG_HAS_PRICE, FLAG_HAS_QTY, OPS, TIFS, TYPES
from pyengine.workloads import Workload

#: Op kinds: the operations the shared workloads use.
GTC, IOC, MARKET, CANCEL, AMEND_PRICE, AMEND_QTY, OTHER = range(7)
KIND_NAMES = ("limit GTC", "limit IOC", "market", "cancel", "amend price", "reduce qty", "other")
BUY, SELL = 0, 1

Call = tuple[Callable[..., Any], tuple[Any, ...]]
CommandArray = np.ndarray[Any, np.dtype[np.void]]


class Op(NamedTuple):
    """One workload command in a peer-neutral form.

    For ``AMEND_PRICE``/``AMEND_QTY``: ``price`` is the new price (None: unchanged),
    ``qty`` our new *total* quantity (None: unchanged) and ``leaves`` the open quantity
    the order has after the amend in our engine (what a peer whose modify takes the new
    open quantity needs; None when our engine rejected the amend).
    """

    kind: int
    instrument: int
    order_id: int
    side: int
    price: int
    qty: int
    leaves: int | None = None


@dataclass
class Outcome:
    """What a replay did, to check that a peer matched like our engine: trades, volume, book."""

    trades: int
    volume: int
    resting: int

    def as_dict(self) -> dict[str, int]:
        return {"trades": self.trades, "volume": self.volume, "resting": self.resting}


class Unsupported(Exception):
    """A workload needs an operation the peer neither has nor emulates."""


@dataclass
class Adapter(ABC):
    """Maps workload ops onto one peer's API."""

    #: Display name and PyPI distribution.
    name: str = ""
    dist: str = ""
    kind: str = ""
    #: Op kinds the peer has, and those the adapter emulates (kind -> how).
    native: frozenset[int] = frozenset()
    emulated: dict[int, str] = field(default_factory=dict)
    #: Differences to our semantics that remain even for native operations.
    notes: tuple[str, ...] = ()
    #: Whether the peer's book lives on the Python heap (memory measured with tracemalloc).
    python_heap: bool = True

    def version(self) -> str:
        try:
            return metadata.version(self.dist)
        except metadata.PackageNotFoundError:
            return "?"

    def plan(self, kinds: set[int]) -> list[str]:
        """The emulations this workload needs; raises :class:`Unsupported` if one is missing."""
        missing = sorted(k for k in kinds if k not in self.native and k not in self.emulated)
        if missing:
            raise Unsupported(f"{self.name} has no {', '.join(KIND_NAMES[k] for k in missing)}")
        return [f"{KIND_NAMES[k]}: {self.emulated[k]}" for k in sorted(kinds) if k not in self.native]

    @abstractmethod
    def new_book(self, workload: Workload) -> Any:
        """A fresh, empty book (with whatever state the glue needs) for the workload's instruments."""

    @abstractmethod
    def compile(self, book: Any, ops: Sequence[Op], commands: CommandArray) -> list[Call]:
        """The ops (``commands`` in peer-neutral form) as calls bound to ``book`` (not timed)."""

    def tally(self, result: Any) -> tuple[int, int]:
        """(trades, volume) of one call's result, for peers whose book keeps no trade log."""
        return 0, 0

    @abstractmethod
    def outcome(self, book: Any, tallied: tuple[int, int]) -> Outcome:
        """Trades, volume (from the book's own log, or ``tallied`` by :meth:`tally`) and resting orders."""


def op_kinds(ops: Sequence[Op]) -> set[int]:
    return {op.kind for op in ops}


def symbols(workload: Workload) -> list[str]:
    return [str(spec["symbol"]) for spec in workload.instruments]


def ops_from_commands(commands: CommandArray, leaves: dict[int, int] | None = None) -> list[Op]:
    """Peer-neutral ops of a command array; ``leaves`` maps a command index to our open quantity after an amend."""
    leaves = leaves or {}
    out: list[Op] = []
    submit, cancel, amend = OPS["submit"], OPS["cancel"], OPS["amend"]
    limit, market, gtc, ioc = TYPES["limit"], TYPES["market"], TIFS["gtc"], TIFS["ioc"]
    for i, rec in enumerate(commands.tolist()):
        _ts, order_id, price, _stop, qty, display, instrument, _acct, op, side, otype, tif, stp, flags, _ = rec
        if op == submit and not display and not stp and not flags:
            if otype == limit and tif in (gtc, ioc):
                out.append(Op(GTC if tif == gtc else IOC, instrument, order_id, side, price, qty))
                continue
            if otype == market and tif == ioc:
                out.append(Op(MARKET, instrument, order_id, side, 0, qty))
                continue
        elif op == cancel:
            out.append(Op(CANCEL, instrument, order_id, 0, 0, 0))
            continue
        elif op == amend and flags in (FLAG_HAS_PRICE, FLAG_HAS_QTY):
            kind = AMEND_PRICE if flags == FLAG_HAS_PRICE else AMEND_QTY
            new_price = price if flags == FLAG_HAS_PRICE else 0
            new_qty = qty if flags == FLAG_HAS_QTY else 0
            out.append(Op(kind, instrument, order_id, 0, new_price, new_qty, leaves.get(i)))
            continue
        out.append(Op(OTHER, instrument, order_id, side, price, qty))
    return out
