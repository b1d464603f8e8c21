"""The gateway server over real TCP on 127.0.0.1, driven by messages built with simplefix."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import simplefix  # type: ignore[import-untyped]

from pyengine.gateway.config import load_config
from pyengine.gateway.server import Gateway


class _Running:
    def __init__(self, tmp: Path) -> None:
        config = load_config(["--data-dir", str(tmp)], env={})
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
    running = _Running(tmp_path_factory.mktemp("gw"))
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


def _client(gw: Gateway, comp_id: str, user: str = "demo") -> Client:
    c = Client(gw.fix_port, comp_id)
    msg = c.logon(user, user)
    assert msg is not None and msg.get(35) == b"A"
    return c


def test_logon_ok_and_bad_password(gateway: Gateway) -> None:
    c = _client(gateway, "C_LOGON")
    c.close()
    bad = Client(gateway.fix_port, "C_BAD")
    msg = bad.logon("demo", "wrong")
    assert msg is not None and msg.get(35) == b"5"
    assert bad.recv() is None  # disconnected
    bad.close()


def test_order_ack_trade_cancel(gateway: Gateway) -> None:
    a = _client(gateway, "C_A", "demo")
    b = _client(gateway, "C_B", "demo2")
    a.order("A1", "1", 10, "100.00", a1="DEMO1")
    ack = a.recv_type(b"8")
    assert ack.get(150) == b"0" and ack.get(39) == b"0" and ack.get(11) == b"A1" and ack.get(151) == b"10"
    b.order("B1", "2", 4, "100.00")
    taker = b.recv_type(b"8")
    assert taker.get(150) == b"0"
    taker = b.recv_type(b"8")
    assert taker.get(150) == b"F" and taker.get(39) == b"2" and taker.get(31) == b"100.00" and taker.get(32) == b"4"
    maker = a.recv_type(b"8")
    assert maker.get(150) == b"F" and maker.get(39) == b"1" and maker.get(11) == b"A1"
    assert maker.get(14) == b"4" and maker.get(151) == b"6" and maker.get(6) == b"100.00"
    a.send("F", [(11, "A1C"), (41, "A1"), (55, "ACME"), (54, "1"), (38, "10")])
    cxl = a.recv_type(b"8")
    assert cxl.get(150) == b"4" and cxl.get(39) == b"4" and cxl.get(11) == b"A1C" and cxl.get(41) == b"A1"
    a.send("F", [(11, "X2"), (41, "NOPE"), (55, "ACME"), (54, "1"), (38, "10")])
    assert a.recv_type(b"9").get(102) == b"1"
    a.order("A1", "1", 1, "99.00")  # duplicate ClOrdID
    dup = a.recv_type(b"8")
    assert dup.get(150) == b"8" and dup.get(103) == b"6"
    a.close()
    b.close()


def test_unknown_symbol_off_tick_and_wrong_account(gateway: Gateway) -> None:
    c = _client(gateway, "C_REJ")
    c.order("U1", "1", 1, "1.00", symbol="NOPE")
    j = c.recv_type(b"j")
    assert j.get(380) == b"2" and j.get(379) == b"U1"
    c.order("T1", "1", 1, "100.001")
    r = c.recv_type(b"8")
    assert r.get(150) == b"8" and r.get(39) == b"8" and b"decimals" in r.get(58)
    c.order("T2", "1", 1, "100.25", symbol="BTC-USD")  # tick 50 units = 0.50
    r = c.recv_type(b"8")
    assert r.get(150) == b"8" and b"tick" in r.get(58)
    c.order("T3", "1", 1, "100.00", a1="DEMO2")
    r = c.recv_type(b"8")
    assert r.get(150) == b"8" and b"DEMO2" in r.get(58)
    c.close()


def test_health_and_metrics(gateway: Gateway) -> None:
    for path, check in (("/health", b'"status": "ok"'), ("/metrics", b"pyengine_journal_seq")):
        with socket.create_connection(("127.0.0.1", gateway.http_port), timeout=5) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and check in body
        if path == "/health":
            assert json.loads(body)["status"] == "ok"


def test_help_exits_zero() -> None:
    r = subprocess.run([sys.executable, "-m", "pyengine.gateway", "--help"], capture_output=True, timeout=30)
    assert r.returncode == 0 and b"--fix-port" in r.stdout
