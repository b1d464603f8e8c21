"""The FIX 4.4 session state machine (pyengine.gateway.session), driven by messages built with simplefix."""

from __future__ import annotations

from pathlib import Path

import pytest
import simplefix  # type: ignore[import-untyped]

from pyengine.gateway.seqstore import SeqStore
from pyengine.gateway.session import Action, Deliver, Disconnect, FixSession, Send, SessionState, utc_timestamp

NS = 1_000_000_000
T0 = 1_700_000_000 * NS
TS = "20231114-22:13:20.123"

NOS = [
    (11, "ord-1"),
    (1, "acc-1"),
    (55, "ACME"),
    (54, "1"),
    (60, "20231114-22:13:20.000"),
    (38, "100"),
    (40, "2"),
    (44, "101.25"),
    (59, "0"),
]
EXEC = [(37, "1"), (17, "e1"), (150, "0"), (39, "0"), (55, "ACME"), (54, "1"), (151, "100"), (14, "0"), (6, "0")]


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> int:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += int(seconds * NS)


def auth(username: str, password: str) -> object:
    return {"account": "acc-1"} if (username, password) == ("alice", "secret") else None


class Client:
    """The counterparty: builds its messages with simplefix and parses ours with simplefix."""

    def __init__(self, seq: int = 1) -> None:
        self.seq = seq
        self.parser = simplefix.FixParser()

    def wire(
        self,
        msg_type: str,
        body: list[tuple[int, str]] = (),  # type: ignore[assignment]
        *,
        seq: int | None = None,
        header: list[tuple[int, str]] = (),  # type: ignore[assignment]
        sender: str = "CLIENT",
    ) -> bytes:
        if seq is None:
            seq = self.seq
            self.seq += 1
        m = simplefix.FixMessage()
        for tag, value in [(8, "FIX.4.4"), (35, msg_type), (49, sender), (56, "GW"), (34, str(seq)), (52, TS)]:
            m.append_pair(tag, value)
        for tag, value in [*header, *body]:
            m.append_pair(tag, value)
        out: bytes = m.encode()
        return out

    def logon(self, user: str = "alice", password: str = "secret", **kw: object) -> bytes:
        body = [(98, "0"), (108, "30"), (553, user), (554, password)]
        if kw.get("reset"):
            body.insert(2, (141, "Y"))
        return self.wire("A", body, seq=kw.get("seq"))  # type: ignore[arg-type]

    def parse(self, data: bytes) -> simplefix.FixMessage:
        self.parser.append_buffer(data)
        msg = self.parser.get_message()
        assert msg is not None
        assert self.parser.get_message() is None
        return msg


def sent(actions: list[Action], client: Client) -> list[simplefix.FixMessage]:
    return [client.parse(a.data) for a in actions if isinstance(a, Send)]


def types(actions: list[Action], client: Client) -> list[str]:
    """Each action in order: the MsgType sent, 'deliver:<type>' or 'disconnect'."""
    out = []
    for a in actions:
        if isinstance(a, Send):
            out.append(client.parse(a.data).get(35).decode())
        elif isinstance(a, Deliver):
            out.append(f"deliver:{a.msg.msg_type}")
        else:
            out.append("disconnect")
    return out


def get(msg: simplefix.FixMessage, tag: int) -> str | None:
    v = msg.get(tag)
    return None if v is None else str(v.decode())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path) -> SeqStore:
    return SeqStore(tmp_path / "CLIENT")


def new_session(store: SeqStore, clock: Clock, **kw: object) -> FixSession:
    return FixSession("GW", "CLIENT", store, auth, now_ns=clock, **kw)  # type: ignore[arg-type]


def logged_on(store: SeqStore, clock: Clock) -> tuple[FixSession, Client]:
    s = new_session(store, clock)
    c = Client()
    actions = s.on_bytes(c.logon())
    assert types(actions, c) == ["A"]
    return s, c


# --- logon --------------------------------------------------------------------------------------


