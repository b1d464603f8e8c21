"""The durable journal: Engine.open / commit / snapshot / close, recovery, damage detection and the CLI.

Segment layout (engine/src/journal/mod.rs): a 36-byte header (magic, u16 version at offset 8, flags,
reserved, first seq, segment number, CRC32C at offset 32), then records ``len u32 | crc u32 | seq u64 |
ts u64 | payload[len]``. Segment files are named after the 20-digit seq of their first record.
"""

from __future__ import annotations

import random
import re
import select
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import pyengine
import pyengine.journal
from pyengine import Engine, JournalError
from pyengine.batch import commands

SEGMENT_HEADER_SIZE = 36
RECORD_HEADER_SIZE = 24
VERSION_OFFSET = 8
HEADER_CRC_OFFSET = 32
FIRST_SEQ_OFFSET = 16
SMALL_SEGMENT = 4096
POLICIES = ("always", "batch", "none")
NO_TIMER = 600_000.0  # batch_interval_ms long enough never to fire during a test

INSTRUMENTS: dict[str, dict[str, int]] = {
    "ACME": {"tick_size": 1, "lot_size": 1},
    "BETA": {"tick_size": 5, "lot_size": 10, "min_qty": 10, "max_qty": 10_000, "price_band": 100},
}
ACCOUNTS = ("alice", "bob", "carol")


# ---- helpers ------------------------------------------------------------------------------------


def segments(path: Path) -> list[Path]:
    return sorted(path.glob("*.journal"))


def segment_name(first_seq: int) -> str:
    return f"{first_seq:020}.journal"


def record_spans(segment: Path) -> list[tuple[int, int]]:
    """(offset, total length) of every complete record of an intact segment."""
    data = segment.read_bytes()
    spans, off = [], SEGMENT_HEADER_SIZE
    while off < len(data):
        (length,) = struct.unpack_from("<I", data, off)
        spans.append((off, RECORD_HEADER_SIZE + length))
        off += RECORD_HEADER_SIZE + length
    assert off == len(data), f"{segment.name} does not end on a record boundary"
    return spans


def flip_byte(file: Path, offset: int) -> None:
    data = bytearray(file.read_bytes())
    data[offset] ^= 0xFF
    file.write_bytes(bytes(data))


def journal_bytes(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.suffix in (".journal", ".snap")}


def order_fields(o: pyengine.Order) -> tuple[Any, ...]:
    return (
        o.symbol,
        o.order_id,
        o.account,
        o.side,
        o.type,
        o.tif,
        o.stp,
        o.post_only,
        o.price,
        o.stop_price,
        o.qty,
        o.leaves_qty,
        o.filled_qty,
        o.display_qty,
        o.visible_qty,
        o.status,
    )


def state(eng: Engine) -> dict[str, Any]:
    """Everything observable about an engine's state."""
    symbols = eng.instruments()
    return {
        "hash": eng.state_hash(),
        "seq": eng.seq,
        "live_orders": eng.live_orders,
        "instruments": symbols,
        "accounts": eng.accounts(),
        "depth": {s: eng.depth(s, 1000) for s in symbols},
        "bbo": {s: eng.bbo(s) for s in symbols},
        "last_trade": {s: eng.last_trade_price(s) for s in symbols},
        "open_orders": {a: [order_fields(o) for o in eng.open_orders(a)] for a in eng.accounts()},
    }


def add_instruments(eng: Engine) -> None:
    for i, (symbol, spec) in enumerate(INSTRUMENTS.items()):
        assert eng.add_instrument(symbol, **spec) == i


