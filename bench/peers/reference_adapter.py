"""Our pure-Python reference model (:class:`pyengine.reference.ReferenceEngine`).

It has the per-call API of :class:`pyengine.Engine` and our exact semantics, so it is driven
by the same ``(method, args, kwargs)`` calls as our per-call API (``pyengine.batch.to_calls``),
bound to its methods; only the loop differs by unpacking ``kwargs`` through a tiny glue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyengine.batch import to_calls
from pyengine.reference import ReferenceEngine
from pyengine.workloads import Workload

from .base import AMEND_PRICE, AMEND_QTY, CANCEL, GTC, IOC, MARKET, Adapter, Call, CommandArray, Op, Outcome


def _with_kwargs(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return fn(*args, **kwargs)

    return call


@dataclass
class ReferenceAdapter(Adapter):
    name: str = "reference model"
    dist: str = "pyengine"
    kind: str = "pure Python (ours)"
    native: frozenset[int] = frozenset({GTC, IOC, MARKET, CANCEL, AMEND_PRICE, AMEND_QTY})
    emulated: dict[int, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ("our semantics exactly: the same events as the engine (the differential tests' oracle)",)

    def new_book(self, workload: Workload) -> ReferenceEngine:
        ref = ReferenceEngine()
        for spec in workload.instruments:
            ref.add_instrument(**spec)
        for name in workload.accounts:
            ref.account_id(name)
        return ref

    def compile(self, book: ReferenceEngine, ops: Sequence[Op], commands: CommandArray) -> list[Call]:
        methods = {m: _with_kwargs(getattr(book, m)) for m in ("submit", "cancel", "amend", "mass_cancel")}
        return [(methods[m], (a, k)) for m, a, k in to_calls(book, commands)]  # type: ignore[arg-type]

    def tally(self, result: Any) -> tuple[int, int]:
        trades = [e["qty"] for e in result if e["kind"] == "trade"]
        return len(trades), sum(trades)

    def outcome(self, book: ReferenceEngine, tallied: tuple[int, int]) -> Outcome:
        return Outcome(*tallied, book.live_orders)
