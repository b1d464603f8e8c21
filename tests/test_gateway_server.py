"""The gateway server over real TCP on 127.0.0.1, driven by messages built with simplefix."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from gatewaykit import Client, gateway, logged_on

from pyengine.gateway.server import Gateway

__all__ = ["gateway"]  # the fixture is used by name


def test_logon_ok_and_bad_password(gateway: Gateway) -> None:
    c = logged_on(gateway, "C_LOGON")
    c.close()
    bad = Client(gateway.fix_port, "C_BAD")
    msg = bad.logon("demo", "wrong")
    assert msg is not None and msg.get(35) == b"5"
    assert bad.recv() is None  # disconnected
    bad.close()


def test_order_ack_trade_cancel(gateway: Gateway) -> None:
    a = logged_on(gateway, "C_A", "demo")
    b = logged_on(gateway, "C_B", "demo2")
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
    c = logged_on(gateway, "C_REJ")
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