def test_logon_ok(store: SeqStore, clock: Clock) -> None:
    s = new_session(store, clock, heartbeat_interval=10)
    c = Client()
    actions = s.on_bytes(c.logon())
    [reply] = sent(actions, c)
    assert get(reply, 35) == "A"
    assert get(reply, 49) == "GW"
    assert get(reply, 56) == "CLIENT"
    assert get(reply, 34) == "1"
    assert get(reply, 52) == utc_timestamp(T0)
    assert get(reply, 98) == "0"
    assert get(reply, 108) == "30"  # the client's HeartBtInt is accepted
    assert s.state == SessionState.ACTIVE
    assert s.heartbeat_interval == 30
    assert s.account == {"account": "acc-1"}
    assert s.username == "alice"
    assert (s.next_in, s.next_out) == (2, 2)
    # An application message is delivered in sequence.
    actions = s.on_bytes(c.wire("D", NOS))
    assert len(actions) == 1
    assert isinstance(actions[0], Deliver)
    assert actions[0].msg.get(11) == "ord-1"
    assert s.next_in == 3


def test_logon_bad_password(store: SeqStore, clock: Clock) -> None:
    s = new_session(store, clock)
    c = Client()
    actions = s.on_bytes(c.logon(password="wrong"))
    assert types(actions, c) == ["5", "disconnect"]
    [logout] = sent(actions, c)
    assert "invalid username or password" in (get(logout, 58) or "")
    assert s.closed
    assert s.account is None
    assert s.on_bytes(c.wire("D", NOS)) == []


def test_first_message_not_logon(store: SeqStore, clock: Clock) -> None:
    s = new_session(store, clock)
    c = Client()
    actions = s.on_bytes(c.wire("D", NOS))
    assert len(actions) == 1
    assert isinstance(actions[0], Disconnect)
    assert "not a Logon" in actions[0].reason
    assert s.closed


def test_logon_timeout(store: SeqStore, clock: Clock) -> None:
    s = new_session(store, clock, logon_timeout=5)
    clock.advance(4)
    assert s.on_timer() == []
    clock.advance(1)
    [action] = s.on_timer()
    assert isinstance(action, Disconnect)


def test_second_logon_ends_session(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)
    assert types(s.on_bytes(c.logon()), c) == ["5", "disconnect"]


# --- heartbeats ---------------------------------------------------------------------------------


def test_test_request_answered_with_heartbeat(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)
    [hb] = sent(s.on_bytes(c.wire("1", [(112, "ping-7")])), c)
    assert get(hb, 35) == "0"
    assert get(hb, 112) == "ping-7"


def test_heartbeat_and_test_request_timing(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)  # HeartBtInt 30
    clock.advance(29)
    assert s.on_timer() == []
    # 30 s of outbound silence: Heartbeat.
    clock.advance(1)
    assert types(s.on_timer(), c) == ["0"]
    # Inbound silence of 36 s (interval + 20%): TestRequest; the next Heartbeat is due only at 60 s.
    clock.advance(5.9)
    assert s.on_timer() == []
    clock.advance(0.1)
    [test_req] = sent(s.on_timer(), c)
    assert get(test_req, 35) == "1"
    req_id = get(test_req, 112)
    assert req_id
    # The answer arrives: no disconnect.
    clock.advance(10)
    assert s.on_bytes(c.wire("0", [(112, req_id)])) == []
    clock.advance(25)
    assert types(s.on_timer(), c) == ["0"]  # 30 s since the TestRequest went out
    assert not s.closed


def test_unanswered_test_request_disconnects(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)
    clock.advance(36)
    assert types(s.on_timer(), c) == ["1"]  # the TestRequest also resets outbound silence
    clock.advance(29)
    assert s.on_timer() == []
    clock.advance(1)
    [action] = s.on_timer()
    assert isinstance(action, Disconnect)
    assert "TestRequest" in action.reason
    assert s.closed


def test_inbound_traffic_postpones_test_request(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)
    for _ in range(5):
        clock.advance(20)
        s.on_bytes(c.wire("0"))
        assert "1" not in types(s.on_timer(), c)


# --- logout -------------------------------------------------------------------------------------


