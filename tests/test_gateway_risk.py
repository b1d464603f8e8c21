"""Pre-trade risk, rate limits, the admin kill switch, cancel-on-disconnect and STP over real TCP."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gatewaykit import Client, RunningGateway

from pyengine.gateway.auth import hash_password
from pyengine.gateway.config import AccountLimits, Instrument, load_config
from pyengine.gateway.risk import KillSwitch, RiskGate, RiskReject, TokenBucket
from pyengine.gateway.server import Gateway

_CONFIG = """
[[instruments]]
symbol = "ACME"
price_scale = 2

[[accounts]]
name = "A1"
limits = {{ max_order_qty = 100, max_notional = 5000, price_collar_bps = 1000, max_open_orders = 3 }}

[[accounts]]
name = "A2"

[[users]]
username = "alice"
password_hash = "{alice}"
accounts = ["A1"]

[[users]]
username = "bob"
password_hash = "{bob}"
accounts = ["A2"]
cancel_on_disconnect = true

[[users]]
username = "slow"
password_hash = "{slow}"
accounts = ["A2"]
rate_limit = 1.0
rate_burst = 3

[[users]]
username = "root"
password_hash = "{root}"
admin = true
"""


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("risk")
    running = _start(tmp)
    yield running.gw
    running.stop()


def _start(tmp: Path) -> RunningGateway:
    cfg_path = tmp / "gateway.toml"
    if not cfg_path.exists():
        hashes = {name: hash_password(f"{name}-pw") for name in ("alice", "bob", "slow", "root")}
        cfg_path.write_text(_CONFIG.format(**hashes))
    config = load_config(["--config", str(cfg_path), "--data-dir", str(tmp / "data")], env={})
    return RunningGateway(tmp, config=config)


def _logon(gw: Gateway, comp_id: str, user: str) -> Client:
    c = Client(gw.fix_port, comp_id)
    msg = c.logon(user, f"{user}-pw")
    assert msg is not None and msg.get(35) == b"A", msg
    return c


def _reject_text(c: Client) -> bytes:
    r = c.recv_type(b"8")
    assert r.get(150) == b"8" and r.get(39) == b"8", r
    return bytes(r.get(58))


def _http(gw: Gateway, method: str, path: str, body: object = None, auth: str | None = None) -> tuple[int, dict]:
    raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(raw)}\r\n"
    if auth is not None:
        head += f"Authorization: {auth}\r\n"
    with socket.create_connection(("127.0.0.1", gw.http_port), timeout=5) as s:
        s.sendall(head.encode() + b"\r\n" + raw)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    payload = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), json.loads(payload)


def _mass_cancel(c: Client, cl_ord_id: str) -> None:
    c.send("q", [(11, cl_ord_id), (530, "7"), (60, "20260101-00:00:00.000")])


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# --- limits -----------------------------------------------------------------------------------------


def test_max_order_qty_notional_and_open_orders(gw: Gateway) -> None:
    c = _logon(gw, "R_LIM", "alice")
    c.order("Q1", "1", 101, "1.00")
    assert _reject_text(c).startswith(b"max_order_qty: quantity 101")
    c.order("N1", "1", 100, "50.01")  # 5001.00 > 5000
    assert _reject_text(c).startswith(b"max_notional: 100 x 50.01")
    for i in range(3):
        c.order(f"O{i}", "1", 1, "1.00")
        assert c.recv_type(b"8").get(150) == b"0"
    c.order("O3", "1", 1, "1.00")
    assert _reject_text(c).startswith(b"max_open_orders: account A1 already has 3")
    c.send("F", [(11, "O0C"), (41, "O0"), (55, "ACME"), (54, "1"), (38, "1")])
    assert c.recv_type(b"8").get(150) == b"4"
    c.order("O4", "1", 1, "1.00")  # a slot is free again
    assert c.recv_type(b"8").get(150) == b"0"
    _mass_cancel(c, "MC")
    assert c.recv_type(b"r").get(533) == b"3"
    c.close()


def test_price_collar_around_last_trade(gw: Gateway) -> None:
    a = _logon(gw, "R_COL_A", "alice")
    b = _logon(gw, "R_COL_B", "bob")
    a.order("C1", "1", 1, "10.00")  # no trade yet: no collar
    assert a.recv_type(b"8").get(150) == b"0"
    b.order("C2", "2", 1, "10.00")
    b.recv_type(b"8")
    a.recv_type(b"8")  # A1's fill
    a.order("C3", "1", 1, "11.01")  # 10.1% above the last trade 10.00
    assert _reject_text(a).startswith(b"price_collar: price 11.01 is more than 1000 bps")
    a.order("C4", "1", 1, "9.00")  # exactly 10% away: allowed
    assert a.recv_type(b"8").get(150) == b"0"
    a.send(
        "G",
        [
            (11, "C4R"),
            (41, "C4"),
            (55, "ACME"),
            (54, "1"),
            (38, "1"),
            (44, "8.99"),
            (40, "2"),
            (60, "20260101-00:00:00.000"),
        ],
    )
    rej = a.recv_type(b"9")
    assert rej.get(434) == b"2" and rej.get(58).startswith(b"price_collar:")
    _mass_cancel(a, "MC2")
    a.recv_type(b"r")
    a.close()
    b.close()


# --- rate limit ---------------------------------------------------------------------------------------


def test_rate_limit_breach_rejects_and_isolates(gw: Gateway) -> None:
    slow = _logon(gw, "R_SLOW", "slow")
    other = _logon(gw, "R_OTHER", "bob")
    for i in range(6):  # burst of 3, then 1/s: the tail is refused
        slow.order(f"S{i}", "1", 1, "1.00")
    answers = [slow.recv_type(b"8") for _ in range(6)]
    rejected = [m for m in answers if m.get(150) == b"8"]
    assert len(rejected) >= 2
    assert all(m.get(58).startswith(b"rate_limit:") for m in rejected)
    slow.send("F", [(11, "SC"), (41, "S0"), (55, "ACME"), (54, "1"), (38, "1")])
    msg = slow.recv()
    assert msg is not None and msg.get(35) in (b"8", b"9")
    other.order("OK1", "1", 1, "1.00")  # another session is not throttled
    assert other.recv_type(b"8").get(150) == b"0"
    _mass_cancel(other, "MC3")
    other.recv_type(b"r")
    slow.close()
    other.close()


# --- kill switch --------------------------------------------------------------------------------------


def test_admin_endpoint_refuses_bad_requests(gw: Gateway) -> None:
    assert _http(gw, "POST", "/admin/kill-switch", {"account": "A1"})[0] == 401
    assert _http(gw, "POST", "/admin/kill-switch", {"account": "A1"}, _basic("root", "wrong"))[0] == 401
    assert _http(gw, "POST", "/admin/kill-switch", {"account": "A1"}, "Basic !!!")[0] == 401
    status, body = _http(gw, "POST", "/admin/kill-switch", {"account": "A1"}, _basic("alice", "alice-pw"))
    assert status == 403 and "not an admin" in body["error"]
    root = _basic("root", "root-pw")
    status, body = _http(gw, "POST", "/admin/kill-switch", b"{not json", root)
    assert status == 400 and "JSON" in body["error"]
    assert _http(gw, "POST", "/admin/kill-switch", {"acct": "A1"}, root)[0] == 400
    status, body = _http(gw, "POST", "/admin/kill-switch", {"account": "NOPE"}, root)
    assert status == 404 and "NOPE" in body["error"]
    assert _http(gw, "DELETE", "/admin/enable", {"account": "A1"}, root)[0] == 405
    assert _http(gw, "GET", "/admin/nothing", None, root)[0] == 404


def test_kill_switch_cancels_disables_and_reenables(gw: Gateway) -> None:
    a = _logon(gw, "R_KILL", "alice")
    a.order("K1", "1", 1, "10.00")
    assert a.recv_type(b"8").get(150) == b"0"
    root = _basic("root", "root-pw")
    status, body = _http(gw, "POST", "/admin/kill-switch", {"account": "A1"}, root)
    assert status == 200 and body == {"account": "A1", "disabled": True, "cancelled": 1}
    cxl = a.recv_type(b"8")
    assert cxl.get(150) == b"4" and cxl.get(11) == b"K1"
    assert _http(gw, "GET", "/admin/kill-switch", None, root) == (200, {"disabled": ["A1"]})
    a.order("K2", "1", 1, "10.00")
    assert _reject_text(a).startswith(b"kill_switch: account A1 is disabled")
    status, body = _http(gw, "POST", "/admin/enable", {"account": "A1"}, root)
    assert status == 200 and body == {"account": "A1", "disabled": False}
    a.order("K3", "1", 1, "10.00")
    assert a.recv_type(b"8").get(150) == b"0"
    _mass_cancel(a, "MC4")
    a.recv_type(b"r")
    a.close()


def test_kill_switch_survives_restart(tmp_path: Path) -> None:
    running = _start(tmp_path)
    try:
        status, _ = _http(running.gw, "POST", "/admin/kill-switch", {"account": "A1"}, _basic("root", "root-pw"))
        assert status == 200
    finally:
        running.stop()
    running = _start(tmp_path)
    try:
        a = _logon(running.gw, "R_KR", "alice")
        a.order("KR1", "1", 1, "1.00")
        assert _reject_text(a).startswith(b"kill_switch:")
        a.close()
    finally:
        running.stop()


# --- cancel-on-disconnect and STP ---------------------------------------------------------------------


def test_cancel_on_disconnect(gw: Gateway) -> None:
    b = _logon(gw, "R_COD", "bob")
    b.order("D1", "2", 5, "10.50")
    assert b.recv_type(b"8").get(150) == b"0"
    a = _logon(gw, "R_COD_A", "alice")
    a.order("D2", "2", 5, "10.50")  # alice's order stays: she has no cancel-on-disconnect
    assert a.recv_type(b"8").get(150) == b"0"
    b.close()
    assert gw.engine is not None
    for _ in range(200):
        if not gw.engine.open_orders("A2"):
            break
        time.sleep(0.01)
    assert gw.engine.open_orders("A2") == []
    assert len(gw.engine.open_orders("A1")) == 1
    _mass_cancel(a, "MC5")
    a.recv_type(b"r")
    a.close()


def test_self_trade_prevention_tag(gw: Gateway) -> None:
    a = _logon(gw, "R_STP", "alice")
    a.order("P1", "2", 1, "10.60")
    assert a.recv_type(b"8").get(150) == b"0"
    a.order("P2", "1", 1, "10.60", t7928="N")  # cancel newest: P2 is cancelled, P1 rests
    msgs = [a.recv_type(b"8") for _ in range(2)]
    assert [m.get(150) for m in msgs] == [b"0", b"4"] and msgs[1].get(11) == b"P2" and b"stp" in msgs[1].get(58)
    a.order("P3", "1", 1, "10.60", t7928="Z")
    assert b"SelfTradePreventionMode(7928)" in _reject_text(a)
    _mass_cancel(a, "MC6")
    a.recv_type(b"r")
    a.close()


# --- units --------------------------------------------------------------------------------------------


def test_token_bucket() -> None:
    b = TokenBucket(2.0, 3, now=0.0)
    assert [b.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert b.take(0.5) and not b.take(0.5)
    assert [b.take(100.0) for _ in range(4)] == [True, True, True, False]  # never more than the burst
    with pytest.raises(ValueError, match="rate > 0"):
        TokenBucket(0.0, 1)


def test_risk_gate_arithmetic_is_exact(tmp_path: Path) -> None:
    config = load_config(["--data-dir", str(tmp_path)], env={})
    gate = RiskGate(config, KillSwitch(tmp_path / "k.json"))
    gate.limits["X"] = AccountLimits(max_notional=1)
    gate.limits["Y"] = AccountLimits(price_collar_bps=1)
    inst = Instrument("T", price_scale=2)
    gate.check_order("X", inst, 1, 100, None, last_trade=None, far_touch=None, new_order=True)  # 1.00 x 1
    with pytest.raises(RiskReject, match="max_notional"):
        gate.check_order("X", inst, 1, 101, None, last_trade=None, far_touch=None, new_order=True)
    gate.check_order("Y", inst, 1, 10001, None, last_trade=10000, far_touch=None, new_order=False)
    with pytest.raises(RiskReject, match="price_collar"):
        gate.check_order("Y", inst, 1, 10002, None, last_trade=10000, far_touch=None, new_order=False)
    with pytest.raises(RiskReject, match="max_notional"):  # a market order is valued at the far touch
        gate.check_order("X", inst, 2, None, None, last_trade=None, far_touch=100, new_order=True)


def test_kill_switch_state_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "k.json"
    bad.write_text("[1, 2")
    with pytest.raises(ValueError, match="unreadable"):
        KillSwitch(bad)
    bad.write_text('{"disabled": "A1"}')
    with pytest.raises(ValueError, match="expected"):
        KillSwitch(bad)
