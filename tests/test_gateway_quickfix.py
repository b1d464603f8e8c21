"""A QuickFIX initiator (the reference C++ FIX engine, through its Python binding) against the gateway.

QuickFIX logs on (Username/Password set in ``toAdmin``), sends a NewOrderSingle that trades against liquidity a
simplefix session put up, cancels the rest and logs out; it validates every message it receives against its own
FIX44 data dictionary, so a report the gateway gets wrong fails here even when our own parser would accept it.

Skipped when ``quickfix`` is not installed. PyPI has only an sdist (a C++ build of several minutes)::

    pip install quickfix==1.16.0      # ~6 min on a 2-core machine; needs g++ and the Python headers

Settings: ``tests/quickfix/initiator.cfg`` (a template; the test fills in the port and directories).
"""

from __future__ import annotations

import queue
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gatewaykit import RunningGateway, WireClient, ts

from pyengine.gateway.server import Gateway

fix = pytest.importorskip("quickfix")
fix44 = pytest.importorskip("quickfix44")

CFG = Path(__file__).parent / "quickfix" / "initiator.cfg"
SENDER = "QF_CLIENT"


def _dictionary() -> Path:
    for base in (Path(sys.prefix), Path(sys.base_prefix), Path(fix.__file__).parent):
        for path in (base / "share" / "quickfix" / "FIX44.xml", base / "FIX44.xml"):
            if path.is_file():
                return path
    pytest.skip("quickfix is installed but its FIX44.xml data dictionary was not found")


class App(fix.Application):  # type: ignore[misc]
    """Collects what the session does; QuickFIX calls these from its own thread."""

    def __init__(self, username: str, password: str) -> None:
        super().__init__()
        self.username = username
        self.password = password
        self.events: queue.Queue[tuple[str, object]] = queue.Queue()

    def onCreate(self, session_id: object) -> None:
        self.session_id = session_id

    def onLogon(self, session_id: object) -> None:
        self.events.put(("logon", None))

    def onLogout(self, session_id: object) -> None:
        self.events.put(("logout", None))

    def toAdmin(self, message: object, session_id: object) -> None:
        msg_type = fix.MsgType()
        message.getHeader().getField(msg_type)  # type: ignore[attr-defined]
        if msg_type.getValue() == fix.MsgType_Logon:
            message.setField(fix.Username(self.username))  # type: ignore[attr-defined]
            message.setField(fix.Password(self.password))  # type: ignore[attr-defined]

    def fromAdmin(self, message: object, session_id: object) -> None:
        msg_type = fix.MsgType()
        message.getHeader().getField(msg_type)  # type: ignore[attr-defined]
        if msg_type.getValue() == fix.MsgType_Reject:
            self.events.put(("reject", message.toString()))  # type: ignore[attr-defined]

    def toApp(self, message: object, session_id: object) -> None:
        pass

    def fromApp(self, message: object, session_id: object) -> None:
        self.events.put(("app", fix.Message(message)))

    def wait(self, kind: str, timeout: float = 10.0) -> object:
        deadline = time.monotonic() + timeout
        while True:
            got, value = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            assert got != "reject", f"QuickFIX received a session Reject: {value}"
            if got == kind:
                return value


def _field(msg: object, tag: int) -> str:
    value: str = msg.getField(tag)  # type: ignore[attr-defined]
    return value


def _exec_report(app: App) -> object:
    msg = app.wait("app")
    header = msg.getHeader()  # type: ignore[attr-defined]
    assert header.getField(35) == "8", msg.toString()  # type: ignore[attr-defined]
    return msg


def _start(gw: Gateway, tmp_path: Path, *, reset: bool) -> tuple[App, object]:
    """A started SocketInitiator (FileStore and FileLog under ``tmp_path``) and its application."""
    cfg = tmp_path / "initiator.cfg"
    cfg.write_text(
        CFG.read_text().format(
            port=gw.fix_port,
            dictionary=_dictionary(),
            store=tmp_path / "store",
            log=tmp_path / "log",
            sender=SENDER,
            reset="Y" if reset else "N",
        )
    )
    settings = fix.SessionSettings(str(cfg))
    app = App("demo", "demo")
    initiator = fix.SocketInitiator(app, fix.FileStoreFactory(settings), settings, fix.FileLogFactory(settings))
    initiator.start()
    return app, initiator


def _new_order(cl: str, qty: int, price: str) -> object:
    nos = fix44.NewOrderSingle()
    nos.setField(fix.ClOrdID(cl))
    nos.setField(fix.Symbol("ACME"))
    nos.setField(fix.Side(fix.Side_BUY))
    nos.setField(fix.TransactTime())
    nos.setField(fix.OrderQty(qty))
    nos.setField(fix.OrdType(fix.OrdType_LIMIT))
    nos.setField(44, price)
    nos.setField(fix.TimeInForce(fix.TimeInForce_GOOD_TILL_CANCEL))
    return nos


SESSION_ID = fix.SessionID("FIX.4.4", SENDER, "PYENGINE")


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    running = RunningGateway(tmp_path / "gw")
    yield running.gw
    running.stop()