def test_logout_initiated_by_client(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)
    actions = s.on_bytes(c.wire("5", [(58, "bye")]))
    assert types(actions, c) == ["5", "disconnect"]
    assert s.closed


def test_logout_initiated_by_us(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)
    [logout] = sent(s.logout("maintenance"), c)
    assert get(logout, 35) == "5"
    assert get(logout, 58) == "maintenance"
    assert s.state == SessionState.LOGOUT_SENT
    # Application messages still flow until the answer.
    assert types(s.on_bytes(c.wire("D", NOS)), c) == ["deliver:D"]
    actions = s.on_bytes(c.wire("5"))
    assert types(actions, c) == ["disconnect"]
    assert s.closed


def test_logout_unanswered_times_out(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)
    s.logout()
    clock.advance(30)
    assert types(s.on_timer(), c) == ["disconnect"]


# --- sequence numbers ---------------------------------------------------------------------------


def test_gap_sends_resend_request_and_queues(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)  # next_in 2
    nos3 = c.wire("D", [(11, "ord-3"), *NOS[1:]], seq=3)
    nos4 = c.wire("D", [(11, "ord-4"), *NOS[1:]], seq=4)
    actions = s.on_bytes(nos4)
    [rr] = sent(actions, c)
    assert get(rr, 35) == "2"
    assert get(rr, 7) == "2"
    assert get(rr, 16) == "0"
    assert s.next_in == 2
    # A second message beyond the gap: no second ResendRequest.
    assert s.on_bytes(nos3) == []
    # The resend fills the gap (seq 2 is resent with PossDup), then the queue drains in order.
    actions = s.on_bytes(c.wire("D", [(11, "ord-2"), *NOS[1:]], seq=2, header=[(43, "Y"), (122, TS)]))
    assert [a.msg.get(11) for a in actions if isinstance(a, Deliver)] == ["ord-2", "ord-3", "ord-4"]
    assert len(actions) == 3
    assert s.next_in == 5


def test_gap_filled_by_sequence_reset_gap_fill(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)
    s.on_bytes(c.wire("D", NOS, seq=5))
    fill = c.wire("4", [(123, "Y"), (36, "5")], seq=2, header=[(43, "Y"), (122, TS)])
    assert types(s.on_bytes(fill), c) == ["deliver:D"]
    assert s.next_in == 6


def test_sequence_reset_reset_mode(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)
    # Reset mode ignores MsgSeqNum and moves the expected number forward.
    assert s.on_bytes(c.wire("4", [(36, "10")], seq=999)) == []
    assert s.next_in == 10
    # Backwards is refused with Reject reason 5 on tag 36.
    [rej] = sent(s.on_bytes(c.wire("4", [(36, "3")], seq=10)), c)
    assert (get(rej, 35), get(rej, 373), get(rej, 371), get(rej, 372)) == ("3", "5", "36", "4")
    assert s.next_in == 10
    assert types(s.on_bytes(c.wire("D", NOS, seq=10)), c) == ["deliver:D"]


def test_seq_too_low_logs_out(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)
    s.on_bytes(c.wire("D", NOS))  # seq 2
    actions = s.on_bytes(c.wire("D", NOS, seq=2))
    assert types(actions, c) == ["5", "disconnect"]
    [logout] = sent(actions, c)
    assert get(logout, 58) == "MsgSeqNum too low, expecting 3 but received 2"


def test_poss_dup_duplicate_ignored(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)
    assert types(s.on_bytes(c.wire("D", NOS)), c) == ["deliver:D"]  # seq 2
    assert s.on_bytes(c.wire("D", NOS, seq=2, header=[(43, "Y"), (122, TS)])) == []
    assert not s.closed
    assert s.next_in == 3
    assert types(s.on_bytes(c.wire("D", NOS)), c) == ["deliver:D"]  # seq 3


# --- answering a ResendRequest ------------------------------------------------------------------