class Driver:
    """A deterministic mix of submits, cancels, amends, mass cancels and batches on both instruments."""

    def __init__(self, seed: int, first_id: int = 1, first_ts: int = 1_000) -> None:
        self.rng = random.Random(seed)
        self.next_id = first_id
        self.ts = first_ts
        self.ids: dict[str, list[int]] = {s: [] for s in INSTRUMENTS}

    def _ts(self) -> int:
        self.ts += 1
        return self.ts

    def _order(self, symbol: str) -> dict[str, Any]:
        rng = self.rng
        order_id, self.next_id = self.next_id, self.next_id + 1
        self.ids[symbol].append(order_id)
        tick, lot = (1, 1) if symbol == "ACME" else (5, 10)
        mid = 100 if symbol == "ACME" else 500
        kw: dict[str, Any] = {
            "symbol": symbol,
            "order_id": order_id,
            "account": rng.choice(ACCOUNTS),
            "side": rng.choice(("buy", "sell")),
            "qty": lot * rng.randint(1, 20),
            "price": mid + tick * rng.randint(-5, 5),
            "ts": self._ts(),
        }
        roll = rng.random()
        if roll < 0.1:
            kw["tif"] = "ioc"
        elif roll < 0.15:
            kw["type"], kw["price"] = "market", None
        elif roll < 0.2:
            kw["display_qty"] = lot
            kw["qty"] = lot * rng.randint(3, 20)
        elif roll < 0.25:
            kw["post_only"] = True
        return kw

    def step(self, eng: Engine) -> None:
        rng = self.rng
        symbol = rng.choice(tuple(INSTRUMENTS))
        roll = rng.random()
        if roll < 0.6 or not self.ids[symbol]:
            eng.submit(**self._order(symbol))
        elif roll < 0.75:
            eng.cancel(symbol, rng.choice(self.ids[symbol]), ts=self._ts())
        elif roll < 0.9:
            order_id = rng.choice(self.ids[symbol])
            order = eng.order(symbol, order_id)
            if order is not None and order.price is not None:
                tick = 1 if symbol == "ACME" else 5
                eng.amend(
                    symbol, order_id, qty=order.qty, price=order.price + tick * rng.choice((-1, 1)), ts=self._ts()
                )
            else:
                eng.amend(symbol, order_id, qty=10, ts=self._ts())
        else:
            eng.mass_cancel(
                rng.choice(ACCOUNTS),
                symbol=rng.choice((None, symbol)),
                side=rng.choice((None, "buy", "sell")),
                ts=self._ts(),
            )

    def batch(self, eng: Engine, n: int = 6) -> np.ndarray[Any, Any]:
        rows: list[dict[str, Any]] = [
            {"op": "submit", **self._order(self.rng.choice(tuple(INSTRUMENTS)))} for _ in range(n - 2)
        ]
        rows.append({"op": "cancel", "symbol": "ACME", "order_id": rows[0]["order_id"], "ts": self._ts()})
        rows.append({"op": "mass_cancel", "account": "bob", "symbol": "BETA", "ts": self._ts()})
        cmds = commands(eng, rows)
        before = eng.journal_seq
        twin = eng.clone()
        events = eng.submit_batch(cmds)
        if before is not None:
            assert eng.journal_seq == before + len(cmds)
        assert np.array_equal(events, twin.submit_batch(cmds))
        assert eng.state_hash() == twin.state_hash()
        return events

    def run(self, eng: Engine, n: int, batch_every: int = 20) -> None:
        for i in range(1, n + 1):
            self.step(eng)
            if i % batch_every == 0:
                self.batch(eng)


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyengine.journal", *map(str, args)], capture_output=True, text=True, timeout=120
    )


@dataclass
class Built:
    path: Path
    final: dict[str, Any]
    before_last: dict[str, Any]  # state before the last record (a plain submit)
    last_seq: int


def build_journal(path: Path, n: int = 220, seed: int = 7) -> Built:
    """A closed journal of several small segments; the last segment holds at least four records,
    the last of which is a plain submit."""
    eng = Engine.open(path, fsync="none", segment_max_bytes=SMALL_SEGMENT)
    add_instruments(eng)
    driver = Driver(seed)
    driver.run(eng, n)
    eng.commit()
    while len(record_spans(segments(path)[-1])) < 3:
        driver.step(eng)
        eng.commit()
    before_last = state(eng)
    eng.submit("ACME", 10**9, "alice", "buy", 1, 1, ts=driver._ts())  # alice exists: exactly one record
    last_seq = eng.journal_seq
    assert last_seq is not None
    final = state(eng)
    eng.close()
    assert len(segments(path)) >= 4
    return Built(path, final, before_last, last_seq)


