"""Persistent per-session FIX state: next sequence numbers and the outbound message store.

One directory per session holds one append-only log, ``session.log``. Each record is::

    kind (1 byte) | payload length (u32 LE) | payload | crc32 of kind+length+payload (u32 LE)

with these kinds:

- ``I`` payload u64: the next expected incoming MsgSeqNum.
- ``N`` payload u64: the next outgoing MsgSeqNum (an administrative message was sent, nothing stored).
- ``O`` payload u64 seq + raw message: an outbound application message, kept for ResendRequest;
  the next outgoing MsgSeqNum becomes seq + 1.
- ``M`` payload u64 count, count x (u64 seq, u32 length), then the messages back to back: the outbound
  messages of one flush in one record (buffered mode); as that many ``O`` records.

Reloading replays the log; a torn or corrupt tail (a crash mid-write) is cut off at the last good record.
``reset()`` (Logon with ResetSeqNumFlag(141)=Y) writes a fresh, empty log and swaps it in atomically.
With ``fsync=True`` every record is fsynced before the call returns; otherwise records reach the OS on every
write (they survive a process crash, not a power loss) and ``sync()`` forces them to disk.

``buffered=True`` (the gateway) holds records in memory until :meth:`flush`, which the gateway calls once
per event-loop iteration — before it writes anything to the network — so a session costs one write (and
under ``fsync=True`` one fsync) per iteration instead of one per message.

Stored messages stay on disk: memory holds only their file offsets (8 bytes per MsgSeqNum), and a
ResendRequest reads them back, so a session that sends millions of reports does not keep them all in RAM.
"""

from __future__ import annotations

import os
import struct
import zlib
from array import array
from collections.abc import Callable
from pathlib import Path

__all__ = ["SeqStore"]

LOG_NAME = "session.log"
_HEAD = struct.Struct("<cI")
_U64 = struct.Struct("<Q")
_CRC = struct.Struct("<I")
_ENTRY = struct.Struct("<QI")  # (seq, length) of one message in an M record
_LEN_BITS = 24  # a stored message's length in the low bits of its index entry, its file offset above
_LEN_MASK = (1 << _LEN_BITS) - 1