def test_resend_request_answered_with_gap_fills_and_poss_dup(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)  # our Logon is seq 1
    ours = {2: s.send_app("8", [(11, "a"), *EXEC])}
    s.on_bytes(c.wire("1", [(112, "x")]))  # our Heartbeat: seq 3
    ours[4] = s.send_app("8", [(11, "b"), *EXEC])
    ours[5] = s.send_app("8", [(11, "c"), *EXEC])
    clock.advance(30)
    assert types(s.on_timer(), c) == ["0"]  # seq 6
    assert s.next_out == 7
    clock.advance(1)
    actions = s.on_bytes(c.wire("2", [(7, "1"), (16, "0")]))
    msgs = sent(actions, c)
    got = [(get(m, 35), get(m, 34), get(m, 36), get(m, 123), get(m, 43)) for m in msgs]
    assert got == [
        ("4", "1", "2", "Y", "Y"),
        ("8", "2", None, None, "Y"),
        ("4", "3", "4", "Y", "Y"),
        ("8", "4", None, None, "Y"),
        ("8", "5", None, None, "Y"),
        ("4", "6", "7", "Y", "Y"),
    ]
    for m in msgs:
        if get(m, 35) == "8":
            original = c.parse(ours[int(get(m, 34) or 0)])
            assert get(m, 122) == get(original, 52) == utc_timestamp(T0)  # OrigSendingTime
            assert get(m, 52) == utc_timestamp(T0 + 31 * NS)
            assert get(m, 11) == get(original, 11)
            assert [(t, v) for t, v in m.pairs if int(t) not in (8, 9, 34, 52, 43, 122, 10)] == [
                (t, v) for t, v in original.pairs if int(t) not in (8, 9, 34, 52, 10)
            ]
    # Resending consumes no new sequence numbers.
    assert s.next_out == 7
    # A bounded range.
    msgs = sent(s.on_bytes(c.wire("2", [(7, "3"), (16, "4")])), c)
    assert [(get(m, 35), get(m, 34), get(m, 36)) for m in msgs] == [("4", "3", "4"), ("8", "4", None)]


def test_send_app_guards(store: SeqStore, clock: Clock) -> None:
    s = new_session(store, clock)
    with pytest.raises(RuntimeError):
        s.send_app("8", EXEC)
    s.on_bytes(Client().logon())
    with pytest.raises(ValueError):
        s.send_app("0", [])


# --- malformed input ----------------------------------------------------------------------------


def test_missing_tag_rejected(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)
    actions = s.on_bytes(c.wire("D", [(t, v) for t, v in NOS if t != 55]))  # seq 2
    [rej] = sent(actions, c)
    assert get(rej, 35) == "3"
    assert get(rej, 45) == "2"
    assert get(rej, 371) == "55"
    assert get(rej, 372) == "D"
    assert get(rej, 373) == "1"
    assert get(rej, 58)
    assert s.next_in == 3  # the rejected message counts as received
    assert types(s.on_bytes(c.wire("D", NOS)), c) == ["deliver:D"]


def test_wrong_type_and_unknown_msg_type_rejected(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)
    [rej] = sent(s.on_bytes(c.wire("D", [(t, "ten" if t == 38 else v) for t, v in NOS])), c)
    assert (get(rej, 373), get(rej, 371), get(rej, 45)) == ("6", "38", "2")
    [rej] = sent(s.on_bytes(c.wire("ZZ", [(58, "?")])), c)
    assert (get(rej, 373), get(rej, 372), get(rej, 45)) == ("11", "ZZ", "3")
    assert s.next_in == 4


def test_comp_id_problem_rejects_then_logs_out(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)
    actions = s.on_bytes(c.wire("D", NOS, sender="EVIL"))
    assert types(actions, c) == ["3", "5", "disconnect"]
    assert get(sent(actions, c)[0], 373) == "9"


def test_garbled_ignored(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)
    good = c.wire("D", NOS, seq=2)
    cut = good.rindex(b"10=") + 3
    bad = good[:cut] + b"%03d" % ((int(good[cut : cut + 3]) + 1) % 256) + good[cut + 3 :]
    assert s.on_bytes(bad) == []
    assert s.next_in == 2  # no sequence number consumed
    assert types(s.on_bytes(good), c) == ["deliver:D"]