# ---- recovery -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fsync", POLICIES)
def test_reopen_recovers_state_and_continues_seqs(tmp_path: Path, fsync: str) -> None:
    path = tmp_path / "j"
    eng = Engine.open(path, fsync=fsync)
    assert (eng.journal_seq, eng.durable_seq) == (0, 0)
    add_instruments(eng)
    driver = Driver(seed=1)
    driver.run(eng, 60, batch_every=15)
    live = state(eng)
    seq = eng.journal_seq
    assert seq is not None and seq > 60
    eng.check_invariants()
    eng.close()

    eng = Engine.open(path, fsync=fsync)
    assert state(eng) == live
    assert eng.journal_seq == seq
    assert eng.durable_seq == seq
    eng.check_invariants()

    # New records continue the journal's seqs: one per command, plus one per new registration.
    eng.submit("ACME", 5_000_000, "alice", "sell", 3, 120, ts=9_000_000)
    assert eng.journal_seq == seq + 1
    eng.add_instrument("GAMMA", tick_size=2)
    assert eng.journal_seq == seq + 2
    eng.submit("GAMMA", 1, "dave", "buy", 4, 50, ts=9_000_001)  # registers "dave", then the submit
    assert eng.journal_seq == seq + 4
    driver.ts = 9_000_002
    driver.run(eng, 30, batch_every=10)
    live = state(eng)
    seq = eng.journal_seq
    eng.close()

    info = pyengine.journal.inspect(path)
    assert (info["first_seq"], info["last_seq"], info["records"]) == (1, seq, seq)
    assert info["torn_tail"] is None
    with Engine.open(path, fsync=fsync) as eng:
        assert state(eng) == live
        assert eng.journal_seq == seq


def test_segment_rollover_recovers(tmp_path: Path) -> None:
    path = tmp_path / "j"
    eng = Engine.open(path, fsync="none", segment_max_bytes=SMALL_SEGMENT)
    add_instruments(eng)
    Driver(seed=2).run(eng, 200)
    live = state(eng)
    seq = eng.journal_seq
    assert seq is not None
    eng.close()

    segs = segments(path)
    assert len(segs) >= 3
    assert all(s.stat().st_size <= SMALL_SEGMENT for s in segs)
    # Each segment is named after its first record's seq, and the seqs are contiguous.
    first = 1
    for s in segs:
        assert s.name == segment_name(first)
        first += len(record_spans(s))
    assert first == seq + 1
    info = pyengine.journal.inspect(path)
    assert [name for name, _ in info["segments"]] == [s.name for s in segs]
    assert info["records"] == seq

    with Engine.open(path, segment_max_bytes=SMALL_SEGMENT) as eng:
        assert state(eng) == live
        assert eng.journal_seq == seq
        eng.check_invariants()