class SeqStore:
    """Sequence numbers and outbound messages of one FIX session, persisted in ``directory``."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        fsync: bool = False,
        buffered: bool = False,
        on_dirty: Callable[[SeqStore], object] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.fsync = fsync
        self.buffered = buffered
        self.dirty = False
        # Called when buffered records start waiting for flush(): the gateway flushes only stores it was told of.
        self.on_dirty = on_dirty
        self._in_pending = False
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / LOG_NAME
        self._next_in = 1
        self._next_out = 1
        # Where each stored message is in the log: _where[seq - _first] = file offset << 24 | length, -1 = none.
        self._first = 0
        self._where = array("q")
        self._stored = 0
        self._reader: int | None = None  # read-only descriptor, opened at the first resend
        self._batch: list[tuple[int, bytes]] = []  # buffered mode: messages for the next M record
        good = self._load()
        self._file = open(self.path, "ab")  # noqa: SIM115 - kept open for the store's lifetime
        if self._file.tell() != good:
            self._file.truncate(good)
            self._file.seek(good)
            self._sync_file()
        self._end = good  # file offset of the next record

    # --- reading ----------------------------------------------------------------------------------

    @property
    def next_in(self) -> int:
        """The MsgSeqNum expected on the next incoming message."""
        return self._next_in

    @property
    def next_out(self) -> int:
        """The MsgSeqNum of the next outgoing message."""
        return self._next_out

    def get(self, seq: int) -> bytes | None:
        """The stored outbound application message with this MsgSeqNum, or None (admin message or unknown)."""
        if self._batch:
            self._write_batch()
        where = self._locate(seq)
        if where < 0:
            return None
        self._file.flush()  # buffered records must be readable
        if self._reader is None:
            self._reader = os.open(self.path, os.O_RDONLY)
        offset, length = where >> _LEN_BITS, where & _LEN_MASK
        return os.pread(self._reader, length, offset)

    def seqs(self, begin: int, end: int) -> list[int]:
        """The MsgSeqNums of stored outbound messages in ``begin..end`` (inclusive), ascending."""
        if self._batch:
            self._write_batch()
        lo = max(begin, self._first) - self._first
        hi = min(end - self._first + 1, len(self._where))
        return [self._first + i for i in range(lo, hi) if self._where[i] >= 0]

    def __len__(self) -> int:
        if self._batch:
            self._write_batch()
        return self._stored

    def _locate(self, seq: int) -> int:
        i = seq - self._first
        return self._where[i] if 0 <= i < len(self._where) else -1

    def _index(self, seq: int, offset: int, length: int) -> None:
        """Remember where message ``seq`` is (a later record for the same seq wins, as on reload)."""
        if seq - self._first == len(self._where) and self._where:  # the usual case: the next seq
            self._where.append(offset << _LEN_BITS | length)
            self._stored += 1
            return
        if not self._where:
            self._first = seq
        elif seq < self._first:  # never in practice (seqs only grow between resets); kept correct anyway
            self._where[0:0] = array("q", [-1] * (self._first - seq))
            self._first = seq
        i = seq - self._first
        if i >= len(self._where):
            self._where.extend([-1] * (i - len(self._where) + 1))
        if self._where[i] < 0:
            self._stored += 1
        self._where[i] = offset << _LEN_BITS | length

    # --- writing ----------------------------------------------------------------------------------

    def set_next_in(self, seq: int) -> None:
        if seq < 1:
            raise ValueError(f"sequence number must be >= 1, got {seq}")
        if seq != self._next_in:
            self._next_in = seq
            if self.buffered:  # one I record per flush carries the latest value
                self._in_pending = True
                self._mark_dirty()
            else:
                self._append(b"I", _U64.pack(seq))

    def set_next_out(self, seq: int) -> None:
        if seq < 1:
            raise ValueError(f"sequence number must be >= 1, got {seq}")
        if seq != self._next_out:
            self._next_out = seq
            self._append(b"N", _U64.pack(seq))

    def store_outbound(self, seq: int, raw: bytes) -> None:
        """Keep an outbound application message for resends; the next outgoing MsgSeqNum becomes seq + 1."""
        if seq < 1:
            raise ValueError(f"sequence number must be >= 1, got {seq}")
        if not raw or len(raw) > _LEN_MASK:
            raise ValueError(f"a stored message must be 1..{_LEN_MASK} bytes, got {len(raw)}")
        self._next_out = seq + 1
        if self.buffered:  # one M record per flush, not one O record (and CRC) per message
            self._batch.append((seq, raw))
            self._mark_dirty()
            return
        head = _HEAD.pack(b"O", _U64.size + len(raw)) + _U64.pack(seq)
        write = self._file.write
        write(head)
        write(raw)
        write(_CRC.pack(zlib.crc32(raw, zlib.crc32(head))))
        self._index(seq, self._end + len(head), len(raw))
        self._end += len(head) + len(raw) + _CRC.size
        if self.buffered:
            self._mark_dirty()
        else:
            self._sync_file()

    def reset(self) -> None:
        """Both sequence numbers back to 1 and the outbound store emptied (ResetSeqNumFlag=Y)."""
        tmp = self.directory / (LOG_NAME + ".tmp")
        with open(tmp, "wb") as f:
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        self._fsync_dir()
        self._file.close()
        self._file = open(self.path, "ab")  # noqa: SIM115
        self._end = 0
        self._close_reader()
        self._next_in = 1
        self._next_out = 1
        self._first, self._where, self._stored = 0, array("q"), 0
        self._batch.clear()
        self._in_pending = False
        self.dirty = False

    def flush(self) -> None:
        """Hand buffered records to the OS (and fsync them under ``fsync=True``)."""
        if self.dirty:
            if self._batch:
                self._write_batch()
            if self._in_pending:
                self._in_pending = False
                self._append(b"I", _U64.pack(self._next_in))
            self.dirty = False
            self._sync_file()

    def sync(self) -> None:
        """Force every record written so far to disk."""
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self.flush()
            self._file.flush()
            if self.fsync:
                os.fsync(self._file.fileno())
            self._file.close()
        self._close_reader()

    def _close_reader(self) -> None:
        if self._reader is not None:
            os.close(self._reader)
            self._reader = None

    def __enter__(self) -> SeqStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals --------------------------------------------------------------------------------

    def _mark_dirty(self) -> None:
        if not self.dirty:
            self.dirty = True
            if self.on_dirty is not None:
                self.on_dirty(self)

    def _write_batch(self) -> None:
        batch, self._batch = self._batch, []
        head_of_payload = _U64.pack(len(batch)) + b"".join([_ENTRY.pack(seq, len(raw)) for seq, raw in batch])
        body = b"".join([raw for _, raw in batch])
        head = _HEAD.pack(b"M", len(head_of_payload) + len(body))
        write = self._file.write
        write(head)
        write(head_of_payload)
        write(body)
        write(_CRC.pack(zlib.crc32(body, zlib.crc32(head_of_payload, zlib.crc32(head)))))
        offset = self._end + len(head) + len(head_of_payload)
        for seq, raw in batch:
            self._index(seq, offset, len(raw))
            offset += len(raw)
        self._end = offset + _CRC.size

    def _append(self, kind: bytes, payload: bytes) -> None:
        if self._batch:  # records keep their order: an N record after messages must stay after them
            self._write_batch()
        record = _HEAD.pack(kind, len(payload)) + payload
        self._file.write(record + _CRC.pack(zlib.crc32(record)))
        self._end += len(record) + _CRC.size
        if self.buffered:
            self._mark_dirty()
        else:
            self._sync_file()

    def _sync_file(self) -> None:
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())

    def _fsync_dir(self) -> None:
        try:
            fd = os.open(self.directory, os.O_RDONLY)
        except OSError:  # pragma: no cover - platforms without directory fds
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _load_batch(self, payload: bytes, count: int, start: int) -> bool:
        """Index the messages of an M record whose payload starts at file offset ``start``; False if malformed."""
        entries = _U64.size + count * _ENTRY.size
        if count == 0 or entries > len(payload):
            return False
        sizes = [_ENTRY.unpack_from(payload, _U64.size + i * _ENTRY.size) for i in range(count)]
        if entries + sum(n for _, n in sizes) != len(payload) or any(n == 0 for _, n in sizes):
            return False
        offset = start + entries
        for seq, n in sizes:
            self._index(seq, offset, n)
            offset += n
        self._next_out = sizes[-1][0] + 1
        return True

    def _load(self) -> int:
        """Replay the log; returns the length of its good prefix."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        pos = 0
        while pos + _HEAD.size <= len(data):
            kind, length = _HEAD.unpack_from(data, pos)
            end = pos + _HEAD.size + length
            if end + _CRC.size > len(data):
                break
            payload = data[pos + _HEAD.size : end]
            (crc,) = _CRC.unpack_from(data, end)
            if crc != zlib.crc32(payload, zlib.crc32(data[pos : pos + _HEAD.size])) or length < _U64.size:
                break
            (seq,) = _U64.unpack_from(payload)
            if kind == b"I":
                self._next_in = seq
            elif kind == b"N":
                self._next_out = seq
            elif kind == b"O":
                if length == _U64.size:
                    break  # an empty message is never written
                self._index(seq, pos + _HEAD.size + _U64.size, length - _U64.size)
                self._next_out = seq + 1
            elif kind == b"M":
                if not self._load_batch(payload, seq, pos + _HEAD.size):
                    break
            else:
                break
            pos = end + _CRC.size
        return pos
