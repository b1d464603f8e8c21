"""OrderCancelReplaceRequest (G), OrderStatusRequest (H) and OrderMassCancelRequest (q) over real TCP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import simplefix  # type: ignore[import-untyped]
from gatewaykit import Client, RunningGateway, gateway, logged_on

from pyengine.gateway.server import Gateway

__all__ = ["gateway"]  # the module-scoped fixture, re-used


def _ts() -> str:
    return time.strftime("%Y%m%d-%H:%M:%S.000", time.gmtime())


def _replace(c: Client, cl: str, orig: str, qty: int, price: str, symbol: str = "ACME", side: str = "1") -> None:
    c.send("G", [(11, cl), (41, orig), (55, symbol), (54, side), (38, str(qty)), (40, "2"), (44, price), (60, _ts())])


def _status(c: Client, cl: str, symbol: str = "ACME", **extra: str) -> simplefix.FixMessage:
    fields = [(11, cl), (55, symbol), (54, "1")] + [(int(k[1:]), v) for k, v in extra.items()]
    c.send("H", fields)
    return c.recv_type(b"8")


@pytest.fixture
def fresh_gateway(tmp_path: Path) -> Iterator[Gateway]:
    running = RunningGateway(tmp_path)
    yield running.gw
    running.stop()


def test_replace_qty_and_price(gateway: Gateway) -> None:
    a = logged_on(gateway, "G_A")
    a.order("R1", "1", 10, "100.00")
    assert a.recv_type(b"8").get(150) == b"0"
    _replace(a, "R2", "R1", 15, "100.50")
    rep = a.recv_type(b"8")
    assert rep.get(150) == b"5" and rep.get(39) == b"0"
    assert rep.get(11) == b"R2" and rep.get(41) == b"R1" and rep.get(38) == b"15" and rep.get(151) == b"15"
    assert rep.get(44) == b"100.50"
    # the new ClOrdID names the order now: status by R2, then replace again by R2
    st = _status(a, "R2")
    assert st.get(150) == b"I" and st.get(39) == b"0" and st.get(151) == b"15" and st.get(14) == b"0"
    assert st.get(44) == b"100.50"
    # partial fill, then reduce the total quantity: leaves = new qty - cum qty
    b = logged_on(gateway, "G_B", "demo2")
    b.order("S1", "2", 5, "100.50")
    assert a.recv_type(b"8").get(150) == b"F"
    _replace(a, "R3", "R2", 8, "100.50")
    rep = a.recv_type(b"8")
    assert rep.get(150) == b"5" and rep.get(39) == b"1" and rep.get(14) == b"5" and rep.get(151) == b"3"
    # reduce to exactly the filled quantity: the order is done (Filled)
    _replace(a, "R4", "R3", 5, "100.50")
    rep = a.recv_type(b"8")
    assert rep.get(150) == b"5" and rep.get(39) == b"2" and rep.get(151) == b"0"
    st = _status(a, "R4")
    assert st.get(150) == b"I" and st.get(39) == b"2" and st.get(14) == b"5" and st.get(151) == b"0"
    # a done order cannot be replaced
    _replace(a, "R5", "R4", 9, "100.50")
    rej = a.recv_type(b"9")
    assert rej.get(434) == b"2" and rej.get(39) == b"2"
    a.close()
    b.close()


def test_replace_rejects(gateway: Gateway) -> None:
    a = logged_on(gateway, "G_REJ")
    _replace(a, "X1", "NOPE", 5, "100.00")
    rej = a.recv_type(b"9")
    assert rej.get(434) == b"2" and rej.get(102) == b"1" and rej.get(39) == b"8" and rej.get(41) == b"NOPE"
    a.order("P1", "1", 10, "99.00")
    ack = a.recv_type(b"8")
    _replace(a, "P2", "P1", 10, "99.001")  # off the price scale: rejected, never rounded
    rej = a.recv_type(b"9")
    assert rej.get(434) == b"2" and rej.get(39) == b"0" and b"Price(44)" in rej.get(58)
    _replace(a, "P1", "P1", 10, "99.50")  # duplicate ClOrdID
    assert a.recv_type(b"9").get(102) == b"6"
    # another account's order, named by OrderID(37): rejected, the order is untouched
    b = logged_on(gateway, "G_REJ_B", "demo2")
    b.send("G", [(11, "Z1"), (41, "P1"), (37, ack.get(37).decode()), (55, "ACME"), (54, "1"), (38, "1"),
                 (40, "2"), (44, "99.00"), (60, _ts())])  # fmt: skip
    rej = b.recv_type(b"9")
    assert rej.get(434) == b"2" and rej.get(102) == b"3"
    b.send("F", [(11, "Z2"), (41, "P1"), (37, ack.get(37).decode()), (55, "ACME"), (54, "1"), (38, "10")])
    rej = b.recv_type(b"9")
    assert rej.get(434) == b"1" and rej.get(102) == b"3"
    st = _status(b, "P1", o37=ack.get(37).decode())
    assert st.get(150) == b"I" and st.get(39) == b"8" and st.get(58) == b"not your order" and st.get(1) is None
    st = _status(a, "P1")
    assert st.get(39) == b"0" and st.get(151) == b"10" and st.get(44) == b"99.00"
    a.close()
    b.close()


def test_status_unknown_and_cancelled(gateway: Gateway) -> None:
    a = logged_on(gateway, "G_ST")
    st = _status(a, "NOPE", o790="REQ1")
    assert st.get(150) == b"I" and st.get(39) == b"8" and st.get(58) == b"unknown order" and st.get(790) == b"REQ1"
    a.order("C1", "1", 3, "98.00")
    a.recv_type(b"8")
    a.send("F", [(11, "C2"), (41, "C1"), (55, "ACME"), (54, "1"), (38, "3")])
    assert a.recv_type(b"8").get(150) == b"4"
    st = _status(a, "C1")  # the last known status of a finished order
    assert st.get(150) == b"I" and st.get(39) == b"4" and st.get(151) == b"0"
    a.close()


def test_mass_cancel(fresh_gateway: Gateway) -> None:
    a = logged_on(fresh_gateway, "M_A")
    b = logged_on(fresh_gateway, "M_B", "demo2")
    a.order("M1", "1", 1, "97.00")
    a.order("M2", "1", 2, "96.00")
    a.order("M3", "1", 3, "1000.00", symbol="BTC-USD")
    b.order("N1", "1", 4, "95.00")
    for c in (a, a, a, b):
        assert c.recv_type(b"8").get(150) == b"0"
    a.send("q", [(11, "MC1"), (530, "1"), (55, "ACME"), (60, _ts())])
    rep = a.recv_type(b"r")
    assert rep.get(11) == b"MC1" and rep.get(530) == b"1" and rep.get(531) == b"1" and rep.get(533) == b"2"
    cancelled = {a.recv_type(b"8").get(11) for _ in range(2)}
    assert cancelled == {b"M1", b"M2"}
    a.send("q", [(11, "MC2"), (530, "5"), (60, _ts())])  # valid FIX, unsupported here
    rep = a.recv_type(b"r")
    assert rep.get(531) == b"0" and rep.get(532) == b"0" and rep.get(533) == b"0"
    a.send("q", [(11, "MC3"), (530, "1"), (55, "NOPE"), (60, _ts())])
    rep = a.recv_type(b"r")
    assert rep.get(531) == b"0" and rep.get(532) == b"1"
    a.send("q", [(11, "MC4"), (530, "7"), (1, "DEMO2"), (60, _ts())])  # not this user's account
    assert a.recv_type(b"r").get(531) == b"0"
    a.send("q", [(11, "MC5"), (530, "7"), (60, _ts())])
    rep = a.recv_type(b"r")
    assert rep.get(531) == b"7" and rep.get(533) == b"1"
    er = a.recv_type(b"8")
    assert er.get(11) == b"M3" and er.get(150) == b"4" and er.get(39) == b"4"
    assert _status(a, "M3", symbol="BTC-USD").get(39) == b"4"
    # the other account's order is untouched
    st = _status(b, "N1")
    assert st.get(39) == b"0" and st.get(151) == b"4"
    a.close()
    b.close()
