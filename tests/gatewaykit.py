"""Shared helpers of the gateway tests: an in-process gateway on ephemeral ports and a simplefix client."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import simplefix  # type: ignore[import-untyped]

from pyengine.gateway.config import GatewayConfig, load_config
from pyengine.gateway.server import Gateway

__all__ = [
    "Client",
    "RunningGateway",
    "WireClient",
    "body_of",
    "checksum",
    "fix_message",
    "fix_str",
    "frame_fix",
    "gateway",
    "logged_on",
    "ts",
    "with_body_length",
    "with_checksum",
]


class RunningGateway:
    """A Gateway on ephemeral ports, its event loop in a daemon thread; ``config`` replaces the defaults."""

    def __init__(self, tmp: Path, config: GatewayConfig | None = None, argv: tuple[str, ...] = ()) -> None:
        if config is None:
            config = load_config(["--data-dir", str(tmp), *argv], env={})
        config = dataclasses.replace(
            config,
            fix=dataclasses.replace(config.fix, port=0),
            http=dataclasses.replace(config.http, port=0),
        )
        self.gw = Gateway(config)
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        def main() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.gw.start())
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=main, daemon=True)
        self.thread.start()
        assert started.wait(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.gw.stop(grace=1.0), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    running = RunningGateway(tmp_path_factory.mktemp("gw"))
    yield running.gw
    running.stop()


class Client:
    def __init__(self, port: int, comp_id: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.comp_id = comp_id
        self.seq = 1
        self.parser = simplefix.FixParser()

    def send(self, msg_type: str, fields: list[tuple[int, str]]) -> None:
        m = simplefix.FixMessage()
        m.append_pair(8, "FIX.4.4")
        m.append_pair(35, msg_type)
        m.append_pair(49, self.comp_id)
        m.append_pair(56, "PYENGINE")
        m.append_pair(34, self.seq)
        m.append_utc_timestamp(52, precision=3)
        for tag, value in fields:
            m.append_pair(tag, value)
        if msg_type in ("D", "F"):
            m.append_utc_timestamp(60, precision=3)
        self.seq += 1
        self.sock.sendall(m.encode())

    def recv(self, timeout: float = 5.0) -> simplefix.FixMessage | None:
        deadline = time.monotonic() + timeout
        while True:
            msg = self.parser.get_message()
            if msg is not None:
                return msg
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no message")
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                return None
            self.parser.append_buffer(data)

    def recv_type(self, msg_type: bytes) -> simplefix.FixMessage:
        while True:
            msg = self.recv()
            assert msg is not None, "connection closed"
            assert msg.get(35) != b"3", f"session Reject: {msg}"
            if msg.get(35) == msg_type:
                return msg

    def logon(self, username: str = "demo", password: str = "demo") -> simplefix.FixMessage | None:
        self.send("A", [(98, "0"), (108, "30"), (141, "Y"), (553, username), (554, password)])
        return self.recv()

    def order(self, cl: str, side: str, qty: int, price: str, symbol: str = "ACME", **extra: str) -> None:
        fields = [(11, cl), (55, symbol), (54, side), (38, str(qty)), (40, "2"), (44, price), (59, "1")]
        fields += [(int(k[1:]), v) for k, v in extra.items()]
        self.send("D", fields)

    def close(self) -> None:
        self.sock.close()


def logged_on(gw: Gateway, comp_id: str, user: str = "demo") -> Client:
    c = Client(gw.fix_port, comp_id)
    msg = c.logon(user, user)
    assert msg is not None and msg.get(35) == b"A"
    return c


# --- wire-level helpers (malformed input, sequence numbers, resends) ------------------------------------


def checksum(data: bytes) -> bytes:
    """The three CheckSum (10) digits of ``data`` (everything before ``10=``)."""
    return b"%03d" % (sum(data) % 256)


def with_checksum(raw: bytes, value: bytes) -> bytes:
    """``raw`` with its CheckSum (10) replaced by ``value``."""
    cut = raw.rindex(b"\x0110=") + 4
    return raw[:cut] + value + b"\x01"


def wrong_checksum(raw: bytes) -> bytes:
    """A well-formed CheckSum (10) value that is not ``raw``'s: fixed values are right 1 time in 256."""
    right = int(raw[raw.rindex(b"\x0110=") + 4 : -1])
    return b"%03d" % ((right + 1) % 256)


def with_body_length(raw: bytes, value: bytes) -> bytes:
    """``raw`` with BodyLength (9) replaced by ``value`` and a correct CheckSum for the result."""
    start = raw.index(b"\x019=") + 3
    end = raw.index(b"\x01", start)
    data = raw[:start] + value + raw[end : raw.rindex(b"\x0110=") + 1]
    return data + b"10=" + checksum(data) + b"\x01"


