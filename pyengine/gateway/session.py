"""The FIX 4.4 session layer (acceptor side) as a transport-agnostic state machine.

A :class:`FixSession` does no I/O and reads no clock of its own: the transport feeds it received bytes
(:meth:`FixSession.on_bytes`) and timer ticks (:meth:`FixSession.on_timer`), and carries out the actions it
returns, in order:

- :class:`Send` — write these bytes to the counterparty;
- :class:`Deliver` — an application message (anything but 0, 1, 2, 3, 4, 5, A), in sequence, exactly once;
- :class:`Disconnect` — close the connection; the session is finished and ignores further input.

Sequence numbers and outbound application messages live in a :class:`~pyengine.gateway.seqstore.SeqStore`,
so a new session over the same store resumes where the previous connection stopped.

Rules implemented (FIX 4.4 vol. 2): the first message must be a Logon (A), checked by ``authenticate``
(Username 553, Password 554); Logon is answered with Logon; ResetSeqNumFlag (141=Y) on Logon resets both
sequence numbers. Heartbeat (0) answers TestRequest (1) with its TestReqID (112). A MsgSeqNum above the
expected one triggers a ResendRequest (2) and the message waits in a queue until the gap is filled; a
MsgSeqNum below it is ignored with PossDupFlag (43=Y), and otherwise ends the session with a Logout. A
ResendRequest is answered from the store: application messages again with PossDupFlag=Y and
OrigSendingTime (122), administrative ones replaced by SequenceReset-GapFill (4, 123=Y). SequenceReset in
gap-fill and reset modes. A message the codec rejects is answered with Reject (3); a garbled one is
dropped silently; an unframeable stream disconnects.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from pyengine.fix import FixDisconnect, FixFramer, FixGarbled, FixMessage, FixSessionReject, encode_fix
from pyengine.gateway.seqstore import SeqStore

__all__ = [
    "ADMIN_MSG_TYPES",
    "Action",
    "Deliver",
    "Disconnect",
    "FixSession",
    "Send",
    "SessionState",
    "store_for_resend",
]

ADMIN_MSG_TYPES: Final = frozenset({"0", "1", "2", "3", "4", "5", "A"})
# Standard-header tags that encode_fix writes itself or that a resend replaces.
_HEADER_TAGS: Final = frozenset({8, 9, 35, 49, 56, 34, 52, 43, 97, 122, 10})
_NS: Final = 1_000_000_000

Fields = list[tuple[int, str | int | bytes]]


def store_for_resend(
    store: SeqStore,
    sender_comp_id: str,
    target_comp_id: str,
    msg_type: str,
    fields: Sequence[tuple[int, str | int | bytes]],
) -> None:
    """Give an application message the session's next MsgSeqNum without sending it (the client is away).

    When the client logs on again without resetting, our Logon's MsgSeqNum shows it the gap and its
    ResendRequest is answered from the store like any other resend.
    """
    seq = store.next_out
    raw = encode_fix(
        msg_type, list(fields), seq=seq, sender=sender_comp_id, target=target_comp_id, sending_time_ns=time.time_ns()
    )
    store.store_outbound(seq, raw)


@dataclass(frozen=True, slots=True)
class Send:
    """Write ``data`` to the counterparty."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Deliver:
    """An application message, in sequence, for the application layer."""

    msg: FixMessage


@dataclass(frozen=True, slots=True)
class Disconnect:
    """Close the connection; the session is over."""

    reason: str


Action = Send | Deliver | Disconnect


class SessionState:
    AWAIT_LOGON: Final = "await_logon"
    ACTIVE: Final = "active"
    LOGOUT_SENT: Final = "logout_sent"
    DISCONNECTED: Final = "disconnected"


_CAN_SEND_APP: Final = frozenset((SessionState.ACTIVE, SessionState.LOGOUT_SENT))


def utc_timestamp(ns: int) -> str:
    """A FIX UTCTimestamp with milliseconds: ``YYYYMMDD-HH:MM:SS.sss``."""
    secs, rest = divmod(ns, _NS)
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(secs)) + f".{rest // 1_000_000:03d}"