def test_quickfix_initiator_trades_cancels_and_logs_out(gw: Gateway, tmp_path: Path) -> None:
    # liquidity from another session (simplefix): sell 4 ACME at 100.00
    maker = WireClient(gw.fix_port, "QF_MAKER")
    reply = maker.logon("demo2", "demo2")
    assert reply is not None and reply.get(35) == b"A"
    maker.send_msg("D", [(11, "MK1"), (55, "ACME"), (54, "2"), (38, "4"), (40, "2"), (44, "100.00"), (60, ts())])
    assert maker.next_msg().get(150) == b"0"

    app, initiator = _start(gw, tmp_path, reset=True)
    try:
        app.wait("logon")
        session_id = SESSION_ID
        assert fix.Session.sendToTarget(_new_order("QF1", 10, "100.00"), session_id)

        ack = _exec_report(app)
        assert (_field(ack, 150), _field(ack, 39), _field(ack, 11)) == ("0", "0", "QF1")
        order_id = _field(ack, 37)
        fill = _exec_report(app)
        assert (_field(fill, 150), _field(fill, 39), _field(fill, 32), _field(fill, 31)) == ("F", "1", "4", "100.00")
        assert (_field(fill, 14), _field(fill, 151), _field(fill, 37)) == ("4", "6", order_id)
        assert maker.next_msg().get(150) == b"F"  # the maker's side of the same trade

        cxl = fix44.OrderCancelRequest()
        cxl.setField(fix.OrigClOrdID("QF1"))
        cxl.setField(fix.ClOrdID("QF2"))
        cxl.setField(fix.Symbol("ACME"))
        cxl.setField(fix.Side(fix.Side_BUY))
        cxl.setField(fix.TransactTime())
        cxl.setField(fix.OrderQty(10))
        assert fix.Session.sendToTarget(cxl, session_id)
        done = _exec_report(app)
        assert (_field(done, 150), _field(done, 39), _field(done, 11), _field(done, 41)) == ("4", "4", "QF2", "QF1")
        assert (_field(done, 14), _field(done, 151)) == ("4", "0")

        # an unknown order: OrderCancelReject, also valid for QuickFIX's dictionary
        cxl.setField(fix.OrigClOrdID("NOPE"))
        cxl.setField(fix.ClOrdID("QF3"))
        assert fix.Session.sendToTarget(cxl, session_id)
        rej = app.wait("app")
        assert rej.getHeader().getField(35) == "9" and _field(rej, 102) == "1"  # type: ignore[attr-defined]

        fix.Session.lookupSession(session_id).logout()
        app.wait("logout")
    finally:
        initiator.stop()  # type: ignore[attr-defined]
    maker.close()


def test_quickfix_resumes_and_recovers_a_fill_by_resend(gw: Gateway, tmp_path: Path) -> None:
    """QuickFIX logs out with a resting order; it fills while QuickFIX is away; on its next Logon (no reset,
    its FileStore's sequence numbers) QuickFIX sees the gap, asks for a resend and accepts the PossDup fill."""
    app, initiator = _start(gw, tmp_path, reset=True)
    try:
        app.wait("logon")
        assert fix.Session.sendToTarget(_new_order("QR1", 3, "100.00"), SESSION_ID)
        ack = _exec_report(app)
        assert (_field(ack, 150), _field(ack, 11)) == ("0", "QR1")
        fix.Session.lookupSession(SESSION_ID).logout()
        app.wait("logout")
    finally:
        initiator.stop()  # type: ignore[attr-defined]
    del initiator, app  # one initiator per SessionID at a time: QuickFIX crashes creating a second one otherwise

    maker = WireClient(gw.fix_port, "QR_MAKER")
    reply = maker.logon("demo2", "demo2")
    assert reply is not None and reply.get(35) == b"A"
    maker.send_msg("D", [(11, "MK1"), (55, "ACME"), (54, "2"), (38, "3"), (40, "2"), (44, "100.00"), (60, ts())])
    assert maker.next_msg().get(150) == b"0"
    assert maker.next_msg().get(150) == b"F"

    app, initiator = _start(gw, tmp_path, reset=False)
    try:
        app.wait("logon")
        fill = _exec_report(app)  # arrives by resend
        assert fill.getHeader().getField(43) == "Y"  # type: ignore[attr-defined]
        assert (_field(fill, 150), _field(fill, 39), _field(fill, 11)) == ("F", "2", "QR1")
        assert _field(fill, 37) == _field(ack, 37)
        assert (_field(fill, 32), _field(fill, 14), _field(fill, 151)) == ("3", "3", "0")
        # the session goes on in sequence
        assert fix.Session.sendToTarget(_new_order("QR2", 1, "99.00"), SESSION_ID)
        assert _field(_exec_report(app), 11) == "QR2"
        fix.Session.lookupSession(SESSION_ID).logout()
        app.wait("logout")
    finally:
        initiator.stop()  # type: ignore[attr-defined]
    maker.close()