def test_snapshot_recovery_and_replay_agree(tmp_path: Path) -> None:
    path = tmp_path / "j"
    eng = Engine.open(path, fsync="batch", segment_max_bytes=SMALL_SEGMENT)
    add_instruments(eng)
    driver = Driver(seed=3)
    driver.run(eng, 120)
    snap = eng.snapshot()
    snap_seq = eng.journal_seq
    assert isinstance(snap, Path) and snap.exists()
    assert snap.parent == path and snap.name == f"snapshot-{snap_seq:020}.snap"
    assert eng.durable_seq == snap_seq  # snapshot commits first
    driver.run(eng, 80)
    live = state(eng)
    seq = eng.journal_seq
    assert seq is not None and snap_seq is not None and seq > snap_seq
    eng.commit()

    # Read-only replay while the writer is still open: from the first record and from the snapshot.
    full, full_summary = pyengine.journal.replay(path)
    fast, fast_summary = pyengine.journal.replay(path, from_snapshot=True)
    assert full.state_hash() == fast.state_hash() == eng.state_hash() == live["hash"]
    assert state(full) == state(fast) == live
    assert full_summary["snapshot"] is None
    assert (full_summary["records"], full_summary["first_seq"], full_summary["last_seq"]) == (seq, 1, seq)
    assert fast_summary["snapshot"] == (str(snap), snap_seq)
    assert (fast_summary["records"], fast_summary["last_seq"]) == (seq - snap_seq, seq)
    assert full_summary["state_hash"] == fast_summary["state_hash"] == live["hash"]
    assert full.journal_seq is None  # replayed engines have no journal
    assert pyengine.journal.inspect(path)["snapshots"] == [(snap_seq, str(snap))]
    eng.close()

    with Engine.open(path) as eng:
        assert state(eng) == live
        assert eng.journal_seq == seq
        driver.run(eng, 20)
        live = state(eng)

    # A damaged snapshot is skipped: recovery falls back to replaying the whole journal.
    flip_byte(snap, snap.stat().st_size // 2)
    with Engine.open(path) as eng:
        assert state(eng) == live
    assert pyengine.journal.replay(path, from_snapshot=True)[1]["snapshot"] is None


def test_refused_commands_are_not_journaled(tmp_path: Path) -> None:
    path = tmp_path / "j"
    eng = Engine.open(path)
    add_instruments(eng)
    eng.submit("ACME", 1, "alice", "buy", 5, 100)
    seq, h = eng.journal_seq, eng.state_hash()
    with pytest.raises(ValueError, match="already exists"):
        eng.add_instrument("ACME")
    with pytest.raises(ValueError, match="tick_size"):
        eng.add_instrument("BAD", tick_size=0)
    with pytest.raises(ValueError, match="account must not be empty"):
        eng.submit("ACME", 2, "", "buy", 5, 100)
    with pytest.raises(ValueError, match="unknown side"):
        eng.submit("ACME", 2, "zed", "up", 5, 100)
    assert (eng.journal_seq, eng.state_hash()) == (seq, h)
    assert "zed" not in eng.accounts()
    eng.close()
    with Engine.open(path) as eng:
        assert (eng.journal_seq, eng.state_hash()) == (seq, h)


# ---- durability: commit, fsync policies ---------------------------------------------------------


@pytest.mark.parametrize("fsync", POLICIES)
def test_commit_returns_durable_seq(tmp_path: Path, fsync: str) -> None:
    with Engine.open(tmp_path / "j", fsync=fsync, batch_interval_ms=NO_TIMER) as eng:
        add_instruments(eng)
        Driver(seed=4).run(eng, 25)
        durable = eng.commit()
        assert durable == eng.journal_seq == eng.durable_seq
        assert eng.commit() == durable  # nothing pending: same seq


def test_always_policy_is_durable_after_every_call(tmp_path: Path) -> None:
    with Engine.open(tmp_path / "j", fsync="always") as eng:
        add_instruments(eng)
        assert eng.durable_seq == eng.journal_seq == 2
        driver = Driver(seed=5)
        for _ in range(15):
            driver.step(eng)
            assert eng.durable_seq == eng.journal_seq


def test_batch_policy_durable_lags_until_commit(tmp_path: Path) -> None:
    with Engine.open(tmp_path / "j", fsync="batch", batch_interval_ms=NO_TIMER) as eng:
        add_instruments(eng)
        driver = Driver(seed=6)
        for _ in range(5):
            driver.step(eng)
        assert eng.durable_seq == 0
        assert eng.journal_seq is not None and eng.journal_seq > 5
        assert eng.commit() == eng.journal_seq == eng.durable_seq
        committed = eng.durable_seq
        eng.submit("ACME", 10**6, "alice", "buy", 1, 90)
        assert eng.journal_seq == committed + 1
        assert eng.durable_seq == committed
        driver.batch(eng)  # submit_batch is one group commit
        assert eng.durable_seq == eng.journal_seq


def test_batch_max_records_commits_automatically(tmp_path: Path) -> None:
    with Engine.open(tmp_path / "j", fsync="batch", batch_max_records=10, batch_interval_ms=NO_TIMER) as eng:
        add_instruments(eng)
        eng.account_id("alice")
        for i in range(35):
            eng.submit("ACME", i + 1, "alice", "buy", 1, 50 + i % 10)
            seq = eng.journal_seq
            assert seq == i + 4
            assert eng.durable_seq == seq // 10 * 10, f"journal seq {seq}"


def test_without_auto_commit_nothing_is_synced_inside_a_command(tmp_path: Path) -> None:
    with Engine.open(tmp_path / "j", batch_max_records=1, batch_interval_ms=0, auto_commit=False) as eng:
        add_instruments(eng)
        for i in range(20):
            eng.submit("ACME", i + 1, "alice", "buy", 1, 50 + i % 10)
        assert eng.durable_seq == 0
        assert eng.commit() == eng.journal_seq


def test_pipelined_commit_syncs_on_a_thread_while_the_engine_goes_on(tmp_path: Path) -> None:
    with Engine.open(tmp_path / "j", auto_commit=False) as eng:
        add_instruments(eng)
        driver = Driver(seed=9)
        for _ in range(5):
            driver.step(eng)
        sync = eng.flush_journal()
        assert isinstance(sync, pyengine.JournalSync)
        assert sync.upto == eng.journal_seq and not sync.synced
        with pytest.raises(ValueError, match="has not been synced"):
            eng.mark_durable(sync)
        worker = threading.Thread(target=sync.sync)
        worker.start()
        for _ in range(5):  # the engine is usable while the sync runs (the GIL is released)
            driver.step(eng)
        worker.join()
        assert sync.synced
        assert eng.mark_durable(sync) == sync.upto == eng.durable_seq
        assert eng.journal_seq is not None and eng.journal_seq > sync.upto
        last = eng.flush_journal()
        last.sync()
        assert eng.mark_durable(last) == eng.journal_seq
        assert eng.mark_durable(sync) == eng.journal_seq, "an older sync never moves durability back"
    # Flushed records are in the journal: a reopen recovers them.
    with Engine.open(tmp_path / "j") as again:
        assert again.journal_seq == last.upto


def test_journal_syncer_syncs_in_order_on_its_own_thread_and_wakes_a_selector(tmp_path: Path) -> None:
    with Engine.open(tmp_path / "j", auto_commit=False) as eng:
        add_instruments(eng)
        syncer = pyengine.JournalSyncer()
        syncs = []
        for i in range(5):
            eng.submit("ACME", i + 1, "alice", "buy", 1, 50)
            syncs.append(eng.flush_journal())
            syncer.submit(syncs[-1])
        assert len(syncer) == 5
        done: list[pyengine.JournalSync] = []
        deadline = time.monotonic() + 10
        while len(done) < 5 and time.monotonic() < deadline:
            select.select([syncer.fileno()], [], [], 1.0)
            done += syncer.collect()
        assert done == syncs and all(s.synced for s in done) and len(syncer) == 0
        assert [eng.mark_durable(s) for s in done] == [s.upto for s in syncs]
        assert syncer.collect() == []
        syncer.close()
        with pytest.raises(RuntimeError, match="closed"):
            syncer.submit(eng.flush_journal())


def test_a_failed_sync_stops_the_journal(tmp_path: Path) -> None:
    eng = Engine.open(tmp_path / "j", auto_commit=False)
    add_instruments(eng)
    eng.submit("ACME", 1, "alice", "buy", 1, 50)
    sync = eng.flush_journal()
    eng.mark_durable(sync, failed=True)
    with pytest.raises(OSError, match="failed earlier"):
        eng.submit("ACME", 2, "alice", "buy", 1, 50)
    with pytest.raises(OSError):
        eng.flush_journal()
    assert eng.order("ACME", 2) is None, "a refused command is not applied"
    with pytest.raises(OSError, match="failed earlier"):
        eng.close()


def test_flush_journal_needs_an_open_journal(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="no journal"):
        Engine().flush_journal()
    eng = Engine.open(tmp_path / "j")
    sync = eng.flush_journal()
    eng.close()
    with pytest.raises(RuntimeError, match="closed"):
        eng.flush_journal()
    with pytest.raises(RuntimeError, match="closed"):
        eng.mark_durable(sync)


# ---- close, context manager, lock ---------------------------------------------------------------


def test_closed_engine_refuses_state_changes_but_answers_queries(tmp_path: Path) -> None:
    path = tmp_path / "j"
    eng = Engine.open(path)
    add_instruments(eng)
    Driver(seed=8).run(eng, 40)
    eng.submit("ACME", 777, "alice", "buy", 5, 90)
    cmds = commands(
        eng,
        [{"op": "submit", "symbol": "ACME", "order_id": 778, "account": "bob", "side": "sell", "qty": 1, "price": 200}],
    )
    live = state(eng)
    seq = eng.journal_seq
    eng.close()
    assert eng.journal_seq is None and eng.durable_seq is None

    refused = {
        "submit": lambda: eng.submit("ACME", 779, "alice", "buy", 5, 90),
        "cancel": lambda: eng.cancel("ACME", 777),
        "amend": lambda: eng.amend("ACME", 777, qty=2),
        "mass_cancel": lambda: eng.mass_cancel("alice"),
        "add_instrument": lambda: eng.add_instrument("NEW"),
        "new account": lambda: eng.account_id("newcomer"),
        "submit_batch": lambda: eng.submit_batch(cmds),
        "commit": eng.commit,
        "snapshot": eng.snapshot,
    }
    for what, call in refused.items():
        with pytest.raises(RuntimeError, match="journal is closed") as info:
            call()
        assert str(info.value).startswith("the engine's journal is closed"), what
    assert state(eng) == live
    assert eng.order("ACME", 777) is not None
    assert eng.account_id("alice") == eng.accounts().index("alice")
    eng.check_invariants()
    assert eng.clone().state_hash() == live["hash"]
    eng.close()  # closing twice is harmless

    with Engine.open(path) as again:  # the lock was released
        assert state(again) == live
        assert again.journal_seq == seq


def test_context_manager_closes(tmp_path: Path) -> None:
    path = tmp_path / "j"
    with Engine.open(path) as eng:
        add_instruments(eng)
        eng.submit("ACME", 1, "alice", "buy", 5, 100)
        h = eng.state_hash()
    assert eng.journal_seq is None
    with pytest.raises(RuntimeError, match="journal is closed"):
        eng.submit("ACME", 2, "alice", "buy", 5, 100)

    with pytest.raises(KeyError), Engine.open(path) as eng:  # an exception propagates and still closes
        eng.submit("ACME", 2, "alice", "buy", 5, 101)
        raise KeyError("boom")
    with pytest.raises(RuntimeError, match="journal is closed"):
        eng.cancel("ACME", 2)
    with Engine.open(path) as eng:
        assert eng.order("ACME", 2) is not None
        assert eng.state_hash() != h


def test_second_open_of_a_locked_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j"
    first = Engine.open(path)
    add_instruments(first)
    first.submit("ACME", 1, "alice", "buy", 5, 100)
    with pytest.raises(JournalError) as info:
        Engine.open(path)
    message = str(info.value)
    assert "journal.lock" in message and str(path) in message
    assert "open in another writer" in message
    # The refused open changed nothing: the first engine keeps journaling.
    first.submit("ACME", 2, "bob", "sell", 5, 100)
    h, seq = first.state_hash(), first.journal_seq
    first.close()
    with Engine.open(path) as eng:
        assert (eng.state_hash(), eng.journal_seq) == (h, seq)


# ---- bad arguments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"fsync": "sometimes"}, r'unknown fsync policy "sometimes"; expected one of always, batch, none'),
        ({"segment_max_bytes": 10}, r"segment_max_bytes must be at least 4096, got 10"),
        ({"batch_max_records": 0}, r"batch_max_records must be positive"),
        ({"batch_interval_ms": -1.0}, r"batch_interval_ms must be a non-negative number"),
    ],
)
def test_open_rejects_bad_arguments(tmp_path: Path, kwargs: dict[str, Any], pattern: str) -> None:
    path = tmp_path / "j"
    with pytest.raises(ValueError, match=pattern):
        Engine.open(path, **kwargs)
    assert not path.exists()  # refused before touching the disk