def test_garbage_disconnects(store: SeqStore, clock: Clock) -> None:
    s, _c = logged_on(store, clock)
    [action] = s.on_bytes(b"GET / HTTP/1.1\r\n\r\n")
    assert isinstance(action, Disconnect)
    assert s.closed


def test_byte_by_byte_input(store: SeqStore, clock: Clock) -> None:
    s = new_session(store, clock)
    c = Client()
    data = c.logon() + c.wire("D", NOS) + c.wire("1", [(112, "t")])
    actions: list[Action] = []
    for i in range(len(data)):
        actions.extend(s.on_bytes(data[i : i + 1]))
    assert types(actions, c) == ["A", "deliver:D", "0"]


# --- persistence --------------------------------------------------------------------------------


def test_new_session_resumes_sequence_numbers(tmp_path: Path, clock: Clock) -> None:
    store = SeqStore(tmp_path / "s", fsync=True)
    s, c = logged_on(store, clock)
    s.on_bytes(c.wire("D", NOS))  # in: 2
    raw = s.send_app("8", [(11, "a"), *EXEC])  # out: 2
    s.on_bytes(c.wire("5"))  # in: 3, our Logout out: 3
    assert s.closed
    store.close()

    store = SeqStore(tmp_path / "s")
    assert (store.next_in, store.next_out) == (4, 4)
    assert store.get(2) == raw
    s = new_session(store, clock)
    [reply] = sent(s.on_bytes(c.logon()), c)  # client seq 4
    assert get(reply, 34) == "4"
    assert s.next_in == 5
    # The stored message is resent after the restart.
    msgs = sent(s.on_bytes(c.wire("2", [(7, "2"), (16, "2")])), c)
    assert [(get(m, 35), get(m, 34), get(m, 11)) for m in msgs] == [("8", "2", "a")]
    store.close()


def test_logon_with_reset_seq_num_flag(tmp_path: Path, clock: Clock) -> None:
    store = SeqStore(tmp_path / "s")
    s, c = logged_on(store, clock)
    s.send_app("8", EXEC)
    s.on_bytes(c.wire("5"))
    assert (store.next_in, store.next_out) == (3, 4)
    s = new_session(store, clock)
    c = Client()
    [reply] = sent(s.on_bytes(c.logon(reset=True)), c)
    assert (get(reply, 34), get(reply, 141)) == ("1", "Y")
    assert (store.next_in, store.next_out) == (2, 2)
    assert len(store) == 0
    store.close()
    store = SeqStore(tmp_path / "s")
    assert (store.next_in, store.next_out) == (2, 2)


def test_bad_credentials_cannot_reset(tmp_path: Path, clock: Clock) -> None:
    store = SeqStore(tmp_path / "s")
    s, c = logged_on(store, clock)
    s.on_bytes(c.wire("5"))
    s = new_session(store, clock)
    s.on_bytes(Client().logon(password="nope", reset=True))
    assert store.next_in == 3


def test_logon_with_gap_after_restart(tmp_path: Path, clock: Clock) -> None:
    store = SeqStore(tmp_path / "s")
    s, c = logged_on(store, clock)
    s.on_bytes(c.wire("5"))  # client seq 2, next_in 3
    s = new_session(store, clock)
    c.seq = 5
    actions = s.on_bytes(c.logon())  # seq 5: gap 3..4
    assert types(actions, c) == ["A", "2"]
    assert get(sent(actions, c)[1], 7) == "3"
    fill = c.wire("4", [(123, "Y"), (36, "5")], seq=3, header=[(43, "Y"), (122, TS)])
    assert s.on_bytes(fill) == []
    assert s.next_in == 6  # the Logon (5) was already processed


def test_seqstore_torn_tail(tmp_path: Path) -> None:
    with SeqStore(tmp_path) as st:
        st.set_next_in(5)
        st.store_outbound(1, b"first")
        st.store_outbound(2, b"second")
    log = tmp_path / "session.log"
    data = log.read_bytes()
    log.write_bytes(data[:-3])  # a crash in the middle of the last record
    with SeqStore(tmp_path) as st:
        assert (st.next_in, st.next_out) == (5, 2)
        assert st.get(1) == b"first"
        assert st.get(2) is None
        st.store_outbound(2, b"again")
    with SeqStore(tmp_path) as st:
        assert st.get(2) == b"again"
        assert st.seqs(1, 10) == [1, 2]


