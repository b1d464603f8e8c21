"""ClOrdIDs, ownership and fills survive a gateway restart; reports for an absent session wait in its store."""

from __future__ import annotations

from pathlib import Path

import pytest
from gatewaykit import Client, RunningGateway

from pyengine.gateway.orderlog import OrderLog, OrderState
from pyengine.gateway.orderstates import OrderStates

_TS = "20260101-00:00:00.000"


def _logon(port: int, comp_id: str, user: str, *, reset: bool = True, seq: int = 1) -> tuple[Client, object]:
    c = Client(port, comp_id)
    c.seq = seq
    fields = [(98, "0"), (108, "30"), (553, user), (554, user)]
    if reset:
        fields.insert(2, (141, "Y"))
    c.send("A", fields)
    msg = c.recv()
    assert msg is not None and msg.get(35) == b"A", msg
    return c, msg


def test_clordids_survive_restart(tmp_path: Path) -> None:
    running = RunningGateway(tmp_path)
    try:
        a, _ = _logon(running.gw.fix_port, "OL_A", "demo")
        a.order("R1", "1", 5, "50.00")
        ack = a.recv_type(b"8")
        assert ack.get(150) == b"0"
        order_id = ack.get(37)
        a.send("G", [(11, "R1b"), (41, "R1"), (55, "ACME"), (54, "1"), (38, "4"), (40, "2"), (44, "50.00"), (60, _TS)])
        assert a.recv_type(b"8").get(150) == b"5"
        a.close()
    finally:
        running.stop()
    running = RunningGateway(tmp_path)
    try:
        a, _ = _logon(running.gw.fix_port, "OL_A", "demo")
        for used in ("R1", "R1b"):  # both ClOrdIDs are still taken
            a.order(used, "1", 1, "49.00")
            dup = a.recv_type(b"8")
            assert dup.get(150) == b"8" and dup.get(103) == b"6"
        a.send("H", [(11, "R1b"), (55, "ACME"), (54, "1")])
        st = a.recv_type(b"8")
        assert st.get(150) == b"I" and st.get(39) == b"0" and st.get(37) == order_id and st.get(151) == b"4"
        a.send("F", [(11, "R1C"), (41, "R1b"), (55, "ACME"), (54, "1"), (38, "4")])
        cxl = a.recv_type(b"8")
        assert cxl.get(150) == b"4" and cxl.get(41) == b"R1b" and cxl.get(37) == order_id
        a.close()
    finally:
        running.stop()


def test_fill_while_away_is_resent_after_logon(tmp_path: Path) -> None:
    running = RunningGateway(tmp_path)
    try:
        port = running.gw.fix_port
        a, _ = _logon(port, "OL_AWAY", "demo")
        a.order("W1", "2", 3, "60.00")
        assert a.recv_type(b"8").get(150) == b"0"
        a.send("5", [])  # clean logout: the session's sequence numbers stay
        next_seq = a.seq
        assert a.recv_type(b"5") is not None
        a.close()
        b, _ = _logon(port, "OL_TAKER", "demo2")
        b.order("T1", "1", 3, "60.00")
        assert [b.recv_type(b"8").get(150) for _ in range(2)] == [b"0", b"F"]
        b.close()
        a, logon = _logon(port, "OL_AWAY", "demo", reset=False, seq=next_seq)
        # our Logon's MsgSeqNum is one past the stored fill: the client sees the gap and asks for it
        gap_start = int(logon.get(34)) - 1  # type: ignore[attr-defined]
        a.send("2", [(7, str(gap_start)), (16, "0")])
        fill = a.recv_type(b"8")
        assert fill.get(150) == b"F" and fill.get(11) == b"W1" and fill.get(43) == b"Y" and fill.get(32) == b"3"
        a.close()
    finally:
        running.stop()