def frame_fix(body: bytes) -> bytes:
    """Wrap ``body`` (the fields from MsgType (35) on, each ending in SOH) with BeginString, BodyLength and CheckSum."""
    data = b"8=FIX.4.4\x019=%d\x01" % len(body) + body
    return data + b"10=" + checksum(data) + b"\x01"


def body_of(raw: bytes) -> bytes:
    """The fields of an encoded message between BodyLength (9) and CheckSum (10)."""
    start = raw.index(b"\x01", raw.index(b"\x019=") + 1) + 1
    return raw[start : raw.rindex(b"\x0110=") + 1]


def ts() -> str:
    """A UTCTimestamp for SendingTime-like fields."""
    return time.strftime("%Y%m%d-%H:%M:%S.000", time.gmtime())


def fix_message(
    comp_id: str,
    seq: int,
    msg_type: str,
    fields: Sequence[tuple[int, str]] = (),
    *,
    poss_dup: bool = False,
    orig_sending_time: str | None = None,
    target: str = "PYENGINE",
) -> bytes:
    """One FIX 4.4 message from ``comp_id`` encoded by simplefix (BodyLength and CheckSum computed by it)."""
    m = simplefix.FixMessage()
    m.append_pair(8, "FIX.4.4")
    m.append_pair(35, msg_type)
    m.append_pair(49, comp_id)
    m.append_pair(56, target)
    m.append_pair(34, seq)
    if poss_dup:
        m.append_pair(43, "Y")
        m.append_pair(122, orig_sending_time or ts())
    m.append_utc_timestamp(52, precision=3)
    for tag, value in fields:
        m.append_pair(tag, value)
    out: bytes = m.encode()
    return out


class WireClient(Client):
    """A :class:`Client` that also builds messages with explicit MsgSeqNum, header fields and raw bytes."""

    def build(
        self,
        msg_type: str,
        fields: Sequence[tuple[int, str]] = (),
        *,
        seq: int | None = None,
        poss_dup: bool = False,
        orig_sending_time: str | None = None,
        sender: str | None = None,
        target: str = "PYENGINE",
    ) -> bytes:
        """Encode one message with simplefix; ``seq=None`` takes (and advances) the client's next MsgSeqNum."""
        if seq is None:
            seq = self.seq
            self.seq += 1
        return fix_message(
            sender or self.comp_id,
            seq,
            msg_type,
            fields,
            poss_dup=poss_dup,
            orig_sending_time=orig_sending_time,
            target=target,
        )

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_msg(
        self,
        msg_type: str,
        fields: Sequence[tuple[int, str]] = (),
        *,
        seq: int | None = None,
        poss_dup: bool = False,
        orig_sending_time: str | None = None,
        target: str = "PYENGINE",
    ) -> None:
        self.send_raw(
            self.build(msg_type, fields, seq=seq, poss_dup=poss_dup, orig_sending_time=orig_sending_time, target=target)
        )

    def logon_resume(
        self, username: str = "demo", password: str = "demo", heartbeat: int = 30
    ) -> simplefix.FixMessage | None:
        """Logon without ResetSeqNumFlag: the session's persisted sequence numbers continue."""
        self.send_msg("A", [(98, "0"), (108, str(heartbeat)), (553, username), (554, password)])
        return self.recv()

    def next_msg(self, timeout: float = 5.0) -> simplefix.FixMessage:
        msg = self.recv(timeout)
        assert msg is not None, "connection closed"
        return msg

    def ping(self, req_id: str) -> simplefix.FixMessage:
        """TestRequest, then the next message must be the Heartbeat answering it (nothing came in between)."""
        self.send_msg("1", [(112, req_id)])
        hb = self.next_msg()
        assert hb.get(35) == b"0" and hb.get(112) == req_id.encode(), f"expected Heartbeat {req_id}, got {hb}"
        return hb

    def until_closed(self, timeout: float = 10.0) -> list[simplefix.FixMessage]:
        """Every message received until the gateway closes the connection."""
        out: list[simplefix.FixMessage] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = self.recv(max(0.01, deadline - time.monotonic()))
            except ConnectionResetError:
                return out
            if msg is None:
                return out
            out.append(msg)


def fix_str(msg: simplefix.FixMessage, tag: int) -> str | None:
    """A field of a simplefix message as str (None when absent)."""
    v = msg.get(tag)
    return None if v is None else str(v.decode())
