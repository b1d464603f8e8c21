"""The batch API gives exactly the events (and the state) the per-call API gives for the same commands."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

import numpy as np
import pytest
from conftest import INSTRUMENTS, make_engine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyengine
from pyengine import COMMAND_DTYPE, EVENT_DTYPE, Engine
from pyengine.batch import commands, event_dicts

T = TypeVar("T")

ACCOUNTS = ("a", "b", "c", "d")
STP_MODES = ("none", "none", "none", "cancel_newest", "cancel_oldest", "cancel_both", "decrement")
OPS = ("submit",) * 12 + ("cancel",) * 3 + ("amend",) * 3 + ("mass_cancel",)
TYPES = ("limit",) * 5 + ("market", "stop", "stop_limit")
TIFS = ("gtc",) * 6 + ("ioc", "fok")


def test_record_sizes() -> None:
    assert COMMAND_DTYPE.itemsize == pyengine.COMMAND_RECORD_SIZE == 64
    assert EVENT_DTYPE.itemsize == pyengine.EVENT_RECORD_SIZE == 80
    assert COMMAND_DTYPE is pyengine.batch.COMMAND_DTYPE and EVENT_DTYPE is pyengine.batch.EVENT_DTYPE


# ---- command streams -----------------------------------------------------------------------------


class Chooser(Protocol):
    def choice(self, options: Sequence[T]) -> T: ...
    def integer(self, lo: int, hi: int) -> int: ...
    def chance(self, percent: int) -> bool: ...


class RandomChooser:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def choice(self, options: Sequence[T]) -> T:
        return self.rng.choice(options)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def chance(self, percent: int) -> bool:
        return self.rng.randrange(100) < percent


class DrawChooser:
    def __init__(self, draw: Any) -> None:
        self.draw = draw

    def choice(self, options: Sequence[T]) -> T:
        return self.draw(st.sampled_from(options))  # type: ignore[no-any-return]

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))  # type: ignore[no-any-return]

    def chance(self, percent: int) -> bool:
        return self.draw(st.integers(0, 99)) < percent  # type: ignore[no-any-return]


def gen_qty(ch: Chooser, lot: int) -> int:
    if ch.chance(6):
        return ch.choice((0, lot + 1 if lot > 1 else 0, 200 * lot, lot))  # zero, off lot, above max, below min
    return ch.integer(1, 8) * lot * (2 if lot > 1 else 1)


def gen_price(ch: Chooser, tick: int) -> int:
    if ch.chance(4):
        return 100 + ch.choice((1, -1, 30 * tick, -30 * tick))  # off tick (when tick > 1) or outside the band
    return 100 + ch.integer(-5, 5) * tick


def gen_command(ch: Chooser, max_id: int) -> dict[str, Any]:
    """One command dict in the shape of pyengine.batch.commands() (and the per-call keyword arguments)."""
    op = ch.choice(OPS)
    symbol = ch.choice(tuple(INSTRUMENTS))
    tick, lot = INSTRUMENTS[symbol]["tick_size"], INSTRUMENTS[symbol]["lot_size"]
    row: dict[str, Any] = {"op": op, "symbol": symbol}
    if op in ("submit", "cancel", "amend"):
        row["order_id"] = ch.integer(1, max_id)
    if op == "submit":
        otype = ch.choice(TYPES)
        row.update(account=ch.choice(ACCOUNTS), side=ch.choice(("buy", "sell")), qty=gen_qty(ch, lot))
        if otype != "limit":
            row["type"] = otype
        if otype in ("limit", "stop_limit"):
            row["price"] = gen_price(ch, tick)
        if otype in ("stop", "stop_limit"):
            row["stop_price"] = gen_price(ch, tick)
        tif = ch.choice(TIFS)
        if tif != "gtc":
            row["tif"] = tif
        stp = ch.choice(STP_MODES)
        if stp != "none":
            row["stp"] = stp
        if ch.chance(10):
            row["post_only"] = True
        if ch.chance(20):
            row["display_qty"] = ch.choice((lot, lot, 2 * lot, 3 * lot, lot + 1, 1000 * lot))
    elif op == "amend":
        fields = ch.choice(
            (
                ("qty",),
                ("qty",),
                ("price",),
                ("price",),
                ("qty", "price"),
                ("stop_price",),
                ("qty", "stop_price"),
                ("qty", "price", "stop_price"),
            )
        )
        if "qty" in fields:
            row["qty"] = gen_qty(ch, lot) if ch.chance(80) else ch.integer(0, 3) * lot
        if "price" in fields:
            row["price"] = gen_price(ch, tick)
        if "stop_price" in fields:
            row["stop_price"] = gen_price(ch, tick)
    elif op == "mass_cancel":
        row["account"] = ch.choice(ACCOUNTS)
        if ch.chance(50):
            del row["symbol"]
        if ch.chance(30):
            row["side"] = ch.choice(("buy", "sell"))
    return row


def random_stream(seed: int, n: int) -> list[dict[str, Any]]:
    ch = RandomChooser(seed)
    rows = []
    ts = 1_000
    for _ in range(n):
        row = gen_command(ch, max_id=40)
        ts += ch.choice((0, 1, 1, 5, 1000))  # timestamps may repeat
        row["ts"] = ts
        rows.append(row)
    return rows


@st.composite
def streams(draw: Any) -> list[dict[str, Any]]:
    ch = DrawChooser(draw)
    n = draw(st.integers(0, 60))
    rows = []
    for i in range(n):
        row = gen_command(ch, max_id=8)
        row["ts"] = 10 * i + 1
        rows.append(row)
    return rows


# ---- running both ways -----------------------------------------------------------------------------


def fresh_engine() -> Engine:
    eng = make_engine()
    for name in ACCOUNTS:  # same ids in both engines, whatever the stream's first mentions
        eng.account_id(name)
    return eng


def run_per_call(eng: Engine, rows: Sequence[dict[str, Any]], check_every: int = 1) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        kw = dict(row)
        op = kw.pop("op")
        before = eng.seq
        if op == "submit":
            events = eng.submit(**kw)
        elif op == "cancel":
            events = eng.cancel(kw.pop("symbol"), kw.pop("order_id"), **kw)
        elif op == "amend":
            events = eng.amend(kw.pop("symbol"), kw.pop("order_id"), **kw)
        else:
            events = eng.mass_cancel(kw.pop("account"), **kw)
        assert [e.seq for e in events] == list(range(before + 1, eng.seq + 1))
        assert all(e.ts == row["ts"] for e in events)
        if i % check_every == 0:
            eng.check_invariants()
        out.extend(e.to_dict() for e in events)
    eng.check_invariants()
    return out


def run_batch(eng: Engine, rows: Sequence[dict[str, Any]], chunks: Sequence[int] = ()) -> list[dict[str, Any]]:
    """Runs `rows` through submit_batch, split at the indexes in `chunks`."""
    out: list[dict[str, Any]] = []
    bounds = [0, *sorted(chunks), len(rows)]
    for lo, hi in itertools.pairwise(bounds):
        arr = commands(eng, rows[lo:hi])
        assert arr.dtype == COMMAND_DTYPE and len(arr) == hi - lo
        events = eng.submit_batch(arr)
        assert isinstance(events, np.ndarray) and events.dtype == EVENT_DTYPE
        out.extend(event_dicts(eng, events))
        eng.check_invariants()
    return out


def same_state(a: Engine, b: Engine) -> None:
    assert a.seq == b.seq
    assert a.accounts() == b.accounts()
    for symbol in INSTRUMENTS:
        assert a.depth(symbol, 1000) == b.depth(symbol, 1000)
        assert a.last_trade_price(symbol) == b.last_trade_price(symbol)
    for name in ACCOUNTS:
        assert [repr(o) for o in a.open_orders(name)] == [repr(o) for o in b.open_orders(name)]
    assert a.live_orders == b.live_orders
    assert a.state_hash() == b.state_hash()


def first_difference(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"event {i}:\n per-call {x}\n batch    {y}"
    return f"lengths {len(a)} vs {len(b)}"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_streams_batch_equals_per_call(seed: int) -> None:
    rows = random_stream(seed, 3000)
    per_call_eng, batch_eng = fresh_engine(), fresh_engine()
    expected = run_per_call(per_call_eng, rows)
    got = run_batch(batch_eng, rows, chunks=(1, 700, 701, 2500))
    assert expected == got, first_difference(expected, got)
    same_state(per_call_eng, batch_eng)
    # The stream exercised the engine: every kind of event and most reasons occurred.
    assert {e["kind"] for e in expected} == {
        "accepted",
        "rejected",
        "trade",
        "cancelled",
        "amended",
        "triggered",
    }
    seen = Counter(e["reason"] for e in expected)
    for reason in (
        "duplicate_order_id",
        "unknown_order",
        "price_off_tick",
        "qty_off_lot",
        "qty_below_min",
        "qty_above_max",
        "price_band",
        "would_take",
        "invalid_qty",
        "invalid_display",
        "invalid_order",
        "invalid_amend",
        "user",
        "ioc",
        "no_liquidity",
        "fok",
        "stp",
        "mass_cancel",
        "amend_filled",
    ):
        assert seen[reason] > 0, f"seed {seed}: no {reason!r} in {dict(seen)}"


def test_batch_and_per_call_interleave() -> None:
    rows = random_stream(7, 600)
    reference = fresh_engine()
    expected = run_per_call(reference, rows)
    mixed = fresh_engine()
    got: list[dict[str, Any]] = []
    for lo in range(0, len(rows), 100):
        got += run_per_call(mixed, rows[lo : lo + 50])
        got += run_batch(mixed, rows[lo + 50 : lo + 100])
    assert expected == got, first_difference(expected, got)
    same_state(reference, mixed)


def test_batch_on_a_clone_matches_the_original() -> None:
    rows = random_stream(11, 400)
    eng = fresh_engine()
    run_batch(eng, rows[:200])
    twin = eng.clone()
    assert run_batch(eng, rows[200:]) == run_per_call(twin, rows[200:])
    same_state(eng, twin)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_hypothesis_batch_equals_per_call(rows: list[dict[str, Any]]) -> None:
    per_call_eng, batch_eng = fresh_engine(), fresh_engine()
    expected = run_per_call(per_call_eng, rows)
    got = run_batch(batch_eng, rows, chunks=(len(rows) // 2,))
    assert expected == got, first_difference(expected, got)
    same_state(per_call_eng, batch_eng)
