"""The fast per-call API (submit_limit, submit_market, cancel_order, amend_price, amend_qty),
its Events result, and submit_batch(out=...): same events as the keyword and batch APIs,
clear exceptions for bad input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

import pyengine
import pyengine._records
from pyengine import BUY, EVENT_DTYPE, FOK, GTC, IOC, SELL, Engine, Event, Events
from pyengine import workloads as wl
from pyengine.batch import bind_calls, to_calls, to_fast_calls


def engine() -> tuple[Engine, int, int, int]:
    eng = Engine()
    sym = eng.add_instrument("ACME", tick_size=1, lot_size=1)
    return eng, sym, eng.account_id("a"), eng.account_id("b")


def test_codes_match_the_records() -> None:
    assert (BUY, SELL, GTC, IOC, FOK) == (0, 1, 0, 1, 2)
    assert pyengine._records.SIDES == {"buy": BUY, "sell": SELL}
    assert pyengine._records.TIFS == {"gtc": GTC, "ioc": IOC, "fok": FOK}


def test_limit_cross_cancel_amend_events_equal_keyword_api() -> None:
    fast, sym, a, b = engine()
    slow, _, _, _ = engine()
    steps: list[tuple[Events, list[Event]]] = [
        (fast.submit_limit(sym, 1, a, BUY, 10, 100, GTC, 1), slow.submit("ACME", 1, "a", "buy", 10, 100, ts=1)),
        (fast.submit_limit(sym, 2, a, BUY, 5, 99, GTC, 2), slow.submit("ACME", 2, "a", "buy", 5, 99, ts=2)),
        (
            fast.submit_limit(sym, 3, b, SELL, 4, 100, IOC, 3),
            slow.submit("ACME", 3, "b", "sell", 4, 100, tif="ioc", ts=3),
        ),
        (fast.amend_qty(sym, 1, 8, 4), slow.amend("ACME", 1, qty=8, ts=4)),
        (fast.amend_price(sym, 2, 98, 5), slow.amend("ACME", 2, price=98, ts=5)),
        (
            fast.submit_market(sym, 4, b, SELL, 20, IOC, 6),
            slow.submit("ACME", 4, "b", "sell", 20, type="market", tif="ioc", ts=6),
        ),
        (fast.cancel_order(sym, 2, 7), slow.cancel("ACME", 2, ts=7)),
        (fast.cancel_order(sym, 99, 8), slow.cancel("ACME", 99, ts=8)),  # unknown order: a reject event
        (
            fast.submit_limit(sym, 5, a, BUY, 3, 100, FOK, 9),
            slow.submit("ACME", 5, "a", "buy", 3, 100, tif="fok", ts=9),
        ),
    ]
    for got, want in steps:
        assert isinstance(got, Events)
        assert len(got) == len(want)
        assert list(got) == want
        assert got == want and got.to_list() == want
    assert fast.state_hash() == slow.state_hash()
    trade = steps[2][0]
    assert [e.kind for e in trade] == ["accepted", "trade"]
    assert trade[1].maker_account == "a" and trade[1].account == "b" and trade[1].symbol == "ACME"
    assert steps[7][0][0].reason == "unknown_order"


def test_events_is_a_sequence() -> None:
    eng, sym, a, b = engine()
    eng.submit_limit(sym, 1, a, BUY, 5, 100, GTC, 1)
    eng.submit_limit(sym, 2, a, BUY, 5, 100, GTC, 2)
    evs = eng.submit_limit(sym, 3, b, SELL, 10, 100, GTC, 3)
    assert isinstance(evs, Sequence)
    assert len(evs) == 3 and bool(evs)
    assert evs[0].kind == "accepted" and evs[-1].maker_order_id == 2 and evs[-3] == evs[0]
    assert evs[1:] == [evs[1], evs[2]] and evs[::-1] == list(reversed(evs))
    assert evs[0] in evs and evs.index(evs[1]) == 1 and evs.count(evs[2]) == 1
    with pytest.raises(ValueError):
        evs.index(evs[0], 1)
    with pytest.raises(IndexError):
        evs[3]
    with pytest.raises(IndexError):
        evs[-4]
    with pytest.raises(TypeError):
        evs["x"]  # type: ignore[call-overload]
    assert "Events([Event(seq=" in repr(evs)
    empty = eng.cancel_order(sym, 3, 4)  # filled already: rejected
    assert len(empty) == 1 and empty[0].kind == "rejected"
    assert evs != [] and evs != "not events"


def test_events_outlive_their_engine_and_later_commands() -> None:
    eng, sym, a, _ = engine()
    evs = eng.submit_limit(sym, 1, a, BUY, 5, 100, GTC, 1)
    eng.cancel_order(sym, 1, 2)
    del eng
    assert evs[0].kind == "accepted" and evs[0].account == "a" and evs[0].leaves_qty == 5


@pytest.mark.parametrize(
    ("call", "error", "text"),
    [
        (lambda e, s, a: e.submit_limit(7, 1, a, BUY, 1, 100, GTC, 1), ValueError, "unknown instrument id 7"),
        (lambda e, s, a: e.submit_limit(s, 1, 42, BUY, 1, 100, GTC, 1), ValueError, "unknown account id 42"),
        (lambda e, s, a: e.submit_limit(s, 1, a, 2, 1, 100, GTC, 1), ValueError, "side must be 0 (BUY) or 1 (SELL)"),
        (lambda e, s, a: e.submit_limit(s, 1, a, BUY, 1, 100, 3, 1), ValueError, "tif must be 0 (GTC)"),
        (lambda e, s, a: e.submit_limit(s, 1, a, 256, 1, 100, GTC, 1), ValueError, "side code out of range"),
        (lambda e, s, a: e.submit_limit(s, 1, a, BUY, -1, 100, GTC, 1), ValueError, "qty must not be negative"),
        (lambda e, s, a: e.submit_limit(s, -1, a, BUY, 1, 100, GTC, 1), ValueError, "order_id must not be negative"),
        (lambda e, s, a: e.submit_limit(s, 2**64, a, BUY, 1, 100, GTC, 1), ValueError, "order_id must be below 2**64"),
        (lambda e, s, a: e.submit_limit(s, 1, a, BUY, 1, 100, GTC, -5), ValueError, "ts must not be negative"),
        (lambda e, s, a: e.submit_limit("ACME", 1, a, BUY, 1, 100, GTC, 1), TypeError, "instrument must be an int"),
        (lambda e, s, a: e.submit_limit(s, 1, "a", BUY, 1, 100, GTC, 1), TypeError, "account must be an int"),
        (lambda e, s, a: e.submit_limit(s, 1, a, "buy", 1, 100, GTC, 1), TypeError, "side must be an int"),
        (lambda e, s, a: e.submit_limit(s, 1, a, BUY, 1.5, 100, GTC, 1), TypeError, "qty must be an int"),
        (lambda e, s, a: e.submit_limit(s, 1, a, BUY, 1, "100", GTC, 1), TypeError, "price"),
        (lambda e, s, a: e.submit_limit(s, 1, a, BUY, 1, 100, GTC), TypeError, "ts"),
        (lambda e, s, a: e.submit_limit(s, 1, a, BUY, 1, 100, GTC, ts=1), TypeError, "positional"),
        (lambda e, s, a: e.submit_market(s, 1, a, BUY, 1, 9, 1), ValueError, "tif must be"),
        (lambda e, s, a: e.cancel_order(s, None, 1), TypeError, "order_id must be an int"),
        (lambda e, s, a: e.amend_qty(s, 1, -2, 1), ValueError, "qty must not be negative"),
        (lambda e, s, a: e.amend_price(s, 1, 2**70, 1), OverflowError, ""),
    ],
)
def test_bad_inputs_raise_and_change_nothing(call: Any, error: type[Exception], text: str) -> None:
    eng, sym, a, _ = engine()
    eng.submit_limit(sym, 1, a, BUY, 5, 100, GTC, 1)
    before = (eng.state_hash(), eng.seq)
    with pytest.raises(error, match=None if not text else __import__("re").escape(text)):
        call(eng, sym, a)
    assert (eng.state_hash(), eng.seq) == before


def test_business_errors_are_rejected_events() -> None:
    eng, sym, a, _ = engine()
    assert eng.submit_limit(sym, 1, a, BUY, 0, 100, GTC, 1)[0].reason == "invalid_qty"
    eng.submit_limit(sym, 2, a, BUY, 1, 100, GTC, 2)
    assert eng.submit_limit(sym, 2, a, BUY, 1, 100, GTC, 3)[0].reason == "duplicate_order_id"
    slow = Engine()
    slow.add_instrument("ACME")
    slow.submit("ACME", 2, "a", "buy", 1, 100, ts=2)
    want = slow.submit("ACME", 3, "a", "sell", 1, type="market", tif="gtc", ts=4)
    got = eng.submit_market(sym, 3, a, SELL, 1, GTC, 4)  # as the keyword API, whatever the tif
    assert [(e.kind, e.reason, e.qty, e.leaves_qty) for e in got] == [
        (e.kind, e.reason, e.qty, e.leaves_qty) for e in want
    ]


@pytest.mark.parametrize("name", ["ec_single", "mixed_70_20_10", "aggressive_walk", "cancel_only", "multi_symbol"])
def test_fast_calls_replay_like_batch_and_keyword_calls(name: str) -> None:
    w = wl.generate(name, seed=3, size=3_000)
    fast_eng, slow_eng, batch_eng = w.engine(), w.engine(), w.engine()
    fast_calls = to_fast_calls(fast_eng, w.commands)
    assert any(m != "submit" for m, _, _ in fast_calls)
    fast_events = [e for fn, args in bind_calls(fast_eng, fast_calls) for e in fn(*args)]
    slow_events = [e for fn, args in bind_calls(slow_eng, to_calls(slow_eng, w.commands)) for e in fn(*args)]
    batch = batch_eng.submit_batch(w.commands)
    assert fast_events == slow_events
    assert len(fast_events) == len(batch)
    assert [e.seq for e in fast_events] == batch["seq"].tolist()
    assert fast_eng.state_hash() == slow_eng.state_hash() == batch_eng.state_hash()


@pytest.mark.parametrize("name", ["ec_single", "aggressive_walk", "cancel_only"])
def test_submit_batch_out_fills_the_callers_array(name: str) -> None:
    w = wl.generate(name, seed=2, size=70_000 if name == "cancel_only" else 5_000)
    want = w.engine().submit_batch(w.commands)
    out = np.zeros(len(want) + 10, dtype=EVENT_DTYPE)
    eng = w.engine()
    got = eng.submit_batch(w.commands, out=out)
    assert got.base is not None and np.shares_memory(got, out)
    assert len(got) == len(want) and (got == want).all()
    # Too small: every event still comes back, in a new array.
    small = np.zeros(len(want) // 3, dtype=EVENT_DTYPE)
    eng2 = w.engine()
    got2 = eng2.submit_batch(w.commands, out=small)
    assert not np.shares_memory(got2, small)
    assert len(got2) == len(want) and (got2 == want).all()
    assert eng2.state_hash() == eng.state_hash()


def test_submit_batch_out_reused_across_batches() -> None:
    w = wl.generate("ec_single", seed=5, size=4_000)
    want = w.engine().submit_batch(w.commands)
    eng = w.engine()
    out = np.empty(len(want), dtype=EVENT_DTYPE)
    parts = [eng.submit_batch(chunk, out=out).copy() for chunk in np.array_split(w.commands, 7)]
    assert (np.concatenate(parts) == want).all()
    assert len(eng.submit_batch(w.commands[:0], out=out)) == 0


@pytest.mark.parametrize(
    ("out", "error", "text"),
    [
        (np.zeros(4, dtype=np.uint8), TypeError, "EVENT_DTYPE"),
        ([1, 2, 3], TypeError, "numpy array of pyengine.EVENT_DTYPE"),
        (np.zeros((2, 2), dtype=EVENT_DTYPE), TypeError, "one-dimensional"),
        (np.zeros(8, dtype=EVENT_DTYPE)[::2], ValueError, "C-contiguous"),
    ],
)
def test_submit_batch_bad_out(out: Any, error: type[Exception], text: str) -> None:
    w = wl.generate("ec_single", seed=1, size=100)
    eng = w.engine()
    before = eng.state_hash()
    with pytest.raises(error, match=text):
        eng.submit_batch(w.commands, out=out)
    assert eng.state_hash() == before


def test_submit_batch_out_overlapping_commands() -> None:
    w = wl.generate("ec_single", seed=1, size=100)
    raw = np.zeros(len(w.commands) * 64 // 80 + 80, dtype=EVENT_DTYPE)
    cmds = raw.view(np.uint8)[: len(w.commands) * 64].view(pyengine.COMMAND_DTYPE)
    cmds[:] = w.commands
    eng = w.engine()
    before = eng.state_hash()
    with pytest.raises(ValueError, match="share memory"):
        eng.submit_batch(cmds, out=raw)
    assert eng.state_hash() == before


def test_submit_batch_out_malformed_record_is_rejected_like_without_out() -> None:
    w = wl.generate("ec_single", seed=1, size=200)
    cmds = w.commands.copy()
    cmds[5]["op"] = 250
    cmds[9]["side"] = 7
    want = w.engine().submit_batch(cmds)
    out = np.zeros(len(want) + 5, dtype=EVENT_DTYPE)
    got = w.engine().submit_batch(cmds, out=out)
    assert (got == want).all() and np.shares_memory(got, out)
    invalid = next(code for code, name in pyengine._records.REASONS.items() if name == "invalid_command")
    assert (want["reason"] == invalid).sum() == 2


def test_submit_batch_out_read_only() -> None:
    w = wl.generate("ec_single", seed=1, size=100)
    out = np.zeros(1000, dtype=EVENT_DTYPE)
    out.flags.writeable = False
    eng = w.engine()
    before = eng.state_hash()
    with pytest.raises(ValueError, match="writable"):
        eng.submit_batch(w.commands, out=out)
    assert eng.state_hash() == before


def test_fast_api_is_journaled(tmp_path: Any) -> None:
    eng = Engine.open(tmp_path / "j")
    sym = eng.add_instrument("ACME")
    a = eng.account_id("a")
    eng.submit_limit(sym, 1, a, BUY, 5, 100, GTC, 1)
    eng.amend_price(sym, 1, 101, 2)
    eng.submit_limit(sym, 2, a, SELL, 5, 105, GTC, 3)
    eng.cancel_order(sym, 2, 4)
    out = np.zeros(100, dtype=EVENT_DTYPE)
    w = wl.generate("ec_single", seed=1, size=50)
    assert len(eng.submit_batch(w.commands[:0], out=out)) == 0
    h = eng.state_hash()
    eng.close()
    with pytest.raises(RuntimeError, match="closed"):
        eng.cancel_order(sym, 1, 5)
    again = Engine.open(tmp_path / "j")
    assert again.state_hash() == h
    again.close()


def test_docs_example_runs() -> None:
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "fast-api.md").read_text()
    first = text.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(first, "docs/fast-api.md", "exec"), {})
