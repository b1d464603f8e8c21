"""What the gateway writes to FIX clients, released only once the journal covers it (pipelined group commit).

The rule: an ExecutionReport never reaches a client before the command behind it is durable. Bytes queued
during an event-loop iteration are collected by :meth:`Outbox.flush` at its end. With ``fsync="batch"`` the
journal is handed to the OS there (``Engine.flush_journal``) and fdatasync'd by a
:class:`~pyengine.JournalSyncer` (a Rust thread that never needs the GIL and wakes the loop through a socket),
so the loop goes on reading and matching while the disk works; the batch is written to its sockets when the
sync returns. Output of later iterations waits behind a sync in flight and goes with the next one,
so per connection the bytes keep their order and one fdatasync covers everything that arrived meanwhile: the
busier the gateway, the bigger the batches.

With ``fsync="always"`` every command is already durable when the engine returns, and with ``"none"`` the
journal is only handed to the OS; both write at the end of the iteration.

A failed fdatasync leaves the journal in an unknown state: the engine refuses further commands, nothing that
was waiting for that sync is sent, and ``on_failure`` is told (the gateway then stops).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from pyengine._engine import Engine, JournalSync, JournalSyncer

__all__ = ["Outbox"]

_log = logging.getLogger(__name__)

Batch = list[tuple[asyncio.WriteTransport, list[bytes]]]  # chunks per writer, joined once when sent


class _Log(Protocol):
    def flush(self) -> None: ...


class Outbox:
    def __init__(
        self,
        engine: Engine,
        order_log: _Log,
        fsync: str,
        on_failure: Callable[[BaseException], None],
        syncer: Callable[[], JournalSyncer] = JournalSyncer,
        before_release: Callable[[], object] = lambda: None,
    ):
        self.engine = engine
        # Called before bytes can go out (and before each sync starts): the session stores' records must reach
        # the OS first. While a sync is in flight nothing goes out, so their writes wait and batch up too.
        self.before_release = before_release
        self.new_syncer = syncer
        self.order_log = order_log
        self.pipelined = fsync == "batch"
        self.on_failure = on_failure
        self._ready: dict[asyncio.WriteTransport, list[bytes]] = {}
        self._seen_seq = engine.journal_seq  # journal seq at the last flush: a change means commands to sync
        self._waiting: Batch = []  # output held behind the sync in flight
        self._waiting_dirty = False
        self._inflight: tuple[JournalSync, Batch] | None = None
        self._syncer: JournalSyncer | None = None
        self.failed = False
        self.closed = False  # after close(): the engine's journal is gone, nothing more is written
        self.syncs = 0

    def write(self, writer: asyncio.WriteTransport, data: bytes) -> None:
        """Queue ``data`` for ``writer``; it goes out once everything journaled before it is durable."""
        chunks = self._ready.get(writer)
        if chunks is None:
            self._ready[writer] = [data]
        else:
            chunks.append(data)

    def _journaled(self) -> bool:
        """Whether commands went into the journal since the last call."""
        seq = self.engine.journal_seq
        if seq == self._seen_seq:
            return False
        self._seen_seq = seq
        return True

    def _take(self) -> Batch:
        ready, self._ready = self._ready, {}
        return list(ready.items())

    def flush(self) -> None:
        """End of an event-loop iteration: start (or join) a group commit, or write straight away."""
        if self.failed or self.closed:
            self._ready.clear()
            return
        batch = self._take()
        if not self.pipelined:
            self.before_release()
            if self._journaled():
                self.engine.commit()
                self.order_log.flush()
            _send(batch)
            return
        if self._journaled():
            self._waiting_dirty = True
        self._waiting += batch
        if self._inflight is None:
            self._start_sync()

    def flush_now(self) -> None:
        """Commit on this thread and write everything queued (shutdown, disconnects, the kill switch)."""
        if self.failed or self.closed:
            self._ready.clear()
            return
        batch = self._take()
        self.before_release()
        inflight = self._inflight[1] if self._inflight is not None else []
        if self._journaled() or self._waiting_dirty or self._inflight is not None:
            self.engine.commit()  # covers the sync in flight too; its completion then has nothing to send
            self.order_log.flush()
        self._inflight = None
        waiting, self._waiting = self._waiting, []
        self._waiting_dirty = False
        _send(inflight + waiting + batch)

    def close(self) -> None:
        """Stop the sync thread; call after the last flush_now, before the engine's journal closes."""
        self.closed = True
        self._ready.clear()
        if self._syncer is not None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                asyncio.get_running_loop().remove_reader(self._syncer.fileno())
            self._syncer.close()
            self._syncer = None

    def _start_syncer(self) -> JournalSyncer:
        syncer = self._syncer = self.new_syncer()
        asyncio.get_running_loop().add_reader(syncer.fileno(), self._collect)
        return syncer

    def _start_sync(self) -> None:
        self.before_release()
        if not self._waiting:
            return
        if not self._waiting_dirty:  # nothing journaled behind it and no sync in flight: order is kept
            batch, self._waiting = self._waiting, []
            _send(batch)
            return
        sync = self.engine.flush_journal()
        self.order_log.flush()
        batch, self._waiting, self._waiting_dirty = self._waiting, [], False
        self._inflight = (sync, batch)
        self.syncs += 1
        syncer = self._syncer if self._syncer is not None else self._start_syncer()  # falsy when empty: __len__
        syncer.submit(sync)

    def _collect(self) -> None:
        """The syncer's socket is readable: release the batches whose sync finished."""
        if self._syncer is None:
            return  # closed meanwhile
        try:
            finished = self._syncer.collect()
        except OSError as e:
            # Fail even when flush_now has since committed that batch: after a failed fdatasync the page cache
            # may have dropped the data, and a later successful sync does not bring it back.
            self._fail(self._inflight[0] if self._inflight is not None else None, e)
            return
        for sync in finished:
            self.engine.mark_durable(sync)
            if self._inflight is not None and self._inflight[0] is sync:
                batch = self._inflight[1]
                self._inflight = None
                _send(batch)
            # else: flush_now committed and wrote this batch already
        if finished and self._inflight is None:
            self._start_sync()

    def _fail(self, sync: JournalSync | None, error: BaseException) -> None:
        if self.failed:
            return
        self.failed = True
        _log.critical("journal fdatasync failed (%s): no more acknowledgements; the gateway stops", error)
        self._inflight = None
        self._waiting.clear()
        self._ready.clear()
        with contextlib.suppress(RuntimeError, OSError):  # closed or failed already: it refuses commands either way
            self.engine.mark_durable(sync if sync is not None else self.engine.flush_journal(), failed=True)
        self.on_failure(error)


def _send(batch: Batch) -> None:
    """Write a batch: one write per connection, its chunks (from any number of iterations) in order."""
    merged: dict[asyncio.WriteTransport, list[bytes]] = {}
    for writer, chunks in batch:
        if writer in merged:
            merged[writer] += chunks
        else:
            merged[writer] = chunks
    for writer, chunks in merged.items():
        if not writer.is_closing():
            writer.write(chunks[0] if len(chunks) == 1 else b"".join(chunks))