@pytest.mark.parametrize(("field", "value"), [("op", 9), ("side", 7), ("tif", 9)])
def test_invalid_batch_record_applies_nothing(tmp_path: Path, field: str, value: int) -> None:
    path = tmp_path / "j"
    eng = Engine.open(path)
    add_instruments(eng)
    eng.submit("ACME", 1, "alice", "sell", 5, 100)
    cmds = commands(
        eng,
        [
            {"op": "submit", "symbol": "ACME", "order_id": 2, "account": "bob", "side": "buy", "qty": 5, "price": 100},
            {"op": "submit", "symbol": "ACME", "order_id": 3, "account": "bob", "side": "buy", "qty": 5, "price": 99},
            {"op": "cancel", "symbol": "ACME", "order_id": 3},
        ],
    )
    cmds[1][field] = value
    before = (eng.journal_seq, eng.durable_seq, eng.seq, eng.state_hash())
    with pytest.raises(ValueError, match=r"command record 1 .*nothing was applied"):
        eng.submit_batch(cmds)
    assert (eng.journal_seq, eng.durable_seq, eng.seq, eng.state_hash()) == before
    eng.close()
    with Engine.open(path) as eng:
        assert (eng.journal_seq, eng.seq, eng.state_hash()) == (before[0], before[2], before[3])


