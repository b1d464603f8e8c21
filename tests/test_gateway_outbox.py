"""The gateway's outbox: nothing reaches a client before the journal covers it; order per connection kept."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from gatewaykit import RunningGateway, logged_on

from pyengine import Engine, JournalSync
from pyengine.gateway.outbox import Outbox


class _Writer:
    """Collects what the outbox writes to one connection."""

    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return False


class _Log:
    def flush(self) -> None:
        pass


class _FailingDisk:
    """A JournalSyncer whose disk reports an error (EIO) on every fdatasync, as a failing device would."""

    def __init__(self) -> None:
        self._loop_end, self._wake = socket.socketpair()
        self._loop_end.setblocking(False)

    def fileno(self) -> int:
        return self._loop_end.fileno()

    def submit(self, sync: JournalSync) -> None:
        self._wake.send(b"x")

    def collect(self) -> list[JournalSync]:
        with contextlib.suppress(BlockingIOError):
            self._loop_end.recv(64)
        raise OSError(5, "journal fdatasync failed: Input/output error")

    def close(self) -> None:
        self._loop_end.close()
        self._wake.close()


def _engine(tmp_path: Path) -> Engine:
    eng = Engine.open(tmp_path / "j", auto_commit=False)
    eng.add_instrument("ACME", 1, 1)
    eng.commit()
    return eng


async def _settle() -> None:
    for _ in range(50):
        await asyncio.sleep(0.002)


def test_output_waits_for_the_sync_and_keeps_its_order(tmp_path: Path) -> None:
    async def scenario() -> None:
        eng = _engine(tmp_path)
        failures: list[BaseException] = []
        released: list[bytes] = []  # what the writers held each time the stores were flushed
        a, b = _Writer(), _Writer()
        box = Outbox(eng, _Log(), "batch", failures.append, before_release=lambda: released.append(a.data))
        eng.submit("ACME", 1, "x", "buy", 1, 100)
        box.write(a, b"ack1;")  # type: ignore[arg-type]
        box.flush()
        assert a.data == b"", "not before the sync"
        eng.submit("ACME", 2, "x", "buy", 1, 100)
        box.write(a, b"ack2;")  # type: ignore[arg-type]
        box.write(b, b"hb;")  # type: ignore[arg-type]
        box.flush()
        await _settle()
        assert a.data == b"ack1;ack2;" and b.data == b"hb;"
        assert eng.durable_seq == eng.journal_seq
        # the stores were flushed before each sync started, so before its bytes went out
        assert released[:2] == [b"", b"ack1;"]
        # Nothing journaled and nothing in flight: straight out.
        box.write(b, b"hb2;")  # type: ignore[arg-type]
        box.flush()
        assert b.data == b"hb;hb2;"
        assert box.syncs == 2 and not failures
        box.close()
        eng.close()

    asyncio.run(scenario())


def test_flush_now_commits_and_writes_everything_in_order(tmp_path: Path) -> None:
    async def scenario() -> None:
        eng = _engine(tmp_path)
        box = Outbox(eng, _Log(), "batch", lambda e: None)
        a = _Writer()
        eng.submit("ACME", 1, "x", "buy", 1, 100)
        box.write(a, b"1;")  # type: ignore[arg-type]
        box.flush()  # sync in flight
        eng.submit("ACME", 2, "x", "buy", 1, 100)
        box.write(a, b"2;")  # type: ignore[arg-type]
        box.flush()  # waiting behind it
        eng.submit("ACME", 3, "x", "buy", 1, 100)
        box.write(a, b"3;")  # type: ignore[arg-type]
        box.flush_now()
        assert a.data == b"1;2;3;" and eng.durable_seq == eng.journal_seq
        await _settle()
        assert a.data == b"1;2;3;", "the sync that finished later sends nothing twice"
        box.close()
        eng.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("policy", ["always", "none"])
def test_other_policies_write_at_the_end_of_the_iteration(tmp_path: Path, policy: str) -> None:
    async def scenario() -> None:
        eng = Engine.open(tmp_path / "j", fsync=policy, auto_commit=False)
        eng.add_instrument("ACME", 1, 1)
        box = Outbox(eng, _Log(), policy, lambda e: None)
        a = _Writer()
        eng.submit("ACME", 1, "x", "buy", 1, 100)
        box.write(a, b"ack;")  # type: ignore[arg-type]
        box.flush()
        assert a.data == b"ack;" and eng.durable_seq == eng.journal_seq
        box.close()
        eng.close()

    asyncio.run(scenario())


def test_a_failed_sync_acknowledges_nothing_and_stops_the_journal(tmp_path: Path) -> None:
    async def scenario() -> None:
        eng = _engine(tmp_path)
        failures: list[BaseException] = []
        box = Outbox(eng, _Log(), "batch", failures.append, _FailingDisk)  # type: ignore[arg-type]
        a = _Writer()
        eng.submit("ACME", 1, "x", "buy", 1, 100)
        box.write(a, b"ack1;")  # type: ignore[arg-type]
        box.flush()
        box.write(a, b"later;")  # type: ignore[arg-type]
        box.flush()
        await _settle()
        assert a.data == b"" and box.failed
        assert len(failures) == 1 and isinstance(failures[0], OSError)
        with pytest.raises(OSError, match="failed earlier"):
            eng.submit("ACME", 2, "x", "buy", 1, 100)
        box.write(a, b"after;")  # type: ignore[arg-type]
        box.flush()
        box.flush_now()
        assert a.data == b""
        box.close()

    asyncio.run(scenario())


def test_a_failed_sync_stops_the_journal_even_after_flush_now_covered_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        eng = _engine(tmp_path)
        failures: list[BaseException] = []
        box = Outbox(eng, _Log(), "batch", failures.append, _FailingDisk)  # type: ignore[arg-type]
        a = _Writer()
        eng.submit("ACME", 1, "x", "buy", 1, 100)
        box.write(a, b"ack1;")  # type: ignore[arg-type]
        box.flush()  # sync in flight (it will fail)
        box.flush_now()  # commits on this thread and writes the batch
        assert a.data == b"ack1;"
        await _settle()
        assert box.failed and len(failures) == 1, "a failed fdatasync is not forgiven by a later one"
        with pytest.raises(OSError, match="failed earlier"):
            eng.submit("ACME", 2, "x", "buy", 1, 100)
        box.close()

    asyncio.run(scenario())


def test_the_gateway_stops_acknowledging_and_drops_connections_when_a_sync_fails(tmp_path: Path) -> None:
    running = RunningGateway(tmp_path)
    try:
        gw = running.gw
        assert gw.outbox is not None
        gw.outbox.new_syncer = _FailingDisk  # type: ignore[assignment]  # the disk reports EIO from now on
        c = logged_on(gw, "FAIL_A")
        c.order("F1", "1", 1, "100.00")
        assert c.recv(timeout=10) is None, "no ack for a command that is not durable; the connection is dropped"
        assert _wait_for(gw.failed.is_set)
        with pytest.raises(OSError):  # no answer (TimeoutError) or a dropped connection: nothing is acknowledged
            logged_on(gw, "FAIL_B").recv(timeout=2)
    finally:
        running.stop()


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