def test_seqstore_keeps_messages_on_disk_and_reads_them_back(tmp_path: Path) -> None:
    msgs = {seq: f"message {seq} ".encode() * (seq % 7 + 1) for seq in range(3, 3000) if seq % 5}
    with SeqStore(tmp_path, buffered=True) as st:
        for seq, raw in msgs.items():
            if seq % 50 == 0:
                st.set_next_out(seq + 1)  # an administrative message in between: no record kept
            st.store_outbound(seq, raw)
            if seq % 97 == 0:
                assert st.get(seq) == raw, "readable before the iteration's flush"
                st.flush()
        assert len(st) == len(msgs)
        assert st.seqs(1, 12) == [3, 4, 6, 7, 8, 9, 11, 12]
        assert st.seqs(2990, 10**9) == [s for s in range(2990, 3000) if s % 5]
        assert st.seqs(10, 5) == [] and st.get(5) is None and st.get(0) is None and st.get(10**9) is None
        st.store_outbound(4, b"replaced")  # a later record for a seq wins, as on reload
        assert st.get(4) == b"replaced" and len(st) == len(msgs)
        with pytest.raises(ValueError, match=r"1\.\."):
            st.store_outbound(3000, b"")
    msgs[4] = b"replaced"
    with SeqStore(tmp_path) as st:
        assert len(st) == len(msgs) and st.next_out == 5, "the last record (seq 4) sets it"
        assert all(st.get(seq) == raw for seq, raw in msgs.items())
        st.reset()
        assert len(st) == 0 and st.get(3) is None and st.seqs(1, 10**6) == []
        st.store_outbound(1, b"after reset")
        assert st.get(1) == b"after reset"


def test_seqstore_buffered_batches_keep_record_order_and_tear_whole(tmp_path: Path) -> None:
    with SeqStore(tmp_path, buffered=True) as st:
        st.store_outbound(1, b"one")
        st.store_outbound(2, b"two")
        st.set_next_out(4)  # an admin message (3) after them: its N record must follow their M record
        st.flush()
        st.store_outbound(4, b"four")
        st.store_outbound(5, b"five")
        st.flush()
    with SeqStore(tmp_path) as st:
        assert st.next_out == 6 and st.seqs(1, 9) == [1, 2, 4, 5] and st.get(5) == b"five"
    log = tmp_path / "session.log"
    log.write_bytes(log.read_bytes()[:-1])  # the last batch torn: all of it goes, nothing before it
    with SeqStore(tmp_path) as st:
        assert st.next_out == 4 and st.seqs(1, 9) == [1, 2] and st.get(4) is None


def test_seqstore_tells_once_when_it_has_records_to_flush(tmp_path: Path) -> None:
    told: list[SeqStore] = []
    with SeqStore(tmp_path, buffered=True, on_dirty=told.append) as st:
        st.store_outbound(1, b"a")
        st.store_outbound(2, b"b")
        st.set_next_in(7)
        assert told == [st], "once per flush, however many records"
        st.flush()
        st.flush()
        assert told == [st]
        st.set_next_out(9)
        assert told == [st, st]
    with SeqStore(tmp_path) as st:
        assert (st.next_in, st.next_out) == (7, 9)


def test_poss_dup_without_orig_sending_time_is_rejected(store: SeqStore, clock: Clock) -> None:
    s, c = logged_on(store, clock)  # next_in 2
    [rej] = sent(s.on_bytes(c.wire("D", NOS, seq=2, header=[(43, "Y")])), c)
    assert get(rej, 35) == "3" and get(rej, 45) == "2" and get(rej, 371) == "122" and get(rej, 373) == "1"
    assert s.next_in == 3
    assert types(s.on_bytes(c.wire("D", NOS, seq=3, header=[(43, "Y"), (122, TS)])), c) == ["deliver:D"]
