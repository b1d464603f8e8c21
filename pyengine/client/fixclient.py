"""A small blocking FIX 4.4 initiator built on the Rust codec (:class:`FixFramer`, :func:`encode_fix`).

::

    from pyengine.client.fixclient import FixClient

    with FixClient("127.0.0.1", 9878, sender="CLIENT", target="PYENGINE", timeout=5) as c:
        c.logon("demo", "demo")
        c.send("D", [(11, "A1"), (55, "ACME"), (54, "1"), (38, 10), (40, "2"), (44, "100.00"), (60, transact_time())])
        msg = c.recv(5.0)          # a FixMessage, or None on timeout; Heartbeat/TestRequest are handled here
        c.logout()

Every failure (connection refused, logon refused, timeout, disconnect) is a :class:`FixClientError` whose
message is meant to be shown to a user as is.
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime
from types import TracebackType
from typing import Final

from pyengine.fix import FixDisconnect, FixFramer, FixGarbled, FixMessage, FixSessionReject, encode_fix

__all__ = ["MSG_NAMES", "FixClient", "FixClientError", "describe", "reply_outcome", "transact_time"]

Fields = list[tuple[int, str | int | bytes]]

MSG_NAMES: Final = {
    "0": "Heartbeat",
    "1": "TestRequest",
    "2": "ResendRequest",
    "3": "Reject",
    "4": "SequenceReset",
    "5": "Logout",
    "A": "Logon",
    "8": "ExecutionReport",
    "9": "OrderCancelReject",
    "j": "BusinessMessageReject",
    "r": "OrderMassCancelReport",
}

_SIDE_NAMES: Final = {"1": "buy", "2": "sell"}
# (tag, label) in print order, per message type; Text (58) always goes last.
_SHOWN: Final[dict[str, tuple[tuple[int, str], ...]]] = {
    "8": (
        (150, "ExecType"),
        (39, "OrdStatus"),
        (11, "ClOrdID"),
        (41, "OrigClOrdID"),
        (37, "OrderID"),
        (1, "Account"),
        (55, "Symbol"),
        (54, "Side"),
        (38, "OrderQty"),
        (44, "Price"),
        (31, "LastPx"),
        (32, "LastQty"),
        (151, "LeavesQty"),
        (14, "CumQty"),
        (6, "AvgPx"),
        (103, "OrdRejReason"),
    ),
    "9": (
        (11, "ClOrdID"),
        (41, "OrigClOrdID"),
        (37, "OrderID"),
        (39, "OrdStatus"),
        (434, "CxlRejResponseTo"),
        (102, "CxlRejReason"),
    ),
    "j": ((45, "RefSeqNum"), (372, "RefMsgType"), (379, "BusinessRejectRefID"), (380, "BusinessRejectReason")),
    "3": ((45, "RefSeqNum"), (371, "RefTagID"), (372, "RefMsgType"), (373, "SessionRejectReason")),
    "A": ((98, "EncryptMethod"), (108, "HeartBtInt"), (141, "ResetSeqNumFlag")),
    "1": ((112, "TestReqID"),),
    "0": ((112, "TestReqID"),),
    "r": ((11, "ClOrdID"), (530, "MassCancelRequestType"), (531, "MassCancelResponse"), (533, "TotalAffectedOrders")),
}


class FixClientError(Exception):
    """A failure to show to the user as is (no traceback needed)."""


def transact_time() -> str:
    """Now as a FIX UTCTimestamp with milliseconds, e.g. ``20260101-12:00:00.000``."""
    now = datetime.now(UTC)
    return now.strftime("%Y%m%d-%H:%M:%S.") + f"{now.microsecond // 1000:03d}"


def describe(msg: FixMessage) -> str:
    """One readable line for a received message, e.g. ``ExecutionReport ExecType=0 OrdStatus=0 ...``."""
    t = msg.msg_type
    parts = [MSG_NAMES.get(t, f"MsgType={t}")]
    for tag, label in _SHOWN.get(t, ()):
        value = msg.get(tag)
        if value is None:
            continue
        if tag == 54:
            value = _SIDE_NAMES.get(value, value)
        parts.append(f"{label}={value}")
    text = msg.get(58)
    if text:
        parts.append(f"Text={text}")
    return " ".join(parts)


def reply_outcome(msg: FixMessage, cl: str, seq: int, msg_type: str) -> str | None:
    """Whether ``msg`` answers our request ``msg_type`` (ClOrdID ``cl``, MsgSeqNum ``seq``).

    None: not the answer; "": the request succeeded; otherwise the failure, as a message for the user.
    """
    t = msg.msg_type
    if t == "3" and msg.get_int(45) == seq:
        return f"session-level Reject: {msg.get(58) or describe(msg)}"
    if t == "j" and (msg.get(379) == cl or msg.get_int(45) == seq):
        return f"business reject: {msg.get(58) or describe(msg)}"
    if t == "5":
        return f"logged out by the gateway: {msg.get(58) or 'no reason given'}"
    if t == "9" and msg.get(11) == cl:
        return f"{'cancel' if msg_type == 'F' else 'replace'} rejected: {msg.get(58) or describe(msg)}"
    if t == "8" and msg.get(11) == cl:
        exec_type = msg.get(150)
        if exec_type == "8":
            return f"order rejected: {msg.get(58) or describe(msg)}"
        if msg_type == "H" and msg.get(39) == "8" and msg.get(58):
            return f"status request failed: {msg.get(58)}"
        return ""
    return None


class FixClient:
    """One FIX session over a blocking TCP socket; sequence numbers start at 1 (Logon sends 141=Y).

    :meth:`send` may be called from another thread than :meth:`recv` (the interactive shell sends from its
    prompt while a reader thread receives): sends are serialised so MsgSeqNums stay in order on the wire.
    """

    def __init__(self, host: str, port: int, *, sender: str, target: str, timeout: float = 5.0) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.target = target
        self.timeout = timeout
        self.heartbeat = 30
        self.seq = 1
        self.framer = FixFramer()
        self.closed = False
        self._last_send = time.monotonic()
        self._send_lock = threading.Lock()
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except ConnectionRefusedError:
            msg = f"cannot connect to {host}:{port}: connection refused (is the gateway running?)"
            raise FixClientError(msg) from None
        except TimeoutError:
            raise FixClientError(f"cannot connect to {host}:{port}: timed out after {timeout:g}s") from None
        except OSError as e:
            raise FixClientError(f"cannot connect to {host}:{port}: {e.strerror or e}") from None

    def __enter__(self) -> FixClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def send(self, msg_type: str, fields: Fields) -> int:
        """Encode and send one message; returns its MsgSeqNum."""
        with self._send_lock:
            seq = self.seq
            data = encode_fix(
                msg_type, fields, seq=seq, sender=self.sender, target=self.target, sending_time_ns=time.time_ns()
            )
            try:
                self.sock.sendall(data)
            except OSError as e:
                self.closed = True
                raise FixClientError(f"connection lost while sending: {e.strerror or e}") from None
            self.seq += 1
            self._last_send = time.monotonic()
            return seq

    def recv(self, timeout: float) -> FixMessage | None:
        """The next application or session message within ``timeout`` seconds, else None.

        TestRequests are answered with a Heartbeat and Heartbeats are sent when due; both are still returned
        so the caller may print them. Raises FixClientError when the connection closes.
        """
        deadline = time.monotonic() + timeout
        while True:
            msg = self._next_buffered()
            if msg is not None:
                if msg.msg_type == "1":
                    self.send("0", [(112, msg.get(112) or "")])
                return msg
            if self.closed:
                raise FixClientError("connection closed by the gateway")
            now = time.monotonic()
            if self.heartbeat > 0 and now - self._last_send >= self.heartbeat:
                self.send("0", [])
            left = deadline - now
            if left <= 0:
                return None
            wait = min(left, max(0.05, self.heartbeat - (now - self._last_send))) if self.heartbeat > 0 else left
            self.sock.settimeout(wait)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError as e:
                self.closed = True
                raise FixClientError(f"connection lost: {e.strerror or e}") from None
            if not data:
                self.closed = True
            else:
                self.framer.push(data)

    def _next_buffered(self) -> FixMessage | None:
        while True:
            try:
                return self.framer.next()
            except FixGarbled:
                continue
            except FixSessionReject:
                continue
            except FixDisconnect as e:
                self.closed = True
                raise FixClientError(f"unreadable data from the gateway: {e}") from None

    def logon(self, username: str, password: str, heartbeat: int = 30) -> FixMessage:
        """Log on (98=0, 108, 141=Y, 553/554); returns the Logon reply or raises FixClientError."""
        self.heartbeat = heartbeat
        self.send("A", [(98, 0), (108, heartbeat), (141, "Y"), (553, username), (554, password)])
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                msg = self.recv(max(0.0, deadline - time.monotonic()))
            except FixClientError:
                raise FixClientError("logon failed: the gateway closed the connection") from None
            if msg is None:
                raise FixClientError(f"logon failed: no answer within {self.timeout:g}s")
            if msg.msg_type == "A":
                return msg
            if msg.msg_type in ("5", "3"):
                raise FixClientError(f"logon refused: {msg.get(58) or describe(msg)}")

    def logout(self, text: str = "") -> None:
        """Send Logout and wait (briefly) for the answer, then close."""
        if self.closed:
            self.close()
            return
        try:
            self.send("5", [(58, text)] if text else [])
            deadline = time.monotonic() + min(self.timeout, 2.0)
            while (left := deadline - time.monotonic()) > 0:
                msg = self.recv(left)
                if msg is None or msg.msg_type == "5":
                    break
        except FixClientError:
            pass
        self.close()

    def close(self) -> None:
        self.closed = True
        self.sock.close()