# ---- damage -------------------------------------------------------------------------------------


def damage_truncated_header(segs: list[Path]) -> tuple[str, int, str]:
    target = segs[1]
    with target.open("r+b") as f:
        f.truncate(10)
    return target.name, 0, "truncated segment header (10 of 36 bytes)"


def damage_wrong_version(segs: list[Path]) -> tuple[str, int, str]:
    # Only the version is patched, so the header CRC is stale too; the version is checked (and reported) first.
    target = segs[1]
    data = bytearray(target.read_bytes())
    struct.pack_into("<H", data, VERSION_OFFSET, 2)
    target.write_bytes(bytes(data))
    return target.name, VERSION_OFFSET, "unsupported format version 2"


def damage_header_crc(segs: list[Path]) -> tuple[str, int, str]:
    target = segs[1]
    flip_byte(target, 12)  # a reserved byte: only the header CRC notices
    return target.name, HEADER_CRC_OFFSET, "segment header CRC mismatch"


def damage_flipped_record(segs: list[Path]) -> tuple[str, int, str]:
    target = segs[len(segs) // 2]
    off, _ = record_spans(target)[2]
    flip_byte(target, off + RECORD_HEADER_SIZE + 10)
    return target.name, off, "record CRC mismatch"


def damage_flipped_record_in_last_segment(segs: list[Path]) -> tuple[str, int, str]:
    # Not the last record: valid records follow it, so it cannot be a torn tail.
    target = segs[-1]
    off, _ = record_spans(target)[-3]
    flip_byte(target, off + RECORD_HEADER_SIZE + 3)
    return target.name, off, "record CRC mismatch"


def damage_flipped_seq(segs: list[Path]) -> tuple[str, int, str]:
    target = segs[1]
    off, _ = record_spans(target)[1]
    flip_byte(target, off + 8)  # the seq field (covered by the CRC)
    return target.name, off, "record CRC mismatch"


def damage_empty_segment(segs: list[Path]) -> tuple[str, int, str]:
    first = int(segs[1].name.split(".")[0])
    assert int(segs[2].name.split(".")[0]) > first + 1
    empty = segs[1].parent / segment_name(first + 1)  # sorts between segs[1] and segs[2]
    empty.touch()
    return empty.name, 0, "empty segment file"


def damage_missing_segment(segs: list[Path]) -> tuple[str, int, str]:
    middle = len(segs) // 2
    segs[middle].unlink()
    return segs[middle + 1].name, FIRST_SEQ_OFFSET, "missing or misplaced segment"


DAMAGE = {
    f.__name__.removeprefix("damage_"): f
    for f in (
        damage_truncated_header,
        damage_wrong_version,
        damage_header_crc,
        damage_flipped_record,
        damage_flipped_record_in_last_segment,
        damage_flipped_seq,
        damage_empty_segment,
        damage_missing_segment,
    )
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_journal_is_refused(tmp_path: Path, damage: str) -> None:
    built = build_journal(tmp_path / "j")
    name, offset, problem = DAMAGE[damage](segments(built.path))
    where = re.compile(rf"{re.escape(name)} at byte offset {offset}\b")
    files = journal_bytes(built.path)

    with pytest.raises(JournalError) as info:
        Engine.open(built.path)
    message = str(info.value)
    assert where.search(message), message
    assert problem in message
    assert journal_bytes(built.path) == files  # refusing changes nothing (no truncation, no new segment)

    for read in (pyengine.journal.inspect, pyengine.journal.replay):
        with pytest.raises(JournalError, match=where.pattern):
            read(built.path)

    result = run_cli("verify", built.path, "--quiet")
    assert result.returncode == 1, result.stdout
    assert where.search(result.stderr), result.stderr
    assert result.stderr.startswith("error: corrupt journal segment")
    assert "verify: ok" not in result.stdout


@pytest.mark.parametrize("tear", ["garbage", "zero_fill", "cut_last_record", "flipped_last_record"])
def test_torn_tail_is_truncated_on_open(tmp_path: Path, tear: str) -> None:
    built = build_journal(tmp_path / "j")
    last = segments(built.path)[-1]
    size = last.stat().st_size
    last_off, last_len = record_spans(last)[-1]
    if tear == "garbage":
        with last.open("ab") as f:
            f.write(b"\x13\x37\xde\xad\xbe")
        torn_at, expected, seq = size, built.final, built.last_seq
    elif tear == "zero_fill":
        with last.open("ab") as f:
            f.write(bytes(300))
        torn_at, expected, seq = size, built.final, built.last_seq
    elif tear == "cut_last_record":
        with last.open("r+b") as f:
            f.truncate(last_off + last_len // 2)
        torn_at, expected, seq = last_off, built.before_last, built.last_seq - 1
    else:
        flip_byte(last, last_off + RECORD_HEADER_SIZE + 5)
        torn_at, expected, seq = last_off, built.before_last, built.last_seq - 1

    # Before recovery: verify reports the torn tail but succeeds; the read-only tools stop before it.
    result = run_cli("verify", built.path, "--quiet")
    assert result.returncode == 0, result.stderr
    assert re.search(rf"torn tail .*{re.escape(last.name)} at byte offset {torn_at}\b", result.stdout), result.stdout
    assert "verify: ok (torn tail present)" in result.stdout
    assert f"seq 1..{seq}" in result.stdout
    info = pyengine.journal.inspect(built.path)
    assert info["torn_tail"] and info["last_seq"] == seq
    replayed, summary = pyengine.journal.replay(built.path)
    assert summary["torn_tail"] and state(replayed) == expected
    assert last.stat().st_size >= torn_at  # nothing was changed by reading

    with Engine.open(built.path) as eng:
        assert last.stat().st_size == torn_at  # truncated to the last complete record
        assert eng.journal_seq == seq
        assert state(eng) == expected
        eng.submit("ACME", 10**9 + 1, "bob", "sell", 1, 500)
        assert eng.journal_seq == seq + 1
        after = state(eng)

    result = run_cli("verify", built.path, "--quiet")
    assert result.returncode == 0 and "torn tail" not in result.stdout
    assert "verify: ok\n" in result.stdout
    with Engine.open(built.path) as eng:
        assert state(eng) == after
        assert eng.journal_seq == seq + 1


def test_missing_first_segment_is_reported_by_verify(tmp_path: Path) -> None:
    built = build_journal(tmp_path / "j")
    first = segments(built.path)[0]
    first.unlink()
    with pytest.raises(JournalError, match="record 1 is not in the journal"):
        Engine.open(built.path)
    with pytest.raises(JournalError):
        pyengine.journal.replay(built.path)
    assert run_cli("verify", built.path, "--quiet").returncode == 1  # today: 0, "verify: ok"


# ---- the command line ---------------------------------------------------------------------------


def test_cli_on_a_good_journal(tmp_path: Path) -> None:
    path = tmp_path / "j"
    eng = Engine.open(path, fsync="none", segment_max_bytes=SMALL_SEGMENT)
    add_instruments(eng)
    driver = Driver(seed=9)
    driver.run(eng, 100)
    snap = eng.snapshot()
    snap_seq = eng.journal_seq
    driver.run(eng, 60)
    seq, state_hash = eng.journal_seq, eng.state_hash()
    eng.close()
    assert seq is not None and snap_seq is not None
    segs = segments(path)

    calls: list[tuple[int, int]] = []
    assert pyengine.journal.inspect(path, progress=lambda done, total: calls.append((done, total)))["records"] == seq
    assert calls and calls[-1] == (seq, seq)

    for command in ("inspect", "verify"):
        result = run_cli(command, path, "--quiet")
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert f"journal {path}" in out
        assert f"records {seq:,} (" in out and f"seq 1..{seq}" in out
        assert all(s.name in out for s in segs)
        assert f"snapshot {snap} (covers journal seq {snap_seq})" in out
        assert "torn tail" not in out
        assert ("verify: ok" in out) == (command == "verify")
        assert result.stderr == ""

    result = run_cli("replay", path, "--quiet")
    assert result.returncode == 0, result.stderr
    assert f"replayed {seq:,} records" in result.stdout and f"journal seq up to {seq}" in result.stdout
    assert f"state hash {state_hash:016x}" in result.stdout

    result = run_cli("replay", path, "--from-snapshot", "--quiet")
    assert result.returncode == 0, result.stderr
    assert f"snapshot {snap} (journal seq {snap_seq})" in result.stdout
    assert f"replayed {seq - snap_seq:,} records" in result.stdout
    assert f"state hash {state_hash:016x}" in result.stdout

    result = run_cli("verify", path)  # with the progress bar (stderr is not a terminal: plain lines)
    assert result.returncode == 0
    assert f"verify: {seq:,}/{seq:,} records" in result.stderr


def test_cli_on_a_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError):
        pyengine.journal.inspect(missing)
    result = run_cli("verify", missing, "--quiet")
    assert result.returncode == 2
    assert f"no journal directory at {missing}" in result.stderr
    assert not missing.exists()


def test_names_over_the_journal_limit_are_refused_and_change_nothing(tmp_path: Path) -> None:
    with Engine.open(tmp_path / "j") as eng:
        with pytest.raises(ValueError, match="longer than the journal's limit"):
            eng.add_instrument("X" * 2000)
        eng.add_instrument("ACME")
        seq = eng.journal_seq
        with pytest.raises(ValueError, match="longer than the journal's limit"):
            eng.submit("ACME", 1, "a" * 2000, "buy", 1, 1)
        assert eng.journal_seq == seq and eng.accounts() == [] and eng.instruments() == ["ACME"]
    with Engine.open(tmp_path / "j") as again:
        assert again.instruments() == ["ACME"] and again.journal_seq == seq