class FixSession:
    """One FIX 4.4 acceptor session between us (``sender_comp_id``) and a client (``target_comp_id``).

    ``authenticate(username, password)`` returns a falsy value to refuse the Logon, or anything else
    (``True``, an account record...) which is kept as :attr:`account`. ``heartbeat_interval`` (seconds) is
    the default; the client's HeartBtInt (108) on Logon replaces it. ``now_ns`` is the clock (nanoseconds
    since the Unix epoch), used for SendingTime and for the timers.
    """

    def __init__(
        self,
        sender_comp_id: str,
        target_comp_id: str,
        store: SeqStore,
        authenticate: Callable[[str, str], object],
        heartbeat_interval: int = 30,
        now_ns: Callable[[], int] = time.time_ns,
        *,
        max_message_size: int = 65536,
        logon_timeout: float = 10.0,
    ) -> None:
        self.sender_comp_id = sender_comp_id
        self.target_comp_id = target_comp_id
        self.store = store
        self.authenticate = authenticate
        self.heartbeat_interval = heartbeat_interval
        self.now_ns = now_ns
        self.logon_timeout = logon_timeout
        self.state: str = SessionState.AWAIT_LOGON
        self.account: object = None
        self.username: str | None = None
        self._framer = FixFramer(
            max_message_size=max_message_size, sender_comp_id=target_comp_id, target_comp_id=sender_comp_id
        )
        now = now_ns()
        self._created = now
        self._last_recv = now
        self._last_sent = now
        self._test_req_sent: int | None = None
        self._test_req_count = 0
        self._logout_sent_at = 0
        # Messages received beyond a gap, by MsgSeqNum; None = already handled (Logon, ResendRequest, Reject).
        self._queue: dict[int, FixMessage | None] = {}
        # The highest MsgSeqNum seen while a ResendRequest is outstanding (0: none outstanding).
        self._resend_until = 0

    # --- public interface -------------------------------------------------------------------------

    @property
    def next_in(self) -> int:
        return self.store.next_in

    @property
    def next_out(self) -> int:
        return self.store.next_out

    @property
    def closed(self) -> bool:
        return self.state == SessionState.DISCONNECTED

    def on_bytes(self, data: bytes) -> list[Action]:
        """Bytes received from the counterparty; the actions of every complete message in them."""
        actions = self.step(data)
        while actions and isinstance(actions[-1], Deliver):
            more = self.step()
            if not more:
                break
            actions.extend(more)
        return actions

    def step(self, data: bytes = b"") -> list[Action]:
        """Like :meth:`on_bytes`, but stops right after the first application message it delivers.

        The gateway uses this so a delivered message's reports take their MsgSeqNums before anything the
        session does for the messages after it (a Logout in the same TCP segment must not overtake the ack
        of the order before it). Call again with no data while the last action is a :class:`Deliver`.
        """
        if self.closed:
            return []
        actions = self._drain_queue()
        if actions and isinstance(actions[-1], Deliver):
            if data:
                self._note_input(data)
            return actions
        if data:
            self._note_input(data)
        while not self.closed:
            try:
                msg = self._framer.next()
            except FixDisconnect as e:
                actions.append(self._disconnect(f"unframeable input: {e}"))
                break
            except FixGarbled:
                continue
            except FixSessionReject as e:
                actions.extend(self._on_reject(e))
                continue
            if msg is None:
                break
            actions.extend(self._on_message(msg))
            if actions and isinstance(actions[-1], Deliver):
                break
        return actions

    def _note_input(self, data: bytes) -> None:
        self._last_recv = self.now_ns()
        self._test_req_sent = None
        self._framer.push(data)

    def on_timer(self) -> list[Action]:
        """Call periodically (about once a second): heartbeats, test requests and timeouts."""
        if self.closed:
            return []
        now = self.now_ns()
        if self.state == SessionState.AWAIT_LOGON:
            if now - self._created >= self.logon_timeout * _NS:
                return [self._disconnect("no Logon received")]
            return []
        interval = self.heartbeat_interval * _NS
        if self.state == SessionState.LOGOUT_SENT and now - self._logout_sent_at >= (interval or 10 * _NS):
            return [self._disconnect("Logout not answered")]
        if interval <= 0:
            return []
        actions: list[Action] = []
        if self._test_req_sent is not None:
            if now - self._test_req_sent >= interval:
                return [self._disconnect("TestRequest not answered")]
        elif now - self._last_recv >= interval * 12 // 10:
            self._test_req_count += 1
            self._test_req_sent = now
            actions.append(self._send("1", [(112, f"TEST{self._test_req_count}")]))
        if now - self._last_sent >= interval:
            actions.append(self._send("0", []))
        return actions

    def send_app(self, msg_type: str, fields: Sequence[tuple[int, str | int | bytes]]) -> bytes:
        """Encode an application message with the next MsgSeqNum, store it for resends and return it."""
        if msg_type in ADMIN_MSG_TYPES:
            raise ValueError(f"MsgType {msg_type} is administrative; the session sends those itself")
        if self.state not in _CAN_SEND_APP:
            raise RuntimeError(f"session is {self.state}, not logged on")
        # _send without its Send wrapper: two reports per order come through here
        now = self.now_ns()
        store = self.store
        seq = store.next_out
        raw = encode_fix(msg_type, fields, seq, self.sender_comp_id, self.target_comp_id, now)  # positional: faster
        store.store_outbound(seq, raw)
        self._last_sent = now
        return raw

    def logout(self, text: str = "") -> list[Action]:
        """Start the Logout handshake; the session disconnects when the answer arrives (or on timeout)."""
        if self.state != SessionState.ACTIVE:
            return []
        self.state = SessionState.LOGOUT_SENT
        self._logout_sent_at = self.now_ns()
        return [self._send("5", [(58, text)] if text else [])]

    # --- outbound ---------------------------------------------------------------------------------

    def _encode(self, msg_type: str, fields: Fields, seq: int, now: int) -> bytes:
        return encode_fix(
            msg_type, fields, seq=seq, sender=self.sender_comp_id, target=self.target_comp_id, sending_time_ns=now
        )

    def _send(self, msg_type: str, fields: Fields, *, app: bool = False) -> Send:
        now = self.now_ns()
        seq = self.store.next_out
        raw = self._encode(msg_type, fields, seq, now)
        if app:
            self.store.store_outbound(seq, raw)
        else:
            self.store.set_next_out(seq + 1)
        self._last_sent = now
        return Send(raw)

    def _disconnect(self, reason: str) -> Disconnect:
        self.state = SessionState.DISCONNECTED
        self._queue.clear()
        return Disconnect(reason)

    def _logout_and_disconnect(self, text: str) -> list[Action]:
        return [self._send("5", [(58, text)]), self._disconnect(text)]

    def _reject(
        self, ref_seq: int, reason: int, text: str, ref_tag: int | None = None, ref_type: str | None = None
    ) -> Send:
        fields: Fields = [(45, ref_seq)]
        if ref_tag is not None:
            fields.append((371, ref_tag))
        if ref_type is not None:
            fields.append((372, ref_type))
        fields.append((373, reason))
        if text:
            fields.append((58, text))
        return self._send("3", fields)

    # --- inbound ----------------------------------------------------------------------------------

    def _on_reject(self, e: FixSessionReject) -> list[Action]:
        """The codec refused a well-framed message: Reject (3); it still consumes its MsgSeqNum."""
        if self.state == SessionState.AWAIT_LOGON:
            return [self._disconnect(f"invalid first message: {e.text}")]
        expected = self.store.next_in
        ref = e.ref_seq_num
        actions: list[Action] = [
            self._reject(expected if ref is None else ref, e.reason, e.text, e.ref_tag, e.ref_msg_type)
        ]
        if e.reason == 9:  # CompID problem: Reject, then Logout
            actions.extend(self._logout_and_disconnect("CompID problem"))
        elif ref is None or ref == expected:
            self.store.set_next_in(expected + 1)
            actions.extend(self._drain_queue())
        elif ref > expected:
            self._queue[ref] = None
            actions.extend(self._request_resend(ref))
        return actions

    def _on_message(self, msg: FixMessage) -> list[Action]:
        seq = msg.seq_num
        if seq is None:  # the codec requires MsgSeqNum; kept for safety
            return [self._disconnect("message without MsgSeqNum")]
        t = msg.msg_type
        if self.state == SessionState.AWAIT_LOGON:
            if t != "A":
                return [self._disconnect(f"first message is not a Logon (35={t})")]
            return self._on_logon(msg, seq)
        if t == "4" and msg.get(123) != "Y":
            return self._on_sequence_reset(msg, seq)
        expected = self.store.next_in
        poss_dup = msg.poss_dup
        if seq == expected and poss_dup and msg.get(122) is None:
            # OrigSendingTime is conditionally required with PossDupFlag=Y; the message counts as received
            self.store.set_next_in(seq + 1)
            text = "OrigSendingTime(122) is required when PossDupFlag(43)=Y"
            return [self._reject(seq, 1, text, 122, t), *self._drain_queue()]
        if seq > expected:
            actions: list[Action] = []
            if t == "2":  # answered at once, so both sides never wait for each other
                actions.extend(self._on_resend_request(msg, seq))
                self._queue[seq] = None
            else:
                self._queue[seq] = msg
            actions.extend(self._request_resend(seq))
            return actions
        if seq < expected:
            if poss_dup:
                return []
            return self._logout_and_disconnect(f"MsgSeqNum too low, expecting {expected} but received {seq}")
        self.store.set_next_in(seq + 1)
        if t not in ADMIN_MSG_TYPES and not self._queue and not self._resend_until:
            return [Deliver(msg)]  # the common case, without _dispatch and _drain_queue
        actions = self._dispatch(msg, seq)
        if actions and isinstance(actions[-1], Deliver):
            return actions  # the queue behind a gap drains on the next step
        actions.extend(self._drain_queue())
        return actions

    def _request_resend(self, seq: int) -> list[Action]:
        """A gap up to ``seq``: one ResendRequest (7 = expected, 16 = 0) unless one is outstanding."""
        if self._resend_until >= self.store.next_in:
            self._resend_until = max(self._resend_until, seq)
            return []
        self._resend_until = seq
        return [self._send("2", [(7, self.store.next_in), (16, 0)])]

    def _drain_queue(self) -> list[Action]:
        if not self._queue and not self._resend_until:  # the common case: nothing waits behind a gap
            return []
        actions: list[Action] = []
        while not self.closed:
            expected = self.store.next_in
            for stale in [s for s in self._queue if s < expected]:
                del self._queue[stale]
            if expected not in self._queue:
                break
            msg = self._queue.pop(expected)
            self.store.set_next_in(expected + 1)
            if msg is not None:
                actions.extend(self._dispatch(msg, expected))
                if actions and isinstance(actions[-1], Deliver):
                    break
        if self._resend_until < self.store.next_in:
            self._resend_until = 0
        return actions

    def _dispatch(self, msg: FixMessage, seq: int) -> list[Action]:
        """An in-sequence message; the expected MsgSeqNum is already seq + 1."""
        t = msg.msg_type
        if t not in ADMIN_MSG_TYPES:
            return [Deliver(msg)]
        if t == "0" or t == "3":
            return []
        if t == "1":
            return [self._send("0", [(112, msg.get(112) or "")])]
        if t == "2":
            return self._on_resend_request(msg, seq)
        if t == "4":
            return self._on_gap_fill(msg, seq)
        if t == "5":
            if self.state == SessionState.LOGOUT_SENT:
                return [self._disconnect("Logout complete")]
            return [self._send("5", []), self._disconnect("Logout by counterparty")]
        # t == "A": a second Logon on a live session
        return self._logout_and_disconnect("Logon received on an established session")

    def _on_logon(self, msg: FixMessage, seq: int) -> list[Action]:
        try:
            heartbeat = msg.get_int(108)
        except ValueError:
            heartbeat = None
        if heartbeat is None or heartbeat < 0:
            return self._logout_and_disconnect("invalid HeartBtInt(108)")
        username = msg.get(553) or ""
        account = self.authenticate(username, msg.get(554) or "")
        if not account:
            return self._logout_and_disconnect("Logon refused: invalid username or password")
        reset = msg.get(141) == "Y"
        if reset:  # only after authentication: an unknown peer must not reset a session
            self.store.reset()
        expected = self.store.next_in
        if seq < expected:
            return self._logout_and_disconnect(f"MsgSeqNum too low, expecting {expected} but received {seq}")
        self.account = account
        self.username = username
        self.heartbeat_interval = heartbeat
        self.state = SessionState.ACTIVE
        fields: Fields = [(98, 0), (108, heartbeat)]
        if reset:
            fields.append((141, "Y"))
        actions: list[Action] = [self._send("A", fields)]
        if seq == expected:
            self.store.set_next_in(seq + 1)
        else:
            self._queue[seq] = None
            actions.extend(self._request_resend(seq))
        return actions

    def _on_sequence_reset(self, msg: FixMessage, seq: int) -> list[Action]:
        """SequenceReset in reset mode: MsgSeqNum is ignored, NewSeqNo (36) may only move forward."""
        new = self._new_seq_no(msg)
        expected = self.store.next_in
        if new is None or new < expected:
            return [self._reject(seq, 5, f"NewSeqNo {new} lower than expected {expected}", 36, "4")]
        if new == expected:
            return []
        self.store.set_next_in(new)
        return self._drain_queue()

    def _on_gap_fill(self, msg: FixMessage, seq: int) -> list[Action]:
        new = self._new_seq_no(msg)
        if new is None or new <= seq:
            return [self._reject(seq, 5, f"NewSeqNo {new} not above MsgSeqNum {seq}", 36, "4")]
        self.store.set_next_in(new)
        return []

    @staticmethod
    def _new_seq_no(msg: FixMessage) -> int | None:
        try:
            return msg.get_int(36)
        except ValueError:
            return None

    def _on_resend_request(self, msg: FixMessage, seq: int) -> list[Action]:
        try:
            begin, end = msg.get_int(7), msg.get_int(16)
        except ValueError:
            begin = end = None
        if begin is None or end is None or begin < 1 or end < 0 or (end and end < begin):
            return [self._reject(seq, 5, f"invalid resend range {begin}..{end}", 7, "2")]
        last = self.store.next_out - 1
        if end == 0 or end > last:
            end = last
        if begin > end:
            return []
        now = self.now_ns()
        actions: list[Action] = []
        following = begin  # the first MsgSeqNum not yet covered
        for s in self.store.seqs(begin, end):
            if s > following:
                actions.append(self._gap_fill(following, s, now))
            raw = self.store.get(s)
            assert raw is not None
            actions.append(Send(self._resend(raw, s, now)))
            following = s + 1
        if following <= end:
            actions.append(self._gap_fill(following, end + 1, now))
        if actions:
            self._last_sent = now
        return actions

    def _gap_fill(self, seq: int, new_seq: int, now: int) -> Send:
        fields: Fields = [(43, "Y"), (122, utc_timestamp(now)), (123, "Y"), (36, new_seq)]
        return Send(self._encode("4", fields, seq, now))

    def _resend(self, raw: bytes, seq: int, now: int) -> bytes:
        parser = FixFramer(validate=False)
        parser.push(raw)
        stored = parser.next()
        assert stored is not None, "outbound store holds an incomplete message"
        orig = stored.get(52) or utc_timestamp(now)
        body: Fields = [(t, v) for t, v in stored.fields if t not in _HEADER_TAGS]
        return self._encode(stored.msg_type, [(43, "Y"), (122, orig), *body], seq, now)