def test_order_log_torn_tail_malformed_and_compaction(tmp_path: Path) -> None:
    path = tmp_path / "orders.log"
    log = OrderLog(path)
    s = OrderState(7, "S1", "C1", "ACME", "buy", "DEMO1", 10)
    log.alias("S1", "C1", 7)
    log.state(s)
    s.cum_qty, s.notional, s.status = 4, 400, "1"
    log.state(s)
    log.close()
    with open(path, "a") as f:
        f.write("S\t8\tS1\tC2")  # a crash in the middle of a line
    log = OrderLog(path)
    assert list(log.states) == [7] and log.states[7].cum_qty == 4 and log.aliases == [("S1", "C1", 7)]
    log.close()
    assert path.read_text().count("\n") == 2  # compacted: one state per order, plus the alias
    path.write_text("S\tnot-a-number\n")
    with pytest.raises(ValueError, match="line 1: malformed record"):
        OrderLog(path)
    path.write_text("X\t1\n")
    with pytest.raises(ValueError, match="line 1"):
        OrderLog(path)


def test_done_orders_beyond_the_retention_are_forgotten_live_ones_never(tmp_path: Path) -> None:
    running = RunningGateway(tmp_path, argv=("--done-orders-kept", "2"))
    try:
        a, _ = _logon(running.gw.fix_port, "KEEP_A", "demo")
        a.order("LIVE", "1", 1, "10.00")  # rests all along
        assert a.recv_type(b"8").get(150) == b"0"
        for i in range(4):  # four orders done (cancelled), oldest first
            a.order(f"D{i}", "1", 1, "11.00")
            a.recv_type(b"8")
            a.send("F", [(11, f"X{i}"), (41, f"D{i}"), (55, "ACME"), (54, "1"), (38, "1")])
            assert a.recv_type(b"8").get(150) == b"4"
        a.send("H", [(11, "D0"), (55, "ACME"), (54, "1")])
        assert a.recv_type(b"8").get(58) == b"unknown order", "forgotten: beyond the newest 2"
        a.send("H", [(11, "D3"), (55, "ACME"), (54, "1")])
        assert a.recv_type(b"8").get(39) == b"4", "kept: among the newest 2"
        a.send("H", [(11, "LIVE"), (55, "ACME"), (54, "1")])
        assert a.recv_type(b"8").get(39) == b"0", "a live order is never forgotten"
        a.order("D3", "1", 1, "11.00")
        assert a.recv_type(b"8").get(103) == b"6", "a kept ClOrdID is still a duplicate"
        a.close()
    finally:
        running.stop()
    # The log keeps the same window across a restart (compacted on load).
    log = OrderLog(tmp_path / "orders.log", keep_done=2)
    kept = {s.cl_ord_id for s in log.states.values()}
    log.close()
    assert "LIVE" in kept and "D0" not in kept and "D1" not in kept and len(kept) == 3


def test_order_states_evict_the_oldest_done_orders() -> None:
    states = OrderStates(max_done=2)
    for i in range(4):
        states.add(OrderState(i, "S", f"C{i}", "ACME", "buy", "acc", 1, done=True))
    assert [f[1] for f in states.forgotten] == ["C0", "C1"]
    assert states.get(0) is None and states.get(3) is not None and len(states) == 2
    with pytest.raises(ValueError, match="max_done"):
        OrderStates(max_done=-1)


def test_fill_records_update_the_logged_order(tmp_path: Path) -> None:
    path = tmp_path / "orders.log"
    log = OrderLog(path)
    s = OrderState(9, "S1", "C9", "ACME", "sell", "DEMO2", 10)
    log.state(s)
    s.cum_qty, s.notional, s.status = 4, 400, "1"
    log.fill(s)
    s.cum_qty, s.notional, s.status, s.done = 10, 1006, "2", True
    log.fill(s)
    log.close()
    with open(path, "a") as f:
        f.write("F\t12345\t1\t100\t1\t0\n")  # an order this log never had (forgotten at a compaction): ignored
    log = OrderLog(path)
    got = log.states[9]
    assert (got.cum_qty, got.notional, got.status, got.done) == (10, 1006, "2", True)
    assert list(log.states) == [9]
    log.close()
    path.write_text("S\t9\tS1\tC9\tACME\tsell\tDEMO2\t10\t0\t0\t0\t0\nF\t9\tx\t1\t1\t0\n")
    with pytest.raises(ValueError, match="line 2: malformed record"):
        OrderLog(path)
